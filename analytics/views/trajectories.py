"""Continuous measures over time per arm: mean (95 % CI), change from baseline, individual lines."""
from __future__ import annotations

from ..charts.efficacy import trajectory_figure
from ..i18n import t
from ..profile import subject_ids_from_selection
from ..trajectories import MEASURES, subject_values, trajectories_display
from .base import Control, ControlSlot, Note, View, figure, table

CONTROLS = (
    Control("measure", "measure", "efficacy.traj.measure", "selectbox", tuple(MEASURES),
            list(MEASURES)[0], lambda m, lang: t(f"efficacy.measure.{m}", lang), "traj_measure"),
    Control("change", "change", "efficacy.traj.show_change", "toggle", default=False,
            widget_key="traj_change"),
    Control("individual", "lines", "efficacy.traj.individual", "toggle", default=False,
            widget_key="traj_individual"),
)


def build(ctx) -> list:
    measure = ctx.state["measure"]
    blocks: list = [ControlSlot(("measure", "change", "individual"), (3, 2, 2))]
    traj = ctx.study.trajectories(measure, ctx.population, lang=ctx.lang, **ctx.filters)
    if traj.empty:
        return blocks + [Note("info", ctx.t("efficacy.empty"))]
    lines = (subject_values(ctx.study, measure, ctx.population, **ctx.filters)
             if ctx.state["individual"] else None)
    fig = trajectory_figure(traj, lines, change=ctx.state["change"], timepoint=ctx.timepoint)
    # with the individual lines drawn, a selected line or point lists its subjects
    subjects = subject_ids_from_selection if ctx.state["individual"] else None
    return blocks + [figure(fig, "trajectories", traj, subjects=subjects),
                     table(traj, f"trajectories_{measure.lower()}", trajectories_display(traj))]


VIEW = View("trajectories", "trajectories", CONTROLS, build)
