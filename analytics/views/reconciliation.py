"""Published vs this dashboard: every figure of the paper beside the value computed now."""
from __future__ import annotations

from ..reconciliation import reconcile
from .base import Control, ControlSlot, Note, View, table

CONTROLS = (
    Control("only_mismatches", "mismatches", "reconcile.only_mismatches", "toggle",
            default=False, widget_key="reconcile_only_mismatches"),
)


def build(ctx) -> list:
    full = reconcile(ctx.study, lang=ctx.lang)
    mismatched = int((~full.match).sum())
    verdict = (Note("error", ctx.t("reconcile.some_mismatch", mismatched=mismatched,
                                   total=len(full))) if mismatched else
               Note("success", ctx.t("reconcile.all_match", total=len(full))))
    shown = full[~full.match] if ctx.state["only_mismatches"] else full
    display = shown.assign(match=shown.match.map({True: "✓", False: "✗"})).rename(
        columns={c: ctx.t(f"reconcile.col.{c}") for c in shown.columns})
    return [Note("markdown", ctx.t("reconcile.intro")), verdict,
            ControlSlot(("only_mismatches",)),
            table(full, "reconciliation", display)]


# a long check list rather than a result: not in the default deck
VIEW = View("reconciliation", "published-vs-dashboard", CONTROLS, build, header="whole",
            in_deck=False)
