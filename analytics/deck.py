"""The slide deck of a view: a title slide, then one slide per figure and table of the chosen
pages (python-pptx, 16:9), laid out to be projected.

Every slide has a title of at most two lines (28 pt, or 24 pt when that keeps it to two lines,
else shortened with "…"; the full title is in the speaker notes), its content, and one short
source line at the bottom (:func:`analytics.provenance.source_line`: population · comparison ·
subgroups · time point or window · N per arm · study file · synthetic flag). Method, footnote and
anything shortened go to the speaker notes.

* Figures are rendered by kaleido at the slide's own size (1 CSS px = 1/96 inch on the slide)
  at 2× for sharpness, with every font at least :data:`CHART_MIN_PX` px, so chart text prints at
  ≥ 14 pt; their own title and caption move out of the picture into slide text and notes.
* Tables are native PowerPoint tables at 14 pt down to 11 pt, column widths from their content
  measured with the slide fonts (:mod:`analytics.slide_text`): a column is never narrower than
  its longest unbreakable token, and a numeric cell never wraps, so no number is broken. A table
  that does not fit continues on the next slide with "(cont.)"; a long listing (serious AEs, AE
  terms) shows its first rows and says how many more are in the XLSX.

Text is Arial (Latin) and Noto Sans CJK SC (Chinese), dark on white; on the synthetic cohort
every slide carries the synthetic-data label.
"""
from __future__ import annotations

import copy
import datetime as _dt
import io
import math
import re
from dataclasses import dataclass
from functools import lru_cache

import pandas as pd
from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.enum.text import MSO_ANCHOR, PP_ALIGN
from pptx.oxml import parse_xml
from pptx.oxml.ns import nsdecls, qn
from pptx.util import Emu, Inches, Pt

from . import export, slide_text, views
from .annotate import comparison_label
from .charts.theme import FONT_FAMILY
from .i18n import study_labels, t
from .provenance import comparison_text, filter_label, source_line, study_facts

SLIDE_W, SLIDE_H = Inches(13.333), Inches(7.5)
MARGIN = Inches(0.45)
TEXT_W = SLIDE_W - 2 * MARGIN
TITLE_TOP = Inches(0.5)
TITLE_PT, TITLE_MIN_PT, TITLE_LINES = 28, 24, 2
BODY_PT, LABEL_PT, SOURCE_PT, NOTE_PT = 18, 12, 12, 12
TABLE_PTS = (14, 13, 12, 11)      # table text, largest first; never below 11 pt
BOX_PAD = Inches(0.05)            # text frame inset, each side
CELL_PAD_X, CELL_PAD_Y = Inches(0.06), Inches(0.03)
WIDTH_SAFETY = 1.06               # measured widths are stretched by this much (rendering slack)
GAP = Inches(0.12)
DARK = RGBColor(0x1A, 0x1A, 0x1A)
MUTED = RGBColor(0x33, 0x33, 0x33)
HEADER_FILL = RGBColor(0xDD, 0xE6, 0xF0)
ZEBRA_FILL = RGBColor(0xF5, 0xF7, 0xFA)
WHITE = RGBColor(0xFF, 0xFF, 0xFF)
LABEL_COLOR = RGBColor(0xA0, 0x30, 0x00)  # dark orange: readable on white

# Figures: CSS px per inch on the slide, render scale, smallest font in px (19 px = 14.25 pt).
PX_PER_INCH = 96
SLIDE_FIG_SCALE = 2
CHART_MIN_PX = 19
CHART_BASE_PX = 20
THEME_BASE_PX = 14  # the font size charts are designed at (analytics.charts.theme.finish)

# Long listings (and any table that would need more than MAX_TABLE_SLIDES slides) show their
# first rows and "n more in the XLSX"; other tables continue on the next slide with "(cont.)".
LISTING_KEYS = ("sae_listing", "ae_rates_")
MAX_TABLE_SLIDES = 3
NO_STYLE_TABLE = "{2D5ABB26-0587-4C30-8999-92F81FD0307C}"  # "No Style, No Grid": fills are ours

EMU_PER_PT = 12700


def _pt(emu) -> float:
    return emu / EMU_PER_PT


def _emu(pt: float) -> Emu:
    return Emu(int(round(pt * EMU_PER_PT)))


