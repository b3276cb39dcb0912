"""The data folder: uploaded exports, the studies built from them and the audit log.

The folder is ``MSC_RA_DATA_DIR`` (launcher option ``--data-dir``), else the project's ``data/``::

    <data>/uploads/<upload id>/     the files of one upload (a zip is unpacked here), removed
                                    after ``MSC_RA_UPLOAD_HOURS`` hours (:func:`sweep_uploads`)
    <data>/studies/<slug>.duckdb    one built study per slug
    <data>/audit.log                one JSON line per action (dashboard.audit)

The default study (``MSC_RA_STUDY`` or the embedded synthetic cohort, ``data/study.duckdb``) is
always offered first, under the slug :data:`DEFAULT_SLUG`; it is never removed from here. Nothing
here knows of Streamlit.
"""
from __future__ import annotations

import hashlib
import io
import math
import os
import re
import secrets
import shutil
import time
import unicodedata
import zipfile
from dataclasses import astuple, dataclass
from pathlib import Path, PurePosixPath

from .study import PROJECT_DIR, default_study_path

DATA_DIR_ENV = "MSC_RA_DATA_DIR"
DEFAULT_SLUG = "default"
STUDY_SUFFIX = ".duckdb"
_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,59}")
MAX_UPLOAD_FILES = 200
UPLOAD_HOURS_ENV = "MSC_RA_UPLOAD_HOURS"
DEFAULT_UPLOAD_HOURS = 24.0
_UPLOAD_ID = re.compile(r"[0-9a-f]{12}")  # as store_upload names an upload's folder


def data_dir() -> Path:
    return Path(os.environ.get(DATA_DIR_ENV) or PROJECT_DIR / "data")


def studies_dir() -> Path:
    return data_dir() / "studies"


def uploads_dir() -> Path:
    return data_dir() / "uploads"


def audit_path() -> Path:
    return data_dir() / "audit.log"


def slugify(name: str) -> str:
    """A file-name-safe slug of a study name (ASCII letters, digits, '-'); names without any
    (a Chinese name) get one from their hash, so that the same name gives the same slug."""
    ascii_text = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode()
    slug = "-".join(re.findall(r"[a-z0-9]+", ascii_text.lower()))[:48].strip("-")
    if not slug or slug == DEFAULT_SLUG:
        slug = "study-" + hashlib.sha256(str(name).encode()).hexdigest()[:8]
    return slug


def valid_slug(slug: str) -> bool:
    return bool(_SLUG.fullmatch(slug or "")) and slug != DEFAULT_SLUG


def study_path(slug: str) -> Path:
    """The file of ``slug`` (the default study's own path for :data:`DEFAULT_SLUG`)."""
    if slug == DEFAULT_SLUG:
        return default_study_path()
    if not valid_slug(slug):
        raise ValueError(f"not a study slug: {slug!r}")
    return studies_dir() / f"{slug}{STUDY_SUFFIX}"


@dataclass(frozen=True)
class StudyEntry:
    """One study the dashboard offers: its slug, file and what its ``study_info`` says."""

    slug: str
    path: Path
    name: str
    built_at: str
    content_hash: str
    synthetic: bool

    @property
    def short_hash(self) -> str:
        return self.content_hash[:12]


_INFO_CACHE: dict[tuple, dict[str, str]] = {}  # (path, identity) -> study_info


def _info_of(path: Path) -> dict[str, str] | None:
    """The ``study_info`` of a study file, or None when it cannot be read (it is then left out
    of the list; opening it would say why)."""
    from .integrity import StudyFileError, connect_safely, file_identity

    try:
        key = (str(path), astuple(file_identity(path)))
    except StudyFileError:
        return None
    if key not in _INFO_CACHE:
        try:
            con = connect_safely(path)
            try:
                _INFO_CACHE[key] = dict(
                    con.execute("SELECT key, value FROM study_info").fetchall())
            finally:
                con.close()
        except Exception:  # noqa: BLE001 - any unreadable file is simply not listed
            return None
    return _INFO_CACHE[key]


def _entry(slug: str, path: Path) -> StudyEntry | None:
    info = _info_of(path)
    if info is None:
        return None
    return StudyEntry(slug, path, info.get("name") or slug, info.get("built_at", ""),
                      info.get("content_hash", ""), info.get("synthetic") == "true")


def list_studies() -> list[StudyEntry]:
    """The default study first (listed even before it is built), then every built study in the
    data folder, by name."""
    default = default_study_path()
    entries = [_entry(DEFAULT_SLUG, default) or StudyEntry(
        DEFAULT_SLUG, default, DEFAULT_SLUG, "", "", True)]
    built = []
    if studies_dir().is_dir():
        for path in sorted(studies_dir().glob(f"*{STUDY_SUFFIX}")):
            slug = path.name[: -len(STUDY_SUFFIX)]
            entry = valid_slug(slug) and _entry(slug, path)
            if entry:
                built.append(entry)
    return entries + sorted(built, key=lambda e: (e.name.lower(), e.slug))


