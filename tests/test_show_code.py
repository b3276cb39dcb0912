"""Every "Show code" snippet, run on its own, rebuilds the table its page shows.

Each page runs in AppTest. The page's state is read back from the URL it wrote, and the view
registry (``analytics.views``) computes the tables of that state - the same description the page
is drawn from, so no hook on the app's path records anything for the test. The test takes the
code elements as drawn on the page, checks them against the registry's tables, executes each in
a fresh namespace and compares its result with the frame value by value (``assert_frame_equal``),
and compares the tables the page shows with the registry's. A page in tabs is read tab by tab
(each draws only its own blocks)."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from apptest_support import run_page, section_runs

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app.py"
PAGES = ("overview", "response_rates", "disease_activity", "trajectories", "medications",
         "survival", "safety_overview", "ae_terms", "sae_listing",
         "patient_profile")
PAGES += ("clusters", "forest_plot", "trial_planner")  # issue 14
ALL_VIEWS = (*PAGES, "reconciliation")
VIEWS = [  # (language, population, time point, subgroup session state)
    ("en", "completers", "Y1", {}),
    ("zh", "nri", "Y3", {"filter_sex": "F", "filter_bio": "0"}),
]


pytestmark = pytest.mark.usefixtures("dashboard_study")


def _run(page: str, lang: str, population: str, tp: str, session: dict) -> AppTest:
    at = run_page(f"pages/{page}.py", lang=lang, population=population, timepoint=tp,
                  **session)
    assert not at.exception, [e.value for e in at.exception]
    return at


def _page_tables(at: AppTest, page: str) -> list[dict]:
    """The registry's tables for the state the page shows (read from its URL), as
    {"key", "frame", "display", "snippet"} in page order."""
    from analytics import open_study, views
    from dashboard.widgets import code_snippet

    query = {k: (v[0] if isinstance(v, list) else v) for k, v in at.query_params.items()}
    with open_study() as study:
        state = views.from_query(page, study, query, strict=True)
        items = views.state_items(study, state, details=True)
    return [{"key": i.key, "frame": i.frame, "display": i.shown,
             "snippet": code_snippet(study.path, i.frame)} for i in items if i.kind == "table"]


def _rebuild(code: str):
    namespace: dict = {}
    exec(compile(code, "<show code>", "exec"), namespace)  # noqa: S102 - the shown snippet
    try:
        return namespace["df"] if "df" in namespace else namespace["result"]
    finally:
        namespace["study"].close()


def _same(result, frame: pd.DataFrame) -> None:
    if isinstance(result, pd.DataFrame):
        pd.testing.assert_frame_equal(result, frame)
        return
    # a result object (survival): the page shows one of its frames
    candidates = [v for v in vars(result).values()
                  if isinstance(v, pd.DataFrame) and list(v.columns) == list(frame.columns)]
    assert candidates, f"no frame of the snippet's result has columns {list(frame.columns)}"
    errors = []
    for candidate in candidates:
        try:
            pd.testing.assert_frame_equal(candidate, frame)
            return
        except AssertionError as exc:
            errors.append(str(exc))
    raise AssertionError("\n".join(errors))


@pytest.mark.parametrize("lang,population,tp,session", VIEWS,
                         ids=[f"{v[0]}-{v[1]}-{v[2]}" for v in VIEWS])
@pytest.mark.parametrize("page", PAGES)
def test_show_code_rebuilds_page_tables(page, lang, population, tp, session):
    at = _run(page, lang, population, tp, session)
    shown = [s for s in _page_tables(at, page) if s["snippet"]]
    codes, n_tables, infos = [], 0, 0
    for _, drawn in section_runs(at, page):
        codes += [c.value for c in drawn.code if c.language == "python"]
        n_tables += len(drawn.dataframe)
        infos += len(drawn.info)
    if not shown:
        assert infos, f"{page}: no table and no message"
        return
    assert n_tables >= len(shown)
    # what the page shows is what we run (st.code drops the trailing newline)
    assert [c.strip() for c in codes] == [s["snippet"].strip() for s in shown]
    for code, entry in zip(codes, shown):
        assert "from analytics import open_study" in code
        _same(_rebuild(code), entry["frame"])


@pytest.mark.parametrize("lang,population,tp,session", VIEWS,
                         ids=[f"{v[0]}-{v[1]}-{v[2]}" for v in VIEWS])
@pytest.mark.parametrize("page", ALL_VIEWS)
def test_deck_registry_mirrors_page(page, lang, population, tp, session):
    """analytics.views (what the deck shows) at the page's defaults has the page's tables, same
    keys, same values as the page draws them."""
    from analytics import open_study, views

    at = _run(page, lang, population, tp, session)
    filters = {c.key: session[f"filter_{c.url}"] for c in views.GLOBAL_CONTROLS
               if f"filter_{c.url}" in session}
    with open_study() as study:
        items = views.page_items(study, page, lang=lang, population=population, timepoint=tp,
                                 filters=filters, details=True)
    tables = [i for i in items if i.kind == "table"]
    assert [i.key for i in tables] == [s["key"] for s in _page_tables(at, page)]
    frames, n_charts = [], 0
    for _, drawn in section_runs(at, page):
        frames += [d.value for d in drawn.dataframe]
        n_charts += len(drawn.get("plotly_chart"))
    assert len(frames) == len(tables)
    for item, frame in zip(tables, frames):
        pd.testing.assert_frame_equal(item.shown.reset_index(drop=True),
                                      frame.reset_index(drop=True))
    assert len([i for i in items if i.kind == "figure"]) == n_charts
