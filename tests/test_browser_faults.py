"""In a real browser (issue 15, items 2 and 7): the page shown for a study file that cannot be
served, and the notice for an unrecognised link value, in English and Chinese; screenshots in
tests/artifacts/screenshots/faults/."""
from __future__ import annotations

import re

import pytest

from analytics import open_study
from analytics.i18n import t
from analytics.study import STUDY_ENV_VAR
from browser_support import (SCREENSHOTS, StreamlitServer, chromium_context,
                             full_page_screenshot, open_page, skip_or_fail, unavailable_reason)

pytestmark = pytest.mark.browser
_REASON = unavailable_reason()
SHOTS = SCREENSHOTS / "faults"
REFERENCE = re.compile(r"S-[0-9A-F]{6}")


@pytest.fixture(scope="module")
def context():
    if _REASON:
        skip_or_fail(_REASON)
    with chromium_context(locale="en-GB") as ctx:
        yield ctx


@pytest.fixture(scope="module")
def bad_file_server(tmp_path_factory):
    if _REASON:
        skip_or_fail(_REASON)
    path = tmp_path_factory.mktemp("bad") / "study.duckdb"
    path.write_text("subject_id,arm\nS001,MSC\n", encoding="utf-8")  # a CSV, not a study file
    server = StreamlitServer(env={STUDY_ENV_VAR: str(path)}, name="bad-file").start()
    yield server, path
    server.stop()


@pytest.fixture(scope="module")
def default_server():
    if _REASON:
        skip_or_fail(_REASON)
    open_study().close()
    server = StreamlitServer(name="links").start()
    yield server
    server.stop()


def _wait_text(page, selector: str, timeout: int = 60_000):
    page.locator(selector).first.wait_for(timeout=timeout)
    return page.locator(selector).first.inner_text()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_bad_study_file_page(context, bad_file_server, lang):
    server, path = bad_file_server
    page = context.new_page()
    try:
        page.goto(f"{server.url}/response-rates?lang={lang}")
        shown = _wait_text(page, '[data-testid="stAlertContentError"]')
        assert t("study_error.title", lang) in shown
        assert t("study_error.not_duckdb", lang) in shown
        assert REFERENCE.search(shown)
        assert str(path) not in shown and "Traceback" not in shown
        assert page.locator('[data-testid="stException"]').count() == 0
        page.wait_for_timeout(500)
        full_page_screenshot(page, SHOTS / f"bad_study_file_{lang}.png")
    finally:
        page.close()
    # the details, under the same reference, are in the server log
    reference = REFERENCE.search(shown).group(0)
    assert reference in server.log_tail(200) and str(path) in server.log_tail(200)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_link_notice(context, default_server, lang):
    page = context.new_page()
    try:
        open_page(page, f"{default_server.url}/response-rates?lang={lang}&pop=NRI")
        shown = _wait_text(page, '[data-testid="stAlertContentWarning"]')
        assert t("link.unrecognised", lang, param="pop", name=t("filter.population", lang),
                 value="NRI", used=t("population.completers", lang)) in shown
        assert "pop=NRI" not in page.url
        assert page.locator('[data-testid="stException"]').count() == 0
        full_page_screenshot(page, SHOTS / f"link_notice_{lang}.png")
    finally:
        page.close()
