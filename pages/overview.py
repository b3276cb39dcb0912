"""Study at a glance: the synthetic-data notice, the flow of subjects and Table 1."""
import streamlit as st

from analytics.baseline import baseline_display
from analytics.charts.consort import consort_figure
from dashboard import ui

ctx = ui.context()
ui.page_header(ctx, "overview.title", page="overview")
st.markdown(ctx.t("overview.intro"))

disposition = ctx.study.disposition(lang=ctx.lang, **ctx.filters)
left, right = st.columns([3, 2])
with left:
    ui.show_chart(ctx, consort_figure(disposition), "consort")
with right:
    c1, c2 = st.columns(2)
    for col, row in zip((c1, c2), disposition.itertuples()):
        col.metric(ctx.t(f"arm.{row.arm}"), f"{row.completed} / {row.randomized}",
                   help=ctx.t("overview.completed"))
        col.metric(ctx.t("overview.person_years"), f"{row.person_years:.1f}")
    if disposition.attrs["footnote"]:  # the subgroup the numbers are of
        st.caption(disposition.attrs["footnote"])
    st.caption(ctx.t("overview.study_file", path=ctx.study.path.name))

table1 = ctx.study.baseline("completers", lang=ctx.lang, **ctx.filters)
ui.show_table(ctx, table1, "baseline", display=baseline_display(table1, ctx.lang))
