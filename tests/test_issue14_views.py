"""The issue 14 views through the app (AppTest): disease-activity clusters, the subgroup forest
plot and the next-trial planner. Every control is changed on the page; the page then shows what
the analysis computes for that choice (the same numbers, called independently here), writes the
choice into its URL, offers the downloads and goes into the report basket. The CSV of the
planner states every assumption."""
from __future__ import annotations

import io

import pandas as pd
import pytest

from analytics import export, views
from analytics.clusters import clusters as cluster_analysis
from analytics.forest import forest_response, forest_survival
from analytics.i18n import fmt_number, t
from analytics.planner import plan_response, plan_survival
from analytics.survival import horizon_for_visit
from apptest_support import run_page

pytestmark = pytest.mark.usefixtures("dashboard_study")
TIMEOUT = 180


def _ok(at) -> None:
    assert not at.exception, [e.value for e in at.exception]


def _state(at, study, view: str) -> views.ViewState:
    query = {k: (v[0] if isinstance(v, list) else v) for k, v in at.query_params.items()}
    return views.from_query(view, study, query, strict=True)


def _table(at, title: str) -> pd.DataFrame:
    """The dataframe drawn under the bold title ``title``."""
    titles = [m.value.strip("*") for m in at.markdown if m.value.startswith("**")]
    assert title in titles, (title, titles)
    # every table is drawn under its title, in page order
    tables = [m.value.strip("*") for m in at.markdown
              if m.value.startswith("**") and m.value.strip("*") in titles]
    return at.dataframe[tables.index(title)].value


# -- clusters -----------------------------------------------------------------------------------
def test_clusters_every_control(study):
    at = run_page("pages/clusters.py", timeout=TIMEOUT)
    _ok(at)
    assert [t.label for t in at.tabs] == [t("clusters.tab.courses", "en"),
                                          t("clusters.tab.transitions", "en")]
    assert [c.key for c in at.get("plotly_chart")] == ["fig_cluster_courses"]
    assert at.get("download_button"), "no downloads"
    # period: the core year, its own title and the same membership as the analysis
    at.selectbox(key="clusters_period").set_value("core").run()
    _ok(at)
    assert _state(at, study, "clusters")["period"] == "core"
    expected = cluster_analysis(study, "completers", period="core")
    title = t("clusters.title.by_arm", "en", period=t("clusters.period.core", "en"))
    shown = _table(at, title)
    assert len(shown) == expected.by_arm["cluster"].nunique()
    # a fixed number of clusters: that many rows, and the footnote says it was fixed
    at.selectbox(key="clusters_k").set_value("3").run()
    _ok(at)
    assert _state(at, study, "clusters")["n_clusters"] == "3"
    shown = _table(at, t("clusters.title.by_arm", "en", period=t("clusters.period.core", "en")))
    assert len(shown) == 3
    fixed = cluster_analysis(study, "completers", period="core", n_clusters=3)
    counts = fixed.by_arm.groupby("label")["count"].sum()
    assert counts.sum() == len(fixed.membership)
    assert any(t("clusters.footnote.fixed_k", "en", k=3) in c.value for c in at.caption)
    # section: the transitions between periods in their own tab (the Sankey; the matrices in an
    # expander); the choices of the first tab are kept, in the address too
    at.session_state["clusters_section"] = "transitions"
    at.run()
    _ok(at)
    state = _state(at, study, "clusters")
    assert (state["section"], state["period"], state["n_clusters"]) == ("transitions", "core", "3")
    assert [c.key for c in at.get("plotly_chart")][0] == "fig_cluster_sankey"
    assert len(at.get("plotly_chart")) >= 2
    at.session_state["clusters_section"] = "courses"
    at.run()
    assert at.selectbox(key="clusters_k").value == "3"


# -- forest plot --------------------------------------------------------------------------------
def _first_table(at) -> pd.DataFrame:
    """The frame of the page's first table (the forest plot's rows; the planner's assumptions)."""
    return at.dataframe[0].value


