"""From a chart to a patient's profile in a real browser (issue 14 item 1): click a subject's
line on the trajectories chart, and a link of the disease-activity Sankey; the page lists the
subjects of what was clicked, and each subject's link opens the profile of that subject — in
both languages. Screenshots go to tests/artifacts/screenshots/<lang>/profile_*.png.

Playwright (PyPI) drives Debian's Chromium; the clicks land on the pixel of a point taken from
the figure plotly drew (its axes convert data to pixels), so the test knows which subject the
chart's customdata names there.
"""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from analytics.charts.disease_activity import link_flow
from analytics.i18n import t
from browser_support import (SCREENSHOTS, VIEWPORT, StreamlitServer, error_texts,
                             full_page_screenshot, launch_chromium, open_page, rerun,
                             skip_module_without_browser, skip_or_fail)

pytestmark = pytest.mark.browser

_REASON = skip_module_without_browser()

LANGS = ("en", "zh")

# The point of the chart's selectable traces farthest from every other point (so the click
# cannot be taken by a neighbour), with its pixel position. ``trace`` picks the traces: those
# with a subject id (trajectory lines) or the Sankey's link markers (the last trace but one).
_POINT_JS = """([chart, which]) => {
  const gd = document.querySelectorAll('[data-testid="stPlotlyChart"] .js-plotly-plot')[chart];
  const L = gd._fullLayout, box = gd.getBoundingClientRect();
  const px = x => box.left + L.xaxis._offset + L.xaxis.d2p(x);
  const py = y => box.top + L.yaxis._offset + L.yaxis.d2p(y);
  const traces = which === 'links' ? [gd._fullData.length - 2]
    : gd._fullData.map((tr, i) => i).filter(i => gd._fullData[i].customdata
                                             && typeof gd._fullData[i].customdata[0] === 'string');
  const points = [];
  for (const i of traces) {
    const tr = gd._fullData[i];
    for (let j = 0; j < tr.x.length; j++) {
      const c = tr.customdata[j];
      if (tr.x[j] === null || tr.y[j] === null || c === null || c === undefined) continue;
      points.push({customdata: Array.isArray(c) ? Array.from(c) : c,
                   px: px(tr.x[j]), py: py(tr.y[j])});
    }
  }
  let best = null;
  for (const p of points) {
    let nearest = Infinity;
    for (const q of points) {
      if (q === p) continue;
      nearest = Math.min(nearest, Math.hypot(p.px - q.px, p.py - q.py));
    }
    if (!best || nearest > best.nearest) best = {...p, nearest};
  }
  return best;
}"""


@pytest.fixture(scope="module")
def server():
    if _REASON:
        skip_or_fail(_REASON)
    from analytics import open_study
    open_study().close()
    srv = StreamlitServer(name="streamlit-profile").start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def context(server):
    browser = launch_chromium()
    ctx = browser.new_context(viewport=VIEWPORT, locale="en-GB")
    ctx.set_default_timeout(30_000)
    yield ctx
    ctx.close()
    browser.close()


@pytest.fixture
def page(context):
    pg = context.new_page()
    pg.js_errors = []
    pg.on("pageerror", lambda exc: pg.js_errors.append(str(exc)))
    yield pg
    pg.close()


def _click_point(page, chart: int, which: str) -> dict:
    point = page.evaluate(_POINT_JS, [chart, which])
    assert point, f"no selectable point on chart {chart}"

    def click():
        page.mouse.move(point["px"], point["py"])
        page.wait_for_timeout(300)  # plotly's hover finds the point before the click
        page.mouse.click(point["px"], point["py"])
    rerun(page, click)
    return point


def _listed(page, key: str) -> list[str]:
    box = page.locator(f".st-key-subjects_{key}")
    box.wait_for(timeout=30_000)
    return [link.inner_text().strip() for link in box.locator('[data-testid="stPageLink"]').all()]


