"""Is this file a study file we may serve? Schema, content hash and file identity.

The build stores ``content_hash`` (:func:`content_hash`: sha256 over the four raw tables, in
contract column order, rows sorted) and ``built_at`` in ``study_info``. Opening a study
(:func:`open_verified`) checks the file is DuckDB, holds the contract tables and views, and that
the hash recomputed from the stored rows equals the stored one. Any failure is a
:class:`StudyFileError` with a reason code (catalogue keys ``study_error.<code>`` and
``study_error.<code>.todo``) and a short reference id; the details (paths, DuckDB's words, the
traceback) go to the server log under that id, never to the reader.

The connection it returns is read-only and cannot reach outside the file: no external access
(``COPY … TO``, ``read_text``, httpfs), no extension install or autoload, configuration locked.
The file is ATTACHed (as :data:`CATALOG`) to a connection of its own rather than opened with
``duckdb.connect(path)``: DuckDB keeps one database instance per path and process, so a file
replaced on disk would otherwise keep being read through the instance opened on the old one.
"""
from __future__ import annotations

import hashlib
import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import duckdb

from .i18n import t
from .measures import MEASURE_VIEWS
from .schema import TABLES

LOG = logging.getLogger("msc_ra.study")

# A read-only study connection that cannot read or write other files, install or load
# extensions, or loosen these settings afterwards (SET … fails once locked). The first two are
# connection options; the last two are set once the study file is attached.
SAFE_CONFIG: dict[str, object] = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
}
LOCKED_SETTINGS = ("SET enable_external_access = false", "SET lock_configuration = true")
CATALOG = "study"  # the attached study file's name in the connection

# Every DuckDB database file carries this magic at byte offset 8 (main header).
DUCKDB_MAGIC = b"DUCK"
DUCKDB_MAGIC_OFFSET = 8
VIEWS = MEASURE_VIEWS  # measures.create_views; pages need them

STUDY_ERRORS = (
    "missing",       # no file at the configured path
    "not_a_file",    # the path is a folder or something else
    "unreadable",    # no permission to read it
    "empty",         # zero bytes
    "not_duckdb",    # not a DuckDB database file
    "truncated",     # a DuckDB file that cannot be read to the end (cut off or damaged)
    "wrong_schema",  # DuckDB, but without the study tables
    "no_checksum",   # built before content hashes were stored
    "checksum",      # content differs from the hash stored at build time
)


class StudyFileError(Exception):
    """The study file cannot be served. ``code`` is one of :data:`STUDY_ERRORS`."""

    def __init__(self, code: str, path: Path | str, detail: str = ""):
        if code not in STUDY_ERRORS:
            raise ValueError(f"unknown study error code {code!r}")
        self.code = code
        self.path = Path(path)
        self.detail = detail
        self.reference = "S-" + secrets.token_hex(3).upper()
        super().__init__(f"[{self.reference}] {code}: {self.path}: {detail}")

    def message(self, lang: str) -> str:
        """What is wrong and what to do, in ``lang``, with the reference id; no path, no detail
        (those are in the server log)."""
        return t("study_error.message", lang, what=t(f"study_error.{self.code}", lang),
                 todo=t(f"study_error.{self.code}.todo", lang), reference=self.reference)

    def log(self) -> "StudyFileError":
        """Write the details to the server log under the reference id (once)."""
        if not getattr(self, "_logged", False):
            LOG.error("study file %s refused (%s, reference %s): %s", self.path, self.code,
                      self.reference, self.detail, exc_info=self.__cause__ or None)
            self._logged = True
        return self


