"""Login in a real browser (issue 12, item 4): the dashboard behind Streamlit's OIDC login,
against a local OpenID provider (``oidc-provider-mock``, started here on 127.0.0.1 on a free
port), through the launcher with a temporary secrets file and data folder.

* a visitor not logged in sees the login screen only, in English and in Chinese, on any address;
* a user logged in sees the pages and who is logged in, and logs out again;
* "Load a study" is in the menu of an admin only (a reader is not shown it even by its address);
* an admin uploads the messy export (tests/messy_export.py) as one zip, fills the two arm codes
  the drafted mapping left empty in the page's table editor, validates, builds, switches to the
  new study and sees its pages; the audit log has a line for each step, with the user.

Screenshots: tests/artifacts/screenshots/auth/. Chromium asks nothing outside loopback (the
provider's login page links a stylesheet from a CDN: that request is refused).
Outside CI the test skips when Chromium or Playwright is missing; with CI=true it fails.
"""
from __future__ import annotations

import ipaddress
import json
import threading
from urllib.parse import urlsplit

import duckdb
import pytest

from analytics.i18n import t
from browser_support import (SCREENSHOTS, StreamlitServer, chromium_context, error_texts,
                             full_page_screenshot, open_page, rerun, skip_module_without_browser,
                             skip_or_fail, wait_idle)

pytestmark = pytest.mark.browser

_REASON = skip_module_without_browser()

ADMIN = "admin@example.org"
READER = "reader@example.org"
SHOTS = SCREENSHOTS / "auth"
LOGIN_MS = 60_000


@pytest.fixture(scope="module")
def provider():
    """The OpenID provider: any client id and secret; the user is typed on its authorize form."""
    from oidc_provider_mock import app
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app(), threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                              daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)


@pytest.fixture(scope="module")
def dashboard(provider, tmp_path_factory):
    """The dashboard through its launcher, login configured in a temporary secrets file."""
    if _REASON:
        skip_or_fail(_REASON)
    from analytics import open_study

    open_study().close()  # the default study, built before the server needs it
    folder = tmp_path_factory.mktemp("auth")
    data = folder / "data"
    data.mkdir(mode=0o700)
    secrets = folder / "secrets.toml"
    secrets.write_text(f"""
[auth]
redirect_uri = "http://127.0.0.1:{{port}}/oauth2callback"
cookie_secret = "browser-test-cookie-secret-of-some-length"
client_id = "msc-ra-dashboard"
client_secret = "browser-test"
server_metadata_url = "{provider}/.well-known/openid-configuration"

[msc_ra]
admins = ["{ADMIN}"]
""", encoding="utf-8")
    server = StreamlitServer(env={"MSC_RA_SECRETS": str(secrets), "MSC_RA_DATA_DIR": str(data)},
                             name="auth").start()
    server.data_dir = data
    yield server
    server.stop()


def _loopback_only(route) -> None:
    host = urlsplit(route.request.url).hostname or ""
    try:
        local = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        local = False
    if local:
        route.continue_()
    else:
        route.abort()


@pytest.fixture
def browser_page():
    """A fresh browser (its own cookies) whose requests stay on this computer."""
    with chromium_context(locale="en-GB") as context:
        context.set_default_timeout(30_000)
        context.route("**/*", _loopback_only)
        yield context.new_page()


def _main_text(page) -> str:
    return page.locator('[data-testid="stMain"]').inner_text()


def _menu_paths(page) -> list[str]:
    links = page.locator('[data-testid="stSidebarNav"] a').all()
    return [urlsplit(link.get_attribute("href") or "").path.strip("/") for link in links]


def _shot(page, name: str) -> None:
    full_page_screenshot(page, SHOTS / f"{name}.png")


def _assert_login_screen(page, lang: str) -> None:
    page.get_by_role("button", name=t("access.login.button", lang)).wait_for()
    text = _main_text(page)
    assert t("access.login.intro", lang) in text
    assert not error_texts(page), error_texts(page)
    # the login screen and nothing else: no menu, no filters, no study data
    assert not page.locator('[data-testid="stSidebar"]').count()
    for element in ("stPlotlyChart", "stDataFrame", "stMetric", "stSelectbox", "stTable"):
        assert not page.locator(f'[data-testid="{element}"]').count(), element
    assert not any(ch.isdigit() for ch in text), text


def authorize(page, user: str) -> None:
    """From the login screen through the provider's form (its answer not waited for)."""
    page.get_by_role("button", name=t("access.login.button", "en")).click()
    page.get_by_placeholder("sub").wait_for(timeout=LOGIN_MS)
    page.get_by_placeholder("sub").fill(user)
    page.get_by_role("button", name="Authorize").click()


def log_in(page, server, user: str) -> None:
    """From the login screen, through the provider's form, back on the dashboard."""
    authorize(page, user)
    page.wait_for_url(f"{server.url}/**", timeout=LOGIN_MS)
    wait_idle(page)
    sidebar = page.locator('[data-testid="stSidebar"]').inner_text()
    assert user in sidebar, sidebar[:500]


