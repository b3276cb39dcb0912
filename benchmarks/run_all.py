"""Issue 13's measurements in one run, side by side with a trivial Streamlit app's floor.

    make bench                                         # everything (20-30 minutes on 2 cores)
    .venv/bin/python benchmarks/run_all.py --quick     # 1 repetition each, no 100x cohort
    .venv/bin/python benchmarks/run_all.py --only server,export --tag after

Prints a markdown table (what, measured, target, trivial-app floor) under the date and the
machine, with the per-page details below it, and writes the same to
``benchmarks/results/<date>[-<tag>].md``. Not a test: the numbers depend on the machine's load
(the load average is printed with them).

What is measured, exactly:

* **server** — Streamlit's AppTest runs a page's script in-process as the server does, without a
  browser; the time is ``AppTest.run()`` after one global filter widget (language, population,
  time point, sex, age band, baseline activity, prior biologic, trial, comparison) is set to
  another value. Per page and filter: the median of ``--reps`` runs alternating between the
  default and another value. *Recomputed*: every memoised result dropped
  (``st.cache_data.clear()``, the kept views and the clusters page's kept mixtures) before each
  run, as on a first visit; *seen before*: both values run once first. Per page the table gives
  the slowest filter's median. The trivial app's re-run is timed the same way (a button click).
* **drawn** (browser) — Playwright driving Debian's Chromium (``tests/browser_support.py``). A
  script injected into every page records the time of the user's click (``click`` event, capture
  phase) and of every change on the screen: every DOM change (MutationObserver on the whole
  document, except Streamlit's running indicator and toolbar, the data grid's invisible
  accessibility copy of its cells, which it rewrites ~190 ms after its canvas shows the new
  values, and the select box's invisible screen-reader message, which React Aria removes 7 s
  after the list opened) and every drawing call on a canvas (the data grid draws its cells on
  one). A view is *drawn* when Streamlit has run the script since the
  click and is idle again (``data-test-script-state="notRunning"``, connected, no stale element,
  no running indicator, no loading skeleton), every ``stPlotlyChart`` holds plotly's
  ``.main-svg``, and the page has not changed for ``QUIET_MS``; the time is the last DOM change
  minus the click (the quiet wait is not counted). A first page load counts from navigation
  start (``performance.timeOrigin``).
* **home page** — a fresh server (launcher, as ``make run``; the trivial app with the launcher's
  options) answering ``/_stcore/health``, then a new browser context opens ``/``: *cold* is the
  server's first session, *warm* a later one (new context, server up). Beside the trivial app,
  the trivial app with one small plotly chart, one small table and code
  (``benchmarks/trivial_chart_app.py``): the floor of a page with the home page's kinds of
  element (plotly.js, the data grid, the syntax highlighter loaded and run by the browser).
* **PNG export** — on a freshly started server, after the home page and a switch to the disease-activity
  page: click "Prepare images" under the first chart until the PNG download button is there
  (PNG 2x and SVG rendered); *warm*: the same under the next chart. The deck: the 22-slide
  deck of every page (``analytics.deck.build_deck``) in a fresh Python process, first (*cold*,
  Chromium started by the deck) and second build.
* **memory** — RSS (``/proc/<pid>/status``) of the server process, and the PSS
  (``smaps_rollup``: shared pages split among their processes) of it with its children (the
  export Chromium), after ``--sessions`` browser contexts have each opened a page and it is drawn.
"""
from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from apptest_support import switch_to  # noqa: E402
from bench_core import BIG_SEED, build_big_cohort  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
TRIVIAL_APP = ROOT / "benchmarks" / "trivial_app.py"
# the trivial app with one plotly chart, one table and code: the floor of the home page's kinds
CHART_FLOOR_APP = ROOT / "benchmarks" / "trivial_chart_app.py"
nan = float("nan")
QUIET_MS = 400            # no DOM change for this long: the page is drawn
DRAWN_TIMEOUT_MS = 120_000
SECTIONS = ("server", "browser", "home", "export", "memory")

# -- targets of issue 13 (seconds) ----------------------------------------------------------------
TARGET_RECOMPUTED = 0.060
TARGET_SEEN = 0.025
TARGET_BIG = 0.300
TARGET_DRAWN_P95 = 0.300
TARGET_SWITCH = 0.600
TARGET_HOME_RATIO = 1.3
TARGET_FIRST_PNG = 1.5
TARGET_DECK_COLD = 4.0
TARGET_RECONCILIATION = 0.150
TARGET_RSS_MB = 500


