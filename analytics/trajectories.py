"""Continuous measures over time per arm: mean with t-based 95 % CI, and change from baseline.

Counting rules (stated in the footnote): observed cases at every time point, in both efficacy
populations. Under NRI the selection is every randomised subject, but a continuous measure cannot
be imputed as 'non-response', so the values shown are those observed (withdrawn subjects
contribute up to their withdrawal). The change from baseline is computed for subjects with both a
baseline and a current value.

Per-subject values come from DuckDB with bound parameters; means and intervals from
:func:`analytics.stats.mean_ci`.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .annotate import annotate, arm_counts, bare
from .i18n import fmt_number, t
from .population import select
from .response import check_population
from .schema import ARMS
from .stats import mean_ci

# measure code -> visit_measures column (its change from baseline is ``<column>_change``).
MEASURES: dict[str, str] = {
    "DAS28_ESR": "das28_esr",
    "DAS28_CRP": "das28_crp",
    "HAQ_DI": "haq_di",
    "TJC28": "tjc28",
    "SJC28": "sjc28",
    "PATIENT_GLOBAL": "patient_global",
    "PHYSICIAN_GLOBAL": "physician_global",
    "PAIN": "pain",
    "CRP": "crp",
    "ESR": "esr",
}


def _column(measure: str) -> str:
    if measure not in MEASURES:
        raise ValueError(f"unknown measure {measure!r}; expected one of {tuple(MEASURES)}")
    return MEASURES[measure]


def subject_values(study, measure: str, population: str = "completers", **filters
                   ) -> pd.DataFrame:
    """Per-subject observed values: ``subject_id, arm, timepoint, years, value, change``.

    One row per subject and visit with an observed value, ordered by subject and time.
    """
    df = _values(study, measure, population, "v.subject_id, v.arm, v.visit AS timepoint, "
                 "v.years", **filters)
    return df.reset_index(drop=True)


def _values(study, measure: str, population: str, columns: str, **filters) -> pd.DataFrame:
    """``columns`` (fixed text), ``value`` and ``change`` of every observed value, ordered by
    subject and time."""
    check_population(population)
    col = _column(measure)  # a fixed column name from MEASURES, never user text
    sel_sql, sel_params = select(population, **filters).sql
    sql = f"""
    WITH sel AS ({sel_sql})
    SELECT {columns}, v.{col}::DOUBLE AS value, v.{col}_change::DOUBLE AS change
    FROM visit_measures v
    WHERE v.subject_id IN (SELECT subject_id FROM sel) AND v.{col} IS NOT NULL
    ORDER BY v.subject_id, v.visit_order
    """
    return study.query(sql, sel_params)


def trajectories(study, measure: str, population: str = "completers", lang: str = "en",
                 **filters) -> pd.DataFrame:
    """Mean (95 % CI) and mean change from baseline (95 % CI) per arm and time point.

    Returns
    -------
    DataFrame
        ``arm, timepoint, years, n, mean, ci_low, ci_high, n_change, mean_change,
        change_ci_low, change_ci_high``; one row per arm and visit with any observed value
        (BL included; its change is 0 by definition and shown as such).
    """
    # only what the means need (no subject ids: their text was most of the query on a large
    # cohort), in subject order as subject_values gives them
    values = _values(study, measure, population, "v.visit_order, v.arm", **filters)
    order = study.query("SELECT visit, min(visit_order) AS o, any_value(years) AS years "
                        "FROM visit_measures GROUP BY visit ORDER BY o")
    # each (time point, arm)'s rows found once, in their order (a mask per time point and arm
    # compared every row's text each time: seconds on a large cohort)
    cells = values.groupby(["visit_order", "arm"], sort=False).indices
    value_of = values["value"].to_numpy(dtype=float)
    change_of = values["change"].to_numpy(dtype=float)
    rows = []
    for tp, visit_order, years in zip(order["visit"], order["o"], order["years"]):
        for arm in ARMS:
            at = cells.get((visit_order, arm))
            if at is None:
                continue
            mean, lo, hi = mean_ci(value_of[at])
            change = change_of[at][~np.isnan(change_of[at])]
            c_mean, c_lo, c_hi = mean_ci(change)
            rows.append(dict(arm=arm, timepoint=tp, years=float(years), n=int(len(at)),
                             mean=mean, ci_low=lo, ci_high=hi, n_change=int(len(change)),
                             mean_change=c_mean, change_ci_low=c_lo, change_ci_high=c_hi))
    columns = ["arm", "timepoint", "years", "n", "mean", "ci_low", "ci_high", "n_change",
               "mean_change", "change_ci_low", "change_ci_high"]
    df = pd.DataFrame(rows, columns=columns)
    sel_sql, sel_params = select(population, **filters).sql
    footnote = t("efficacy.traj.footnote", lang)
    if population == "nri":
        footnote = f"{t('efficacy.traj.footnote.nri', lang)} {footnote}"
    return annotate(
        df, study, lang=lang,
        title=t("efficacy.traj.title", lang, measure=t(f"efficacy.measure.{measure}", lang)),
        population=population, n_per_arm=arm_counts(study, sel_sql, sel_params),
        method=t("efficacy.traj.method", lang), footnote=footnote, measure=measure,
        filters=filters)


def trajectories_display(df: pd.DataFrame) -> pd.DataFrame:
    """Mean (95 % CI) and change (95 % CI) per time point and arm, with translated headers."""
    lang = df.attrs.get("lang", "en")
    digits = 2 if df.attrs.get("measure") in ("DAS28_ESR", "DAS28_CRP", "HAQ_DI") else 1
    df = bare(df)  # each column taken from the result would deep-copy its attrs

    def num(x):
        return fmt_number(x, digits, lang)

    def ci(lo, hi):
        if lo != lo:  # nan: fewer than two observations
            return t("common.missing_value", lang)
        return t("efficacy.range", lang, low=num(lo), high=num(hi))

    return pd.DataFrame({
        t("efficacy.col.timepoint", lang): [t(f"visit.{v}", lang) for v in df["timepoint"]],
        t("efficacy.col.arm", lang): [t(f"arm.{a}", lang) for a in df["arm"]],
        t("efficacy.col.n", lang): df["n"].astype(int),
        t("efficacy.col.mean", lang): [num(x) for x in df["mean"]],
        t("efficacy.col.mean_ci", lang): [ci(lo, hi) for lo, hi in
                                          zip(df["ci_low"], df["ci_high"])],
        t("efficacy.col.mean_change", lang): [num(x) for x in df["mean_change"]],
        t("efficacy.col.change_ci", lang): [ci(lo, hi) for lo, hi in
                                            zip(df["change_ci_low"], df["change_ci_high"])],
    })
