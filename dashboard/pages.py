"""The dashboard's pages, in menu order: (script, title message key, URL path).

Every view of the registry (:mod:`analytics.views`) is a page; its script ``pages/<view>.py`` is
the one line Streamlit's navigation (and its test harness) needs. The Report page follows, then
"Load a study" (only for a user who may manage studies).
"""
from __future__ import annotations

from pathlib import Path

from analytics.views import VIEWS

ROOT = Path(__file__).resolve().parent.parent

PAGES: list[tuple[str, str, str]] = [
    *((f"pages/{key}.py", view.title_key, view.path) for key, view in VIEWS.items()),
    ("pages/report.py", "nav.report", "report"),
    ("pages/load_study.py", "nav.load_study", "load-study"),
]
MANAGE_PAGES = {"pages/load_study.py"}  # in the menu only for who may manage studies


def existing_pages() -> list[tuple[str, str, str]]:
    from .access import can_manage_studies

    manage = can_manage_studies()
    return [p for p in PAGES if (ROOT / p[0]).exists() and (manage or p[0] not in MANAGE_PAGES)]