@dataclass
class Row:
    what: str
    measured: str
    target: str = ""
    floor: str = ""
    ok: bool | None = None


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    details: list[str] = field(default_factory=list)

    def add(self, what, measured, target="", floor="", ok=None) -> None:
        self.rows.append(Row(what, measured, target, floor, ok))
        mark = "" if ok is None else ("  ok" if ok else "  MISSES TARGET")
        print(f"{what}: {measured}{mark}", flush=True)

    def note(self, line: str) -> None:
        self.details.append(line)
        print(line, flush=True)


def ms(seconds: float) -> str:
    return "—" if seconds != seconds else f"{seconds * 1000:.0f} ms"


def secs(seconds: float) -> str:
    return "—" if seconds != seconds else f"{seconds:.2f} s"


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (NaN for no values)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(-(-q * len(ordered) // 1)) - 1))]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


# -- machine ---------------------------------------------------------------------------------------
def machine() -> str:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return (f"{os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), {model or '?'}, "
            f"Python {platform.python_version()}, {platform.system()} {platform.release()}")


def load() -> str:
    return "load average " + ", ".join(f"{x:.1f}" for x in os.getloadavg())


# -- (a) server re-runs with AppTest ---------------------------------------------------------------
def global_filter_changes(study) -> list[tuple[object, object, object]]:
    """(control, default, other value) for every global filter."""
    from analytics.views.state import GLOBAL_CONTROLS

    values: dict = {}
    changes = []
    for control in GLOBAL_CONTROLS:
        default = control.default_value(study, values)
        values[control.key] = default
        allowed = list(control.allowed(study, values))
        other = next((v for v in allowed if v != default), None)
        if other is not None:
            changes.append((control, default, other))
    return changes


def _widget(at, control):
    finder = {"radio": at.radio, "selectbox": at.selectbox}[control.widget]
    return finder(key=control.widget_key)


def clear_memo() -> None:
    """Drop every memoised analysis result and every kept view (as on a first visit)."""
    import streamlit as st

    from analytics.clusters import forget_fits
    from dashboard import study_source
    st.cache_data.clear()
    study_source.forget_views()
    forget_fits()  # the mixtures kept in the process (clusters page)


def time_runs(at, set_value, values: list, recompute: bool) -> list[float]:
    out = []
    for value in values:
        if recompute:
            clear_memo()
        set_value(value)
        t0 = time.perf_counter()
        at.run()
        out.append(time.perf_counter() - t0)
        if at.exception:
            raise RuntimeError(f"{at.exception[0].value}")
    return out


def server_reruns(study_path: Path | None, reps: int, seen_too: bool, pages: list[str]) -> dict:
    """{page: {filter url: (recomputed median, seen-before median)}} with AppTest."""
    from streamlit.testing.v1 import AppTest

    from analytics import open_study
    from dashboard import study_source

    before = os.environ.get("MSC_RA_STUDY")
    if study_path:
        os.environ["MSC_RA_STUDY"] = str(study_path)
    study_source.served_study.clear()  # serve this file
    try:
        with open_study(study_path) as study:
            changes = global_filter_changes(study)
        result: dict = {}
        for key in pages:
            at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300).run()
            switch_to(at, key).run()
            per_filter = {}
            for control, default, other in changes:
                widget = _widget(at, control)
                alternating = [other if i % 2 == 0 else default for i in range(reps)]
                recomputed = median(time_runs(at, widget.set_value, alternating, True))
                seen = float("nan")
                if seen_too:
                    time_runs(at, widget.set_value, [other, default], False)  # both seen
                    seen = median(time_runs(at, widget.set_value, alternating, False))
                if reps % 2:  # back to the default for the next filter
                    time_runs(at, widget.set_value, [default], False)
                per_filter[control.url] = (recomputed, seen)
            result[key] = per_filter
            print(f"  {key}: " + ", ".join(f"{f} {ms(r)}/{ms(s)}"
                                           for f, (r, s) in per_filter.items()), flush=True)
        return result
    finally:
        if before is None:
            os.environ.pop("MSC_RA_STUDY", None)
        else:
            os.environ["MSC_RA_STUDY"] = before
        study_source.served_study.clear()


def trivial_rerun(reps: int) -> float:
    from streamlit.testing.v1 import AppTest
    at = AppTest.from_string(TRIVIAL_APP.read_text() + "\nst.button('x', key='x')\n").run()
    out = []
    for _ in range(reps):
        at.button(key="x").click()
        t0 = time.perf_counter()
        at.run()
        out.append(time.perf_counter() - t0)
    return median(out)


def worst(per_filter: dict, which: int) -> tuple[float, str]:
    name, values = max(per_filter.items(), key=lambda kv: (kv[1][which] == kv[1][which],
                                                         kv[1][which]))
    return values[which], name


def section_server(report: Report, reps: int, big: Path | None, pages: list[str]) -> None:
    floor = trivial_rerun(reps)
    report.note(f"\nserver re-runs (AppTest, median of {reps}; {load()})")
    default = server_reruns(None, reps, seen_too=True, pages=pages)
    report.note("| page | recomputed (slowest filter) | seen before (slowest filter) |"
                + (" 100x cohort, recomputed (slowest filter) |" if big else ""))
    report.note("|---|---|---|" + ("---|" if big else ""))
    # not the reconciliation page on the 100x cohort: it compares the 110-subject study with the
    # paper (and takes minutes there)
    big_result = server_reruns(big, reps, seen_too=False,
                               pages=[p for p in pages if p != "reconciliation"]) if big else {}
    for page, per_filter in default.items():
        (r, rf), (s, sf) = worst(per_filter, 0), worst(per_filter, 1)
        line = f"| {page} | {ms(r)} ({rf}) | {ms(s)} ({sf}) |"
        if big:
            b, bf = worst(big_result[page], 0) if page in big_result else (nan, "not run")
            line += f" {ms(b)} ({bf}) |"
        report.note(line)
    pages = [p for p in default if p != "reconciliation"]
    if not pages:
        pages = list(default)
    rec = [worst(default[p], 0)[0] for p in pages]
    seen = [worst(default[p], 1)[0] for p in pages]
    report.add("server re-run after a global filter change, default study, recomputed "
               "(slowest page's slowest filter; median of pages)",
               f"{ms(max(rec))} ({max(pages, key=lambda p: worst(default[p], 0)[0])}); "
               f"{ms(median(rec))}", f"≤ {ms(TARGET_RECOMPUTED)}", ms(floor),
               max(rec) <= TARGET_RECOMPUTED)
    report.add("the same, results seen before",
               f"{ms(max(seen))}; {ms(median(seen))}", f"≤ {ms(TARGET_SEEN)}", ms(floor),
               max(seen) <= TARGET_SEEN)
    if big:
        bigs = [worst(big_result[p], 0)[0] for p in pages]
        report.add("the same on the 100x cohort (11,000 subjects), recomputed",
                   f"{ms(max(bigs))} ({max(pages, key=lambda p: worst(big_result[p], 0)[0])});"
                   f" {ms(median(bigs))}", f"≤ {ms(TARGET_BIG)}", ms(floor),
                   max(bigs) <= TARGET_BIG)
    if "reconciliation" in default:
        r = worst(default["reconciliation"], 0)[0]
        report.add("reconciliation page re-run, recomputed", ms(r),
                   f"≤ {ms(TARGET_RECONCILIATION)}", ms(floor), r <= TARGET_RECONCILIATION)


# -- the browser -----------------------------------------------------------------------------------
# Installed in every page before its scripts run (see the module doc for "drawn").
_RECORDER_JS = """(() => {
  const B = window.__bench = {t0: 0, armed: false, sawRun: true, last: 0};
  // the running indicator and toolbar are Streamlit's own; the data grid's ".dvn-underlay" is
  // its invisible accessibility copy of the cells, rewritten by a debounce ~190 ms after the
  // grid's canvas shows the new values (the canvas is timed below); "[data-live-announcer]" is
  // the select box's invisible screen-reader message ("3 options available."), which React Aria
  // removes 7 s after the list opened, so at a random moment of a later click
  const ignored = node => {
    const el = node && (node.nodeType === 1 ? node : node.parentElement);
    return !!(el && el.closest && el.closest(
      '[data-testid="stStatusWidget"], [data-testid="stToolbar"], [data-testid="stDecoration"],'
      + ' .dvn-underlay, [data-live-announcer]'));
  };
  // what a canvas draws (the data grid's cells) is a change on the screen that no DOM record
  // shows: every drawing call counts as one
  const proto = CanvasRenderingContext2D.prototype;
  for (const name of ['fillText', 'fillRect', 'strokeText', 'drawImage', 'fill', 'stroke',
                      'clearRect', 'putImageData']) {
    const draw = proto[name];
    proto[name] = function () { B.last = performance.now(); return draw.apply(this, arguments); };
  }
  // a text or attribute set to the value it had changes nothing on the screen (the data grid
  // rewrites its hidden accessibility cells so, after the charts are drawn)
  const unchanged = r => r.type === 'characterData' ? r.oldValue === r.target.data
    : r.type === 'attributes' && r.oldValue === r.target.getAttribute(r.attributeName);
  new MutationObserver(records => {
    const now = performance.now();
    // every record of one call has the same time: one counted record is enough (closest() on
    // each of a chart's hundreds of records cost the page tens of milliseconds)
    let counted = false;
    for (const r of records) {
      // ran: the state is, or was (a short run starts and ends within one batch), "running"
      if (r.type === 'attributes' && r.attributeName === 'data-test-script-state'
          && (r.target.getAttribute('data-test-script-state') === 'running'
              || r.oldValue === 'running')) B.sawRun = true;
      if (!counted && !unchanged(r) && !ignored(r.target)) { B.last = now; counted = true; }
    }
  }).observe(document, {subtree: true, childList: true, attributes: true,
                        characterData: true, attributeOldValue: true,
                        characterDataOldValue: true});
  // a message from the server after the click: the server acted on it (a run can start and end
  // between two looks at the page)
  const NativeSocket = window.WebSocket;
  window.WebSocket = class extends NativeSocket {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', () => { if (!B.armed) B.sawRun = true; });
    }
  };
  document.addEventListener('click', () => {
    if (B.armed) { B.armed = false; B.t0 = performance.now(); B.sawRun = false;
                   B.last = B.t0; }
  }, true);
})();"""

# Drawn (see the module doc): the milliseconds from the click (or navigation start) to the last
# DOM change, or false while not drawn yet.
_DRAWN_JS = """(quietMs) => {
  const B = window.__bench, app = document.querySelector('[data-testid="stApp"]');
  if (!B || !app || !B.sawRun) return false;
  if (app.getAttribute('data-test-connection-state') !== 'CONNECTED'
      || app.getAttribute('data-test-script-state') !== 'notRunning'
      || document.querySelector('[data-testid="stStatusWidget"]')
      || document.querySelector('[data-stale="true"]')
      || document.querySelector('[data-testid="stSkeleton"]')
      || !document.querySelector('[data-testid="stMain"] [data-testid="stMarkdownContainer"]'))
    return false;
  const charts = Array.from(document.querySelectorAll('[data-testid="stPlotlyChart"]'));
  if (!charts.every(c => c.querySelector('.js-plotly-plot .main-svg'))) return false;
  if (performance.now() - B.last < quietMs) return false;
  return Math.max(B.last - B.t0, 0);
}"""


def new_page(browser):
    from browser_support import VIEWPORT
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    context.add_init_script(_RECORDER_JS)
    return context, context.new_page()


RUN_SEEN_MS = 5_000  # a click the server has not answered within this long was lost


class ClickLost(Exception):
    """Streamlit did not act on a click (rarely, under load, one on a widget being drawn)."""


def drawn_after(page, action) -> float:
    """Seconds from the click ``action`` makes to the view drawn."""
    page.evaluate("() => { window.__bench.armed = true; }")
    action()
    try:
        page.wait_for_function("() => window.__bench.sawRun", polling="raf",
                               timeout=RUN_SEEN_MS)
    except Exception as lost:  # noqa: BLE001 - playwright's timeout
        raise ClickLost(str(lost)) from lost
    return page.wait_for_function(_DRAWN_JS, arg=QUIET_MS, polling="raf",
                                  timeout=DRAWN_TIMEOUT_MS).json_value() / 1000


def open_drawn(page, url: str) -> float:
    """Seconds from navigation start to the page drawn."""
    page.goto(url, wait_until="commit", timeout=DRAWN_TIMEOUT_MS)
    return page.wait_for_function(_DRAWN_JS, arg=QUIET_MS, polling="raf",
                                  timeout=DRAWN_TIMEOUT_MS).json_value() / 1000


def exactly(text: str):
    import re
    return re.compile(rf"^\s*{re.escape(text)}\s*$")


def choose(page, control, value, lang: str, study) -> None:
    """Set a sidebar filter as a reader does (click the option; a select box opened first)."""
    from analytics.i18n import t

    sidebar = page.locator('[data-testid="stSidebar"]')
    text = control.label_of(value, lang, study)
    if control.widget == "radio":
        box = sidebar.locator('[data-testid="stRadio"]').filter(
            has=page.locator('[data-testid="stWidgetLabel"]', has_text=t(control.label, lang)))
        option = box.locator('[data-testid="stRadioOption"]').filter(has_text=exactly(text))
        click, lost, reopen = (lambda: option.first.click()), ClickLost, (lambda: None)
    else:
        box = sidebar.locator('[data-testid="stSelectbox"]').filter(
            has=page.locator('[data-testid="stWidgetLabel"]', has_text=t(control.label, lang)))
        option = page.locator('[role="option"]').filter(has_text=exactly(text)).first
        combo = box.locator('[role="combobox"]')
        for _ in range(5):  # a click on the box does not always open its list: then a key does
            combo.click()
            with contextlib.suppress(Exception):
                option.wait_for(timeout=1_000)
                break
            combo.press("ArrowDown")
            with contextlib.suppress(Exception):
                option.wait_for(timeout=1_000)
                break

        def reopen():
            page.keyboard.press("Escape")
            combo.click()
        # the list can also be drawn anew under the click (playwright's timeout)
        click, lost = (lambda: option.click(timeout=10_000)), Exception
    for attempt in range(3):  # a lost click is made again (a list opened again), timed from then
        try:
            return drawn_after(page, click)
        except lost:  # noqa: BLE001 - the last one is raised
            if attempt == 2:
                raise
            reopen()


def view_url(server, view_key: str) -> str:
    """The view's address: the first view is the app's default page, served at ``/`` only
    (``/overview`` answers "Page not found")."""
    from analytics.views import VIEWS
    first = next(iter(VIEWS))
    return f"{server.url}/" + ("" if view_key == first else VIEWS[view_key].path)


def nav_link(page, view_key: str):
    """The view's link in the sidebar menu (menu order is the registry's; the first view's
    link is the bare address)."""
    from analytics.views import VIEWS
    return page.locator('[data-testid="stSidebarNav"] a').nth(list(VIEWS).index(view_key))


class TrivialServer:
    """The trivial app (or another ``script``) served by Streamlit with the launcher's
    options; ``env`` adds environment variables for it."""

    def __new__(cls, name="trivial", script: Path = TRIVIAL_APP, env: dict | None = None):
        from browser_support import StreamlitServer

        from dashboard import launcher

        class Server(StreamlitServer):
            def command(self) -> list[str]:
                line = launcher.command_line(launcher.server_options("127.0.0.1", self.port))
                line[1] = str(script)
                return [sys.executable, "-m", "streamlit", *line]

        return Server(name=name, env=env)


def chart_floor_server():
    return TrivialServer("chart-floor", CHART_FLOOR_APP)


def app_server(name="bench"):
    from browser_support import StreamlitServer
    return StreamlitServer(name=name)


def switch_order(keys: list[str]) -> list[str]:
    """The pages to switch to in a round, each once. The filter clicks, and each round, end on
    the last page, so a round starts with the first: never a switch to the page already shown
    (which would time a page that does not change)."""
    return list(keys)


def section_browser(report: Report, browser, reps: int, keys: list[str]) -> None:
    """Click on every global filter on every page, then switch pages, on one server."""
    from analytics import open_study

    server = app_server().start()
    try:
        with open_study() as study:
            changes = global_filter_changes(study)
            context, page = new_page(browser)
            open_drawn(page, view_url(server, keys[0]))
            # per page and filter, its clicks in order: to the other value, back, again...
            by_filter: dict[str, dict[str, list[float]]] = {}
            for key in keys:
                if key != keys[0]:
                    link = nav_link(page, key)
                    drawn_after(page, link.click)
                for control, default, other in changes:
                    mine = by_filter.setdefault(key, {}).setdefault(control.key, [])
                    for _ in range(reps):
                        # the page is in English but after a switch to Chinese
                        lang_after = other if control.key == "lang" else "en"
                        mine.append(choose(page, control, other, "en", study))
                        mine.append(choose(page, control, default, lang_after, study))
                times = [t for clicks in by_filter[key].values() for t in clicks]
                print(f"  {key}: p50 {ms(median(times))} p95 {ms(percentile(times, .95))}",
                      flush=True)
            switches = {"first visit": [], "seen before": []}
            for round_name in switches if len(keys) > 1 else ():
                for key in switch_order(keys):
                    link = nav_link(page, key)
                    switches[round_name].append((key, drawn_after(page, link.click)))
            context.close()
    finally:
        server.stop()
    clicks = max(2 * reps * len(changes), 6)
    floor = trivial_clicks(browser, clicks)
    floor_radio = trivial_clicks(browser, clicks, chart_floor_server)
    floor_select = trivial_clicks(browser, clicks, chart_floor_server, "selectbox")
    report.note(f"\nbrowser: filter click to drawn, {2 * reps} clicks per filter "
                f"({len(changes)} filters) per page; {load()}")
    report.note("| page | p50 | p95 | max | p95 of the first click to each value / of the "
                "others | slowest filter (its median) | switch to it (first visit / seen "
                "before) |")
    report.note("|---|---|---|---|---|---|---|")
    first = dict(switches["first visit"])
    again = dict(switches["seen before"])
    drawn = {key: [t for clicks in filters.values() for t in clicks]
             for key, filters in by_filter.items()}
    for key, filters in by_filter.items():
        times = drawn[key]
        # a filter's first click (to its other value: results new to the page, unless another
        # page computed them) apart from its later ones
        firsts = [clicks[0] for clicks in filters.values()]
        others = [t for clicks in filters.values() for t in clicks[1:]]
        medians = {name: median(clicks) for name, clicks in filters.items()}
        slow = max(medians, key=medians.get) if medians else "—"
        report.note(f"| {key} | {ms(median(times))} | {ms(percentile(times, .95))} | "
                    f"{ms(max(times))} | {ms(percentile(firsts, .95))} / "
                    f"{ms(percentile(others, .95))} | {slow} ({ms(medians.get(slow, nan))}) | "
                    f"{ms(first.get(key, nan))} / {ms(again.get(key, nan))} |")
    p95s = {k: percentile(v, .95) for k, v in drawn.items()}
    slowest = max(p95s, key=p95s.get)
    report.add("browser, filter click to every chart drawn, p95 (slowest page; median page)",
               f"{ms(p95s[slowest])} ({slowest}); {ms(median(list(p95s.values())))}",
               f"≤ {ms(TARGET_DRAWN_P95)}",
               f"{ms(percentile(floor, .95))} (p50 {ms(median(floor))}); with a chart and a "
               f"table: radio {ms(percentile(floor_radio, .95))}, select box "
               f"{ms(percentile(floor_select, .95))}",
               p95s[slowest] <= TARGET_DRAWN_P95)
    all_switches = [s for _, s in switches["first visit"] + switches["seen before"]]
    if all_switches:
        report.add("page switch to drawn (median; slowest)",
                   f"{ms(median(all_switches))}; {ms(max(all_switches))}",
                   f"≤ {ms(TARGET_SWITCH)}", "", max(all_switches) <= TARGET_SWITCH)
    if "reconciliation" in first:
        report.add("reconciliation page, switch to drawn (first visit / seen before)",
                   f"{ms(first['reconciliation'])} / {ms(again['reconciliation'])}")


def trivial_clicks(browser, clicks: int, server_factory=None, widget: str = "radio"
                   ) -> list[float]:
    """The floor: a trivial app's sidebar radio (or select box) changed to its other value,
    ``clicks`` times (the trivial app has a radio; the chart floor app both)."""
    server = (server_factory or TrivialServer)().start()
    global DRAWN_TIMEOUT_MS
    timeout, DRAWN_TIMEOUT_MS = DRAWN_TIMEOUT_MS, 20_000
    try:
        context, page = new_page(browser)
        open_drawn(page, server.url + "/")
        sidebar = page.locator('[data-testid="stSidebar"]')
        times = []
        for i in range(clicks):
            if widget == "radio":
                option = sidebar.locator('[data-testid="stRadioOption"]').nth((i + 1) % 2)
            else:
                sidebar.locator('[data-testid="stSelectbox"] [role="combobox"]').click()
                option = page.locator('[role="option"]').nth((i + 1) % 2)
                option.wait_for(timeout=10_000)
            with contextlib.suppress(Exception):  # a floor click not seen drawn is left out
                times.append(drawn_after(page, option.click))
        context.close()
        return times or [nan]
    finally:
        DRAWN_TIMEOUT_MS = timeout
        server.stop()


def home_times(browser, make_server, reps: int) -> tuple[list[float], list[float]]:
    cold, warm = [], []
    for _ in range(reps):
        server = make_server().start()
        try:
            context, page = new_page(browser)
            cold.append(open_drawn(page, server.url + "/"))
            context.close()
            context, page = new_page(browser)
            warm.append(open_drawn(page, server.url + "/"))
            context.close()
        finally:
            server.stop()
    return cold, warm


def section_home(report: Report, browser, reps: int) -> None:
    """Home page after a server start: the app, the trivial app and the trivial app with a
    chart, a table and code (the floor of the home page's kinds of element) in turn."""
    servers = {"app": app_server, "trivial": TrivialServer, "chart floor": chart_floor_server}
    cold: dict[str, list[float]] = {name: [] for name in servers}
    warm: dict[str, list[float]] = {name: [] for name in servers}
    for _ in range(reps):  # interleaved, so all see the same load
        for name, make_server in servers.items():
            c, w = home_times(browser, make_server, 1)
            cold[name] += c
            warm[name] += w
    for label, times in (("cold (first session after start)", cold),
                         ("warm (server up)", warm)):
        app, triv, floor = (median(times[n]) for n in servers)
        ratio = app / triv
        report.add(f"home page complete, {label}, median of {reps}",
                   f"{secs(app)} ({ratio:.2f}× trivial; {app / floor:.2f}× the trivial app "
                   f"with a chart, a table and code: {secs(floor)})",
                   f"≤ {TARGET_HOME_RATIO}× trivial", secs(triv), ratio <= TARGET_HOME_RATIO)
    report.note(f"\nhome page, each run (s), cold / warm; {load()}")
    for name in servers:
        report.note(f"- {name}: {[round(x, 2) for x in cold[name]]} / "
                    f"{[round(x, 2) for x in warm[name]]}")


def export_clicks(browser, warm_reps: int) -> tuple[float, list[float]]:
    """Seconds from "Prepare images" to the PNG download button, on a fresh server."""
    from analytics.i18n import t

    server = app_server("bench-export").start()
    try:
        context, page = new_page(browser)
        open_drawn(page, server.url + "/")
        link = nav_link(page, "disease_activity")
        drawn_after(page, link.click)
        main = page.locator('[data-testid="stMain"]')
        prepare = main.locator("button").filter(has_text=t("export.prepare_images", "en"))
        png = main.locator('[data-testid="stDownloadButton"]').filter(
            has_text=t("export.png", "en"))
        times = []
        for i in range(1 + warm_reps):
            button = prepare.nth(i)
            button.scroll_into_view_if_needed()
            t0 = time.perf_counter()
            button.click()
            png.nth(i).wait_for(timeout=DRAWN_TIMEOUT_MS)
            times.append(time.perf_counter() - t0)
        context.close()
    finally:
        server.stop()
    return times[0], times[1:]


_DECK_SCRIPT = """
import io, json, sys, time
from pptx import Presentation
from analytics import open_study
from analytics.deck import build_deck
out = []
with open_study() as study:
    for _ in range(2):
        t0 = time.perf_counter()
        data = build_deck(study, "en")
        out.append(time.perf_counter() - t0)
print(json.dumps({"times": out, "slides": len(Presentation(io.BytesIO(data)).slides)}))
"""

_PNG_SCRIPT = """
import json, time
import plotly.graph_objects as go
from analytics import export
fig = go.Figure(go.Scatter(x=[1, 2, 3], y=[2, 1, 3]))
out = []
for _ in range(3):
    t0 = time.perf_counter()
    export.figure_png(fig)
    out.append(time.perf_counter() - t0)
print(json.dumps(out))
"""


def python_json(script: str):
    import json
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, timeout=900, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    if done.returncode:
        raise RuntimeError(done.stderr[-2000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def section_export(report: Report, browser) -> None:
    # the disease-activity page's first tab has two charts: the first, then the next
    first, warm = export_clicks(browser, 1)
    report.add("first PNG export on a fresh server (click to download ready; PNG + SVG)",
               secs(first), f"≤ {secs(TARGET_FIRST_PNG)}", "", first <= TARGET_FIRST_PNG)
    report.add("warm PNG export (the next chart)", secs(median(warm)))
    png = python_json(_PNG_SCRIPT)
    report.note(f"\nPNG in a fresh Python process (Chromium started by the first): "
                f"{[round(x, 2) for x in png]} s")
    deck = python_json(_DECK_SCRIPT)
    cold, again = deck["times"]
    report.add(f"slide deck of every page ({deck['slides']} slides), fresh process, cold",
               secs(cold), f"≤ {secs(TARGET_DECK_COLD)}", "", cold <= TARGET_DECK_COLD)
    report.add("the same deck again in that process (warm)", secs(again))


# -- memory ----------------------------------------------------------------------------------------
def rss_mb(pid: int, field: str = "VmRSS:", source: str = "status") -> float:
    for line in Path(f"/proc/{pid}/{source}").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1]) / 1024
    return 0.0


def pss_mb(pid: int) -> float:
    """Proportional set size: shared pages divided among the processes sharing them, so a
    sum over processes (Chromium's) does not count them again and again."""
    return rss_mb(pid, "Pss:", "smaps_rollup")


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(stat.parent.name))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def server_rss(server) -> tuple[float, float]:
    """RSS of the server's Python process, and the PSS of it with all its descendants (MB)."""
    pid = server.proc.pid
    total = pss_mb(pid)
    for child in descendants(pid):
        with contextlib.suppress(OSError):
            total += pss_mb(child)
    return rss_mb(pid), total


