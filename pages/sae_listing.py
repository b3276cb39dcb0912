"""Listing of serious adverse events: subject, term, onset day, severity, outcome."""
import streamlit as st

from analytics import safety
from dashboard import ui

ctx = ui.context()
years = ui.safety_page(ctx, "nav.sae_listing", "sae_listing_window")

listing = ctx.study.sae_listing(years=years, lang=ctx.lang, **ctx.filters)
if listing.empty:
    st.info(ctx.t("safety.empty_sae"))
ui.show_table(ctx, listing, "sae_listing", display=safety.listing_display(listing))
