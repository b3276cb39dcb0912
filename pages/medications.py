"""Concomitant medication use by drug class, time point and arm (the paper's Table 4)."""
import streamlit as st

from analytics.charts.efficacy import medications_figure
from analytics.medications import DEFAULT_TIMEPOINTS, medications_display
from analytics.schema import VISITS
from dashboard import ui

ctx = ui.context()
ui.page_header(ctx, "nav.medications")

timepoints = st.multiselect(ctx.t("efficacy.meds.timepoints"), VISITS,
                            default=list(DEFAULT_TIMEPOINTS), key="meds_timepoints",
                            format_func=lambda v: ctx.t(f"visit.{v}"))
timepoints = [v for v in VISITS if v in timepoints] or list(DEFAULT_TIMEPOINTS)

meds = ctx.study.medications(ctx.population, lang=ctx.lang, timepoints=timepoints,
                             **ctx.filters)
if sum(meds.attrs["n_per_arm"].values()) == 0:
    st.info(ctx.t("efficacy.empty"))
    st.stop()

st.subheader(ctx.t("efficacy.meds.section.table"))
ui.show_table(ctx, meds, "medications", display=medications_display(meds))
st.subheader(ctx.t("efficacy.meds.section.chart"))
ui.show_chart(ctx, medications_figure(meds), "medications")
