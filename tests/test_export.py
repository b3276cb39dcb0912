"""Static export of figures (PNG at 2×, SVG with its title, caption and Chinese text) and tables
(CSV with a BOM, XLSX with the title and footnote on the sheet)."""
from __future__ import annotations

import io
import os
import re
import xml.etree.ElementTree as ET

import openpyxl
import pandas as pd
import pytest
from PIL import Image

from analytics import export
from analytics.i18n import t

CJK = re.compile(r"[\u4e00-\u9fff]")


def _needs_chromium():
    if export.chromium_available():
        return
    reason = f"static export needs Debian's Chromium at {export.CHROMIUM_PATH} (not found)"
    if os.environ.get("CI") == "true":
        pytest.fail(reason + "; CI=true requires it")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def figures(study):
    from analytics.charts.efficacy import response_figure
    from analytics.charts.safety import rates_by_year_figure

    en = response_figure(study.response_rates("ACR20", "completers", lang="en"), timepoint="Y1")
    zh = rates_by_year_figure(study.ae_rates_by_year(lang="zh"))
    return {"en": en, "zh": zh}


def _svg_text(svg: bytes) -> str:
    root = ET.fromstring(svg)  # parses: well-formed XML
    return " ".join(root.itertext())


def _squash(text: str) -> str:
    return "".join(text.split())


@pytest.mark.parametrize("lang", ("en", "zh"))
def test_png_is_twice_the_figure_size(figures, lang):
    _needs_chromium()
    fig = figures[lang]
    png = export.figure_png(fig)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = export.figure_size(fig)
    img = Image.open(io.BytesIO(png))
    assert img.size[0] >= 2 * width and img.size[1] >= 2 * height, (img.size, width, height)
    assert img.size == (2 * width, 2 * height)


def test_png_scale_option(figures):
    _needs_chromium()
    fig = figures["en"]
    img = Image.open(io.BytesIO(export.figure_png(fig, scale=3)))
    width, height = export.figure_size(fig)
    assert img.size == (3 * width, 3 * height)


@pytest.mark.parametrize("lang", ("en", "zh"))
def test_svg_has_title_caption_and_synthetic_label(study, figures, lang):
    _needs_chromium()
    fig = figures[lang]
    svg = export.figure_svg(fig)
    text = _svg_text(svg)
    title = re.sub(r"<[^>]+>", "", fig.layout.title.text.split("<br>")[0])
    assert _squash(title) in _squash(text)
    if study.synthetic:
        assert _squash(t("synthetic.notice", lang)) in _squash(text)
    population = t("caption.population", lang, population=t("population.safety", lang)
                   if lang == "zh" else t("population.completers", lang))
    assert _squash(population) in _squash(text)
    if lang == "zh":
        assert CJK.search(text), "the zh figure's SVG has no Chinese characters"


def _table(study, lang):
    from analytics.response import comparison_display
    df = study.compare_rates("ACR20", "nri", lang=lang, sex="F")
    return df, comparison_display(df)


@pytest.mark.parametrize("lang", ("en", "zh"))
def test_xlsx_has_table_title_and_footnote(study, lang):
    from analytics.annotate import caption
    df, display = _table(study, lang)
    book = openpyxl.load_workbook(io.BytesIO(export.table_xlsx(df, display)))
    sheet = book.active
    cells = [[c for c in row] for row in sheet.iter_rows(values_only=True)]
    assert cells[0][0] == df.attrs["title"]
    header = list(cells[2][:len(display.columns)])
    assert header == [str(c) for c in display.columns]
    body = [list(r[:len(display.columns)]) for r in cells[3:3 + len(display)]]
    expected = display.astype(object).where(display.notna(), None).values.tolist()
    for got, want in zip(body, expected):
        assert [None if v is None else str(v) for v in got] == \
               [None if v is None else str(v) for v in want]
    flat = [str(v) for row in cells for v in row if v is not None]
    assert caption(df.attrs) in flat
    if study.synthetic:
        assert any(t("synthetic.notice", lang) in v for v in flat)


def test_ui_xlsx_uses_export(study):
    from dashboard import ui
    df, display = _table(study, "en")
    sheet = openpyxl.load_workbook(io.BytesIO(ui.table_bytes_xlsx(df, display))).active
    assert sheet["A1"].value == df.attrs["title"]


@pytest.mark.parametrize("lang", ("en", "zh"))
def test_csv_roundtrip(study, lang):
    df, display = _table(study, lang)
    data = export.table_csv(df, display)
    assert data.startswith(b"\xef\xbb\xbf")  # BOM: Excel opens UTF-8 Chinese
    assert data.decode("utf-8-sig") == display.to_csv(index=False)
    back = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert list(back.columns) == [str(c) for c in display.columns]
    want = pd.read_csv(io.StringIO(display.to_csv(index=False)), dtype=str,
                       keep_default_na=False)
    pd.testing.assert_frame_equal(back, want)
    if lang == "zh":
        assert CJK.search(data.decode("utf-8-sig"))
