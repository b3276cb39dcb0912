"""Disease activity: DAS28-ESR categories over time (Sankey per arm), the transition matrix
between two time points, and the distribution at every time point (100 % stacked bars)."""
import pandas as pd
import streamlit as st

from analytics.charts.disease_activity import (activity_bars_figure, sankey_figure,
                                               transition_matrix_figure)
from analytics.disease_activity import activity_display
from analytics.schema import ARMS, VISITS
from dashboard import ui

ctx = ui.context()
ui.page_header(ctx, "nav.disease_activity")

DEFAULT_SANKEY = ["BL", "Y1", "Y3", "Y5"]


def _display(df: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    return activity_display(df, columns, ctx.lang)


def _visit(code: str) -> str:
    return ctx.t(f"visit.{code}")


activity = ctx.study.disease_activity(ctx.population, lang=ctx.lang, **ctx.filters)
if sum(activity.attrs["n_per_arm"].values()) == 0:
    st.info(ctx.t("da.no_subjects"))
    st.stop()

# -- Sankey per arm ------------------------------------------------------------------------------
st.subheader(ctx.t("da.sankey.header"))
chosen = st.multiselect(ctx.t("da.sankey.timepoints"), VISITS, default=DEFAULT_SANKEY,
                        key="da_sankey_tps", format_func=_visit)
chosen = [v for v in VISITS if v in chosen]
if len(chosen) < 2:
    st.info(ctx.t("da.sankey.need_two"))
else:
    flow_df = ctx.study.flows(ctx.population, chosen, lang=ctx.lang, **ctx.filters)
    for arm in ARMS:
        ui.show_chart(ctx, sankey_figure(flow_df, arm, lang=ctx.lang), f"da_sankey_{arm}")
    with st.expander(ctx.t("da.tables.expander")):
        ui.show_table(ctx, flow_df, "disease_activity_flows",
                      display=_display(flow_df, ["arm", "from_timepoint", "to_timepoint",
                                                 "from_category", "to_category", "count", "n",
                                                 "percent", "row_percent"]))

# -- transition matrix ---------------------------------------------------------------------------
st.subheader(ctx.t("da.matrix.header"))
c1, c2 = st.columns(2)
start = c1.selectbox(ctx.t("da.matrix.from"), VISITS[:-1], index=0, key="da_from",
                     format_func=_visit)
later = VISITS[VISITS.index(start) + 1:]
# The global time point is the default end; the key follows it so a new global choice applies.
default_end = ctx.timepoint if ctx.timepoint in later else later[-1]
end = c2.selectbox(ctx.t("da.matrix.to"), later, index=later.index(default_end),
                   key=f"da_to_{start}_{ctx.timepoint}", format_func=_visit)
trans = ctx.study.transitions(ctx.population, start, end, lang=ctx.lang, **ctx.filters)
ui.show_chart(ctx, transition_matrix_figure(trans, lang=ctx.lang), "da_matrix")
with st.expander(ctx.t("da.tables.expander")):
    ui.show_table(ctx, trans, "disease_activity_transitions",
                  display=_display(trans[trans["count"] > 0],
                                   ["arm", "from_category", "to_category", "count", "n",
                                    "percent", "row_percent"]))

# -- stacked bars --------------------------------------------------------------------------------
st.subheader(ctx.t("da.bars.header"))
ui.show_chart(ctx, activity_bars_figure(activity, lang=ctx.lang), "da_bars")
ui.show_table(ctx, activity, "disease_activity",
              display=_display(activity, ["arm", "timepoint", "years", "category", "count", "n",
                                          "percent"]))
