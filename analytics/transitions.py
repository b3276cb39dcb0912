"""Transitions between DAS28-ESR categories from one time point to another, and the flows
between consecutive chosen time points (for a Sankey diagram).

The per-subject categories come from :func:`analytics.disease_activity.subject_categories`, so
the category logic is the same as the cross-sectional counts:

* **Completers**: only subjects with an observed DAS28-ESR at *both* time points of a pair.
* **NRI**: every subject of the arm; without an observed DAS28-ESR a subject is ``withdrawn``
  (withdrew before the visit's nominal day) or ``missing``, at either end of a pair.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .annotate import annotate
from .disease_activity import (arm_sizes, categories_for, check_population, check_timepoints,
                               footnote_text, method_text, subject_categories)
from .i18n import t
from .schema import ARMS, VISIT_MONTHS

TRANSITION_COLUMNS = ["arm", "from_timepoint", "to_timepoint", "from_category", "to_category",
                      "count", "n", "percent", "row_percent"]


def _pair_counts(per_subject: pd.DataFrame, population: str,
                 pairs: list[tuple[str, str]]) -> pd.DataFrame:
    """Full grid step × arm × from_category × to_category of counts, step ``i`` for the pair
    ``pairs[i]`` of time points, each pair counted on its own. All pairs in one merge (a merge
    per pair cost most of a Sankey's re-run); a time point may start one pair and end one."""
    cats = categories_for(population)
    starts = {a: step for step, (a, _) in enumerate(pairs)}
    ends = {b: step for step, (_, b) in enumerate(pairs)}
    if len(starts) < len(pairs) or len(ends) < len(pairs):
        raise ValueError(f"a time point starts or ends two pairs: {pairs}")
    rows = per_subject[["subject_id", "arm", "timepoint", "category"]]
    a = rows[rows["timepoint"].isin(starts)]
    a = a.assign(step=a["timepoint"].map(starts))[["subject_id", "step", "arm", "category"]]
    b = rows[rows["timepoint"].isin(ends)]
    b = b.assign(step=b["timepoint"].map(ends))[["subject_id", "step", "category"]]
    # Inner join: under completers only those observed at both; under NRI everyone is on both.
    joined = a.merge(b, on=["subject_id", "step"], suffixes=("_from", "_to"))
    counts = (joined.groupby(["step", "arm", "category_from", "category_to"]).size()
              .rename("count"))
    index = pd.MultiIndex.from_product([range(len(pairs)), ARMS, cats, cats],
                                       names=["step", "arm", "category_from", "category_to"])
    df = counts.reindex(index, fill_value=0).reset_index()
    df = df.rename(columns={"category_from": "from_category", "category_to": "to_category"})
    df["count"] = df["count"].astype(int)
    steps = df["step"].to_numpy()
    df.insert(2, "from_timepoint", np.array([a for a, _ in pairs], dtype=object)[steps])
    df.insert(3, "to_timepoint", np.array([b for _, b in pairs], dtype=object)[steps])
    df["n"] = df.groupby(["step", "arm"])["count"].transform("sum").astype(int)
    df["percent"] = (100.0 * df["count"] / df["n"]).where(df["n"] > 0)
    row_n = df.groupby(["step", "arm", "from_category"])["count"].transform("sum")
    df["row_percent"] = (100.0 * df["count"] / row_n).where(row_n > 0)
    return df


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
    per_subject = subject_categories(study, population, [from_timepoint, to_timepoint],
                                     **filters)
    df = _pair_counts(per_subject, population,
                      [(from_timepoint, to_timepoint)])[TRANSITION_COLUMNS]
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
    per_subject = subject_categories(study, population, timepoints, **filters)
    df = _pair_counts(per_subject, population, list(zip(timepoints[:-1], timepoints[1:])))
    df = df.loc[df["count"] > 0, ["arm", "step", *TRANSITION_COLUMNS[1:]]].reset_index(drop=True)
    n_per_arm = arm_sizes(study, population, **filters)
    title = t("da.flows.title", lang,
              timepoints=" → ".join(_tp_label(tp, lang) for tp in timepoints))
    return annotate(df, study, lang=lang, title=title, population=population,
                    filters=filters, n_per_arm=n_per_arm, method=method_text(population, lang),
                    footnote=" ".join([footnote_text(population, lang),
                                       t(f"da.footnote.flows.{population}", lang)]),
                    categories=list(categories_for(population)), timepoints=timepoints)
