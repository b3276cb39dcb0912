"""One look for every figure: arm colours (Okabe–Ito, readable with colour-vision deficiency),
fonts that carry Chinese, and the footnote under the plot."""
from __future__ import annotations

import plotly.graph_objects as go

from ..annotate import caption
from ..i18n import t

# Blue and orange from the Okabe–Ito palette: distinct under protan, deutan and tritan vision.
ARM_COLORS = {"MSC": "#0072B2", "MSC_IFNG": "#E69F00"}
ARM_DASH = {"MSC": "solid", "MSC_IFNG": "dash"}  # a second cue besides colour
ARM_SYMBOLS = {"MSC": "circle", "MSC_IFNG": "diamond"}
CATEGORY_COLORS = {  # disease activity, ordered from best to worst
    "remission": "#009E73", "low": "#56B4E9", "moderate": "#F0E442", "high": "#D55E00",
    "withdrawn": "#999999", "missing": "#D9D9D9",
}
FONT_FAMILY = "Noto Sans CJK SC, Noto Sans SC, Source Han Sans SC, Microsoft YaHei, Arial, sans-serif"


def arm_label(arm: str, lang: str) -> str:
    return t(f"arm.{arm}", lang)


def finish(fig: go.Figure, attrs: dict, *, title: str | None = None, height: int = 480) -> go.Figure:
    """Title, fonts, white background and the caption (population, N, method) under the plot."""
    text = caption(attrs)
    fig.update_layout(
        title=dict(text=title or attrs.get("title", ""), x=0.01, xanchor="left"),
        font=dict(family=FONT_FAMILY, size=14),
        template="plotly_white",
        height=height,
        margin=dict(l=70, r=30, t=70, b=70 + 18 * (1 + len(text) // 110)),
        legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1),
    )
    fig.add_annotation(text=_wrap(text, 110), xref="paper", yref="paper", x=0, y=0,
                       yshift=-60, xanchor="left", yanchor="top", showarrow=False,
                       align="left", font=dict(size=11, color="#444"))
    return fig


def _wrap(text: str, width: int) -> str:
    # Plotly annotations do not wrap; break at spaces (or anywhere for CJK) every ~width chars.
    lines, line = [], ""
    for word in text.replace("。", "。 ").split(" "):
        if len(line) + len(word) + 1 > width and line:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
        while len(line) > width:
            lines.append(line[:width])
            line = line[width:]
    if line:
        lines.append(line)
    return "<br>".join(lines)
