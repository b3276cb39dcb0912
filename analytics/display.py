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
    out.attrs = {}  # set below; meanwhile each column taken would deep-copy them
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


# (singular, plural) message keys of each unit
_WEEKS = ("common.week", "common.weeks")
_MONTHS = ("common.month", "common.months")
_YEARS = ("common.year", "common.years")


def fmt_duration(years: float, lang: str, decimals: int = 2, fine: bool = False) -> str:
    """A time given in years, as a reader says it: under 3 months in weeks, under a year in
    months, else in years ("4 weeks", "6 months", "1 year", "2.46 years"; 周/个月/年).

    Weeks are whole and months have one decimal (``fine``: one more, for a table of event
    times); years have ``decimals``. A whole number shows none."""
    if years is None or not math.isfinite(years):
        return t("common.missing_value", lang)
    if years < 3 / MONTHS_PER_YEAR:
        keys, value, places = _WEEKS, years * WEEKS_PER_YEAR, int(fine)
    elif years < 1:
        keys, value, places = _MONTHS, years * MONTHS_PER_YEAR, 1 + int(fine)
    else:
        keys, value, places = _YEARS, years, decimals
    if abs(value - round(value)) < 1e-9:
        places = 0
    number = fmt_number(value, places, lang)
    # "1 week", "1 month", "1 year": English agrees in number (Chinese has one form)
    return t(keys[0] if number == "1" else keys[1], lang, n=number)
