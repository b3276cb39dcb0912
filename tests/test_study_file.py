"""Opening the study file (issue 15, items 2, 3, 5): every bad file is refused with a message in
the reader's language and a reference id (details only in the server log); the file is verified
on open (schema, content hash); the dashboard reopens a replaced file and never serves a result
of an older or refused one; the read-only connection cannot reach outside the file."""
from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from analytics import open_study
from analytics.i18n import LANGUAGES, t
from analytics.integrity import STUDY_ERRORS, StudyFileError, content_hash
from analytics.study import DEFAULT_STUDY_PATH, STUDY_ENV_VAR
from apptest_support import reset_dashboard_study, run_page

REFERENCE = re.compile(r"S-[0-9A-F]{6}")
OVERVIEW = "pages/overview.py"


@pytest.fixture(scope="module")
def good_file(tmp_path_factory) -> Path:
    """A copy of the embedded study (built if missing), verified."""
    open_study().close()
    path = tmp_path_factory.mktemp("good") / "study.duckdb"
    shutil.copyfile(DEFAULT_STUDY_PATH, path)
    return path


def _copy(good_file: Path, tmp_path: Path, name: str = "study.duckdb") -> Path:
    path = tmp_path / name
    shutil.copyfile(good_file, path)
    return path


def _rewrite(path: Path, *sql: str) -> None:
    con = duckdb.connect(str(path))
    try:
        for statement in sql:
            con.execute(statement)
        con.execute("CHECKPOINT")
    finally:
        con.close()


# Each bad file: (name, how to make it from the good file in a folder, expected reason code)
def _missing(good, d):
    return d / "no-such-folder" / "study.duckdb"


def _text(good, d):
    p = d / "study.duckdb"
    p.write_text("subject_id,arm\nS001,MSC\n", encoding="utf-8")
    return p


def _empty(good, d):
    p = d / "study.duckdb"
    p.write_bytes(b"")
    return p


def _no_tables(good, d):
    p = d / "other.duckdb"
    _rewrite(p, "CREATE TABLE measurements (id INTEGER, value DOUBLE)",
             "INSERT INTO measurements VALUES (1, 2.5)")
    return p


