"""Page headers list exactly the sidebar filters the page applies (issue 10, item 6), in both
languages; the others are named as not applied. The medications view follows the sidebar time
point; the reconciliation page says the filters do not apply."""
from __future__ import annotations

import json

import pytest

from analytics.i18n import t
from apptest_support import run_page
from dashboard.pages import pages

pytestmark = pytest.mark.usefixtures("dashboard_study")

POP, TP, SUB = "population", "timepoint", "subgroups"
# What each page's tables and figures follow (written out here, not read from analytics.scope):
# efficacy pages follow all; the overview's flow and Table 1 follow the subgroup only (Table 1 is
# the completers' baseline); safety pages the subgroup over the safety population; the
# reconciliation page nothing.
APPLIED = {
    "overview": {SUB},
    "response_rates": {POP, TP, SUB},
    "disease_activity": {POP, TP, SUB},
    "trajectories": {POP, TP, SUB},
    "medications": {POP, TP, SUB},
    "survival": {POP, TP, SUB},
    "safety_overview": {SUB},
    "ae_terms": {SUB},
    "sae_listing": {SUB},
    "reconciliation": set(),
    # issue 14: clusters of the course over every visit (no time point); the forest plot and
    # the planner: response at the time point, or follow-up up to it
    "clusters": {POP, SUB},
    "forest_plot": {POP, TP, SUB},
    "trial_planner": {POP, TP, SUB},
}
SAFETY = {"safety_overview", "ae_terms", "sae_listing"}


def _words(lang: str) -> dict[str, str]:
    return {POP: t("population.nri", lang), TP: t("visit.Y3", lang),
            SUB: t("filter.sex.F", lang)}


def _page_key(title_key: str) -> str:
    return title_key.removeprefix("nav.")


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("script,title_key", [(p[0], p[1]) for p in pages()
                                              if _page_key(p[1]) in APPLIED])  # not the Report
def test_header_lists_exactly_the_applied_filters(script, title_key, lang):
    page = _page_key(title_key)
    at = run_page(script, lang=lang, population="nri", timepoint="Y3", filter_sex="F")
    assert not at.exception, [e.value for e in at.exception]
    captions = [c.value for c in at.caption]
    not_applied_prefix = t("scope.not_applied", lang, filters="").rstrip("。.")
    ignored_lines = [c for c in captions if c.startswith(not_applied_prefix)]
    header = captions[0]
    words = _words(lang)
    if page == "reconciliation":
        assert header == t("scope.whole_study", lang)
        assert not ignored_lines
        assert not any(words[SUB] in c or words[TP] in c for c in captions)
        return
    for name, word in words.items():
        if name in APPLIED[page]:
            assert word in header, (name, header)
            assert not any(word in line for line in ignored_lines), (name, ignored_lines)
        else:
            assert word not in header, (name, header)
            assert len(ignored_lines) == 1 and word in ignored_lines[0], (name, ignored_lines)
    if page in SAFETY:
        assert t("population.safety", lang) in header
    if APPLIED[page] == {POP, TP, SUB}:
        assert not ignored_lines


def test_header_without_subgroup_names_only_what_is_set():
    at = run_page("pages/safety_overview.py", lang="en", population="completers",
                  timepoint="Y1")
    captions = [c.value for c in at.caption]
    # the safety population and the comparison (every page but the whole-study one follows it)
    assert captions[0] == " · ".join([t("population.safety", "en"), t("comparison.all", "en")])
    assert captions[1] == t("scope.not_applied", "en", filters=" · ".join([
        t("scope.item", "en", name=t("filter.population", "en"),
          value=t("population.completers", "en")),
        t("scope.item", "en", name=t("filter.timepoint", "en"), value=t("visit.Y1", "en"))]))


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_medications_follow_the_sidebar_time_point(lang):
    at = run_page("pages/medications.py", lang=lang, population="completers", timepoint="Y2")
    assert not at.exception, [e.value for e in at.exception]
    assert at.multiselect(key="meds_timepoints_Y2").value == ["BL", "Y1", "Y2", "Y3", "Y5"]
    table = at.dataframe[0].value
    year2 = t("visit.Y2", lang)
    assert any(year2 in str(c) for c in table.columns)
    chart = json.dumps(json.loads(at.get("plotly_chart")[0].proto.spec), ensure_ascii=False)
    assert year2 in chart


def test_medications_default_is_table4_when_the_time_point_is_published():
    at = run_page("pages/medications.py", timepoint="Y5")
    assert at.multiselect(key="meds_timepoints_Y5").value == ["BL", "Y1", "Y3", "Y5"]


def test_overview_flow_and_metrics_follow_the_subgroup(study):
    at = run_page("pages/overview.py", filter_sex="M")
    assert not at.exception, [e.value for e in at.exception]
    raw = study.query("SELECT arm, count(*) AS n, count(*) FILTER (WHERE status = 'completed') "
                      "AS c FROM subjects WHERE sex = 'M' GROUP BY arm").set_index("arm")
    values = [m.value for m in at.metric]
    for arm in ("MSC", "MSC_IFNG"):
        assert f"{raw.at[arm, 'c']} / {raw.at[arm, 'n']}" in values
    assert any(t("filter.sex.M", "en") in c.value for c in at.caption[1:])


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_slides_name_what_their_page_does_not_apply(study, lang):
    from analytics import views
    not_applied = t("scope.not_applied", lang, filters="").rstrip("。.")
    for key, expect_line in (("safety_overview", True), ("response_rates", False)):
        items = views.page_items(study, key, lang=lang, population="nri", timepoint="Y3",
                                 filters={"sex": "F"})
        assert items
        for item in items:
            assert (not_applied in item.caption) == expect_line, (key, item.caption)
            if expect_line:
                assert t("visit.Y3", lang) in item.caption


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_survival_over_the_whole_follow_up_does_not_claim_the_time_point(lang):
    """With "whole follow-up" on, the sidebar's time point sets no horizon: the header names it
    as not applied, not as applied."""
    at = run_page("survival", lang=lang, population="nri", timepoint="Y3", surv_whole=True)
    assert not at.exception, [e.value for e in at.exception]
    captions = [c.value for c in at.caption]
    not_applied_prefix = t("scope.not_applied", lang, filters="").rstrip("。.")
    ignored_lines = [c for c in captions if c.startswith(not_applied_prefix)]
    visit = t("visit.Y3", lang)
    assert visit not in captions[0] and t("population.nri", lang) in captions[0]
    assert len(ignored_lines) == 1 and visit in ignored_lines[0]
