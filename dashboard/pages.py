"""The dashboard's pages, in menu order, all from the view registry (:mod:`analytics.views`).

Every view is a page drawn by :func:`dashboard.render.render`; the Report page follows. Nothing
here names a view: adding a view to the registry adds its page, its menu entry and its address.
An address that names no page is served by a hidden page at that very path, so Streamlit's own
(English) "Page not found" dialog never appears; it says so in the chosen language, lists the
pages and shows the default page below. "Load a study" is last, in the menu only for a user who may manage studies.
"""
from __future__ import annotations

from typing import Callable

import streamlit as st

from analytics.i18n import t
from analytics.views import VIEWS

REPORT = ("report", "nav.report", "report")
LOAD_STUDY = ("load_study", "nav.load_study", "load-study")
MANAGE_PAGES = {LOAD_STUDY[0]}  # in the menu only for who may manage studies


def pages(manage: bool = True) -> list[tuple[str, str, str]]:
    """(key, title message key, URL path) of every page, in menu order; the first is the
    default page, served at the root. ``manage``: with the pages that manage studies."""
    every = [*((key, view.title_key, view.path) for key, view in VIEWS.items()), REPORT,
             LOAD_STUDY]
    return every if manage else [p for p in every if p[0] not in MANAGE_PAGES]


def _draw(key: str) -> Callable[[], None]:
    def draw() -> None:
        from . import study_source, url_state
        with study_source.finish_or_say_replaced(url_state.current_language()):
            if key == REPORT[0]:
                from .report import report_page
                report_page()
            elif key == LOAD_STUDY[0]:
                from .load_study import load_study_page
                load_study_page()
            else:
                from .render import render
                render(key)
    # Streamlit names a callable page by its function; one name per page
    draw.__name__ = draw.__qualname__ = f"page_{key}"
    return draw


def page_of(key: str):
    """The ``st.Page`` of page ``key``, for ``st.page_link`` (Streamlit matches a page by its URL
    path, so this equals the one in the menu)."""
    for i, (k, title_key, url) in enumerate(pages()):
        if k == key:
            return st.Page(_draw(k), title=k, url_path="" if i == 0 else url, default=(i == 0))
    raise KeyError(key)


def _not_found(requested: str, lang: str, menu: list) -> Callable[[], None]:
    def draw() -> None:
        st.error(t("app.not_found", lang, path=requested))
        with st.container(border=True):
            for page in menu:
                st.page_link(page, label=page.title)
        _draw(pages()[0][0])()  # the default page, whose canonical address "Copy link" gives
    draw.__name__ = draw.__qualname__ = "page_not_found"
    return draw


def navigation_pages(lang: str, requested: str | None) -> list:
    """The ``st.Page`` of every page with its title in ``lang``; plus, when the address asks for
    a path that is no page (``requested``), a hidden page at that path saying so."""
    from .access import can_manage_studies

    listed = pages(manage=can_manage_studies())
    menu = [st.Page(_draw(key), title=t(title_key, lang),
                    # the default page's own path is free for an old link such as /overview
                    url_path="" if i == 0 else url, default=(i == 0))
            for i, (key, title_key, url) in enumerate(listed)]
    default_key, _, default_path = listed[0]
    if requested == default_path:  # the default page by its name: that page, under that path
        menu.append(st.Page(_draw(default_key), title=menu[0].title, url_path=requested,
                            visibility="hidden"))
    elif requested is not None and requested not in {url for _, _, url in listed} | {""}:
        menu.append(st.Page(_not_found(requested, lang, list(menu)), title=requested,
                            url_path=requested, visibility="hidden"))
    return menu
