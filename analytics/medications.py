"""Concomitant medication use at baseline and follow-up time points (the paper's Table 4).

Counting rules (stated in the footnote):

* A drug is **in use** at a time point when ``start_date <= visit_date`` of the subject's visit
  at that time point and (``end_date`` is empty or ``end_date >= visit_date``). A subject counts
  once per drug class, whatever the number of drugs of that class.
* **n** (the denominator) is the subjects of the arm in the selection with that visit.
* Between-arm test: two-sided Fisher exact test per drug class and time point.

Counting is done in DuckDB with bound parameters; p-values come from :mod:`analytics.stats`.
"""
from __future__ import annotations

import pandas as pd

from .annotate import annotate, arm_counts
from .i18n import fmt_p, t
from .population import select
from .schema import ARMS, DRUG_CLASSES, VISITS
from .empty_tables import no_events_note
from .stats import fisher_exact_p

DEFAULT_TIMEPOINTS = ("BL", "Y1", "Y3", "Y5")
REFERENCE_ARM, TEST_ARM = "MSC", "MSC_IFNG"


def medications(study, population: str = "completers", lang: str = "en", timepoints=None,
                **filters) -> pd.DataFrame:
    """Subjects using each drug class at each time point, per arm, with a Fisher p-value.

    Parameters
    ----------
    study : analytics.Study
    population : str
        ``'completers'`` (the paper's Table 4), ``'nri'`` or ``'safety'`` (all treated).
    lang : str
        Language of ``attrs`` texts.
    timepoints : sequence of str, optional
        Visit codes; default BL, Y1, Y3, Y5.
    **filters
        Subgroup filters.

    Returns
    -------
    DataFrame
        One row per drug class, time point and arm: ``drug_class, timepoint, arm, count, n,
        percent`` (0–100, ``nan`` when ``n == 0``) and ``p_value`` (the same on both arms' rows).
    """
    timepoints = list(DEFAULT_TIMEPOINTS if timepoints is None else timepoints)
    for tp in timepoints:
        if tp not in VISITS:
            raise ValueError(f"unknown time point {tp!r}; expected visit codes {VISITS}")
    selection = select(population, **filters)
    sel_sql, sel_params = selection.sql
    sql = f"""
    WITH sel AS ({sel_sql}),
    arms AS (SELECT unnest(?::VARCHAR[]) AS arm),
    tps AS (SELECT unnest(?::VARCHAR[]) AS visit, generate_subscripts(?::VARCHAR[], 1) AS ord),
    classes AS (SELECT unnest(?::VARCHAR[]) AS drug_class,
                       generate_subscripts(?::VARCHAR[], 1) AS cls_ord),
    vis AS (SELECT s.subject_id, s.arm, v.visit, v.visit_date
            FROM sel s JOIN visits v ON v.subject_id = s.subject_id
            WHERE v.visit IN (SELECT visit FROM tps)),
    denom AS (SELECT arm, visit, count(*) AS n FROM vis GROUP BY arm, visit),
    use AS (SELECT vis.arm, vis.visit, m.drug_class, count(DISTINCT vis.subject_id) AS cnt
            FROM vis JOIN medications m ON m.subject_id = vis.subject_id
             AND m.start_date <= vis.visit_date
             AND (m.end_date IS NULL OR m.end_date >= vis.visit_date)
            GROUP BY vis.arm, vis.visit, m.drug_class)
    SELECT classes.drug_class, tps.visit AS timepoint, arms.arm,
           coalesce(use.cnt, 0)::INTEGER AS count, coalesce(denom.n, 0)::INTEGER AS n
    FROM classes CROSS JOIN tps CROSS JOIN arms
    LEFT JOIN denom ON denom.arm = arms.arm AND denom.visit = tps.visit
    LEFT JOIN use ON use.arm = arms.arm AND use.visit = tps.visit
                 AND use.drug_class = classes.drug_class
    ORDER BY classes.cls_ord, tps.ord, arms.arm
    """
    params = [*sel_params, list(ARMS), timepoints, timepoints, list(DRUG_CLASSES),
              list(DRUG_CLASSES)]
    df = study.query(sql, params)
    df["percent"] = [100.0 * c / n if n else float("nan") for c, n in zip(df["count"], df["n"])]
    p_values = {}
    for (cls, tp), g in df.groupby(["drug_class", "timepoint"], sort=False):
        by_arm = g.set_index("arm")
        k1, n1 = int(by_arm.at[REFERENCE_ARM, "count"]), int(by_arm.at[REFERENCE_ARM, "n"])
        k2, n2 = int(by_arm.at[TEST_ARM, "count"]), int(by_arm.at[TEST_ARM, "n"])
        p_values[(cls, tp)] = fisher_exact_p(k1, n1, k2, n2) if n1 and n2 else float("nan")
    df["p_value"] = [p_values[(c, tp)] for c, tp in zip(df["drug_class"], df["timepoint"])]
    df = df[["drug_class", "timepoint", "arm", "count", "n", "percent", "p_value"]]
    return annotate(
        df, study, lang=lang, title=t("efficacy.meds.title", lang), population=population,
        n_per_arm=arm_counts(study, sel_sql, sel_params), method=t("efficacy.meds.method", lang),
        footnote=" ".join(p for p in (t("efficacy.meds.footnote", lang),
                                      no_events_note(study, "medications", lang)) if p),
        timepoints=timepoints)


def _cell(count: int, n: int, percent: float, lang: str) -> str:
    if not n:
        return t("common.missing_value", lang)
    return "0" if count == 0 else f"{int(count)} ({percent:.0f})"


def medications_display(df: pd.DataFrame) -> pd.DataFrame:
    """Table 4 in the paper's layout: a row per drug class; per time point the columns
    MSC n (%), MSC + IFN-γ n (%) and p. Headers translated."""
    lang = df.attrs.get("lang", "en")
    timepoints = list(dict.fromkeys(df["timepoint"]))
    rows = []
    for cls in dict.fromkeys(df["drug_class"]):
        row = {t("efficacy.meds.col.class", lang): t(f"efficacy.drug.{cls}", lang)}
        for tp in timepoints:
            g = df[(df["drug_class"] == cls) & (df["timepoint"] == tp)].set_index("arm")
            tp_name = t(f"visit.{tp}", lang)
            for arm in ARMS:
                col = t("efficacy.meds.col.arm", lang, timepoint=tp_name,
                        arm=t(f"arm.{arm}", lang))
                row[col] = _cell(g.at[arm, "count"], g.at[arm, "n"], g.at[arm, "percent"], lang)
            row[t("efficacy.meds.col.p", lang, timepoint=tp_name)] = fmt_p(
                g["p_value"].iloc[0], lang)
        rows.append(row)
    return pd.DataFrame(rows)
