"""Response rates over time per arm (Table 3 endpoints), and the between-arm comparison."""
import streamlit as st

from analytics.caution import not_estimable, small_arm_caution
from analytics.charts.efficacy import response_figure
from analytics.design import response_note
from analytics.i18n import fmt_p
from analytics.response import ENDPOINTS, comparison_display, percent_points
from analytics.schema import ARMS
from dashboard import ui

ctx = ui.context()
ui.page_header(ctx, "nav.response_rates")

endpoint = st.selectbox(ctx.t("efficacy.rates.endpoint"), list(ENDPOINTS), key="resp_endpoint",
                        format_func=lambda e: ctx.t(f"endpoint.{e}"))
holm = st.toggle(ctx.t("efficacy.rates.holm"), value=False, key="resp_holm",
                 help=ctx.t("efficacy.rates.holm.help"))

rates = ctx.study.response_rates(endpoint, ctx.population, lang=ctx.lang, **ctx.filters)
compare = ctx.study.compare_rates(endpoint, ctx.population, lang=ctx.lang, **ctx.filters)
if sum(rates.attrs["n_per_arm"].values()) == 0:
    st.info(ctx.t("efficacy.empty"))
    st.stop()


def _pct(x: float) -> str:
    return percent_points(x, ctx.lang)


# The selected time point, summarised.
st.subheader(f"{ctx.t('efficacy.rates.selected')}: {ctx.t(f'visit.{ctx.timepoint}')}")
row = compare[compare["timepoint"] == ctx.timepoint]
if row.empty or not (row[[f"n_{a}" for a in ARMS]].to_numpy() > 0).any():
    st.info(ctx.t("efficacy.rates.no_data"))
else:
    row = row.iloc[0]
    cols = st.columns(len(ARMS))
    for col, arm in zip(cols, ARMS):
        col.metric(ctx.t("efficacy.rates.metric", arm=ctx.t(f"arm.{arm}")),
                   ctx.t("efficacy.rates.metric_value", rate=_pct(row[f"rate_{arm}"]),
                         k=int(row[f"responders_{arm}"]), n=int(row[f"n_{arm}"])))
    tp_name = ctx.t(f"visit.{ctx.timepoint}")
    if row["not_estimable"]:
        st.info(ctx.t("efficacy.rates.not_estimable", timepoint=tp_name,
                      text=not_estimable(row["not_estimable"], ctx.lang)))
    else:
        if row["caution"]:
            st.warning(small_arm_caution({a: int(row[f"n_{a}"]) for a in ARMS}, ctx.lang))
        st.markdown(ctx.t("efficacy.rates.summary", timepoint=tp_name,
                          diff=_pct(row["diff"]), low=_pct(row["diff_ci_low"]),
                          high=_pct(row["diff_ci_high"]), p=fmt_p(row["p_value"], ctx.lang),
                          p_holm=fmt_p(row["p_holm"], ctx.lang)))
if ctx.comparison == "all":
    note = response_note(ctx.study, endpoint, ctx.population, ctx.timepoint, lang=ctx.lang,
                         **ctx.filters)
    if note:
        st.info(note)

st.subheader(ctx.t("efficacy.rates.section.chart"))
ui.show_chart(ctx, response_figure(rates, timepoint=ctx.timepoint), "response_rates")

st.subheader(ctx.t("efficacy.rates.section.table"))
ui.show_table(ctx, compare, f"response_{endpoint.lower()}",
              display=comparison_display(compare, adjusted=holm))