def log_in_from_home(page, server, user: str, signed_in_key: str) -> None:
    """Open the home page, log in as ``user``, and see the sidebar say who is signed in."""
    open_page(page, server.url)
    log_in(page, server, user)
    assert t(signed_in_key, "en", user=user) in page.locator(
        '[data-testid="stSidebar"]').inner_text()


def log_out(page) -> None:
    """The sidebar's button; the provider's page ends its session too; back on the login screen."""
    page.locator('[data-testid="stSidebar"]').get_by_role(
        "button", name=t("access.logout", "en")).click()
    end = page.get_by_role("button", name="End session")
    login = page.get_by_role("button", name=t("access.login.button", "en"))
    end.or_(login).wait_for(timeout=LOGIN_MS)
    if end.is_visible():
        end.click()
    login.wait_for(timeout=LOGIN_MS)
    wait_idle(page)


def _audit_lines(server) -> list[dict]:
    path = server.data_dir / "audit.log"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_logged_out_visitor_sees_only_the_login_screen(dashboard, browser_page, lang):
    page = browser_page
    suffix = "?lang=zh" if lang == "zh" else ""
    open_page(page, f"{dashboard.url}/{suffix}")
    _assert_login_screen(page, lang)
    _shot(page, f"login_{lang}")
    # a deep link to a page, filters and all, gives the same screen
    open_page(page, f"{dashboard.url}/survival?ep=ACR70&pop=nri&lang={lang}")
    _assert_login_screen(page, lang)


def test_reader_sees_pages_but_no_study_loading(dashboard, browser_page):
    page = browser_page
    log_in_from_home(page, dashboard, READER, "access.signed_in")
    menu = _menu_paths(page)
    assert "survival" in menu and "load-study" not in menu, menu
    assert "110" in _main_text(page)  # the study overview of the synthetic cohort
    assert not error_texts(page), error_texts(page)
    _shot(page, "reader_overview")
    # a rerun of the session (here: the language) keeps the user's line, in the new language
    chinese = page.locator('[data-testid="stSidebar"] [data-testid="stRadioOption"]').filter(
        has_text="中文")
    rerun(page, chinese.click)
    assert t("access.signed_in", "zh", user=READER) in page.locator(
        '[data-testid="stSidebar"]').inner_text()
    _shot(page, "reader_overview_zh")
    # the loading page is not there for a reader, even by its address
    open_page(page, f"{dashboard.url}/load-study")
    _shot(page, "reader_load_study_address")
    assert t("app.not_found", "en", path="load-study") in _main_text(page)
    open_page(page, dashboard.url)
    log_out(page)
    _assert_login_screen(page, "en")
    _shot(page, "reader_logged_out")
    actions = [(line["user"], line["action"]) for line in _audit_lines(dashboard)]
    assert (READER, "login") in actions and (READER, "logout") in actions, actions


def test_a_shared_link_opened_before_login_is_where_login_ends(dashboard, browser_page):
    """Streamlit's login comes back to the home page; the dashboard then goes on to the address
    the visitor opened (here a survival link with its endpoint and population)."""
    page = browser_page
    open_page(page, f"{dashboard.url}/survival?ep=ACR70&pop=nri")
    _assert_login_screen(page, "en")
    authorize(page, READER)
    page.wait_for_url(f"{dashboard.url}/survival?**", timeout=LOGIN_MS)
    wait_idle(page)
    query = dict(pair.split("=", 1) for pair in urlsplit(page.url).query.split("&"))
    assert query.get("ep") == "ACR70" and query.get("pop") == "nri", page.url
    assert t("access.signed_in", "en", user=READER) in page.locator(
        '[data-testid="stSidebar"]').inner_text()
    assert t("nav.survival", "en") in _main_text(page)
    assert "ACR70" in _main_text(page)
    assert not error_texts(page), error_texts(page)
    _shot(page, "reader_back_at_the_link")
    # once there, the address is spent: the home page stays the home page
    open_page(page, dashboard.url)
    assert urlsplit(page.url).path.rstrip("/") == urlsplit(dashboard.url).path.rstrip("/")
    log_out(page)


def test_admin_has_the_load_a_study_page(dashboard, browser_page):
    page = browser_page
    log_in_from_home(page, dashboard, ADMIN, "access.signed_in_admin")
    assert "load-study" in _menu_paths(page), _menu_paths(page)
    _shot(page, "admin_overview")
    actions = [(line["user"], line["action"]) for line in _audit_lines(dashboard)]
    assert (ADMIN, "login") in actions, actions


# -- an admin loads a study: upload the messy export, fix the mapping, build, switch ----------
@pytest.fixture(scope="module")
def messy_zip(tmp_path_factory):
    """The synthetic cohort as a messy EDC/Excel export (tests/messy_export.py), one zip, no
    mapping in it: the page drafts one, with the arm codes (A组/B组) left to fill."""
    from messy_export import write_messy_zip

    return write_messy_zip(tmp_path_factory.mktemp("messy"))


