"""Listing of serious adverse events: subject, term, onset day, severity, outcome."""
from __future__ import annotations

from .. import safety
from ..empty_tables import no_events_note
from .base import Note, View, table
from .safety_window import window_blocks, window_control


def build(ctx) -> list:
    blocks, years, empty = window_blocks(ctx)
    if empty:
        return blocks
    listing = ctx.study.sae_listing(years=years, lang=ctx.lang, **ctx.filters)
    if listing.empty:
        blocks.append(Note("info", no_events_note(ctx.study, "adverse_events", ctx.lang)
                           or ctx.t("safety.empty_sae")))  # none in the study, or here
    return blocks + [table(listing, "sae_listing", safety.listing_display(listing),
                           ongoing=(ctx.t("safety.col.end_day"),))]


VIEW = View("sae_listing", "serious-adverse-events", (window_control("sae_listing"),), build,
            header="safety")
