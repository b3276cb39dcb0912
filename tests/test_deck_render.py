"""The slide deck as a speaker projects it: each deck (both languages; default views and an
NRI / Female / Year 3 set) is rendered by LibreOffice (Debian's libreoffice-impress) to PDF and
read back with pdfplumber. For every slide: all text inside the slide, no two text lines
overlapping, no number split across lines, titles of at most two lines; from the PPTX: table
text ≥ 11 pt, other text ≥ 11 pt, titles ≥ 24 pt; chart text ≥ 14 pt at slide size (the
smallest font of the figure as rendered, times the picture's printed size per CSS pixel). The
slide images are saved to tests/artifacts/deck/ for a look.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from pptx import Presentation
from pptx.enum.shapes import MSO_SHAPE_TYPE
from pptx.util import Pt

from analytics import deck, export
from analytics.i18n import t
from deck_support import slide_runs, slide_texts

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts" / "deck"
DECKS = {
    "en-default": dict(lang="en", population="completers", timepoint="Y1", filters={}),
    "zh-default": dict(lang="zh", population="completers", timepoint="Y1", filters={}),
    "en-nri-female-y3": dict(lang="en", population="nri", timepoint="Y3", filters={"sex": "F"}),
    "zh-nri-female-y3": dict(lang="zh", population="nri", timepoint="Y3", filters={"sex": "F"}),
}
NUMBER = re.compile(r"\d+(?:[.,]\d+)+|\d{2,}")
OVERLAP_PT = 1.5  # text boxes may touch; overlapping by more than this is a collision


def _require(ok: bool, what: str) -> None:
    if ok:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(what + " (CI=true requires it)")
    pytest.skip(what)


def _tools() -> None:
    _require(export.chromium_available(),
             f"the deck renders figures with Debian's Chromium at {export.CHROMIUM_PATH}")
    _require(shutil.which("soffice") is not None,
             "rendering the deck needs LibreOffice (Debian's libreoffice-impress; make test "
             "installs it as root)")
    _require(shutil.which("pdftoppm") is not None,
             "saving slide images needs pdftoppm (Debian's poppler-utils)")


@pytest.fixture(scope="module", params=list(DECKS))
def rendered(request, study, tmp_path_factory):
    """(name, view, slides, PPTX, PDF path) of one deck, rendered by LibreOffice."""
    _tools()
    name, view = request.param, DECKS[request.param]
    slides = deck.deck_items(study, view["lang"], view["population"], view["timepoint"],
                             view["filters"])
    data = deck.render_deck(study, slides, **view)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pptx = ARTIFACTS / f"{name}.pptx"
    pptx.write_bytes(data)
    work = tmp_path_factory.mktemp(f"lo-{name}")
    proc = subprocess.run(
        ["soffice", f"-env:UserInstallation=file://{work / 'profile'}", "--headless",
         "--convert-to", "pdf", "--outdir", str(work), str(pptx)],
        capture_output=True, text=True, timeout=300)
    pdf = work / f"{name}.pdf"
    assert pdf.exists(), proc.stdout + proc.stderr
    shutil.copy(pdf, ARTIFACTS / pdf.name)
    for old in ARTIFACTS.glob(f"{name}-*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-r", "60", "-png", str(pdf), str(ARTIFACTS / name)],
                   check=True, timeout=300)
    return name, view, slides, Presentation(str(pptx)), pdf


# -- reading the PDF ----------------------------------------------------------------------------
def _line_segments(page) -> list[dict]:
    """Runs of words on one baseline with no wide gap: a text line of one shape."""
    words = page.extract_words(keep_blank_chars=False, use_text_flow=False,
                               extra_attrs=["size"])
    words.sort(key=lambda w: (round(w["bottom"]), w["x0"]))
    segments: list[dict] = []
    for w in words:
        last = segments[-1] if segments else None
        if (last and abs(last["bottom"] - w["bottom"]) < 1 and
                w["x0"] - last["x1"] < 0.8 * w["size"]):
            last.update(x1=max(last["x1"], w["x1"]), top=min(last["top"], w["top"]),
                        text=last["text"] + " " + w["text"])
        else:
            segments.append(dict(x0=w["x0"], x1=w["x1"], top=w["top"], bottom=w["bottom"],
                                 text=w["text"]))
    return segments


def _overlap(a: dict, b: dict) -> bool:
    dx = min(a["x1"], b["x1"]) - max(a["x0"], b["x0"])
    dy = min(a["bottom"], b["bottom"]) - max(a["top"], b["top"])
    return dx > OVERLAP_PT and dy > OVERLAP_PT


# -- the test -----------------------------------------------------------------------------------
def test_deck_renders_for_projection(rendered, study):
    import pdfplumber

    name, view, slides, prs, pdf = rendered
    lang = view["lang"]
    problems: list[str] = []
    assert abs(prs.slide_width / prs.slide_height - 16 / 9) < 0.01

    # PPTX: font sizes, and every shape inside the slide
    for n, slide in enumerate(prs.slides, start=1):
        for shape in slide.shapes:
            if (shape.left < 0 or shape.top < 0 or shape.left + shape.width > prs.slide_width
                    or shape.top + shape.height > prs.slide_height):
                problems.append(f"slide {n}: shape {shape.name} extends past the slide")
        for shape, run, in_table in slide_runs(slide):
            size = run.font.size
            if size is None or size < Pt(11):
                problems.append(f"slide {n}: {run.text[:30]!r} at {size and size.pt} pt "
                                f"(< 11 pt{' in a table' if in_table else ''})")
            if shape.top == deck.TITLE_TOP and size is not None and size < Pt(24) and n > 1:
                problems.append(f"slide {n}: title at {size.pt} pt")

    # Charts: rendered at the slide's size, smallest font ≥ 14 pt as printed
    figures = [item for _, item in slides if item is not None and item.kind == "figure"]
    pictures = [s for slide in prs.slides for s in slide.shapes
                if s.shape_type == MSO_SHAPE_TYPE.PICTURE]
    assert len(pictures) == len(figures)
    writer = deck.SlideWriter(lang, study.synthetic)
    for item, pic in zip(figures, pictures):
        fig = deck._plan_figure(writer, item).figure
        width_px, height_px = export.figure_size(fig)
        assert pic.image.size == (deck.SLIDE_FIG_SCALE * width_px,
                                  deck.SLIDE_FIG_SCALE * height_px), item.title
        pt_per_px = (pic.width / 12700) / width_px
        smallest = min(deck.figure_font_sizes(fig)) * pt_per_px
        if smallest < 14 - 1e-9:
            problems.append(f"chart {item.title!r}: smallest text {smallest:.1f} pt")

    # PDF as LibreOffice draws it
    with pdfplumber.open(pdf) as doc:
        assert len(doc.pages) == len(prs.slides)
        for n, (page, slide) in enumerate(zip(doc.pages, prs.slides), start=1):
            for c in page.chars:
                if c["x0"] < 0 or c["x1"] > page.width or c["top"] < 0 or \
                        c["bottom"] > page.height:
                    problems.append(f"slide {n}: {c['text']!r} outside the slide")
                    break
            segments = _line_segments(page)
            for i, a in enumerate(segments):
                for b in segments[i + 1:]:
                    if _overlap(a, b):
                        problems.append(f"slide {n}: {a['text'][:40]!r} overlaps "
                                        f"{b['text'][:40]!r}")
            for img in page.images:
                for s in segments:
                    if _overlap(s, dict(x0=img["x0"], x1=img["x1"], top=img["top"],
                                        bottom=img["bottom"])):
                        problems.append(f"slide {n}: {s['text'][:40]!r} over the figure")
            words = [w["text"] for w in page.extract_words()]
            for number in {m for x in slide_texts(slide) for m in NUMBER.findall(x)}:
                if not any(number in w for w in words):
                    problems.append(f"slide {n}: the number {number} is split across lines")
            title_lines = {round(c["top"]) for c in page.chars if c["size"] >= 23.5}
            if n > 1 and len(title_lines) > 2:
                problems.append(f"slide {n}: title on {len(title_lines)} lines")
    assert not problems, f"{name}:\n" + "\n".join(problems)


def test_slides_state_the_view(rendered, study):
    """Every content slide carries the one-line source of its own result (population ·
    comparison · subgroups · time point or window · N per arm · study file · synthetic flag);
    method and footnote are in the speaker notes, not on the slide. A result computed with the
    subgroup says so; one that ignores it (the flow of subjects) says "no subgroup filter"
    rather than listing it."""
    from analytics.provenance import _filters

    name, view, slides, prs, _ = rendered
    lang = view["lang"]
    items = [item for _, item in slides if item is not None]
    expected = {deck.source_text(item, lang) for item in items}
    subgroup = t("filter.sex.F", lang)
    for item in items:
        line = deck.source_text(item, lang)
        assert (subgroup in line) == bool(_filters(deck.item_attrs(item))), (name, line)
        assert (subgroup in line) == ("sex" in _filters(deck.item_attrs(item)))
    if view["filters"]:
        assert sum(subgroup in x for x in expected) >= len(expected) - 1  # all but the flow
    method = t("caption.method", lang, method="").strip()
    for n, slide in enumerate(list(prs.slides)[1:], start=2):
        texts = slide_texts(slide)
        sources = [x for x in texts if x in expected]
        assert len(sources) == 1, (name, n, texts[:3])
        assert study.path.name in sources[0]
        assert t("synthetic.label", lang) in sources[0] or not study.synthetic
        notes = slide.notes_slide.notes_text_frame.text if slide.has_notes_slide else ""
        assert method in notes, (name, n)
        assert not any(method in x for x in texts), (name, n, "method text on the slide")
