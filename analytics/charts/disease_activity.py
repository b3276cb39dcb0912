"""Disease-activity figures: a Sankey of DAS28-ESR categories across time points (one per arm),
the transition matrix between two time points (a heatmap per arm, counts annotated), and 100 %
stacked bars of the categories at every time point (one panel per arm).

Every builder takes a result frame of :mod:`analytics.disease_activity` /
:mod:`analytics.transitions` and finishes the figure with :func:`theme.finish` (title, fonts,
caption with population, N, method and footnote).
"""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from ..disease_activity import CATEGORIES
from ..i18n import t
from ..schema import ARMS, VISITS
from .ribbons import Link, ribbon_sankey
from .ribbons import link_markers as sankey_links  # noqa: F401  (the link markers' trace)
from .theme import (CATEGORY_COLORS, COUNT_COLORSCALE, arm_label, bare, figure, finish,
                    finish_spec, subplots)

# ``theme.CATEGORY_COLORS`` has no colour for 'missing'; a light grey keeps it apart from the
# darker 'withdrawn' grey.
_FALLBACK_COLORS = {"missing": "#D9D9D9", "withdrawn": "#999999", "ended": "#EFE6D2"}
_OBSERVED = ("remission", "low", "moderate", "high")


def category_color(category: str) -> str:
    return CATEGORY_COLORS.get(category) or _FALLBACK_COLORS.get(category, "#BBBBBB")


def _rgba(hex_color: str, alpha: float) -> str:
    h = hex_color.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def _cat(category: str, lang: str) -> str:
    return t(f"category.{category}", lang)


def _short(category: str, lang: str) -> str:
    return t(f"da.short.{category}", lang)


def _visit(tp: str, lang: str) -> str:
    return t(f"visit.{tp}", lang)


def _categories(attrs: dict) -> list[str]:
    return list(attrs.get("categories") or _OBSERVED)


# -- Sankey -------------------------------------------------------------------------------------

def sankey_figure(flows: pd.DataFrame, arm: str, lang: str | None = None,
                  height: int = 520) -> go.Figure:
    """A Sankey of one arm: nodes = category at each chosen time point, ribbons = subjects
    moving.

    Drawn as ribbons (:func:`ribbons.ribbon_sankey`): every link and node carries a selectable
    marker whose ``customdata`` maps it back to its subjects (:func:`link_flow`, then
    :func:`analytics.profile.subjects_in_flow`).

    Parameters
    ----------
    flows : DataFrame from :func:`analytics.transitions.flows`
    arm : ``MSC`` or ``MSC_IFNG``
    """
    attrs = flows.attrs
    lang = lang or attrs.get("lang", "en")
    cats = _categories(attrs)
    timepoints = list(attrs.get("timepoints") or [])
    if not timepoints:
        timepoints = [v for v in VISITS if v in set(flows["from_timepoint"])
                      | set(flows["to_timepoint"])]
    df = bare(flows)
    links = [Link(r.from_timepoint, r.from_category, r.to_timepoint, r.to_category, r.count)
             for r in df[(df["arm"] == arm) & (df["count"] > 0)].itertuples(index=False)]
    count_word = t("da.hover.count", lang)
    fig = ribbon_sankey(
        links, timepoints, cats, node_color=category_color,
        ribbon_color=lambda category: _rgba(category_color(category), 0.45),
        node_label=lambda tp, category, size: f"{_short(category, lang)} ({size})",
        heading=lambda tp: _visit(tp, lang),
        # 0-3: the hover's words; 4-7: positions of the codes that map a selected link back to
        # its subjects (link_flow); positions, not codes, so a Chinese page carries no English
        # word.
        link_customdata=lambda r: [_visit(r.from_column, lang), _cat(r.source, lang),
                                   _visit(r.to_column, lang), _cat(r.target, lang),
                                   VISITS.index(r.from_column), CATEGORIES.index(r.source),
                                   VISITS.index(r.to_column), CATEGORIES.index(r.target)],
        link_hover=(f"%{{customdata[0]}}: %{{customdata[1]}} → %{{customdata[2]}}: "
                    f"%{{customdata[3]}}<br>{count_word}: %{{text}}<extra></extra>"),
        # a node is a flow from its category to itself at one time point: the same mapping
        node_customdata=lambda tp, category: [
            _visit(tp, lang), _cat(category, lang), _visit(tp, lang), _cat(category, lang),
            VISITS.index(tp), CATEGORIES.index(category),
            VISITS.index(tp), CATEGORIES.index(category)],
        node_hover=(f"%{{customdata[0]}}: %{{customdata[1]}}<br>{count_word}: %{{text}}"
                    "<extra></extra>"))
    title = t("da.sankey.title", lang, arm=arm_label(arm, lang))
    return finish(fig, flows.attrs, title=title, height=height)