# -- text boxes ---------------------------------------------------------------------------------
@lru_cache(maxsize=64)
def _run_template(size: float, bold: bool, color: str, lang: str):
    """An ``a:r`` element with its properties: Arial for Latin, Noto Sans CJK SC for Chinese
    characters (PowerPoint and LibreOffice pick the font by script). Built once per style and
    copied per run: python-pptx's property setters are slow for thousands of table cells."""
    lang_attrs = 'lang="zh-CN" altLang="en-US"' if lang == "zh" else 'lang="en-US"'
    return parse_xml(
        f'<a:r {nsdecls("a")}><a:rPr {lang_attrs} sz="{int(round(size * 100))}" '
        f'b="{1 if bold else 0}" dirty="0"><a:solidFill><a:srgbClr val="{color}"/></a:solidFill>'
        f'<a:latin typeface="{slide_text.LATIN_FONT}"/><a:ea typeface="{slide_text.CJK_FONT}"/>'
        f'<a:cs typeface="{slide_text.LATIN_FONT}"/></a:rPr><a:t></a:t></a:r>')


def _add_run(para, text: str, size: float, bold: bool, color, lang: str) -> None:
    run = copy.deepcopy(_run_template(size, bool(bold), str(color), lang))
    run[-1].text = text
    end = para._p.find(qn("a:endParaRPr"))
    if end is not None:
        end.addprevious(run)
    else:
        para._p.append(run)


def _textbox(slide, left, top, width, height, text: str, size: float, *, bold=False,
             color=DARK, align=PP_ALIGN.LEFT, anchor=MSO_ANCHOR.TOP, lang="en"):
    box = slide.shapes.add_textbox(left, top, width, height)
    frame = box.text_frame
    frame.word_wrap = True
    frame.vertical_anchor = anchor
    frame.margin_left = frame.margin_right = BOX_PAD
    frame.margin_top = frame.margin_bottom = BOX_PAD
    for i, line in enumerate(text.split("\n")):
        para = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
        para.alignment = align
        _add_run(para, line, size, bold, color, lang)
    return box


def _text_height(text: str, width, size: float, lang: str, bold: bool = False) -> Emu:
    """The height a text box needs for ``text`` at ``size`` in a box ``width`` wide."""
    inner = _pt(width - 2 * BOX_PAD) / WIDTH_SAFETY
    lines = slide_text.line_count(text, inner, size, bold)
    return _emu(lines * slide_text.line_height_pt(size, lang)) + 2 * BOX_PAD + Inches(0.04)


def _white_background(slide) -> None:
    fill = slide.background.fill
    fill.solid()
    fill.fore_color.rgb = WHITE


@dataclass
class Frame:
    """Where a content slide's parts go (EMU): content between ``top`` and ``bottom``."""

    top: int
    bottom: int

    @property
    def height(self) -> int:
        return self.bottom - self.top


@dataclass
class SlideLayout:
    title: str
    title_pt: float
    shortened: bool
    title_h: int
    source_h: int
    frame: Frame


BOTTOM_PAD = Inches(0.15)


def slide_layout(title: str, source: str, lang: str) -> SlideLayout:
    """Title (fitted), source line and the content frame between them, measured."""
    text, size, shortened = fit_title(title, lang)
    title_h = _text_height(text, TEXT_W, size, lang, bold=True)
    source_h = _text_height(source, TEXT_W, SOURCE_PT, lang) if source else 0
    top = TITLE_TOP + title_h + GAP
    bottom = SLIDE_H - BOTTOM_PAD - source_h - GAP
    return SlideLayout(text, size, shortened, int(title_h), int(source_h),
                       Frame(int(top), int(bottom)))