def _fill_cells(page, editor, column: int, entries: dict[int, str], attempts: int = 3) -> None:
    """Type into cells of a st.data_editor (a canvas grid), ``{row: text}`` in one column: select
    the first cell, move with the arrow keys (the grid scrolls itself), type, Enter (which
    commits and reruns the page). Each cell is then read back from the grid's accessible copy
    (``glide-cell-<column>-<row>``); on a loaded machine a keystroke typed before the cell's
    editor opens is lost, so a cell that does not read back is typed again. The grid is
    scrolled back to its top first: the arrow keys scroll it, and a click on "the first cell"
    of a scrolled grid would select another row, and the text land in the wrong cell."""
    for row, text in sorted(entries.items()):
        cell = editor.locator(f'[data-testid="glide-cell-{column + 1}-{row}"]')
        for _ in range(attempts):
            editor.scroll_into_view_if_needed()
            editor.locator(".dvn-scroller").evaluate(
                "el => { el.scrollTop = 0; el.scrollLeft = 0; }")
            page.wait_for_timeout(50)  # the grid redraws at the new scroll position
            box = editor.bounding_box()
            # the first cell of the first column: right of the row markers, below the header
            page.mouse.click(box["x"] + 80, box["y"] + 35 + 17)
            for _ in range(column):
                page.keyboard.press("ArrowRight")
            for _ in range(row):
                page.keyboard.press("ArrowDown")
            page.keyboard.type(text, delay=20)
            rerun(page, lambda: page.keyboard.press("Enter"))
            try:
                cell.wait_for(state="attached", timeout=5_000)
                page.wait_for_function("([el, text]) => el.textContent === text",
                                       arg=[cell.element_handle(), text], timeout=5_000)
                break
            except Exception:  # noqa: BLE001 - playwright TimeoutError: type it again
                continue
        assert cell.text_content() == text, (row, text, cell.text_content())


def test_admin_uploads_fixes_the_mapping_builds_and_switches(dashboard, browser_page, messy_zip):
    from analytics import study_loading

    archive, folder = messy_zip
    rows = study_loading.draft_rows(folder).rows.reset_index(drop=True)
    arms = rows.index[rows.section == "arms"].tolist()
    arm_of = {"A组": '"MSC"', "B组": '"MSC_IFNG"'}  # the Value column holds TOML values
    value_column = list(rows.columns).index("value")

    page = browser_page
    open_page(page, dashboard.url)
    log_in(page, dashboard, ADMIN)
    open_page(page, f"{dashboard.url}/load-study")
    rerun(page, lambda: page.locator('[data-testid="stFileUploaderDropzoneInput"]')
          .set_input_files(str(archive)))
    main = page.locator('[data-testid="stMain"]')
    assert t("load.unmapped", "en", n=len(arms)) in main.inner_text()
    _shot(page, "admin_upload_drafted")

    editor = page.locator('[class*="st-key-load_editor_"] [data-testid="stDataFrameResizable"]')
    _fill_cells(page, editor, value_column, {row: arm_of[rows.key[row]] for row in arms})
    _shot(page, "admin_mapping_edited")
    rerun(page, lambda: page.locator(".st-key-load_validate button").click())
    assert t("load.valid", "en") in main.inner_text(), main.inner_text()[-1500:]
    _shot(page, "admin_mapping_fixed_valid")

    name = page.locator(".st-key-load_name input")
    name.fill("Messy export trial")
    rerun(page, lambda: name.press("Enter"))
    rerun(page, lambda: page.locator(".st-key-load_build button").click(), timeout_ms=180_000)
    assert 'Study "Messy export trial" built' in main.inner_text(), main.inner_text()[-1500:]
    assert not error_texts(page), error_texts(page)
    rerun(page, lambda: page.locator(".st-key-load_switch button").click())
    _shot(page, "admin_built_switched")

    # the new study's pages, chosen in the sidebar's switcher and in the address
    built_file = dashboard.data_dir / "studies" / "messy-export-trial.duckdb"
    with duckdb.connect(str(built_file), read_only=True) as con:
        built_at = con.execute("SELECT value FROM study_info WHERE key = 'built_at'").fetchone()[0]
    sidebar = page.locator('[data-testid="stSidebar"]')
    rerun(page, lambda: page.locator('[data-testid="stSidebarNav"] a').first.click())
    assert built_at in sidebar.inner_text()  # the switcher's caption: the new study's build
    assert "study=messy-export-trial" in page.url, page.url
    assert "messy-export-trial.duckdb" in main.inner_text()  # the overview names its file
    assert "110" in main.inner_text() and not error_texts(page), error_texts(page)
    _shot(page, "admin_new_study_overview")
    open_page(page, f"{dashboard.url}/survival?{urlsplit(page.url).query}")
    assert built_at in sidebar.inner_text()
    assert t("nav.survival", "en") in main.inner_text()
    assert not error_texts(page), error_texts(page)
    _shot(page, "admin_new_study_survival")

    actions = [line["action"] for line in _audit_lines(dashboard) if line["user"] == ADMIN]
    for action in ("login", "upload", "validate", "build", "switch"):
        assert action in actions, actions
    built = next(line for line in _audit_lines(dashboard) if line["action"] == "build")
    assert built["hashes"]["export.zip"] and built["hashes"]["content_hash"]
