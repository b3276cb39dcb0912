"""Every "Show code" snippet, run on its own, rebuilds the table its page shows.

Each page runs in AppTest; ``dashboard.ui.show_table`` records, per run, the frame it was given
and the snippet it displayed (``st.session_state["_shown"]``). The test takes the code elements
as drawn on the page, checks them against that record, executes each in a fresh namespace and
compares its result with the page's frame value by value (``assert_frame_equal``)."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from apptest_support import run_page

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app.py"
PAGES = ("overview", "response_rates", "disease_activity", "trajectories", "medications",
         "survival", "safety_overview", "ae_terms", "sae_listing")
VIEWS = [  # (language, population, time point, subgroup session state)
    ("en", "completers", "Y1", {}),
    ("zh", "nri", "Y3", {"filter_sex": "F", "filter_bio": "0"}),
]
# session state -> analytics keyword arguments, as dashboard.ui.sidebar maps them
FILTER_ARGS = {"filter_sex": ("sex", str), "filter_age": ("age_band", str),
               "filter_act": ("baseline_activity", str), "filter_bio": ("prior_bdmard", int)}


pytestmark = pytest.mark.usefixtures("dashboard_study")


def _run(page: str, lang: str, population: str, tp: str, session: dict) -> AppTest:
    at = run_page(f"pages/{page}.py", lang=lang, population=population, timepoint=tp,
                  **session)
    assert not at.exception, [e.value for e in at.exception]
    return at


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
    shown = [s for s in at.session_state["_shown"] if s["snippet"]]
    codes = [c.value for c in at.code if c.language == "python"]
    if not shown:
        assert at.info, f"{page}: no table and no message"
        return
    assert len(at.dataframe) >= len(shown)
    # what the page shows is what we run (st.code drops the trailing newline)
    assert [c.strip() for c in codes] == [s["snippet"].strip() for s in shown]
    for code, entry in zip(codes, shown):
        assert "from analytics import open_study" in code
        _same(_rebuild(code), entry["frame"])


@pytest.mark.parametrize("lang,population,tp,session", VIEWS,
                         ids=[f"{v[0]}-{v[1]}-{v[2]}" for v in VIEWS])
@pytest.mark.parametrize("page", PAGES)
def test_deck_registry_mirrors_page(page, lang, population, tp, session):
    """analytics.views (what the deck shows) has the page's tables, same keys, same values."""
    from analytics import open_study, views

    at = _run(page, lang, population, tp, session)
    shown = at.session_state["_shown"]
    filters = {FILTER_ARGS[k][0]: FILTER_ARGS[k][1](v) for k, v in session.items()}
    with open_study() as study:
        items = views.page_items(study, page, lang=lang, population=population, timepoint=tp,
                                 filters=filters, details=True)
    tables = [i for i in items if i.kind == "table"]
    assert [i.key for i in tables] == [s["key"] for s in shown]
    for item, entry in zip(tables, shown):
        pd.testing.assert_frame_equal(item.frame, entry["frame"])
        pd.testing.assert_frame_equal(item.shown, entry["display"])
    n_charts = len(at.get("plotly_chart"))
    assert len([i for i in items if i.kind == "figure"]) == n_charts
