"""Running a dashboard page in Streamlit's AppTest with chosen global filters."""
from __future__ import annotations

import os
from pathlib import Path

from streamlit.testing.v1 import AppTest

from analytics.study import STUDY_ENV_VAR

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app.py"


def page_key(page: str) -> str:
    """The page key of ``page``: a view key, ``report``, or (as older tests name pages)
    ``pages/<key>.py``."""
    return Path(page).stem


def switch_to(at: AppTest, page: str) -> AppTest:
    """Select ``page`` (see :func:`page_key`) for the next ``at.run()``.

    The pages are callables registered by ``st.navigation`` from the view registry (there are no
    page files), and ``AppTest.switch_page`` finds file pages only. So the page is found, by its
    URL path, in the registry Streamlit built on the last run, and its hash requested as
    ``switch_page`` does (``AppTest._page_hash``, Streamlit 1.67). ``at`` must have run once."""
    from dashboard.pages import pages
    paths = {key: ("" if i == 0 else url) for i, (key, _, url) in enumerate(pages())}
    key = page_key(page)
    if key not in paths:
        raise ValueError(f"no page {page!r}; pages: {sorted(paths)}")
    found = [h for h, info in at._registered_pages.items()
             if info.get("url_pathname") == paths[key]]
    if not found:
        raise ValueError(f"page {key!r} (/{paths[key]}) is not registered: run the app first")
    at._page_hash = found[0]
    return at


def run_page(page: str, *, lang: str = "en", population: str = "completers",
             timepoint: str = "Y1", timeout: float = 60, **session) -> AppTest:
    """Open ``app.py`` with the filters set in session state, switch to ``page`` (a page key or
    ``pages/<key>.py``), run it and return the AppTest."""
    at = AppTest.from_file(str(APP), default_timeout=timeout)
    at.session_state["filter_lang"] = lang
    at.session_state["filter_pop"] = population
    at.session_state["filter_tp"] = timepoint
    for key, value in session.items():
        at.session_state[key] = value
    at.run()
    switch_to(at, page)
    at.run()
    return at


def open_link(query: dict, page: str | None = None, timeout: float = 60) -> AppTest:
    """Open ``app.py`` from a link's query (as a copied link does), run it, and then, if
    ``page`` is given, switch to that page and run it."""
    at = AppTest.from_file(str(APP), default_timeout=timeout)
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    if page is not None:
        switch_to(at, page)
        at.run()
    return at


def default_study_error() -> str | None:
    """Why the default study cannot be used here (None: it can)."""
    if os.environ.get(STUDY_ENV_VAR):
        return None
    try:
        from analytics import open_study
        open_study().close()
    except Exception as exc:  # noqa: BLE001 -- any failure means: not available
        return f"default study not available (analytics.open_study() raised {exc!r})"
    return None


def reset_dashboard_study() -> None:
    """Make the dashboard reopen its study file (after MSC_RA_STUDY changed)."""
    from dashboard import ui
    ui.get_study.clear()


def sections(page: str) -> tuple[str | None, tuple]:
    """The session key holding the open section (tab) of ``page`` and its sections in tab
    order; (None, (None,)) for a page without tabs."""
    from analytics import views
    key = page_key(page)
    control = views.VIEWS[key].sections
    if control is None:
        return None, (None,)
    return control.widget_name(key, {}), tuple(control.allowed(None, {}))


def section_runs(at: AppTest, page: str):
    """(section, ``at``) with each section of ``page`` open in turn, in tab order (the page
    draws only the open tab's blocks); a page without tabs: (None, ``at``) as it is."""
    key, values = sections(page)
    for value in values:
        if key is not None:
            at.session_state[key] = value
            at.run()
        yield value, at


def count_in_sections(at: AppTest, page: str, element: str) -> int:
    """How many ``element`` (e.g. "plotly_chart", "dataframe") the page draws in all its
    sections together."""
    return sum(len(a.get(element)) for _, a in section_runs(at, page))
