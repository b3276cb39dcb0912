"""Start the dashboard server with every option set here, wherever it is started from.

``msc-ra-dashboard`` (console script) and ``make run`` use it. It listens on 127.0.0.1 unless
told otherwise (``--address`` or ``MSC_RA_ADDRESS``; port: ``--port`` or ``MSC_RA_PORT``): put a
reverse proxy with TLS in front for other machines (README, "Deployment"). The options do not
depend on a ``.streamlit/config.toml`` in the working folder: no usage statistics, no error
details or "Ask Google/ChatGPT" links on the page (details go to the server log), viewer toolbar,
no file watcher, XSRF and WebSocket-origin checks on, no static file serving.

Login (:mod:`dashboard.access`) is configured in one secrets file, the project's
``.streamlit/secrets.toml`` unless ``--secrets`` or ``MSC_RA_SECRETS`` names another; Streamlit
reads that file only (not one in the working or home folder). Without login configured, the
launcher refuses a non-loopback address unless given ``--allow-open`` (exit code 2), and it
refuses an unreadable or incomplete secrets file before the server starts.

Two in-process adjustments before the server starts (why: read in Streamlit 1.67's source):

* Streamlit finds the host's internal and external IP addresses (a UDP ``connect`` to 8.8.8.8,
  an HTTP request to checkip.amazonaws.com) to print URLs and to check a request's Origin
  against them. The addresses are preset as unknown, so the server never makes those calls; the
  allowed origins are the configured address, localhost and ``server.corsAllowedOrigins``.
* A ``pages/`` folder beside ``app.py`` would make Streamlit run the first sessions after a
  start as an old-style (folder) multipage app until some session has called ``st.navigation``,
  and show "Page not found" over the right page of a first deep link (streamlit/streamlit#9992).
  The app has no such folder (its pages come from the view registry) and always calls
  ``st.navigation``; the folder mode is switched off before the first session all the same.

The browser that renders PNG/SVG exports (kaleido's Chromium, :mod:`analytics.export`) is started
in a background thread as the server starts, so a reader's first export does not wait seconds for
it, and no page waits for it either (``MSC_RA_EXPORT_WARMUP=0``: started on the first export).

At each start the launcher removes uploads kept longer than ``MSC_RA_UPLOAD_HOURS`` (default 24;
0 keeps them), as the "Load a study" page does before each new upload; a bad value stops it
(exit code 2).

Before the server listens, the launcher does what the first session would otherwise wait for
(:func:`preload`): it imports the app's modules, opens and verifies the default study, and builds
the default page's blocks; and it lets the export browser finish starting (bounded by
:data:`EXPORT_WAIT_S`), so that the first visitor's page does not share the CPU with it. The
server answers ``/_stcore/health`` a few seconds later, and its first session costs what a later
one does.
"""
from __future__ import annotations

import argparse
import contextlib
import gc
import logging
import os
import sys
import threading
import tomllib
from pathlib import Path

from analytics.i18n import t
from analytics.study import PROJECT_DIR
from analytics.study_catalog import DATA_DIR_ENV

APP = PROJECT_DIR / "app.py"
ADDRESS_ENV = "MSC_RA_ADDRESS"
PORT_ENV = "MSC_RA_PORT"
SECRETS_ENV = "MSC_RA_SECRETS"
DEFAULT_SECRETS = PROJECT_DIR / ".streamlit" / "secrets.toml"
DEFAULT_ADDRESS = "127.0.0.1"
DEFAULT_PORT = 8501
WILDCARD_ADDRESSES = {"0.0.0.0", "::", ""}
EXPORT_WARMUP_ENV = "MSC_RA_EXPORT_WARMUP"  # "0": start the export browser on the first export


def server_options(address: str, port: int,
                   secrets: Path = DEFAULT_SECRETS) -> dict[str, object]:
    """Every Streamlit option the dashboard relies on (config keys)."""
    public = "localhost" if address in WILDCARD_ADDRESSES else address
    return {
        "server.address": address,
        "server.port": port,
        "server.headless": True,
        "server.runOnSave": False,
        "server.fileWatcherType": "none",
        "server.enableXsrfProtection": True,
        "server.enableCORS": True,
        "server.enableStaticServing": False,
        "server.showEmailPrompt": False,
        "browser.serverAddress": public,
        "browser.serverPort": port,
        "browser.gatherUsageStats": False,
        "client.showErrorDetails": "none",
        "client.showErrorLinks": "false",
        "client.toolbarMode": "viewer",
        "global.developmentMode": False,
        "runner.magicEnabled": False,
        "secrets.files": [str(secrets)],
    }


