"""Fixtures shared by the test modules."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def study():
    """The embedded default study (built if missing), open read-only."""
    from analytics import open_study

    s = open_study()
    yield s
    s.close()


@pytest.fixture(scope="module")
def dashboard_study():
    """The default study built, and the dashboard's cached connection dropped around the module
    (a module may point the dashboard at another file)."""
    from analytics import open_study
    from dashboard import ui

    open_study().close()  # builds the default study if missing
    ui.get_study.clear()
    yield
    ui.get_study.clear()
