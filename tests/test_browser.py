"""The dashboard in a real headless browser, used as a person would: every page in both
languages, the sidebar filters and shared links, a table download and the slide deck.

Playwright (PyPI) drives Debian's Chromium (/usr/bin/chromium); nothing is downloaded. Each
pytest process (each xdist worker) starts its own Streamlit server on a free port and one
browser, shared by its tests. Full-page screenshots go to
tests/artifacts/screenshots/<lang>/<nn>_<url_path>.png (with a .json of what each chart drew).

Outside CI the tests skip when Chromium or Playwright is missing; with CI=true they fail.
"""
from __future__ import annotations

import csv
import io
import os
import re
import warnings
import zipfile
from urllib.parse import parse_qs, urlsplit

import pytest

from analytics.export import csv_table_start
from analytics.i18n import t
from browser_support import (DECK_MS, FIRST_LOAD_MS, ROOT, SCREENSHOTS, StreamlitServer, VIEWPORT,
                             chart_problems, chart_reports, error_texts, full_page_screenshot,
                             launch_chromium, layout_problems, open_page, rerun,
                             skip_module_without_browser, skip_or_fail, wait_idle, write_json)
from dashboard.pages import pages

pytestmark = pytest.mark.browser

_REASON = skip_module_without_browser()

LANGS = ("en", "zh")
# Chart text cut off at the figure's edge, or titles drawn over other text, is reported as a
# UserWarning (and in the screenshot's .json); BROWSER_STRICT_LAYOUT=1 makes it a failure.
STRICT_LAYOUT = os.environ.get("BROWSER_STRICT_LAYOUT") == "1"
CJK = re.compile(r"[\u3400-\u9fff]")
PAGES = pages()  # (key, title message key, URL path), in menu order


# -- fixtures: one server, one browser per worker --------------------------------------------------
@pytest.fixture(scope="session")
def server():
    if _REASON:
        skip_or_fail(_REASON)  # fails under CI=true
    from analytics import open_study
    open_study().close()  # builds data/study.duckdb if missing, before the server needs it
    srv = StreamlitServer().start()
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def browser(server):
    b = launch_chromium()
    yield b
    b.close()


@pytest.fixture(scope="session")
def context(browser):
    """One browser context per worker: its HTTP cache keeps Streamlit's and plotly's scripts
    between tests. Every page (tab) is still a new Streamlit session with its own state."""
    ctx = browser.new_context(viewport=VIEWPORT, accept_downloads=True, locale="en-GB")
    ctx.set_default_timeout(30_000)
    yield ctx
    ctx.close()


@pytest.fixture(scope="session")
def warm(server, context):
    """The server's first browser session, on a deep link (not the default page). Loads the
    modules and plotly.js once, and records whether Streamlit showed "Page not found" over the
    right page (streamlit/streamlit#9992, first session after start only)."""
    page = context.new_page()
    try:
        open_page(page, f"{server.url}/{PAGES[1][2]}")
        page.wait_for_timeout(500)
        dialogs = [d.inner_text()[:200] for d in page.locator('[role="dialog"]').all()
                   if d.is_visible()]
    finally:
        page.close()
    return {"first_deep_link_dialogs": dialogs}


@pytest.fixture
def page(server, context, warm):
    pg = context.new_page()
    pg.js_errors = []
    pg.on("pageerror", lambda exc: pg.js_errors.append(str(exc)))
    yield pg
    pg.close()


# -- helpers ---------------------------------------------------------------------------------------
def url(server, path: str = "", **params) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"{server.url}/{path}" + (f"?{query}" if query else "")


def query(page) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(urlsplit(page.url).query).items()}


def assert_clean(page, what: str) -> list[dict]:
    """No Streamlit error, no JS error, every chart drew data; returns the chart reports."""
    errors = error_texts(page)
    assert not errors, f"{what}: errors on the page:\n" + "\n".join(errors)
    assert not page.js_errors, f"{what}: JavaScript errors: {page.js_errors}"
    reports = chart_reports(page)
    problems = chart_problems(reports)
    assert not problems, f"{what}: charts without data:\n" + "\n".join(problems)
    return reports


