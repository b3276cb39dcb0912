"""Start the dashboard server with every option set here, wherever it is started from.

``msc-ra-dashboard`` (console script) and ``make run`` use it. It listens on 127.0.0.1 unless
told otherwise (``--address`` or ``MSC_RA_ADDRESS``; port: ``--port`` or ``MSC_RA_PORT``): put a
reverse proxy with TLS in front for other machines (README, "Deployment"). The options do not
depend on a ``.streamlit/config.toml`` in the working folder: no usage statistics, no error
details or "Ask Google/ChatGPT" links on the page (details go to the server log), viewer toolbar,
no file watcher, XSRF and WebSocket-origin checks on, no static file serving.

Two in-process adjustments before the server starts (why: read in Streamlit 1.67's source):

* Streamlit finds the host's internal and external IP addresses (a UDP ``connect`` to 8.8.8.8,
  an HTTP request to checkip.amazonaws.com) to print URLs and to check a request's Origin
  against them. The addresses are preset as unknown, so the server never makes those calls; the
  allowed origins are the configured address, localhost and ``server.corsAllowedOrigins``.
* A ``pages/`` folder beside ``app.py`` makes Streamlit run the first sessions after a start as
  an old-style (folder) multipage app until some session has called ``st.navigation``: a first
  deep link (``/response-rates``) is then looked up among the folder's file names, not found,
  and "Page not found" is shown over the right page (streamlit/streamlit#9992). This app always
  calls ``st.navigation``, so the folder mode is switched off before the first session.

The browser that renders PNG/SVG exports (kaleido's Chromium, :mod:`analytics.export`) is started
in a background thread as the server starts, so a reader's first export does not wait seconds for
it, and no page waits for it either (``MSC_RA_EXPORT_WARMUP=0``: started on the first export).
"""
from __future__ import annotations

import argparse
import contextlib
import os
import threading

from analytics.study import PROJECT_DIR

APP = PROJECT_DIR / "app.py"
ADDRESS_ENV = "MSC_RA_ADDRESS"
PORT_ENV = "MSC_RA_PORT"
DEFAULT_ADDRESS = "127.0.0.1"
DEFAULT_PORT = 8501
WILDCARD_ADDRESSES = {"0.0.0.0", "::", ""}
EXPORT_WARMUP_ENV = "MSC_RA_EXPORT_WARMUP"  # "0": start the export browser on the first export


def server_options(address: str, port: int) -> dict[str, object]:
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
    }


def command_line(options: dict[str, object]) -> list[str]:
    """``streamlit run app.py --section.option=value …`` (without the leading ``streamlit``)."""
    def text(value):
        return str(value).lower() if isinstance(value, bool) else str(value)
    return ["run", str(APP), *(f"--{key}={text(value)}" for key, value in options.items())]


def quiet_network() -> None:
    """Preset the host's internal/external IP as unknown ("" is cached; None would look up)."""
    from streamlit import net_util

    net_util._internal_ip = ""
    net_util._external_ip = ""


def navigation_only() -> None:
    """No folder-based (v1) multipage mode, even for the first sessions (see module doc)."""
    from streamlit.runtime.pages_manager import PagesManager

    PagesManager.uses_pages_directory = False


EXPORT_NICE = 10  # the export browser yields the CPU to page runs


def warm_export_renderer() -> None:
    """Start the export browser beside the server, in a background thread (its imports too, so
    the server's start does not wait for them). The thread, and so the browser it starts, runs
    at a lower CPU priority (on Linux a thread's nice value is its own and is inherited), so that
    on a busy machine page runs come first and exports after."""
    def start():
        with contextlib.suppress(OSError):
            os.nice(EXPORT_NICE)
        from analytics import export
        export.prestart()

    threading.Thread(target=start, name="export-warmup", daemon=True).start()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="msc-ra-dashboard", description="Serve the MSC RA trial dashboard.")
    parser.add_argument("--address", default=os.environ.get(ADDRESS_ENV) or DEFAULT_ADDRESS,
                        help=f"address to listen on (default {DEFAULT_ADDRESS}, or ${ADDRESS_ENV})")
    parser.add_argument("--port", type=int,
                        default=int(os.environ.get(PORT_ENV) or DEFAULT_PORT),
                        help=f"port (default {DEFAULT_PORT}, or ${PORT_ENV})")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    from streamlit.web import cli

    quiet_network()
    navigation_only()
    os.chdir(PROJECT_DIR)  # app.py's relative page paths and the default study
    if os.environ.get(EXPORT_WARMUP_ENV, "1") != "0":
        warm_export_renderer()
    cli.main.main(args=command_line(server_options(args.address, args.port)),
                  prog_name="streamlit")


if __name__ == "__main__":
    main()
