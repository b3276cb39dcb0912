"""Subgroup forest plot: the between-arm effect per level of each baseline subgroup, for a
response endpoint at the sidebar's time point or a time-to-event endpoint up to it."""
from __future__ import annotations

from ..caution import needs_caution, small_arm_caution
from ..charts.forest import forest_figure
from ..forest import SUBGROUPS, forest_display
from ..i18n import t
from ..response import ENDPOINTS
from ..survival import endpoints_for, horizon_for_visit
from .base import Control, ControlSlot, Note, View, figure, table
from .state import ALL

KINDS = ("response", "time_to_event")
MEASURES = {"response": ("diff", "odds_ratio"), "time_to_event": ("hazard_ratio",)}


def _endpoints(study, values: dict) -> tuple[str, ...]:
    if values["kind"] == "response":
        return tuple(ENDPOINTS)
    return endpoints_for(values["population"])


def _endpoint_label(code: str, lang: str) -> str:
    return t(f"endpoint.{code}", lang)


def _subgroups(study, values: dict) -> tuple[str, ...]:
    # a subgroup already chosen as a sidebar filter has one level: nothing to split
    return tuple(s for s in SUBGROUPS if values.get(s, ALL) == ALL)


CONTROLS = (
    Control("kind", "kind", "forest.control.kind", "radio", KINDS, "response",
            lambda k, lang: t(f"forest.kind.{k}", lang), "forest_kind", horizontal=True),
    # each kind has its own endpoint and measure widgets, so a new kind starts at its defaults
    Control("endpoint", "ep", "forest.control.endpoint", "selectbox", _endpoints,
            lambda study, v: _endpoints(study, v)[0], _endpoint_label,
            lambda v: f"forest_endpoint_{v['kind']}"),
    Control("measure", "measure", "forest.control.measure", "radio",
            lambda study, v: MEASURES[v["kind"]], lambda study, v: MEASURES[v["kind"]][0],
            lambda m, lang: t(f"forest.measure.{m}", lang),
            lambda v: f"forest_measure_{v['kind']}", horizontal=True),
    Control("subgroups", "sg", "forest.control.subgroups", "multiselect", _subgroups,
            lambda study, v: list(_subgroups(study, v)),
            lambda s, lang: t(f"filter.{s}", lang),
            lambda v: "forest_subgroups_" + "_".join(_subgroups(None, v))),
)


def _shown_subgroups(df, chosen: list):
    """The overall rows and the levels of the chosen subgroups (attrs kept)."""
    keep = (df["row_kind"] != "level") | df["subgroup"].isin(chosen)
    out = df[keep].reset_index(drop=True)
    out.attrs = dict(df.attrs)
    return out


def build(ctx) -> list:
    blocks: list = [ControlSlot(("kind", "endpoint", "measure"), (2, 3, 2)),
                    ControlSlot(("subgroups",))]
    endpoint = ctx.state["endpoint"]
    if ctx.state["kind"] == "response":
        df = ctx.study.forest_response(endpoint, ctx.timepoint, ctx.population, lang=ctx.lang,
                                       **ctx.filters)
    else:
        horizon = horizon_for_visit(ctx.timepoint)
        blocks.append(Note("caption", ctx.t("forest.horizon", visit=ctx.t(
            f"visit.{ctx.timepoint}"), years=f"{horizon:g}")))
        df = ctx.study.forest_survival(endpoint, ctx.population, horizon_years=horizon,
                                       lang=ctx.lang, **ctx.filters)
    n_per_arm = df.attrs["n_per_arm"]
    if sum(n_per_arm.values()) == 0:
        return blocks + [Note("info", ctx.t("efficacy.empty"))]
    if needs_caution(n_per_arm):
        blocks.append(Note("warning", small_arm_caution(n_per_arm, ctx.lang)))
    shown = _shown_subgroups(df, ctx.state["subgroups"])
    key = f"forest_{ctx.state['kind']}_{endpoint.lower()}"
    return blocks + [
        figure(forest_figure(shown, ctx.state["measure"]), key, shown),
        table(shown, f"{key}_table", forest_display(shown)),
    ]


# Not in the default deck: its table of every subgroup level takes three slides; a reader adds
# the plot of a chosen endpoint through "Add to report" or `deck --view forest-plot?...`.
VIEW = View("forest_plot", "forest-plot", CONTROLS, build, in_deck=False)
