"""The append-only audit log: who loaded, validated, built, switched to or removed which study,
when, with which files' hashes; and which old uploads the server removed.

One JSON line per action in ``<data folder>/audit.log`` (:func:`analytics.study_catalog.audit_path`),
appended with ``O_APPEND``, flushed and fsynced before the action is reported done; the app never
rewrites or truncates it (rotate or archive it outside the app, see README "Deployment").
"""
from __future__ import annotations

import datetime as dt
import json
import os
import threading

from analytics.study_catalog import audit_path

ACTIONS = ("upload", "validate", "build", "switch", "remove", "sweep", "login", "logout")
LOCAL_USER = "local"  # the user of an app without login (localhost-only mode)
SERVER_USER = "server"  # what the server does by itself (removing old uploads)
_LOCK = threading.Lock()  # one line at a time from this process (O_APPEND keeps processes apart)


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def _current_user() -> str:
    from . import access
    try:
        return access.current_user() or LOCAL_USER
    except Exception:  # noqa: BLE001 - outside a Streamlit session (tests, scripts)
        return LOCAL_USER


def record(action: str, *, study: str, hashes: dict | None = None, user: str | None = None,
           detail: str = "") -> None:
    """Append one line ``{time, user, action, study, hashes, detail}`` to the audit log."""
    line = json.dumps({"time": _now(), "user": user or _current_user(), "action": action,
                       "study": study, "hashes": dict(hashes or {}), "detail": detail},
                      ensure_ascii=False, sort_keys=False)
    path = audit_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with _LOCK:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, (line + "\n").encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)


def read_log() -> list[dict]:
    """Every line of the audit log, oldest first ([] when there is none)."""
    path = audit_path()
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
