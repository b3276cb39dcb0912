"""Efficacy figures: response rate over time, trajectories of continuous measures, medication use.

Each takes the frame of its analysis (:mod:`analytics.response`, :mod:`analytics.trajectories`,
:mod:`analytics.medications`) and returns a plotly Figure finished with
:func:`analytics.charts.theme.finish` (title, fonts, caption with population, N and method).
"""
from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go

from ..i18n import t
from ..schema import ARMS, VISIT_MONTHS
from .theme import (ARM_COLORS, ARM_DASH, ARM_SYMBOLS, FigureSpec, arm_label, bare, finish,
                    subplots)

_ARM_OFFSET = {"MSC": -0.04, "MSC_IFNG": 0.04}  # years; keeps the two arms' error bars apart
_BAR_PATTERN = {"MSC": "", "MSC_IFNG": "/"}  # a second cue besides colour
_N_POSITION = {"MSC": "bottom center", "MSC_IFNG": "top center"}  # keeps the arms' n apart


def _fmt(value: float, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.{digits}f}"


def _year_ticks(years) -> dict:
    ticks = sorted({int(y) for y in years if float(y).is_integer()})
    return dict(tickmode="array", tickvals=ticks, ticktext=[str(v) for v in ticks])


def _mark_timepoint(fig: FigureSpec | go.Figure, timepoint: str | None, lang: str) -> None:
    if timepoint and timepoint in VISIT_MONTHS:
        x = VISIT_MONTHS[timepoint] / 12
        label = f"{t(f'visit.{timepoint}', lang)} ({t('efficacy.chart.selected', lang)})"
        fig.add_vline(x=x, line=dict(color="#666", dash="dot", width=1.5),
                      annotation_text=label,
                      annotation_position="top", annotation_font=dict(size=11, color="#444"))


def response_figure(df: pd.DataFrame, timepoint: str | None = None) -> go.Figure:
    """Response rate (%) per arm over years since infusion, 95 % CI error bars, a dotted line at
    the selected time point. ``df`` is a :func:`analytics.response.response_rates` frame."""
    attrs = df.attrs
    lang = attrs.get("lang", "en")
    df = bare(df)
    fig = FigureSpec()
    for arm in ARMS:
        rows = df[(df["arm"] == arm) & (df["n"] > 0)].sort_values("years")
        if rows.empty:
            continue
        rate = rows["rate"] * 100
        hover = [t("efficacy.chart.hover_rate", lang, arm=arm_label(arm, lang),
                   timepoint=t(f"visit.{tp}", lang), k=int(k), n=int(n), rate=_fmt(r * 100),
                   low=_fmt(lo * 100), high=_fmt(hi * 100))
                 for tp, k, n, r, lo, hi in zip(rows["timepoint"], rows["responders"], rows["n"],
                                                rows["rate"], rows["ci_low"], rows["ci_high"])]
        fig.add_trace(dict(
            type="scatter", x=rows["years"] + _ARM_OFFSET[arm], y=rate, mode="lines+markers+text",
            name=arm_label(arm, lang),
            # n per arm and time point beside each point (denominators change under NRI)
            text=[f"n={int(n)}" for n in rows["n"]], textposition=_N_POSITION[arm],
            textfont=dict(size=9, color=ARM_COLORS[arm]),
            line=dict(color=ARM_COLORS[arm], dash=ARM_DASH[arm]),
            marker=dict(color=ARM_COLORS[arm], symbol=ARM_SYMBOLS[arm], size=8),
            error_y=dict(type="data", symmetric=False, array=rows["ci_high"] * 100 - rate,
                         arrayminus=rate - rows["ci_low"] * 100, color=ARM_COLORS[arm],
                         thickness=1.2, width=3),
            hovertext=hover, hoverinfo="text"))
    _mark_timepoint(fig, timepoint, lang)
    fig.update_xaxes(title_text=t("efficacy.chart.time_axis", lang), **_year_ticks(df["years"]))
    fig.update_yaxes(title_text=t("efficacy.chart.rate_axis", lang), range=[-2, 105])
    return finish(fig, attrs)


