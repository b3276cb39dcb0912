"""One renderer for every view: the sidebar, the header, the view's blocks, the tools.

A page is ``render("<view key>")``; what it shows comes from the view's description in
:mod:`analytics.views`, drawn block by block.
"""
from __future__ import annotations

import streamlit as st

from analytics.i18n import t
from analytics.views import (VIEWS, Columns, ControlSlot, Expander, Item, Metrics, Note,
                             Tabs, ViewContext, items)
from analytics.views.registry import leaves
from analytics.views.state import GLOBAL_CONTROLS

from . import deck_button, links, report, share, study_source, subject_links, url_state
from .study_switcher import study_switcher
from .widgets import control_widget, show_chart, show_table


def sidebar_filters(study) -> dict:
    """Draw the global filters in the sidebar; return their values (by state key)."""
    values = url_state.seed_globals(study)
    lang = values["lang"]
    with st.sidebar:
        study_switcher(lang)
        for i, control in enumerate(GLOBAL_CONTROLS):
            if control.key == "sex":  # the subgroup filters, under their heading
                st.markdown(f"**{t('filter.subgroups', lang)}**")
            if control.key == "study_id":  # the design choices, below the subgroups
                st.markdown(f"**{t('filter.design', lang)}**")
            control_widget(control, "", values, study, lang, on_change=url_state.sync_global,
                           args=(control.url, control.widget_key))
            if i == 0:  # a new language applies to every label below at once
                lang = st.session_state[url_state.STATE + control.url]
    return {c.key: st.session_state[url_state.STATE + c.url] for c in GLOBAL_CONTROLS}


def plain_page(key: str, title_key: str):
    """The top of a page that is not a view (Report, Load a study): the study, the sidebar's
    switcher and filters, the address (language and study only) and the title. Returns the
    study and the language."""
    study = study_source.page_study(url_state.current_language())
    lang = sidebar_filters(study)["lang"]
    st.query_params.from_dict(study_source.study_query({"lang": lang} if lang != "en" else {}))
    st.session_state[url_state.LAST_VIEW] = key
    st.title(t(title_key, lang))
    return study, lang


def header(view, ctx: ViewContext) -> None:
    """Title, the filters the view applies in words (and those it does not apply), and the
    synthetic-data notice."""
    st.title(ctx.t("overview.title" if view.header == "overview" else view.title_key))
    for line in ctx.header_lines():
        if line:
            st.caption(line)
    synthetic_banner(ctx)
    if view.header == "safety":
        st.caption(ctx.t("safety.population_note"))


def synthetic_banner(ctx) -> None:
    if ctx.study.synthetic:
        st.warning(ctx.t("synthetic.notice"), icon="⚠️")


def _slot(block) -> str | None:
    """The key of the container a block is drawn in: its own item's key, or its first item's
    for an expander or columns; None for a block without an item (a note, a control, metrics).

    A keyed container is one element to the browser wherever it comes on the page: a note that
    appears above it (a filter's caution) does not shift a chart or a table into another place,
    where the browser would build it again from nothing (a data grid: ~100 ms). Streamlit's
    browser side usually keeps it, not always (tests/test_slots.py says how often)."""
    if isinstance(block, Item):
        return f"slot_{block.kind}_{block.key}"
    if isinstance(block, Tabs):
        return f"slot_tabs_{block.control}"
    if not isinstance(block, (Expander, Columns)):
        return None
    inner = items([block])  # the figures and tables in it, in page order
    return f"{_slot(inner[0])}_in_{type(block).__name__.lower()}" if inner else None


def draw(block_list: list, ctx: ViewContext) -> None:
    for block in block_list:
        key = _slot(block)
        if key is None:
            _draw_block(block, ctx)
        else:
            with st.container(key=key):
                _draw_block(block, ctx)