def _truncated(good, d):
    p = _copy(good, d)
    with open(p, "r+b") as fh:
        fh.truncate(os.path.getsize(p) // 3)
    return p


def _changed(good, d):
    d.mkdir(exist_ok=True)
    p = _copy(good, d)
    _rewrite(p, "UPDATE visits SET tjc28 = LEAST(tjc28 + 1, 28) "
                "WHERE subject_id = (SELECT min(subject_id) FROM visits) AND visit = 'Y1'")
    return p


def _no_hash(good, d):
    p = _copy(good, d)
    _rewrite(p, "DELETE FROM study_info WHERE key = 'content_hash'")
    return p


def _folder(good, d):
    p = d / "study.duckdb"
    p.mkdir()
    return p


BAD_FILES = [
    ("missing", _missing, "missing"),
    ("text", _text, "not_duckdb"),
    ("empty", _empty, "empty"),
    ("no_study_tables", _no_tables, "wrong_schema"),
    ("truncated", _truncated, "truncated"),
    ("content_changed", _changed, "checksum"),
    ("no_content_hash", _no_hash, "no_checksum"),
    ("folder", _folder, "not_a_file"),
]
IDS = [b[0] for b in BAD_FILES]


@pytest.mark.parametrize("name,make,code", BAD_FILES, ids=IDS)
def test_bad_file_is_refused_with_reason_and_reference(good_file, tmp_path, caplog, name, make,
                                                        code):
    path = make(good_file, tmp_path)
    with caplog.at_level(logging.ERROR, logger="msc_ra.study"):
        with pytest.raises(StudyFileError) as info:
            open_study(path)
    error = info.value
    assert error.code == code, f"{name}: {error}"
    assert REFERENCE.fullmatch(error.reference)
    for lang in LANGUAGES:
        text = error.message(lang)
        assert t(f"study_error.{code}", lang) in text
        assert t(f"study_error.{code}.todo", lang) in text
        assert error.reference in text
        assert str(tmp_path) not in text and "Traceback" not in text
    # the details, under the same reference, are in the server log
    logged = [r for r in caplog.records if error.reference in r.getMessage()]
    assert logged and str(path) in logged[0].getMessage()


def test_every_reason_has_a_message():
    for code in STUDY_ERRORS:
        for lang in LANGUAGES:
            assert t(f"study_error.{code}", lang) and t(f"study_error.{code}.todo", lang)


def test_mistyped_configured_path_builds_nothing(tmp_path, monkeypatch):
    """Only the embedded default is built when missing: a wrong MSC_RA_STUDY is an error, and
    neither its folder nor a lock file is created."""
    wrong = tmp_path / "typo" / "study.duckdb"
    monkeypatch.setenv(STUDY_ENV_VAR, str(wrong))
    with pytest.raises(StudyFileError) as info:
        open_study()
    assert info.value.code == "missing"
    assert list(tmp_path.iterdir()) == []


def test_good_file_opens_with_hash_and_build_time(good_file):
    with open_study(good_file) as study:
        info = study.info
        assert re.fullmatch(r"[0-9a-f]{64}", info["content_hash"])
        assert info["content_hash"] == content_hash(study.con, study.catalog)
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", info["built_at"])
        assert info["name"]


# -- the read-only connection is confined to the file --------------------------------------------
@pytest.mark.parametrize("sql", [
    "SELECT * FROM read_text('/etc/hostname')",
    "SELECT * FROM read_csv('/etc/passwd')",
    "COPY subjects TO '{tmp}/leak.csv'",
    "ATTACH '{tmp}/other.duckdb' AS other",
    "INSTALL httpfs",
    "LOAD httpfs",
    "SET enable_external_access = true",
    "SET autoinstall_known_extensions = true",
], ids=["read_text", "read_csv", "copy_to", "attach", "install", "load", "set_access",
        "set_autoinstall"])
def test_connection_cannot_reach_outside_the_file(good_file, tmp_path, sql):
    with open_study(good_file) as study:
        with pytest.raises(duckdb.Error):
            study.query(sql.format(tmp=tmp_path))
    assert not (tmp_path / "leak.csv").exists()


# -- the dashboard (AppTest) -----------------------------------------------------------------------
@pytest.fixture
def configured(monkeypatch):
    """Point the dashboard at a file (MSC_RA_STUDY) with its caches dropped."""
    def point(path: Path):
        monkeypatch.setenv(STUDY_ENV_VAR, str(path))
        reset_dashboard_study()
    yield point
    monkeypatch.delenv(STUDY_ENV_VAR, raising=False)
    reset_dashboard_study()


def _shown_error(at) -> str:
    assert not at.exception, [e.value for e in at.exception]
    errors = [e.value for e in at.error]
    assert len(errors) == 1, errors
    return errors[0]


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("name,make,code", BAD_FILES, ids=IDS)
def test_page_shows_message_not_traceback(good_file, tmp_path, configured, lang, name, make,
                                          code):
    configured(make(good_file, tmp_path))
    at = run_page(OVERVIEW, lang=lang)
    shown = _shown_error(at)
    assert t("study_error.title", lang) in shown
    assert t(f"study_error.{code}", lang) in shown
    assert REFERENCE.search(shown)
    assert str(tmp_path) not in shown and "Traceback" not in shown
    assert not at.title  # nothing of the page is drawn from a refused file


def _subject_count(at) -> str:
    """The overview's first table as text (its counts change with the data)."""
    return at.dataframe[0].value.to_csv() if at.dataframe else ""


def test_replaced_file_is_reopened_and_deleted_file_is_a_message(good_file, tmp_path,
                                                                  configured):
    path = _copy(good_file, tmp_path)
    configured(path)
    at = run_page(OVERVIEW)
    assert not at.exception and not at.error
    before = _subject_count(at)

    # Replace the file (as a rebuild does: a new file moved over the old one) with one that
    # has a subject fewer; same session, next run: the new data and the "updated" notice.
    new = _copy(good_file, tmp_path, "new.duckdb")
    _rewrite(new, "DELETE FROM visits WHERE subject_id = (SELECT max(subject_id) FROM subjects)",
             "DELETE FROM adverse_events WHERE subject_id = "
             "(SELECT max(subject_id) FROM subjects)",
             "DELETE FROM medications WHERE subject_id = (SELECT max(subject_id) FROM subjects)",
             "DELETE FROM subjects WHERE subject_id = (SELECT max(subject_id) FROM subjects)")
    con = duckdb.connect(str(new))
    con.execute("UPDATE study_info SET value = ? WHERE key = 'content_hash'",
                [content_hash(con)])
    con.execute("UPDATE study_info SET value = '2030-01-01T00:00:00+00:00' "
                "WHERE key = 'built_at'")
    con.close()
    os.replace(new, path)
    at.run()
    assert not at.exception and not at.error
    notices = [i.value for i in at.info]
    assert any(t("study.updated", "en", built_at="2030-01-01T00:00:00+00:00") == n
               for n in notices), notices
    after = _subject_count(at)
    assert after != before

    # A new session sees the new data too.
    fresh = run_page(OVERVIEW)
    assert _subject_count(fresh) == after

    # Overwritten in place (same inode, as `cp` does) by a copy whose content was changed after
    # its build: refused, and no cached result of the earlier version is shown.
    changed = _changed(good_file, tmp_path / "changed")
    shutil.copyfile(changed, path)
    at.run()
    assert t("study_error.checksum", "en") in _shown_error(at)
    fresh = run_page(OVERVIEW)
    assert t("study_error.checksum", "en") in _shown_error(fresh)

    # Back to a good file in place, then truncated in place: refused.
    shutil.copyfile(good_file, path)
    at.run()
    assert not at.exception and not at.error and _subject_count(at) == before
    with open(path, "r+b") as fh:
        fh.truncate(os.path.getsize(path) // 3)
    at.run()
    assert t("study_error.truncated", "en") in _shown_error(at)

    # Deleted under the running session: a message, no traceback.
    path.unlink()
    at.run()
    assert t("study_error.missing", "en") in _shown_error(at)


def test_command_line_names_the_problem(good_file, tmp_path):
    """``analytics deck --study BAD``: the message and reference, exit 2, no traceback."""
    bad = _text(good_file, tmp_path)
    done = subprocess.run([sys.executable, "-m", "analytics", "deck", "--study", str(bad),
                           "--out", str(tmp_path / "deck.pptx"), "--lang", "zh"],
                          cwd=Path(__file__).resolve().parent.parent, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2
    assert t("study_error.not_duckdb", "zh") in done.stderr and REFERENCE.search(done.stderr)
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "deck.pptx").exists()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_run_whose_file_is_rewritten_in_place_says_reload(good_file, tmp_path, configured,
                                                            monkeypatch, lang):
    """The file is overwritten in place (same inode, as `cp` does) while a run reads it: its
    connection is closed under the run, which then says "reload" in the reader's language, with
    no traceback; the next run shows the new file."""
    import analytics.views as views
    from dashboard import study_source

    path = _copy(good_file, tmp_path)
    configured(path)
    at = run_page("survival", lang=lang)
    assert not at.exception and not at.error
    drawn_blocks = views.blocks  # what dashboard.study_source.view_blocks builds with

    def rewritten_mid_run(study, state):
        before = os.stat(path)
        shutil.copyfile(good_file, path)  # same inode, new content time
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns + 10**9))
        study_source.served_study()  # another session's run notices the new file first
        return drawn_blocks(study, state)  # this run goes on with the closed connection

    monkeypatch.setattr(views, "blocks", rewritten_mid_run)
    at.session_state["filter_sex"] = "M"  # results not memoised yet: the analyses read the file
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert t("study.replaced_during_run", lang) in [i.value for i in at.info]

    monkeypatch.setattr(views, "blocks", drawn_blocks)
    at.run()
    assert not at.exception and not at.error
    assert t("study.replaced_during_run", lang) not in [i.value for i in at.info]
    assert at.dataframe  # the page is drawn again, from the new file
