"""Kaplan–Meier figure: step curves per arm (CI bands and censor marks optional) and a
numbers-at-risk table drawn in plotly under the x-axis, each number exactly at an x tick."""
from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go

from ..caution import not_estimable
from ..display import fmt_duration
from ..i18n import t
from ..schema import ARMS
from ..survival import comparison_text
from .theme import ARM_COLORS, ARM_DASH, arm_label, bare, finish, subplots, wrap_lines


def _rgba(hex_color: str, alpha: float) -> str:
    h = hex_color.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def band_segments(x: list, low: list, high: list) -> list[tuple[list, list]]:
    """Closed step polygons of a pointwise CI, one per stretch where both limits are defined.

    The limits hold from ``x[i]`` to ``x[i + 1]`` (a step function; the last point ends the
    curve). Where a limit is undefined (NaN: the estimate is 0 or 1) no band is drawn, rather than
    a band of zero width.
    """
    def defined(i):
        return not (math.isnan(low[i]) or math.isnan(high[i]))

    segments, i, n = [], 0, len(x)
    while i < n:
        if not defined(i):
            i += 1
            continue
        j = i
        while j + 1 < n and defined(j + 1):
            j += 1
        end = x[j + 1] if j + 1 < n else x[j]
        xs, top, bottom = [], [], []
        for k in range(i, j + 1):
            right = x[k + 1] if k < j else end
            xs += [x[k], right]
            top += [high[k], high[k]]
            bottom += [low[k], low[k]]
        segments.append((xs + xs[::-1] + [xs[0]], top + bottom[::-1] + [top[0]]))
        i = j + 1
    return segments


def _tick_text(tick: float, in_months: bool) -> str:
    if in_months:  # a follow-up of up to a year reads in months, never "0.08"
        return f"{tick * 12:.{0 if abs(tick * 12 - round(tick * 12)) < 1e-9 else 1}f}"
    return f"{tick:g}" if abs(tick * 4 - round(tick * 4)) < 1e-9 else f"{tick:.2f}"


