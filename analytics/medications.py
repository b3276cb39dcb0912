"""Concomitant medication use at baseline and follow-up time points (the paper's Table 4).

Counting rules (stated in the footnote):

* A drug is **in use** at a time point when ``start_date <= visit_date`` of the subject's visit
  at that time point and (``end_date`` is empty or ``end_date >= visit_date``). A subject counts
  once per drug class, whatever the number of drugs of that class.
* **n** (the denominator) follows the follow-up rule of every efficacy view
  (:func:`analytics.population.follow_up_sql`). Completers (the paper's Table 4): the subjects
  with that visit. NRI and safety: every subject still in follow-up at the time point; one who
  missed the visit is assessed at its nominal day (medication periods are dated, so use is known
  without the visit). Use cannot be imputed, so subjects withdrawn before the time point and
  those whose follow-up had ended leave the denominator; the footnote counts them.
* Between-arm test: two-sided Fisher exact test per drug class and time point.

Counting is done in DuckDB with bound parameters; p-values come from :mod:`analytics.stats`.
"""
from __future__ import annotations

import pandas as pd

from .annotate import annotate, arm_counts, bare
from .i18n import fmt_p, t
from .caution import (CAUTION_MARK, needs_caution, not_estimable, small_numbers_note,
                      untestable_reason)
from .population import follow_up_sql, select
from .schema import ARMS, DRUG_CLASSES, VISITS
from .empty_tables import no_events_note
from .stats import fisher_exact_p

DEFAULT_TIMEPOINTS = ("BL", "Y1", "Y3", "Y5")  # the paper's Table 4


def timepoints_with(timepoint: str) -> list[str]:
    """Table 4's time points plus ``timepoint`` (the sidebar's), in visit order: a clinician who
    chose a time point expects to see it beside baseline and the published ones."""
    if timepoint not in VISITS:
        raise ValueError(f"unknown time point {timepoint!r}; expected visit codes {VISITS}")
    return [v for v in VISITS if v in DEFAULT_TIMEPOINTS or v == timepoint]
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
    fu_sql, fu_params = follow_up_sql(timepoints)
    # completers: the visit itself; otherwise also in follow-up without it, at the nominal day
    counted = "('observed')" if population == "completers" else "('observed', 'missing')"
    sql = f"""
    WITH sel AS ({sel_sql}),
    {fu_sql},
    arms AS (SELECT unnest(?::VARCHAR[]) AS arm),
    tps AS (SELECT unnest(?::VARCHAR[]) AS visit, generate_subscripts(?::VARCHAR[], 1) AS ord),
    classes AS (SELECT unnest(?::VARCHAR[]) AS drug_class,
                       generate_subscripts(?::VARCHAR[], 1) AS cls_ord),
    vis AS (SELECT f.subject_id, f.arm, f.timepoint AS visit,
                   coalesce(f.visit_date, s.infusion_date + f.nominal_day::INTEGER) AS visit_date
            FROM follow_up f JOIN sel s USING (subject_id)
            WHERE f.state IN {counted}),
    left_out AS (SELECT arm, timepoint AS visit, count_if(state = 'withdrawn') AS n_withdrawn,
                        count_if(state = 'ended') AS n_ended
                 FROM follow_up GROUP BY arm, timepoint),
    denom AS (SELECT arm, visit, count(*) AS n FROM vis GROUP BY arm, visit),
    use AS (SELECT vis.arm, vis.visit, m.drug_class, count(DISTINCT vis.subject_id) AS cnt
            FROM vis JOIN medications m ON m.subject_id = vis.subject_id
             AND m.start_date <= vis.visit_date
             AND (m.end_date IS NULL OR m.end_date >= vis.visit_date)
            GROUP BY vis.arm, vis.visit, m.drug_class)
    SELECT classes.drug_class, tps.visit AS timepoint, arms.arm,
           coalesce(use.cnt, 0)::INTEGER AS count, coalesce(denom.n, 0)::INTEGER AS n,
           coalesce(left_out.n_withdrawn, 0)::INTEGER AS n_withdrawn,
           coalesce(left_out.n_ended, 0)::INTEGER AS n_ended
    FROM classes CROSS JOIN tps CROSS JOIN arms
    LEFT JOIN denom ON denom.arm = arms.arm AND denom.visit = tps.visit
    LEFT JOIN left_out ON left_out.arm = arms.arm AND left_out.visit = tps.visit
    LEFT JOIN use ON use.arm = arms.arm AND use.visit = tps.visit
                 AND use.drug_class = classes.drug_class
    ORDER BY classes.cls_ord, tps.ord, arms.arm
    """
    params = [*sel_params, *fu_params, list(ARMS), timepoints, timepoints, list(DRUG_CLASSES),
              list(DRUG_CLASSES)]
    df = study.query(sql, params)
    df["percent"] = [100.0 * c / n if n else float("nan") for c, n in zip(df["count"], df["n"])]
    # (count, n) per class, time point and arm, read once: a frame look-up per cell costs more
    cells = {(cls, tp, arm): (int(k), int(n)) for cls, tp, arm, k, n in
             zip(df["drug_class"], df["timepoint"], df["arm"], df["count"], df["n"])}
    tests = {}  # (class, time point) -> (p, reason it cannot be tested, caution)
    for cls, tp in dict.fromkeys(zip(df["drug_class"], df["timepoint"])):
        (k1, n1), (k2, n2) = cells[(cls, tp, REFERENCE_ARM)], cells[(cls, tp, TEST_ARM)]
        n_per_arm = {REFERENCE_ARM: n1, TEST_ARM: n2}
        reason = untestable_reason(n_per_arm)
        p = float("nan") if reason else fisher_exact_p(k1, n1, k2, n2)
        tests[(cls, tp)] = (p, reason, not reason and needs_caution(n_per_arm))
    keys = list(zip(df["drug_class"], df["timepoint"]))
    df["p_value"] = [tests[k][0] for k in keys]
    df["not_estimable"] = [tests[k][1] for k in keys]
    df["caution"] = [tests[k][2] for k in keys]
    left_note = _left_out_note(df, population, lang)
    df = df[["drug_class", "timepoint", "arm", "count", "n", "percent", "p_value",
             "not_estimable", "caution"]]
    footnote = t("efficacy.meds.footnote.completers" if population == "completers"
                 else "efficacy.meds.footnote.followed", lang)
    return annotate(
        df, study, lang=lang, title=t("efficacy.meds.title", lang), population=population,
        n_per_arm=arm_counts(study, sel_sql, sel_params), method=t("efficacy.meds.method", lang),
        footnote=" ".join(p for p in (footnote, left_note, small_numbers_note(df, lang),
                                      no_events_note(study, "medications", lang)) if p),
        timepoints=timepoints,
        filters=filters)


