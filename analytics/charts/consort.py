"""A CONSORT-style flow of subjects, drawn with plotly shapes from the disposition frame."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from ..i18n import fmt_percent, t
from ..schema import ARMS
from ..scope import describe_filters
from .theme import ARM_COLORS, FONT_FAMILY, FigureSpec, arm_label, finish


def consort_figure(disposition: pd.DataFrame) -> go.Figure:
    """Randomised → per arm → withdrew (by reason) → completed, one column per arm."""
    lang = disposition.attrs.get("lang", "en")
    d = disposition.set_index("arm")
    fig = FigureSpec()
    total = int(d.randomized.sum())

    def box(x, y, text, color="#333", w=0.46, h=0.13):
        fig.add_shape(type="rect", x0=x - w / 2, x1=x + w / 2, y0=y - h / 2, y1=y + h / 2,
                      line=dict(color=color, width=2), fillcolor="white", layer="below")
        fig.add_annotation(x=x, y=y, text=text, showarrow=False, font=dict(size=13))

    def arrow(x0, y0, x1, y1):
        fig.add_annotation(x=x1, y=y1, ax=x0, ay=y0, xref="x", yref="y", axref="x", ayref="y",
                           showarrow=True, arrowhead=2, arrowwidth=1.5, arrowcolor="#555",
                           text="")

    box(0.5, 0.92, f"<b>{t('overview.randomized', lang)}</b><br>N = {total}", w=0.5)
    for x, arm in zip((0.25, 0.75), ARMS):
        r = d.loc[arm]
        color = ARM_COLORS[arm]
        arrow(0.5, 0.855, x, 0.72)
        box(x, 0.66, f"<b>{arm_label(arm, lang)}</b><br>n = {int(r.randomized)}", color)
        reasons = "<br>".join(
            f"{t(f'overview.reason.{reason}', lang)}: {int(r[f'withdrawn_{reason}'])}"
            for reason in ("lack_of_efficacy", "adverse_event", "other")
            if int(r[f"withdrawn_{reason}"]) > 0)
        arrow(x, 0.595, x, 0.47)
        box(x, 0.38, f"{t('overview.withdrew', lang)}: n = {int(r.withdrawn)}<br>{reasons}",
            color, h=0.17)
        arrow(x, 0.295, x, 0.17)
        share = 100 * r.completed / r.randomized if r.randomized else float("nan")
        box(x, 0.1, f"<b>{t('overview.completed', lang)}</b><br>n = {int(r.completed)}"
                    f" ({fmt_percent(share, 1, lang)})", color)
    fig.update_xaxes(visible=False, range=[0, 1])
    fig.update_yaxes(visible=False, range=[0, 1])
    fig.update_layout(font=dict(family=FONT_FAMILY), showlegend=False)
    title = t("overview.flow", lang)
    subgroup = describe_filters(disposition.attrs.get("filters") or {}, lang)
    if subgroup:  # the flow of a subgroup says so where the eye lands first
        title = f"{title} · {subgroup}"
    return finish(fig, disposition.attrs, title=title, height=560, wrap=80)