def test_forest_every_control(study):
    at = run_page("pages/forest_plot.py", timeout=TIMEOUT, population="nri", timepoint="Y3")
    _ok(at)
    # endpoint: the rows are the analysis' rows for it, at the sidebar's time point
    at.selectbox(key="forest_endpoint_response").set_value("ACR50").run()
    _ok(at)
    expected = forest_response(study, "ACR50", "Y3", "nri")
    shown = _first_table(at)
    assert list(shown[t("forest.col.subgroup", "en")]) == list(expected["label"])
    assert list(shown[t("forest.col.n", "en", arm=t("arm.MSC", "en"))]) == list(expected["n_MSC"])
    # measure: the odds ratio on a log axis
    at.radio(key="forest_measure_response").set_value("odds_ratio").run()
    _ok(at)
    fig = at.get("plotly_chart")[0].proto.spec
    assert t("forest.axis.or", "en") in fig
    # subgroups: only sex is split
    options = views.VIEWS["forest_plot"].control("subgroups")
    key = options.widget_name("forest_plot", _state(at, study, "forest_plot").values)
    at.multiselect(key=key).set_value(["sex"]).run()
    _ok(at)
    state = _state(at, study, "forest_plot")
    assert state["subgroups"] == ["sex"] and state["measure"] == "odds_ratio"
    shown = _first_table(at)
    sex_rows = expected[(expected["row_kind"] != "level") | (expected["subgroup"] == "sex")]
    assert list(shown[t("forest.col.subgroup", "en")]) == list(sex_rows["label"])
    # kind: time to event, hazard ratios up to the time point
    at.radio(key="forest_kind").set_value("time_to_event").run()
    _ok(at)
    state = _state(at, study, "forest_plot")
    assert state["kind"] == "time_to_event" and state["measure"] == "hazard_ratio"
    hr = forest_survival(study, state["endpoint"], "nri", horizon_years=horizon_for_visit("Y3"))
    shown = _first_table(at)
    assert t("forest.col.hr", "en") in shown.columns
    assert state["subgroups"] == ["sex"]  # the subgroups chosen stay chosen
    hr = hr[(hr["row_kind"] != "level") | (hr["subgroup"] == "sex")]
    assert list(shown[t("forest.col.subgroup", "en")]) == list(hr["label"])


def test_forest_drops_a_subgroup_chosen_as_a_filter(study):
    at = run_page("pages/forest_plot.py", timeout=TIMEOUT, filter_sex="F")
    _ok(at)
    state = _state(at, study, "forest_plot")
    assert "sex" not in state["subgroups"]
    expected = forest_response(study, state["endpoint"], "Y1", "completers", sex="F")
    assert len(_first_table(at)) == len(expected)


# -- planner ------------------------------------------------------------------------------------
def _assumptions(at, lang: str = "en") -> dict:
    table = at.dataframe[0].value
    return dict(zip(table[t("planner.col.item", lang)], table[t("planner.col.value", lang)]))


def test_planner_response_every_control(study):
    at = run_page("pages/trial_planner.py", timeout=TIMEOUT, timepoint="Y3")
    _ok(at)
    at.selectbox(key="plan_endpoint_response").set_value("ACR50").run()
    at.selectbox(key="plan_alpha").set_value("0.025").run()
    at.selectbox(key="plan_power").set_value("0.9").run()
    at.selectbox(key="plan_allocation").set_value("2:1").run()
    _ok(at)
    state = _state(at, study, "trial_planner")
    assert (state["endpoint"], state["alpha"], state["power"], state["allocation"]) == \
        ("ACR50", "0.025", "0.9", "2:1")
    plan = plan_response(study, "ACR50", "Y3", "completers", alpha=0.025, power=0.9, ratio=2.0)
    p = plan.attrs["plan"]
    rows = _assumptions(at)
    assert rows[t("planner.row.alpha", "en")] == fmt_number(0.025, 3, "en")
    assert rows[t("planner.row.power", "en")] == "90%"
    assert rows[t("planner.row.allocation", "en")] == "2:1"
    assert rows[t("planner.row.n_normal", "en")] == t(
        "planner.two_arms", "en", ref=t("arm.MSC", "en"), test=t("arm.MSC_IFNG", "en"),
        n_ref=p["n_normal"], n_test=2 * p["n_normal"])
    # the metric cells carry the same plan
    assert [m.value for m in at.metric][1] == rows[t("planner.row.n_fisher", "en")]
    # conservative: the CI end nearest 0, or no plan and the reason
    at.toggle(key="plan_conservative").set_value(True).run()
    _ok(at)
    cons = plan_response(study, "ACR50", "Y3", "completers", alpha=0.025, power=0.9, ratio=2.0,
                         conservative=True)
    rows = _assumptions(at)
    assert rows[t("planner.row.conservative", "en")] == t("planner.yes", "en")
    if cons.attrs["plan"]["reason"]:
        assert any(cons.attrs["plan"]["reason"] and
                   t("planner.not_plannable", "en", reason="").split(":")[0] in i.value
                   for i in at.info)
    # the CSV states every assumption
    csv = export.table_csv(plan, _first_table(at))
    text = csv.decode("utf-8-sig")
    for label in (t("planner.row.alpha", "en"), t("planner.row.allocation", "en"),
                  t("planner.row.rate_ref", "en")):
        assert label in text


