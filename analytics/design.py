"""Pooled versus randomised: when the two comparisons differ materially (STUDY.md section 4).

The paper pools two trials; only the trial(s) that randomised both arms give a randomised
comparison (``comparison="randomised"``, see :mod:`analytics.population`). The two are said to
**differ materially** when the pooled estimate lies outside the randomised comparison's 95 % CI,
or the two estimates point in opposite directions (for a hazard ratio: on opposite sides of 1).
Where the randomised estimate or its CI cannot be estimated, no claim is made.
"""
from __future__ import annotations

import math

from .i18n import fmt_number, t
from .population import randomised_trials
from .response import percent_points

NULL_DIFFERENCE = 0.0  # risk difference
NULL_HAZARD_RATIO = 1.0


def differs_materially(pooled: float, randomised: float, low: float, high: float,
                       null: float = NULL_DIFFERENCE) -> bool:
    """The rule: ``pooled`` outside ``[low, high]`` (the randomised 95 % CI), or ``pooled`` and
    ``randomised`` on opposite sides of ``null``. False when any value is NaN."""
    if any(v is None or (isinstance(v, float) and math.isnan(v))
           for v in (pooled, randomised, low, high)):
        return False
    return bool(not (low <= pooled <= high) or (pooled - null) * (randomised - null) < 0)


def _without_comparison(filters: dict) -> dict:
    return {k: v for k, v in filters.items() if k != "comparison"}


def response_note(study, endpoint: str, population: str, timepoint: str, lang: str = "en",
                  **filters) -> str:
    """A note for the response page when, at ``timepoint``, all subjects pooled and the
    randomised comparison differ materially in the rate difference; '' otherwise."""
    base = _without_comparison(filters)
    pooled = study.compare_rates(endpoint, population, lang=lang, **base)
    rand = study.compare_rates(endpoint, population, lang=lang, comparison="randomised", **base)
    a, b = pooled.set_index("timepoint"), rand.set_index("timepoint")
    if timepoint not in a.index or timepoint not in b.index:
        return ""
    diff, r_diff = a.at[timepoint, "diff"], b.at[timepoint, "diff"]
    low, high = b.at[timepoint, "diff_ci_low"], b.at[timepoint, "diff_ci_high"]
    if not differs_materially(diff, r_diff, low, high):
        return ""
    return t("comparison.material.response", lang, trials=", ".join(randomised_trials(study)),
             timepoint=t(f"visit.{timepoint}", lang), pooled=percent_points(diff, lang),
             low=percent_points(low, lang), high=percent_points(high, lang))


def survival_note(study, endpoint: str, population: str, horizon_years=None, lang: str = "en",
                  **filters) -> str:
    """A one-line note for the survival page when the pooled and randomised Cox hazard ratios
    differ materially; '' otherwise. The pooled ratio is the page's own survival analysis; of
    the randomised comparison only the ratio's numbers are needed
    (:func:`analytics.survival.hazard_ratio_estimate`, the same fit without the curves, in no
    language)."""
    base = _without_comparison(filters)

    def estimate(frame):
        row = frame[frame["hazard_ratio"].notna()]
        if row.empty:
            return (math.nan,) * 3
        row = row.iloc[0]
        return float(row["hazard_ratio"]), float(row["hr_ci_low"]), float(row["hr_ci_high"])

    hr, _, _ = estimate(study.survival(endpoint, population, horizon_years=horizon_years,
                                       lang=lang, **base).summary)
    if math.isnan(hr):  # no claim without the pooled ratio: the randomised one is not needed
        return ""
    r_hr, low, high = estimate(study.hazard_ratio_estimate(endpoint, population,
                                                           horizon_years=horizon_years, **base,
                                                           comparison="randomised"))
    if not differs_materially(hr, r_hr, low, high, null=NULL_HAZARD_RATIO):
        return ""
    return t("comparison.material.survival", lang, trials=", ".join(randomised_trials(study)),
             hr=fmt_number(hr, 2, lang), low=fmt_number(low, 2, lang),
             high=fmt_number(high, 2, lang))
