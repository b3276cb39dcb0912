"""Listing of serious adverse events: subject, term, onset day, severity, outcome."""
import streamlit as st

from analytics import safety
from dashboard import ui

ctx = ui.context()
ui.page_header(ctx, "nav.sae_listing", safety=True)
st.caption(ctx.t("safety.population_note"))

n_years = safety.follow_up_years(ctx.study)
start, end = st.select_slider(ctx.t("safety.widget.window"), options=list(range(n_years + 1)),
                              value=(0, n_years), key="sae_listing_window",
                              help=ctx.t("safety.widget.window.help"))
if start == end:
    st.info(ctx.t("safety.window.empty"))
    st.stop()
years = None if (start, end) == (0, n_years) else (start, end)

listing = ctx.study.sae_listing(years=years, lang=ctx.lang, **ctx.filters)
if listing.empty:
    st.info(ctx.t("safety.empty_sae"))
ui.show_table(ctx, listing, "sae_listing", display=safety.listing_display(listing))
