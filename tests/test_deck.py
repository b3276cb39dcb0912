"""The slide deck, from the command line (`python -m analytics deck`) and from the sidebar
button: it opens with python-pptx, has the title slide plus a slide per figure and one or more
per table of the chosen pages (a long table continues with "(cont.)"), names the view on the
title slide, is in the chosen language, its pictures are 2× renders at the slide's size, and the
method and footnote are in the speaker notes. (How the slides look when projected:
tests/test_deck_render.py.)"""
from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from pptx import Presentation
from pptx.enum.shapes import MSO_SHAPE_TYPE
from pptx.util import Pt

from analytics import export
from analytics import deck
from analytics.deck import deck_items
from analytics.i18n import t
from analytics.views import PAGE_KEYS
from deck_support import slide_runs, slide_texts

ROOT = Path(__file__).resolve().parent.parent
CJK = re.compile(r"[\u4e00-\u9fff]")
# English UI words that must not appear in a Chinese deck (data values such as MedDRA terms,
# arm codes and endpoint names are not UI words and may stay in English).
ENGLISH_UI_WORDS = ("Population", "Time point", "Subgroups", "Date:", "Study file",
                    "Synthetic", "Method", "Baseline", "Completers", "Download", "Female",
                    "Year 1", "Month", "Safety population", "rows", "Flow of subjects",
                    "response rate", "Transition matrix")


@pytest.fixture(autouse=True)
def _chromium():
    if not export.chromium_available():
        reason = f"the deck renders figures with Debian's Chromium at {export.CHROMIUM_PATH}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason + " (not found; CI=true requires it)")
        pytest.skip(reason + " (not found)")


def _cli(tmp_path: Path, name: str, *args: str) -> Presentation:
    out = tmp_path / name
    proc = subprocess.run([sys.executable, "-m", "analytics", "deck", "--out", str(out), *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr
    assert out.exists()
    return Presentation(str(out))


def _all_text(prs) -> str:
    return "\n".join(x for s in prs.slides for x in slide_texts(s))


def _slide_titles(item, lang) -> list[str]:
    """The title(s) an item's slides carry: the figure's first title line, or the table's
    title and its "(cont.)" form, as fitted to two lines."""
    title = deck.figure_plain_title(item)[0] if item.kind == "figure" else item.title
    return [deck.fit_title(x, lang)[0]
            for x in (title, t("deck.continued", lang, title=title))]


def _check_slides(prs, study, lang, population, timepoint, filters, pages):
    slides = deck_items(study, lang, population, timepoint, filters, pages)
    title = "\n".join(slide_texts(prs.slides[0]))
    assert t(f"population.{population}", lang) in title
    assert t(f"visit.{timepoint}", lang) in title
    remaining = list(prs.slides)[1:]
    for _, item in slides:
        slide = remaining.pop(0)
        texts = slide_texts(slide)
        if item is None:
            assert t("deck.empty", lang) in texts
            continue
        first, cont = _slide_titles(item, lang)
        assert first in texts, (first, texts[:3])
        kinds = {s.shape_type for s in slide.shapes}
        if item.kind == "figure":
            assert MSO_SHAPE_TYPE.PICTURE in kinds
            pic = next(s for s in slide.shapes if s.shape_type == MSO_SHAPE_TYPE.PICTURE)
            css_width = pic.width / 914400 * deck.PX_PER_INCH  # the picture's size on the slide
            assert abs(pic.image.size[0] - deck.SLIDE_FIG_SCALE * css_width) <= 2  # 2× render
        else:
            assert any(s.has_table for s in slide.shapes)
            while remaining and cont in slide_texts(remaining[0]):
                remaining.pop(0)  # the table continues
        # method and footnote in the speaker notes; the short source line on the slide
        assert item.caption in slide.notes_slide.notes_text_frame.text
        assert deck.source_text(item, lang) in texts
        if study.synthetic:
            assert t("synthetic.label", lang) in texts
    assert not remaining
    # projector-readable type: nothing below 11 pt (tables), titles 24 pt or more
    for slide in prs.slides:
        for shape, run, _ in slide_runs(slide):
            assert run.font.size is not None and run.font.size >= Pt(11)
            if shape.top == deck.TITLE_TOP:
                assert run.font.size >= Pt(24)
    return slides


def test_cli_deck_en_all_pages(tmp_path, study):
    prs = _cli(tmp_path, "en.pptx")
    slides = _check_slides(prs, study, "en", "completers", "Y1", {}, None)
    assert {k for k, _ in slides} == set(PAGE_KEYS)
    assert prs.slide_width * 9 == prs.slide_height * 16 or \
        abs(prs.slide_width / prs.slide_height - 16 / 9) < 0.01


def test_cli_deck_zh_with_filters(tmp_path, study):
    prs = _cli(tmp_path, "zh.pptx", "--lang", "zh", "--population", "nri", "--timepoint", "Y3",
               "--sex", "F", "--prior-bdmard", "0")
    _check_slides(prs, study, "zh", "nri", "Y3", {"sex": "F", "prior_bdmard": 0}, None)
    text = _all_text(prs)
    assert len(CJK.findall(text)) > 200
    found = [w for w in ENGLISH_UI_WORDS if w in text]
    assert not found, found
    assert t("filter.sex.F", "zh") in "\n".join(slide_texts(prs.slides[0]))


def test_cli_deck_subset_of_pages(tmp_path, study):
    prs = _cli(tmp_path, "subset.pptx", "--pages", "overview,sae_listing", "--timepoint", "Y5")
    slides = _check_slides(prs, study, "en", "completers", "Y5", {},
                           ["overview", "sae_listing"])
    assert [k for k, _ in slides] == ["overview", "overview", "sae_listing"]


def test_cli_deck_other_study(tmp_path, study):
    prs = _cli(tmp_path, "other.pptx", "--study", str(study.path), "--pages", "medications")
    _check_slides(prs, study, "en", "completers", "Y1", {}, ["medications"])


def test_cli_rejects_unknown_page(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "analytics", "deck", "--out",
                           str(tmp_path / "x.pptx"), "--pages", "nope"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "nope" in proc.stderr
    assert not (tmp_path / "x.pptx").exists()


def test_deck_from_sidebar_button(study):
    from streamlit.testing.v1 import AppTest

    from dashboard import ui
    ui.get_study.clear()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.session_state["filter_lang"] = "zh"
    at.session_state["filter_tp"] = "Y3"
    at.run()
    pages = ["overview", "safety_overview"]
    at.multiselect(key="deck_pages").set_value(pages).run()
    at.button(key="deck_build").click().run()
    assert not at.exception, [e.value for e in at.exception]
    signature, data = at.session_state["_deck"]
    prs = Presentation(io.BytesIO(data))
    _check_slides(prs, study, "zh", "completers", "Y3", {}, pages)
    assert any(b.proto.label == t("deck.download", "zh") for b in at.get("download_button"))
