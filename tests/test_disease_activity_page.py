"""The disease-activity page renders under both efficacy populations, several global time points,
both languages, subgroups (one of them empty) and a changed Sankey choice. Its three sections
are tabs, the open one alone drawn; a choice in a closed tab keeps its value."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from analytics.study import STUDY_ENV_VAR
from apptest_support import count_in_sections, run_page, section_runs

APP = Path(__file__).resolve().parent.parent / "app.py"
PAGE = "pages/disease_activity.py"
TIMEOUT = 60


@pytest.fixture(scope="module", autouse=True)
def default_study():
    if os.environ.get(STUDY_ENV_VAR):
        pytest.skip(f"{STUDY_ENV_VAR} points elsewhere; these tests use the default study")
    from analytics import open_study
    open_study().close()  # builds the default study if missing
    from dashboard import ui
    ui.get_study.clear()
    yield
    ui.get_study.clear()


def _run(population: str, tp: str, lang: str = "en", **session) -> AppTest:
    return run_page(PAGE, lang=lang, population=population, timepoint=tp, timeout=TIMEOUT,
                    **session)


def _ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


@pytest.mark.parametrize("population", ("completers", "nri"))
@pytest.mark.parametrize("tp", ("M1", "Y1", "Y3", "Y7"))
def test_page_renders(population, tp):
    at = _run(population, tp)
    _ok(at)
    assert [t.label for t in at.tabs] == ["Flow between disease-activity categories",
                                          "Transition matrix", "Distribution per time point"]
    drawn = {}
    for section, page in section_runs(at, PAGE):
        _ok(page)
        drawn[section] = [c.proto.id.rsplit("-", 1)[-1] for c in page.get("plotly_chart")]
        if section == "flow":
            assert page.multiselect(key="da_sankey_tps").value == ["BL", "Y1", "Y3", "Y5"]
        if section == "matrix":
            # The global time point is the default end of the transition matrix, from baseline.
            assert page.selectbox(key="da_from").value == "BL"
            assert page.selectbox(key=f"da_to_BL_{tp}").value == tp
        if section == "bars":
            assert len(page.dataframe) == 1
    # Two Sankeys (one per arm), the transition matrix, the stacked bars: each in its tab.
    assert drawn == {"flow": ["fig_da_sankey_MSC", "fig_da_sankey_MSC_IFNG"],
                     "matrix": ["fig_da_matrix"], "bars": ["fig_da_bars"]}


@pytest.mark.parametrize("population", ("completers", "nri"))
def test_page_chinese_and_subgroup(population):
    at = _run(population, "Y5", lang="zh", filter_sex="F", filter_age="45to54",
              filter_act="high", filter_bio="0")
    _ok(at)
    assert [t.label for t in at.tabs] == ["疾病活动度类别间的流向", "转换矩阵", "各时间点的分布"]
    assert count_in_sections(at, PAGE, "plotly_chart") == 4


def test_page_subgroup_males_prior_biologic():
    _ok(_run("nri", "Y3", filter_sex="M", filter_bio="1"))


def test_page_empty_subgroup():
    # No subject in the default study fits: a message instead of the figures.
    at = _run("completers", "Y2", filter_sex="M", filter_age="ge55", filter_act="moderate",
              filter_bio="1")
    _ok(at)
    assert len(at.info) == 1


@pytest.mark.parametrize("population", ("completers", "nri"))
def test_page_one_arm_empty(population):
    # Males aged 55 or more: only MSC subjects in the default study.
    at = _run(population, "Y5", filter_sex="M", filter_age="ge55")
    _ok(at)
    assert count_in_sections(at, PAGE, "plotly_chart") == 4


def test_page_sankey_choice_and_matrix_start():
    at = _run("nri", "Y3")
    _ok(at)
    at.multiselect(key="da_sankey_tps").set_value(["Y7", "M6", "BL"]).run()
    _ok(at)
    assert len(at.get("plotly_chart")) == 2
    at.multiselect(key="da_sankey_tps").set_value(["Y1"]).run()
    _ok(at)
    assert len(at.info) >= 1  # "choose at least two time points"
    assert len(at.get("plotly_chart")) == 0
    at.session_state["da_section"] = "matrix"
    at.run()
    _ok(at)
    assert dict(at.query_params)["sec"] in (["matrix"], "matrix")
    assert len(at.get("plotly_chart")) == 1
    assert "da_sankey_tps" not in [w.key for w in at.multiselect]
    at.selectbox(key="da_from").set_value("Y6").run()
    _ok(at)
    # Y3 is not after Y6: the end falls back to the last time point.
    assert at.selectbox(key="da_to_Y6_Y3").value == "Y7"


def test_a_choice_in_a_closed_tab_keeps_its_value():
    """Streamlit drops the state of a widget it did not draw; the page keeps the choices of
    the closed tabs, on the page and in its address."""
    at = _run("completers", "Y3")
    at.multiselect(key="da_sankey_tps").set_value(["BL", "Y7"]).run()
    for section in ("matrix", "bars"):
        at.session_state["da_section"] = section
        at.run()
        _ok(at)
        assert dict(at.query_params)["flow"] in (["BL,Y7"], "BL,Y7")
    at.session_state["da_section"] = "matrix"
    at.run()
    at.selectbox(key="da_from").set_value("Y1").run()
    at.session_state["da_section"] = "flow"
    at.run()
    _ok(at)
    assert at.multiselect(key="da_sankey_tps").value == ["BL", "Y7"]
    assert dict(at.query_params)["from"] in (["Y1"], "Y1")
    at.session_state["da_section"] = "matrix"
    at.run()
    assert at.selectbox(key="da_from").value == "Y1"
    assert at.selectbox(key="da_to_Y1_Y3").value == "Y3"