@dataclass(frozen=True)
class FileIdentity:
    """What changes when a file is replaced or rewritten (``os.replace``, truncation, copy)."""

    device: int
    inode: int
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, path: Path) -> "FileIdentity":
        st = os.stat(path)
        return cls(st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def file_identity(path: Path | str) -> FileIdentity:
    """The file's identity, or :class:`StudyFileError` when it is missing or not a file."""
    path = Path(path)
    try:
        identity = FileIdentity.of(path)
    except FileNotFoundError as exc:
        raise StudyFileError("missing", path, str(exc)) from exc
    except PermissionError as exc:
        raise StudyFileError("unreadable", path, str(exc)) from exc
    if not path.is_file():
        raise StudyFileError("not_a_file", path, "not a regular file")
    return identity


def cursor(con: duckdb.DuckDBPyConnection, catalog: str | None = None,
           search_path: str | None = None):
    """A cursor of its own (safe across threads) whose unqualified names are the study's
    (``search_path``: looked up there first, see :func:`analytics.measures.keep_measures`)."""
    cur = con.cursor()
    if catalog:
        cur.execute(f'USE "{catalog}"')
    if search_path:
        cur.execute(f"SET search_path = '{search_path}'")
    return cur


def content_hash(con: duckdb.DuckDBPyConnection, catalog: str | None = None) -> str:
    """sha256 (hex) of the raw tables' content: for each contract table in order, its name, its
    column names, then every row in contract column order, rows sorted, each row's ``repr``.
    Computed by the build on the written file and again on open, from the same DuckDB types."""
    digest = hashlib.sha256()
    for name, table in TABLES.items():
        columns = ", ".join(f'"{c}"' for c in table.column_names)
        digest.update(f"table {name}: {columns}\n".encode())
        cur = cursor(con, catalog)
        cur.execute(f'SELECT {columns} FROM "{name}" ORDER BY ALL')
        while rows := cur.fetchmany(10_000):
            for row in rows:
                digest.update(repr(row).encode())
                digest.update(b"\n")
        cur.close()
    return digest.hexdigest()


def _has_duckdb_magic(path: Path) -> bool:
    with open(path, "rb") as fh:
        head = fh.read(DUCKDB_MAGIC_OFFSET + len(DUCKDB_MAGIC))
    return head[DUCKDB_MAGIC_OFFSET:] == DUCKDB_MAGIC


def _check_schema(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    present: dict[str, set[str]] = {}
    for table, column in con.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_catalog = ? AND table_schema = 'main'", [CATALOG]).fetchall():
        present.setdefault(table, set()).add(column)
    missing = []
    for name, table in TABLES.items():
        lacking = [c for c in table.column_names if c not in present.get(name, set())]
        if name not in present:
            missing.append(f"table {name}")
        elif lacking:
            missing.append(f"{name} columns {', '.join(lacking)}")
    for name in (*VIEWS, "study_info"):
        if name not in present:
            missing.append(name)
    if missing:
        raise StudyFileError("wrong_schema", path, "missing: " + "; ".join(missing))


def connect_safely(path: Path | str) -> duckdb.DuckDBPyConnection:
    """A connection with the file attached read-only as :data:`CATALOG` (and in use), confined
    to it (see :data:`SAFE_CONFIG`)."""
    con = duckdb.connect(":memory:", config=dict(SAFE_CONFIG))
    try:
        quoted = str(path).replace("'", "''")
        con.execute(f"ATTACH '{quoted}' AS \"{CATALOG}\" (READ_ONLY)")
        con.execute(f'USE "{CATALOG}"')
        for statement in LOCKED_SETTINGS:
            con.execute(statement)
    except BaseException:
        con.close()
        raise
    return con


def open_verified(path: Path | str) -> tuple[duckdb.DuckDBPyConnection, dict[str, str]]:
    """Open ``path`` safely and verify it: (connection, ``study_info`` as a dict).

    Raises :class:`StudyFileError` (already logged) for any reason the file cannot be served.
    """
    path = Path(path)
    try:
        identity = file_identity(path)
        if identity.size == 0:
            raise StudyFileError("empty", path, "0 bytes")
        try:
            if not _has_duckdb_magic(path):
                raise StudyFileError("not_duckdb", path, "no DuckDB header")
        except PermissionError as exc:
            raise StudyFileError("unreadable", path, str(exc)) from exc
        try:
            con = connect_safely(path)
        except duckdb.Error as exc:
            raise StudyFileError("truncated", path, f"{type(exc).__name__}: {exc}") from exc
        try:
            _check_schema(con, path)
            info = dict(con.execute("SELECT key, value FROM study_info").fetchall())
            stored = info.get("content_hash")
            if not stored:
                raise StudyFileError("no_checksum", path, "study_info has no content_hash")
            actual = content_hash(con, CATALOG)
            if actual != stored:
                raise StudyFileError("checksum", path, f"stored {stored}, content {actual}")
        except StudyFileError:
            con.close()
            raise
        except duckdb.Error as exc:  # a block cannot be read: cut off or damaged
            con.close()
            raise StudyFileError("truncated", path, f"{type(exc).__name__}: {exc}") from exc
    except StudyFileError as exc:
        raise exc.log()
    return con, info
