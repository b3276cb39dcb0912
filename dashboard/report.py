"""The report basket (like teal.reporter): "Add to report" captures the view on screen, its
state as an address and an optional comment; the Report page lists the cards, reorders and
removes them, and builds the slide deck of exactly those views."""
from __future__ import annotations

import itertools

import streamlit as st

from analytics import views
from analytics.i18n import t

from . import url_state
from .widgets import export_error

CARDS = "report_cards"  # session key: [{"id", "address", "view", "comment"}]
REPORT_DECK = "_report_deck"  # session key: (card addresses and comments, PPTX bytes)
_ids = itertools.count(1)


def cards() -> list[dict]:
    return st.session_state.setdefault(CARDS, [])


def _add(ctx) -> None:
    comment = st.session_state.get("report_comment", "").strip()
    cards().append({"id": next(_ids), "address": url_state.state_address(ctx.state),
                    "view": ctx.state.view,
                    "comment": comment})
    st.session_state["report_comment"] = ""
    st.session_state["_report_added"] = True


def add_to_report(ctx) -> None:
    """Sidebar: an optional comment and the "Add to report" button."""
    st.markdown(f"**{ctx.t('report.header')}**")
    st.text_input(ctx.t("report.comment"), key="report_comment",
                  placeholder=ctx.t("report.comment.placeholder"))
    st.button(ctx.t("report.add"), key="report_add", on_click=_add, args=(ctx,))
    if st.session_state.pop("_report_added", False):
        st.caption(ctx.t("report.added", n=len(cards())))


def _move(index: int, step: int) -> None:
    basket = cards()
    other = index + step
    if 0 <= other < len(basket):
        basket[index], basket[other] = basket[other], basket[index]


def _remove(index: int) -> None:
    del cards()[index]


def report_page() -> None:
    """The Report page: the cards, their order, the deck of exactly them."""
    from .render import plain_page

    study, lang = plain_page("report", "nav.report")
    st.caption(t("report.intro", lang))
    basket = cards()
    if not basket:
        st.info(t("report.empty", lang))
        return
    states = []
    for i, card in enumerate(basket):
        state = views.parse_address(card["address"], study, strict=False)
        state = state.with_values(study, lang=lang)
        states.append(state)
        with st.container(border=True):
            head, up, down, remove = st.columns([8, 1, 1, 1])
            head.markdown(f"**{i + 1}. {views.page_title(state.view, lang)}**")
            head.caption(" ".join(x for x in views.header_lines_of(state, study) if x))
            up.button("↑", key=f"report_up_{card['id']}", help=t("report.up", lang),
                      on_click=_move, args=(i, -1), disabled=i == 0)
            down.button("↓", key=f"report_down_{card['id']}", help=t("report.down", lang),
                        on_click=_move, args=(i, 1), disabled=i == len(basket) - 1)
            remove.button("✕", key=f"report_remove_{card['id']}", help=t("report.remove", lang),
                          on_click=_remove, args=(i,))
            st.code(card["address"], language=None, wrap_lines=True)
            if card["comment"]:
                st.markdown(card["comment"])
    signature = (tuple((c["address"], c["comment"]) for c in basket), lang, str(study.path))
    if st.button(t("report.build", lang), key="report_build"):
        from analytics.deck import build_deck
        try:
            with st.spinner(t("deck.building", lang)):
                data = build_deck(study, lang, states=states,
                                  comments=[c["comment"] for c in basket])
            st.session_state[REPORT_DECK] = (signature, data)
        except Exception as exc:  # noqa: BLE001 - shown to the user
            st.error(export_error(lang, exc))
    held = st.session_state.get(REPORT_DECK)
    if held and held[0] == signature:
        st.download_button(
            t("deck.download", lang), held[1], file_name=f"msc-ra-report-{lang}.pptx",
            mime="application/vnd.openxmlformats-officedocument.presentationml.presentation",
            key="report_download", on_click="ignore")
