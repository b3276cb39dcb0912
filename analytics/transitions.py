"""Transitions between DAS28-ESR categories from one time point to another, and the flows
between consecutive chosen time points (for a Sankey diagram).

The per-subject categories are those of :func:`analytics.disease_activity.subject_categories`
(the same SQL, counted in DuckDB here), so the category logic is the same as the cross-sectional
counts:

* **Completers**: only subjects with an observed DAS28-ESR at *both* time points of a pair.
* **NRI**: every subject of the arm; without an observed DAS28-ESR a subject is ``withdrawn``
  (withdrew before the visit's nominal day) or ``missing``, at either end of a pair.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .annotate import annotate
from .disease_activity import (OBSERVED_CATEGORIES, arm_sizes, categories_for, categories_sql,
                               check_population, check_timepoints, count_grid, footnote_text,
                               method_text, percent_of)
from .i18n import t
from .schema import ARMS, VISIT_MONTHS

TRANSITION_COLUMNS = ["arm", "from_timepoint", "to_timepoint", "from_category", "to_category",
                      "count", "n", "percent", "row_percent"]


def _pair_counts_by_step(study, population: str, timepoints: list[str], **filters
                         ) -> list[pd.DataFrame]:
    """The :func:`_pair_counts` grid of each consecutive pair of ``timepoints`` (in visit
    order), counted in one query: the per-subject categories never leave DuckDB."""
    pairs = list(zip(timepoints[:-1], timepoints[1:]))
    sql, params = categories_sql(population, timepoints, **filters)
    values = ", ".join("(?, ?, ?)" for _ in pairs)
    observed = ", ".join("?" for _ in OBSERVED_CATEGORIES)
    # Inner join: under completers only those observed at both; under NRI everyone is on both.
    kept = (f"WHERE a.category IN ({observed}) AND b.category IN ({observed})"
            if population == "completers" else "")
    counts = study.query(f"""
        WITH per_subject AS ({sql}),
        pairs(step, from_tp, to_tp) AS (VALUES {values})
        SELECT p.step, a.arm, a.category AS category_from, b.category AS category_to,
               count(*) AS count
        FROM pairs p
        JOIN per_subject a ON a.timepoint = p.from_tp
        JOIN per_subject b ON b.subject_id = a.subject_id AND b.timepoint = p.to_tp
        {kept}
        GROUP BY p.step, a.arm, a.category, b.category""",
        [*params, *[v for step, (a, b) in enumerate(pairs) for v in (step, a, b)],
         *(OBSERVED_CATEGORIES * 2 if kept else ())])
    # subjects per step and (arm, category at the start, category at the end), one pass
    by_step: dict = {}
    for step, arm, start, end, count in zip(*(counts[c].tolist() for c in (
            "step", "arm", "category_from", "category_to", "count"))):
        by_step.setdefault(step, {})[(arm, start, end)] = count
    return [_pair_counts(by_step.get(step, {}), population, a, b)
            for step, (a, b) in enumerate(pairs)]


def _pair_counts(counts: dict, population: str, from_tp: str, to_tp: str) -> pd.DataFrame:
    """Full grid arm × from_category × to_category of ``counts`` (subjects per arm, category at
    ``from_tp`` and category at ``to_tp``: ``{(arm, from, to): count}``, zero where absent) for
    one pair of time points. Built from arrays: a frame reindexed and grouped per pair cost
    more than the query."""
    cats = categories_for(population)
    grid, count = count_grid(counts, ARMS, cats, cats)
    # subjects per arm (n), and per arm and starting category (a row of the matrix)
    n = np.repeat(count.reshape(len(ARMS), -1).sum(axis=1), len(cats) * len(cats))
    row_n = np.repeat(count.reshape(-1, len(cats)).sum(axis=1), len(cats))
    return pd.DataFrame({
        "arm": [key[0] for key in grid], "from_timepoint": from_tp, "to_timepoint": to_tp,
        "from_category": [key[1] for key in grid], "to_category": [key[2] for key in grid],
        "count": count, "n": n, "percent": percent_of(count, n),
        "row_percent": percent_of(count, row_n),
    }, columns=TRANSITION_COLUMNS)


def _tp_label(tp: str, lang: str) -> str:
    return t(f"visit.{tp}", lang)


def transitions(study, population: str, from_timepoint: str, to_timepoint: str,
                lang: str = "en", **filters) -> pd.DataFrame:
    """Subjects per arm moving from a category at ``from_timepoint`` to one at ``to_timepoint``.

    Returns
    -------
    DataFrame with columns ``arm, from_timepoint, to_timepoint, from_category, to_category,
    count, n, percent, row_percent``: the full grid of categories (zeros included; under NRI the
    grid includes ``withdrawn`` and ``missing``). ``n`` is the subjects counted in the arm
    (completers: observed at both time points; NRI: the whole arm); ``percent`` = count / n × 100;
    ``row_percent`` = count / (subjects in ``from_category``) × 100.
    """
    check_population(population)
    for tp in (from_timepoint, to_timepoint):
        check_timepoints([tp])
    if VISIT_MONTHS[from_timepoint] >= VISIT_MONTHS[to_timepoint]:
        raise ValueError(f"from_timepoint {from_timepoint!r} must come before "
                         f"to_timepoint {to_timepoint!r}")
    [df] = _pair_counts_by_step(study, population, [from_timepoint, to_timepoint], **filters)
    n_per_arm = df.groupby("arm")["count"].sum().to_dict()
    if population == "nri":
        n_per_arm = arm_sizes(study, population, **filters)
    title = t("da.transitions.title", lang, start=_tp_label(from_timepoint, lang),
              end=_tp_label(to_timepoint, lang))
    return annotate(df, study, lang=lang, title=title, population=population,
                    filters=filters, n_per_arm=n_per_arm, method=method_text(population, lang),
                    footnote=" ".join([footnote_text(population, lang),
                                       t(f"da.footnote.transitions.{population}", lang)]),
                    categories=list(categories_for(population)),
                    from_timepoint=from_timepoint, to_timepoint=to_timepoint,
                    timepoint=to_timepoint)


def flows(study, population: str, timepoints: list, lang: str = "en",
          **filters) -> pd.DataFrame:
    """Per arm, the links between consecutive chosen time points (for a Sankey diagram).

    ``timepoints`` are visit codes (sorted into visit order, duplicates dropped; at least two).
    Each consecutive pair is counted exactly as :func:`transitions` counts it, so under
    completers a pair counts the subjects observed at both of its time points.

    Returns
    -------
    DataFrame with columns ``arm, step, from_timepoint, to_timepoint, from_category,
    to_category, count, n, percent, row_percent``; ``step`` is 0 for the first pair. Only links
    with a count > 0 are kept.
    """
    check_population(population)
    timepoints = check_timepoints(timepoints)
    if len(timepoints) < 2:
        raise ValueError("flows need at least two distinct time points")
    parts = _pair_counts_by_step(study, population, timepoints, **filters)
    for step, pair in enumerate(parts):
        pair.insert(1, "step", step)
    df = pd.concat(parts, ignore_index=True)
    df = df[df["count"] > 0].reset_index(drop=True)
    n_per_arm = arm_sizes(study, population, **filters)
    title = t("da.flows.title", lang,
              timepoints=" → ".join(_tp_label(tp, lang) for tp in timepoints))
    return annotate(df, study, lang=lang, title=title, population=population,
                    filters=filters, n_per_arm=n_per_arm, method=method_text(population, lang),
                    footnote=" ".join([footnote_text(population, lang),
                                       t(f"da.footnote.flows.{population}", lang)]),
                    categories=list(categories_for(population)), timepoints=timepoints)
