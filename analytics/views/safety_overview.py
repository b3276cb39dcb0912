"""Safety overview: Table 2 (AE rates per 100 patient-years) and the rates by year of follow-up."""
from __future__ import annotations

from .. import safety
from ..charts.safety import rates_by_year_figure
from ..safety_trend import trend_display
from .base import Note, View, figure, table
from .safety_window import window_blocks, window_control


def build(ctx) -> list:
    blocks, years, empty = window_blocks(ctx)
    if empty:
        return blocks
    summary = ctx.study.ae_summary(years=years, lang=ctx.lang, **ctx.filters)
    by_year = ctx.study.ae_rates_by_year(lang=ctx.lang, **ctx.filters)
    trend = ctx.study.ae_rate_trend(lang=ctx.lang, **ctx.filters)
    return blocks + [Note("subheader", ctx.t("safety.section.summary")),
                     table(summary, "ae_summary", safety.summary_display(summary)),
                     Note("subheader", ctx.t("safety.section.by_year")),
                     figure(rates_by_year_figure(by_year), "ae_by_year", by_year),
                     table(by_year, "ae_by_year", safety.by_year_display(by_year)),
                     Note("subheader", ctx.t("safety.section.trend")),
                     table(trend, "ae_rate_trend", trend_display(trend))]


VIEW = View("safety_overview", "safety", (window_control("safety_overview"),), build,
            header="safety")
