"""Files to take away: figures as PNG and SVG, tables as CSV and XLSX.

Static figures are rendered by kaleido 1.x in Debian's Chromium (``/usr/bin/chromium``; kaleido
never downloads a browser here). Starting a browser takes seconds, so one browser is started on
the first export and kept for the life of the process (its own thread and event loop, shared by
every caller; kaleido's tab queue serialises the renders). MathJax is disabled and plotly.js comes
from the installed plotly package, so no network is used.

Every file states the whole view it comes from (:mod:`analytics.provenance`): figures carry
their caption (population, comparison, subgroups, time point or window, N per arm, study file
and build date, method, footnote and, on the synthetic cohort, the synthetic-data notice) inside
the plot, drawn by :func:`analytics.charts.theme.finish`; CSV and XLSX tables start with the same
facts as label/value header rows, then an empty row, then the table.
"""
from __future__ import annotations

import asyncio
import atexit
import csv
import io
import json
import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pandas as pd

from .provenance import header_rows

CHROMIUM_PATH = Path("/usr/bin/chromium")
DEFAULT_WIDTH = 1000   # px, when the figure's layout does not say
DEFAULT_HEIGHT = 480
RENDER_TIMEOUT = 90    # s per figure
START_TIMEOUT = 150    # s to start Chromium (slow on a loaded machine)
# On top of choreographer's own: the export browser talks to nobody. Chromium otherwise looks up
# update.googleapis.com, optimizationguide-pa.googleapis.com, clients2.google.com and probes the
# default search engine at start; the host-resolver rule makes every host name unresolvable
# (the exports load only local files).
EXTRA_CHROMIUM_FLAGS = (
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
    "--disable-search-engine-choice-screen",
    "--no-default-browser-check",
    "--no-pings",
    "--no-proxy-server",
    "--dns-prefetch-disable",
    "--disable-features=OptimizationHints,OptimizationGuideModelDownloading,MediaRouter,"
    "DialMediaRouteProvider,Translate,NetworkTimeServiceQuerying,AutofillServerCommunication,"
    "CertificateTransparencyComponentUpdater,InterestFeedContentSuggestions,SafeBrowsing,"
    # memory (issue 13: the server with its export browser within 500 MB): no spare renderer
    # process kept ready for the next tab
    "SpareRendererForSitePerProcess",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    # memory, too: the compositor's GPU thread (software: --disable-gpu) and the network service
    # (it reads the local page only) inside the browser process instead of processes of their
    # own. The PNGs are byte-identical to those rendered without these flags (compared by hand,
    # Chromium 156). Kaleido's two tabs keep a renderer process each: sharing one
    # (--process-per-site) saved about 50 MB but drew PNG and SVG, and a deck's figures, one
    # after the other (1.6x slower), and once timed out on the loaded machine.
    "--in-process-gpu",
    "--enable-features=NetworkServiceInProcess2",
)
# Chromium's network service probes IPv6 routing (a UDP connect() to 2001:4860:4860::8888) before
# the first host name it resolves, whatever the host-resolver rule then answers. The only lookups
# left after the flags above are the spell-check dictionary download (off in the profile's
# preferences) and the on-demand update of the Optimization Guide model manifest (given an empty
# local manifest instead, --optimization-guide-manifest-override); with neither, nothing is
# resolved and the probe never runs. Found with Chromium 156's net-log (--log-net-log).
QUIET_PROFILE_PREFERENCES = {"browser": {"enable_spellchecking": False}}
NO_MODEL_MANIFEST_DIR = "no-model-manifest"


class ExportUnavailable(RuntimeError):
    """Static figure export cannot run here (no Chromium at :data:`CHROMIUM_PATH`)."""


def chromium_available() -> bool:
    return CHROMIUM_PATH.is_file() and os.access(CHROMIUM_PATH, os.X_OK)


