"""Old uploads are removed: an upload is a study team's raw export (patient data), needed only
until its study is built, so the server keeps it ``MSC_RA_UPLOAD_HOURS`` hours (default 24; 0
keeps uploads). The sweep runs when the launcher starts and before each new upload on the "Load a
study" page; each removal has a line in the audit log (user ``server``). A session whose upload
was removed is told so, and its uploader's files are stored again as a new upload.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from analytics.i18n import t
from analytics.study_catalog import (DATA_DIR_ENV, DEFAULT_UPLOAD_HOURS, UPLOAD_HOURS_ENV,
                                     sweep_uploads, upload_hours, uploads_dir)
from dashboard import launcher
from tests.apptest_support import run_page
from tests.test_load_study import PAGE, audit_lines, data_dir, export, texts, upload  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent
HOUR = 3600


def _upload_folder(name: str, age_hours: float, now: float) -> Path:
    folder = uploads_dir() / name
    folder.mkdir(parents=True)
    (folder / "visits.csv").write_text("subject_id\n1\n")
    stamp = now - age_hours * HOUR
    os.utime(folder, (stamp, stamp))
    return folder


@pytest.fixture
def folder(tmp_path, monkeypatch):
    data = tmp_path / "data"
    monkeypatch.setenv(DATA_DIR_ENV, str(data))
    monkeypatch.delenv(UPLOAD_HOURS_ENV, raising=False)
    return data


def test_uploads_older_than_the_kept_hours_are_removed_and_nothing_else(folder, tmp_path):
    now = time.time()
    old = _upload_folder("0a1b2c3d4e5f", 25, now)
    older = _upload_folder("00112233aabb", 24 * 30, now)
    recent = _upload_folder("ffeeddccbbaa", 23, now)
    not_an_upload = _upload_folder("notes", 100, now)  # a name store_upload never gives
    a_file = uploads_dir() / "abcdefabcdef"
    a_file.write_text("not a folder")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "keep.csv").write_text("x")
    os.utime(outside, (now - 100 * HOUR, now - 100 * HOUR))
    link = uploads_dir() / "123456abcdef"
    link.symlink_to(outside, target_is_directory=True)

    assert sweep_uploads(24, now=now) == ["00112233aabb", "0a1b2c3d4e5f"]
    assert not old.exists() and not older.exists()
    assert recent.is_dir() and not_an_upload.is_dir() and a_file.is_file()
    assert link.is_symlink() and (outside / "keep.csv").is_file()  # never followed
    assert sweep_uploads(24, now=now) == []  # nothing left to remove


def test_zero_hours_keeps_every_upload_and_a_missing_folder_is_no_error(folder):
    assert sweep_uploads(24) == []  # no uploads folder yet
    now = time.time()
    old = _upload_folder("0a1b2c3d4e5f", 24 * 365, now)
    assert sweep_uploads(0, now=now) == [] and old.is_dir()


@pytest.mark.parametrize("value, hours", [("", DEFAULT_UPLOAD_HOURS), ("12", 12.0),
                                          (" 0.5 ", 0.5), ("0", 0.0)])
def test_the_kept_hours_come_from_the_environment(monkeypatch, value, hours):
    monkeypatch.setenv(UPLOAD_HOURS_ENV, value)
    assert upload_hours() == hours


@pytest.mark.parametrize("value", ["abc", "-1", "inf", "nan", "24h"])
def test_a_bad_value_is_refused_naming_the_variable(monkeypatch, value):
    monkeypatch.setenv(UPLOAD_HOURS_ENV, value)
    with pytest.raises(ValueError, match=f"{UPLOAD_HOURS_ENV}={value!r} is not a number"):
        upload_hours()


def test_the_launcher_sweeps_at_start_and_audits_each_removal(folder, monkeypatch):
    monkeypatch.setenv(UPLOAD_HOURS_ENV, "2")
    now = time.time()
    old = _upload_folder("0a1b2c3d4e5f", 3, now)
    kept = _upload_folder("ffeeddccbbaa", 1, now)
    assert launcher.sweep_old_uploads_at_start() is None
    assert not old.exists() and kept.is_dir()
    (line,) = audit_lines(folder)
    assert (line["action"], line["study"], line["user"]) == ("sweep", "0a1b2c3d4e5f", "server")
    assert line["detail"] == "upload older than 2 h removed"


def test_the_launcher_refuses_to_start_with_a_bad_value(folder):
    """End to end: the real launcher stops before serving, exit code 2, saying why."""
    env = dict(os.environ, **{UPLOAD_HOURS_ENV: "a day", DATA_DIR_ENV: str(folder)})
    done = subprocess.run([sys.executable, "-m", "dashboard.launcher", "--port", "1"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, (done.returncode, done.stderr[-2000:])
    assert f"{UPLOAD_HOURS_ENV}='a day' is not a number of hours" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_session_whose_upload_was_removed_is_told_and_its_files_stored_again(
        export, data_dir, lang):
    at = upload(run_page(PAGE, lang=lang), "export.zip", export["zip"])
    first = at.session_state["load_upload"]["id"]
    stamp = time.time() - 2 * DEFAULT_UPLOAD_HOURS * HOUR
    os.utime(uploads_dir() / first, (stamp, stamp))
    assert sweep_uploads() == [first]  # as another session's upload or a restart would

    at.run()
    assert not at.exception, at.exception
    said = t("load.upload_swept", lang, upload=first, hours="24")
    assert said in [info.value for info in at.info], texts(at)
    again = at.session_state["load_upload"]["id"]
    assert again != first and (uploads_dir() / again).is_dir()  # the uploader's files
    assert at.dataframe(key=f"load_editor_{again}").value.shape[0] > 0  # drafted anew
    actions = [(line["action"], line["study"]) for line in audit_lines(data_dir)]
    assert actions == [("upload", first), ("upload", again)]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_bad_value_under_streamlit_run_is_said_on_the_page_and_the_upload_stored(
        export, data_dir, monkeypatch, lang):
    """Started without the launcher (``streamlit run app.py``) nothing refuses the value: the
    page says what is wrong, in the reader's language, and stores the upload all the same."""
    monkeypatch.setenv(UPLOAD_HOURS_ENV, "a day")
    at = upload(run_page(PAGE, lang=lang), "export.zip", export["zip"])
    said = t("load.upload_hours_bad", lang, variable=UPLOAD_HOURS_ENV, value="a day")
    assert said in [error.value for error in at.error]
    assert (uploads_dir() / at.session_state["load_upload"]["id"]).is_dir()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_an_old_upload_that_cannot_be_removed_is_said_and_the_new_upload_stored(
        export, data_dir, monkeypatch, lang):
    """A sweep that meets an OSError (a folder the server may not delete) does not stop the
    reader's upload: the page says what could not be removed and why, and stores the upload."""
    old = _upload_folder("0123456789ab", 2 * DEFAULT_UPLOAD_HOURS, time.time())

    def refused(path, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(path))
    monkeypatch.setattr("analytics.study_catalog.shutil.rmtree", refused)
    at = upload(run_page(PAGE, lang=lang), "export.zip", export["zip"])
    assert not at.exception, at.exception
    said = t("load.sweep_failed", lang, folder=str(old), reason=t("os_error.EACCES", lang))
    assert said in [warning.value for warning in at.warning], texts(at)
    stored = at.session_state["load_upload"]["id"]
    assert (uploads_dir() / stored).is_dir() and old.is_dir()
    assert [line["action"] for line in audit_lines(data_dir)] == ["upload"]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_an_upload_the_disk_cannot_hold_is_said_and_leaves_nothing_behind(
        export, data_dir, monkeypatch, lang):
    """A write that fails half way (disk full) is a message in the reader's language, not a
    traceback; no partial copy of the export stays on the server and nothing is audited."""
    written = []
    real_write = Path.write_bytes

    def full_disk(self, data):
        if written:
            raise OSError(28, "No space left on device", str(self))
        written.append(self)
        return real_write(self, data)
    monkeypatch.setattr(Path, "write_bytes", full_disk)
    at = upload(run_page(PAGE, lang=lang), "export.zip", export["zip"])
    assert not at.exception, at.exception
    said = t("load.upload_not_stored", lang, reason=t("os_error.ENOSPC", lang))
    assert said in [error.value for error in at.error], texts(at)
    assert written and not written[0].exists()
    assert list(uploads_dir().iterdir()) == []
    assert "load_upload" not in at.session_state
    assert not (data_dir / "audit.log").exists()  # no "upload" line for what was not kept
