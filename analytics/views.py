"""What each dashboard page shows, without Streamlit: its figures and tables at the default
settings of the page's own widgets, for the slide deck and the command line.

Each function mirrors one script in ``pages/`` - the same analytics calls, chart builders and
display transformations, in the same order - and returns a list of :class:`Item`. Nothing is
computed here that the analytics modules do not already compute; the only code of its own is the
relabelling (translation of codes, renaming of columns) that a page does inline.

Tables a page keeps in a collapsed expander (detail tables) are included only with
``details=True``; the deck leaves them out.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd

from .annotate import caption
from .i18n import t
from .scope import header_lines
from .schema import ARMS, VISITS


@dataclass
class Item:
    """One figure or table of a page."""

    kind: str                      # "figure" | "table"
    title: str
    key: str                       # the key the page passes to ui.show_chart / ui.show_table
    caption: str = ""              # population, N, method, footnote, synthetic notice
    figure: object = None          # plotly Figure (kind == "figure")
    frame: pd.DataFrame | None = None    # the analytics result (kind == "table")
    display: pd.DataFrame | None = None  # what the page shows of it
    detail: bool = False           # shown in a collapsed expander on the page
    extra: dict = field(default_factory=dict)
    attrs: dict = field(default_factory=dict)  # the result frame's attrs (slide source line)

    @property
    def shown(self) -> pd.DataFrame | None:
        return self.display if self.display is not None else self.frame


def plain(text: str) -> str:
    """Plotly's title markup (``<br>``, ``<sup>``, ``<b>``) as plain text."""
    text = re.sub(r"<br\s*/?>", " — ", text or "")
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", text)).strip(" —")


def _figure(fig, key: str, attrs: dict) -> Item:
    title = plain(fig.layout.title.text or attrs.get("title", ""))
    return Item("figure", title, key, caption(attrs), figure=fig, attrs=dict(attrs))


def _table(df: pd.DataFrame, key: str, display: pd.DataFrame | None = None,
           detail: bool = False) -> Item:
    return Item("table", df.attrs.get("title", ""), key, caption(df.attrs), frame=df,
                display=display, detail=detail, attrs=dict(df.attrs))


# -- overview ------------------------------------------------------------------------------------
def overview(study, lang, population, timepoint, filters, details=False) -> list[Item]:
    from .baseline import baseline_display
    from .charts.consort import consort_figure

    disposition = study.disposition(lang=lang, **filters)
    items = [_figure(consort_figure(disposition), "consort", disposition.attrs)]
    table1 = study.baseline("completers", lang=lang, **filters)
    items.append(_table(table1, "baseline", baseline_display(table1, lang)))
    return items


# -- efficacy ------------------------------------------------------------------------------------
def response_rates(study, lang, population, timepoint, filters, details=False) -> list[Item]:
    from .charts.efficacy import response_figure
    from .response import ENDPOINTS, comparison_display

    endpoint = list(ENDPOINTS)[0]  # the page's selectbox default
    rates = study.response_rates(endpoint, population, lang=lang, **filters)
    compare = study.compare_rates(endpoint, population, lang=lang, **filters)
    if sum(rates.attrs["n_per_arm"].values()) == 0:
        return []
    return [_figure(response_figure(rates, timepoint=timepoint), "response_rates", rates.attrs),
            _table(compare, f"response_{endpoint.lower()}", comparison_display(compare))]


def trajectories(study, lang, population, timepoint, filters, details=False) -> list[Item]:
    from .charts.efficacy import trajectory_figure
    from .trajectories import MEASURES, trajectories_display

    measure = list(MEASURES)[0]  # defaults: first measure, no change from baseline, no lines
    traj = study.trajectories(measure, population, lang=lang, **filters)
    if traj.empty:
        return []
    fig = trajectory_figure(traj, None, change=False, timepoint=timepoint)
    return [_figure(fig, "trajectories", traj.attrs),
            _table(traj, f"trajectories_{measure.lower()}", trajectories_display(traj))]


def medications(study, lang, population, timepoint, filters, details=False) -> list[Item]:
    from .charts.efficacy import medications_figure
    from .medications import medications_display, timepoints_with

    meds = study.medications(population, lang=lang, timepoints=timepoints_with(timepoint),
                             **filters)
    if sum(meds.attrs["n_per_arm"].values()) == 0:
        return []
    return [_table(meds, "medications", medications_display(meds)),
            _figure(medications_figure(meds), "medications", meds.attrs)]


# -- disease activity ----------------------------------------------------------------------------
DA_DEFAULT_SANKEY = ["BL", "Y1", "Y3", "Y5"]