def sidebar(page):
    return page.locator('[data-testid="stSidebar"]')


def choose_radio(page, label: str) -> None:
    option = sidebar(page).locator('[data-testid="stRadioOption"]').filter(
        has_text=re.compile(rf"^\s*{re.escape(label)}\s*$"))
    rerun(page, option.click)


def selectbox(page, label: str):
    return sidebar(page).locator('[data-testid="stSelectbox"]').filter(
        has=page.locator('[data-testid="stWidgetLabel"]', has_text=label))


def choose_option(page, label: str, option: str) -> None:
    box = selectbox(page, label)
    combo = box.locator('[role="combobox"]')
    combo.scroll_into_view_if_needed()
    item = page.locator('[role="option"]').filter(
        has_text=re.compile(rf"^\s*{re.escape(option)}\s*$"))
    # A click that first scrolls the sidebar can see its list closed by that scroll (the sidebar
    # is taller than the window with the study switcher): then open it from the keyboard.
    combo.click()
    try:
        item.first.wait_for(timeout=3_000)
    except Exception:  # noqa: BLE001 -- playwright's TimeoutError
        combo.focus()
        page.keyboard.press("ArrowDown")
        item.first.wait_for(timeout=10_000)
    rerun(page, item.first.click)


# -- every page in both languages ----------------------------------------------------------------
@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("index", range(len(PAGES)),
                         ids=[f"{i:02d}_{p[2]}" for i, p in enumerate(PAGES)])
def test_page_renders(server, page, lang, index):
    _, title_key, url_path = PAGES[index]
    path = "" if index == 0 else url_path  # the first page is the default, served at /
    open_page(page, url(server, path, lang=lang), FIRST_LOAD_MS)
    what = f"/{path}?lang={lang}"

    assert urlsplit(page.url).path == f"/{path}", f"{what}: ended at {page.url}"
    headings = [h.strip() for h in page.locator('[data-testid="stMain"] h1').all_inner_texts()]
    assert headings and headings[0], f"{what}: no page title"
    if index > 0:
        assert headings[0] == t(title_key, lang), f"{what}: title {headings[0]!r}"
    assert bool(CJK.search(headings[0])) == (lang == "zh"), f"{what}: title {headings[0]!r}"

    reports = assert_clean(page, what)
    shot = SCREENSHOTS / lang / f"{index:02d}_{url_path}.png"
    full_page_screenshot(page, shot)
    layout = layout_problems(reports)
    write_json(shot.with_suffix(".json"), {"url": page.url, "title": headings[0],
                                           "charts": reports, "layout_problems": layout})
    assert shot.stat().st_size > 10_000
    # The screenshot's tall viewport must not have broken anything either.
    assert not error_texts(page), f"{what}: errors after resizing: {error_texts(page)}"
    if layout:
        message = f"{what} ({shot.relative_to(ROOT)}):\n  " + "\n  ".join(layout)
        assert not STRICT_LAYOUT, message
        warnings.warn(f"chart layout: {message}", UserWarning)


def test_deep_link_on_fresh_server(warm):
    """Opening a copied link to a non-default page as the server's first visitor: no "Page not
    found" (the launcher switches off Streamlit's folder-based page mode that caused it,
    streamlit/streamlit#9992; see dashboard/launcher.py)."""
    assert not warm["first_deep_link_dialogs"], warm["first_deep_link_dialogs"]


