"""A Sankey drawn as filled scatter "ribbons" on hidden 0–1 axes, not as plotly's Sankey trace.

Why not ``type="sankey"``: plotly.js animates every update of a Sankey trace with a fixed 500 ms
transition (not configurable), most of the time a filter click took to be drawn; and Streamlit's
``plotly_chart`` passes on selected points only (a click on a Sankey trace's link never reaches
the app), so every link and node here carries a selectable marker whose ``customdata`` the caller
chooses.

Columns (stages) of nodes stacked top-down with one scale for all columns (a ribbon is as thick
at both ends), links as smooth filled ribbons, one scatter trace per ribbon colour, node
rectangles as shapes, node labels and column headings as annotations. The caller finishes the
figure (:func:`theme.finish`).
"""
from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import NamedTuple

import numpy as np
import plotly.graph_objects as go

from .theme import FigureSpec

NODE_WIDTH = 0.018   # of the plot's width
NODE_GAP = 0.035     # of the plot's height, between the nodes of a column
EDGE_POINTS = 24     # points along each edge of a ribbon
PLOT_TOP = 0.9       # the diagram's top (of the plot area); the column headings are above it


class Link(NamedTuple):
    """``count`` subjects from node ``source`` of column ``from_column`` to node ``target`` of
    column ``to_column``."""
    from_column: Hashable
    source: Hashable
    to_column: Hashable
    target: Hashable
    count: int


