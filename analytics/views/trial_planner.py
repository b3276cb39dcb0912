"""Next-trial planner: the size of a two-arm confirmatory trial from an effect observed here —
the response difference at the sidebar's time point, or the hazard ratio up to it — with every
assumption on screen, in the URL and in the exports."""
from __future__ import annotations

import math

import pandas as pd

from ..caution import not_estimable
from ..charts.forest import power_figure
from ..i18n import fmt_number, t
from ..planner import allocation_text, power_display, test_arm_size
from ..response import ENDPOINTS, REFERENCE_ARM, TEST_ARM
from ..survival import endpoints_for, horizon_for_visit
from .base import Control, ControlSlot, Expander, Metrics, Note, View, figure, table

SOURCES = ("response", "hazard_ratio")
ALPHAS = ("0.01", "0.025", "0.05", "0.1")
POWERS = ("0.8", "0.85", "0.9", "0.95")
# MSC + IFN-γ : MSC
ALLOCATIONS = ("1:1", "2:1", "3:1", "1:2")


def _endpoints(study, values: dict) -> tuple[str, ...]:
    if values["source"] == "response":
        return tuple(ENDPOINTS)
    return endpoints_for(values["population"])


# a default with an effect to plan on in the default cohort (ACR20 at Y1: every MSC + IFN-γ
# completer responded, a rate of 100 % has no finite effect size)
PREFERRED = {"response": "DAS28_LDA", "hazard_ratio": "ACR50"}


def _default_endpoint(study, values: dict) -> str:
    offered = _endpoints(study, values)
    preferred = PREFERRED[values["source"]]
    return preferred if preferred in offered else offered[0]


def ratio_of(allocation: str) -> float:
    """'2:1' (MSC + IFN-γ : MSC) -> 2.0."""
    test, ref = allocation.split(":")
    return int(test) / int(ref)


CONTROLS = (
    Control("source", "src", "planner.control.source", "radio", SOURCES, "response",
            lambda s, lang: t(f"planner.source.{s}", lang), "plan_source", horizontal=True),
    # each source has its own endpoint widget, so a new source starts at its first endpoint
    Control("endpoint", "ep", "planner.control.endpoint", "selectbox", _endpoints,
            _default_endpoint, lambda e, lang: t(f"endpoint.{e}", lang),
            lambda v: f"plan_endpoint_{v['source']}"),
    Control("conservative", "cons", "planner.control.conservative", "toggle", default=False,
            widget_key="plan_conservative", help="planner.control.conservative.help"),
    Control("alpha", "alpha", "planner.control.alpha", "selectbox", ALPHAS, "0.05",
            widget_key="plan_alpha"),
    Control("power", "power", "planner.control.power", "selectbox", POWERS, "0.8",
            lambda p, lang: f"{fmt_number(float(p) * 100, 0, lang)}%", "plan_power"),
    Control("allocation", "alloc", "planner.control.allocation", "selectbox", ALLOCATIONS, "1:1",
            widget_key="plan_allocation", help="planner.control.allocation.help"),
    # time to event only
    Control("accrual", "accrual", "planner.control.accrual", "number", default=2,
            widget_key="plan_accrual", bounds=(1, 10, 1)),
    Control("follow_up", "fu", "planner.control.follow_up", "number", default=3,
            widget_key="plan_follow_up", bounds=(1, 10, 1)),
    Control("dropout", "drop", "planner.control.dropout", "number", default=5,
            widget_key="plan_dropout", bounds=(0, 50, 1)),
)


def options(state) -> dict:
    """The planner's keyword arguments from the view's state (what the exports state)."""
    out = dict(conservative=state["conservative"], alpha=float(state["alpha"]),
               power=float(state["power"]), ratio=ratio_of(state["allocation"]))
    if state["source"] == "hazard_ratio":
        out.update(horizon_years=horizon_for_visit(state.timepoint),
                   accrual_years=float(state["accrual"]),
                   follow_up_years=float(state["follow_up"]),
                   dropout_per_year=state["dropout"] / 100)
    return out


