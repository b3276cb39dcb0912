"""Drawing a control, a table and a figure (with their downloads and "Show code")."""
from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from analytics import export
from analytics.annotate import caption
from analytics.charts.theme import plain_dict
from analytics.code import snippet
from analytics.i18n import os_reason, t
from analytics.study import DEFAULT_STUDY_PATH
from analytics.views import Control


def control_widget(control: Control, view_key: str, values: dict, study, lang: str,
                   container=st, on_change=None, args=()):
    """The widget of ``control``; its value lives in session state under its widget key."""
    key = control.widget_name(view_key, values)
    label = t(control.label, lang)
    params = control.help_args(values, lang) if control.help_args else {}
    help_text = t(control.help, lang, **params) if control.help else None

    def fmt(value) -> str:
        return control.label_of(value, lang, study)
    common = dict(key=key, help=help_text, on_change=on_change, args=args)
    if control.widget == "toggle":
        return container.toggle(label, **common)
    if control.widget == "number":
        low, high, step = control.bounds
        return container.number_input(label, min_value=low, max_value=high, step=step, **common)
    options = list(control.listed_values(study, values))
    held = st.session_state.get(key)
    if control.listed and held is not None and held not in options:
        options.insert(0, held)  # a valid value the list leaves out (a linked subject)
    if control.widget == "selectbox":
        return container.selectbox(label, options, format_func=fmt, **common)
    if control.widget == "radio":
        return container.radio(label, options, format_func=fmt, horizontal=control.horizontal,
                               **common)
    if control.widget == "multiselect":
        return container.multiselect(label, options, format_func=fmt, **common)
    if control.widget == "window":
        # a range slider only when given a pair; the session value (seeded) wins over it
        return container.select_slider(label, options=options,
                                       value=tuple(control.default_value(study, values)),
                                       **common)
    raise ValueError(f"unknown widget {control.widget!r}")


_LOG = logging.getLogger(__name__)


def export_error(lang: str, exc: Exception) -> str:
    """What a reader is told when an image, deck or report could not be made: the cause in
    their language (an operating-system error's, else the error's name), the details, often in
    the renderer's English, in the server's log."""
    if isinstance(exc, export.ExportUnavailable):
        return t("export.no_browser", lang, path=str(export.CHROMIUM_PATH))
    _LOG.error("static export failed", exc_info=exc)
    reason = os_reason(exc, lang) if isinstance(exc, OSError) and exc.errno else \
        type(exc).__name__
    return t("export.failed", lang, error=reason)


def code_snippet(study_path, df: pd.DataFrame) -> str | None:
    """The Python that rebuilds ``df`` from the study file, or None without a recorded call."""
    call = df.attrs.get("call")
    if not call:
        return None
    path = Path(study_path)
    default = path.resolve() == DEFAULT_STUDY_PATH.resolve()
    return snippet(call, None if default else path)


def show_code(ctx, df: pd.DataFrame) -> str | None:
    """A "Show code" expander with the analytics calls that rebuild ``df``."""
    code = code_snippet(ctx.study.path, df)
    if code:
        with st.expander(ctx.t("show_code.expander")):
            st.caption(ctx.t("show_code.help"))
            st.code(code, language="python")
    return code


def table_columns(shown: pd.DataFrame) -> dict:
    """Every column visible at any width: the first (the row's label) pinned while the rest
    scroll horizontally, each at least as wide as its header."""
    config = {}
    for i, col in enumerate(shown.columns):
        config[str(col)] = st.column_config.Column(pinned=True if i == 0 else None)
    return config


def download_row():
    """A row whose buttons take the width of their label (never cut), wrapping when narrow."""
    return st.container(horizontal=True, gap="small")


