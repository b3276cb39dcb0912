"""The slide deck of a view: a title slide, then one slide per figure and table of the chosen
pages (python-pptx, 16:9), each with its footnote, readable on a projector.

Figures are PNGs rendered by :mod:`analytics.export` (2×). On a slide the figure's own title and
caption move out of the picture into slide text at projector size (title ≥ 28 pt, footnote
≥ 14 pt); the picture itself is rendered with larger fonts. Tables are native PowerPoint tables,
cut to their first :data:`MAX_TABLE_ROWS` rows with a note. Dark text on white throughout; when
the study is the synthetic cohort every slide carries the synthetic-data label.
"""
from __future__ import annotations

import datetime as _dt
import io
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.enum.text import MSO_ANCHOR, PP_ALIGN
from pptx.util import Emu, Inches, Pt

from . import export, views
from .charts.theme import FONT_FAMILY
from .i18n import t

SLIDE_W, SLIDE_H = Inches(13.333), Inches(7.5)
MARGIN = Inches(0.45)
TITLE_PT, BODY_PT, FOOTNOTE_PT, TABLE_PT, LABEL_PT = 28, 18, 14, 14, 14
MAX_TABLE_ROWS = 14
DARK = RGBColor(0x1A, 0x1A, 0x1A)
MUTED = RGBColor(0x33, 0x33, 0x33)
HEADER_FILL = RGBColor(0xDD, 0xE6, 0xF0)
ZEBRA_FILL = RGBColor(0xF5, 0xF7, 0xFA)
WHITE = RGBColor(0xFF, 0xFF, 0xFF)
LABEL_COLOR = RGBColor(0xA0, 0x30, 0x00)  # dark orange: readable on white
SLIDE_FIG_WIDTH = 1100  # px; at 2× and ~12 in wide, an 18 px font prints at ~14 pt
SLIDE_FIG_MAX_HEIGHT = 560
SLIDE_FIG_FONT = 18


def _latin_font(lang: str) -> str:
    return "Noto Sans CJK SC" if lang == "zh" else "Calibri"


# -- building blocks ------------------------------------------------------------------------------
def _textbox(slide, left, top, width, height, text: str, size: int, *, bold=False,
             color=DARK, align=PP_ALIGN.LEFT, anchor=MSO_ANCHOR.TOP, lang="en"):
    box = slide.shapes.add_textbox(left, top, width, height)
    frame = box.text_frame
    frame.word_wrap = True
    frame.vertical_anchor = anchor
    for side in ("margin_left", "margin_right", "margin_top", "margin_bottom"):
        setattr(frame, side, Inches(0.04))
    for i, line in enumerate(text.split("\n")):
        para = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
        para.alignment = align
        _add_run(para, line, size, bold, color, lang)
    return box


def _add_run(para, text: str, size: float, bold: bool, color, lang: str) -> None:
    run = para.add_run()
    run.text = text
    run.font.size = Pt(size)
    run.font.bold = bold
    run.font.color.rgb = color
    run.font.name = _latin_font(lang)


def _white_background(slide) -> None:
    fill = slide.background.fill
    fill.solid()
    fill.fore_color.rgb = WHITE


def _synthetic_label(slide, lang: str) -> None:
    _textbox(slide, SLIDE_W - MARGIN - Inches(3.2), Inches(0.08), Inches(3.2), Inches(0.4),
             t("synthetic.label", lang), LABEL_PT, bold=True, color=LABEL_COLOR,
             align=PP_ALIGN.RIGHT, lang=lang)


def _new_slide(prs, lang: str, synthetic: bool):
    slide = prs.slides.add_slide(prs.slide_layouts[6])  # blank
    _white_background(slide)
    if synthetic:
        _synthetic_label(slide, lang)
    return slide


def _slide_title(slide, text: str, lang: str) -> None:
    _textbox(slide, MARGIN, Inches(0.4), SLIDE_W - 2 * MARGIN, Inches(0.85), text, TITLE_PT,
             bold=True, anchor=MSO_ANCHOR.MIDDLE, lang=lang)


FOOT_TOP = Inches(6.2)


def _footnote(slide, text: str, lang: str) -> None:
    _textbox(slide, MARGIN, FOOT_TOP, SLIDE_W - 2 * MARGIN, SLIDE_H - FOOT_TOP - Inches(0.15),
             text, FOOTNOTE_PT, color=MUTED, anchor=MSO_ANCHOR.BOTTOM, lang=lang)


# -- figures ------------------------------------------------------------------------------------
def _is_caption(ann) -> bool:
    """The caption annotation that :func:`analytics.charts.theme.finish` adds."""
    return (ann.xref == "paper" and ann.yref == "paper" and ann.y == 0 and ann.yshift == -60
            and ann.showarrow is False)


