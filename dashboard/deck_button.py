"""The sidebar's slide deck: the view on screen in its current state, plus other views at their
defaults under the same filters, in one click."""
from __future__ import annotations

import streamlit as st

from analytics import views

from .widgets import export_error

DECK = "_deck"  # session key: (signature, PPTX bytes) of the last deck built


def deck_block(ctx) -> None:
    st.markdown(f"**{ctx.t('deck.header')}**")
    keys = list(views.PAGE_KEYS) + [k for k in views.VIEWS if k not in views.PAGE_KEYS]
    pages = st.multiselect(ctx.t("deck.pages"), keys, default=[ctx.state.view],
                           key="deck_pages", format_func=lambda k: views.page_title(k, ctx.lang))
    states = [ctx.state if key == ctx.state.view else
              views.default_state(key, ctx.study, lang=ctx.lang, population=ctx.population,
                                  timepoint=ctx.timepoint, filters=ctx.filters)
              for key in pages]
    signature = (tuple(s.address() for s in states), ctx.lang, str(ctx.study.path))
    if st.button(ctx.t("deck.build"), key="deck_build", disabled=not pages):
        from analytics.deck import build_deck
        try:
            with st.spinner(ctx.t("deck.building")):
                data = build_deck(ctx.study, ctx.lang, states=states)
            st.session_state[DECK] = (signature, data)
        except Exception as exc:  # noqa: BLE001 - shown to the user, not swallowed
            st.error(export_error(ctx.lang, exc))
    if not pages:
        st.caption(ctx.t("deck.no_pages"))
    held = st.session_state.get(DECK)
    if held and held[0] == signature:
        st.download_button(
            ctx.t("deck.download"), held[1],
            file_name=f"msc-ra-{ctx.lang}-{ctx.state.view}.pptx",
            mime="application/vnd.openxmlformats-officedocument.presentationml.presentation",
            key="deck_download", on_click="ignore")
