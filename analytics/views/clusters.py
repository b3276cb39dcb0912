"""Disease-activity clusters: groups of DAS28-ESR courses (whole course or one period) and their
membership by arm; in a second tab, the subjects moving between the clusters of consecutive
periods."""
from __future__ import annotations

from ..caution import not_estimable
from ..charts.clusters import cluster_courses_figure, cluster_matrix_figure, cluster_sankey_figure
from ..clusters import (CLUSTER_RANGE, PERIODS, WINDOWS, excluded_display, fit_display,
                        membership_display, transitions_display)
from ..i18n import t
from ..scope import POPULATION, SUBGROUPS
from .base import Control, ControlSlot, Expander, Note, Tabs, View, figure, sections_control, table

AUTO = "auto"
# the page's sections (tabs) and their names
SECTIONS = {"courses": "clusters.tab.courses", "transitions": "clusters.tab.transitions"}


def _period_label(period: str, lang: str) -> str:
    return t("clusters.period.course" if period == "course" else f"clusters.period.{period}", lang)


def _k_label(k: str, lang: str) -> str:
    return t("clusters.k.auto", lang) if k == AUTO else k


CONTROLS = (
    Control("period", "period", "clusters.control.period", "selectbox", tuple(WINDOWS), "course",
            _period_label, "clusters_period"),
    Control("n_clusters", "k", "clusters.control.k", "selectbox",
            (AUTO, *map(str, CLUSTER_RANGE)), AUTO, _k_label, "clusters_k",
            help="clusters.control.k.help"),
    sections_control("clusters", SECTIONS),
)


def build(ctx) -> list:
    return [Tabs("section", {"courses": lambda: _courses(ctx),
                             "transitions": lambda: _transitions(ctx)})]


def _courses(ctx) -> list:
    k = ctx.state["n_clusters"]
    res = ctx.study.clusters(ctx.population, lang=ctx.lang, period=ctx.state["period"],
                             n_clusters=None if k == AUTO else int(k), **ctx.filters)
    blocks: list = [ControlSlot(("period", "n_clusters"), (1, 1))]
    by_arm = res.by_arm.copy()  # its own title: the slide and the download name it
    by_arm.attrs["title"] = ctx.t("clusters.title.by_arm", period=_period_label(
        ctx.state["period"], ctx.lang))
    if res.membership.empty:
        blocks.append(Note("info", not_estimable("too_few_to_cluster", ctx.lang)))
    else:
        blocks += [
            figure(cluster_courses_figure(res.profiles), "cluster_courses", res.profiles),
            Note("subheader", ctx.t("clusters.section.by_arm")),
            table(by_arm, "cluster_membership", membership_display(by_arm)),
        ]
    return blocks + [Expander(ctx.t("clusters.expander.fit"), [
        table(res.fit, "cluster_fit", fit_display(res.fit), detail=True),
        table(res.excluded, "cluster_excluded", excluded_display(res.excluded), detail=True)])]


def _transitions(ctx) -> list:
    """Each period clustered on its own (by BIC), and who moves between them."""
    tr = ctx.study.cluster_transitions(ctx.population, lang=ctx.lang, **ctx.filters)
    blocks = [Note("subheader", ctx.t("clusters.section.transitions")),
              Note("caption", ctx.t("clusters.transitions.note"))]
    if tr.transitions.empty:
        return blocks + [Note("info", ctx.t("clusters.transitions.none"))]
    pairs = [p for p in PERIODS[:-1] if (tr.transitions["from_period"] == p).any()]
    return blocks + [
        figure(cluster_sankey_figure(tr), "cluster_sankey", tr.transitions),
        Expander(ctx.t("clusters.expander.matrix"), [
            *(figure(cluster_matrix_figure(tr, p), f"cluster_matrix_{p}", tr.transitions)
              for p in pairs),
            table(tr.transitions, "cluster_transitions", transitions_display(tr.transitions),
                  detail=True),
            table(tr.fit, "cluster_period_fit", fit_display(tr.fit), detail=True)]),
    ]


def _applies(values: dict) -> tuple[str, ...]:
    return (POPULATION, SUBGROUPS)  # a course over every visit: no time point


VIEW = View("clusters", "clusters", CONTROLS, build, applies=_applies)
