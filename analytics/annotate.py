"""What every result frame carries in ``attrs``, and the caption built from it.

``attrs`` keys: ``title``, ``population`` (code), ``population_label``, ``n_per_arm``
(``{"MSC": n, "MSC_IFNG": n}``), ``method``, ``footnote``, ``lang``, and ``synthetic`` when the
study holds the synthetic cohort. Tables, charts, downloads and slides all read the same keys.
"""
from __future__ import annotations

import pandas as pd

from .i18n import t
from .schema import ARMS


def annotate(df: pd.DataFrame, study, *, lang: str, title: str, population: str,
             n_per_arm: dict, method: str, footnote: str = "", **extra) -> pd.DataFrame:
    """Attach the reader-facing metadata to ``df`` (in place) and return it."""
    df.attrs.update(
        title=title,
        population=population,
        population_label=t(f"population.{population}", lang),
        n_per_arm={arm: int(n_per_arm.get(arm, 0)) for arm in ARMS},
        method=method,
        footnote=footnote,
        lang=lang,
        synthetic=bool(getattr(study, "synthetic", False)),
        **extra,
    )
    return df


def caption(attrs: dict) -> str:
    """One paragraph for under a table or figure: population, N per arm, method, footnote."""
    lang = attrs.get("lang", "en")
    n = attrs.get("n_per_arm", {})
    parts = [
        t("caption.population", lang, population=attrs.get("population_label", "")),
        t("footnote.n_per_arm", lang, msc=n.get("MSC", 0), ifng=n.get("MSC_IFNG", 0)),
    ]
    if attrs.get("method"):
        parts.append(t("caption.method", lang, method=attrs["method"]))
    if attrs.get("footnote"):
        parts.append(attrs["footnote"])
    if attrs.get("synthetic"):
        parts.append(t("synthetic.notice", lang))
    return " ".join(p.strip() for p in parts if p)


def arm_counts(study, selection_sql: str, params: list) -> dict:
    """N per arm of a selection of ``subject_info``."""
    rows = study.query(f"SELECT arm, count(*) AS n FROM ({selection_sql}) GROUP BY arm", params)
    return {arm: int(n) for arm, n in zip(rows["arm"], rows["n"])}
