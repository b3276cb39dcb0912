"""Concomitant medication use by drug class, time point and arm (the paper's Table 4)."""
from __future__ import annotations

from ..charts.efficacy import medications_figure
from ..medications import medications_display, timepoints_with
from ..schema import VISITS
from .base import Control, ControlSlot, Note, View, figure, table, visit_label

CONTROLS = (
    # Baseline, the published time points and the sidebar's; the widget key follows the sidebar
    # time point so that a new global choice applies.
    Control("timepoints", "tps", "efficacy.meds.timepoints", "multiselect", VISITS,
            lambda study, v: timepoints_with(v["timepoint"]), visit_label,
            lambda v: f"meds_timepoints_{v['timepoint']}", help="efficacy.meds.timepoints.help",
            help_args=lambda v, lang: {"timepoint": visit_label(v["timepoint"], lang)}),
)


def build(ctx) -> list:
    default = timepoints_with(ctx.timepoint)
    timepoints = [v for v in VISITS if v in ctx.state["timepoints"]] or default
    blocks: list = [ControlSlot(("timepoints",))]
    meds = ctx.study.medications(ctx.population, lang=ctx.lang, timepoints=timepoints,
                                 **ctx.filters)
    if sum(meds.attrs["n_per_arm"].values()) == 0:
        return blocks + [Note("info", ctx.t("efficacy.empty"))]
    return blocks + [Note("subheader", ctx.t("efficacy.meds.section.table")),
                     table(meds, "medications", medications_display(meds)),
                     Note("subheader", ctx.t("efficacy.meds.section.chart")),
                     figure(medications_figure(meds), "medications", meds)]


VIEW = View("medications", "medications", CONTROLS, build)
