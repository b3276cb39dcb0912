"""Which global filters each page applies, and the header words that say so.

The sidebar's filters are global, but not every page can honour every one: safety pages analyse
the safety population over a year window (no efficacy population, no time point), Table 1 is the
completers' baseline, and the reconciliation page compares the whole study with the paper. Each
page declares here what it uses; its header lists only those and names the rest as "not applied
here", so a header never claims a filter that the view ignores.
"""
from __future__ import annotations

from .i18n import t
from .provenance import filter_label

POPULATION, TIMEPOINT, SUBGROUPS = "population", "timepoint", "subgroups"
GLOBAL_FILTERS = (POPULATION, TIMEPOINT, SUBGROUPS)
_EFFICACY = (POPULATION, TIMEPOINT, SUBGROUPS)
_SAFETY = (SUBGROUPS,)

# page key -> the global filters its tables and figures follow
PAGE_FILTERS: dict[str, tuple[str, ...]] = {
    "overview": (SUBGROUPS,),  # flow: all randomised; Table 1: completers (as published)
    "response_rates": _EFFICACY,
    "disease_activity": _EFFICACY,
    "trajectories": _EFFICACY,
    "medications": _EFFICACY,
    "survival": _EFFICACY,
    "safety_overview": _SAFETY,
    "ae_terms": _SAFETY,
    "sae_listing": _SAFETY,
    "reconciliation": (),  # the whole study, as published
    # issue 14: a course over every visit (no time point); response at / follow-up up to it
    "clusters": (POPULATION, SUBGROUPS),
    "forest_plot": _EFFICACY,
    "trial_planner": _EFFICACY,
}
# pages whose population is fixed rather than chosen in the sidebar
FIXED_POPULATION = {"safety_overview": "safety", "ae_terms": "safety", "sae_listing": "safety"}
WHOLE_STUDY = frozenset({"reconciliation"})


def describe_filters(filters: dict, lang: str) -> str:
    """The active subgroup filters in words ('Female · < 45 years'); '' when none."""
    return " · ".join(filter_label(name, value, lang) for name, value in filters.items())


def header_lines(page: str, lang: str, population: str, timepoint: str,
                 filters: dict, comparison: str = "") -> tuple[str, str]:
    """(the view in words, the sidebar choices this page does not apply) for ``page``.

    Either part may be ''. ``filters`` holds the active subgroup filters (analytics keyword
    names); ``comparison`` is the comparison in words (every page but the whole-study one
    follows it).
    """
    if page not in PAGE_FILTERS:
        raise KeyError(f"unknown page {page!r}; expected one of {tuple(PAGE_FILTERS)}")
    if page in WHOLE_STUDY:
        return t("scope.whole_study", lang), ""
    used = PAGE_FILTERS[page]
    shown, ignored = [], []
    if page in FIXED_POPULATION:
        shown.append(t(f"population.{FIXED_POPULATION[page]}", lang))
    population_label = t(f"population.{population}", lang)
    (shown if POPULATION in used else ignored).append(
        population_label if POPULATION in used
        else t("scope.item", lang, name=t("filter.population", lang), value=population_label))
    timepoint_label = t(f"visit.{timepoint}", lang)
    (shown if TIMEPOINT in used else ignored).append(
        timepoint_label if TIMEPOINT in used
        else t("scope.item", lang, name=t("filter.timepoint", lang), value=timepoint_label))
    if comparison:
        shown.append(comparison)
    subgroups = describe_filters(filters, lang)
    if subgroups:
        (shown if SUBGROUPS in used else ignored).append(subgroups)
    not_applied = (t("scope.not_applied", lang, filters=" · ".join(ignored)) if ignored else "")
    return " · ".join(shown), not_applied
