"""Adverse events by MedDRA system organ class or preferred term: rates per arm and rate ratios."""
import streamlit as st

from analytics import safety
from analytics.charts.safety import term_rates_figure
from dashboard import ui

ctx = ui.context()
ui.page_header(ctx, "nav.ae_terms", safety=True)
st.caption(ctx.t("safety.population_note"))

c1, c2, c3 = st.columns([2, 2, 1])
by = c1.radio(ctx.t("safety.widget.by"), safety.TERM_LEVELS, key="ae_terms_by",
              format_func=lambda v: ctx.t(f"safety.widget.by.{v}"), horizontal=True)
serious_only = c2.toggle(ctx.t("safety.widget.serious_only"), value=False,
                         key="ae_terms_serious")
top = c3.number_input(ctx.t("safety.widget.top"), min_value=5, max_value=60, value=20, step=5,
                      key="ae_terms_top")

n_years = safety.follow_up_years(ctx.study)
start, end = st.select_slider(ctx.t("safety.widget.window"), options=list(range(n_years + 1)),
                              value=(0, n_years), key="ae_terms_window",
                              help=ctx.t("safety.widget.window.help"))
if start == end:
    st.info(ctx.t("safety.window.empty"))
    st.stop()
years = None if (start, end) == (0, n_years) else (start, end)

rates = ctx.study.ae_rates(by=by, serious_only=serious_only, years=years, lang=ctx.lang,
                           **ctx.filters)
if rates.empty:
    st.info(ctx.t("safety.empty"))
    st.stop()
ui.show_chart(ctx, term_rates_figure(rates, top=int(top)), f"ae_{by}")
ui.show_table(ctx, rates, f"ae_rates_{by}", display=safety.terms_display(rates))
