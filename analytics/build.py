"""Building a DuckDB study file from a directory of raw tables.

``build_study(raw_dir, out)`` reads and validates the raw tables (:mod:`analytics.importer`),
writes a new DuckDB file beside ``out`` under a temporary name, and only when everything succeeded
moves it onto ``out`` (``os.replace``): a failed build leaves an existing ``out`` untouched.
``build_default(path)`` builds the embedded synthetic cohort (:mod:`analytics.synth`).
"""
from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pandas as pd

from . import importer
from .importer import ContractError, Problem
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
    """
    merged: dict = {"built_at": _built_at(), "source": raw_dir.resolve().name,
                    "synthetic": False, "format_version": FORMAT_VERSION}
    from_json = read_study_json(raw_dir)
    if isinstance(from_json.get("arm_labels"), dict):  # {"MSC": {"en": ..., "zh": ...}}
        from .mapping import arm_label_info

        from_json.update(arm_label_info(from_json.pop("arm_labels")))
    merged.update(from_json)
    merged.update(info or {})
    merged.update({f"n_{name}": len(frame) for name, frame in tables.items()})
    return {str(k): _info_text(v) for k, v in merged.items() if v is not None}


def write_study(con: duckdb.DuckDBPyConnection, tables: dict[str, pd.DataFrame],
                info: dict[str, str]) -> None:
    """Create the contract tables, load ``tables`` (typed, from importer.parse), add the views
    and ``study_info``."""
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
    con.execute("CREATE TABLE study_info (key VARCHAR PRIMARY KEY, value VARCHAR)")
    con.executemany("INSERT INTO study_info VALUES (?, ?)", [list(kv) for kv in info.items()])


def _remove(path: Path) -> None:
    for p in (path, path.with_name(path.name + ".wal")):
        try:
            p.unlink()
        except FileNotFoundError:
            pass


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

    Raises :class:`~analytics.importer.ContractError` for raw data that breaks the contract;
    on any failure an existing ``out`` is left as it was.
    """
    raw_dir, out = Path(raw_dir), Path(out)
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
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=out.parent, prefix=f"{out.name}.tmp-")
    os.close(fd)
    tmp = Path(name)
    tmp.unlink()  # DuckDB creates the file itself
    try:
        con = duckdb.connect(str(tmp))
        try:
            write_study(con, tables, rows)
            con.execute("CHECKPOINT")
        finally:
            con.close()
        os.replace(tmp, out)
    except BaseException:
        _remove(tmp)
        raise
    _remove(tmp)  # only a stray WAL can remain
    return out


@contextmanager
def _locked(path: Path):
    """An exclusive lock beside ``path`` (the lock file is left in place, which is harmless)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".tmp.lock"), "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def build_default(path: str | Path, force: bool = False) -> Path:
    """Build the embedded synthetic default cohort at ``path`` unless it exists (or ``force``).

    Safe when several processes call it at once: the build runs under a file lock and the
    existence check is repeated once the lock is held.
    """
    from .synth import DEFAULT_SEED, write_cohort

    path = Path(path)
    with _locked(path):
        if path.exists() and not force:
            return path
        with tempfile.TemporaryDirectory(prefix="msc-ra-synth-") as tmpdir:
            write_cohort(Path(tmpdir), seed=DEFAULT_SEED)
            return build_study(tmpdir, path, info={"source": "analytics.synth (default cohort)"})
