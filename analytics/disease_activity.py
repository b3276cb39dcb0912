"""DAS28-ESR disease-activity categories per arm and time point (remission, low, moderate, high).

Counting rules (stated in every footnote):

* The category comes from the ``das28_category`` column of the ``visit_measures`` view
  (remission < 2.6, low ≤ 3.2, moderate ≤ 5.1, high > 5.1), computed from the raw visits.
* **Completers**: subjects with ``status = completed``; at each time point only those with an
  observed DAS28-ESR are counted, so ``n`` is the number observed there.
* **NRI**: every randomised, treated subject is counted at every time point (``n`` = the whole
  arm). A subject without an observed DAS28-ESR at the visit is ``withdrawn`` when the withdrawal
  date lies before the visit's nominal day (:data:`analytics.schema.VISIT_DAYS`, day 0 = infusion),
  ``ended`` when a completer's follow-up ended before that day (not a failure), otherwise
  ``missing`` (missed visit). The rule is the one every efficacy view shares:
  :func:`analytics.population.follow_up_sql`.

The per-subject categories come from one SQL query with bound parameters
(:func:`subject_categories`); :mod:`analytics.transitions` uses the same function, so the
cross-sectional counts and the transitions always agree.
"""
from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from .annotate import annotate, arm_counts
from .i18n import t
from .population import follow_up_sql, select
from .schema import ARMS, VISIT_MONTHS, VISITS

OBSERVED_CATEGORIES: tuple[str, ...] = ("remission", "low", "moderate", "high")
NRI_CATEGORIES: tuple[str, ...] = ("withdrawn", "missing", "ended")
CATEGORIES: tuple[str, ...] = OBSERVED_CATEGORIES + NRI_CATEGORIES
EFFICACY_POPULATIONS: tuple[str, ...] = ("completers", "nri")


def categories_for(population: str) -> tuple[str, ...]:
    """The categories a population can show: the observed four, plus withdrawn/missing for NRI."""
    return CATEGORIES if population == "nri" else OBSERVED_CATEGORIES


def check_population(population: str) -> None:
    if population not in EFFICACY_POPULATIONS:
        raise ValueError(f"disease activity needs an efficacy population {EFFICACY_POPULATIONS}, "
                         f"not {population!r}")


def check_timepoints(timepoints) -> list[str]:
    """Validate visit codes; return them in visit order without duplicates."""
    timepoints = list(timepoints)
    unknown = [tp for tp in timepoints if tp not in VISIT_MONTHS]
    if unknown:
        raise ValueError(f"unknown time point(s) {unknown}; expected codes from {VISITS}")
    return [v for v in VISITS if v in set(timepoints)]


def categories_sql(population: str, timepoints, **filters) -> tuple[str, list]:
    """The SQL (and its parameters) of :func:`subject_categories`, before any filtering or
    ordering, for analyses that count it in DuckDB."""
    selection = select(population, **filters)
    sel_sql, sel_params = selection.sql
    # Who is in follow-up at each time point: the one rule shared by every efficacy view.
    fu_sql, tp_params = follow_up_sql(timepoints, measures=("das28_esr", "das28_category"))
    sql = f"""
        WITH sel AS ({sel_sql}),
        {fu_sql}
        SELECT f.subject_id, f.arm, f.timepoint, f.visit_order, f.years, f.das28_esr,
            CASE WHEN f.das28_category IS NOT NULL THEN f.das28_category
                 WHEN f.state IN ('withdrawn', 'ended') THEN f.state
                 ELSE 'missing' END AS category
        FROM follow_up f
    """
    return sql, sel_params + tp_params


def count_grid(counts: dict, *levels) -> tuple[list[tuple], np.ndarray]:
    """Every combination of ``levels`` (in order, the last varying fastest) and its count in
    ``counts`` (keyed by those combinations; 0 where absent). Built from plain lists: a
    MultiIndex reindexed and grouped per table cost more than the query counting it."""
    grid = list(itertools.product(*levels))
    return grid, np.array([counts.get(key, 0) for key in grid], dtype="int64")


def percent_of(count: np.ndarray, n: np.ndarray) -> np.ndarray:
    """100 × count / n, NaN where n is 0."""
    with np.errstate(divide="ignore", invalid="ignore"):  # 0 / 0: NaN below, as intended
        return np.where(n > 0, 100.0 * count / n, np.nan)


