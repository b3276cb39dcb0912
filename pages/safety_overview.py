"""Safety overview: Table 2 (AE rates per 100 patient-years), the rates by year of follow-up and
the check that the rate is constant over follow-up (Poisson trend)."""
import streamlit as st

from analytics import safety
from analytics.charts.safety import rates_by_year_figure
from analytics.safety_trend import trend_display
from dashboard import ui

ctx = ui.context()
years = ui.safety_page(ctx, "nav.safety_overview", "safety_overview_window")

st.subheader(ctx.t("safety.section.summary"))
summary = ctx.study.ae_summary(years=years, lang=ctx.lang, **ctx.filters)
ui.show_table(ctx, summary, "ae_summary", display=safety.summary_display(summary))

st.subheader(ctx.t("safety.section.by_year"))
by_year = ctx.study.ae_rates_by_year(lang=ctx.lang, **ctx.filters)
ui.show_chart(ctx, rates_by_year_figure(by_year), "ae_by_year")
ui.show_table(ctx, by_year, "ae_by_year", display=safety.by_year_display(by_year))

st.subheader(ctx.t("safety.section.trend"))
trend = ctx.study.ae_rate_trend(lang=ctx.lang, **ctx.filters)
ui.show_table(ctx, trend, "ae_rate_trend", display=trend_display(trend))
