"""Building a DuckDB study file from a directory of raw tables.

``build_study(raw_dir, out)`` reads and validates the raw tables (:mod:`analytics.importer`),
writes a new DuckDB file beside ``out`` under a temporary name, and only when everything succeeded
moves it onto ``out`` (``os.replace``): a failed build leaves an existing ``out`` untouched.
``build_default(path)`` builds the embedded synthetic cohort (:mod:`analytics.synth`).

Builds clean up after themselves. Each build of ``out`` holds an exclusive lock
(``out.build-lock``, flock; removed when the build ends): a second ``build_study`` to the same
output fails at once with :class:`BuildBusy`, ``build_default`` waits. The temporary file is
``out.tmp-<pid>-<random>`` (and DuckDB's ``.wal`` beside it); it is removed on every exit path,
SIGTERM/SIGINT/SIGHUP included, and what a SIGKILLed build left is swept by the next build of the
same output (under the lock no other build of it can be running). A full disk or a permission
problem is a :class:`BuildError` naming it.
"""
from __future__ import annotations

import datetime as dt
import errno
import fcntl
import json
import os
import secrets
import signal
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pandas as pd

from . import importer
from .i18n import t
from .importer import ContractError, Problem
from .integrity import content_hash
from .measures import create_views
from .schema import TABLES

STUDY_JSON = "study.json"  # optional metadata beside the raw tables
FORMAT_VERSION = "1"


def _info_text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def read_study_json(raw_dir: str | Path) -> dict:
    """The metadata in ``raw_dir/study.json`` ({} when absent). Raises ContractError if invalid."""
    path = Path(raw_dir) / STUDY_JSON
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ContractError(Problem(STUDY_JSON, None, None, "study.json is a JSON object",
                                    f"cannot read the file ({exc})")) from exc
    if not isinstance(data, dict):
        raise ContractError(Problem(STUDY_JSON, None, None, "study.json is a JSON object",
                                    "the file does not hold a JSON object"))
    return data


def _built_at() -> str:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")  # reproducible builds
    now = (dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc) if epoch
           else dt.datetime.now(dt.timezone.utc))
    return now.replace(microsecond=0).isoformat()


def study_info(raw_dir: Path, tables: dict[str, pd.DataFrame], info: dict | None) -> dict[str, str]:
    """The key/value rows of the ``study_info`` table.

    Precedence: computed defaults < ``study.json`` < ``info``; row counts are always computed.
    ``built_at`` is this build's time (ISO 8601 UTC) unless ``info`` gives one: a ``built_at`` in
    ``study.json`` describes the raw tables, so it is kept as ``raw_built_at``.
    """
    merged: dict = {"source": raw_dir.resolve().name, "name": raw_dir.resolve().name,
                    "synthetic": False, "format_version": FORMAT_VERSION}
    from_json = read_study_json(raw_dir)
    if isinstance(from_json.get("arm_labels"), dict):  # {"MSC": {"en": ..., "zh": ...}}
        from .mapping import arm_label_info

        from_json.update(arm_label_info(from_json.pop("arm_labels")))
    merged.update(from_json)
    if "built_at" in merged:
        merged["raw_built_at"] = merged.pop("built_at")
    merged["built_at"] = _built_at()
    merged.update(info or {})
    merged.update({f"n_{name}": len(frame) for name, frame in tables.items()})
    return {str(k): _info_text(v) for k, v in merged.items() if v is not None}


def write_study(con: duckdb.DuckDBPyConnection, tables: dict[str, pd.DataFrame],
                info: dict[str, str]) -> None:
    """Create the contract tables, load ``tables`` (typed, from importer.parse), add the views
    and ``study_info`` (with the ``content_hash`` of the rows as stored)."""
    for name, table in TABLES.items():
        columns = ", ".join(f'"{c.name}" {c.sql_type}' for c in table.columns)
        con.execute(f'CREATE TABLE "{name}" ({columns})')
        frame = tables[name][table.column_names]
        view = f"_raw_{name}"
        con.register(view, frame)
        select = ", ".join(f'CAST("{c.name}" AS {c.sql_type})' for c in table.columns)
        con.execute(f'INSERT INTO "{name}" SELECT {select} FROM "{view}"')
        con.unregister(view)
    create_views(con)
    info = {**info, "content_hash": content_hash(con)}
    con.execute("CREATE TABLE study_info (key VARCHAR PRIMARY KEY, value VARCHAR)")
    con.executemany("INSERT INTO study_info VALUES (?, ?)", [list(kv) for kv in info.items()])