def _draw_block(block, ctx: ViewContext) -> None:
    if isinstance(block, Item):
        if block.kind == "figure":
            event = show_chart(ctx, block.figure, block.key, selection=block.selection)
        else:
            event = show_table(ctx, block.frame, block.key, display=block.display,
                               selectable=block.subjects is not None)
        if block.subjects is not None:
            subject_links.selected_subjects(ctx, block.subjects(event), block.key)
    elif isinstance(block, Note):
        _note(block)
    elif isinstance(block, Metrics):
        _metrics(block)
    elif isinstance(block, ControlSlot):
        view = VIEWS[ctx.state.view]
        cols = st.columns(list(block.widths)) if block.widths else [st] * len(block.keys)
        values = ctx.state.values
        for col, key in zip(cols, block.keys):
            control_widget(view.control(key), view.key, values, ctx.study, ctx.lang, col)
    elif isinstance(block, Columns):
        for col, content in zip(st.columns(block.widths), block.columns):
            with col:
                draw(content, ctx)
    elif isinstance(block, Expander):
        with st.expander(block.label):
            draw(block.blocks, ctx)
    elif isinstance(block, Tabs):
        _tabs(block, ctx)
    else:
        raise TypeError(f"unknown block {block!r}")


def _tabs(block: Tabs, ctx: ViewContext) -> None:
    """The sections' tab bar, and under it the open section, built and drawn alone (a click on
    a tab re-runs the page). The open section is the view's control, kept under its widget key
    like any control's value (so in the URL); the tabs widget, whose value is the shown label,
    is seeded from it on every run, under a key per language (its labels change).

    The section is drawn in a keyed container beside the tab bar, not in the tab: the tab
    container's identity includes its labels, so on a language switch everything in a tab
    would be built again from nothing in the browser (+70-120 ms per click, issue 13)."""
    view = VIEWS[ctx.state.view]
    control = view.control(block.control)
    values = ctx.state.values
    key = control.widget_name(view.key, values)
    sections = list(control.allowed(ctx.study, values))
    labels = [control.label_of(value, ctx.lang) for value in sections]
    tabs_key = f"{key}_tabs_{ctx.lang}"
    st.session_state[tabs_key] = labels[sections.index(values[block.control])]

    def opened() -> None:
        st.session_state[key] = sections[labels.index(st.session_state[tabs_key])]
    st.tabs(labels, key=tabs_key, on_change=opened)
    # the tab panels stay empty (the section is drawn beside them): hidden, so that a screen
    # reader goes from the tab bar to the section, not into an empty panel (style-only HTML
    # takes no room on the page)
    st.html(f'<style>.st-key-{tabs_key} [data-testid="stTabPanel"]{{display:none}}</style>')
    with st.container(key=f"section_{block.control}"):
        draw(block.blocks(values[block.control]), ctx)


def _note(note: Note) -> None:
    if note.style == "success":
        st.success(note.text, icon="✅")
    else:
        getattr(st, note.style)(note.text)


def _metrics(metrics: Metrics) -> None:
    cols = [st] * len(metrics.cells) if metrics.stacked else st.columns(len(metrics.cells))
    for col, (label, value, help_text) in zip(cols, metrics.cells):
        col.metric(label, value, help=help_text)


def render(view_key: str) -> None:
    """Draw the view ``view_key`` in its current state."""
    view = VIEWS[view_key]
    study = study_source.page_study(url_state.current_language())
    values = sidebar_filters(study)
    links.show_notices(values["lang"])
    state = url_state.seed_view(view, study, values)
    url_state.write_url(state)
    ctx = ViewContext(study, state)
    with st.sidebar:
        st.divider()
        share.share_link(ctx)
        report.add_to_report(ctx)
        deck_button.deck_block(ctx)
    header(view, ctx)
    page = study_source.view_blocks(study, state)
    draw(page, ctx)
    _keep_undrawn_choices(view, state, page)


def controls_drawn(block_list: list, values: dict) -> set[str]:
    """The view's controls whose widgets ``block_list`` draws in the state ``values`` (in a
    tab, only the open section's)."""
    return {key for block in leaves(block_list, values=values)
            if isinstance(block, ControlSlot) for key in block.keys}


def _keep_undrawn_choices(view, state, page: list) -> None:
    """A choice whose widget this run did not draw (it is in a closed tab) keeps its value.
    Streamlit drops the state of a widget not drawn in a run, so the tab, opened again, would
    show its default; a value set through session state after the run's widgets is kept, and
    :func:`url_state.seed_view` sets it again in the next run (:data:`url_state.KEPT`), so
    that the browser's widget shows it."""
    drawn = controls_drawn(page, state.values)
    if view.sections is not None:
        drawn.add(view.sections.key)  # the tab bar, drawn by the Tabs block
    kept = {control.widget_name(view.key, state.values): state.values[control.key]
            for control in view.controls if control.key not in drawn}
    for key, value in kept.items():
        st.session_state[key] = value
    st.session_state[url_state.KEPT] = set(kept)
