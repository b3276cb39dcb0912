"""Survival: time to first response / time to withdrawal, Kaplan–Meier by arm."""
import streamlit as st

from analytics.charts.survival import survival_figure
from analytics.design import survival_note
from analytics.survival import (ENDPOINTS, SCALES, at_risk_display, curves_display,
                                default_scale, horizon_for_visit, is_response,
                                summary_display)
from dashboard import ui

ctx = ui.context()
ui.page_header(ctx, "nav.survival")


def _endpoint_label(code: str) -> str:
    group = ctx.t("survival.group.response" if is_response(code) else "survival.group.withdrawal")
    return f"{group}: {ctx.t(f'endpoint.{code}')}"


c1, c2 = st.columns([3, 2])
endpoint = c1.selectbox(ctx.t("survival.endpoint"), ENDPOINTS, key="surv_endpoint",
                        format_func=_endpoint_label)
scale = c2.radio(ctx.t("survival.scale"), SCALES, key=f"surv_scale_{endpoint}",
                 index=SCALES.index(default_scale(endpoint)),
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
