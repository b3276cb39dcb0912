"""The benchmark harness (benchmarks/run_all.py) runs: one page, one repetition. Not timed: the
numbers are only checked to be measured (positive, finite)."""
from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

from browser_support import launch_chromium, skip_or_fail, unavailable_reason

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import run_all  # noqa: E402


def test_server_section_writes_its_table(tmp_path):
    out = tmp_path / "bench.md"
    assert run_all.main(["--quick", "--only", "server", "--pages", "sae_listing",
                         "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert "| what | measured | target | trivial floor |" in text
    row = next(line for line in text.splitlines() if line.startswith("| sae_listing |"))
    recomputed = float(row.split("|")[2].split()[0])
    assert recomputed > 0 and math.isfinite(recomputed)


def test_a_failed_section_is_reported_and_the_others_kept(tmp_path, monkeypatch):
    """A section that fails (here: the server section) leaves its note in the results file, and
    the run exits non-zero; a long run does not lose the sections that worked."""
    def broken(report, *args):
        raise RuntimeError("no button under the third chart")
    monkeypatch.setattr(run_all, "section_server", broken)
    out = tmp_path / "bench.md"
    assert run_all.main(["--quick", "--only", "server", "--out", str(out)]) == 1
    text = out.read_text(encoding="utf-8")
    assert "server: failed (RuntimeError: no button under the third chart)" in text


def test_a_filter_click_is_timed_until_drawn():
    reason = unavailable_reason()
    if reason:
        skip_or_fail(reason)
    from analytics import open_study
    from analytics.views.state import GLOBAL_CONTROLS

    population = next(c for c in GLOBAL_CONTROLS if c.url == "pop")
    browser = launch_chromium()
    server = run_all.app_server("bench-smoke").start()
    try:
        context, page = run_all.new_page(browser)
        first = run_all.open_drawn(page, f"{server.url}/response-rates")
        with open_study() as study:
            click = run_all.choose(page, population, "nri", "en", study)
        charts = page.locator('[data-testid="stPlotlyChart"] .main-svg').count()
        context.close()
    finally:
        server.stop()
        browser.close()
    assert 0 < click < first + 60 and charts > 0


def test_charts_alone_writes_the_pages_figures_as_the_page_draws_them(tmp_path):
    """benchmarks/bench_charts_alone.py: a page's figures for the bare app, each with its key
    and, where the page lets a reader select in it, its selection modes."""
    import json

    import bench_charts_alone

    from analytics import open_study

    with open_study() as study:
        assert bench_charts_alone.write_charts(study, "disease_activity", tmp_path) == 4
    charts = json.loads((tmp_path / "charts.json").read_text(encoding="utf-8"))
    assert [c["key"] for c in charts] == ["fig_da_sankey_MSC", "fig_da_sankey_MSC_IFNG",
                                          "fig_da_matrix", "fig_da_bars"]
    assert [bool(c["selection"]) for c in charts] == [True, True, False, False]
    for chart in charts:
        spec = json.loads((tmp_path / chart["file"]).read_text(encoding="utf-8"))
        assert spec["data"] and spec["layout"]["title"]["text"]


def test_the_recorder_counts_a_change_on_the_screen_but_not_a_screen_reader_message():
    """The select box's invisible "3 options available." (React Aria's live announcer, removed
    7 s after its list opened, so at a random moment of a later click) is not a change on the
    screen; a change to the page is."""
    reason = unavailable_reason()
    if reason:
        skip_or_fail(reason)
    browser = launch_chromium()
    try:
        context, page = run_all.new_page(browser)
        page.goto("about:blank")
        page.evaluate(run_all._RECORDER_JS)
        page.set_content('<div data-live-announcer="true"><div role="log">3 options available.'
                         '</div></div><div id="shown">old</div><button id="b">b</button>')
        page.evaluate("() => { window.__bench.armed = true; }")
        page.click("#b")
        clicked = page.evaluate("() => window.__bench.last")
        page.evaluate("() => document.querySelector('[role=log]').textContent = ''")
        page.wait_for_timeout(50)
        after_message = page.evaluate("() => window.__bench.last")
        page.evaluate("() => document.querySelector('#shown').textContent = 'new'")
        page.wait_for_timeout(50)
        after_change = page.evaluate("() => window.__bench.last")
        context.close()
    finally:
        browser.close()
    assert after_message == clicked < after_change


def test_inplace_experiment_writes_each_figure_for_both_subgroups(tmp_path):
    """benchmarks/bench_inplace_charts.py: every figure of the page for all subjects and for
    women (different data, so a click changes every chart), with the app and plotly.js beside."""
    import json

    import bench_inplace_charts

    from analytics import open_study

    with open_study() as study:
        assert bench_inplace_charts.write_charts(study, "disease_activity", tmp_path) == 4
    charts = json.loads((tmp_path / "charts.json").read_text(encoding="utf-8"))
    assert [c["key"] for c in charts] == ["fig_da_sankey_MSC", "fig_da_sankey_MSC_IFNG",
                                          "fig_da_matrix", "fig_da_bars"]
    for chart in charts:
        everyone, women = (json.loads((tmp_path / name).read_text(encoding="utf-8"))
                           for name in chart["files"])
        assert everyone["data"] and everyone["data"] != women["data"]
    assert (tmp_path / "inplace_charts_app.py").is_file()
    assert (tmp_path / "static" / "plotly.min.js").stat().st_size > 1_000_000


@pytest.mark.parametrize("keys", [["overview", "survival"],
                                  ["overview", "survival", "clusters", "reconciliation"]])
def test_page_switches_never_go_to_the_page_already_shown(keys):
    """The filter clicks end on the last page; each round of switches goes to every page once,
    each from another page."""
    order = run_all.switch_order(keys)
    assert sorted(order) == sorted(keys)
    shown = keys[-1]
    for round_ in range(2):
        for key in order:
            assert key != shown, (round_, key)
            shown = key


def test_each_element_variant_draws_the_element_it_names(monkeypatch):
    """benchmarks/home_elements.py: every variant of the element app holds the trivial app's
    content and exactly the elements its name says, so each row measures what it claims."""
    from streamlit.testing.v1 import AppTest

    import home_elements

    kinds = {"selectbox": "selectbox", "metric": "metric", "static_table": "table",
             "data_grid": "dataframe", "code": "code"}
    for name, elements in home_elements.VARIANTS.items():
        monkeypatch.setenv("BENCH_ELEMENTS", elements)
        at = AppTest.from_file(str(home_elements.ELEMENT_APP)).run()
        assert not at.exception, name
        assert at.title[0].value == "Trivial app" and len(at.sidebar.radio) == 1
        chosen = set(filter(None, elements.split(",")))
        for element, kind in kinds.items():
            assert len(getattr(at, kind)) == (element in chosen), (name, element)
        charts = [e for e in at.main if e.type == "plotly_chart"]
        assert len(charts) == ("plotly_chart" in chosen), name