def survival_figure(res, scale: str = "survival", ci_bands: bool = True,
                    censor_marks: bool = True, lang: str | None = None,
                    height: int = 620) -> go.Figure:
    """The figure for a :class:`analytics.survival.SurvivalResult`.

    Parameters
    ----------
    res : SurvivalResult
    scale : ``survival`` (KM) or ``cumulative_incidence`` (1 − KM, or Aalen–Johansen for a
        competing-risk endpoint; see :func:`analytics.survival.scales_for`)
    ci_bands, censor_marks : bool
        Draw the 95 % CI bands / the censoring ticks on the curves.
    """
    attrs = res.curves.attrs
    all_curves, at_risk = bare(res.curves), bare(res.at_risk)
    lang = lang or attrs.get("lang", "en")
    ticks = list(res.ticks)
    x_max = ticks[-1] if ticks else 1.0
    if res.horizon_years is None and len(all_curves):
        x_max = max(x_max, float(all_curves["time"].max()))
    x_range = [-0.02 * x_max, x_max * 1.02]

    fig = subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.78, 0.22],
                        vertical_spacing=0.17)
    curves = all_curves[all_curves["scale"] == scale]
    for arm in ARMS:
        c = curves[curves["arm"] == arm].sort_values("time")
        if c.empty:
            continue
        color, name = ARM_COLORS[arm], arm_label(arm, lang)
        # Extend each step to the end of follow-up so the last value is visible.
        x = list(c["time"])
        y, lo, hi = list(c["estimate"]), list(c["ci_low"]), list(c["ci_high"])
        notes = list(c["ci_reason"])
        end = float(res.subjects.loc[res.subjects["arm"] == arm, "time"].max()) \
            if res.subjects is not None else x[-1]
        if end > x[-1]:
            x, y, lo, hi = x + [end], y + [y[-1]], lo + [lo[-1]], hi + [hi[-1]]
            notes = notes + [notes[-1]]
        if ci_bands:
            for bx, by in band_segments(x, lo, hi):
                fig.add_trace(dict(type="scatter", x=bx, y=by, mode="lines",
                                   line=dict(width=0), fill="toself",
                                   fillcolor=_rgba(color, 0.18), hoverinfo="skip",
                                   legendgroup=arm, showlegend=False,
                                   name=f"{name} {t('survival.ci', lang)}"),
                              row=1, col=1)
        fig.add_trace(dict(
            type="scatter", x=x, y=y, mode="lines", name=name, legendgroup=arm,
            line=dict(color=color, dash=ARM_DASH[arm], width=2.5, shape="hv"),
            # the time as the tables say it (weeks, months, years), whatever the axis unit
            customdata=[[fmt_duration(when, lang, fine=True), _ci_hover(a, b, reason, lang)]
                        for when, a, b, reason in zip(x, lo, hi, notes)],
            hovertemplate=f"{name}<br>%{{customdata[0]}}: %{{y:.3f}} "
                          f"({t('survival.ci', lang)} %{{customdata[1]}})<extra></extra>"),
            row=1, col=1)
        if censor_marks:
            cens = c[c["n_censored"] > 0]
            if not cens.empty:
                fig.add_trace(dict(
                    type="scatter", x=cens["time"], y=cens["estimate"], mode="markers",
                    legendgroup=arm,
                    name=f"{name} {t('survival.censored', lang)}", showlegend=False,
                    marker=dict(symbol="line-ns-open", size=10, color=color,
                                line=dict(width=1.5, color=color)),
                    customdata=[[n, fmt_duration(when, lang, fine=True)]
                                for n, when in zip(cens["n_censored"], cens["time"])],
                    hovertemplate=f"{name} {t('survival.censored', lang)}: "
                                  "%{customdata[0]} @ %{customdata[1]}<extra></extra>"),
                    row=1, col=1)

    # Numbers at risk: one text row per arm, each number at its tick.
    labels = {arm: arm_label(arm, lang) for arm in ARMS}
    for arm in ARMS:
        a = at_risk[at_risk["arm"] == arm]
        fig.add_trace(dict(
            type="scatter", x=a["time"], y=[labels[arm]] * len(a), mode="text",
            text=[str(n) for n in a["n_at_risk"]], textposition="middle center",
            textfont=dict(color=ARM_COLORS[arm], size=13), showlegend=False,
            customdata=a["n_events"],
            hovertemplate=f"{labels[arm]}: %{{text}} {t('survival.col.n_at_risk', lang)}, "
                          f"%{{customdata}} {t('survival.col.n_events_cum', lang)}"
                          "<extra></extra>"), row=2, col=1)

    in_months = bool(ticks) and ticks[-1] <= 1
    tick_text = [_tick_text(v, in_months) for v in ticks]
    fig.update_xaxes(range=x_range, tickmode="array", tickvals=ticks, ticktext=tick_text,
                     zeroline=False)
    axis_title = t("survival.axis.time_months" if in_months else "survival.axis.time", lang)
    fig.update_xaxes(showticklabels=True, title_text=axis_title,
                     title_standoff=4, row=1, col=1)
    fig.update_xaxes(showticklabels=False, showgrid=True, row=2, col=1)
    fig.update_yaxes(range=[-0.02, 1.02], tickformat=".0%",
                     title_text=t(f"survival.axis.{scale}", lang), row=1, col=1)
    fig.update_yaxes(type="category", categoryorder="array",
                     categoryarray=[labels[a] for a in reversed(ARMS)], showgrid=False,
                     range=[-0.6, len(ARMS) - 0.4], fixedrange=True, row=2, col=1)
    fig.add_annotation(text=f"<b>{t('survival.at_risk', lang)}</b>", xref="paper",
                       yref="y2 domain", x=0, y=1.0, xanchor="left", yanchor="bottom",
                       showarrow=False, font=dict(size=12))
    # The between-arm comparison (or why there is none) in a box inside the plot, on the side
    # the curves leave empty: below curves that end high, above curves that end low.
    ends = curves.groupby("arm")["estimate"].last() if len(curves) else pd.Series(dtype=float)
    low_side = bool(len(ends)) and float(ends.min()) > 0.5
    fig.add_annotation(text=wrap_lines(comparison_text(res, lang), 64), xref="x domain",
                       yref="y domain", x=0.99, y=0.03 if low_side else 0.97, xanchor="right",
                       yanchor="bottom" if low_side else "top", showarrow=False, align="left",
                       bgcolor="rgba(255,255,255,0.85)", bordercolor="#bbb", borderwidth=1,
                       font=dict(size=12))   # the refs of row 1, col 1
    return finish(fig, attrs, title=attrs.get("title"), height=height)


def _ci_hover(low: float, high: float, reason: str, lang: str) -> str:
    if math.isnan(low) or math.isnan(high):
        return not_estimable(reason or "undefined_bound", lang)
    return f"{low:.3f}–{high:.3f}"
