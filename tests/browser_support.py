"""Helpers for the headless-browser tests (tests/test_browser.py).

One Streamlit server and one Chromium per pytest process (so per xdist worker): the server runs
``streamlit run app.py`` from the project root on a free port; Chromium is Debian's
``/usr/bin/chromium`` driven by Playwright from PyPI (never a downloaded browser).

Outside CI the browser tests skip, saying why, when Chromium or Playwright is missing; with
``CI=true`` they fail instead.
"""
from __future__ import annotations

import atexit
import contextlib
import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
VIEWPORT = {"width": 1400, "height": 900}
FIRST_LOAD_MS = 60_000     # a page's first load (imports, study queries, plotly.js)
RERUN_MS = 60_000          # a rerun after a widget change
DECK_MS = 240_000          # building the PPTX (kaleido renders every figure)
SERVER_START_S = 60
MAX_SHOT_HEIGHT = 16_000   # px; full-page screenshots are cut off below this

# Streamlit's own error output: uncaught exceptions and st.error / st.exception boxes.
ERROR_SELECTORS = (
    '[data-testid="stException"]',
    ".stException",
    '[data-testid="stAlertContentError"]',
)


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


def worker_id() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def unavailable_reason() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        return (f"Debian's Chromium not found at {CHROMIUM} "
                "(install it with `make system-deps` or apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as exc:  # pragma: no cover - the test extra installs it
        return f"playwright is not installed ({exc}); pip install -e '.[test]'"
    return None


def skip_module_without_browser() -> str | None:
    """What keeps a browser test module from running (None when nothing does). Outside CI the
    calling module is skipped with it, at import; under CI (``CI=true``) it is returned, and each
    test fails with it (:func:`skip_or_fail`)."""
    reason = unavailable_reason()
    if reason and not in_ci():
        pytest.skip(reason, allow_module_level=True)
    return reason


def skip_or_fail(reason: str) -> None:
    """Skip outside CI; in CI (CI=true) a missing prerequisite is a failure."""
    if in_ci():
        pytest.fail(f"browser tests must run in CI but cannot: {reason}", pytrace=False)
    pytest.skip(reason)


_PLAYWRIGHT = None


def shared_playwright():
    """One Playwright driver per process, started on first use: the sync API refuses to start a
    second driver while one runs, and test modules of one pytest-xdist worker share a process."""
    global _PLAYWRIGHT
    if _PLAYWRIGHT is None:
        from playwright.sync_api import sync_playwright
        _PLAYWRIGHT = sync_playwright().start()
        atexit.register(_stop_playwright)
    return _PLAYWRIGHT


def _stop_playwright() -> None:
    global _PLAYWRIGHT
    if _PLAYWRIGHT is not None:
        try:
            _PLAYWRIGHT.stop()
        except Exception:  # noqa: BLE001 - the process is ending anyway
            pass
        _PLAYWRIGHT = None


def launch_chromium():
    """Debian's headless Chromium, on the process's Playwright driver."""
    return shared_playwright().chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                               args=LAUNCH_ARGS)


@contextlib.contextmanager
def chromium_context(**options):
    """A context of Debian's headless Chromium (a fresh browser, closed afterwards)."""
    browser = launch_chromium()
    try:
        yield browser.new_context(viewport=VIEWPORT, **options)
    finally:
        browser.close()


