"""Constant-rate check for the exposure-adjusted AE rates.

The rate per 100 patient-years over all follow-up (Table 2) is one number for 5–7 years; it
summarises the follow-up fairly only if the rate does not change with time. Beside the rates by
year of follow-up, a Poisson regression of the events in each year on the year, with log
person-years as offset, estimates the trend (rate ratio per year) per arm and category; its
p-value says whether there is evidence against a constant rate.

Counting (events and person-years per year window) is :func:`analytics.safety.ae_rates_by_year`
(DuckDB); the fit is :func:`analytics.stats.poisson_trend` (statsmodels GLM).
"""
from __future__ import annotations

import math

import pandas as pd

from .annotate import annotate
from .caution import MIN_ARM_FOR_TEST, not_estimable
from .i18n import fmt_number, fmt_p, t
from .safety import POPULATION, ae_rates_by_year
from .stats import poisson_trend

ALPHA = 0.05


def _conclusion(p: float, reason: str) -> str:
    """'constant' (no evidence against a constant rate), 'not_constant', or '' (no estimate)."""
    if reason:
        return ""
    return "constant" if p >= ALPHA else "not_constant"


def ae_rate_trend(study, population: str = POPULATION, lang: str = "en",
                  **filters) -> pd.DataFrame:
    """Trend of the AE and SAE rates over years of follow-up, per category and arm.

    Returns
    -------
    DataFrame
        One row per category (``'any'``, ``'serious'``) and arm: ``category``, ``label``, ``arm``,
        ``n`` (subjects), ``years`` (years of follow-up with exposure), ``events``,
        ``person_years``, ``rate_ratio_per_year`` with ``ci_low``, ``ci_high`` (Wald 95 %),
        ``p_value`` (Wald z-test of no trend), ``reason`` (why the trend is not estimable, '' when
        it is) and ``conclusion`` (``'constant'`` when p ≥ 0.05, ``'not_constant'`` when
        p < 0.05, '' when not estimable). An arm with fewer than
        :data:`analytics.caution.MIN_ARM_FOR_TEST` subjects gets no estimate.
    """
    # asked of the study (whose method is the safety population's, called as the safety page
    # calls it): the dashboard's memoising study then counts the rates by year once
    by_year = (study.ae_rates_by_year(lang=lang, **filters) if population == POPULATION
               else ae_rates_by_year(study, population, lang=lang, **filters))
    n_per_arm = by_year.attrs["n_per_arm"]
    counts = by_year.copy(deep=False)
    counts.attrs = {}  # pandas deep-copies attrs into every group below; the numbers suffice
    rows = []
    for (category, arm), grp in counts.groupby(["category", "arm"], sort=False):
        if n_per_arm.get(arm, 0) < MIN_ARM_FOR_TEST:
            ratio = low = high = p = math.nan
            reason = "no_subjects" if n_per_arm.get(arm, 0) == 0 else "arm_too_small"
        else:
            ratio, low, high, p, reason = poisson_trend(
                grp["events"], grp["person_years"], grp["start"], alpha=ALPHA)
        rows.append({
            "category": category, "label": grp["label"].iloc[0], "arm": arm,
            "n": int(n_per_arm.get(arm, 0)), "years": int((grp["person_years"] > 0).sum()),
            "events": int(grp["events"].sum()), "person_years": float(grp["person_years"].sum()),
            "rate_ratio_per_year": ratio, "ci_low": low, "ci_high": high, "p_value": p,
            "reason": reason, "conclusion": _conclusion(p, reason)})
    df = pd.DataFrame(rows)
    caution = by_year.attrs.get("caution", "")
    footnote = [*(_row_sentence(r, lang) for r in df.itertuples()),
                t("safety.trend.meaning", lang), caution]
    return annotate(df, study, lang=lang, title=t("safety.trend.title", lang),
                    population=population, n_per_arm=n_per_arm,
                    method=t("safety.trend.method", lang),
                    footnote=" ".join(f for f in footnote if f), caution=caution,
                    filters=by_year.attrs.get("filters", {}))


def _ratio_text(row, lang: str, key: str = "safety.trend.ratio") -> str:
    """The trend in words (``key``: a sentence part, or the bare table cell)."""
    if row.reason:
        return not_estimable(row.reason, lang)
    return t(key, lang, rr=fmt_number(row.rate_ratio_per_year, 2, lang),
             low=fmt_number(row.ci_low, 2, lang), high=fmt_number(row.ci_high, 2, lang),
             p=fmt_p(row.p_value, lang))


def _conclusion_text(row, lang: str) -> str:
    if not row.conclusion:
        return t("safety.trend.conclusion.none", lang)
    return t(f"safety.trend.conclusion.{row.conclusion}", lang)


def _row_sentence(row, lang: str) -> str:
    return t("safety.trend.sentence", lang, category=row.label, arm=t(f"arm.{row.arm}", lang),
             result=_ratio_text(row, lang), conclusion=_conclusion_text(row, lang))


def trend_display(df: pd.DataFrame) -> pd.DataFrame:
    """The trend table as shown: one row per category and arm, words for the conclusion."""
    lang = df.attrs.get("lang", "en")
    return pd.DataFrame({
        t("safety.col.category", lang): df["label"],
        t("safety.col.arm", lang): [t(f"arm.{a}", lang) for a in df["arm"]],
        t("safety.trend.col.years", lang): df["years"],
        t("safety.trend.col.events", lang): df["events"],
        t("safety.trend.col.ratio", lang): [_ratio_text(r, lang, "safety.trend.cell")
                                            for r in df.itertuples()],
        t("safety.trend.col.conclusion", lang): [_conclusion_text(r, lang)
                                                 for r in df.itertuples()],
    })