def ribbon_sankey(links: Sequence[Link], columns: Sequence, node_order: Sequence, *,
                  node_color: Callable[[Hashable], str],
                  ribbon_color: Callable[[Hashable], str],
                  node_label: Callable[[Hashable, Hashable, int], str],
                  heading: Callable[[Hashable], str],
                  link_customdata: Callable[[Link], list],
                  link_hover: str,
                  node_customdata: Callable[[Hashable, Hashable], list],
                  node_hover: str) -> FigureSpec:
    """The Sankey of ``links`` (counts > 0) between ``columns``, left to right.

    Nodes are stacked in ``node_order`` from the top (a node not in it last); a node's size is
    the larger of its inflow and outflow (they differ when a subject is seen in one pair of
    columns but not the next). Ribbons take ``ribbon_color(source node)``, nodes
    ``node_color(node)``; ``node_label(column, node, size)`` is written beside a node (left of
    the last column's), ``heading(column)`` above its column.

    Hover markers: one per link in the order of ``links`` (:func:`link_markers`), with
    ``link_customdata(link)``, the count as ``text`` and the template ``link_hover``; then one per
    node with ``node_customdata(column, node)``, its size as ``text`` and ``node_hover``.
    """
    pos = {column: i for i, column in enumerate(columns)}
    rank = {node: i for i, node in enumerate(node_order)}
    inflow: dict = {}
    outflow: dict = {}
    for r in links:
        outflow[(r.from_column, r.source)] = outflow.get((r.from_column, r.source), 0) + int(r.count)
        inflow[(r.to_column, r.target)] = inflow.get((r.to_column, r.target), 0) + int(r.count)
    keys = sorted(set(inflow) | set(outflow),
                  key=lambda k: (pos[k[0]], rank.get(k[1], len(rank))))
    order = {k: i for i, k in enumerate(keys)}
    size = {k: max(inflow.get(k, 0), outflow.get(k, 0)) for k in keys}

    # Columns evenly spaced, nodes stacked from the top with one scale for every column.
    last = max(len(columns) - 1, 1)
    centre = {c: NODE_WIDTH / 2 + (1 - NODE_WIDTH) * pos[c] / last for c in columns}
    stacks = [[k for k in keys if k[0] == c] for c in columns]
    scale = min(((1 - NODE_GAP * (len(stack) - 1)) / sum(size[k] for k in stack)
                 for stack in stacks if stack), default=0.0)
    top: dict = {}
    for stack in stacks:
        y = 1.0
        for k in stack:
            top[k] = y
            y -= size[k] * scale + NODE_GAP
    ends = {"from": [(r.from_column, r.source) for r in links],
            "to": [(r.to_column, r.target) for r in links]}

    def stacked(side: str, other: str) -> dict:
        # within a node, ribbons stack in the order of the nodes at their other end
        tops = {}
        for k in keys:
            y = top[k]
            mine = [i for i, end in enumerate(ends[side]) if end == k]
            for i in sorted(mine, key=lambda i: order[ends[other][i]]):
                tops[i], y = y, y - links[i].count * scale
        return tops
    source_top, target_top = stacked("from", "to"), stacked("to", "from")

    fig = FigureSpec()
    steps = np.arange(EDGE_POINTS) / (EDGE_POINTS - 1)
    smooth = 3 * steps * steps - 2 * steps * steps * steps   # a cubic Bézier with flat ends
    handle_x, handle_y = [], []
    ribbons: dict = {}   # source node -> [(x, y) of the outline of each of its ribbons]
    for i, r in enumerate(links):
        x0 = centre[r.from_column] + NODE_WIDTH / 2
        x1 = centre[r.to_column] - NODE_WIDTH / 2
        width = r.count * scale
        a, b = source_top[i], target_top[i]
        xs = x0 + (x1 - x0) * steps
        upper = a + (b - a) * smooth
        ribbons.setdefault(r.source, []).append(
            (np.concatenate([xs, xs[::-1]]), np.concatenate([upper, upper[::-1] - width])))
        handle_x.append((x0 + x1) / 2)
        handle_y.append((a + b - width) / 2)
    # One trace per colour, each ribbon a segment of it (``fill="toself"`` fills every segment
    # between gaps, NaN here): plotly.js draws trace by trace, and a trace per ribbon made the
    # page slow to draw. A colour's ribbons leave one node per column pair, stacked, so they
    # never overlap; in node order the colours are painted as the ribbons were one by one.
    # Arrays, not lists: plotly and Streamlit copy and encode an array at once, a list number
    # by number.
    gap = np.array([np.nan])
    for source in sorted(ribbons, key=lambda n: rank.get(n, len(rank))):
        outlines = ribbons[source]
        fig.add_trace(dict(
            type="scatter", x=np.concatenate([p for x, _ in outlines for p in (gap, x)][1:]),
            y=np.concatenate([p for _, y in outlines for p in (gap, y)][1:]),
            mode="lines", fill="toself", line=dict(width=0),
            fillcolor=ribbon_color(source), hoverinfo="skip", showlegend=False))
    fig.add_trace(dict(
        type="scatter", x=handle_x, y=handle_y, mode="markers", showlegend=False,
        marker=dict(size=9, color="white", line=dict(width=1.5, color="#444")),
        customdata=[link_customdata(r) for r in links],
        text=[str(int(r.count)) for r in links],   # plotly's validation makes text str
        hovertemplate=link_hover))
    fig.add_trace(dict(
        type="scatter", x=[centre[k[0]] for k in keys],
        y=[top[k] - size[k] * scale / 2 for k in keys],
        mode="markers", showlegend=False,
        marker=dict(size=9, symbol="square", color="white", line=dict(width=1.5, color="#444")),
        customdata=[node_customdata(*k) for k in keys],
        text=[str(size[k]) for k in keys],
        hovertemplate=node_hover))
    shapes = [dict(type="rect", xref="x", yref="y", x0=centre[k[0]] - NODE_WIDTH / 2,
                   x1=centre[k[0]] + NODE_WIDTH / 2, y0=top[k] - size[k] * scale, y1=top[k],
                   fillcolor=node_color(k[1]), line=dict(color="#555", width=0.5),
                   layer="below") for k in keys]
    labels = []
    for k in keys:
        text, side = node_label(k[0], k[1], size[k]), "right" if pos[k[0]] == last else "left"
        labels.append(dict(text=text, xref="x", yref="y",
                           x=centre[k[0]] + (-1 if side == "right" else 1) * NODE_WIDTH,
                           xanchor=side, y=top[k] - size[k] * scale / 2, showarrow=False))
        if "<br>" in text:   # a wrapped label's lines flush on the node's side
            labels[-1]["align"] = side
    # the headings above the columns, inside the plot area (a slide keeps no top margin)
    labels += [dict(text=f"<b>{heading(c)}</b>", x=pos[c] / last, y=PLOT_TOP + 0.01,
                    xref="paper", yref="paper", showarrow=False, yanchor="bottom",
                    xanchor="left" if pos[c] == 0 else ("right" if pos[c] == last
                                                        else "center"))
               for c in columns]
    fig.update_layout(annotations=labels, hovermode="closest")
    if shapes:   # plotly's validation drops an empty list (a Sankey without flows)
        fig.update_layout(shapes=shapes)
    fig.update_xaxes(range=[0, 1], visible=False, fixedrange=True)
    fig.update_yaxes(range=[0, 1], visible=False, fixedrange=True, domain=[0, PLOT_TOP])
    return fig


def link_markers(fig: go.Figure):
    """The trace of a ribbon Sankey's link markers (one per link, its ``customdata``)."""
    return fig.data[-2]


def node_markers(fig: go.Figure):
    """The trace of a ribbon Sankey's node markers (one per node, its size as ``text``)."""
    return fig.data[-1]