def subject_categories(study, population: str, timepoints=VISITS, **filters) -> pd.DataFrame:
    """One row per selected subject and time point: the DAS28-ESR category there.

    Returns columns ``subject_id, arm, timepoint, visit_order, years, das28_esr, category``.
    ``category`` is one of :data:`CATEGORIES`. Under completers the rows without an observed
    DAS28-ESR are dropped; under NRI they are kept as ``withdrawn`` or ``missing``.
    """
    check_population(population)
    timepoints = check_timepoints(timepoints)
    cols = ["subject_id", "arm", "timepoint", "visit_order", "years", "das28_esr", "category"]
    if not timepoints:
        select(population, **filters)  # validated all the same
        return pd.DataFrame(columns=cols)
    sql, params = categories_sql(population, timepoints, **filters)
    df = study.query(f"{sql} ORDER BY arm, visit_order, subject_id", params)
    if population == "completers":
        df = df[df["category"].isin(OBSERVED_CATEGORIES)]
    return df[cols].reset_index(drop=True)


def arm_sizes(study, population: str, **filters) -> dict:
    """Subjects selected per arm (the NRI denominator; completers' N)."""
    sel_sql, params = select(population, **filters).sql
    sizes = {arm: 0 for arm in ARMS}
    sizes.update(arm_counts(study, sel_sql, params))  # a fact of the open study, asked once
    return sizes


def category_label(category: str, lang: str = "en") -> str:
    return t(f"category.{category}", lang)


def method_text(population: str, lang: str) -> str:
    return t(f"da.method.{population}", lang)


def footnote_text(population: str, lang: str) -> str:
    parts = [t("da.footnote.categories", lang), t(f"da.footnote.{population}", lang)]
    return " ".join(parts)


def disease_activity(study, population: str = "completers", lang: str = "en",
                     **filters) -> pd.DataFrame:
    """Subjects per arm, time point and DAS28-ESR category.

    Parameters
    ----------
    study : Study
    population : ``completers`` or ``nri``
    lang : ``en`` or ``zh`` (for ``attrs``)
    **filters : subgroup filters of :func:`analytics.population.select`

    Returns
    -------
    DataFrame with columns ``arm, timepoint, years, category, count, n, percent``: one row per
    arm, time point (BL and every post-baseline visit, in visit order) and category of
    :func:`categories_for` (zero counts included). ``n`` is the subjects counted at the time point
    (completers: observed there; NRI: the whole arm), ``percent`` = count / n × 100 (NaN when n = 0).
    """
    cats = categories_for(population)
    check_population(population)
    sql, params = categories_sql(population, VISITS, **filters)
    # counted in SQL: the per-subject rows never leave DuckDB (completers: observed ones only)
    observed = ", ".join("?" for _ in OBSERVED_CATEGORIES)
    kept = f"WHERE category IN ({observed})" if population == "completers" else ""
    rows = study.query(
        f"SELECT arm, timepoint, category, count(*) AS count FROM ({sql}) {kept} "
        f"GROUP BY arm, timepoint, category",
        params + (list(OBSERVED_CATEGORIES) if kept else []))
    grid, count = count_grid(
        dict(zip(zip(*(rows[c].tolist() for c in ("arm", "timepoint", "category"))),
                 rows["count"].tolist())), ARMS, VISITS, cats)
    n = np.repeat(count.reshape(-1, len(cats)).sum(axis=1), len(cats))  # per arm, time point
    df = pd.DataFrame({
        "arm": [key[0] for key in grid], "timepoint": [key[1] for key in grid],
        "years": np.array([VISIT_MONTHS[key[1]] for key in grid]) / 12.0,
        "category": [key[2] for key in grid], "count": count, "n": n,
        "percent": percent_of(count, n)})
    sizes = arm_sizes(study, population, **filters)
    return annotate(df, study, lang=lang, title=t("da.distribution.title", lang),
                    population=population, n_per_arm=sizes,
                    method=method_text(population, lang),
                    footnote=footnote_text(population, lang), categories=list(cats),
                    filters=filters)


def activity_display(df: pd.DataFrame, columns: list[str], lang: str = "en") -> pd.DataFrame:
    """The frame as shown: translated values and headers, rounded percentages (no computing)."""
    out = df[columns].copy()
    if "arm" in out:
        out["arm"] = [t(f"arm.{v}", lang) for v in out["arm"]]
    for col in ("timepoint", "from_timepoint", "to_timepoint"):
        if col in out:
            out[col] = [t(f"visit.{v}", lang) for v in out[col]]
    for col in ("category", "from_category", "to_category"):
        if col in out:
            out[col] = [t(f"category.{v}", lang) for v in out[col]]
    for col in ("percent", "row_percent"):
        if col in out:
            out[col] = out[col].round(1)
    return out.rename(columns={c: t(f"da.col.{c}", lang) for c in columns})
