"""The efficacy pages (response rates, trajectories, medications) render on the default study
under both populations, several time points, subgroups and both languages, and reopen from URL
parameters."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from apptest_support import run_page, switch_to

APP = Path(__file__).resolve().parent.parent / "app.py"
TIMEOUT = 60
PAGES = ("pages/response_rates.py", "pages/trajectories.py", "pages/medications.py")
# (time point, subgroup session-state filters)
CASES = [
    ("Y1", {}),
    ("Y3", {"filter_sex": "F"}),
    ("Y5", {"filter_age": "lt45", "filter_bio": "1"}),
    ("M1", {"filter_act": "high"}),
    ("Y7", {"filter_sex": "M", "filter_age": "ge55", "filter_bio": "1"}),  # may be (near) empty
]


pytestmark = pytest.mark.usefixtures("dashboard_study")


def _run(page: str, population: str = "completers", tp: str = "Y1", lang: str = "en",
         **session) -> AppTest:
    return run_page(page, lang=lang, population=population, timepoint=tp, timeout=TIMEOUT,
                    **session)


def _ok(at: AppTest):
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.title) >= 1


@pytest.mark.parametrize("tp,filters", CASES)
@pytest.mark.parametrize("population", ("completers", "nri"))
@pytest.mark.parametrize("page", PAGES)
def test_page_renders(page, population, tp, filters):
    at = _run(page, population, tp, **filters)
    _ok(at)
    if not at.info:  # a non-empty selection shows a chart and a table
        assert len(at.get("plotly_chart")) == 1
        assert len(at.dataframe) >= 1


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_in_chinese(page):
    at = _run(page, "nri", "Y3", lang="zh", filter_sex="F")
    _ok(at)
    assert len(at.get("plotly_chart")) == 1


@pytest.mark.parametrize("endpoint", ("ACR20", "ACR70", "DAS28_REM", "EULAR", "HAQ_MCID"))
def test_response_page_endpoints(endpoint):
    at = _run("pages/response_rates.py", "completers", "Y5", resp_endpoint=endpoint)
    _ok(at)
    assert at.selectbox(key="resp_endpoint").value == endpoint
    assert len(at.metric) == 2


def test_response_page_shows_table3_at_y1():
    at = _run("pages/response_rates.py", "completers", "Y1", resp_endpoint="ACR20")
    _ok(at)
    values = [m.value for m in at.metric]
    assert any("35/69" in v for v in values) and any("28/28" in v for v in values)
    table = at.dataframe[0].value.to_string()
    assert "35/69 (50.7 %)" in table and "28/28 (100.0 %)" in table


def test_response_page_nri_denominators():
    at = _run("pages/response_rates.py", "nri", "Y5", resp_endpoint="ACR20")
    _ok(at)
    values = [m.value for m in at.metric]
    assert any("/79)" in v for v in values) and any("/31)" in v for v in values)


def test_trajectories_toggles():
    at = _run("pages/trajectories.py", "nri", "Y2")
    _ok(at)
    at.selectbox(key="traj_measure").set_value("HAQ_DI").run()
    at.toggle(key="traj_individual").set_value(True).run()
    at.toggle(key="traj_change").set_value(True).run()
    _ok(at)
    assert len(at.get("plotly_chart")) == 1


def test_medications_page_shows_table4():
    at = _run("pages/medications.py", "completers", "Y1")
    _ok(at)
    text = at.dataframe[0].value.to_string()
    for cell in ("69 (100)", "26 (93)", "13 (19)", "36 (52)", "23 (33)", "0.081", "< 0.001",
                 "0.338", "0.820"):
        assert cell in text, cell
    at.multiselect(key="meds_timepoints_Y1").set_value(["BL", "Y2", "Y4"]).run()
    _ok(at)


@pytest.mark.parametrize("page", PAGES)
def test_reopen_from_url(page):
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.query_params["pop"] = "nri"
    at.query_params["tp"] = "Y5"
    at.query_params["sex"] = "F"
    at.run()
    switch_to(at, page)
    at.run()
    _ok(at)
    assert at.session_state["filter_pop"] == "nri"
    assert at.session_state["filter_tp"] == "Y5"
    assert at.session_state["filter_sex"] == "F"
    assert at.radio(key="w_pop").value == "nri"
    assert at.selectbox(key="w_tp").value == "Y5"
    assert at.selectbox(key="w_sex").value == "F"