def remove_study(slug: str) -> Path:
    """Delete the built study ``slug`` (never the default one). Returns the removed path."""
    if slug == DEFAULT_SLUG:
        raise ValueError("the default study is never removed")
    path = study_path(slug)
    path.unlink()
    wal = path.with_name(path.name + ".wal")
    if wal.exists():
        wal.unlink()
    return path


# -- uploads -------------------------------------------------------------------------------------
class UploadError(ValueError):
    """An upload that cannot be stored (an unsafe or empty zip); ``code`` picks the catalogue
    message ``upload.error.<code>``, ``name`` the file."""

    def __init__(self, code: str, name: str):
        self.code, self.name = code, name
        super().__init__(f"{code}: {name}")


UPLOAD_ERRORS = ("unsafe_name", "bad_zip", "empty", "too_many")


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _safe_name(name: str) -> str:
    """The plain file name of an uploaded or zipped file; refuses paths that climb out."""
    parts = PurePosixPath(name.replace("\\", "/")).parts
    if not parts or ".." in parts or parts[0] == "/":
        raise UploadError("unsafe_name", name)
    return parts[-1]


def store_upload(files: list[tuple[str, bytes]]) -> tuple[str, Path, dict[str, str]]:
    """Store uploaded files (``(name, bytes)``; a ``.zip`` is unpacked, its folders flattened)
    in a new ``<data>/uploads/<upload id>/``. Returns the upload id, the folder and the sha256
    of every stored file (by name) — the uploaded zip's own hash under its name too."""
    stored: dict[str, bytes] = {}
    hashes: dict[str, str] = {}
    for name, data in files:
        if name.lower().endswith(".zip"):
            hashes[_safe_name(name)] = sha256_bytes(data)
            try:
                archive = zipfile.ZipFile(io.BytesIO(data))
            except zipfile.BadZipFile:
                raise UploadError("bad_zip", name) from None
            with archive:
                for member in archive.infolist():
                    if member.is_dir():
                        continue
                    inner = _safe_name(member.filename)
                    if inner.startswith(".") or "__MACOSX" in member.filename:
                        continue  # macOS resource forks and hidden files are not the export
                    stored[inner] = archive.read(member)
        else:
            stored[_safe_name(name)] = data
    if not stored:
        raise UploadError("empty", ", ".join(n for n, _ in files) or "-")
    if len(stored) > MAX_UPLOAD_FILES:
        raise UploadError("too_many", str(len(stored)))
    upload_id = secrets.token_hex(6)
    folder = uploads_dir() / upload_id
    folder.mkdir(parents=True, exist_ok=False)
    try:
        os.chmod(folder, 0o700)  # patient data: readable by the server's user only
        for name, data in stored.items():
            (folder / name).write_bytes(data)
            hashes[name] = sha256_bytes(data)
    except OSError:  # a disk full half way: no partial copy of the export is left behind
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return upload_id, folder, hashes


def upload_hours() -> float:
    """How many hours an upload's folder is kept: ``MSC_RA_UPLOAD_HOURS``, default 24; 0 keeps
    uploads until they are removed by hand. Raises ValueError naming the variable when it is
    not a number of hours."""
    raw = os.environ.get(UPLOAD_HOURS_ENV, "").strip()
    if not raw:
        return DEFAULT_UPLOAD_HOURS
    try:
        hours = float(raw)
    except ValueError:
        hours = math.nan
    if not math.isfinite(hours) or hours < 0:
        raise ValueError(f"{UPLOAD_HOURS_ENV}={raw!r} is not a number of hours (0 or more; "
                         f"0 keeps uploads)")
    return hours


def sweep_uploads(hours: float | None = None, now: float | None = None) -> list[str]:
    """Remove the upload folders last written more than ``hours`` ago (default
    :func:`upload_hours`; 0 removes nothing) and return their ids, oldest name first.

    An upload is the study team's raw export, patient data that is needed only until its study
    is built (the built study keeps the data, the audit log the files' hashes), so it is not
    kept on the server longer than that. Only folders named as :func:`store_upload` names them
    are touched; a symbolic link is never followed."""
    hours = upload_hours() if hours is None else hours
    root = uploads_dir()
    if hours == 0 or not root.is_dir():
        return []
    cutoff = (time.time() if now is None else now) - hours * 3600
    removed = []
    for entry in sorted(root.iterdir()):
        if entry.is_symlink() or not entry.is_dir() or not _UPLOAD_ID.fullmatch(entry.name):
            continue
        try:
            if entry.stat().st_mtime >= cutoff:
                continue
            shutil.rmtree(entry)
        except FileNotFoundError:  # another session's sweep removed it first
            continue
        removed.append(entry.name)
    return removed
