"""What every result frame carries in ``attrs``, and the caption built from it.

``attrs`` keys: ``title``, ``population`` (code), ``population_label``, ``n_per_arm``
(``{"MSC": n, "MSC_IFNG": n}``), ``method``, ``footnote``, ``lang``, ``filters`` (the active
subgroup filters as analytics keywords), ``comparison`` (``all`` | ``randomised``),
``comparison_label`` (in words, naming the trial(s) of the randomised comparison), ``synthetic``
(True when the study holds the synthetic cohort) and ``study`` (file name, study name and build
date, see :func:`analytics.provenance.study_facts`). Tables, charts, downloads and slides all read
the same keys; :mod:`analytics.provenance` turns them into the one line that states the view.
"""
from __future__ import annotations

import pandas as pd

from .i18n import t
from .population import check_filters, randomised_trials
from .provenance import filter_label, source_line, study_facts
from .schema import ARMS


def annotate(df: pd.DataFrame, study, *, lang: str, title: str, population: str,
             n_per_arm: dict, method: str, footnote: str = "", filters: dict | None = None,
             **extra) -> pd.DataFrame:
    """Attach the reader-facing metadata to ``df`` (in place) and return it. ``filters`` are the
    analysis' ``**filters`` (subgroups and ``comparison``), as passed to it."""
    active, comparison = check_filters(**(filters or {}))
    df.attrs.update(
        title=title,
        population=population,
        population_label=t(f"population.{population}", lang),
        n_per_arm={arm: int(n_per_arm.get(arm, 0)) for arm in ARMS},
        method=method,
        footnote=footnote,
        lang=lang,
        synthetic=bool(getattr(study, "synthetic", False)),
        filters=active,
        comparison=comparison,
        comparison_label=comparison_label(study, comparison, lang),
        study=study_facts(study),
        **extra,
    )
    return df


def bare(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` without its ``attrs`` (a shallow copy) for look-ups in it: pandas deep-copies a
    frame's attrs into every frame and column taken from it, which in a loop of look-ups costs
    more than the look-ups themselves."""
    out = df.copy(deep=False)
    out.attrs = {}
    return out


def comparison_label(study, comparison: str, lang: str) -> str:
    """The comparison in words: all subjects (as published), or the randomised comparison
    naming its trial(s) as found in the study file."""
    if comparison == "randomised":
        found = randomised_trials(study) if study is not None else []
        trials = ", ".join(found) or t("comparison.no_trial", lang)
        return t("comparison.randomised", lang, trials=trials)
    return t("comparison.all", lang)


def filter_labels(filters: dict, lang: str) -> list[str]:
    """Each active subgroup filter in words (a trial is named by its id)."""
    return [filter_label(name, value, lang) for name, value in filters.items()]


def caption(attrs: dict) -> str:
    """One paragraph for under a table or figure: the view's source line (population,
    comparison, subgroups, time point or window, N per arm, study file), method, footnote and
    the synthetic-data notice."""
    lang = attrs.get("lang", "en")
    parts = [t("provenance.caption", lang, line=source_line(attrs, lang=lang, synthetic=False))]
    if attrs.get("method"):
        parts.append(t("caption.method", lang, method=attrs["method"]))
    if attrs.get("footnote"):
        parts.append(attrs["footnote"])
    if attrs.get("synthetic"):
        parts.append(t("synthetic.notice", lang))
    return " ".join(p.strip() for p in parts if p)


def arm_counts(study, selection_sql: str, params: list) -> dict:
    """N per arm of a selection of ``subject_info`` (every analysis of a selection asks it: a
    fact of the open study)."""
    rows = study.fact(f"SELECT arm, count(*) AS n FROM ({selection_sql}) GROUP BY arm", params)
    return {arm: int(n) for arm, n in zip(rows["arm"], rows["n"])}
