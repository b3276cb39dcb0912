"""Run inside a network namespace without network (``unshare -n``, root), by
tests/test_server.py::test_no_outbound_connections: bring up loopback, start the dashboard with
its launcher under ``strace -f -e trace=connect``, make a PNG export in headless Chromium, stop.

    unshare -n python tests/netns_export.py TRACE_FILE

Prints one JSON line: {"png_bytes": n, "errors": [...]}; the connect() calls are in TRACE_FILE.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from browser_support import (StreamlitServer, chromium_context, error_texts,  # noqa: E402
                             open_page, rerun)

from analytics.i18n import t  # noqa: E402


def main(trace: str) -> int:
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    server = StreamlitServer(prefix=["strace", "-f", "-qq", "-e", "trace=connect,socket", "-o",
                                     trace],
                             name="netns-streamlit")
    server.start()
    result = {"png_bytes": 0, "errors": []}
    try:
        with chromium_context(accept_downloads=True) as context:
            page = context.new_page()
            open_page(page, f"{server.url}/response-rates")
            main_area = page.locator('[data-testid="stMain"]')
            prepare = main_area.locator("button").filter(
                has_text=t("export.prepare_images", "en")).first
            prepare.scroll_into_view_if_needed()
            rerun(page, prepare.click, timeout_ms=180_000)
            png = main_area.locator('[data-testid="stDownloadButton"]').filter(
                has_text=t("export.png", "en")).first
            png.wait_for(timeout=180_000)
            with page.expect_download(timeout=60_000) as info:
                png.locator("button").click()
            result["png_bytes"] = len(Path(info.value.path()).read_bytes())
            result["errors"] = error_texts(page)
    finally:
        server.stop()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