def _left_out_note(df: pd.DataFrame, population: str, lang: str) -> str:
    """Per time point, the subjects who left the denominator (withdrawn before it, follow-up
    ended); '' under completers (Table 4 counts the visits) or when none left."""
    if population == "completers":
        return ""
    per_tp = df.drop_duplicates(["timepoint", "arm"])
    parts = []
    for tp, g in per_tp.groupby("timepoint", sort=False):
        withdrawn, ended = int(g["n_withdrawn"].sum()), int(g["n_ended"].sum())
        if withdrawn or ended:
            parts.append(t("efficacy.meds.left_at", lang, timepoint=t(f"visit.{tp}", lang),
                           withdrawn=withdrawn, ended=ended))
    if not parts:
        return ""
    return t("efficacy.meds.left", lang, counts=t("common.list_separator", lang).join(parts))


def _cell(count: int, n: int, percent: float, lang: str) -> str:
    if not n:
        return t("common.missing_value", lang)
    return "0" if count == 0 else f"{int(count)} ({percent:.0f})"


def medications_display(df: pd.DataFrame) -> pd.DataFrame:
    """Table 4 in the paper's layout: a row per drug class; per time point the columns
    MSC n (%), MSC + IFN-γ n (%) and p. Headers translated."""
    lang = df.attrs.get("lang", "en")
    df = bare(df)  # each column taken from the result would deep-copy its attrs
    timepoints = list(dict.fromkeys(df["timepoint"]))
    # the frame's columns read once into a look-up: a filtered frame per cell deep-copies the
    # frame's attrs each time, which cost more than the table
    cells = {(cls, tp, arm): (count, n, percent, p, reason, caution)
             for cls, tp, arm, count, n, percent, p, reason, caution in zip(
                 df["drug_class"], df["timepoint"], df["arm"], df["count"], df["n"],
                 df["percent"], df["p_value"], df["not_estimable"], df["caution"])}
    rows = []
    for cls in dict.fromkeys(df["drug_class"]):
        row = {t("efficacy.meds.col.class", lang): t(f"efficacy.drug.{cls}", lang)}
        for tp in timepoints:
            tp_name = t(f"visit.{tp}", lang)
            for arm in ARMS:
                col = t("efficacy.meds.col.arm", lang, timepoint=tp_name,
                        arm=t(f"arm.{arm}", lang))
                count, n, percent = cells[(cls, tp, arm)][:3]
                row[col] = _cell(count, n, percent, lang)
            # the test is the same on both arms' rows
            _, _, _, p, reason, caution = cells[(cls, tp, ARMS[0])]
            row[t("efficacy.meds.col.p", lang, timepoint=tp_name)] = (
                not_estimable(reason, lang) if reason
                else fmt_p(p, lang) + (f" {CAUTION_MARK}" if caution else ""))
        rows.append(row)
    return pd.DataFrame(rows)
