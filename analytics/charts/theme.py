"""One look for every figure: arm colours (Okabe–Ito, readable with colour-vision deficiency),
fonts that carry Chinese, and the footnote under the plot."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from ..annotate import caption
from ..i18n import t

# Blue and orange from the Okabe–Ito palette: distinct under protan, deutan and tritan vision.
ARM_COLORS = {"MSC": "#0072B2", "MSC_IFNG": "#E69F00"}
ARM_DASH = {"MSC": "solid", "MSC_IFNG": "dash"}  # a second cue besides colour
ARM_SYMBOLS = {"MSC": "circle", "MSC_IFNG": "diamond"}
CATEGORY_COLORS = {  # disease activity, ordered from best to worst
    "remission": "#009E73", "low": "#56B4E9", "moderate": "#F0E442", "high": "#D55E00",
    "withdrawn": "#999999", "missing": "#D9D9D9", "ended": "#EFE6D2",
}
FONT_FAMILY = "Noto Sans CJK SC, Noto Sans SC, Source Han Sans SC, Microsoft YaHei, Arial, sans-serif"

# The figures' template, registered once and made plotly's default: a new figure takes it when it
# is created, without the validation and deep copy that setting a template on a figure costs
# (about 25 ms a figure, most of the time a page took to build its charts).
TEMPLATE = "msc_ra"
pio.templates[TEMPLATE] = pio.templates["plotly_white"]
pio.templates.default = TEMPLATE


def bare(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` without its ``attrs`` (a shallow copy) for a chart's look-ups: pandas deep-copies
    a frame's attrs into every frame taken from it, which in a loop of look-ups costs more than
    the look-ups themselves."""
    out = df.copy(deep=False)
    out.attrs = {}
    return out


def arm_label(arm: str, lang: str) -> str:
    return t(f"arm.{arm}", lang)


def finish(fig: go.Figure, attrs: dict, *, title: str | None = None, height: int = 480,
           wrap: int = 110) -> go.Figure:
    """Title, fonts, white background (the :data:`TEMPLATE` every figure is created with) and
    the caption (population, N, method) under the plot.

    ``wrap`` is the caption's line width in Latin characters (a CJK character counts two); use
    a smaller one for a figure drawn in a narrow column.
    """
    text = wrap_lines(caption(attrs), wrap)
    n_lines = text.count("<br>") + 1
    fig.update_layout(
        title=dict(text=title or attrs.get("title", ""), x=0.01, xanchor="left"),
        font=dict(family=FONT_FAMILY, size=14),
        height=height,
        margin=dict(l=70, r=30, t=70, b=70 + 16 * n_lines),
        legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1),
    )
    fig.add_annotation(text=text, xref="paper", yref="paper", x=0, y=0,
                       yshift=-60, xanchor="left", yanchor="top", showarrow=False,
                       align="left", font=dict(size=11, color="#444"))
    return fig


def _width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def wrap_lines(text: str, width: int) -> str:
    # Plotly annotations do not wrap: break at spaces, and inside runs of CJK text (which has
    # none), so no line is wider than ``width``.
    lines, line = [], ""
    for word in text.split():
        candidate = f"{line} {word}" if line else word
        if _width(candidate) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        line = word
        while _width(line) > width:
            cut = 0
            while _width(line[:cut + 1]) <= width:
                cut += 1
            lines.append(line[:cut])
            line = line[cut:]
    if line:
        lines.append(line)
    return "<br>".join(lines)
