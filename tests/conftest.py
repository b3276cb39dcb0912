"""Fixtures shared by the test modules."""
from __future__ import annotations

import os

import pytest

# every figure built in a test (and by the servers the browser tests start) is also built with
# plotly's validation and must give the same JSON (analytics.charts.theme.figure)
os.environ.setdefault("MSC_RA_VALIDATE_FIGURES", "1")


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


@pytest.fixture
def existing_out(tmp_path):
    """A current study file (any bytes) that a failed build must leave byte-identical, alone in
    its folder."""
    out = tmp_path / "out" / "study.duckdb"
    out.parent.mkdir()
    out.write_bytes(b"previous study file \x00\x01 must survive")
    return out
