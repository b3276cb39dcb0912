"""Disease-activity clusters: mean DAS28-ESR course per cluster with its band, and the
transitions of subjects between the clusters of consecutive periods (Sankey and matrix)."""
from __future__ import annotations

import plotly.graph_objects as go

from ..i18n import fmt_number, t
from ..measures import DAS28_LOW, DAS28_REMISSION
from .ribbons import Link, ribbon_sankey
from .theme import COUNT_COLORSCALE, FigureSpec, bare, finish, wrap_lines

# Okabe–Ito colours not used by the arms, one per cluster number (1 = lowest mean DAS28).
CLUSTER_COLORS = ("#009E73", "#56B4E9", "#CC79A7", "#D55E00", "#000000")
CLUSTER_DASH = ("solid", "dash", "dot", "dashdot", "longdash")


def _rgba(hex_color: str, alpha: float) -> str:
    h = hex_color.lstrip("#")
    return f"rgba({int(h[0:2], 16)}, {int(h[2:4], 16)}, {int(h[4:6], 16)}, {alpha})"


def cluster_color(cluster: int) -> str:
    return CLUSTER_COLORS[(int(cluster) - 1) % len(CLUSTER_COLORS)]


def cluster_courses_figure(profiles, title: str | None = None) -> go.Figure:
    """Mean DAS28-ESR per cluster over years since infusion, with the interquartile band."""
    lang = profiles.attrs.get("lang", "en")
    fig = FigureSpec()
    for c, rows in bare(profiles).groupby("cluster", sort=True):
        color = cluster_color(c)
        years = rows["months"] / 12.0
        fig.add_trace(dict(
            type="scatter", x=[*years, *years[::-1]],
            y=[*rows["band_high"], *rows["band_low"][::-1]],
            fill="toself", fillcolor=_rgba(color, 0.15), line=dict(width=0),
            hoverinfo="skip", showlegend=False, legendgroup=str(c)))
        label = f"{rows['label'].iloc[0]} (n = {int(rows['n'].iloc[0])})"
        fig.add_trace(dict(
            type="scatter", x=years, y=rows["mean"], mode="lines+markers", name=label,
            legendgroup=str(c),
            line=dict(color=color, dash=CLUSTER_DASH[(int(c) - 1) % len(CLUSTER_DASH)],
                      width=2.5),
            customdata=[[int(c)]] * len(rows),
            hovertext=[t("clusters.chart.hover", lang, label=rows["label"].iloc[0],
                         timepoint=t(f"visit.{v}", lang), mean=fmt_number(m, 2, lang),
                         low=fmt_number(lo, 2, lang), high=fmt_number(hi, 2, lang), n=int(n))
                       for v, m, lo, hi, n in zip(rows["timepoint"], rows["mean"],
                                                  rows["band_low"], rows["band_high"],
                                                  rows["n"])],
            hoverinfo="text"))
    for y in (DAS28_REMISSION, DAS28_LOW):
        fig.add_hline(y=y, line=dict(color="#888", dash="dot", width=1))
    fig.update_xaxes(title_text=t("profile.chart.time_axis", lang))
    fig.update_yaxes(title_text=t("clusters.chart.axis_das28", lang))
    return finish(fig, profiles.attrs, title=title, height=620)


def cluster_sankey_figure(result) -> go.Figure:
    """Subjects moving between the clusters of consecutive periods
    (:class:`analytics.clusters.PeriodTransitions`): periods as columns, clusters as nodes,
    ribbons coloured by the cluster they leave.

    Drawn as ribbons (:func:`ribbons.ribbon_sankey`), not as plotly's Sankey trace, which
    plotly.js animates for 500 ms on every update (most of a filter click's time on this page).
    A link marker's ``customdata`` starts with (from period, from cluster, to period, to
    cluster), periods by their index in PERIODS, so no code word is in the figure; a node's with
    the same for the node to itself.
    """
    attrs = result.transitions.attrs
    tr = bare(result.transitions)
    lang = attrs.get("lang", "en")
    membership = bare(result.membership)
    periods = sorted(set(membership["period"]), key=_period_order)
    names = {(p, c): lab for p, c, lab in zip(membership["period"], membership["cluster"],
                                              membership["label"])}
    links = [Link(fp, int(fc), tp, int(tc), int(n)) for fp, fc, tp, tc, n in zip(
        tr["from_period"], tr["from_cluster"], tr["to_period"], tr["to_cluster"], tr["count"])
        if n > 0]
    period_name = {p: t(f"clusters.period.{p}", lang) for p in periods}
    fig = ribbon_sankey(
        links, periods, sorted({c for _, c in names}), node_color=cluster_color,
        ribbon_color=lambda c: _rgba(cluster_color(c), 0.35),
        # a node carries its cluster's name, wrapped so the labels of neighbouring columns do
        # not run into each other
        node_label=lambda p, c, size: wrap_lines(names[(p, c)], 18),
        heading=period_name.get,
        link_customdata=lambda r: [_period_order(r.from_column), r.source,
                                   _period_order(r.to_column), r.target,
                                   names[(r.from_column, r.source)],
                                   names[(r.to_column, r.target)]],
        link_hover=t("clusters.chart.link_hover", lang, source="%{customdata[4]}",
                     target="%{customdata[5]}", count="%{text}") + "<extra></extra>",
        node_customdata=lambda p, c: [_period_order(p), c, _period_order(p), c,
                                      names[(p, c)], period_name[p]],
        node_hover=t("clusters.chart.node_hover", lang, label="%{customdata[4]}",
                     period="%{customdata[5]}", count="%{text}") + "<extra></extra>")
    return finish(fig, attrs, height=640)


def _period_order(period: str) -> int:
    from ..clusters import PERIODS
    return PERIODS.index(period)


def cluster_matrix_figure(result, from_period: str) -> go.Figure:
    """Counts from the clusters of ``from_period`` (rows) to those of the next period."""
    from ..clusters import PERIODS, transition_matrix
    tr = result.transitions
    lang = tr.attrs.get("lang", "en")
    to_period = PERIODS[PERIODS.index(from_period) + 1]
    matrix = transition_matrix(bare(tr), from_period)
    fig = FigureSpec().add_trace(dict(
        type="heatmap", z=matrix.to_numpy(), x=list(matrix.columns), y=list(matrix.index),
        colorscale=COUNT_COLORSCALE, showscale=False, text=matrix.to_numpy(),
        texttemplate="%{text}",
        hoverinfo="skip"))
    fig.update_xaxes(title_text=t("clusters.chart.matrix_axis", lang,
                                  period=t(f"clusters.period.{to_period}", lang)))
    fig.update_yaxes(title_text=t("clusters.chart.matrix_axis", lang,
                                  period=t(f"clusters.period.{from_period}", lang)),
                     autorange="reversed")
    return finish(fig, tr.attrs, height=560,
                  title=t("clusters.chart.matrix_title", lang,
                          first=t(f"clusters.period.{from_period}", lang),
                          second=t(f"clusters.period.{to_period}", lang)))