# -- errors ----------------------------------------------------------------------------------------
class BuildError(Exception):
    """A build that could not finish for a reason outside the raw data (disk, permissions,
    another build); ``code`` picks the catalogue message ``build.error.<code>``."""

    def __init__(self, code: str, out: Path, detail: str = ""):
        self.code, self.out, self.detail = code, Path(out), detail
        super().__init__(f"{code}: {out}: {detail}")

    def message(self, lang: str = "en") -> str:
        kept = t("build.error.kept" if self.out.exists() else "build.error.not_created", lang,
                 out=self.out)
        return t(f"build.error.{self.code}", lang, out=self.out, detail=self.detail) + " " + kept


class BuildBusy(BuildError):
    """Another process is building the same output."""


BUILD_ERRORS = ("disk_full", "permission", "busy")
_DISK_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
_PERMISSION = (errno.EACCES, errno.EPERM, errno.EROFS)


def _as_build_error(exc: BaseException, out: Path) -> BuildError | None:
    """The build error a low-level failure means, or None when it is something else."""
    if isinstance(exc, OSError):
        if exc.errno in _DISK_FULL:
            return BuildError("disk_full", out, str(exc))
        if exc.errno in _PERMISSION:
            return BuildError("permission", out, str(exc))
    if isinstance(exc, duckdb.Error):
        text = str(exc)
        if "No space left" in text or "Disk quota" in text or "File too large" in text:
            return BuildError("disk_full", out, text)
        if "Permission denied" in text or "Read-only file system" in text:
            return BuildError("permission", out, text)
    return None


# -- temporary files, signals, the build lock ------------------------------------------------------
def _temp_prefix(out: Path) -> str:
    return f"{out.name}.tmp-"


def _temp_path(out: Path) -> Path:
    """``out.tmp-<pid>-<random>``: recognisable, and says which process wrote it."""
    return out.with_name(f"{_temp_prefix(out)}{os.getpid()}-{secrets.token_hex(4)}")


def _remove(path: Path) -> None:
    for p in (path, path.with_name(path.name + ".wal")):
        try:
            p.unlink()
        except FileNotFoundError:
            pass


def _lock_path(out: Path) -> Path:
    return out.with_name(out.name + ".build-lock")


def sweep_stale(out: Path) -> list[Path]:
    """Remove what killed builds of ``out`` left: temp files, their WALs, the lock file of the
    older builder (``.tmp.lock``). Call with the build lock held: then no other build of ``out``
    is running, so every temp file of ``out`` is stale."""
    removed = []
    legacy_lock = out.with_name(out.name + ".tmp.lock")
    stale = [p for p in out.parent.glob(_temp_prefix(out) + "*") if p.is_file()]
    for p in [*stale, legacy_lock]:
        try:
            p.unlink()
            removed.append(p)
        except FileNotFoundError:
            pass
    return removed


class _Interrupted(BaseException):
    """A termination signal during a build, raised so that the cleanup runs."""


# Set once the finished file is being moved into place: a termination signal after that point
# no longer interrupts the build (it would report "old file kept" for a file already replaced).
_COMMITTED = threading.Event()