# -- the Streamlit server ------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Linux: the server gets SIGTERM when the pytest process that started it dies (e.g. an
    xdist worker that crashed before its fixtures could tear down)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class StreamlitServer:
    """The dashboard's launcher (``python -m dashboard.launcher``, as ``make run``) on a free
    local port, in its own process group; ``env`` adds environment variables (e.g. MSC_RA_STUDY),
    ``prefix`` runs it under another command (e.g. ``unshare -n strace …``)."""

    def __init__(self, env: dict | None = None, prefix: list[str] | None = None,
                 name: str = "streamlit") -> None:
        self.extra_env = dict(env or {})
        self.prefix = list(prefix or [])
        self.port = 0
        self.proc: subprocess.Popen | None = None
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.log_path = ARTIFACTS / f"{name}-{worker_id()}.log"
        self._log = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "StreamlitServer":
        last_error = ""
        for _attempt in range(3):  # a free port can be taken before the server binds it
            self.port = free_port()
            self._log = open(self.log_path, "w", encoding="utf-8")
            env = dict(os.environ, PYTHONUNBUFFERED="1", **self.extra_env)
            self.proc = subprocess.Popen(
                [*self.prefix, *self.command()],
                cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
                preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None)
            last_error = self._wait_healthy()
            if not last_error:
                atexit.register(self.stop)
                return self
            self.stop()
        raise RuntimeError(f"streamlit did not start: {last_error}\n{self.log_tail()}")

    def command(self) -> list[str]:
        """The server's command line (the launcher on :attr:`port`)."""
        return [sys.executable, "-m", "dashboard.launcher", "--port", str(self.port),
                "--address", "127.0.0.1"]

    def _wait_healthy(self) -> str:
        deadline = time.monotonic() + SERVER_START_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return f"exited with code {self.proc.returncode}"
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as r:
                    if r.status == 200 and r.read().strip() == b"ok":
                        return ""
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                pass
            time.sleep(0.25)
        return f"no /_stcore/health answer within {SERVER_START_S} s"

    def log_tail(self, n: int = 60) -> str:
        try:
            lines = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(lines[-n:])

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            # The server's own process group (start_new_session): streamlit and anything it
            # started, e.g. kaleido's Chromium for static exports.
            for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
                try:
                    os.killpg(proc.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    proc.wait(timeout=wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
        if self._log is not None:
            self._log.close()
            self._log = None


# -- waiting for Streamlit -----------------------------------------------------------------------
_IDLE_JS = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    const idle = !!app
        && app.getAttribute('data-test-connection-state') === 'CONNECTED'
        && app.getAttribute('data-test-script-state') === 'notRunning'
        && !document.querySelector('[data-testid="stStatusWidget"]')
        && !document.querySelector('[data-stale="true"]')
        // elements whose component is still loading (plotly.js, the data grid) show a skeleton
        && !document.querySelector('[data-testid="stSkeleton"]')
        && !!document.querySelector('[data-testid="stMain"] [data-testid="stMarkdownContainer"]');
    window.__stIdle = idle ? (window.__stIdle || 0) + 1 : 0;
    return window.__stIdle >= 3;
}"""

# Notes any run of the script from now on (set before an action that triggers a rerun).
_WATCH_RUN_JS = """() => {
    window.__stSawRun = false;
    const app = document.querySelector('[data-testid="stApp"]');
    if (window.__stRunObserver) window.__stRunObserver.disconnect();
    window.__stRunObserver = new MutationObserver(() => {
        if (app.getAttribute('data-test-script-state') === 'running') window.__stSawRun = true;
    });
    window.__stRunObserver.observe(app, {attributes: true,
                                         attributeFilter: ['data-test-script-state']});
}"""

_CHARTS_READY_JS = """() => {
    const charts = Array.from(document.querySelectorAll('[data-testid="stPlotlyChart"]'));
    return charts.every(c => c.querySelector('.js-plotly-plot .main-svg'));
}"""


def wait_idle(page, timeout_ms: int = FIRST_LOAD_MS) -> None:
    """Until Streamlit has finished running the script (stable for three polls), and every
    plotly chart has drawn its SVG."""
    page.evaluate("() => { window.__stIdle = 0; }")
    page.wait_for_function(_IDLE_JS, timeout=timeout_ms, polling=250)
    page.wait_for_function(_CHARTS_READY_JS, timeout=30_000, polling=250)


def rerun(page, action, timeout_ms: int = RERUN_MS) -> None:
    """Do ``action`` (a widget change) and wait for the rerun it triggers to finish."""
    page.evaluate(_WATCH_RUN_JS)
    action()
    try:  # a quick rerun can start and end between two polls; then go on
        page.wait_for_function("() => window.__stSawRun === true", timeout=5_000, polling=50)
    except Exception:  # noqa: BLE001 - playwright TimeoutError
        pass
    wait_idle(page, timeout_ms)


def open_page(page, url: str, timeout_ms: int = FIRST_LOAD_MS) -> None:
    page.goto(url, wait_until="domcontentloaded", timeout=timeout_ms)
    wait_idle(page, timeout_ms)


# -- checks ----------------------------------------------------------------------------------------
def error_texts(page) -> list[str]:
    """Text of every Streamlit error shown (exceptions, st.error), and of any open modal
    dialog such as "Page not found" or "Connection error"."""
    found = []
    for sel in ERROR_SELECTORS:
        for el in page.locator(sel).all():
            found.append(f"{sel}: {el.inner_text()[:800]}")
    for dialog in page.locator('[role="dialog"], [data-testid="stDialog"]').all():
        if dialog.is_visible():
            found.append(f"dialog: {dialog.inner_text()[:300]}")
    return found


_CHARTS_JS = """() => Array.from(document.querySelectorAll('[data-testid="stPlotlyChart"]'))
  .map((el, i) => {
    const gd = el.querySelector('.js-plotly-plot');
    if (!gd) return {index: i, plot: false};
    const all = s => Array.from(gd.querySelectorAll(s));
    const drawnPath = p => { const d = p.getAttribute('d') || '';
                             return d.length > 4 && d !== 'M0,0Z'; };
    const text = s => all(s).map(e => e.textContent.trim()).filter(Boolean);
    const box = gd.getBoundingClientRect();
    return {
      index: i,
      key: (el.closest('[class*="st-key-"]') || {className: ''}).className
             .toString().split(' ').filter(c => c.startsWith('st-key-')).join(' '),
      plot: true,
      main_svg: gd.querySelectorAll('.main-svg').length,
      width: Math.round(box.width), height: Math.round(box.height),
      traces_in_data: (gd.data || []).length,
      scatter_traces: all('.scatterlayer .trace').length,
      bar_traces: all('.barlayer .trace').length,
      lines: all('.scatterlayer path.js-line').filter(drawnPath).length,
      fills: all('.scatterlayer path.js-fill').filter(drawnPath).length,
      points: all('.scatterlayer .points path').length,
      bars: all('.barlayer .point path').filter(drawnPath).length,
      sankey_nodes: all('.sankey .sankey-node').length,
      sankey_links: all('.sankey .sankey-link').filter(drawnPath).length,
      heatmaps: all('.heatmaplayer .hm image, .heatmaplayer image').length,
      pie_slices: all('.pielayer .slice').length,
      shapes: all('.shapelayer path').filter(drawnPath).length,
      annotations: all('.annotation').length,
      title: text('.gtitle').join(' | '),
      axis_titles: text('.xtitle, .ytitle, [class^="xtitle"], [class^="ytitle"]'),
      legend_items: text('.legend .legendtext'),
    };
  })"""


_TEXT_OUTSIDE_JS = """() => Array.from(document.querySelectorAll('[data-testid="stPlotlyChart"]'))
  .map((el, i) => {
    const gd = el.querySelector('.js-plotly-plot');
    const svg = gd && gd.querySelector('.main-svg');
    if (!svg) return {index: i, outside: [], overlaps: []};
    const frame = svg.getBoundingClientRect();
    const sel = '.annotation-text, .gtitle, .xtitle, .ytitle, .legendtext, .legendtitletext, '
              + '.xtick text, .ytick text, .g-xtitle text, .g-ytitle text, .node-label';
    const texts = Array.from(gd.querySelectorAll(sel))
      .filter(e => e.textContent.trim() && e.getClientRects().length);
    const outside = [];
    for (const e of texts) {
      const r = e.getBoundingClientRect();
      const over = Math.max(frame.left - r.left, r.right - frame.right,
                            frame.top - r.top, r.bottom - frame.bottom);
      if (over > 2) outside.push({text: e.textContent.trim().slice(0, 80),
                                  px: Math.round(over)});
    }
    // Titles drawn over other text (chart title vs legend title / annotations).
    const overlaps = [];
    const heads = Array.from(gd.querySelectorAll('.gtitle, .legendtitletext'))
      .filter(e => e.textContent.trim());
    const others = Array.from(gd.querySelectorAll('.gtitle, .legendtitletext, .annotation-text, .legendtext'))
      .filter(e => e.textContent.trim());
    for (const a of heads) for (const b of others) {
      if (a === b || a.contains(b) || b.contains(a)) continue;
      const p = a.getBoundingClientRect(), q = b.getBoundingClientRect();
      const w = Math.min(p.right, q.right) - Math.max(p.left, q.left);
      const h = Math.min(p.bottom, q.bottom) - Math.max(p.top, q.top);
      if (w > 4 && h > 4) overlaps.push([a.textContent.trim().slice(0, 60),
                                         b.textContent.trim().slice(0, 60)]);
    }
    return {index: i, outside, overlaps};
  })"""


def chart_reports(page) -> list[dict]:
    reports = page.evaluate(_CHARTS_JS)
    layout = {r["index"]: r for r in page.evaluate(_TEXT_OUTSIDE_JS)}
    for r in reports:
        extra = layout.get(r["index"], {})
        r["text_outside"] = extra.get("outside", [])
        r["text_overlaps"] = extra.get("overlaps", [])
    return reports


def layout_problems(reports: list[dict]) -> list[str]:
    """Chart text that runs past the figure's edge (so is cut off) or is drawn over a title."""
    problems = []
    for c in reports:
        name = f"chart {c['index']} {c.get('key', '')} ({c.get('title', '')[:50]!r})"
        for item in c.get("text_outside", []):
            problems.append(f"{name}: text cut off by {item['px']} px: {item['text']!r}")
        for a, b in c.get("text_overlaps", []):
            problems.append(f"{name}: {a!r} drawn over {b!r}")
    return problems


def drawn_marks(c: dict) -> int:
    return (c.get("lines", 0) + c.get("fills", 0) + c.get("points", 0) + c.get("bars", 0)
            + c.get("sankey_nodes", 0) + c.get("sankey_links", 0) + c.get("heatmaps", 0)
            + c.get("pie_slices", 0))


def chart_problems(reports: list[dict]) -> list[str]:
    """Charts without drawn data. A figure without traces counts when it is drawn with shapes
    and annotations (the CONSORT flow)."""
    problems = []
    for c in reports:
        name = f"chart {c['index']} {c.get('key', '')}".strip()
        if not c.get("plot"):
            problems.append(f"{name}: no .js-plotly-plot")
        elif not c.get("main_svg"):
            problems.append(f"{name}: no .main-svg")
        elif c["width"] < 50 or c["height"] < 50:
            problems.append(f"{name}: drawn {c['width']}x{c['height']} px")
        elif c["traces_in_data"] > 0 and drawn_marks(c) == 0:
            problems.append(f"{name}: {c['traces_in_data']} traces but no marks drawn {c}")
        elif c["traces_in_data"] == 0 and not (c["shapes"] and c["annotations"]):
            problems.append(f"{name}: no traces and no shapes/annotations {c}")
    return problems


# -- screenshots -------------------------------------------------------------------------------
def full_page_screenshot(page, path: Path) -> Path:
    """The whole page. Streamlit scrolls inside its main element, not the document, so the
    viewport is made as tall as the content first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    height = page.evaluate("""() => {
        const h = s => { const e = document.querySelector(s); return e ? e.scrollHeight : 0; };
        return Math.max(h('[data-testid="stMain"]'), h('[data-testid="stSidebarContent"]'),
                        window.innerHeight);
    }""")
    size = page.viewport_size or VIEWPORT
    page.set_viewport_size({"width": size["width"], "height": min(int(height) + 20,
                                                                  MAX_SHOT_HEIGHT)})
    page.wait_for_timeout(600)  # layout, lazy dataframe canvases
    page.wait_for_function(_CHARTS_READY_JS, timeout=10_000)
    page.screenshot(path=str(path), full_page=True, animations="disabled")
    page.set_viewport_size(size)
    return path


def write_json(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
