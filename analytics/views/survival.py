"""Survival: time to first response / time to withdrawal, Kaplan–Meier by arm."""
from __future__ import annotations

from ..charts.survival import survival_figure
from ..i18n import t
from ..scope import POPULATION, SUBGROUPS, TIMEPOINT
from ..caution import needs_caution, small_arm_caution
from ..design import survival_note
from ..display import fmt_duration
from ..survival import (at_risk_display, curves_display, default_scale, endpoints_for,
                        horizon_for_visit, is_response, scales_for, summary_display)
from .base import Control, ControlSlot, Expander, Note, View, figure, table


def _endpoint_label(code: str, lang: str) -> str:
    group = t("survival.group.response" if is_response(code) else "survival.group.withdrawal",
              lang)
    return f"{group}: {t(f'endpoint.{code}', lang)}"


CONTROLS = (
    # Withdrawal cannot happen among completers: the list offers what the population can show
    Control("endpoint", "ep", "survival.endpoint", "selectbox",
            lambda study, v: endpoints_for(v["population"]),
            lambda study, v: endpoints_for(v["population"])[0], _endpoint_label, "surv_endpoint"),
    # each endpoint has its own scale widget, so a new endpoint starts on its natural scale
    Control("scale", "scale", "survival.scale", "radio", lambda study, v: scales_for(v["endpoint"]),
            lambda study, v: default_scale(v["endpoint"]),
            lambda s, lang: t(f"survival.scale.{s}", lang),
            lambda v: f"surv_scale_{v['endpoint']}",
            url_names={"survival": "km", "cumulative_incidence": "cuminc"}),
    Control("ci_bands", "ci", "survival.ci_bands", "toggle", default=True, widget_key="surv_ci"),
    Control("censor_marks", "censor", "survival.censor_marks", "toggle", default=True,
            widget_key="surv_censor"),
    Control("whole", "whole", "survival.horizon.all", "toggle", default=False,
            widget_key="surv_whole"),
)


def build(ctx) -> list:
    endpoint = ctx.state["endpoint"]
    blocks: list = []
    asked = ctx.state.replaced.get("endpoint")
    if asked:  # a withdrawal endpoint chosen under NRI gives way to the first one, with a note
        blocks.append(Note("info", ctx.t("survival.endpoint.switched",
                                         endpoint=ctx.t(f"endpoint.{asked}"),
                                         shown=ctx.t(f"endpoint.{endpoint}"))))
    blocks.append(ControlSlot(("endpoint", "scale"), (3, 2)))
    if len(endpoints_for(ctx.population)) < len(endpoints_for("nri")):
        blocks.append(Note("caption", ctx.t("survival.endpoints.completers_note")))
    blocks.append(ControlSlot(("ci_bands", "censor_marks", "whole"), (1, 1, 1)))
    horizon = None if ctx.state["whole"] else horizon_for_visit(ctx.timepoint)
    if horizon is not None:
        blocks.append(Note("caption", ctx.t("survival.horizon",
                                            visit=ctx.t(f"visit.{ctx.timepoint}"),
                                            duration=fmt_duration(horizon, ctx.lang))))
    res = ctx.study.survival(endpoint, ctx.population, horizon_years=horizon, lang=ctx.lang,
                             **ctx.filters)
    if res.summary["n"].sum() == 0:
        return blocks + [Note("info", ctx.t("survival.no_subjects"))]
    n_per_arm = res.summary.attrs["n_per_arm"]
    if needs_caution(n_per_arm):
        blocks.append(Note("warning", small_arm_caution(n_per_arm, ctx.lang)))
    if ctx.state.comparison == "all" and (note := survival_note(
            ctx.study, endpoint, ctx.population, horizon, ctx.lang, **ctx.filters)):
        blocks.append(Note("info", note))
    fig = survival_figure(res, scale=ctx.state["scale"], ci_bands=ctx.state["ci_bands"],
                          censor_marks=ctx.state["censor_marks"], lang=ctx.lang)
    return blocks + [
        figure(fig, "survival_curve", res.curves),
        table(res.summary, "survival_summary", summary_display(res, ctx.lang)),
        Expander(ctx.t("survival.at_risk.table"), [
            table(res.at_risk, "survival_at_risk", at_risk_display(res, ctx.lang), detail=True),
            table(res.curves, "survival_curves", curves_display(res, ctx.lang), detail=True)]),
    ]


def _applies(values: dict) -> tuple[str, ...]:
    # over the whole follow-up the sidebar's time point sets no horizon: the header says so
    return (POPULATION, SUBGROUPS) if values["whole"] else (POPULATION, TIMEPOINT, SUBGROUPS)


VIEW = View("survival", "survival", CONTROLS, build, applies=_applies)