# -- filters and shared links ----------------------------------------------------------------------
def test_filters_change_url_and_link_reopens_view(server, page, context):
    lang = "en"
    open_page(page, url(server, "response-rates", lang=lang))
    nri, year3 = t("population.nri", lang), t("visit.Y3", lang)

    choose_radio(page, nri)
    assert query(page).get("pop") == "nri", page.url
    choose_option(page, t("filter.timepoint", lang), year3)
    page.wait_for_url(lambda u: parse_qs(urlsplit(u).query).get("tp") == ["Y3"],
                      timeout=10_000)
    q = query(page)
    assert q.get("pop") == "nri" and q.get("tp") == "Y3", page.url
    assert_clean(page, "response rates, NRI, Year 3")
    main = page.locator('[data-testid="stMain"]').inner_text()
    assert nri in main and year3 in main, "page header does not show the new view"

    # A copied link reopens the same view in a new browser session.
    link = page.url
    again = context.new_page()  # a new tab is a new Streamlit session
    try:
        open_page(again, link)
        pop = sidebar(again).locator('[data-testid="stRadio"]').filter(
            has=again.locator('[data-testid="stWidgetLabel"]',
                              has_text=t("filter.population", lang)))
        checked = pop.locator('[data-testid="stRadioOption"][data-selected="true"]')
        assert checked.inner_text().strip() == nri
        tp_value = selectbox(again, t("filter.timepoint", lang)).locator(
            '[role="combobox"]').input_value()
        assert tp_value == year3
        q = query(again)
        assert q.get("pop") == "nri" and q.get("tp") == "Y3", again.url
        assert not error_texts(again), error_texts(again)
    finally:
        again.close()


def test_subgroup_filter(server, page):
    lang = "en"
    open_page(page, url(server, "disease-activity", lang=lang))
    female = t("filter.sex.F", lang)
    choose_option(page, t("filter.sex", lang), female)
    page.wait_for_url(lambda u: parse_qs(urlsplit(u).query).get("sex") == ["F"],
                      timeout=10_000)
    assert_clean(page, "disease activity, sex = Female")
    caption = page.locator('[data-testid="stMain"] [data-testid="stCaptionContainer"]').first
    assert female in caption.inner_text()


@pytest.mark.parametrize("lang", LANGS)
def test_comparison_choice_changes_header(server, page, lang):
    from analytics import open_study
    from analytics.annotate import comparison_label
    with open_study() as study:
        pooled = comparison_label(study, "all", lang)
        randomised = comparison_label(study, "randomised", lang)
    open_page(page, url(server, "response-rates", lang=lang, pop="nri", tp="Y5"))
    header = page.locator('[data-testid="stMain"] [data-testid="stCaptionContainer"]').first
    assert pooled in header.inner_text()
    choose_radio(page, randomised)
    page.wait_for_url(lambda u: parse_qs(urlsplit(u).query).get("cmp") == ["rand"],
                      timeout=10_000)
    assert_clean(page, f"response rates, randomised comparison ({lang})")
    header = page.locator('[data-testid="stMain"] [data-testid="stCaptionContainer"]').first
    assert randomised in header.inner_text()
    assert pooled not in header.inner_text()
    shot = SCREENSHOTS / lang / "comparison_randomised_response-rates.png"
    full_page_screenshot(page, shot)
    assert shot.stat().st_size > 10_000


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("path", ["", "safety"])  # "": the overview (the default page)
def test_small_subgroup_says_not_estimable(server, page, lang, path):
    # Men aged 45-54 with a prior biologic: one completer per arm. The flow, Table 1 and the
    # safety rate ratios follow the subgroup; nothing is tested, and the header says so.
    open_page(page, url(server, path, lang=lang, sex="M", age="45to54", bio="1"))
    assert_clean(page, f"{path}, small subgroup ({lang})")
    shot = SCREENSHOTS / "subgroup" / f"{lang}_{path or 'overview'}.png"
    full_page_screenshot(page, shot)
    main = page.locator('[data-testid="stMain"]')
    header = main.locator('[data-testid="stCaptionContainer"]').first.inner_text()
    assert t("filter.sex.M", lang) in header
    text = main.inner_text()
    assert t("not_estimable.short", lang) in text
    assert t("scope.not_applied", lang, filters="").rstrip("。.") in text


