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

from analytics.caution import not_estimable
from analytics.i18n import t
from analytics.study import STUDY_ENV_VAR
from analytics.survival import SCALES, WITHDRAWAL_ENDPOINTS, endpoints_for
from survival_fixtures import random_study

APP = Path(__file__).resolve().parent.parent / "app.py"
POPULATIONS = ("completers", "nri")
TIMEOUT = 60
# the endpoints each population offers (no withdrawal among completers)
OFFERED = [(e, p) for p in POPULATIONS for e in endpoints_for(p)]




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


@pytest.mark.parametrize("endpoint,population", OFFERED)
def test_page_default_study(default_study, endpoint, population):
    _check(_run(endpoint, population), endpoint)


@pytest.mark.parametrize("lang", ("en", "zh"))
def test_page_not_estimable_and_caution(default_study, lang):
    """The reported case: one male MSC + IFN-γ completer without a prior biologic."""
    at = _run("ACR20", "completers", lang=lang, filter_sex="M", filter_bio="0",
              surv_whole=True)
    _check(at, "ACR20")
    table = at.dataframe[0].value
    assert table[t("survival.col.hr", lang)].iloc[1] == not_estimable("monotone_likelihood", lang)
    assert table[t("survival.col.logrank_p", lang)].iloc[0] == not_estimable("arm_too_small",
                                                                             lang)
    assert any(t("caution.small_arm.one", lang, threshold=10) in w.value for w in at.warning)
    captions = " ".join(c.value for c in at.caption)
    assert not_estimable("monotone_likelihood", lang) in captions


@pytest.mark.parametrize("lang", ("en", "zh"))
@pytest.mark.parametrize("endpoint", tuple(WITHDRAWAL_ENDPOINTS))
def test_page_withdrawal_per_population(default_study, lang, endpoint):
    # under NRI: offered; by cause, only the cumulative incidence scale and its own table
    at = _run(endpoint, "nri", lang=lang, surv_whole=True)
    _check(at, endpoint)
    scale = at.radio(key=f"surv_scale_{endpoint}")
    if endpoint == "WITHDRAWAL":
        assert list(scale.options) == [t(f"survival.scale.{s}", lang) for s in SCALES]
    else:
        assert list(scale.options) == [t("survival.scale.cumulative_incidence", lang)]
        assert t("survival.col.cif", lang) in at.dataframe[0].value.columns
    # under Completers: not offered; the page says so and shows a response endpoint instead
    at = _run(endpoint, "completers", lang=lang)
    assert not at.exception, [e.value for e in at.exception]
    box = at.selectbox(key="surv_endpoint")
    assert box.value == endpoints_for("completers")[0]
    assert not any(t(f"endpoint.{e}", lang) in o for o in box.options
                   for e in WITHDRAWAL_ENDPOINTS)
    assert any(t("survival.endpoints.completers_note", lang) in c.value for c in at.caption)
    assert any(t(f"endpoint.{endpoint}", lang) in i.value for i in at.info)


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


@pytest.mark.parametrize("endpoint,population", OFFERED)
def test_page_fixture_study(fixture_study, endpoint, population):
    _check(_run(endpoint, population), endpoint)


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("lang", ("en", "zh"))
def test_page_fixture_options(fixture_study, lang, scale):
    at = _run("DAS28_LDA", "nri", lang=lang, tp="M3", surv_ci=False, surv_censor=False,
              **{"surv_scale_DAS28_LDA": scale})
    _check(at, "DAS28_LDA")
    at = _run("WITHDRAWAL_AE", "nri", lang=lang, tp="Y7", surv_whole=True,
              filter_act="high")
    _check(at, "WITHDRAWAL_AE")


def test_page_fixture_subgroup(fixture_study):
    at = _run("ACR50", "completers", filter_sex="M", filter_age="ge55", filter_bio="1")
    assert not at.exception, [e.value for e in at.exception]