def fit_title(text: str, lang: str) -> tuple[str, float, bool]:
    """The title at ≤ 2 lines: (text, size, shortened). 28 pt, else 24 pt, else cut with '…'."""
    width = _pt(TEXT_W - 2 * BOX_PAD) / WIDTH_SAFETY
    for size in (TITLE_PT, TITLE_MIN_PT):
        if slide_text.line_count(text, width, size, bold=True) <= TITLE_LINES:
            return text, size, False
    cut = len(text)
    while cut > 1 and slide_text.line_count(text[:cut].rstrip() + "…", width, TITLE_MIN_PT,
                                             bold=True) > TITLE_LINES:
        cut -= max(1, (cut - 1) // 20 if cut > 60 else 1)
    return text[:cut].rstrip(" ,;:—-") + "…", TITLE_MIN_PT, True


def source_text(item: views.Item, lang: str) -> str:
    return source_line(item_attrs(item), lang=lang)


def item_attrs(item: views.Item) -> dict:
    """The result frame's attrs behind an item (figure or table)."""
    attrs = getattr(item, "attrs", None)
    if attrs:
        return attrs
    return dict(item.frame.attrs) if item.frame is not None else {}


class SlideWriter:
    """Adds slides to one presentation: the shared parts (label, title, source line, notes)."""

    def __init__(self, lang: str, synthetic: bool):
        self.lang, self.synthetic = lang, synthetic
        self.prs = Presentation()
        self.prs.slide_width, self.prs.slide_height = SLIDE_W, SLIDE_H

    def new_slide(self):
        slide = self.prs.slides.add_slide(self.prs.slide_layouts[6])  # blank
        _white_background(slide)
        if self.synthetic:
            _textbox(slide, SLIDE_W - MARGIN - Inches(3.2), Inches(0.1), Inches(3.2),
                     Inches(0.36), t("synthetic.label", self.lang), LABEL_PT, bold=True,
                     color=LABEL_COLOR, align=PP_ALIGN.RIGHT, lang=self.lang)
        return slide

    def content_slide(self, title: str, source: str, notes: list[str]) -> tuple[object, Frame]:
        """A slide with its title and source line; returns it and the free content frame."""
        slide = self.new_slide()
        lay = slide_layout(title, source, self.lang)
        _textbox(slide, MARGIN, TITLE_TOP, TEXT_W, lay.title_h, lay.title, lay.title_pt,
                 bold=True, anchor=MSO_ANCHOR.TOP, lang=self.lang)
        if source:
            _textbox(slide, MARGIN, SLIDE_H - BOTTOM_PAD - lay.source_h, TEXT_W, lay.source_h,
                     source, SOURCE_PT, color=MUTED, anchor=MSO_ANCHOR.BOTTOM, lang=self.lang)
        self.notes(slide, [title, *notes] if lay.shortened else notes)
        return slide, lay.frame

    @staticmethod
    def notes(slide, notes: list[str]) -> None:
        text = "\n\n".join(n for n in notes if n)
        if text:
            slide.notes_slide.notes_text_frame.text = text

    def save(self) -> bytes:
        buf = io.BytesIO()
        self.prs.save(buf)
        return buf.getvalue()


# -- figures ------------------------------------------------------------------------------------
def _is_caption(ann: dict) -> bool:
    """The caption annotation that :func:`analytics.charts.theme.finish` adds (a chart may move
    it further down, so its shift is not checked)."""
    return (ann.get("xref") == "paper" and ann.get("yref") == "paper" and ann.get("y") == 0
            and ann.get("yanchor") == "top" and ann.get("showarrow") is False
            and (ann.get("yshift") or 0) <= -60)


def _scale_fonts(node, factor: float, minimum: float) -> None:
    """Every explicit font size in a figure dict, times ``factor``, at least ``minimum``."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key.endswith("font") and isinstance(value, dict) and value.get("size"):
                size = value["size"]
                if isinstance(size, (list, tuple)):
                    value["size"] = [max(minimum, s * factor) for s in size]
                else:
                    value["size"] = max(minimum, size * factor)
            _scale_fonts(value, factor, minimum)
    elif isinstance(node, (list, tuple)):
        for value in node:
            _scale_fonts(value, factor, minimum)


def figure_font_sizes(fig) -> list[float]:
    """Every font size (px) a figure sets, its base font included."""
    sizes: list[float] = []

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key.endswith("font") and isinstance(value, dict) and value.get("size"):
                    size = value["size"]
                    sizes.extend(size if isinstance(size, (list, tuple)) else [size])
                walk(value)
        elif isinstance(node, (list, tuple)):
            for value in node:
                walk(value)

    walk(fig if isinstance(fig, dict) else fig.to_dict())
    return sizes


def slide_figure(fig, width_px: int = 1190, height_px: int = 480) -> dict:
    """A copy of ``fig`` for a slide, as a plotly figure dict (rendered as it is, without a
    second validation): no title or caption (they become slide text and notes), laid out at
    the slide's pixel size with every font scaled for projection."""
    spec = copy.deepcopy(fig.to_dict())
    layout = spec.setdefault("layout", {})
    layout["annotations"] = [a for a in layout.get("annotations", []) if not _is_caption(a)]
    layout.pop("title", None)
    _scale_fonts(spec, CHART_BASE_PX / THEME_BASE_PX, CHART_MIN_PX)
    margin = layout.get("margin", {})
    layout.update(width=int(width_px), height=int(height_px), paper_bgcolor="white",
                  font={**layout.get("font", {}), "family": FONT_FAMILY, "size": CHART_BASE_PX,
                        "color": "#1a1a1a"},
                  margin={"t": max(50, int(margin.get("t", 60) * 0.9)), "b": 80,
                          "l": max(80, margin.get("l", 0)), "r": max(60, margin.get("r", 0))})
    axes = [v for k, v in layout.items() if re.match(r"[xy]axis\d*$", k) and isinstance(v, dict)]
    if axes and all(a.get("visible") is False for a in axes):
        # a diagram drawn in data coordinates (the flow of subjects): no room for ticks needed
        layout["margin"].update(t=20, b=20, l=20, r=20)
    _wrap_axis_titles(layout)
    return spec


def _wrap_axis_titles(layout: dict) -> None:
    """Break an x-axis title that is wider than its axis (a narrow panel) onto two lines."""
    margin = layout["margin"]
    plot_px = layout["width"] - margin["l"] - margin["r"]
    for name, axis in layout.items():
        if not (name.startswith("xaxis") and isinstance(axis, dict)):
            continue
        title = axis.get("title") or {}
        text = title.get("text") if isinstance(title, dict) else None
        if not text or "<br>" in text:
            continue
        start, end = axis.get("domain", (0, 1))
        size = (title.get("font") or {}).get("size") or layout["font"]["size"]
        room = plot_px * (end - start)
        if slide_text.width_pt(text, size) > room:
            title["text"] = "<br>".join(slide_text.wrap(text, max(room, size * 6), size))


def figure_plain_title(item: views.Item) -> tuple[str, str]:
    """(first line of the figure's title, the rest): the rest (a note under the title) goes to
    the speaker notes, never into the slide title."""
    raw = ""
    if item.figure is not None:
        raw = item.figure.layout.title.text or ""
    if not raw:
        return item.title, ""
    first, *rest = re.split(r"<br\s*/?>", raw, maxsplit=1)
    return views.plain(first), views.plain(rest[0]) if rest else ""


@dataclass
class FigureSlide:
    item: views.Item
    title: str
    notes: list
    source: str
    frame: Frame | None = None
    figure: dict | None = None   # the slide's plotly figure dict (see slide_figure)


def _plan_figure(writer: SlideWriter, item: views.Item) -> FigureSlide:
    title, subtitle = figure_plain_title(item)
    plan = FigureSlide(item, title, [item.extra.get("comment", ""), subtitle, item.caption],
                       source_text(item, writer.lang))
    # Measured now, so the figure is rendered at the exact size it will have on the slide.
    plan.frame = slide_layout(title, plan.source, writer.lang).frame
    plan.figure = slide_figure(item.figure, round(TEXT_W / Inches(1) * PX_PER_INCH),
                               round(plan.frame.height / Inches(1) * PX_PER_INCH))
    return plan


def _add_figure(slide, plan: FigureSlide, png: bytes) -> None:
    """The rendered figure in its frame, at its own size (1 CSS px = 1/96 inch)."""
    width_px, height_px = export.figure_size(plan.figure)
    pic = slide.shapes.add_picture(io.BytesIO(png), MARGIN, plan.frame.top,
                                   Emu(int(width_px * Inches(1) / PX_PER_INCH)),
                                   Emu(int(height_px * Inches(1) / PX_PER_INCH)))
    pic.name = "figure"
    pic._element.nvPicPr.cNvPr.set("descr", plan.title)  # alt text


# -- tables -------------------------------------------------------------------------------------
def cell_text(value, lang: str = "en") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return t("common.missing_value", lang)
    if isinstance(value, float):
        return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


@dataclass
class TableLayout:
    size: float
    widths: list        # EMU per column
    header_h: int       # EMU
    row_h: list         # EMU per body row


def _layout_table(header: list[str], body: list[list[str]], size: float,
                  lang: str, force: bool = False) -> TableLayout | None:
    """Column widths and row heights at ``size`` pt, or None when the table's unbreakable
    content is wider than the slide (with ``force``: columns in proportion to that content)."""
    avail = _pt(TEXT_W)
    pad = 2 * _pt(CELL_PAD_X)
    mins, wants = [], []
    for j, head in enumerate(header):
        column = [row[j] for row in body]
        lo = max([slide_text.min_width_pt(head, size, True)]
                 + [slide_text.min_width_pt(c, size) for c in column])
        hi = max([slide_text.width_pt(head, size, True) * 0.6]
                 + [slide_text.width_pt(c, size) for c in column])
        mins.append(lo * WIDTH_SAFETY + pad)
        wants.append(max(lo, hi) * WIDTH_SAFETY + pad)
    if sum(mins) > avail:
        if not force:
            return None
        widths = [w * avail / sum(mins) for w in mins]
    elif sum(wants) <= avail:
        extra = avail - sum(wants)
        widths = [w + extra * w / sum(wants) for w in wants]
    else:
        share = (avail - sum(mins)) / (sum(wants) - sum(mins))
        widths = [lo + (hi - lo) * share for lo, hi in zip(mins, wants)]
    line = slide_text.line_height_pt(size, lang)
    pad_y = 2 * _pt(CELL_PAD_Y) + 2

    def height(texts, bold=False):
        lines = max(slide_text.line_count(x, (w - pad) / WIDTH_SAFETY, size, bold)
                    for x, w in zip(texts, widths))
        if bold and lines > 1 and lang == "zh":
            # Chinese line breaking keeps brackets and punctuation with their neighbours: long
            # wrapped headers can take a line more than the greedy estimate
            lines += 1
        return _emu(lines * line + pad_y)

    return TableLayout(size, [_emu(w) for w in widths], height(header, True),
                       [height(row) for row in body])


def _pages(layout: TableLayout, room: int) -> list[range]:
    """Body rows per slide: as many as fit under the repeated header."""
    pages, start, used = [], 0, layout.header_h
    for i, h in enumerate(layout.row_h):
        if used + h > room and i > start:
            pages.append(range(start, i))
            start, used = i, layout.header_h
        used += h
    pages.append(range(start, len(layout.row_h)))
    return pages


def _is_listing(item: views.Item) -> bool:
    return any(item.key == k or (k.endswith("_") and item.key.startswith(k))
               for k in LISTING_KEYS)


def _table_room(writer: SlideWriter, title: str, source: str) -> int:
    """Height for a table under ``title`` (and its "(cont.)" form), leaving a note line."""
    frames = [slide_layout(x, source, writer.lang).frame
              for x in (title, t("deck.continued", writer.lang, title=title))]
    note = _text_height("x", TEXT_W, NOTE_PT, writer.lang) + GAP
    return int(min(f.height for f in frames) - note)


def _table_slides(writer: SlideWriter, item: views.Item) -> None:
    lang = writer.lang
    shown: pd.DataFrame = item.shown
    source = source_text(item, lang)
    notes = [item.extra.get("comment", ""), item.caption]  # the reader's comment (report) first
    if shown is None or shown.empty:
        slide, frame = writer.content_slide(item.title, source, notes)
        _textbox(slide, MARGIN, frame.top, TEXT_W, Inches(0.6), t("deck.empty", lang), BODY_PT,
                 lang=lang)
        return
    header = [str(c) for c in shown.columns]
    body = [[cell_text(v, lang) for v in row] for row in shown.itertuples(index=False)]
    room = _table_room(writer, item.title, source)
    # The largest type that fits the width; prefer one that fits the whole table on one slide.
    layouts, layout = [], None
    for size in TABLE_PTS:
        candidate = _layout_table(header, body, size, lang)
        if candidate is None:
            continue
        layouts.append(candidate)
        if len(_pages(candidate, room)) == 1:
            layout = candidate
            break
    if layout is None and layouts:  # more than one slide: 12 pt where it fits the width
        layout = layouts[min(2, len(layouts) - 1)]
    if layout is None:  # wider than the slide even at 11 pt: equal columns, cells may wrap
        layout = _layout_table(header, body, TABLE_PTS[-1], lang, force=True)
    pages = _pages(layout, room)
    if len(pages) > 1 and (_is_listing(item) or len(pages) > MAX_TABLE_SLIDES):
        first = pages[0]
        more = len(body) - len(first)
        _table_slide(writer, item.title, source, notes, header, body, layout, first,
                     note=t("deck.more_in_xlsx", lang, n=more, total=len(body)))
        return
    for i, rows in enumerate(pages):
        title = item.title if i == 0 else t("deck.continued", lang, title=item.title)
        _table_slide(writer, title, source, notes, header, body, layout, rows, note="")


def _table_slide(writer, title, source, notes, header, body, layout: TableLayout, rows: range,
                 note: str) -> None:
    lang = writer.lang
    slide, frame = writer.content_slide(title, source, notes)
    n_rows = len(rows) + 1
    height = layout.header_h + sum(layout.row_h[i] for i in rows)
    shape = slide.shapes.add_table(n_rows, len(header), MARGIN, frame.top,
                                   sum(layout.widths), height)
    table = shape.table
    table._tbl.tblPr.find(qn("a:tableStyleId")).text = NO_STYLE_TABLE
    for j, w in enumerate(layout.widths):
        table.columns[j].width = w
    table.rows[0].height = layout.header_h
    for j, text in enumerate(header):
        _fill_cell(table.cell(0, j), text, layout.size, lang, bold=True, fill=HEADER_FILL)
    for r, i in enumerate(rows, start=1):
        table.rows[r].height = layout.row_h[i]
        for j, text in enumerate(body[i]):
            _fill_cell(table.cell(r, j), text, layout.size, lang,
                       fill=ZEBRA_FILL if r % 2 == 0 else None,
                       align=PP_ALIGN.RIGHT if slide_text.is_numeric(text) else PP_ALIGN.LEFT)
    if note:
        _textbox(slide, MARGIN, frame.top + height + GAP, TEXT_W,
                 _text_height(note, TEXT_W, NOTE_PT, lang), note, NOTE_PT, color=MUTED,
                 lang=lang)


def _fill_cell(cell, text: str, size: float, lang: str, *, bold=False, fill=None,
               align=PP_ALIGN.LEFT) -> None:
    tc_pr = cell._tc.get_or_add_tcPr()
    for attr, value in (("marL", CELL_PAD_X), ("marR", CELL_PAD_X), ("marT", CELL_PAD_Y),
                        ("marB", CELL_PAD_Y)):
        tc_pr.set(attr, str(int(value)))
    tc_pr.set("anchor", "t")
    if fill is not None:
        tc_pr.append(parse_xml(f'<a:solidFill {nsdecls("a")}><a:srgbClr val="{fill}"/>'
                               f'</a:solidFill>'))
    para = cell.text_frame.paragraphs[0]
    if align != PP_ALIGN.LEFT:
        para.alignment = align
    _add_run(para, text, size, bold, DARK, lang)


# -- the deck -----------------------------------------------------------------------------------
def describe_subgroups(filters: dict, lang: str) -> str:
    chosen = {k: v for k, v in filters.items() if k != "comparison"}
    if not chosen:
        return t("deck.subgroups.none", lang)
    return " · ".join(filter_label(name, value, lang) for name, value in chosen.items())


def _title_slide(writer: SlideWriter, study, population, timepoint, filters) -> None:
    lang = writer.lang
    slide = writer.new_slide()
    _textbox(slide, MARGIN, Inches(1.2), TEXT_W, Inches(1.8), t("deck.study_title", lang), 36,
             bold=True, anchor=MSO_ANCHOR.BOTTOM, lang=lang)
    facts = study_facts(study)
    lines = [
        t("deck.population", lang, population=t(f"population.{population}", lang)),
        t("deck.comparison", lang, comparison=comparison_label(
            study, filters.get("comparison", "all"), lang)),
        t("deck.timepoint", lang, timepoint=t(f"visit.{timepoint}", lang)),
        t("deck.subgroups", lang, subgroups=describe_subgroups(filters, lang)),
        t("deck.date", lang, date=_dt.date.today().isoformat()),
        t("deck.study_file", lang, name=facts["file"], built=facts["built"]),
    ]
    _textbox(slide, MARGIN, Inches(3.2), TEXT_W, Inches(2.9), "\n".join(lines), BODY_PT + 2,
             color=MUTED, lang=lang)
    if writer.synthetic:
        _textbox(slide, MARGIN, Inches(6.3), TEXT_W, Inches(0.8), t("synthetic.notice", lang),
                 BODY_PT, bold=True, color=LABEL_COLOR, lang=lang)


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
               filters: dict | None = None, pages=None, states=None,
               comments: list[str] | None = None,
               on_item=None) -> list[tuple[str, views.Item | None]]:
    """(view key, item) per figure or table after the title; ``None`` marks a view with nothing
    to show. A table may take more than one slide (see :func:`slide_count`). Each item carries
    its view state (``item.state``) and the reader's comment on it, if any
    (``item.extra["comment"]``, for the speaker notes). ``on_item(item)`` is called as each
    view's items are ready (a deck starts rendering its figures then)."""
    out: list[tuple[str, views.Item | None]] = []
    chosen = deck_states(study, lang, population, timepoint, filters, pages, states)
    for i, state in enumerate(chosen):
        items = views.state_items(study, state)
        for item in items:
            if comments and i < len(comments) and comments[i]:
                item.extra["comment"] = comments[i]
            if on_item is not None:
                on_item(item)
        out += [(state.view, item) for item in items] or [(state.view, None)]
    return out


