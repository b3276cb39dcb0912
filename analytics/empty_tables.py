"""Tables a real study may leave empty (no adverse event yet, no medication recorded).

The importer accepts an empty ``adverse_events`` or ``medications`` table with a warning
(:data:`analytics.importer.EMPTY_ALLOWED`); analyses of it then return their usual frame with
zero counts or no rows, and this note in the footnote says why, instead of failing.
"""
from __future__ import annotations

from .i18n import t
from .importer import EMPTY_ALLOWED

# table -> the catalogue key of its footnote
NO_EVENTS_NOTES = {"adverse_events": "empty_table.adverse_events",
                   "medications": "empty_table.medications"}


def no_events_note(study, table: str, lang: str) -> str:
    """'No adverse events are recorded in this study.' when ``table`` is empty, else ''."""
    if table not in EMPTY_ALLOWED:
        raise ValueError(f"table {table!r} cannot be empty; expected one of {sorted(EMPTY_ALLOWED)}")
    # a fact of the open file (it cannot change under it), asked by every analysis of the table
    rows = study.fact(f'SELECT count(*) AS n FROM "{table}"')  # name checked above
    return t(NO_EVENTS_NOTES[table], lang) if int(rows["n"].iloc[0]) == 0 else ""
