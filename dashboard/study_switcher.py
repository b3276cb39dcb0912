"""The study switcher (sidebar, every page, above the filters): the default study and every
study built in the data folder, each with its name, build time and content hash. The choice is
part of the session and of the address (``study=<slug>``, see :mod:`dashboard.study_source`);
each switch is a line of the audit log."""
from __future__ import annotations

import streamlit as st

from analytics.i18n import t
from analytics.study_catalog import DEFAULT_SLUG, StudyEntry, list_studies

from . import audit
from .study_source import CHOSEN

WIDGET = "w_study"


def study_name(entry: StudyEntry, lang: str) -> str:
    """The name a reader sees: the built study's own, the default's in the reader's words."""
    if entry.slug != DEFAULT_SLUG:
        return entry.name
    return t("study.default_synthetic" if entry.synthetic else "study.default", lang)


def switch_to(slug: str) -> None:
    """Show study ``slug`` from now on in this session (and say so in the audit log)."""
    entry = next((e for e in list_studies() if e.slug == slug), None)
    if entry is None or st.session_state.get(CHOSEN) == slug:
        return
    st.session_state[CHOSEN] = slug
    audit.record("switch", study=slug, hashes={"content_hash": entry.content_hash})


def _switched() -> None:
    switch_to(st.session_state[WIDGET])


def study_switcher(lang: str) -> None:
    entries = list_studies()
    by_slug = {e.slug: e for e in entries}
    chosen = st.session_state.get(CHOSEN, DEFAULT_SLUG)
    st.session_state[WIDGET] = chosen  # re-seeded: Streamlit drops widgets not drawn in a run
    lines = [t("study.switcher.help", lang)] + [
        f"- {study_name(e, lang)}: {e.built_at or '—'} · `{e.short_hash or '—'}`"
        for e in entries]
    st.selectbox(t("study.switcher", lang), list(by_slug), key=WIDGET, on_change=_switched,
                 format_func=lambda s: study_name(by_slug[s], lang), help="\n".join(lines))
    entry = by_slug.get(chosen)
    if entry is not None and entry.content_hash:
        st.caption(t("study.switcher.caption", lang, built_at=entry.built_at,
                     hash=entry.short_hash))