def link_flow(customdata) -> tuple[str, str, str, str]:
    """A Sankey link's (from time point, from category, to time point, to category), from the
    ``customdata`` of :func:`sankey_figure` (as a selection event returns it)."""
    from_tp, from_cat, to_tp, to_cat = (int(x) for x in list(customdata)[4:8])
    return VISITS[from_tp], CATEGORIES[from_cat], VISITS[to_tp], CATEGORIES[to_cat]


# -- transition matrix --------------------------------------------------------------------------

def _matrix_categories(df: pd.DataFrame, column: str, cats: list[str]) -> list[str]:
    # The four observed categories always; withdrawn/missing only where someone is in them.
    present = set(df.loc[df["count"] > 0, column])
    return [c for c in cats if c in _OBSERVED or c in present]


def transition_matrix_figure(transitions: pd.DataFrame, lang: str | None = None,
                             height: int = 560) -> go.Figure:
    """Heatmap per arm: rows = category at the start, columns = category at the end, cell = n."""
    attrs = transitions.attrs
    transitions = bare(transitions)
    lang = lang or attrs.get("lang", "en")
    cats = _categories(attrs)
    start = attrs.get("from_timepoint") or transitions["from_timepoint"].iloc[0]
    end = attrs.get("to_timepoint") or transitions["to_timepoint"].iloc[0]
    rows = _matrix_categories(transitions, "from_category", cats)
    cols = _matrix_categories(transitions, "to_category", cats)
    titles = [f"{arm_label(a, lang)} (n = {int(transitions.loc[transitions['arm'] == a, 'count'].sum())})"
              for a in ARMS]
    fig = subplots(rows=1, cols=len(ARMS), subplot_titles=titles, horizontal_spacing=0.14)
    zmax = max(int(transitions["count"].max()) if len(transitions) else 1, 1)
    row_labels = [_short(c, lang) for c in rows]
    col_labels = [_short(c, lang) for c in cols]
    count_word = t("da.hover.count", lang)
    row_pct_word = t("da.col.row_percent", lang)
    for j, arm in enumerate(ARMS, start=1):
        sub = transitions[transitions["arm"] == arm].set_index(["from_category", "to_category"])
        z, pct = [], []
        for r in rows:
            z.append([int(sub["count"].get((r, c), 0)) for c in cols])
            pct.append([sub["row_percent"].get((r, c), float("nan")) for c in cols])
        fig.add_trace(dict(
            type="heatmap", z=z, x=col_labels, y=row_labels, customdata=pct, zmin=0, zmax=zmax,
            colorscale=COUNT_COLORSCALE, showscale=False, texttemplate="%{z}",
            textfont=dict(size=14),
            hovertemplate=(f"%{{y}} → %{{x}}<br>{count_word}: %{{z}}<br>"
                           f"{row_pct_word}: %{{customdata:.1f}}<extra></extra>"),
            xgap=2, ygap=2), row=1, col=j)
        fig.update_xaxes(title_text=t("da.axis.to", lang, timepoint=_visit(end, lang)),
                         side="bottom", row=1, col=j)
        fig.update_yaxes(title_text=t("da.axis.from", lang, timepoint=_visit(start, lang)),
                         autorange="reversed", row=1, col=j)
    return finish(fig, attrs, title=t("da.matrix.title", lang, start=_visit(start, lang),
                                      end=_visit(end, lang)), height=height)