def disease_activity(study, lang, population, timepoint, filters, details=False) -> list[Item]:
    from .disease_activity import activity_display
    from .charts.disease_activity import (activity_bars_figure, sankey_figure,
                                          transition_matrix_figure)

    activity = study.disease_activity(population, lang=lang, **filters)
    if sum(activity.attrs["n_per_arm"].values()) == 0:
        return []
    items: list[Item] = []
    chosen = [v for v in VISITS if v in DA_DEFAULT_SANKEY]
    flow_df = study.flows(population, chosen, lang=lang, **filters)
    for arm in ARMS:
        items.append(_figure(sankey_figure(flow_df, arm, lang=lang), f"da_sankey_{arm}",
                             flow_df.attrs))
    if details:
        items.append(_table(flow_df, "disease_activity_flows", activity_display(
            flow_df, ["arm", "from_timepoint", "to_timepoint", "from_category", "to_category",
                      "count", "n", "percent", "row_percent"], lang), detail=True))
    start = VISITS[0]
    later = VISITS[VISITS.index(start) + 1:]
    end = timepoint if timepoint in later else later[-1]
    trans = study.transitions(population, start, end, lang=lang, **filters)
    items.append(_figure(transition_matrix_figure(trans, lang=lang), "da_matrix", trans.attrs))
    if details:
        items.append(_table(trans, "disease_activity_transitions", activity_display(
            trans[trans["count"] > 0], ["arm", "from_category", "to_category", "count", "n",
                                        "percent", "row_percent"], lang), detail=True))
    items.append(_figure(activity_bars_figure(activity, lang=lang), "da_bars", activity.attrs))
    items.append(_table(activity, "disease_activity", activity_display(
        activity, ["arm", "timepoint", "years", "category", "count", "n", "percent"], lang)))
    return items


# -- survival ------------------------------------------------------------------------------------
def survival(study, lang, population, timepoint, filters, details=False) -> list[Item]:
    from .charts.survival import survival_figure
    from .survival import (at_risk_display, curves_display, default_scale, endpoints_for,
                           horizon_for_visit, summary_display)

    endpoint = endpoints_for(population)[0]
    horizon = horizon_for_visit(timepoint)  # "whole follow-up" is off by default
    res = study.survival(endpoint, population, horizon_years=horizon, lang=lang, **filters)
    if res.summary["n"].sum() == 0:
        return []
    fig = survival_figure(res, scale=default_scale(endpoint), ci_bands=True, censor_marks=True,
                          lang=lang)
    items = [_figure(fig, "survival_curve", res.curves.attrs),
             _table(res.summary, "survival_summary", summary_display(res, lang))]
    if details:
        items += [_table(res.at_risk, "survival_at_risk", at_risk_display(res, lang),
                         detail=True),
                  _table(res.curves, "survival_curves", curves_display(res, lang), detail=True)]
    return items


# -- safety --------------------------------------------------------------------------------------
def safety_overview(study, lang, population, timepoint, filters, details=False) -> list[Item]:
    from . import safety
    from .charts.safety import rates_by_year_figure
    from .safety_trend import trend_display

    summary = study.ae_summary(years=None, lang=lang, **filters)
    by_year = study.ae_rates_by_year(lang=lang, **filters)
    trend = study.ae_rate_trend(lang=lang, **filters)
    return [_table(summary, "ae_summary", safety.summary_display(summary)),
            _figure(rates_by_year_figure(by_year), "ae_by_year", by_year.attrs),
            _table(by_year, "ae_by_year", safety.by_year_display(by_year)),
            _table(trend, "ae_rate_trend", trend_display(trend))]


def ae_terms(study, lang, population, timepoint, filters, details=False) -> list[Item]:
    from . import safety
    from .charts.safety import term_rates_figure

    by = safety.TERM_LEVELS[0]
    rates = study.ae_rates(by=by, serious_only=False, years=None, lang=lang, **filters)
    if rates.empty:
        return []
    return [_figure(term_rates_figure(rates, top=20), f"ae_{by}", rates.attrs),
            _table(rates, f"ae_rates_{by}", safety.terms_display(rates))]


def sae_listing(study, lang, population, timepoint, filters, details=False) -> list[Item]:
    from . import safety

    listing = study.sae_listing(years=None, lang=lang, **filters)
    return [_table(listing, "sae_listing", safety.listing_display(listing))]


# page key -> builder, in menu order
VIEWS = {
    "overview": overview,
    "response_rates": response_rates,
    "disease_activity": disease_activity,
    "trajectories": trajectories,
    "medications": medications,
    "survival": survival,
    "safety_overview": safety_overview,
    "ae_terms": ae_terms,
    "sae_listing": sae_listing,
}
PAGE_KEYS: tuple[str, ...] = tuple(VIEWS)
SAFETY_PAGES = frozenset({"safety_overview", "ae_terms", "sae_listing"})


def page_title(key: str, lang: str) -> str:
    return t(f"nav.{key}", lang)


def page_items(study, key: str, *, lang: str = "en", population: str = "completers",
               timepoint: str = "Y1", filters: dict | None = None,
               details: bool = False) -> list[Item]:
    """The figures and tables of one page, in page order."""
    if key not in VIEWS:
        raise KeyError(key)
    filters = dict(filters or {})
    items = VIEWS[key](study, lang, population, timepoint, filters, details=details)
    # as on the page's header: a slide names the deck's choices its page does not apply
    _, not_applied = header_lines(key, lang, population, timepoint, filters)
    if not_applied:
        for item in items:
            item.caption = f"{not_applied} {item.caption}".strip()
    return items
