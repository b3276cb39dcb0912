"""Loading a study in a real browser (issue 12): upload the messy export as one zip, fill in the
two arm codes the draft could not map in the mapping editor, validate, build, switch to the new
study and see its pages; in Chinese, the same page's problems in Chinese words.

Its own server on a data folder of its own (``MSC_RA_DATA_DIR``), without login (the login
variant is the access-control branch's). Screenshots: tests/artifacts/screenshots/load_study/.
"""
from __future__ import annotations

import json

import pytest

from browser_support import (SCREENSHOTS, VIEWPORT, StreamlitServer, error_texts,
                             full_page_screenshot, launch_chromium, open_page, rerun,
                             skip_module_without_browser, skip_or_fail)

pytestmark = pytest.mark.browser

_REASON = skip_module_without_browser()

SHOTS = SCREENSHOTS / "load_study"
HEADER_PX, ROW_PX = 35, 35  # the data editor's header and row heights (Streamlit's defaults)
COLUMN_PX = {"medium": 200, "large": 400}
ROW_MARKER_PX = 37  # the row-selection column of an editor that adds and deletes rows


@pytest.fixture(scope="module")
def export_zip(tmp_path_factory):
    from messy_export import write_messy_zip

    return write_messy_zip(tmp_path_factory.mktemp("browser_load"))[0]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if _REASON:
        skip_or_fail(_REASON)
    from analytics import open_study
    open_study().close()  # the default study, built before the server needs it
    data = tmp_path_factory.mktemp("browser_data")
    srv = StreamlitServer(env={"MSC_RA_DATA_DIR": str(data)}, name="streamlit-load").start()
    srv.data = data
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def page(server):
    browser = launch_chromium()
    context = browser.new_context(viewport=VIEWPORT)
    yield context.new_page()
    context.close()
    browser.close()


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    full_page_screenshot(page, SHOTS / f"{name}.png")


def fill_cell(page, row: int, column_left_px: int, text: str) -> None:
    """Type ``text`` into the mapping editor's cell (row from 0, column by its left edge)."""
    canvas = page.locator('[class*="st-key-load_editor_"] [data-testid="data-grid-canvas"]')
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    x = box["x"] + ROW_MARKER_PX + column_left_px + 100
    y = box["y"] + HEADER_PX + ROW_PX * row + ROW_PX / 2
    page.mouse.click(x, y)  # the first click focuses the grid and selects the cell
    page.wait_for_timeout(300)
    page.mouse.dblclick(x, y)  # opens the cell's editor
    page.locator("textarea.gdg-input, .gdg-growing-entry, textarea").last.wait_for(
        timeout=10_000)  # Glide's overlay editor
    page.keyboard.type(text, delay=20)
    rerun(page, lambda: page.keyboard.press("Enter"))


def upload(page, server, path, lang: str) -> None:
    open_page(page, f"{server.url}/load-study" + ("?lang=zh" if lang == "zh" else ""))
    rerun(page, lambda: page.locator('input[type="file"]').set_input_files(str(path)))
    page.locator('[class*="st-key-load_editor_"]').wait_for(timeout=60_000)


def test_upload_fill_in_validate_build_switch_and_see_the_study(page, server, export_zip):
    upload(page, server, export_zip, "en")
    body = page.locator('[data-testid="stMain"]').inner_text()
    assert "could not map 2 entries" in body
    shot(page, "01_uploaded_en")
    rerun(page, lambda: page.get_by_role("button", name="Validate").click())
    body = page.locator('[data-testid="stMain"]').inner_text()
    assert "problems found" in body and "Nothing was written" in body  # the table: a canvas
    shot(page, "02_problems_en")
    value_left = 2 * COLUMN_PX["medium"]  # section, key, then value
    # the two arm codes the draft could not map are the editor's first rows, in the order the
    # export shows them (B组, then A组; tests/test_mapping.py checks that order): fill in both
    fill_cell(page, 0, value_left, '"MSC_IFNG"')
    fill_cell(page, 1, value_left, '"MSC"')
    shot(page, "03_filled_in_en")
    rerun(page, lambda: page.get_by_role("button", name="Validate").click())
    body = page.locator('[data-testid="stMain"]').inner_text()
    assert "The export is valid" in body, body[-2000:]
    name = page.get_by_label("Study name")
    name.fill("Browser trial")
    rerun(page, lambda: name.press("Enter"))
    rerun(page, lambda: page.get_by_role("button", name="Build").click(), timeout_ms=120_000)
    body = page.locator('[data-testid="stMain"]').inner_text()
    assert 'Study "Browser trial" built' in body, body[-2000:]
    shot(page, "04_built_en")
    rerun(page, lambda: page.get_by_role("button", name="Show this study").click())
    shot(page, "05_switched_en")
    switcher = page.locator(".st-key-w_study")
    assert "Browser trial" in (switcher.text_content() or "") + " ".join(
        switcher.locator("input").evaluate_all("els => els.map(e => e.value)"))
    rerun(page, lambda: page.get_by_role("link", name="Study overview").click())
    assert "study=browser-trial" in page.url
    body = page.locator('[data-testid="stMain"]').inner_text()
    assert "browser-trial.duckdb" in body and "Synthetic" not in body
    assert not error_texts(page), error_texts(page)
    shot(page, "06_overview_of_new_study_en")
    actions = [json.loads(line)["action"]
               for line in (server.data / "audit.log").read_text().splitlines()]
    assert actions == ["upload", "validate", "validate", "build", "switch"]


def test_problems_in_chinese(page, server, export_zip):
    upload(page, server, export_zip, "zh")
    rerun(page, lambda: page.get_by_role("button", name="校验").click())
    body = page.locator('[data-testid="stMain"]').inner_text()
    assert "发现" in body and "未写入任何文件" in body
    shot(page, "07_problems_zh")