def sessions_rss(browser, make_server, sessions: int) -> tuple[float, float, float]:
    from analytics.views import VIEWS
    keys = list(VIEWS)
    server = make_server().start()
    contexts = []
    try:
        idle = server_rss(server)[0]
        for i in range(sessions):
            context, page = new_page(browser)
            contexts.append(context)
            open_drawn(page, view_url(server, keys[i % len(keys)]))
        main, total = server_rss(server)
    finally:
        for context in contexts:
            context.close()
        server.stop()
    return idle, main, total


def section_memory(report: Report, browser, sessions: int) -> None:
    idle, main, total = sessions_rss(browser, app_server, sessions)
    _, triv, _ = sessions_rss(browser, TrivialServer, sessions)
    report.add(f"server RSS with {sessions} sessions open (Python process; PSS with children)",
               f"{main:.0f} MB; {total:.0f} MB", f"≤ {TARGET_RSS_MB} MB", f"{triv:.0f} MB",
               main <= TARGET_RSS_MB)
    report.note(f"\nserver RSS after start, before any session: {idle:.0f} MB")


# -- the run ---------------------------------------------------------------------------------------
def write(report: Report, header: str, out: Path) -> str:
    lines = [header, "", "| what | measured | target | trivial floor |", "|---|---|---|---|"]
    for r in report.rows:
        mark = "" if r.ok is None else (" ✓" if r.ok else " ✗")
        lines.append(f"| {r.what} | {r.measured}{mark} | {r.target} | {r.floor} |")
    text = "\n".join(lines + [""] + report.details) + "\n"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default=",".join(SECTIONS),
                        help=f"comma-separated sections of {', '.join(SECTIONS)}")
    parser.add_argument("--reps", type=int, default=7, help="AppTest runs per page and filter")
    # 3: 54 clicks per page, so that the p95 (nearest rank) is not simply the slowest click
    parser.add_argument("--browser-reps", type=int, default=3,
                        help="click pairs (to another value and back) per page and filter")
    parser.add_argument("--home-reps", type=int, default=3)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--no-big", action="store_true", help="skip the 100x cohort")
    parser.add_argument("--big-seed", type=int, default=BIG_SEED)
    parser.add_argument("--quick", action="store_true",
                        help="one repetition of everything, no 100x cohort (a smoke run)")
    parser.add_argument("--pages", default="",
                        help="comma-separated view keys (default: every page)")
    parser.add_argument("--tag", default="", help="suffix of the results file name")
    parser.add_argument("--out", type=Path, help="results file (default benchmarks/results/)")
    args = parser.parse_args(argv)
    if args.quick:
        args.reps = args.browser_reps = args.home_reps = 1
        args.sessions = min(args.sessions, 3)
        args.no_big = True
    sections = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section(s) {', '.join(sorted(unknown))}")

    from analytics import open_study
    from analytics.views import VIEWS
    pages = [p.strip() for p in args.pages.split(",") if p.strip()] or list(VIEWS)
    if set(pages) - set(VIEWS):
        parser.error(f"unknown page(s) {', '.join(sorted(set(pages) - set(VIEWS)))}")
    open_study().close()  # builds the default study file when missing
    now = dt.datetime.now(dt.timezone.utc)
    revision = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True).stdout.strip()
    header = (f"# Benchmarks {now:%Y-%m-%d %H:%M} UTC\n\n{machine()}; {load()} at the start; "
              f"commit {revision or '?'}")
    print(header, flush=True)
    report = Report()
    failed: list[str] = []

    def run(name: str, section, *section_args) -> None:
        # a section that fails is said so in the results; the others' rows are kept
        try:
            section(report, *section_args)
        except Exception as exc:  # noqa: BLE001 - reported, and the run exits non-zero
            traceback.print_exc()
            report.note(f"\n{name}: failed ({type(exc).__name__}: {exc}); its rows are missing")
            failed.append(name)

    with tempfile.TemporaryDirectory() as tmp:
        big = None
        if "server" in sections and not args.no_big:
            big, synth_s, import_s = build_big_cohort(Path(tmp), args.big_seed)
            report.note(f"100x cohort: synth --seed {args.big_seed} --subjects 11000 "
                        f"{synth_s:.0f} s, import {import_s:.1f} s")
        if "server" in sections:
            run("server", section_server, args.reps, big, pages)
        browser_sections = [s for s in sections if s != "server"]
        if browser_sections:
            from browser_support import launch_chromium
            browser = launch_chromium()
            try:
                if "browser" in sections:
                    run("browser", section_browser, browser, args.browser_reps, pages)
                if "home" in sections:
                    run("home", section_home, browser, args.home_reps)
                if "export" in sections:
                    run("export", section_export, browser)
                if "memory" in sections:
                    run("memory", section_memory, browser, args.sessions)
            finally:
                browser.close()
    report.note(f"\n{load()} at the end")
    name = f"{now:%Y-%m-%d}{'-' + args.tag if args.tag else ''}.md"
    text = write(report, header, args.out or RESULTS / name)
    print("\n" + text)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
