"""Safety overview: Table 2 (AE rates per 100 patient-years) and the rates by year of follow-up."""
import streamlit as st

from analytics import safety
from analytics.charts.safety import rates_by_year_figure
from dashboard import ui

ctx = ui.context()
ui.page_header(ctx, "nav.safety_overview", safety=True)
st.caption(ctx.t("safety.population_note"))

# Year window over whole years of follow-up (the safety population's longest exposure), so the
# slider keeps its range when a subgroup filter changes.
n_years = safety.follow_up_years(ctx.study)
start, end = st.select_slider(ctx.t("safety.widget.window"), options=list(range(n_years + 1)),
                              value=(0, n_years), key="safety_overview_window",
                              help=ctx.t("safety.widget.window.help"))
if start == end:
    st.info(ctx.t("safety.window.empty"))
    st.stop()
years = None if (start, end) == (0, n_years) else (start, end)

st.subheader(ctx.t("safety.section.summary"))
summary = ctx.study.ae_summary(years=years, lang=ctx.lang, **ctx.filters)
ui.show_table(ctx, summary, "ae_summary", display=safety.summary_display(summary))

st.subheader(ctx.t("safety.section.by_year"))
by_year = ctx.study.ae_rates_by_year(lang=ctx.lang, **ctx.filters)
ui.show_chart(ctx, rates_by_year_figure(by_year), "ae_by_year")
ui.show_table(ctx, by_year, "ae_by_year", display=safety.by_year_display(by_year))