class SlideFigures:
    """The deck's figures, each laid out for its slide and handed to the renderer as soon as it
    is known: Chromium draws them while the next views' analyses run and the table slides are
    built (one browser, its tabs shared by every figure); pictures go in at the end."""

    def __init__(self, writer: SlideWriter):
        self.writer = writer
        self._pending: dict[int, tuple[views.Item, FigureSlide, object]] = {}

    def add(self, item: views.Item) -> FigureSlide:
        if id(item) not in self._pending:
            plan = _plan_figure(self.writer, item)
            self._pending[id(item)] = (item, plan,
                                       export.submit_png(plan.figure, scale=SLIDE_FIG_SCALE))
        return self._pending[id(item)][1]

    def png(self, item: views.Item) -> bytes:
        return self._pending[id(item)][2].result()


def render_deck(study, slides: list[tuple[str, views.Item | None]], *, lang: str,
                population: str, timepoint: str, filters: dict,
                figures: SlideFigures | None = None) -> bytes:
    """The PPTX of ``slides`` ((page key, item) pairs, as :func:`deck_items` returns them)
    after a title slide that names the view. ``figures``: those already sent to the renderer
    (:func:`build_deck`), with the writer of this deck."""
    if figures is None:
        figures = SlideFigures(SlideWriter(lang, bool(getattr(study, "synthetic", False))))
    writer = figures.writer
    for _, item in slides:  # every figure is being drawn while the table slides are built
        if item is not None and item.kind == "figure":
            figures.add(item)
    _title_slide(writer, study, population, timepoint, filters)
    placed = []
    for key, item in slides:
        if item is None:
            slide, frame = writer.content_slide(views.page_title(key, lang), "", [])
            _textbox(slide, MARGIN, frame.top, TEXT_W, Inches(0.6), t("deck.empty", lang),
                     BODY_PT, lang=lang)
        elif item.kind == "figure":
            plan = figures.add(item)
            placed.append((writer.content_slide(plan.title, plan.source, plan.notes)[0], item))
        else:
            _table_slides(writer, item)
    for slide, item in placed:
        _add_figure(slide, figures.add(item), figures.png(item))
    return writer.save()


