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
    population = t("population.safety" if lang == "zh" else "population.completers", lang)
    assert _squash(population) in _squash(text)
    if lang == "zh":
        assert CJK.search(text), "the zh figure's SVG has no Chinese characters"


def _table(study, lang):
    from analytics.response import comparison_display
    df = study.compare_rates("ACR20", "nri", lang=lang, sex="F")
    return df, comparison_display(df)


@pytest.mark.parametrize("lang", ("en", "zh"))
def test_xlsx_has_table_title_and_footnote(study, lang):
    from analytics.provenance import header_rows
    df, display = _table(study, lang)
    book = openpyxl.load_workbook(io.BytesIO(export.table_xlsx(df, display)))
    sheet = book.active
    cells = [[c for c in row] for row in sheet.iter_rows(values_only=True)]
    assert cells[0][0] == df.attrs["title"]
    rows = header_rows(df.attrs)
    assert [tuple(r[:2]) for r in cells[1:len(rows)]] == rows[1:]  # label, value
    start = len(rows) + 1
    header = list(cells[start][:len(display.columns)])
    assert header == [str(c) for c in display.columns]
    body = [list(r[:len(display.columns)]) for r in cells[start + 1:start + 1 + len(display)]]
    expected = display.astype(object).where(display.notna(), None).values.tolist()
    assert len(body) == len(expected)
    for got, want in zip(body, expected):
        assert [None if v is None else str(v) for v in got] == \
               [None if v is None else str(v) for v in want]
    flat = [str(v) for row in cells for v in row if v is not None]
    assert df.attrs["method"] in flat and df.attrs["footnote"] in flat
    if study.synthetic:
        assert any(t("synthetic.notice", lang) in v for v in flat)


def test_xlsx_download_has_the_title_above(study):
    df, display = _table(study, "en")
    sheet = openpyxl.load_workbook(io.BytesIO(export.table_xlsx(df, display))).active
    assert sheet["A1"].value == df.attrs["title"]


@pytest.mark.parametrize("lang", ("en", "zh"))
def test_csv_roundtrip(study, lang):
    df, display = _table(study, lang)
    data = export.table_csv(df, display)
    assert data.startswith(b"\xef\xbb\xbf")  # BOM: Excel opens UTF-8 Chinese
    text = data.decode("utf-8-sig")
    skip = export.csv_table_start(data)
    assert text.splitlines()[skip - 1] == ""
    assert "\n".join(text.splitlines()[skip:]) + "\n" == display.to_csv(index=False)
    back = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", dtype=str, keep_default_na=False,
                       skiprows=skip)
    assert list(back.columns) == [str(c) for c in display.columns]
    want = pd.read_csv(io.StringIO(display.to_csv(index=False)), dtype=str,
                       keep_default_na=False)
    pd.testing.assert_frame_equal(back, want)
    if lang == "zh":
        assert CJK.search(text)


# -- every export states the whole view -------------------------------------------------------
def _expected_facts(study, lang: str, *, population: str, when: str, raw_sex: str | None,
                    synthetic_key: str = "synthetic.notice"):
    """What a reader must find, computed here from the raw tables and the catalogue."""
    import datetime as dt

    subjects = study.query("SELECT arm, sex, status FROM subjects")
    if raw_sex:
        subjects = subjects[subjects["sex"] == raw_sex]
    if population == "completers":
        subjects = subjects[subjects["status"] == "completed"]
    n = subjects.groupby("arm").size()
    built = study.info.get("built_at", "")
    try:
        date = dt.datetime.fromisoformat(built).date().isoformat()
    except ValueError:
        mtime = study.path.stat().st_mtime
        date = dt.datetime.fromtimestamp(mtime, dt.timezone.utc).date().isoformat()
    facts = {
        "population": t(f"population.{population}", lang),
        "comparison": t("comparison.all", lang),
        "subgroup": t("filter.sex.F", lang) if raw_sex else t("provenance.subgroups.none", lang),
        "when": when,
        "n_per_arm": t("provenance.n_per_arm", lang, msc=int(n.get("MSC", 0)),
                       ifng=int(n.get("MSC_IFNG", 0))),
        "file": study.path.name,
        "built": date,
    }
    if study.synthetic:
        facts["synthetic"] = t(synthetic_key, lang)
    return facts


def _missing(facts: dict, text: str) -> list[str]:
    squashed = _squash(text)
    return [k for k, v in facts.items() if _squash(v) not in squashed]


