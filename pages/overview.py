"""Study at a glance: the synthetic-data notice, the flow of subjects and Table 1."""
import streamlit as st

from analytics.charts.consort import consort_figure
from dashboard import ui

ctx = ui.context()
st.title(ctx.t("overview.title"))
ui.synthetic_banner(ctx)
st.markdown(ctx.t("overview.intro"))

disposition = ctx.study.disposition(lang=ctx.lang)
left, right = st.columns([3, 2])
with left:
    ui.show_chart(ctx, consort_figure(disposition), "consort")
with right:
    c1, c2 = st.columns(2)
    for col, row in zip((c1, c2), disposition.itertuples()):
        col.metric(ctx.t(f"arm.{row.arm}"), f"{row.completed} / {row.randomized}",
                   help=ctx.t("overview.completed"))
        col.metric(ctx.t("overview.person_years"), f"{row.person_years:.1f}")
    st.caption(ctx.t("overview.study_file", path=ctx.study.path.name))

table1 = ctx.study.baseline("completers", lang=ctx.lang, **ctx.filters)
display = (table1.pivot(index=["characteristic", "label"], columns="arm", values="display")
           .reset_index())
p = table1.drop_duplicates("characteristic").set_index("characteristic")["p_display"]
display["p"] = display["characteristic"].map(p)
order = {c: i for i, c in enumerate(table1.characteristic.unique())}
display = display.sort_values("characteristic", key=lambda s: s.map(order))
n = table1.attrs["n_per_arm"]
display = display.drop(columns="characteristic").rename(columns={
    "label": ctx.t("baseline.characteristic"),
    "MSC": f"{ctx.t('arm.MSC')} (N = {n['MSC']})",
    "MSC_IFNG": f"{ctx.t('arm.MSC_IFNG')} (N = {n['MSC_IFNG']})",
    "p": ctx.t("baseline.p_value")})
ui.show_table(ctx, table1, "baseline", display=display)