def build_deck(study, lang: str = "en", population: str = "completers", timepoint: str = "Y1",
               filters: dict | None = None, pages=None, states=None,
               comments: list[str] | None = None) -> bytes:
    """The PPTX of a set of views: title slide, then their figures and tables. Either ``states``
    (:class:`analytics.views.ViewState`, e.g. from ``deck --view`` or the report basket;
    ``comments`` beside them go to the speaker notes) or ``pages`` (view keys of
    :data:`analytics.views.PAGE_KEYS`; default all) at their defaults under the global
    filters."""
    pages = list(pages or views.PAGE_KEYS)
    unknown = [p for p in pages if p not in views.VIEWS]
    if unknown:
        raise ValueError(t("deck.cli.unknown_page", lang, page=unknown[0],
                           choices=", ".join(views.PAGE_KEYS)))
    if states:
        states = deck_states(study, lang, states=states)
        # the title slide names the first view's global filters
        population, timepoint, filters = states[0].population, states[0].timepoint, \
            states[0].filters
    filters = dict(filters or {})
    export.prestart()  # Chromium starts while the analyses run
    with study_labels(study.info):  # the study's own arm labels on every slide
        figures = SlideFigures(SlideWriter(lang, bool(getattr(study, "synthetic", False))))
        slides = deck_items(study, lang, population, timepoint, filters, pages, states or None,
                            comments,
                            on_item=lambda item: item.kind == "figure" and figures.add(item))
        return render_deck(study, slides, lang=lang, population=population,
                           timepoint=timepoint, filters=filters, figures=figures)
