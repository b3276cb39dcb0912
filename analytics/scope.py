"""Which global filters each page applies, and the header words that say so.

The sidebar's filters are global, but not every page can honour every one: safety pages analyse
the safety population over a year window (no efficacy population, no time point), Table 1 is the
completers' baseline, and the reconciliation page compares the whole study with the paper. Each
kind of page declares here what it uses (a view may narrow it by its own choices); its header lists only those and names the rest as "not applied
here", so a header never claims a filter that the view ignores.
"""
from __future__ import annotations

from .i18n import t
from .provenance import filter_label

POPULATION, TIMEPOINT, SUBGROUPS = "population", "timepoint", "subgroups"
GLOBAL_FILTERS = (POPULATION, TIMEPOINT, SUBGROUPS)
_EFFICACY = (POPULATION, TIMEPOINT, SUBGROUPS)
_SAFETY = (SUBGROUPS,)

# the kind of page (``View.header``) -> the global filters its tables and figures follow; a view
# whose use depends on its own choices says so itself (``View.applies``)
KIND_FILTERS: dict[str, tuple[str, ...]] = {
    "efficacy": _EFFICACY,
    "overview": (SUBGROUPS,),  # flow: all randomised; Table 1: completers (as published)
    "safety": _SAFETY,
    "whole": (),  # the whole study, as published
}
# kinds of page whose population is fixed rather than chosen in the sidebar
FIXED_POPULATION = {"safety": "safety"}


def describe_filters(filters: dict, lang: str) -> str:
    """The active subgroup filters in words ('Female · < 45 years'); '' when none."""
    return " · ".join(filter_label(name, value, lang) for name, value in filters.items())


def header_lines(kind: str, lang: str, population: str, timepoint: str,
                 filters: dict, comparison: str = "",
                 used: tuple[str, ...] | None = None) -> tuple[str, str]:
    """(the view in words, the sidebar choices this page does not apply) for a page of ``kind``.

    Either part may be ''. ``filters`` holds the active subgroup filters (analytics keyword
    names); ``comparison`` is the comparison in words (every page but the whole-study one
    follows it); ``used``: the global filters the page follows, when not those of its kind.
    """
    if kind not in KIND_FILTERS:
        raise KeyError(f"unknown kind of page {kind!r}; expected one of {tuple(KIND_FILTERS)}")
    if not KIND_FILTERS[kind]:
        return t("scope.whole_study", lang), ""
    used = KIND_FILTERS[kind] if used is None else used
    shown, ignored = [], []
    if kind in FIXED_POPULATION:
        shown.append(t(f"population.{FIXED_POPULATION[kind]}", lang))
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