def slide_figure(fig) -> go.Figure:
    """A copy of ``fig`` for a slide: no title or caption (they become slide text), bigger type."""
    out = go.Figure(fig)
    out.layout.annotations = [a for a in out.layout.annotations if not _is_caption(a)]
    height = min(int(out.layout.height or export.DEFAULT_HEIGHT), SLIDE_FIG_MAX_HEIGHT)
    out.update_layout(title=None, width=SLIDE_FIG_WIDTH, height=height,
                      font=dict(family=FONT_FAMILY, size=SLIDE_FIG_FONT, color="#1a1a1a"),
                      margin=dict(t=60, b=70), paper_bgcolor="white")
    return out


def _figure_slide(prs, item: views.Item, png: bytes, lang: str, synthetic: bool) -> None:
    slide = _new_slide(prs, lang, synthetic)
    _slide_title(slide, item.title, lang)
    top, bottom = Inches(1.3), FOOT_TOP - Inches(0.05)
    box_w, box_h = SLIDE_W - 2 * MARGIN, bottom - top
    pic = slide.shapes.add_picture(io.BytesIO(png), MARGIN, top)
    ratio = min(box_w / pic.width, box_h / pic.height)
    pic.width, pic.height = int(pic.width * ratio), int(pic.height * ratio)
    pic.left = int(MARGIN + (box_w - pic.width) / 2)
    pic.top = int(top)
    _footnote(slide, item.caption, lang)


# -- tables -------------------------------------------------------------------------------------
def _cell_text(value) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "–"
    if isinstance(value, float):
        return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def _table_slide(prs, item: views.Item, lang: str, synthetic: bool) -> None:
    slide = _new_slide(prs, lang, synthetic)
    _slide_title(slide, item.title, lang)
    shown: pd.DataFrame = item.shown
    total = len(shown)
    rows = shown.head(MAX_TABLE_ROWS)
    note = item.caption
    if total > MAX_TABLE_ROWS:
        note = t("deck.truncated", lang, shown=MAX_TABLE_ROWS, total=total) + " " + note
    if total == 0:
        note = t("deck.empty", lang) + " " + note
    top = Inches(1.3)
    width = SLIDE_W - 2 * MARGIN
    n_rows, n_cols = len(rows) + 1, max(1, len(shown.columns))
    row_h = Inches(0.32)
    shape = slide.shapes.add_table(n_rows, n_cols, MARGIN, top, width, row_h * n_rows)
    table = shape.table
    # Column widths by content length (header and shown cells), within bounds.
    lengths = []
    for j, col in enumerate(shown.columns):
        cells = [len(_cell_text(v)) for v in rows.iloc[:, j].tolist()]
        lengths.append(min(40, max(4, len(str(col)) * 0.8, *cells)))
    total_len = sum(lengths) or 1
    for j, length in enumerate(lengths):
        table.columns[j].width = Emu(int(width * length / total_len))
    size = TABLE_PT
    for j, col in enumerate(shown.columns):
        _fill_cell(table.cell(0, j), str(col), size, lang, bold=True, fill=HEADER_FILL)
    for i, values in enumerate(rows.itertuples(index=False), start=1):
        for j, value in enumerate(values):
            _fill_cell(table.cell(i, j), _cell_text(value), size, lang,
                       fill=ZEBRA_FILL if i % 2 == 0 else WHITE)
    for i in range(n_rows):
        table.rows[i].height = row_h
    _footnote(slide, note, lang)


def _fill_cell(cell, text: str, size: int, lang: str, *, bold=False, fill=WHITE) -> None:
    cell.fill.solid()
    cell.fill.fore_color.rgb = fill
    cell.margin_left = cell.margin_right = Inches(0.05)
    cell.margin_top = cell.margin_bottom = Inches(0.02)
    frame = cell.text_frame
    frame.word_wrap = True
    _add_run(frame.paragraphs[0], text, size, bold, DARK, lang)


# -- the deck -----------------------------------------------------------------------------------
def describe_subgroups(filters: dict, lang: str) -> str:
    if not filters:
        return t("deck.subgroups.none", lang)
    return " · ".join(t(f"filter.{name}.{value}", lang) for name, value in filters.items())