# -- downloads ------------------------------------------------------------------------------------
def test_csv_download(server, page):
    lang = "en"
    open_page(page, url(server, "", lang=lang))
    table = page.locator('[data-testid="stMain"] [data-testid="stDataFrame"]').first
    table.scroll_into_view_if_needed()
    headers = table.locator('th[role="columnheader"]')
    headers.first.wait_for(state="attached", timeout=15_000)
    shown_header = [h.strip() for h in headers.all_inner_texts()]

    button = page.locator('[data-testid="stMain"] [data-testid="stDownloadButton"]').filter(
        has_text=t("download.csv", lang)).first
    with page.expect_download(timeout=30_000) as info:
        button.locator("button").click()
    download = info.value
    assert download.suggested_filename.endswith(".csv")
    data = open(download.path(), "rb").read()
    assert data, "empty CSV"
    text = data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    start = csv_table_start(data)  # the view's facts first (title, population, …), then the table
    assert [t("provenance.label.population", lang), t("population.completers", lang)] in \
        rows[:start]
    assert rows[start] == shown_header, (rows[start], shown_header)
    assert len(rows) > start + 1
    assert not error_texts(page)


# -- slide deck -----------------------------------------------------------------------------------
def test_slide_deck_export(server, page):
    lang = "en"
    open_page(page, url(server, "", lang=lang))
    try:
        build_label, download_label = t("deck.build", lang), t("deck.download", lang)
    except KeyError:
        build_label, download_label = "Build slide deck", "Download PPTX"
    build = sidebar(page).locator("button").filter(
        has_text=re.compile(rf"^\s*{re.escape(build_label)}\s*$"))
    if build.count() == 0:
        pytest.skip("deck button not present")

    rerun(page, build.first.click, DECK_MS)
    errors = error_texts(page)
    assert not errors, "deck export failed:\n" + "\n".join(errors)
    get = sidebar(page).locator('[data-testid="stDownloadButton"]').filter(
        has_text=download_label)
    get.wait_for(timeout=30_000)
    with page.expect_download(timeout=60_000) as info:
        get.locator("button").click()
    download = info.value
    assert download.suggested_filename.endswith(".pptx")
    path = download.path()
    assert zipfile.is_zipfile(path)
    from pptx import Presentation
    slides = Presentation(path).slides
    assert len(slides) > 1
    assert not error_texts(page)


# -- layout at laptop and desktop widths (issue 11) ---------------------------------------------
LAYOUT_PATHS = ("", "medications", "survival", "safety", "adverse-events",
                "serious-adverse-events")
_GRID_HEADERS_JS = """(grid) => Array.from(grid.querySelectorAll('th[role="columnheader"]'))
    .map(th => th.innerText.trim())"""
_SCROLL_JS = """(grid) => {
    const s = grid.querySelector('.dvn-scroller');
    if (!s) return true;
    s.scrollLeft = Math.min(s.scrollLeft + s.clientWidth * 0.6, s.scrollWidth);
    return s.scrollLeft + s.clientWidth >= s.scrollWidth - 1;
}"""
_CUT_LABELS_JS = """() => Array.from(document.querySelectorAll(
        '[data-testid="stMain"] [data-testid="stDownloadButton"] button, ' +
        '[data-testid="stMain"] [data-testid="stButton"] button'))
    .filter(b => b.offsetParent !== null)
    .map(b => b.querySelector('p') || b)
    .filter(p => p.scrollWidth > p.clientWidth + 1)
    .map(p => p.innerText)"""


def _table_columns_seen(page, grid) -> tuple[int, set[str], list[str]]:
    """(columns the table has, headers seen while scrolling it across, headers at the end)."""
    n = int(grid.locator("table").first.get_attribute("aria-colcount") or 0)
    seen: set[str] = set()
    for _ in range(40):
        page.wait_for_timeout(300)
        seen |= set(grid.evaluate(_GRID_HEADERS_JS))
        if grid.evaluate(_SCROLL_JS):
            page.wait_for_timeout(300)
            last = grid.evaluate(_GRID_HEADERS_JS)
            return n, seen | set(last), last
    return n, seen, grid.evaluate(_GRID_HEADERS_JS)