# -- stacked bars -------------------------------------------------------------------------------

def activity_bars_figure(activity: pd.DataFrame, lang: str | None = None,
                         timepoints: list | None = None, height: int = 760) -> go.Figure:
    """100 % stacked bars of the categories at each time point, one panel per arm.

    ``timepoints`` restricts the bars to those visit codes (default: every time point).
    """
    attrs = activity.attrs
    lang = lang or attrs.get("lang", "en")
    cats = _categories(attrs)
    df = bare(activity)
    if timepoints:
        df = df[df["timepoint"].isin(timepoints)]
    tps = [v for v in VISITS if v in set(df["timepoint"])]
    labels = {tp: _visit(tp, lang) for tp in tps}
    fig = subplots(rows=len(ARMS), cols=1, shared_xaxes=True, vertical_spacing=0.1,
                   subplot_titles=[arm_label(a, lang) for a in ARMS])
    count_word = t("da.hover.count", lang)
    tp_word = t("da.axis.timepoint", lang)
    for i, arm in enumerate(ARMS, start=1):
        sub = df[df["arm"] == arm]
        # (time point, category) -> (percent, count, n), looked up in a dict: a .loc per bar
        # cost more than the rest of the chart
        cells = {(tp, cat): (pct, int(count), int(n)) for tp, cat, pct, count, n in zip(
            sub["timepoint"], sub["category"], sub["percent"], sub["count"], sub["n"])}
        n_by_tp: dict = {}
        for (tp, _), (_, count, _) in cells.items():
            n_by_tp[tp] = n_by_tp.get(tp, 0) + count
        for cat in cats:
            rows = [cells.get((tp, cat), (0, 0, 0)) for tp in tps]
            fig.add_trace(dict(
                type="bar", x=[labels[tp] for tp in tps], y=[pct for pct, _, _ in rows],
                customdata=[[count, n] for _, count, n in rows],
                name=_cat(cat, lang), legendgroup=cat, showlegend=(i == 1),
                marker=dict(color=category_color(cat), line=dict(color="white", width=0.5)),
                hovertemplate=(f"{_cat(cat, lang)}<br>{tp_word}: %{{x}}<br>"
                               f"{t('common.percent', lang, value='%{y:.1f}')} "
                               f"({count_word} %{{customdata[0]}}/%{{customdata[1]}})"
                               "<extra></extra>")), row=i, col=1)
        fig.add_trace(dict(
            type="scatter", x=[labels[tp] for tp in tps], y=[104] * len(tps), mode="text",
            text=[f"n={n_by_tp.get(tp, 0)}" for tp in tps], textfont=dict(size=10),
            hoverinfo="skip", showlegend=False), row=i, col=1)
        fig.update_yaxes(title_text=t("da.axis.percent", lang), range=[0, 110],
                         tickvals=[0, 25, 50, 75, 100], row=i, col=1)
    fig.update_xaxes(categoryorder="array", categoryarray=[labels[tp] for tp in tps],
                     tickangle=-40)
    fig.update_layout(barmode="stack", bargap=0.15)
    fig = finish_spec(fig, attrs, title=t("da.bars.title", lang), height=height)
    # Legend above the first panel's title; room for it under the figure title.
    # The rotated time-point labels need room above the caption (the last annotation).
    fig.layout["annotations"][-1]["yshift"] = -100
    # Legend on a line of its own under the figure title, starting at the left edge, so a long
    # legend title cannot run into the figure title.
    # Under NRI seven categories can wrap onto a second legend row: room for it under the
    # figure title, which stays at the top.
    legend_rows = 2 if len(cats) > 6 else 1
    fig.update_layout(legend=dict(y=1.07, x=0, xanchor="left", yanchor="bottom",
                                  font=dict(size=12),
                                  title=dict(text=t("da.axis.category", lang), side="top")),
                      title=dict(yref="container", y=0.985, yanchor="top"),
                      margin=dict(t=130 + 30 * legend_rows, b=fig.layout["margin"]["b"] + 40))
    return figure(fig)
