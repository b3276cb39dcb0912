"""Published vs this dashboard: every figure of the paper beside the value computed now."""
import streamlit as st

from analytics.reconciliation import reconcile
from dashboard import ui

ctx = ui.context()
ui.page_header(ctx, "nav.reconciliation")
st.markdown(ctx.t("reconcile.intro"))

table = reconcile(ctx.study, lang=ctx.lang)
mismatched = int((~table.match).sum())
if mismatched:
    st.error(ctx.t("reconcile.some_mismatch", mismatched=mismatched, total=len(table)))
else:
    st.success(ctx.t("reconcile.all_match", total=len(table)), icon="✅")

shown = table[~table.match] if st.toggle(ctx.t("reconcile.only_mismatches"),
                                         key="reconcile_only_mismatches") else table
display = shown.assign(match=shown.match.map({True: "✓", False: "✗"})).rename(
    columns={c: ctx.t(f"reconcile.col.{c}") for c in shown.columns})
ui.show_table(ctx, table, "reconciliation", display=display)