def _browser_cls():
    """Choreographer's Chromium with a few more flags. Its defaults already include
    --no-sandbox, --disable-gpu, --headless, --no-first-run and --disable-component-update."""
    from choreographer.browsers.chromium import Chromium

    class DebianChromium(Chromium):
        def pre_open(self):
            super().pre_open()  # makes the browser's own temporary profile folder
            profile = Path(self.tmp_dir.path)
            (profile / "Default").mkdir(parents=True, exist_ok=True)
            (profile / "Default" / "Preferences").write_text(
                json.dumps(QUIET_PROFILE_PREFERENCES), encoding="utf-8")
            (profile / NO_MODEL_MANIFEST_DIR).mkdir(exist_ok=True)

        def get_cli(self):
            cli = list(super().get_cli())
            cli += [f for f in EXTRA_CHROMIUM_FLAGS if f not in cli]
            cli.append("--optimization-guide-manifest-override="
                       f"{Path(self.tmp_dir.path) / NO_MODEL_MANIFEST_DIR}")
            cli.append("about:blank")  # the first tab, else the new-tab page of the search engine
            for flag in ("--no-sandbox", "--disable-gpu", "--no-first-run",
                         "--disable-component-update"):
                if flag not in cli:
                    cli.append(flag)
            return cli

    return DebianChromium


class _Renderer:
    """One kaleido browser on a background event loop, reused for every render."""

    def __init__(self):
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._kaleido = None

    def _start(self) -> None:
        if not chromium_available():
            raise ExportUnavailable(f"Chromium not found at {CHROMIUM_PATH}")
        os.environ["BROWSER_PATH"] = str(CHROMIUM_PATH)  # choreographer's own lookup, too
        import kaleido

        loop = asyncio.new_event_loop()
        threading.Thread(target=loop.run_forever, name="kaleido-loop", daemon=True).start()

        async def open_browser():
            k = kaleido.Kaleido(path=str(CHROMIUM_PATH), browser_cls=_browser_cls(),
                                mathjax=False, timeout=RENDER_TIMEOUT, n=2)
            await k.open()
            return k

        try:
            self._kaleido = asyncio.run_coroutine_threadsafe(open_browser(), loop).result(
                START_TIMEOUT)
        except BaseException:
            loop.call_soon_threadsafe(loop.stop)
            raise
        self._loop = loop

    def _ensure(self):
        with self._lock:
            if self._kaleido is None:
                self._start()
            return self._kaleido, self._loop

    def render_many(self, specs: list[tuple[dict, dict]]) -> list[bytes]:
        """Render ``(figure dict, kaleido opts)`` pairs concurrently; bytes in the same order."""
        k, loop = self._ensure()

        async def run():
            return await asyncio.gather(*(k.calc_fig(fig, opts=opts) for fig, opts in specs))

        try:
            return list(asyncio.run_coroutine_threadsafe(run(), loop)
                        .result(RENDER_TIMEOUT * max(1, len(specs))))
        except BaseException:
            self.close()  # a broken browser is not reused; the next call starts a new one
            raise

    def close(self, timeout: float = 20, wait_for_start: bool = True) -> None:
        # at exit, a browser still starting (the lock held) is left to the end of the process:
        # a server told to stop just after its start must not wait for it
        if not self._lock.acquire(blocking=wait_for_start):
            return
        try:
            k, loop, self._kaleido, self._loop = self._kaleido, self._loop, None, None
        finally:
            self._lock.release()
        if k is None or loop is None:
            return
        try:
            asyncio.run_coroutine_threadsafe(k.close(), loop).result(timeout)
        except BaseException:  # noqa: BLE001 - closing best effort
            pass
        loop.call_soon_threadsafe(loop.stop)


_renderer = _Renderer()
atexit.register(_renderer.close, timeout=3, wait_for_start=False)


def prestart(wait: bool = False) -> None:
    """Start the shared browser in the background, off the caller's path: the server calls it
    at start-up (so a reader's first export does not wait seconds for Chromium), a deck while its
    analyses run. Errors surface on the next render instead. ``wait``: in the calling thread,
    returning when the browser is up (or has failed to start)."""
    if _renderer._kaleido is not None or not chromium_available():
        return

    def start():
        try:
            _renderer._ensure()
        except BaseException:  # noqa: BLE001 - the next render reports it
            pass

    if wait:
        start()
    else:
        threading.Thread(target=start, name="kaleido-prestart", daemon=True).start()


def close_renderer() -> None:
    """Stop the shared browser (it restarts on the next export)."""
    _renderer.close()


def figure_size(fig) -> tuple[int, int]:
    """The figure's size in CSS pixels as exported (layout width/height, else the defaults)."""
    layout = fig.get("layout", {}) if isinstance(fig, dict) else fig.layout.to_plotly_json()
    return int(layout.get("width") or DEFAULT_WIDTH), int(layout.get("height") or DEFAULT_HEIGHT)


