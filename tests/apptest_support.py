"""Running a dashboard page in Streamlit's AppTest with chosen global filters."""
from __future__ import annotations

import os
from pathlib import Path

from streamlit.testing.v1 import AppTest

from analytics.study import STUDY_ENV_VAR

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app.py"


def run_page(page: str, *, lang: str = "en", population: str = "completers",
             timepoint: str = "Y1", timeout: float = 60, **session) -> AppTest:
    """Open ``app.py`` with the filters set in session state, switch to ``page``
    (``pages/<name>.py`` or its absolute path), run it and return the AppTest."""
    at = AppTest.from_file(str(APP), default_timeout=timeout)
    at.session_state["filter_lang"] = lang
    at.session_state["filter_pop"] = population
    at.session_state["filter_tp"] = timepoint
    for key, value in session.items():
        at.session_state[key] = value
    at.run()
    at.switch_page(page)
    at.run()
    return at


def default_study_error() -> str | None:
    """Why the default study cannot be used here (None: it can)."""
    if os.environ.get(STUDY_ENV_VAR):
        return None
    try:
        from analytics import open_study
        open_study().close()
    except Exception as exc:  # noqa: BLE001 -- any failure means: not available
        return f"default study not available (analytics.open_study() raised {exc!r})"
    return None


def reset_dashboard_study() -> None:
    """Make the dashboard reopen its study file (after MSC_RA_STUDY changed)."""
    from dashboard import ui
    ui.get_study.clear()
