"""The server as deployed (issue 15, items 1, 3, 5): the launcher's options, the address it binds,
WebSocket origin checks, a study file replaced or deleted under a running server, and no
outbound connection from the server or the exports' Chromium."""
from __future__ import annotations

import base64
import ipaddress
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import duckdb
import pytest

from analytics import open_study
from analytics.i18n import t
from analytics.integrity import content_hash
from analytics.study import DEFAULT_STUDY_PATH, STUDY_ENV_VAR
from browser_support import (ARTIFACTS, StreamlitServer, chromium_context, error_texts,
                             free_port, open_page, rerun, skip_or_fail, unavailable_reason)
from dashboard import launcher

ROOT = Path(__file__).resolve().parent.parent


# -- the launcher's options ------------------------------------------------------------------------
def test_launcher_sets_safe_options():
    options = launcher.server_options("127.0.0.1", 8501)
    assert options["server.address"] == "127.0.0.1"
    assert options["browser.gatherUsageStats"] is False
    assert options["client.showErrorDetails"] == "none"
    assert options["client.showErrorLinks"] == "false"
    assert options["client.toolbarMode"] == "viewer"
    assert options["server.fileWatcherType"] == "none"
    assert options["server.enableXsrfProtection"] is True
    assert options["server.enableCORS"] is True
    assert options["server.headless"] is True
    assert options["browser.serverAddress"] == "127.0.0.1"
    line = launcher.command_line(options)
    assert line[:2] == ["run", str(launcher.APP)]
    assert "--client.showErrorDetails=none" in line and "--server.enableCORS=true" in line
    # each is a real Streamlit option
    from streamlit import config
    for key in options:
        assert key in config._config_options_template, key


def test_address_from_environment(monkeypatch):
    monkeypatch.setenv(launcher.ADDRESS_ENV, "10.1.2.3")
    monkeypatch.setenv(launcher.PORT_ENV, "9000")
    args = launcher.parse_args([])
    assert (args.address, args.port) == ("10.1.2.3", 9000)
    monkeypatch.delenv(launcher.ADDRESS_ENV)
    assert launcher.parse_args([]).address == "127.0.0.1"


# -- a real server ---------------------------------------------------------------------------------
def _wait_health(url: str, proc: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the launcher exited"
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.25)
    raise AssertionError("no health answer")


def _listening(port: int) -> list[str]:
    """Local addresses listening on ``port`` (from /proc/net/tcp and tcp6)."""
    found = []
    for name, family in (("tcp", 4), ("tcp6", 6)):
        try:
            lines = Path(f"/proc/net/{name}").read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            host, p = local.split(":")
            if state != "0A" or int(p, 16) != port:  # 0A = LISTEN
                continue
            raw = bytes.fromhex(host)
            if family == 4:
                found.append(str(ipaddress.IPv4Address(raw[::-1])))
            else:
                words = b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4))
                found.append(str(ipaddress.IPv6Address(words)))
    return found


def test_launcher_binds_loopback_only_from_any_folder(tmp_path):
    """Started from another folder (no .streamlit/config.toml there), with no address given."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != launcher.ADDRESS_ENV}
    log = open(tmp_path / "server.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "dashboard.launcher", "--port", str(port)],
                            cwd=tmp_path, env=dict(env, PYTHONPATH=str(ROOT)), stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_health(f"http://127.0.0.1:{port}", proc)
        assert _listening(port) == ["127.0.0.1"]
        # a WebSocket from a foreign page is refused; the same origin is accepted
        assert _websocket_status(port, "http://evil.example") == 403
        assert _websocket_status(port, f"http://127.0.0.1:{port}") == 101
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=20)
        log.close()
    text = (tmp_path / "server.log").read_text()
    assert "External URL" not in text and "Network URL" not in text


def _websocket_status(port: int, origin: str) -> int:
    key = base64.b64encode(os.urandom(16)).decode()
    request = (f"GET /_stcore/stream HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
               f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
               f"Sec-WebSocket-Version: 13\r\nOrigin: {origin}\r\n\r\n")
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(request.encode())
        status = s.recv(200).split(b"\r\n", 1)[0].decode()
    return int(status.split()[1])


# -- the study file under a running server (browser) -----------------------------------------------
_REASON = unavailable_reason()


@pytest.fixture
def browser_page():
    if _REASON:
        skip_or_fail(_REASON)
    with chromium_context() as context:
        yield context


def _main_text(page) -> str:
    return page.locator('[data-testid="stMain"]').inner_text()


def _main_text_when(page, ready, timeout_s: float = 30) -> str:
    """The main area's text once ``ready(text)`` holds (or when ``timeout_s`` has passed): on a
    loaded machine the last run's elements can still be on the page when the rerun is idle."""
    deadline = time.monotonic() + timeout_s
    text = _main_text(page)
    while not ready(text) and time.monotonic() < deadline:
        page.wait_for_timeout(200)
        text = _main_text(page)
    return text


def _smaller_copy(good: Path, out: Path) -> None:
    """``good`` minus one subject, with its content hash and a recognisable build time."""
    shutil.copyfile(good, out)
    con = duckdb.connect(str(out))
    last = "(SELECT max(subject_id) FROM subjects)"
    for table in ("visits", "adverse_events", "medications", "subjects"):
        con.execute(f"DELETE FROM {table} WHERE subject_id = {last}")
    con.execute("UPDATE study_info SET value = '109' WHERE key = 'n_subjects'")
    con.execute("UPDATE study_info SET value = '2031-02-03T04:05:06+00:00' WHERE key = 'built_at'")
    con.execute("UPDATE study_info SET value = ? WHERE key = 'content_hash'", [content_hash(con)])
    con.close()