def trajectory_figure(df: pd.DataFrame, individual: pd.DataFrame | None = None,
                      change: bool = False, timepoint: str | None = None) -> go.Figure:
    """Mean (95 % CI band) per arm over years since infusion; optionally the change from
    baseline instead of the value, and thin per-subject lines underneath.

    ``df`` is an :func:`analytics.trajectories.trajectories` frame, ``individual`` a
    :func:`analytics.trajectories.subject_values` frame.
    """
    attrs = df.attrs
    lang = attrs.get("lang", "en")
    measure = attrs.get("measure", "")
    name = t(f"efficacy.measure.{measure}", lang) if measure else ""
    y, lo_col, hi_col = (("mean_change", "change_ci_low", "change_ci_high") if change
                         else ("mean", "ci_low", "ci_high"))
    df = bare(df)
    fig = FigureSpec()
    if individual is not None and not individual.empty:
        individual = bare(individual)
        value_col = "change" if change else "value"
        for arm in ARMS:
            sub = individual[(individual["arm"] == arm) & individual[value_col].notna()]
            years, values = sub["years"].tolist(), sub[value_col].tolist()
            rows_of: dict = {}  # subject -> its rows, subjects in order of appearance
            for i, subject in enumerate(sub["subject_id"]):
                rows_of.setdefault(subject, []).append(i)
            xs, ys, ids = [], [], []
            for subject, rows in rows_of.items():  # one line per subject, None between lines
                xs += [*(years[i] for i in rows), None]
                ys += [*(values[i] for i in rows), None]
                ids += [subject] * len(rows) + [None]
            if xs:
                # The subject id in customdata maps a clicked or selected line back to its
                # subject (analytics.profile.subject_ids_from_selection); hover names it.
                # Small markers at the visits: plotly selects points, not bare lines.
                fig.add_trace(dict(
                    type="scatter", x=xs, y=ys, mode="lines+markers", customdata=ids, hovertext=ids,
                    marker=dict(size=4, color=ARM_COLORS[arm]),
                    hoverinfo="text", legendgroup=f"ind_{arm}",
                    name=f"{arm_label(arm, lang)} · {t('efficacy.chart.individual', lang)}",
                    showlegend=False,
                    line=dict(color=ARM_COLORS[arm], width=0.6), opacity=0.25))
    for arm in ARMS:
        rows = df[df["arm"] == arm].sort_values("years")
        if rows.empty:
            continue
        band = rows[rows[lo_col].notna()]
        if not band.empty:
            fig.add_trace(dict(
                type="scatter", x=[*band["years"], *band["years"][::-1]],
                y=[*band[hi_col], *band[lo_col][::-1]], fill="toself", mode="lines",
                line=dict(width=0), fillcolor=ARM_COLORS[arm], opacity=0.18,
                hoverinfo="skip", showlegend=False, legendgroup=arm))
        hover = [t("efficacy.chart.hover_mean", lang, arm=arm_label(arm, lang),
                   timepoint=t(f"visit.{tp}", lang), n=int(n), mean=_fmt(m, 2),
                   low=_fmt(lo, 2), high=_fmt(hi, 2))
                 for tp, n, m, lo, hi in zip(rows["timepoint"],
                                             rows["n_change" if change else "n"],
                                             rows[y], rows[lo_col], rows[hi_col])]
        fig.add_trace(dict(
            type="scatter", x=rows["years"], y=rows[y], mode="lines+markers", name=arm_label(arm, lang),
            legendgroup=arm, line=dict(color=ARM_COLORS[arm], dash=ARM_DASH[arm], width=2.5),
            marker=dict(color=ARM_COLORS[arm], symbol=ARM_SYMBOLS[arm], size=8),
            hovertext=hover, hoverinfo="text"))
    _mark_timepoint(fig, timepoint, lang)
    axis = "efficacy.traj.axis.change" if change else "efficacy.traj.axis.value"
    fig.update_xaxes(title_text=t("efficacy.chart.time_axis", lang), **_year_ticks(df["years"]))
    fig.update_yaxes(title_text=t(axis, lang, measure=name))
    return finish(fig, attrs)


def _short_visit(visit: str, lang: str) -> str:
    months = VISIT_MONTHS[visit]
    if months == 0:
        return t("efficacy.short.BL", lang)
    if months % 12 == 0:
        return t("efficacy.short.year", lang, n=months // 12)
    return t("efficacy.short.month", lang, n=months)


def medications_figure(df: pd.DataFrame) -> go.Figure:
    """Grouped bars: % of subjects using each drug class (one panel per class) at each time
    point, per arm. ``df`` is an :func:`analytics.medications.medications` frame."""
    attrs = df.attrs
    lang = attrs.get("lang", "en")
    df = bare(df)
    classes = list(dict.fromkeys(df["drug_class"]))
    fig = subplots(rows=1, cols=max(1, len(classes)), shared_yaxes=True,
                   horizontal_spacing=0.02,
                   subplot_titles=[t(f"efficacy.drug.{c}", lang) for c in classes])
    for col, cls in enumerate(classes, start=1):
        for arm in ARMS:
            rows = df[(df["arm"] == arm) & (df["drug_class"] == cls)]
            hover = [t("efficacy.meds.hover", lang, arm=arm_label(arm, lang),
                       drug=t(f"efficacy.drug.{cls}", lang), timepoint=t(f"visit.{tp}", lang),
                       k=int(k), n=int(n), pct=_fmt(p, 1))
                     for tp, k, n, p in zip(rows["timepoint"], rows["count"], rows["n"],
                                            rows["percent"])]
            fig.add_trace(dict(
                type="bar", x=[_short_visit(tp, lang) for tp in rows["timepoint"]],
                y=rows["percent"],
                name=arm_label(arm, lang), legendgroup=arm, showlegend=(col == 1),
                marker=dict(color=ARM_COLORS[arm], pattern=dict(shape=_BAR_PATTERN[arm])),
                text=[_fmt(p, 0) for p in rows["percent"]], textposition="outside",
                textfont=dict(size=10), cliponaxis=False,
                hovertext=hover, hoverinfo="text"), row=1, col=col)
    fig.update_layout(barmode="group", bargap=0.2)
    fig.update_yaxes(range=[0, 112])
    fig.update_yaxes(title_text=t("efficacy.meds.axis.percent", lang), row=1, col=1)
    fig.update_annotations(font=dict(size=12))
    # the legend above the panel titles
    return finish(fig, attrs, height=520, layout=dict(legend=dict(y=1.1)))