def show_table(ctx, df: pd.DataFrame, key: str, display: pd.DataFrame | None = None,
               column_config: dict | None = None, selectable: bool = False):
    """A result table with its caption and CSV/XLSX downloads of the same frame; with
    ``selectable``, rows can be selected and the selection event is returned."""
    # the title and the caution take their place even when absent (st.empty), so that the
    # table keeps its own: an element the browser sees moved is built again from nothing
    if df.attrs.get("title"):
        st.markdown(f"**{df.attrs['title']}**")
    else:
        st.empty()
    if df.attrs.get("caution"):  # a small arm: say so above the numbers, not only in the caption
        st.warning(df.attrs["caution"], icon="⚠️")
    else:
        st.empty()
    shown = display if display is not None else df
    selection = dict(on_select="rerun", selection_mode="multi-row") if selectable else {}
    event = st.dataframe(shown, hide_index=True, key=f"tbl_{key}",
                         column_config={**table_columns(shown), **(column_config or {})},
                         **selection)
    st.caption(caption(df.attrs))
    # the files are built only when a button is clicked (Streamlit runs the callable then),
    # never on every re-run of the page
    with download_row():
        st.download_button(ctx.t("download.csv"), lambda: export.table_csv(df, shown),
                           file_name=f"{key}.csv", mime="text/csv", key=f"csv_{key}",
                           on_click="ignore")
        st.download_button(ctx.t("download.xlsx"), lambda: export.table_xlsx(df, shown),
                           file_name=f"{key}.xlsx", key=f"xlsx_{key}", on_click="ignore",
                           mime="application/vnd.openxmlformats-officedocument."
                                "spreadsheetml.sheet")
    show_code(ctx, df)
    return event if selectable else None


def _fig_signature(fig) -> str:
    return hashlib.sha1(fig.to_json().encode("utf-8")).hexdigest()


class _Drawn(go.Figure):
    """``fig`` as st.plotly_chart takes it: a go.Figure (so it is not validated again) whose
    ``to_dict``, all that Streamlit asks of it, is :func:`plain_dict` (no deep copy)."""

    def __init__(self, fig: go.Figure):  # noqa: D107 - no plotly state: only to_dict is used
        object.__setattr__(self, "_drawn", fig)

    def to_dict(self) -> dict:
        return plain_dict(self._drawn)


def show_chart(ctx, fig, key: str, df: pd.DataFrame | None = None,
               selection: tuple[str, ...] = ()):
    """A plotly figure (its caption is drawn inside the figure by the chart builder), with PNG
    (2×) and SVG downloads rendered on request, and "Show code" when ``df`` (the frame the
    chart is drawn from) is given. With ``selection`` modes (points, box, lasso) the reader
    can select in it, and the selection event is returned."""
    chosen = dict(on_select="rerun", selection_mode=selection) if selection else {}
    # theme=None: the screen shows the figure as its PNG, SVG and slide show it (the house
    # theme, larger type for a projector); Streamlit's theme, restyling every chart anew in
    # the browser, cost 25-30 ms per chart per click (issue 13)
    event = st.plotly_chart(_Drawn(fig), key=f"fig_{key}", config={"displaylogo": False},
                            theme=None, **chosen)
    held_key = f"_img_{key}"
    row = download_row()
    c1 = c2 = c3 = row
    if c1.button(ctx.t("export.prepare_images"), key=f"prep_{key}"):
        try:
            with st.spinner(ctx.t("export.preparing")):
                png, svg = export.figure_png_svg(fig, scale=2)
            st.session_state[held_key] = (_fig_signature(fig), png, svg)
        except Exception as exc:  # noqa: BLE001 - shown to the user
            st.session_state.pop(held_key, None)
            st.error(export_error(ctx.lang, exc))
    held = st.session_state.get(held_key)
    if held and held[0] == _fig_signature(fig):
        c2.download_button(ctx.t("export.png"), held[1], file_name=f"{key}.png",
                           mime="image/png", key=f"png_{key}", on_click="ignore")
        c3.download_button(ctx.t("export.svg"), held[2], file_name=f"{key}.svg",
                           mime="image/svg+xml", key=f"svg_{key}", on_click="ignore")
    if df is not None:
        show_code(ctx, df)
    return event if selection else None