def test_file_replaced_then_deleted_under_running_server(tmp_path, browser_page):
    open_study().close()
    served = tmp_path / "study.duckdb"
    shutil.copyfile(DEFAULT_STUDY_PATH, served)
    server = StreamlitServer(env={STUDY_ENV_VAR: str(served)}, name="replaced").start()
    try:
        first = browser_page.new_page()
        open_page(first, server.url)
        assert "110" in _main_text(first)

        _smaller_copy(DEFAULT_STUDY_PATH, tmp_path / "new.duckdb")
        os.replace(tmp_path / "new.duckdb", served)  # as `analytics build --out` does
        fresh = browser_page.new_page()
        open_page(fresh, server.url)
        text = _main_text(fresh)
        assert "109" in text and "110" not in text, text[:500]
        assert not error_texts(fresh)

        # the open session: its next run (here: a language change) shows the new data, saying so
        chinese = first.locator('[data-testid="stSidebar"] [data-testid="stRadioOption"]').filter(
            has_text="中文")
        rerun(first, chinese.click)
        notice = t("study.updated", "zh", built_at="2031-02-03T04:05:06+00:00")
        text = _main_text_when(first, lambda s: notice in s and "109" in s and "110" not in s)
        assert notice in text
        assert "109" in text and "110" not in text, text[:800]

        served.unlink()
        deleted = browser_page.new_page()
        deleted.goto(server.url)
        deleted.locator('[data-testid="stAlertContentError"]').wait_for(timeout=60_000)
        shown = " ".join(error_texts(deleted))
        assert t("study_error.missing", "en") in shown
        assert "Traceback" not in shown and str(tmp_path) not in shown
        assert not deleted.locator('[data-testid="stException"]').count()
    finally:
        server.stop()


# -- a quiet network ----------------------------------------------------------------------------
_CONNECT = re.compile(r"^(\d+) +connect\((\d+), \{sa_family=(AF_\w+)(.*?)\}")


def _outside_loopback(trace: str) -> list[str]:
    """connect() calls to anything but loopback or a local socket. Chromium's IPv6 route probe
    (a UDP connect() to 2001:4860:4860::8888, before its first host-name lookup) counts too:
    the export browser looks up no host name, so the probe never runs (analytics/export.py)."""
    bad = []
    for line in trace.splitlines():
        m = _CONNECT.search(line)
        if not m:
            continue
        family, rest = m.group(3), m.group(4)
        if family in ("AF_UNIX", "AF_NETLINK", "AF_UNSPEC"):
            continue
        addr = re.search(r'inet_addr\("([^"]+)"\)|inet_pton\(AF_INET6, "([^"]+)"', rest)
        host = addr and (addr.group(1) or addr.group(2))
        if host and ipaddress.ip_address(host).is_loopback:
            continue
        bad.append(line.strip())
    return bad


def test_no_outbound_connections(tmp_path):
    """Server start and a PNG export inside a network namespace without network, under strace:
    every connect() goes to loopback or a local socket."""
    missing = [tool for tool in ("unshare", "strace", "ip") if not shutil.which(tool)]
    reason = (f"needs {', '.join(missing)}" if missing else
              "needs root for unshare -n" if os.geteuid() != 0 else _REASON)
    if reason:
        skip_or_fail(reason)
    open_study().close()
    trace = tmp_path / "connect.trace"
    done = subprocess.run(["unshare", "-n", sys.executable, str(ROOT / "tests" / "netns_export.py"),
                           str(trace)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    (ARTIFACTS / "netns-connect.trace").write_text(
        trace.read_text() if trace.exists() else "", encoding="utf-8")
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["png_bytes"] > 10_000 and not result["errors"], result
    text = trace.read_text()
    assert "connect(" in text  # the trace did record (the browser's loopback connections)
    bad = _outside_loopback(text)
    assert not bad, "connections outside loopback:\n" + "\n".join(bad[:20])


def test_trace_parser_flags_outside_addresses():
    sample = "\n".join([
        '12 socket(AF_INET6, SOCK_DGRAM|SOCK_CLOEXEC, IPPROTO_IP) = 9',
        '12 connect(9, {sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0), '
        'inet_pton(AF_INET6, "2001:4860:4860::8888", &sin6_addr), sin6_scope_id=0}, 28) = -1',
        '12 socket(AF_INET6, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_IP) = 10',
        '12 connect(10, {sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0), '
        'inet_pton(AF_INET6, "2001:4860:4860::8888", &sin6_addr), sin6_scope_id=0}, 28) = -1',
        '12 connect(5, {sa_family=AF_INET, sin_port=htons(53), '
        'sin_addr=inet_addr("8.8.8.8")}, 16) = -1 ENETUNREACH',
        '12 connect(6, {sa_family=AF_INET, sin_port=htons(8501), '
        'sin_addr=inet_addr("127.0.0.1")}, 16) = 0',
        '12 connect(7, {sa_family=AF_UNIX, sun_path="/run/dbus"}, 110) = -1 ENOENT',
        '12 connect(8, {sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0), '
        'inet_pton(AF_INET6, "2001:db8::1", &sin6_addr), sin6_scope_id=0}, 28) = -1',
    ])
    bad = _outside_loopback(sample)
    assert len(bad) == 4, bad
    assert "connect(9," in bad[0] and "connect(10," in bad[1]  # the UDP probe as well
    assert "8.8.8.8" in bad[2] and "2001:db8::1" in bad[3]