@contextmanager
def _cleanup_on_signals():
    """Turn SIGTERM/SIGHUP into an exception for the duration (main thread only; SIGINT already
    raises KeyboardInterrupt), so that ``finally`` blocks remove the temp files."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupted(signum, _frame):
        if not _COMMITTED.is_set():
            raise _Interrupted(f"signal {signum}")
    interrupted._build_handler = True  # nested contexts: the outermost one resets _COMMITTED

    previous = {sig: signal.signal(sig, interrupted) for sig in (signal.SIGTERM, signal.SIGHUP)}
    outermost = not any(getattr(h, "_build_handler", False) for h in previous.values())
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if outermost:
            _COMMITTED.clear()


@contextmanager
def build_lock(out: Path, wait: bool):
    """Hold the exclusive build lock of ``out``; ``wait=False`` raises :class:`BuildBusy` when
    another process holds it. The lock file is removed on release (it holds the builder's pid)."""
    path = _lock_path(out)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if not wait:
                    holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
                    raise BuildBusy("busy", out, f"pid {holder}") from None
                fcntl.flock(fd, fcntl.LOCK_EX)
            # The previous holder may have removed the file between our open and flock: then
            # this lock guards nothing; start again on the current file.
            try:
                if os.stat(path).st_ino == os.fstat(fd).st_ino:
                    break
            except FileNotFoundError:
                pass
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        try:
            path.unlink()
        except FileNotFoundError:
            pass
        os.close(fd)


# -- building --------------------------------------------------------------------------------------
def build_study(raw_dir: str | Path, out: str | Path, info: dict | None = None,
                mapping=None) -> Path:
    """Build the study file ``out`` from the raw tables in ``raw_dir``.

    Parameters
    ----------
    raw_dir : directory holding subjects, visits, adverse_events and medications as CSV, XLSX
        or Parquet, and optionally ``study.json`` (metadata merged into ``study_info``).
    out : the DuckDB file to create or replace.
    info : extra ``study_info`` entries; a ``built_at`` here replaces the build time.
    mapping : a :class:`~analytics.mapping.Mapping` (or the path of its TOML file) that turns an
        export with its own files, headers, codes and units into the contract's tables; its
        study name and arm labels go into ``study_info``. Accepted-with-a-warning findings (an
        empty adverse-event table, dropped extra visits) are stored as ``import_warnings``.

    Raises :class:`~analytics.importer.ContractError` for raw data that breaks the contract,
    :class:`BuildBusy` when another build of ``out`` is running and :class:`BuildError` for a
    full disk or missing permissions; on any failure an existing ``out`` is left as it was.
    """
    raw_dir, out = Path(raw_dir), Path(out)
    tables, rows = _tables_and_info(raw_dir, info, mapping)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with _cleanup_on_signals(), build_lock(out, wait=False):
            return _write_locked(tables, rows, out)
    except OSError as exc:
        raise (_as_build_error(exc, out) or exc) from exc


def _tables_and_info(raw_dir: Path, info: dict | None, mapping
                     ) -> tuple[dict[str, pd.DataFrame], dict[str, str]]:
    """The validated tables and the ``study_info`` rows of a build (see :func:`build_study`)."""
    warnings: list[Problem] = []
    if mapping is None:
        tables = importer.parse(importer.read_raw(raw_dir), warnings)
    else:
        from .mapping import load_mapped

        tables, mapped_info = load_mapped(raw_dir, mapping, warnings)
        info = {**mapped_info, **(info or {})}
    rows = study_info(raw_dir, tables, info)
    if warnings:
        rows["import_warnings"] = _info_text([str(w) for w in warnings])
    return tables, rows


def _write_locked(tables: dict[str, pd.DataFrame], rows: dict[str, str], out: Path) -> Path:
    """Write ``out`` through a temp file; the caller holds the build lock."""
    sweep_stale(out)
    tmp = _temp_path(out)
    try:
        with _cleanup_on_signals():
            try:
                con = duckdb.connect(str(tmp))
                try:
                    write_study(con, tables, rows)
                    con.execute("CHECKPOINT")
                finally:
                    con.close()
                _COMMITTED.set()
                os.replace(tmp, out)
            except (OSError, duckdb.Error) as exc:
                _COMMITTED.clear()
                error = _as_build_error(exc, out)
                if error is None:
                    raise
                raise error from exc
    finally:
        _remove(tmp)  # the temp file (on failure) and a stray WAL
    return out


def build_default(path: str | Path, force: bool = False, unless_verified: bool = False) -> Path:
    """Build the embedded synthetic default cohort at ``path`` unless it exists (or ``force``).

    Safe when several processes call it at once: the build waits for the build lock and the
    existence check is repeated once the lock is held. ``unless_verified`` (with ``force``):
    skip the rebuild when the file now passes verification (another process rebuilt it).
    """
    from .integrity import StudyFileError, open_verified
    from .synth import DEFAULT_SEED, write_cohort

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with _cleanup_on_signals(), build_lock(path, wait=True):
        if path.exists() and not force:
            return path
        if path.exists() and unless_verified:
            try:
                open_verified(path)[0].close()
                return path
            except StudyFileError:
                pass
        with tempfile.TemporaryDirectory(prefix="msc-ra-synth-") as tmpdir:
            write_cohort(Path(tmpdir), seed=DEFAULT_SEED)
            tables, rows = _tables_and_info(
                Path(tmpdir), {"source": "analytics.synth (default cohort)"}, None)
            return _write_locked(tables, rows, path)
