"""Disease activity: DAS28-ESR categories over time (Sankey per arm), the transition matrix
between two time points, and the distribution at every time point (100 % stacked bars), each
in its own tab."""
from __future__ import annotations

from ..charts.disease_activity import (activity_bars_figure, link_flow, sankey_figure,
                                       transition_matrix_figure)
from ..disease_activity import activity_display
from ..profile import subjects_in_flow
from ..schema import ARMS, VISITS
from .base import (Control, ControlSlot, Expander, Note, Tabs, View, figure, sections_control,
                   table, visit_label)

DEFAULT_SANKEY = ["BL", "Y1", "Y3", "Y5"]
# the page's sections (tabs), each named by its heading
SECTIONS = {"flow": "da.sankey.header", "matrix": "da.matrix.header", "bars": "da.bars.header"}


def _later(values: dict) -> tuple:
    return tuple(VISITS[VISITS.index(values["start"]) + 1:])


def _default_end(study, values: dict) -> str:
    # the global time point is the default end of the matrix when it comes after the start
    later = _later(values)
    return values["timepoint"] if values["timepoint"] in later else later[-1]


CONTROLS = (
    Control("sankey", "flow", "da.sankey.timepoints", "multiselect", VISITS, DEFAULT_SANKEY,
            visit_label, "da_sankey_tps"),
    Control("start", "from", "da.matrix.from", "selectbox", VISITS[:-1], VISITS[0], visit_label,
            "da_from"),
    # the widget key follows start and the global time point, so a new choice resets the end
    Control("end", "to", "da.matrix.to", "selectbox", lambda study, v: _later(v), _default_end,
            visit_label, lambda v: f"da_to_{v['start']}_{v['timepoint']}"),
    sections_control("da", SECTIONS),
)


def flow_subjects(ctx, start: str | None = None, end: str | None = None):
    """A flow table's row (a Sankey link, or a transition-matrix cell between ``start`` and
    ``end``) -> its subjects."""
    def subjects(row) -> list[str]:
        return subjects_in_flow(ctx.study, ctx.population, row["arm"],
                                row.get("from_timepoint", start), row["from_category"],
                                row.get("to_timepoint", end), row["to_category"],
                                **ctx.filters)
    return subjects


def sankey_subjects(ctx, arm: str):
    """A selection on one arm's Sankey (its link and node markers) -> their subjects."""
    def subjects(event) -> list[str]:
        points = ((event or {}).get("selection") or {}).get("points") or []
        found: list[str] = []
        for point in points:
            data = point.get("customdata")
            if isinstance(data, (list, tuple)) and len(data) == 8:
                found += subjects_in_flow(ctx.study, ctx.population, arm, *link_flow(data),
                                          **ctx.filters)
        return list(dict.fromkeys(found))
    return subjects


def build(ctx) -> list:
    activity = ctx.study.disease_activity(ctx.population, lang=ctx.lang, **ctx.filters)
    if sum(activity.attrs["n_per_arm"].values()) == 0:
        return [Note("info", ctx.t("da.no_subjects"))]
    return [Tabs("section", {"flow": lambda: _flows(ctx), "matrix": lambda: _matrix(ctx),
                             "bars": lambda: _bars(ctx, activity)})]


def _flows(ctx) -> list:
    blocks: list = [ControlSlot(("sankey",))]
    chosen = [v for v in VISITS if v in ctx.state["sankey"]]
    if len(chosen) < 2:
        return blocks + [Note("info", ctx.t("da.sankey.need_two"))]
    flow_df = ctx.study.flows(ctx.population, chosen, lang=ctx.lang, **ctx.filters)
    return blocks + [
        *(figure(sankey_figure(flow_df, arm, lang=ctx.lang), f"da_sankey_{arm}", flow_df,
                 subjects=sankey_subjects(ctx, arm)) for arm in ARMS),
        Expander(ctx.t("da.tables.expander"), [table(
            flow_df, "disease_activity_flows",
            activity_display(flow_df, ["arm", "from_timepoint", "to_timepoint",
                                       "from_category", "to_category", "count", "n", "percent",
                                       "row_percent"], ctx.lang),
            detail=True, row_subjects=flow_subjects(ctx))])]


def _matrix(ctx) -> list:
    trans = ctx.study.transitions(ctx.population, ctx.state["start"], ctx.state["end"],
                                  lang=ctx.lang, **ctx.filters)
    return [ControlSlot(("start", "end"), (1, 1)),
            figure(transition_matrix_figure(trans, lang=ctx.lang), "da_matrix", trans),
            Expander(ctx.t("da.tables.expander"), [table(
                trans, "disease_activity_transitions",
                activity_display(trans[trans["count"] > 0], ["arm", "from_category",
                                                             "to_category", "count", "n",
                                                             "percent", "row_percent"], ctx.lang),
                detail=True,
                row_subjects=flow_subjects(ctx, ctx.state["start"], ctx.state["end"]))])]


def _bars(ctx, activity) -> list:
    return [figure(activity_bars_figure(activity, lang=ctx.lang), "da_bars", activity),
            table(activity, "disease_activity",
                  activity_display(activity, ["arm", "timepoint", "years", "category", "count",
                                              "n", "percent"], ctx.lang))]


VIEW = View("disease_activity", "disease-activity", CONTROLS, build)