def _spec(fig, fmt: str, scale: float) -> tuple[dict, dict]:
    """``fig``: a plotly Figure, or its dict (as :func:`analytics.deck.slide_figure` makes)."""
    width, height = figure_size(fig)
    spec = fig if isinstance(fig, dict) else fig.to_dict()
    return spec, {"format": fmt, "width": width, "height": height, "scale": scale}


def figures_png(figs: list, scale: float = 2) -> list[bytes]:
    """Several figures as PNG at ``scale`` × their size, rendered in one go."""
    if not figs:
        return []
    return _renderer.render_many([_spec(f, "png", scale) for f in figs])


# Renders handed over by submit_png wait here (for the browser to start, then for their image),
# so the caller goes on at once; the browser's two tabs draw two figures at a time.
_submitted = ThreadPoolExecutor(max_workers=4, thread_name_prefix="export-submit")


def submit_png(fig, scale: float = 2) -> Future:
    """Start rendering the figure as PNG and return at once, so the browser draws it while the
    caller goes on (a deck: the next views' analyses); the future's result is the bytes."""
    spec = _spec(fig, "png", scale)
    return _submitted.submit(lambda: _renderer.render_many([spec])[0])


def figure_png(fig, scale: float = 2) -> bytes:
    """The figure as PNG at ``scale`` × its layout size (2× by default, for slides and print)."""
    return figures_png([fig], scale)[0]


def _svg_bytes(out) -> bytes:
    return out.encode("utf-8") if isinstance(out, str) else out


def figure_svg(fig) -> bytes:
    """The figure as SVG (vector; text stays text, so Chinese stays searchable)."""
    return _svg_bytes(_renderer.render_many([_spec(fig, "svg", 1)])[0])


def figure_png_svg(fig, scale: float = 2) -> tuple[bytes, bytes]:
    """The figure as PNG (``scale`` ×) and as SVG, drawn side by side on the browser's tabs."""
    png, svg = _renderer.render_many([_spec(fig, "png", scale), _spec(fig, "svg", 1)])
    return png, _svg_bytes(svg)


# -- tables -------------------------------------------------------------------------------------
def table_csv(df: pd.DataFrame, display: pd.DataFrame | None = None) -> bytes:
    """The shown table as CSV, UTF-8 with a byte-order mark so Excel opens Chinese correctly.

    The first rows state the view (label, value: title, population, comparison, subgroups, time
    point or window, N per arm, study file, method, footnote, data); an empty row follows, then
    the table with its header. ``pd.read_csv(f, skiprows=csv_table_start(f))`` reads the table.
    """
    out = display if display is not None else df
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerows(header_rows(df.attrs))
    writer.writerow([])
    buf.write(out.to_csv(index=False))
    return buf.getvalue().encode("utf-8-sig")


def csv_table_start(data: bytes) -> int:
    """The number of lines before the table's header row in :func:`table_csv`'s output."""
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    return rows.index([]) + 1


def table_xlsx(df: pd.DataFrame, display: pd.DataFrame | None = None) -> bytes:
    """The shown table on a sheet: its title in A1, the view's facts (label, value) below it,
    an empty row, then the table."""
    out = display if display is not None else df
    rows = header_rows(df.attrs)
    start = len(rows) + 1
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="xlsxwriter") as writer:
        out.to_excel(writer, sheet_name="table", index=False, startrow=start)
        book, sheet = writer.book, writer.sheets["table"]
        sheet.write(0, 0, df.attrs.get("title", ""), book.add_format({"bold": True,
                                                                       "font_size": 13}))
        label = book.add_format({"bold": True, "valign": "top"})
        value = book.add_format({"italic": True, "valign": "top"})
        for i, (name, text) in enumerate(rows[1:], start=1):  # rows[0] is the title, in A1
            sheet.write(i, 0, name, label)
            sheet.write(i, 1, text, value)
        widths = [min(60, max(10, len(str(c)) + 2,
                              *(len(str(v)) + 2 for v in out[c].head(200).tolist())))
                  for c in out.columns] or [10]
        for i, w in enumerate(widths):
            sheet.set_column(i, i, w)
    return buf.getvalue()
