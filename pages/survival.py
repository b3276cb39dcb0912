"""Survival: time to first response / time to withdrawal, Kaplan–Meier or Aalen–Johansen by arm."""
import streamlit as st

from analytics.caution import needs_caution, small_arm_caution
from analytics.charts.survival import survival_figure
from analytics.design import survival_note
from analytics.survival import (at_risk_display, curves_display, default_scale, endpoints_for,
                                horizon_for_visit, is_response, scales_for, summary_display)
from dashboard import ui

ctx = ui.context()
ui.page_header(ctx, "nav.survival")


def _endpoint_label(code: str) -> str:
    group = ctx.t("survival.group.response" if is_response(code) else "survival.group.withdrawal")
    return f"{group}: {ctx.t(f'endpoint.{code}')}"


# Withdrawal cannot happen among completers: the list offers what the population can show, and
# says so; a withdrawal endpoint chosen under NRI gives way to the first one, with a note.
endpoints = endpoints_for(ctx.population)
asked = st.session_state.get("surv_endpoint")
if asked is not None and asked not in endpoints:
    st.session_state["surv_endpoint"] = endpoints[0]
    st.info(ctx.t("survival.endpoint.switched", endpoint=ctx.t(f"endpoint.{asked}"),
                  shown=ctx.t(f"endpoint.{endpoints[0]}")))
c1, c2 = st.columns([3, 2])
endpoint = c1.selectbox(ctx.t("survival.endpoint"), endpoints, key="surv_endpoint",
                        format_func=_endpoint_label)
if len(endpoints) < len(endpoints_for("nri")):
    c1.caption(ctx.t("survival.endpoints.completers_note"))
scales = scales_for(endpoint)
scale = c2.radio(ctx.t("survival.scale"), scales, key=f"surv_scale_{endpoint}",
                 index=scales.index(default_scale(endpoint)),
                 format_func=lambda s: ctx.t(f"survival.scale.{s}"))
c3, c4, c5 = st.columns(3)
ci_bands = c3.toggle(ctx.t("survival.ci_bands"), value=True, key="surv_ci")
censor_marks = c4.toggle(ctx.t("survival.censor_marks"), value=True, key="surv_censor")
whole = c5.toggle(ctx.t("survival.horizon.all"), value=False, key="surv_whole")

horizon = None if whole else horizon_for_visit(ctx.timepoint)
if horizon is not None:
    st.caption(ctx.t("survival.horizon", visit=ctx.t(f"visit.{ctx.timepoint}"),
                     years=f"{horizon:g}"))

res = ctx.study.survival(endpoint, ctx.population, horizon_years=horizon, lang=ctx.lang,
                         **ctx.filters)
if res.summary["n"].sum() == 0:
    st.info(ctx.t("survival.no_subjects"))
    st.stop()
n_per_arm = res.summary.attrs["n_per_arm"]
if needs_caution(n_per_arm):
    st.warning(small_arm_caution(n_per_arm, ctx.lang))

if ctx.comparison == "all" and (note := survival_note(
        ctx.study, endpoint, ctx.population, horizon, ctx.lang, **ctx.filters)):
    st.info(note)

fig = survival_figure(res, scale=scale, ci_bands=ci_bands, censor_marks=censor_marks,
                      lang=ctx.lang)
ui.show_chart(ctx, fig, "survival_curve")
ui.show_table(ctx, res.summary, "survival_summary", display=summary_display(res, ctx.lang))

with st.expander(ctx.t("survival.at_risk.table")):
    ui.show_table(ctx, res.at_risk, "survival_at_risk", display=at_risk_display(res, ctx.lang))
    ui.show_table(ctx, res.curves, "survival_curves", display=curves_display(res, ctx.lang))