def _title_slide(prs, study, lang, population, timepoint, filters, synthetic) -> None:
    slide = _new_slide(prs, lang, synthetic)
    _textbox(slide, MARGIN, Inches(1.3), SLIDE_W - 2 * MARGIN, Inches(1.7),
             t("deck.study_title", lang), 36, bold=True, anchor=MSO_ANCHOR.BOTTOM, lang=lang)
    lines = [
        t("deck.population", lang, population=t(f"population.{population}", lang)),
        t("deck.timepoint", lang, timepoint=t(f"visit.{timepoint}", lang)),
        t("deck.subgroups", lang, subgroups=describe_subgroups(filters, lang)),
        t("deck.date", lang, date=_dt.date.today().isoformat()),
        t("deck.study_file", lang, name=Path(study.path).name),
    ]
    _textbox(slide, MARGIN, Inches(3.3), SLIDE_W - 2 * MARGIN, Inches(2.6), "\n".join(lines),
             BODY_PT + 2, color=MUTED, lang=lang)
    if synthetic:
        _textbox(slide, MARGIN, Inches(6.2), SLIDE_W - 2 * MARGIN, Inches(0.9),
                 t("synthetic.notice", lang), BODY_PT, bold=True, color=LABEL_COLOR, lang=lang)


def deck_states(study, lang: str, population: str = "completers", timepoint: str = "Y1",
                filters: dict | None = None, pages=None, states=None) -> list:
    """The view states of a deck: ``states`` (each put in ``lang``), or ``pages`` (default: every
    view of the default deck) at their defaults under the given global filters."""
    if states is not None:
        return [s if s.lang == lang else s.with_values(study, lang=lang) for s in states]
    return [views.default_state(key, study, lang=lang, population=population,
                                timepoint=timepoint, filters=filters)
            for key in (pages or views.PAGE_KEYS)]


def deck_items(study, lang: str, population: str = "completers", timepoint: str = "Y1",
               filters: dict | None = None, pages=None,
               states=None) -> list[tuple[str, views.Item | None]]:
    """(view key, item) per slide after the title; ``None`` marks a view with nothing to show.
    Each item carries its view state (``item.state``)."""
    out: list[tuple[str, views.Item | None]] = []
    for state in deck_states(study, lang, population, timepoint, filters, pages, states):
        out += [(state.view, item) for item in views.state_items(study, state)] or \
            [(state.view, None)]
    return out


def build_deck(study, lang: str = "en", population: str = "completers", timepoint: str = "Y1",
               filters: dict | None = None, pages=None, states=None,
               comments: list[str] | None = None) -> bytes:
    """The PPTX of a set of views: title slide, then one slide per figure and table. Either
    ``states`` (:class:`analytics.views.ViewState`, e.g. from ``deck --view`` or the report
    basket; ``comments`` beside them go to the speaker notes) or ``pages`` (view keys of
    :data:`analytics.views.PAGE_KEYS`; default all) at their defaults under the global filters."""
    pages = list(pages or views.PAGE_KEYS)
    unknown = [p for p in pages if p not in views.VIEWS]
    if unknown:
        raise ValueError(t("deck.cli.unknown_page", lang, page=unknown[0],
                           choices=", ".join(views.PAGE_KEYS)))
    if states:
        states = deck_states(study, lang, states=states)
        # the title slide names the first view's global filters
        first = states[0]
        population, timepoint, filters = first.population, first.timepoint, first.filters
    filters = dict(filters or {})
    synthetic = bool(getattr(study, "synthetic", False))
    export.prestart()  # Chromium starts while the analyses run
    slides = deck_items(study, lang, population, timepoint, filters, pages, states or None)
    notes = _speaker_notes(states, comments)
    figures = [item for _, item in slides if item is not None and item.kind == "figure"]
    pngs = dict(zip(map(id, figures),
                    export.figures_png([slide_figure(i.figure) for i in figures], scale=2)))

    prs = Presentation()
    prs.slide_width, prs.slide_height = SLIDE_W, SLIDE_H
    _title_slide(prs, study, lang, population, timepoint, filters, synthetic)
    for key, item in slides:
        before = len(prs.slides)
        if item is None:
            slide = _new_slide(prs, lang, synthetic)
            _slide_title(slide, views.page_title(key, lang), lang)
            _textbox(slide, MARGIN, Inches(2.0), SLIDE_W - 2 * MARGIN, Inches(1.0),
                     t("deck.empty", lang), BODY_PT, lang=lang)
        elif item.kind == "figure":
            _figure_slide(prs, item, pngs[id(item)], lang, synthetic)
        else:
            _table_slide(prs, item, lang, synthetic)
        note = notes.get(id(item.state)) if item is not None else None
        if note:
            for slide in list(prs.slides)[before:]:
                frame = slide.notes_slide.notes_text_frame
                frame.text = note + (f"\n\n{frame.text}" if frame.text else "")
    buf = io.BytesIO()
    prs.save(buf)
    return buf.getvalue()


def _speaker_notes(states, comments) -> dict:
    """id(state) -> the reader's comment on it (report basket), for the speaker notes."""
    if not states or not comments:
        return {}
    return {id(s): c for s, c in zip(states, comments) if c}
