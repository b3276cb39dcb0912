"""Concomitant medication use by drug class, time point and arm (the paper's Table 4)."""
import streamlit as st

from analytics.charts.efficacy import medications_figure
from analytics.medications import medications_display, timepoints_with
from analytics.schema import VISITS
from dashboard import ui

ctx = ui.context()
ui.page_header(ctx, "nav.medications")

# Baseline, the published time points and the sidebar's; the key follows the sidebar time point
# so that a new global choice applies.
default_timepoints = timepoints_with(ctx.timepoint)
timepoints = st.multiselect(ctx.t("efficacy.meds.timepoints"), VISITS,
                            default=default_timepoints, key=f"meds_timepoints_{ctx.timepoint}",
                            format_func=lambda v: ctx.t(f"visit.{v}"),
                            help=ctx.t("efficacy.meds.timepoints.help",
                                       timepoint=ctx.t(f"visit.{ctx.timepoint}")))
timepoints = [v for v in VISITS if v in timepoints] or default_timepoints

meds = ctx.study.medications(ctx.population, lang=ctx.lang, timepoints=timepoints,
                             **ctx.filters)
if sum(meds.attrs["n_per_arm"].values()) == 0:
    st.info(ctx.t("efficacy.empty"))
    st.stop()

st.subheader(ctx.t("efficacy.meds.section.table"))
ui.show_table(ctx, meds, "medications", display=medications_display(meds))
st.subheader(ctx.t("efficacy.meds.section.chart"))
ui.show_chart(ctx, medications_figure(meds), "medications")
