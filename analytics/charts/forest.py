"""Subgroup forest plot and the planner's power-vs-n curves.

The forest plot takes a :func:`analytics.forest.forest_response` or
:func:`analytics.forest.forest_survival` frame: one row per subgroup level (top to bottom in the
frame's order), the estimate with its 95 % CI, a line at no effect; rows that cannot be estimated
are listed with "not estimable" and the reason instead of a point.
"""
from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go

from ..caution import not_estimable
from ..i18n import fmt_number, fmt_p, t
from .theme import ARM_COLORS, FigureSpec, bare, finish
from ..planner import n_axis_label

_POINT_COLOR = "#333333"
_ADJUSTED_COLOR = ARM_COLORS["MSC_IFNG"]


def forest_figure(df: pd.DataFrame, measure: str = "diff") -> go.Figure:
    """``measure``: ``diff`` (response difference, % points), ``odds_ratio`` or ``hazard_ratio``
    (log axis)."""
    attrs, lang = df.attrs, df.attrs.get("lang", "en")
    cols = {"diff": ("diff", "diff_ci_low", "diff_ci_high", "forest.axis.diff", 100.0, 0.0),
            "odds_ratio": ("odds_ratio", "or_ci_low", "or_ci_high", "forest.axis.or", 1.0, 1.0),
            "hazard_ratio": ("hazard_ratio", "hr_ci_low", "hr_ci_high", "forest.axis.hr", 1.0,
                             1.0)}
    if measure not in cols:
        raise ValueError(f"unknown measure {measure!r}; expected one of {tuple(cols)}")
    value, low, high, axis_key, scale, null = cols[measure]
    df = bare(df)
    # the adjusted row is an odds ratio only: no difference to draw
    rows = (df[df["row_kind"] != "adjusted"] if measure == "diff" else df).reset_index(drop=True)
    y = list(range(len(rows)))  # numeric rows, top to bottom; labels set as tick text
    estimable = rows[value].notna()
    fig = FigureSpec()
    for kind, color, symbol in (("level", _POINT_COLOR, "square"),
                                ("overall", _POINT_COLOR, "diamond"),
                                ("adjusted", _ADJUSTED_COLOR, "diamond-open")):
        sel = estimable & (rows["row_kind"] == kind)
        if not sel.any():
            continue
        r = rows[sel]
        fig.add_trace(dict(
            type="scatter", x=r[value] * scale, y=[y[i] for i in r.index], mode="markers", showlegend=False,
            marker=dict(color=color, symbol=symbol, size=11),
            error_x=dict(type="data", symmetric=False, color=color,
                         array=(r[high] - r[value]) * scale, arrayminus=(r[value] - r[low]) * scale),
            hovertext=[f"{lab}: {fmt_number(v * scale, 2, lang)} "
                       f"({fmt_number(lo * scale, 2, lang)}–{fmt_number(hi * scale, 2, lang)})"
                       for lab, v, lo, hi in zip(r["label"], r[value], r[low], r[high])],
            hoverinfo="text"))
    # not estimable rows: say so at the line of no effect (the reason on hover)
    for i in rows.index[~estimable]:
        reason = rows.at[i, "reason"] or "not_converged"
        fig.add_annotation(x=null * scale if measure == "diff" else math.log10(null), y=y[i],
                           text=t("not_estimable.short", lang), hovertext=not_estimable(reason, lang),
                           showarrow=False, xanchor="left", font=dict(size=12, color="#777"))
    ticktext = []
    for _, r in rows.iterrows():
        text = r["label"]
        if r["row_kind"] == "level" and r.get("interaction_p") == r.get("interaction_p"):
            text += f" · {t('forest.col.interaction', lang)} {fmt_p(r['interaction_p'], lang)}"
        ticktext.append(text)
    fig.add_vline(x=null * scale, line=dict(color="#888", dash="dot", width=1.2))
    fig.update_yaxes(tickmode="array", tickvals=y, ticktext=ticktext, autorange=False,
                     range=[len(rows) - 0.5, -0.5], showgrid=False, zeroline=False)
    fig.update_xaxes(title_text=t(axis_key, lang), type="log" if measure != "diff" else "linear")
    if measure != "diff":
        # a ratio axis spans the finite limits and no effect, at least 0.1 to 10
        limits = [v for v in (*rows[low], *rows[high]) if v == v and 0 < v < math.inf]
        fig.update_xaxes(range=[math.log10(min([0.1, *limits])), math.log10(max([10.0, *limits]))])
    return finish(fig, attrs, height=max(420, 60 + 34 * len(rows)))


def power_figure(df: pd.DataFrame) -> go.Figure:
    """Power vs n per arm from :func:`analytics.planner.plan_response` (normal approximation and
    exact Fisher) or :func:`analytics.planner.plan_survival` (Schoenfeld), with the target."""
    attrs, lang = df.attrs, df.attrs.get("lang", "en")
    df = bare(df)
    fig = FigureSpec()
    series = [(c, key, dash) for c, key, dash in (
        ("power_normal", "planner.col.power_normal", "solid"),
        ("power_fisher", "planner.col.power_fisher", "dash"),
        ("power", "planner.col.power", "solid")) if c in df]
    for col, key, dash in series:
        fig.add_trace(dict(type="scatter", x=df["n_per_arm"], y=df[col] * 100,
                           mode="lines+markers", name=t(key, lang),
                           line=dict(dash=dash, shape="linear")))
    target = attrs.get("assumptions", {}).get("power")
    if target is not None:
        fig.add_hline(y=target * 100, line=dict(color="#888", dash="dot"),
                      annotation_text=t("planner.target", lang))
    plan = attrs.get("plan", {})
    if plan.get("reason"):
        fig.add_annotation(x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False,
                           text=not_estimable(plan["reason"], lang))
    equal = attrs.get("assumptions", {}).get("ratio", 1.0) == 1
    fig.update_xaxes(title_text=t("planner.col.n_per_arm", lang) if equal
                     else n_axis_label("MSC", lang))
    fig.update_yaxes(title_text=t("planner.col.power", lang) + " (%)", range=[0, 100])
    return finish(fig, attrs)