@pytest.mark.parametrize("width", (1024, 1440))
def test_tables_keep_every_column_and_buttons_their_labels(server, browser, width):
    """At 1024 and 1440 px every column of every table shown can be reached (all visible, or
    a horizontal scroll with the first column kept in view), no table runs past the page, and no
    button label is cut."""
    ctx = browser.new_context(viewport={"width": width, "height": 1000}, locale="en-GB")
    problems = []
    try:
        for path in LAYOUT_PATHS:
            pg = ctx.new_page()
            open_page(pg, url(server, path))
            main_right = pg.locator('[data-testid="stMain"]').bounding_box()
            main_right = main_right["x"] + main_right["width"]
            grids = [g for g in pg.locator(
                '[data-testid="stMain"] [data-testid="stDataFrame"]').all() if g.is_visible()]
            assert grids, f"/{path}: no table"
            for i, grid in enumerate(grids):
                grid.scroll_into_view_if_needed()
                box = grid.bounding_box()
                if box["x"] + box["width"] > main_right + 1:
                    problems.append(f"/{path} table {i}: runs past the page")
                n, seen, last = _table_columns_seen(pg, grid)
                first = grid.evaluate(_GRID_HEADERS_JS)[:1]
                if len(seen) < n:
                    problems.append(f"/{path} table {i}: {len(seen)} of {n} columns reachable")
                if first and last and first[0] != last[0] and n > len(last):
                    problems.append(f"/{path} table {i}: first column not kept in view")
            cut = pg.evaluate(_CUT_LABELS_JS)
            if cut:
                problems.append(f"/{path}: button labels cut: {cut}")
            full_page_screenshot(pg, SCREENSHOTS / "layout" / f"{width}_{path or 'overview'}.png")
            pg.close()
    finally:
        ctx.close()
    assert not problems, f"at {width} px:\n" + "\n".join(problems)


def _visible_dialogs(page) -> list[str]:
    page.wait_for_timeout(500)  # a dialog opens when the run's messages arrive
    return [d.inner_text()[:200] for d in page.locator('[role="dialog"]').all()
            if d.is_visible()]


@pytest.mark.parametrize("lang", LANGS)
def test_unknown_path_says_so_in_the_chosen_language(server, page, lang):
    open_page(page, url(server, "no-such-page", lang=lang))
    # Streamlit's own English "Page not found" dialog does not pop up over the page
    assert not _visible_dialogs(page)
    main = page.locator('[data-testid="stMain"]').inner_text()
    assert t("app.not_found", lang, path="no-such-page") in main
    assert "Page not found" not in main
    links = page.locator('[data-testid="stMain"] [data-testid="stPageLink"]')
    assert links.count() == len(PAGES)
    assert t("nav.survival", lang) in links.all_inner_texts()
    link = sidebar(page).locator('[data-testid="stCode"]').first.inner_text().strip()
    assert "no-such-page" not in link and urlsplit(link).path == "/", link
    full_page_screenshot(page, SCREENSHOTS / f"not_found_{lang}.png")
    links.filter(has_text=t("nav.survival", lang)).first.click()
    wait_idle(page)
    assert urlsplit(page.url).path == f"/{dict((k, u) for k, _, u in PAGES)['survival']}"
    assert not _visible_dialogs(page)


@pytest.mark.parametrize("lang", LANGS)
def test_default_page_by_its_name_is_the_default_page(server, page, lang):
    """/overview (the default page's own name) shows the default page, with no dialog and no
    not-found message; "Copy link" gives the canonical address (the root)."""
    open_page(page, url(server, PAGES[0][2], lang=lang))
    assert not _visible_dialogs(page)
    main = page.locator('[data-testid="stMain"]').inner_text()
    assert t("app.not_found", lang, path=PAGES[0][2]) not in main
    headings = page.locator('[data-testid="stMain"] h1').all_inner_texts()
    assert headings and headings[0].strip() == t("overview.title", lang)
    link = sidebar(page).locator('[data-testid="stCode"]').first.inner_text().strip()
    assert urlsplit(link).path == "/", link



