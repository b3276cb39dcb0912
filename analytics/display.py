"""How a shown table reads, the same on the page, in the exports and on the slides: a missing
value is a dash (an end date that has not come is "ongoing"), and a time under a year is given in
weeks or months."""
from __future__ import annotations

import math

import pandas as pd

from .i18n import fmt_number, t

WEEKS_PER_YEAR = 365.25 / 7
MONTHS_PER_YEAR = 12


def _missing(value) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def _text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def with_dashes(df: pd.DataFrame, lang: str, ongoing: tuple[str, ...] = ()) -> pd.DataFrame:
    """A copy of ``df`` whose missing cells read "–" (in the ``ongoing`` columns: "ongoing");
    a column with a missing cell becomes text, the others keep their type."""
    out = df.copy()
    for col in out.columns:
        column = out[col]
        missing = [_missing(v) for v in column]
        if not any(missing):
            continue
        word = t("common.ongoing" if col in ongoing else "common.missing_value", lang)
        # one type per column (a table cell is text once a word stands among the numbers)
        out[col] = [word if m else _text(v) for v, m in zip(column, missing)]
    out.attrs = dict(df.attrs)
    return out


def fmt_duration(years: float, lang: str, decimals: int = 2) -> str:
    """A time given in years, as a reader says it: under 3 months in weeks, under a year in
    months, else in years."""
    if years is None or not math.isfinite(years):
        return t("common.missing_value", lang)
    if years < 3 / MONTHS_PER_YEAR:
        return t("common.weeks", lang, n=fmt_number(years * WEEKS_PER_YEAR, 0, lang))
    if years < 1:
        return t("common.months", lang, n=fmt_number(years * MONTHS_PER_YEAR, 1, lang))
    return t("common.years", lang, n=fmt_number(years, decimals, lang))
