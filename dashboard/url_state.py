"""The view's state in the session and in the URL.

Global filters keep a canonical value in session state (``filter_<url name>``) apart from their
widgets (``w_<url name>``), so they persist from page to page. A view's own controls keep their
value in their widget's key; on arrival at a view they start from the URL (a shared link), later
from their defaults. Every run writes the whole state back to the URL, non-default values only.
"""
from __future__ import annotations

import dataclasses
from urllib.parse import urlsplit

import streamlit as st

from analytics.views import GLOBAL_CONTROLS, View, ViewState, resolve

from . import links

STATE = "filter_"
LAST_VIEW = "_view_shown"  # the view of the previous run: a different one means arrival
# widget keys of the view's choices kept by the page while their widgets were not drawn (a
# closed tab; dashboard.render)
KEPT = "_choices_kept"


def _from_url(control, study, values: dict):
    """The URL's value of ``control``; one it does not recognise gives way to the default, and
    the reader is told (a global filter: :mod:`dashboard.links`)."""
    text = st.query_params.get(control.url)
    value = None if text is None else control.decode(text, study, values)
    default = control.default_value(study, values)
    if value is None and text is not None and control in GLOBAL_CONTROLS:
        links.checked(control.url, text, default, ())
    return default if value is None else value


def current_language() -> str:
    """The chosen language, before the sidebar is drawn (for the page menu)."""
    lang = GLOBAL_CONTROLS[0]
    return st.session_state.get(STATE + lang.url) or _from_url(lang, None, {})


def seed_globals(study) -> dict:
    """The global filter values (canonical state first, else the URL); their widgets are
    re-seeded because Streamlit drops the state of widgets not drawn in a run."""
    values: dict = {}
    for control in GLOBAL_CONTROLS:
        held = st.session_state.get(STATE + control.url)
        if held is None or not control.valid(held, study, values):  # first run, other study
            st.session_state[STATE + control.url] = _from_url(control, study, values)
        st.session_state[control.widget_key] = st.session_state[STATE + control.url]
        values[control.key] = st.session_state[STATE + control.url]
    return values


def sync_global(url_name: str, widget_key: str) -> None:
    st.session_state[STATE + url_name] = st.session_state[widget_key]


def seed_view(view: View, study, values: dict) -> ViewState:
    """The view's state: each control's widget value, seeded on arrival from the URL and
    otherwise (a control whose widget key changed with another choice) from its default."""
    arrival = st.session_state.get(LAST_VIEW) != view.key
    values, replaced = dict(values), {}
    for control in view.controls:
        key = control.widget_name(view.key, values)
        value = st.session_state.get(key)
        if value is not None and not control.valid(value, study, values):
            replaced[control.key] = value  # e.g. an endpoint another population does not have
            value = None
        if value is None:
            value = (_from_url(control, study, values) if arrival
                     else control.default_value(study, values))
            st.session_state[key] = value
        elif key in st.session_state.get(KEPT, ()):
            # kept by the page, not by a widget: set again in the run that may draw the widget,
            # so that the browser's widget shows it (not the widget's first option)
            st.session_state[key] = value
        values[control.key] = control.normal(value)
    st.session_state[LAST_VIEW] = view.key
    return dataclasses.replace(resolve(view.key, study, values), replaced=replaced)


def write_url(state: ViewState) -> None:
    from .study_source import study_query
    st.query_params.from_dict(study_query(state.query()))


def state_address(state: ViewState) -> str:
    """``state``'s address (``path?query``) with the chosen study (``study=<slug>``)."""
    from urllib.parse import urlencode

    from .study_source import study_query
    path, _, _ = state.address().partition("?")
    query = urlencode(study_query(state.query()))
    return f"{path}?{query}" if query else path


def canonical_url(state: ViewState) -> str:
    """The address of ``state`` on this server: the app's origin and base path, the view's own
    path (never a mistyped one) and the non-default values. Relative without a browser."""
    try:
        base = st.context.url
    except Exception:  # noqa: BLE001 - older Streamlit or no browser session
        base = None
    if not base:
        return state_address(state)
    parts = urlsplit(base)
    root = "/".join(p for p in (st.get_option("server.baseUrlPath") or "").split("/") if p)
    prefix = f"{parts.scheme}://{parts.netloc}/" + (f"{root}/" if root else "")
    return prefix + state_address(state)


def requested_path() -> str | None:
    """The page path of the browser's address, when known."""
    try:
        url = st.context.url
    except Exception:  # noqa: BLE001
        return None
    if not url:
        return None
    root = [p for p in (st.get_option("server.baseUrlPath") or "").split("/") if p]
    parts = [p for p in urlsplit(url).path.split("/") if p][len(root):]
    # page paths are one segment; the last is the page asked for
    return parts[-1] if parts else ""

