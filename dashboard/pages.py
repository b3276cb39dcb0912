"""The dashboard's pages, in menu order: (script, title message key, URL path)."""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PAGES: list[tuple[str, str, str]] = [
    ("pages/overview.py", "nav.overview", "overview"),
    ("pages/response_rates.py", "nav.response_rates", "response-rates"),
    ("pages/disease_activity.py", "nav.disease_activity", "disease-activity"),
    ("pages/trajectories.py", "nav.trajectories", "trajectories"),
    ("pages/medications.py", "nav.medications", "medications"),
    ("pages/survival.py", "nav.survival", "survival"),
    ("pages/safety_overview.py", "nav.safety_overview", "safety"),
    ("pages/ae_terms.py", "nav.ae_terms", "adverse-events"),
    ("pages/sae_listing.py", "nav.sae_listing", "serious-adverse-events"),
    ("pages/reconciliation.py", "nav.reconciliation", "published-vs-dashboard"),
]


def existing_pages() -> list[tuple[str, str, str]]:
    return [p for p in PAGES if (ROOT / p[0]).exists()]