def test_planner_hazard_ratio_every_control(study):
    at = run_page("pages/trial_planner.py", timeout=TIMEOUT, population="nri", timepoint="Y3")
    _ok(at)
    at.radio(key="plan_source").set_value("hazard_ratio").run()
    _ok(at)
    at.number_input(key="plan_accrual").set_value(3).run()
    at.number_input(key="plan_follow_up").set_value(4).run()
    at.number_input(key="plan_dropout").set_value(10).run()
    _ok(at)
    state = _state(at, study, "trial_planner")
    assert (state["source"], state["accrual"], state["follow_up"], state["dropout"]) == \
        ("hazard_ratio", 3, 4, 10)
    plan = plan_survival(study, state["endpoint"], "nri", horizon_years=horizon_for_visit("Y3"),
                         accrual_years=3.0, follow_up_years=4.0, dropout_per_year=0.1)
    rows = _assumptions(at)
    assert rows[t("planner.row.accrual", "en")] == fmt_number(3, 1, "en")
    assert rows[t("planner.row.dropout", "en")] == f"{fmt_number(10, 1, 'en')}%"
    p = plan.attrs["plan"]
    if p["reason"]:
        assert rows[t("planner.row.result", "en")]
    else:
        assert rows[t("planner.row.events", "en")] == fmt_number(p["events"], 0, "en")
        assert rows[t("planner.row.n_survival", "en")] == t("planner.per_arm", "en",
                                                           n=p["n_per_arm"])


# -- report basket and downloads ----------------------------------------------------------------
@pytest.mark.parametrize("page,view", [("pages/clusters.py", "clusters"),
                                       ("pages/forest_plot.py", "forest_plot"),
                                       ("pages/trial_planner.py", "trial_planner")])
def test_add_to_report_and_downloads(study, page, view):
    at = run_page(page, timeout=TIMEOUT, lang="zh")
    _ok(at)
    labels = {b.proto.label for b in at.get("download_button")}
    assert {t("download.csv", "zh"), t("download.xlsx", "zh")} <= labels
    at.button(key="report_add").click().run()
    _ok(at)
    cards = at.session_state["report_cards"]
    assert [c["view"] for c in cards] == [view]
    assert views.parse_address(cards[0]["address"], study).view == view


def test_csv_of_a_cluster_table_reads_back(study):
    at = run_page("pages/clusters.py", timeout=TIMEOUT)
    _ok(at)
    item = next(i for i in views.state_items(study, _state(at, study, "clusters"))
                if i.kind == "table")
    data = export.table_csv(item.frame, item.shown)
    back = pd.read_csv(io.BytesIO(data), skiprows=export.csv_table_start(data),
                       encoding="utf-8-sig")
    assert list(back.columns) == list(item.shown.columns)


# -- the comparison and the subgroup filters ------------------------------------------------------
@pytest.mark.parametrize("view", ["clusters", "forest_plot", "trial_planner"])
def test_views_follow_the_randomised_comparison_and_subgroups(study, view):
    """Every table and figure of the view is computed on the randomised comparison and the
    subgroup, and says so in its attrs (the header, captions and exports read them)."""
    from analytics.population import select

    state = views.resolve(view, study, {"population": "nri", "comparison": "rand",
                                        "prior_bdmard": "0"})
    items = views.state_items(study, state, details=True)
    assert items
    sel_sql, params = select("nri", comparison="randomised", prior_bdmard=0).sql
    selected = study.query(f"SELECT arm, count(*) AS n FROM ({sel_sql}) GROUP BY arm", params)
    selected = dict(zip(selected["arm"], selected["n"]))
    for item in items:
        attrs = item.attrs
        assert attrs["comparison"] == "randomised", item.key
        assert attrs["filters"].get("prior_bdmard") == 0, item.key
        assert "comparison" not in attrs["filters"]
        for arm, n in attrs["n_per_arm"].items():  # clustered, or counted, within the selection
            assert n <= selected.get(arm, 0), (item.key, arm, n, selected)
