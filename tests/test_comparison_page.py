"""The sidebar's design choices in AppTest: the comparison (``cmp``) and the trial filter
(``trial``), in both languages, through the URL and back; the response page's Holm switch and
small-number cautions."""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from analytics.annotate import comparison_label
from analytics.i18n import t
from analytics.population import randomised_trials, trial_ids
from apptest_support import open_link, run_page

RESPONSE = "pages/response_rates.py"

pytestmark = pytest.mark.usefixtures("dashboard_study")


def _ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def _header(at: AppTest) -> str:
    return at.caption[0].value  # the view in words, under the title


@pytest.mark.parametrize("lang", ("en", "zh"))
def test_comparison_choice_in_sidebar_and_header(study, lang):
    at = run_page(RESPONSE, lang=lang, population="nri", timepoint="Y1")
    _ok(at)
    radio = at.radio(key="w_cmp")
    assert radio.label == t("filter.comparison", lang)
    assert radio.value == "all"
    assert comparison_label(study, "all", lang) in _header(at)
    radio.set_value("rand").run()
    _ok(at)
    randomised = comparison_label(study, "randomised", lang)
    assert randomised_trials(study)[0] in randomised
    assert randomised in _header(at)
    assert at.query_params["cmp"] == "rand"
    # the table's caption says which comparison too
    assert any(randomised in c.value and t("synthetic.notice", lang) in c.value
               for c in at.caption)


@pytest.mark.parametrize("lang", ("en", "zh"))
def test_trial_filter_values_from_the_study(study, lang):
    at = run_page(RESPONSE, lang=lang, population="completers", timepoint="Y1")
    _ok(at)
    box = at.selectbox(key="w_trial")
    assert box.label == t("filter.study_id", lang)
    assert box.options[0] == t("filter.study_id.all", lang)
    trials = trial_ids(study)
    assert len(box.options) == 1 + len(trials)
    box.set_value(trials[0]).run()
    _ok(at)
    assert trials[0] in _header(at)
    assert at.query_params["trial"] == trials[0]


def _reopen(query: dict, page: str = RESPONSE) -> AppTest:
    """Open the app from a URL's query (as a copied link does), then switch to ``page``."""
    return open_link(query, page)


def test_url_round_trip_of_cmp_and_trial(study):
    trial = randomised_trials(study)[0]
    at = _reopen({"cmp": "rand", "trial": trial, "pop": "nri", "lang": "zh"})
    _ok(at)
    assert at.radio(key="w_cmp").value == "rand"
    assert at.selectbox(key="w_trial").value == trial
    header = _header(at)
    assert comparison_label(study, "randomised", "zh") in header and trial in header
    # unknown values fall back to the defaults instead of failing
    at = _reopen({"cmp": "pooled", "trial": "NCT-not-here"})
    _ok(at)
    assert at.radio(key="w_cmp").value == "all"
    assert at.selectbox(key="w_trial").value == "all"


def test_survival_and_safety_honour_the_comparison(study):
    for page in ("pages/survival.py", "pages/safety_overview.py"):
        at = run_page(page, population="nri", timepoint="Y1", filter_cmp="rand")
        _ok(at)
        assert comparison_label(study, "randomised", "en") in _header(at)


def test_holm_switch_and_small_arm_caution():
    at = run_page(RESPONSE, population="nri", timepoint="Y5", filter_cmp="rand",
                  filter_sex="M")
    _ok(at)
    table = at.dataframe[0].value
    assert t("efficacy.col.p", "en") in table.columns
    at.toggle(key="resp_holm").set_value(True).run()
    _ok(at)
    table = at.dataframe[0].value
    assert t("efficacy.col.p_holm", "en") in table.columns
    assert t("efficacy.col.p", "en") not in table.columns
    # 5 vs 4 men at Year 5: the caution is shown
    assert any("fewer than 10" in w.value for w in at.warning)
    # Year 7: an arm below 3, no test, and the page says why
    at = run_page(RESPONSE, lang="zh", population="nri", timepoint="Y7", filter_cmp="rand",
                  filter_sex="M")
    _ok(at)
    assert any("无法估计" in i.value for i in at.info)
