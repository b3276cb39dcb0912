"""The subjects a chart selection or selected listing rows point at, each with a link to its
profile (the profile view's canonical address, keeping the global filters)."""
from __future__ import annotations

import streamlit as st

from analytics.annotate import caption
from analytics.profile import PROFILE_VIEW, listing_display, subjects_listing
from analytics.views.patient_profile import profile_state

from .pages import page_of
from .url_state import canonical_url

MAX_LINKS = 20  # page links drawn as buttons; the table links to every subject


def selected_subjects(ctx, subject_ids: list[str], key: str) -> None:
    """Under a selectable figure or table: a hint, or the selected subjects with links."""
    if not subject_ids:
        st.caption(ctx.t("profile.selection.hint"))
        return
    listing = subjects_listing(ctx.study, subject_ids, ctx.population, lang=ctx.lang,
                               **ctx.filters)
    states = [profile_state(ctx.study, ctx.state, s) for s in listing["subject_id"]]
    with st.container(border=True, key=f"subjects_{key}"):
        st.markdown(f"**{listing.attrs['title']}**")
        with st.container(horizontal=True, gap="small"):
            for subject, state in list(zip(listing["subject_id"], states))[:MAX_LINKS]:
                st.page_link(page_of(PROFILE_VIEW), label=subject,
                             query_params=state.query())
        if len(states) > MAX_LINKS:
            st.caption(ctx.t("profile.selection.more", shown=MAX_LINKS, n=len(states)))
        shown = listing_display(listing)
        link = ctx.t("profile.listing.col.link")
        shown[link] = [canonical_url(state) for state in states]
        st.dataframe(shown, hide_index=True, key=f"subjects_tbl_{key}", column_config={
            link: st.column_config.LinkColumn(display_text=ctx.t("profile.selection.open"))})
        st.caption(caption(listing.attrs))