def _open_profile(page, key: str, subject: str, lang: str) -> None:
    link = page.locator(f".st-key-subjects_{key}").locator('[data-testid="stPageLink"]').filter(
        has_text=re.compile(rf"^\s*{re.escape(subject)}\s*$"))
    rerun(page, link.first.click)
    page.wait_for_url(re.compile(r"/patient-profile"), timeout=30_000)
    # the timeline tab first: its charts drawn
    page.locator(".st-key-fig_patient_profile_course .main-svg").first.wait_for(timeout=60_000)
    subject_box = page.locator('[data-testid="stMain"] [data-testid="stSelectbox"]').filter(
        has=page.locator('[data-testid="stWidgetLabel"]',
                         has_text=t("profile.control.subject", lang)))
    assert subject_box.locator('input[role="combobox"]').input_value() == subject
    assert page.locator("h1").first.inner_text().strip() == t("nav.patient_profile", lang)
    # the tables tab: the subject's baseline
    tab = page.locator('[data-testid="stMain"] [role="tab"]').filter(
        has_text=t("profile.tab.tables", lang))
    rerun(page, tab.click)
    page.get_by_text(t("profile.baseline.title", lang, subject=subject)).wait_for(timeout=60_000)
    assert subject_box.locator('input[role="combobox"]').input_value() == subject


def _clean(page, what: str) -> None:
    errors = error_texts(page)
    assert not errors, f"{what}: " + "\n".join(errors)
    assert not page.js_errors, f"{what}: {page.js_errors}"


@pytest.mark.parametrize("lang", LANGS)
def test_trajectory_line_leads_to_its_profile(server, page, lang):
    open_page(page, f"{server.url}/trajectories?lines=1&pop=nri&lang={lang}")
    point = _click_point(page, 0, "subjects")
    subject = point["customdata"]
    assert _listed(page, "trajectories") == [subject]
    full_page_screenshot(page, SCREENSHOTS / lang / "profile_01_trajectory_selected.png")
    _open_profile(page, "trajectories", subject, lang)
    # the link kept the global filters
    query = parse_qs(urlsplit(page.url).query)
    assert query["pop"] == ["nri"]
    assert query.get("lang", ["en"]) == [lang]
    _clean(page, "profile from the trajectories chart")
    full_page_screenshot(page, SCREENSHOTS / lang / "profile_02_from_trajectory.png")


@pytest.mark.parametrize("lang", LANGS)
def test_sankey_link_leads_to_its_profiles(server, page, study, lang):
    from analytics.profile import subjects_in_flow
    open_page(page, f"{server.url}/disease-activity?lang={lang}")
    point = _click_point(page, 0, "links")  # the first Sankey: the MSC arm
    expected = subjects_in_flow(study, "completers", "MSC", *link_flow(point["customdata"]))
    assert expected
    listed = _listed(page, "da_sankey_MSC")
    assert sorted(listed) == sorted(expected)
    full_page_screenshot(page, SCREENSHOTS / lang / "profile_03_sankey_selected.png")
    _open_profile(page, "da_sankey_MSC", listed[-1], lang)
    _clean(page, "profile from the Sankey")
    full_page_screenshot(page, SCREENSHOTS / lang / "profile_04_from_sankey.png")


@pytest.mark.parametrize("lang", LANGS)
def test_sae_listing_row_leads_to_its_profile(server, page, study, lang):
    """A row of the serious-AE listing (selected by its row marker) lists its subject."""
    open_page(page, f"{server.url}/serious-adverse-events?lang={lang}&pop=nri")
    listing = study.sae_listing()
    grid = page.locator('.st-key-tbl_sae_listing [data-testid="stDataFrameResizable"]')
    box = grid.bounding_box()
    row_height = 35  # Streamlit's default row height, the header row as tall

    def click():
        page.mouse.move(box["x"] + 12, box["y"] + row_height * 1.5)
        page.wait_for_timeout(300)
        page.mouse.click(box["x"] + 12, box["y"] + row_height * 1.5)
    rerun(page, click)
    subject = listing["subject_id"].iloc[0]
    assert _listed(page, "sae_listing") == [subject]
    full_page_screenshot(page, SCREENSHOTS / lang / "profile_05_sae_row_selected.png")
    _open_profile(page, "sae_listing", subject, lang)
    _clean(page, "profile from the SAE listing")
