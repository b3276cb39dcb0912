"""The survival page renders for every endpoint and both efficacy populations.

Two sets: on the default study (skipped, with the reason, until ``analytics.open_study()`` works)
and on a small hand-made study pointed to by ``MSC_RA_STUDY`` (always runs).
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from apptest_support import default_study_error, reset_dashboard_study, run_page

from analytics.study import STUDY_ENV_VAR
from analytics.survival import ENDPOINTS, SCALES
from survival_fixtures import random_study

APP = Path(__file__).resolve().parent.parent / "app.py"
POPULATIONS = ("completers", "nri")
TIMEOUT = 60




def _run(endpoint: str, population: str, lang: str = "en", tp: str = "Y1",
         **session) -> AppTest:
    at = run_page("pages/survival.py", lang=lang, population=population, timepoint=tp,
                  timeout=TIMEOUT, surv_endpoint=endpoint, **session)
    return at


def _check(at: AppTest, endpoint: str):
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="surv_endpoint").value == endpoint
    assert len(at.get("plotly_chart")) == 1
    assert len(at.dataframe) >= 1


# -- default study ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def default_study():
    reason = default_study_error()
    if reason:
        pytest.skip(reason)
    reset_dashboard_study()
    yield
    reset_dashboard_study()


@pytest.mark.parametrize("population", POPULATIONS)
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_page_default_study(default_study, endpoint, population):
    _check(_run(endpoint, population), endpoint)


@pytest.mark.parametrize("lang", ("en", "zh"))
def test_page_default_study_options(default_study, lang):
    at = _run("ACR20", "nri", lang=lang, tp="Y5", surv_ci=False, surv_censor=False,
              surv_whole=True, **{"surv_scale_ACR20": "survival"})
    _check(at, "ACR20")


# -- hand-made study ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def fixture_study(tmp_path_factory):
    path = tmp_path_factory.mktemp("surv_page") / "study.duckdb"
    random_study(path, n_per_arm=(30, 15), seed=3).close()
    old = os.environ.get(STUDY_ENV_VAR)
    os.environ[STUDY_ENV_VAR] = str(path)
    reset_dashboard_study()
    yield path
    if old is None:
        os.environ.pop(STUDY_ENV_VAR, None)
    else:
        os.environ[STUDY_ENV_VAR] = old
    reset_dashboard_study()


@pytest.mark.parametrize("population", POPULATIONS)
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_page_fixture_study(fixture_study, endpoint, population):
    _check(_run(endpoint, population), endpoint)


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("lang", ("en", "zh"))
def test_page_fixture_options(fixture_study, lang, scale):
    at = _run("DAS28_LDA", "nri", lang=lang, tp="M3", surv_ci=False, surv_censor=False,
              **{"surv_scale_DAS28_LDA": scale})
    _check(at, "DAS28_LDA")
    at = _run("WITHDRAWAL_AE", "completers", lang=lang, tp="Y7", surv_whole=True,
              filter_act="high")
    _check(at, "WITHDRAWAL_AE")


def test_page_fixture_subgroup(fixture_study):
    at = _run("ACR50", "completers", filter_sex="M", filter_age="ge55", filter_bio="1")
    assert not at.exception, [e.value for e in at.exception]
