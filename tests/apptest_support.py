"""Running a dashboard page in Streamlit's AppTest with chosen global filters."""
from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

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