def assumptions_table(plan: pd.DataFrame) -> pd.DataFrame:
    """Every assumption and the planned sizes, as label/value rows (a table of its own, so the
    CSV/XLSX and the slide state them)."""
    a, p, lang = plan.attrs["assumptions"], plan.attrs["plan"], plan.attrs["lang"]

    def num(value, digits: int) -> str:
        return t("common.missing_value", lang) if value != value else fmt_number(value, digits,
                                                                                 lang)
    rows = [("planner.row.endpoint", t(f"endpoint.{a['endpoint']}", lang))]
    if "p_ref" in a:
        rows += [("planner.row.timepoint", t(f"visit.{a['timepoint']}", lang)),
                 ("planner.row.rate_ref", f"{num(a['p_ref'] * 100, 1)}%"),
                 ("planner.row.rate_test", f"{num(a['p_test'] * 100, 1)}%")]
    else:
        rows += [("planner.row.hazard_ratio", num(a["hazard_ratio"], 2)),
                 ("planner.row.control_hazard", num(a["control_hazard"], 3)),
                 ("planner.row.horizon", num(a.get("horizon_years") or math.nan, 1)),
                 ("planner.row.accrual", num(a["accrual_years"], 1)),
                 ("planner.row.follow_up", num(a["follow_up_years"], 1)),
                 ("planner.row.dropout", f"{num(a['dropout_per_year'] * 100, 1)}%")]
    rows += [("planner.row.conservative", t("planner.yes" if a["conservative"] else "planner.no",
                                            lang)),
             ("planner.row.alpha", num(a["alpha"], 3)),
             ("planner.row.power", f"{num(a['power'] * 100, 0)}%"),
             ("planner.row.allocation", allocation_text(a["ratio"]))]
    if p.get("reason"):
        rows.append(("planner.row.result", not_estimable(p["reason"], lang)))
    elif "n_normal" in p:
        rows += [("planner.row.n_normal", _sizes(p["n_normal"], a["ratio"], lang)),
                 ("planner.row.n_fisher", _sizes(p["n_fisher"], a["ratio"], lang))]
    else:
        rows += [("planner.row.events", num(p["events"], 0)),
                 ("planner.row.n_survival", _sizes(p["n_per_arm"], a["ratio"], lang))]
    out = pd.DataFrame({t("planner.col.item", lang): [t(k, lang) for k, _ in rows],
                        t("planner.col.value", lang): [v for _, v in rows]})
    out.attrs = dict(plan.attrs)
    return out


def _sizes(n_ref: float, ratio: float, lang: str) -> str:
    """'64 per arm' or 'MSC 40, MSC + IFN-γ 80'."""
    if n_ref != n_ref:
        return t("common.missing_value", lang)
    if ratio == 1:
        return t("planner.per_arm", lang, n=int(n_ref))
    return t("planner.two_arms", lang, n_ref=int(n_ref), n_test=int(test_arm_size(n_ref, ratio)),
             ref=t(f"arm.{REFERENCE_ARM}", lang), test=t(f"arm.{TEST_ARM}", lang))


def build(ctx) -> list:
    endpoint, source = ctx.state["endpoint"], ctx.state["source"]
    blocks: list = [ControlSlot(("source", "endpoint"), (2, 3)),
                    ControlSlot(("conservative", "alpha", "power", "allocation"), (2, 1, 1, 1))]
    opts = options(ctx.state)
    if source == "response":
        plan = ctx.study.plan_response(endpoint, ctx.timepoint, ctx.population, lang=ctx.lang,
                                       **opts, **ctx.filters)
    else:
        blocks += [ControlSlot(("accrual", "follow_up", "dropout"), (1, 1, 1)),
                   Note("caption", ctx.t("planner.horizon", visit=ctx.t(
                       f"visit.{ctx.timepoint}"), years=f"{opts['horizon_years']:g}"))]
        plan = ctx.study.plan_survival(endpoint, ctx.population, lang=ctx.lang, **opts,
                                       **ctx.filters)
    result = plan.attrs["plan"]
    if result.get("reason"):
        blocks.append(Note("info", ctx.t("planner.not_plannable",
                                         reason=not_estimable(result["reason"], ctx.lang))))
    elif source == "response":
        blocks.append(Metrics([
            (ctx.t("planner.metric.n_normal"), _sizes(result["n_normal"], opts["ratio"],
                                                      ctx.lang), None),
            (ctx.t("planner.metric.n_fisher"), _sizes(result["n_fisher"], opts["ratio"],
                                                      ctx.lang), None)]))
    else:
        blocks.append(Metrics([
            (ctx.t("planner.metric.events"), fmt_number(result["events"], 0, ctx.lang), None),
            (ctx.t("planner.metric.n_survival"), _sizes(result["n_per_arm"], opts["ratio"],
                                                        ctx.lang), None)]))
    blocks.append(Note("caption", ctx.t("planner.caveat")))
    key = f"planner_{source}_{endpoint.lower()}"
    blocks.append(table(plan, f"{key}_assumptions", assumptions_table(plan)))
    if not plan.empty:
        blocks += [figure(power_figure(plan), f"{key}_power", plan),
                   Expander(ctx.t("planner.expander.curve"), [
                       table(plan, f"{key}_curve", power_display(plan), detail=True)])]
    return blocks


VIEW = View("trial_planner", "trial-planner", CONTROLS, build)
