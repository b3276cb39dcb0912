"""The published figures (and the chosen values beside them) from ``data/published_figures.csv``.

The synthetic cohort is calibrated to this file and the reconciliation page compares the
dashboard's computed values against it; no analysis reads a result from it.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pandas as pd

PUBLISHED_PATH = Path(__file__).resolve().parent.parent / "data" / "published_figures.csv"


@lru_cache(maxsize=1)
def published_figures() -> pd.DataFrame:
    """Every row: group, figure, arm, timepoint, statistic, value, decimals, source, note."""
    df = pd.read_csv(PUBLISHED_PATH, dtype=str, keep_default_na=False)
    df["decimals"] = df["decimals"].astype(int)
    return df


def figure_value(group: str, figure: str, arm: str, statistic: str, timepoint: str = "") -> float:
    """One numeric value (p-value rows such as '>0.999' are not numeric: use the frame)."""
    df = published_figures()
    hit = df[(df.group == group) & (df.figure == figure) & (df.arm == arm)
             & (df.statistic == statistic) & (df.timepoint == timepoint)]
    if len(hit) != 1:
        raise KeyError(f"{len(hit)} rows for {group}/{figure}/{arm}/{timepoint}/{statistic}")
    return float(hit.value.iloc[0])
