"""Adverse events by MedDRA system organ class or preferred term: rates per arm and rate ratios."""
import streamlit as st

from analytics import safety
from analytics.charts.safety import term_rates_figure
from dashboard import ui

ctx = ui.context()
years = ui.safety_page(ctx, "nav.ae_terms", "ae_terms_window")

c1, c2, c3 = st.columns([2, 2, 1])
by = c1.radio(ctx.t("safety.widget.by"), safety.TERM_LEVELS, key="ae_terms_by",
              format_func=lambda v: ctx.t(f"safety.widget.by.{v}"), horizontal=True)
serious_only = c2.toggle(ctx.t("safety.widget.serious_only"), value=False,
                         key="ae_terms_serious")
top = c3.number_input(ctx.t("safety.widget.top"), min_value=5, max_value=60, value=20, step=5,
                      key="ae_terms_top")

rates = ctx.study.ae_rates(by=by, serious_only=serious_only, years=years, lang=ctx.lang,
                           **ctx.filters)
if rates.empty:
    st.info(ctx.t("safety.empty"))
    st.stop()
ui.show_chart(ctx, term_rates_figure(rates, top=int(top)), f"ae_{by}")
ui.show_table(ctx, rates, f"ae_rates_{by}", display=safety.terms_display(rates))