# -- pages in tabs -----------------------------------------------------------------------------------
def _tab_pages() -> list[tuple[str, object]]:
    """(URL path, section control) of every page drawn in tabs."""
    from analytics import views
    return [(view.path, view.sections) for view in views.VIEWS.values()
            if view.sections is not None]


def open_tab(page, label: str) -> None:
    tab = page.locator('[data-testid="stMain"] [role="tab"]').filter(
        has_text=re.compile(rf"^\s*{re.escape(label)}\s*$"))
    rerun(page, tab.click)
    assert tab.get_attribute("aria-selected") == "true", label


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("path,control", _tab_pages(), ids=[p for p, _ in _tab_pages()])
def test_each_tab_draws_its_section(server, page, lang, path, control):
    """A click on a tab draws that section (its charts with data), names it in the address and
    leaves the other sections' charts undrawn; the tab bar's own panels, left empty, are out of
    the page (a screen reader goes from the tabs to the section); every tab is screenshotted."""
    open_page(page, url(server, path, lang=lang))
    sections = list(control.allowed(None, {}))
    labels = [control.label_of(value, lang) for value in sections]
    shown = page.locator('[data-testid="stMain"] [role="tab"]').all_inner_texts()
    assert [s.strip() for s in shown] == labels
    keys_per_tab = []
    for value, label in zip([*sections[1:], sections[0]], [*labels[1:], labels[0]]):
        open_tab(page, label)
        expected = None if value == control.default else value
        page.wait_for_url(lambda u: parse_qs(urlsplit(u).query).get(control.url, [None])[-1]
                          == expected, timeout=10_000)
        reports = assert_clean(page, f"/{path} tab {value} ({lang})")
        panels = page.locator('[data-testid="stMain"] [data-testid="stTabPanel"]').evaluate_all(
            "els => els.map(e => getComputedStyle(e).display)")
        assert panels and set(panels) == {"none"}, panels
        keys_per_tab.append(page.locator('[data-testid="stMain"] [class*="st-key-fig_"]')
                            .evaluate_all("els => els.map(e => e.className)"))
        shot = SCREENSHOTS / lang / f"tab_{path}_{value}.png"
        full_page_screenshot(page, shot)
        write_json(shot.with_suffix(".json"), {"url": page.url, "charts": reports})
    # no chart is drawn in two tabs
    assert all(not set(a) & set(b) for i, a in enumerate(keys_per_tab)
               for b in keys_per_tab[i + 1:])


def test_a_choice_in_a_closed_tab_is_kept(server, page):
    """The transition matrix's start, chosen in its tab, is still chosen after a visit to
    another tab (Streamlit forgets a widget it did not draw; the page keeps the choice)."""
    lang = "en"
    open_page(page, url(server, "disease-activity", lang=lang, sec="matrix"))
    start = page.locator('[data-testid="stMain"] [data-testid="stSelectbox"]').filter(
        has=page.locator('[data-testid="stWidgetLabel"]', has_text=t("da.matrix.from", lang)))
    combo = start.locator('[role="combobox"]')
    combo.click()
    option = page.locator('[role="option"]').filter(
        has_text=re.compile(rf"^\s*{re.escape(t('visit.Y1', lang))}\s*$"))
    rerun(page, option.first.click)
    page.wait_for_url(lambda u: parse_qs(urlsplit(u).query).get("from") == ["Y1"],
                      timeout=10_000)
    open_tab(page, t("da.bars.header", lang))
    assert query(page).get("from") == "Y1", page.url
    open_tab(page, t("da.matrix.header", lang))
    assert combo.input_value() == t("visit.Y1", lang)
    assert query(page).get("from") == "Y1" and query(page).get("sec") == "matrix", page.url
    assert_clean(page, "disease activity, matrix from year 1")