@pytest.fixture(scope="module")
def female_nri_y3(study):
    """The Female / NRI / Year 3 state: the transition matrix Baseline → Year 3 (one time point)
    and the serious-AE listing in years 1–3 (a safety window), in both languages."""
    from analytics.charts.disease_activity import transition_matrix_figure
    from analytics.transitions import TRANSITION_COLUMNS

    out = {}
    for lang in ("en", "zh"):
        trans = study.transitions("nri", "BL", "Y3", lang=lang, sex="F")
        out[lang] = dict(frame=trans, display=trans[list(TRANSITION_COLUMNS)],
                         figure=transition_matrix_figure(trans, lang=lang),
                         facts=_expected_facts(study, lang, population="nri",
                                               when=t("visit.Y3", lang), raw_sex="F"))
        summary = study.ae_summary(years=(1, 3), lang=lang, sex="F")
        out[lang + "-safety"] = dict(
            frame=summary, display=None,
            facts=_expected_facts(study, lang, population="safety",
                                  when=t("provenance.window.range", lang, start=1, end=3),
                                  raw_sex="F"))
    return out


@pytest.mark.parametrize("lang", ("en", "zh"))
def test_png_and_svg_captions_state_the_view(female_nri_y3, lang):
    _needs_chromium()
    case = female_nri_y3[lang]
    fig = case["figure"]
    # the PNG draws the figure's caption annotation; the SVG keeps it as text
    caption = " ".join(a.text for a in fig.layout.annotations if a.yref == "paper" and a.y == 0)
    assert not _missing(case["facts"], re.sub(r"<br>", " ", caption)), caption
    png = export.figure_png(fig)
    assert Image.open(io.BytesIO(png)).size == tuple(2 * x for x in export.figure_size(fig))
    svg_text = _svg_text(export.figure_svg(fig))
    assert not _missing(case["facts"], svg_text), _missing(case["facts"], svg_text)


@pytest.mark.parametrize("case", ("en", "zh", "en-safety", "zh-safety"))
def test_csv_and_xlsx_header_rows_state_the_view(female_nri_y3, case):
    case = female_nri_y3[case]
    df, display = case["frame"], case["display"]
    csv_bytes = export.table_csv(df, display)
    head = csv_bytes.decode("utf-8-sig").splitlines()[:export.csv_table_start(csv_bytes)]
    assert not _missing(case["facts"], "\n".join(head)), head
    sheet = openpyxl.load_workbook(io.BytesIO(export.table_xlsx(df, display))).active
    first_table_row = None
    cells = []
    for i, row in enumerate(sheet.iter_rows(values_only=True)):
        if all(v is None for v in row):
            first_table_row = i + 1
            break
        cells += [str(v) for v in row if v is not None]
    assert first_table_row is not None
    assert not _missing(case["facts"], "\n".join(cells)), cells


@pytest.mark.parametrize("lang", ("en", "zh"))
def test_slide_source_line_states_the_view(female_nri_y3, lang):
    from analytics import deck, views

    for key in (lang, lang + "-safety"):
        case = female_nri_y3[key]
        item = views.Item("table", case["frame"].attrs["title"], "x", frame=case["frame"])
        line = deck.source_text(item, lang)
        assert "\n" not in line
        facts = dict(case["facts"])
        if "synthetic" in facts:  # the short label on a slide; the notice is in the notes
            facts["synthetic"] = t("synthetic.label", lang)
        assert not _missing(facts, line), (line, _missing(facts, line))


@pytest.mark.parametrize("lang", ("en", "zh"))
def test_survival_source_line_states_the_horizon(study, lang):
    """The Kaplan–Meier view at Year 3 is drawn to the Year 3 horizon, and says so."""
    from analytics.provenance import source_line
    from analytics.survival import horizon_for_visit

    horizon = horizon_for_visit("Y3")
    res = study.survival("ACR20", "nri", horizon_years=horizon, lang=lang, sex="F")
    line = source_line(res.curves.attrs)
    facts = _expected_facts(study, lang, population="nri", raw_sex="F",
                            when=t("provenance.horizon", lang,
                                   end=t("common.years", lang, n="3")),
                            synthetic_key="synthetic.label")
    assert not _missing(facts, line), (line, _missing(facts, line))


def test_a_failed_export_is_said_in_the_readers_language_and_logged(caplog):
    """The reader gets the cause in their language (the renderer's own message is often
    English); the server's log keeps the whole error for the administrator."""
    import errno
    import logging

    from analytics.i18n import t
    from dashboard.widgets import export_error

    with caplog.at_level(logging.ERROR, logger="dashboard.widgets"):
        full = export_error("zh", OSError(errno.ENOSPC, "No space left on device"))
        odd = export_error("zh", RuntimeError("Kaleido: the figure could not be drawn"))
    assert full == t("export.failed", "zh", error="磁盘空间不足")
    assert odd == t("export.failed", "zh", error="RuntimeError")
    assert "No space" not in full and "Kaleido" not in odd
    logged = "\n".join(r.getMessage() + str(r.exc_info[1]) for r in caplog.records)
    assert "No space left on device" in logged and "could not be drawn" in logged
    assert export_error("en", TimeoutError()) == t("export.failed", "en", error="TimeoutError")
