"""Safety figures: AE and SAE rates by year of follow-up, and rates per term with rate ratios.

Both take the frames of :mod:`analytics.safety` (``ae_rates_by_year``, ``ae_rates``) and return
a plotly Figure finished with :func:`analytics.charts.theme.finish` (title, fonts, caption).
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ..i18n import t
from ..safety import term_label
from ..schema import ARMS
from .theme import ARM_COLORS, ARM_DASH, ARM_SYMBOLS, arm_label, bare, finish, subplots

_ARM_OFFSET = {"MSC": -0.08, "MSC_IFNG": 0.08}  # side by side, so the error bars do not overlap


def _num(value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return "∞" if math.isinf(value) else f"{value:.2f}"


def _hover(rows: pd.DataFrame, arm: str, lang: str) -> list[str]:
    return [t("safety.chart.hover_rate", lang, arm=arm_label(arm, lang), events=int(e),
              py=_num(py), rate=_num(r), low=_num(lo), high=_num(hi))
            for e, py, r, lo, hi in zip(rows["events"], rows["person_years"], rows["rate"],
                                        rows["ci_low"], rows["ci_high"])]


def rates_by_year_figure(df: pd.DataFrame) -> go.Figure:
    """AE (left) and SAE (right) rates per 100 PY by year of follow-up, per arm, with 95 % CIs."""
    attrs = df.attrs
    lang = attrs.get("lang", "en")
    df = bare(df)
    categories = list(dict.fromkeys(df["category"])) or ["any", "serious"]
    titles = [t(f"safety.cat.{c}", lang) for c in categories]
    fig = subplots(rows=1, cols=len(categories), subplot_titles=titles,
                        horizontal_spacing=0.08)
    for col, category in enumerate(categories, start=1):
        for arm in ARMS:
            rows = df[(df["category"] == category) & (df["arm"] == arm)].sort_values("year")
            if rows.empty:
                continue
            rate = rows["rate"]
            fig.add_trace(dict(
                type="scatter", x=rows["year"] + _ARM_OFFSET[arm], y=rate,
                mode="lines+markers",
                name=arm_label(arm, lang), legendgroup=arm, showlegend=(col == 1),
                line=dict(color=ARM_COLORS[arm], dash=ARM_DASH[arm]),
                marker=dict(color=ARM_COLORS[arm], symbol=ARM_SYMBOLS[arm], size=9),
                error_y=dict(type="data", symmetric=False, array=rows["ci_high"] - rate,
                             arrayminus=rate - rows["ci_low"], color=ARM_COLORS[arm],
                             thickness=1.2, width=4),
                hovertext=_hover(rows, arm, lang), hoverinfo="text"), row=1, col=col)
        years = sorted(df["year"].unique())
        fig.update_xaxes(title_text=t("safety.chart.year_axis", lang), tickmode="array",
                         tickvals=years, ticktext=[str(int(y)) for y in years], row=1, col=col)
        fig.update_yaxes(rangemode="tozero", row=1, col=col)
    fig.update_yaxes(title_text=t("safety.chart.rate_axis", lang), row=1, col=1)
    return finish(fig, attrs, title=attrs.get("title"), height=500,
                  layout=dict(legend=dict(y=1.08)))  # the legend above the panel titles


def term_rates_figure(df: pd.DataFrame, top: int | None = 20) -> go.Figure:
    """Dot plot of the rate per arm for each term (left) beside the rate ratio (right, log).

    ``top`` keeps the terms with the most events (the frame comes ordered by total events).
    A rate ratio of 0 or ∞ has no marker; its interval is drawn to the edge of the axis.
    """
    attrs = df.attrs
    lang = attrs.get("lang", "en")
    df = bare(df)
    terms = list(dict.fromkeys(df["term"]))
    if top:
        terms = terms[:top]
    df = df[df["term"].isin(terms)]
    order = list(reversed(terms))  # most frequent at the top
    pos = {term: i for i, term in enumerate(order)}  # numeric rows, so the arms can sit apart
    fig = subplots(rows=1, cols=2, shared_yaxes=True, column_widths=[0.6, 0.4],
                        horizontal_spacing=0.03)
    for arm in ARMS:
        rows = df[df["arm"] == arm].set_index("term").reindex(order).reset_index()
        rate = rows["rate"]
        fig.add_trace(dict(
            type="scatter", x=rate,
            y=[pos[term] - 1.5 * _ARM_OFFSET[arm] for term in rows["term"]],
            mode="markers", name=arm_label(arm, lang), legendgroup=arm,
            marker=dict(color=ARM_COLORS[arm], symbol=ARM_SYMBOLS[arm], size=9),
            error_x=dict(type="data", symmetric=False, array=rows["ci_high"] - rate,
                         arrayminus=rate - rows["ci_low"], color=ARM_COLORS[arm],
                         thickness=1.2, width=3),
            hovertext=_hover(rows, arm, lang), hoverinfo="text"), row=1, col=1)

    ratios = df.drop_duplicates("term").set_index("term").reindex(order).reset_index()
    finite = [v for v in (*ratios["rate_ratio"], *ratios["rr_low"], *ratios["rr_high"])
              if isinstance(v, float) and math.isfinite(v) and v > 0]
    lo_edge = min(finite + [1.0]) / 2
    hi_edge = max(finite + [1.0]) * 2
    xs, ys = [], []
    for term, low, high in zip(ratios["term"], ratios["rr_low"], ratios["rr_high"]):
        if pd.isna(low) or pd.isna(high):
            continue
        xs += [low if low > 0 else lo_edge, high if math.isfinite(high) else hi_edge, None]
        ys += [pos[term], pos[term], None]
    fig.add_trace(dict(type="scatter", x=xs, y=ys, mode="lines",
                       line=dict(color="#444", width=1.5), showlegend=False, hoverinfo="skip"),
                  row=1, col=2)
    rr = ratios["rate_ratio"].astype(float).to_numpy()
    shown = ratios[np.isfinite(rr) & (rr > 0)]
    fig.add_trace(dict(
        type="scatter", x=shown["rate_ratio"], y=[pos[term] for term in shown["term"]],
        mode="markers",
        name=t("safety.chart.rr_legend", lang),
        marker=dict(color="#444", symbol="square", size=8),
        hovertext=[t("safety.chart.hover_rr", lang, rr=_num(r), low=_num(lo), high=_num(hi))
                   for r, lo, hi in zip(shown["rate_ratio"], shown["rr_low"], shown["rr_high"])],
        hoverinfo="text"), row=1, col=2)
    fig.add_vline(x=1, line=dict(color="#999", dash="dot"), row=1, col=2)
    fig.update_xaxes(title_text=t("safety.chart.rate_axis_short", lang), rangemode="tozero",
                     row=1, col=1)
    fig.update_xaxes(title_text=t("safety.chart.rr_axis", lang), type="log",
                     range=[math.log10(lo_edge), math.log10(hi_edge)], row=1, col=2)
    by = attrs.get("by", "soc")
    fig.update_yaxes(tickmode="array", tickvals=list(range(len(order))),
                     ticktext=[term_label(term, by, lang) for term in order],
                     range=[-0.6, max(len(order), 1) - 0.4], showgrid=True, row=1, col=1)
    height = max(420, 160 + 28 * len(order))
    title = f"{attrs.get('title', '')}<br><sup>{t('safety.chart.rr_unbounded', lang)}</sup>"
    return finish(fig, attrs, title=title, height=height)
