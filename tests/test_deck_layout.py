"""Slide layout without rendering: text measurement and line breaking, title fitting, table
column widths that never break a number, continuation and "n more in the XLSX", figures laid
out at the slide's size with projector-sized fonts. (The rendered deck: test_deck_render.py.)"""
from __future__ import annotations

import io

import pandas as pd
import plotly.graph_objects as go
import pytest
from pptx import Presentation
from pptx.util import Pt

from analytics import deck, slide_text, views
from analytics.i18n import t
from deck_support import slide_runs, slide_texts


def test_width_grows_with_text_and_size_and_cjk_counts_wider():
    assert slide_text.width_pt("", 12) == 0
    assert slide_text.width_pt("0.001", 24) == pytest.approx(2 * slide_text.width_pt("0.001", 12))
    # a Chinese character is about one em; a Latin letter about half
    assert slide_text.width_pt("缓解", 12) > slide_text.width_pt("ab", 12)
    # Liberation Sans (Arial metrics): digits are 0.556 em
    assert slide_text.width_pt("0", 10) == pytest.approx(5.56, abs=0.1)


@pytest.mark.parametrize("text", ["0.99 (0.73–1.36)", "35 (50.7 %)", "< 0.001", "12.5",
                                  "第 1 年 12.5"])
def test_numeric_cells_are_one_token(text):
    if any(slide_text.is_cjk(c) for c in text):
        assert not slide_text.is_numeric(text)
    else:
        assert slide_text.is_numeric(text)
        assert slide_text.min_width_pt(text, 12) == slide_text.width_pt(text, 12)


def test_wrap_breaks_at_spaces_and_between_chinese_characters():
    lines = slide_text.wrap("Adverse events by system organ class", 80, 12)
    assert all(slide_text.width_pt(x, 12) <= 80 for x in lines)
    assert " ".join(lines) == "Adverse events by system organ class"
    zh = slide_text.wrap("按系统器官分类的不良事件发生率", 50, 12)
    assert len(zh) > 1 and "".join(zh) == "按系统器官分类的不良事件发生率"
    # a token wider than the line is cut (as a presentation program would)
    assert len(slide_text.wrap("supercalifragilistic", 30, 12)) > 1


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_title_fits_two_lines_or_is_shortened(lang):
    short = t("deck.study_title", lang)
    assert deck.fit_title(short, lang) == (short, deck.TITLE_PT, False)
    long = " ".join([short] * 6)
    text, size, shortened = deck.fit_title(long, lang)
    width = (deck.TEXT_W - 2 * deck.BOX_PAD) / 12700 / deck.WIDTH_SAFETY
    assert shortened and text.endswith("…") and size == deck.TITLE_MIN_PT
    assert slide_text.line_count(text, width, size, bold=True) <= deck.TITLE_LINES


def _table_item(rows: int, key: str = "demo") -> views.Item:
    df = pd.DataFrame({
        "Category": [f"Serious adverse event number {i}" for i in range(rows)],
        "Events": list(range(rows)),
        "Rate per 100 PY (95% CI)": ["12.34 (10.01–123.45)"] * rows,
        "p": ["< 0.001"] * rows,
    })
    df.attrs.update(title="A demonstration table", population="safety",
                    population_label="Safety population", n_per_arm={"MSC": 79, "MSC_IFNG": 31},
                    method="exact Poisson", footnote="A footnote.", lang="en", synthetic=True)
    return views.Item("table", df.attrs["title"], key, caption="caption text", frame=df,
                      attrs=dict(df.attrs))


def _deck_of(items) -> Presentation:
    writer = deck.SlideWriter("en", True)
    for item in items:
        deck._table_slides(writer, item)
    return Presentation(io.BytesIO(writer.save()))


def test_numbers_get_their_whole_width_and_text_at_least_11_pt():
    prs = _deck_of([_table_item(5)])
    slide = prs.slides[0]
    table = next(s for s in slide.shapes if s.has_table).table
    size = next(r.font.size for _, r, in_table in slide_runs(slide) if in_table)
    assert size >= Pt(11)
    ci_col = 2
    need = slide_text.width_pt("12.34 (10.01–123.45)", size.pt) + 2 * deck.CELL_PAD_X / 12700
    assert table.columns[ci_col].width / 12700 >= need
    assert sum(c.width for c in table.columns) <= deck.TEXT_W
    assert "caption text" in slide.notes_slide.notes_text_frame.text
    assert not any("exact Poisson" in x for x in slide_texts(slide))


def test_long_table_continues_and_long_listing_points_to_the_xlsx():
    prs = _deck_of([_table_item(40)])
    titles = [slide_texts(s)[1] for s in prs.slides]  # [0] is the synthetic label
    assert len(prs.slides) > 1
    assert titles[0] == "A demonstration table"
    assert all(x == t("deck.continued", "en", title="A demonstration table")
               for x in titles[1:])
    rows = sum(len(next(s for s in sl.shapes if s.has_table).table.rows) - 1
               for sl in prs.slides)
    assert rows == 40  # every row once, the header repeated
    listing = _deck_of([_table_item(40, key="sae_listing")])
    assert len(listing.slides) == 1
    shown = len(next(s for s in listing.slides[0].shapes if s.has_table).table.rows) - 1
    assert t("deck.more_in_xlsx", "en", n=40 - shown, total=40) in slide_texts(listing.slides[0])


def test_slide_figure_is_laid_out_at_slide_size_with_projector_fonts():
    fig = go.Figure(go.Bar(x=["a", "b"], y=[1, 2], text=["n=1", "n=2"],
                           textfont=dict(size=10)))
    fig.update_layout(title="Title<br><sup>a note</sup>", font=dict(size=14), width=1000,
                      height=760, xaxis=dict(domain=[0, 0.2], title=dict(
                          text="Rate ratio IFN-γ arm / MSC (log scale)")))
    fig.add_annotation(text="caption", xref="paper", yref="paper", x=0, y=0, yshift=-60,
                       xanchor="left", yanchor="top", showarrow=False, font=dict(size=11))
    spec = deck.slide_figure(fig, 1190, 470)
    layout = spec["layout"]
    assert (layout["width"], layout["height"]) == (1190, 470)
    assert "title" not in layout and not layout.get("annotations")
    assert min(deck.figure_font_sizes(spec)) >= deck.CHART_MIN_PX
    assert deck.CHART_MIN_PX * 0.75 >= 14  # 1 CSS px = 1/96 in = 0.75 pt on the slide
    assert "<br>" in layout["xaxis"]["title"]["text"]  # too wide for its narrow panel
    item = views.Item("figure", "x", "k", figure=fig)
    assert deck.figure_plain_title(item) == ("Title", "a note")
