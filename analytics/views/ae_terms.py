"""Adverse events by MedDRA system organ class or preferred term: rates per arm and rate ratios."""
from __future__ import annotations

from .. import safety
from ..charts.safety import term_rates_figure
from ..empty_tables import no_events_note
from ..i18n import t
from .base import Control, ControlSlot, Note, View, figure, table
from .safety_window import window_blocks, window_control

CONTROLS = (
    window_control("ae_terms"),
    Control("by", "by", "safety.widget.by", "radio", safety.TERM_LEVELS, safety.TERM_LEVELS[0],
            lambda v, lang: t(f"safety.widget.by.{v}", lang), "ae_terms_by", horizontal=True),
    Control("serious_only", "serious", "safety.widget.serious_only", "toggle", default=False,
            widget_key="ae_terms_serious"),
    Control("top", "top", "safety.widget.top", "number", default=20, widget_key="ae_terms_top",
            bounds=(5, 60, 5)),
)


def build(ctx) -> list:
    blocks, years, empty = window_blocks(ctx)
    if empty:
        return blocks
    by = ctx.state["by"]
    blocks.append(ControlSlot(("by", "serious_only", "top"), (2, 2, 1)))
    rates = ctx.study.ae_rates(by=by, serious_only=ctx.state["serious_only"], years=years,
                               lang=ctx.lang, **ctx.filters)
    if rates.empty:
        return blocks + [Note("info", no_events_note(ctx.study, "adverse_events", ctx.lang)
                              or ctx.t("safety.empty"))]  # none in the study, or here
    return blocks + [figure(term_rates_figure(rates, top=int(ctx.state["top"])), f"ae_{by}",
                            rates),
                     table(rates, f"ae_rates_{by}", safety.terms_display(rates))]


VIEW = View("ae_terms", "adverse-events", CONTROLS, build, header="safety")
