"""Files to take away: figures as PNG and SVG, tables as CSV and XLSX.

Static figures are rendered by kaleido 1.x in Debian's Chromium (``/usr/bin/chromium``; kaleido
never downloads a browser here). Starting a browser takes seconds, so one browser is started on
the first export and kept for the life of the process (its own thread and event loop, shared by
every caller; kaleido's tab queue serialises the renders). MathJax is disabled and plotly.js comes
from the installed plotly package, so no network is used.

Figures carry their caption (population, N, method, footnote and, on the synthetic cohort, the
synthetic-data notice) inside the plot: :func:`analytics.charts.theme.finish` draws it. Tables
get their title above and the same caption below on the sheet.
"""
from __future__ import annotations

import asyncio
import atexit
import io
import os
import threading
from pathlib import Path

import pandas as pd

from .annotate import caption

CHROMIUM_PATH = Path("/usr/bin/chromium")
DEFAULT_WIDTH = 1000   # px, when the figure's layout does not say
DEFAULT_HEIGHT = 480
RENDER_TIMEOUT = 90    # s per figure
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
    "CertificateTransparencyComponentUpdater,InterestFeedContentSuggestions,SafeBrowsing",
    "--host-resolver-rules=MAP * ~NOTFOUND",
)


class ExportUnavailable(RuntimeError):
    """Static figure export cannot run here (no Chromium at :data:`CHROMIUM_PATH`)."""


def chromium_available() -> bool:
    return CHROMIUM_PATH.is_file() and os.access(CHROMIUM_PATH, os.X_OK)


def _browser_cls():
    """Choreographer's Chromium with a few more flags. Its defaults already include
    --no-sandbox, --disable-gpu, --headless, --no-first-run and --disable-component-update."""
    from choreographer.browsers.chromium import Chromium

    class DebianChromium(Chromium):
        def get_cli(self):
            cli = list(super().get_cli())
            cli += [f for f in EXTRA_CHROMIUM_FLAGS if f not in cli]
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
            self._kaleido = asyncio.run_coroutine_threadsafe(open_browser(), loop).result(60)
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

    def close(self) -> None:
        with self._lock:
            k, loop, self._kaleido, self._loop = self._kaleido, self._loop, None, None
        if k is None or loop is None:
            return
        try:
            asyncio.run_coroutine_threadsafe(k.close(), loop).result(20)
        except BaseException:  # noqa: BLE001 - closing best effort
            pass
        loop.call_soon_threadsafe(loop.stop)


_renderer = _Renderer()
atexit.register(_renderer.close)


def prestart() -> None:
    """Start the shared browser in the background (e.g. while a deck's analyses run); errors
    surface on the next render instead."""
    if _renderer._kaleido is not None or not chromium_available():
        return

    def start():
        try:
            _renderer._ensure()
        except BaseException:  # noqa: BLE001 - the next render reports it
            pass

    threading.Thread(target=start, name="kaleido-prestart", daemon=True).start()


def close_renderer() -> None:
    """Stop the shared browser (it restarts on the next export)."""
    _renderer.close()


def figure_size(fig) -> tuple[int, int]:
    """The figure's size in CSS pixels as exported (layout width/height, else the defaults)."""
    layout = fig.layout
    return int(layout.width or DEFAULT_WIDTH), int(layout.height or DEFAULT_HEIGHT)


def _spec(fig, fmt: str, scale: float) -> tuple[dict, dict]:
    width, height = figure_size(fig)
    return fig.to_dict(), {"format": fmt, "width": width, "height": height, "scale": scale}


def figures_png(figs: list, scale: float = 2) -> list[bytes]:
    """Several figures as PNG at ``scale`` × their size, rendered in one go."""
    if not figs:
        return []
    return _renderer.render_many([_spec(f, "png", scale) for f in figs])


def figure_png(fig, scale: float = 2) -> bytes:
    """The figure as PNG at ``scale`` × its layout size (2× by default, for slides and print)."""
    return figures_png([fig], scale)[0]


def figure_svg(fig) -> bytes:
    """The figure as SVG (vector; text stays text, so Chinese stays searchable)."""
    out = _renderer.render_many([_spec(fig, "svg", 1)])[0]
    return out.encode("utf-8") if isinstance(out, str) else out


# -- tables -------------------------------------------------------------------------------------
def table_csv(df: pd.DataFrame, display: pd.DataFrame | None = None) -> bytes:
    """The shown table as CSV, UTF-8 with a byte-order mark so Excel opens Chinese correctly."""
    out = display if display is not None else df
    return out.to_csv(index=False).encode("utf-8-sig")


def table_xlsx(df: pd.DataFrame, display: pd.DataFrame | None = None) -> bytes:
    """The shown table on a sheet: its title above, its caption (population, N, method,
    footnote, synthetic-data notice) below."""
    out = display if display is not None else df
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="xlsxwriter") as writer:
        out.to_excel(writer, sheet_name="table", index=False, startrow=2)
        book, sheet = writer.book, writer.sheets["table"]
        sheet.write(0, 0, df.attrs.get("title", ""), book.add_format({"bold": True,
                                                                       "font_size": 13}))
        n_cols = max(1, len(out.columns))
        note_row = len(out) + 4
        wrap = book.add_format({"text_wrap": True, "valign": "top", "italic": True})
        text = caption(df.attrs)
        if n_cols > 1:
            sheet.merge_range(note_row, 0, note_row, n_cols - 1, text, wrap)
        else:
            sheet.write(note_row, 0, text, wrap)
        widths = [min(60, max(10, len(str(c)) + 2,
                              *(len(str(v)) + 2 for v in out[c].head(200).tolist())))
                  for c in out.columns] or [10]
        for i, w in enumerate(widths):
            sheet.set_column(i, i, w)
        sheet.set_row(note_row, 15 * max(1, len(text) // max(20, sum(widths)) + 1))
    return buf.getvalue()
