"""Disease-activity clusters: mean DAS28-ESR course per cluster with its band, and the
transitions of subjects between the clusters of consecutive periods (Sankey and matrix)."""
from __future__ import annotations

import plotly.graph_objects as go

from ..i18n import fmt_number, t
from ..measures import DAS28_LOW, DAS28_REMISSION
from .theme import COUNT_COLORSCALE, FigureSpec, bare, figure, finish, finish_spec, wrap_lines

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
    (:class:`analytics.clusters.PeriodTransitions`)."""
    attrs = result.transitions.attrs
    tr = bare(result.transitions)
    lang = attrs.get("lang", "en")
    nodes = (bare(result.membership).drop_duplicates(["period", "cluster"])
             .sort_values(["period", "cluster"], key=lambda s: s.map(_period_order)
                          if s.name == "period" else s))
    index = {(p, c): i for i, (p, c) in enumerate(zip(nodes["period"], nodes["cluster"]))}
    periods = list(dict.fromkeys(nodes["period"]))
    x = [0.01 + 0.98 * periods.index(p) / max(1, len(periods) - 1) for p in nodes["period"]]
    # the period names head the columns; a node carries its cluster's name, wrapped so the
    # labels of neighbouring columns do not run into each other
    labels = [wrap_lines(lab, 18) for lab in nodes["label"]]
    fig = FigureSpec().add_trace(dict(
        type="sankey", arrangement="snap",
        node=dict(label=labels, x=x, pad=12, thickness=14,
                  color=[cluster_color(c) for c in nodes["cluster"]]),
        link=dict(source=[index[(p, c)] for p, c in zip(tr["from_period"], tr["from_cluster"])],
                  target=[index[(p, c)] for p, c in zip(tr["to_period"], tr["to_cluster"])],
                  value=tr["count"].tolist(),
                  color=[_rgba(cluster_color(c), 0.35) for c in tr["from_cluster"]],
                  # (from period, from cluster, to period, to cluster); periods by their
                  # index in PERIODS, so no code word is in the figure
                  customdata=[[_period_order(fp), fc, _period_order(tp), tc]
                              for fp, fc, tp, tc in zip(tr["from_period"], tr["from_cluster"],
                                                        tr["to_period"], tr["to_cluster"])],
                  hovertemplate=[t("clusters.chart.link_hover", lang, source=fl, target=tl,
                                   count=int(n)) + "<extra></extra>"
                                 for fl, tl, n in zip(tr["from_label"], tr["to_label"],
                                                      tr["count"])])))
    for p in periods:
        x_p = 0.01 + 0.98 * periods.index(p) / max(1, len(periods) - 1)
        fig.add_annotation(x=x_p, y=1.0, xref="paper", yref="paper", yanchor="bottom",
                           xanchor="left" if x_p < 0.2 else "right" if x_p > 0.8 else "center",
                           text=f"<b>{t(f'clusters.period.{p}', lang)}</b>", showarrow=False)
    fig = finish_spec(fig, attrs, height=640)
    fig.update_layout(margin=dict(t=fig.layout["margin"]["t"] + 30))
    return figure(fig)


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