def command_line(options: dict[str, object]) -> list[str]:
    """``streamlit run app.py --section.option=value …`` (without the leading ``streamlit``)."""
    def text(value):
        return str(value).lower() if isinstance(value, bool) else str(value)
    flags = [f"--{key}={text(item)}" for key, value in options.items()
             for item in (value if isinstance(value, list) else [value])]
    return ["run", str(APP), *flags]


def access_problem(address: str, secrets: Path, *, explicit: bool, allow_open: bool) -> str | None:
    """Why the server must not start with this address and secrets file, or None.

    An explicitly named secrets file must exist; a secrets file must parse, and an ``[auth]``
    section in it must be complete; without one, only a loopback address, unless
    ``allow_open``."""
    from . import access

    if not secrets.is_file():
        if explicit:
            return t("launcher.secrets_missing", "en", secrets=secrets)
        settings = {}
    else:
        try:
            settings = tomllib.loads(secrets.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            return t("launcher.secrets_invalid", "en", secrets=secrets, error=exc)
    if settings.get("auth"):
        missing = access.auth_problems(settings)
        return (t("launcher.auth_incomplete", "en", secrets=secrets, missing=", ".join(missing))
                if missing else None)
    if access.is_loopback(address) or allow_open:
        return None
    return t("launcher.open_refused", "en", address=address or "*", secrets=secrets)


def quiet_network() -> None:
    """Preset the host's internal/external IP as unknown ("" is cached; None would look up)."""
    from streamlit import net_util

    net_util._internal_ip = ""
    net_util._external_ip = ""


def navigation_only() -> None:
    """No folder-based (v1) multipage mode, even for the first sessions (see module doc)."""
    from streamlit.runtime.pages_manager import PagesManager

    PagesManager.uses_pages_directory = False


MALLOC_ARENAS = 2  # glibc's malloc arenas for the server's many threads (default 8 per core)


def fewer_malloc_arenas() -> None:
    """Cap glibc's malloc arenas (as ``MALLOC_ARENA_MAX`` does): Streamlit runs each session's
    script in a thread of its own, and with an arena per thread, memory freed in one stays
    reserved for it, so the server's resident size grows with the sessions open. Linux/glibc
    only; elsewhere nothing changes."""
    import ctypes
    import ctypes.util

    m_arena_max = -8  # mallopt's M_ARENA_MAX (malloc.h)
    with contextlib.suppress(OSError, AttributeError, TypeError):
        ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt(m_arena_max,
                                                                          MALLOC_ARENAS)


EXPORT_NICE = 10  # the export browser yields the CPU to page runs
EXPORT_WAIT_S = 20  # the server listens after this long at most, the export browser started or not
# imported by Streamlit only in a first page's run (st.plotly_chart, st.dataframe, page icons)
FIRST_RUN_IMPORTS = ("plotly.io._json", "pyarrow.pandas_compat", "streamlit.emojis")
_LOG = logging.getLogger(__name__)


def warm_export_renderer() -> threading.Thread:
    """Start the export browser beside the server, in a background thread (its imports too, so
    the server's start does not wait for them). The thread, and so the browser it starts, runs
    at a lower CPU priority (on Linux a thread's nice value is its own and is inherited), so that
    on a busy machine page runs come first and exports after. The thread ends when the browser
    has started (or failed to: the first export then says why)."""
    def start():
        with contextlib.suppress(OSError):
            os.nice(EXPORT_NICE)
        from analytics import export
        export.prestart(wait=True)

    thread = threading.Thread(target=start, name="export-warmup", daemon=True)
    thread.start()
    return thread


def preload() -> None:
    """What every session needs, done once before the server listens: the app's modules
    imported, the default study opened and verified (:func:`dashboard.study_source.served_study`)
    and the default page's blocks, as a first visitor sees them, kept
    (:func:`dashboard.study_source.view_blocks`). A study that cannot be served is left to the
    page, which says why."""
    import importlib

    # Streamlit's caches warn "No runtime found" when one is declared before the runtime exists
    # (the runtime starts after this)
    caching_log = logging.getLogger("streamlit.runtime.caching.cache_data_api")
    level = caching_log.level
    caching_log.setLevel(logging.ERROR)
    try:
        from dashboard import access, pages, render  # noqa: F401 - app.py's and its pages'
    finally:
        caching_log.setLevel(level)
    for name in FIRST_RUN_IMPORTS:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    from analytics.views import VIEWS
    from analytics.views.registry import default_state
    from dashboard import study_source

    try:
        study = study_source.served_study()
        # the study itself (not the memoised CachedStudy: Streamlit's caches belong to the
        # runtime, which starts later); the kept blocks are the same (tests/test_kept_results.py)
        study_source.view_blocks(study, default_state(next(iter(VIEWS)), study))
    except Exception:  # noqa: BLE001 - the first page run reports it to the reader
        _LOG.warning("preloading the default study failed", exc_info=True)


def freeze_start_up_objects() -> None:
    """Move what start-up made (modules, classes, the default study's results) out of the
    garbage collector's sight. Streamlit runs a full collection after every script run
    (``runner.postScriptGC``, to return session memory promptly); with the ~170,000 objects of
    the imports scanned each time, that collection held the server for 40-90 ms after every
    click, delaying the page's last messages. Start-up objects live as long as the server, so
    they are never garbage: a collection first, then :func:`gc.freeze`."""
    gc.collect()
    gc.freeze()


def sweep_old_uploads_at_start() -> str | None:
    """Remove the uploads kept longer than ``MSC_RA_UPLOAD_HOURS`` (audited); returns why the
    server must not start (a bad value, a data folder it cannot clean), else None."""
    from .load_study import sweep_old_uploads
    try:
        sweep_old_uploads()
    except ValueError as exc:
        return f"msc-ra-dashboard: {exc}"
    except OSError as exc:
        return f"msc-ra-dashboard: cannot remove old uploads in {exc.filename}: {exc.strerror}"
    return None


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="msc-ra-dashboard", description="Serve the MSC RA trial dashboard.")
    parser.add_argument("--address", default=os.environ.get(ADDRESS_ENV) or DEFAULT_ADDRESS,
                        help=f"address to listen on (default {DEFAULT_ADDRESS}, or ${ADDRESS_ENV})")
    parser.add_argument("--port", type=int,
                        default=int(os.environ.get(PORT_ENV) or DEFAULT_PORT),
                        help=f"port (default {DEFAULT_PORT}, or ${PORT_ENV})")
    parser.add_argument("--data-dir", default=None,
                        help=f"the data folder: uploads, built studies, audit log (default "
                             f"${DATA_DIR_ENV}, else the project's data/)")
    parser.add_argument("--secrets", type=Path, default=os.environ.get(SECRETS_ENV) or None,
                        help=f"secrets file with the login configuration (default "
                             f"{DEFAULT_SECRETS.relative_to(PROJECT_DIR)} of the project, or "
                             f"${SECRETS_ENV})")
    parser.add_argument("--allow-open", action="store_true",
                        help="serve a non-loopback address without login (a trusted network only)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    secrets = (args.secrets or DEFAULT_SECRETS).resolve()
    problem = access_problem(args.address, secrets, explicit=args.secrets is not None,
                             allow_open=args.allow_open)
    if problem:
        print(problem, file=sys.stderr)
        raise SystemExit(2)
    from streamlit.web import cli

    if args.data_dir:  # absolute: the server runs from the project folder
        os.environ[DATA_DIR_ENV] = os.path.abspath(args.data_dir)
    problem = sweep_old_uploads_at_start()
    if problem:
        print(problem, file=sys.stderr)
        raise SystemExit(2)
    fewer_malloc_arenas()
    quiet_network()
    navigation_only()
    os.chdir(PROJECT_DIR)  # app.py's relative page paths and the default study
    warming = (warm_export_renderer() if os.environ.get(EXPORT_WARMUP_ENV, "1") != "0"
               else None)
    preload()
    if warming is not None:
        warming.join(EXPORT_WAIT_S)
    freeze_start_up_objects()
    cli.main.main(args=command_line(server_options(args.address, args.port, secrets)),
                  prog_name="streamlit")


if __name__ == "__main__":
    main()
