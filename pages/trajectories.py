"""Continuous measures over time per arm: mean (95 % CI), change from baseline, individual lines."""
import streamlit as st

from analytics.charts.efficacy import trajectory_figure
from analytics.trajectories import MEASURES, subject_values, trajectories_display
from dashboard import ui

ctx = ui.context()
ui.page_header(ctx, "nav.trajectories")

c1, c2, c3 = st.columns([3, 2, 2])
measure = c1.selectbox(ctx.t("efficacy.traj.measure"), list(MEASURES), key="traj_measure",
                       format_func=lambda m: ctx.t(f"efficacy.measure.{m}"))
change = c2.toggle(ctx.t("efficacy.traj.show_change"), value=False, key="traj_change")
individual = c3.toggle(ctx.t("efficacy.traj.individual"), value=False, key="traj_individual")

traj = ctx.study.trajectories(measure, ctx.population, lang=ctx.lang, **ctx.filters)
if traj.empty:
    st.info(ctx.t("efficacy.empty"))
    st.stop()
lines = (subject_values(ctx.study, measure, ctx.population, **ctx.filters)
         if individual else None)
ui.show_chart(ctx, trajectory_figure(traj, lines, change=change, timepoint=ctx.timepoint),
              "trajectories")
ui.show_table(ctx, traj, f"trajectories_{measure.lower()}", display=trajectories_display(traj))
