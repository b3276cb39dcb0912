"""A study's queries reuse the cursors it has set up (issue 13: setting up a cursor per query cost
more than many a query), one query per cursor at a time, with the same confinement."""
from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor

import duckdb
import pytest

from analytics import open_study
from analytics.study import DEFAULT_STUDY_PATH

COUNT_SQL = "SELECT arm, count(*) AS n FROM subject_info WHERE sex = ? GROUP BY arm ORDER BY arm"


@pytest.fixture
def copied(tmp_path):
    open_study().close()  # builds the default study if missing
    path = tmp_path / "study.duckdb"
    shutil.copyfile(DEFAULT_STUDY_PATH, path)
    return path


def test_sequential_queries_reuse_one_cursor(copied):
    with open_study(copied) as study:
        first = study.query(COUNT_SQL, ["F"])
        idle = list(study._idle_cursors)
        assert len(idle) == 1
        for _ in range(5):
            again = study.query(COUNT_SQL, ["F"])
        assert study._idle_cursors == idle  # the same cursor, no new one
        assert again.equals(first)
        # the reused cursor still reads the kept measures first, then the file's tables
        kept = study.query("SELECT count(*) AS n FROM subject_info")
        raw = study.query('SELECT count(*) AS n FROM "study".main.subjects')
        assert int(kept.n[0]) == int(raw.n[0]) > 0


def test_a_failed_query_drops_its_cursor_and_stays_confined(copied, tmp_path):
    with open_study(copied) as study:
        study.query(COUNT_SQL, ["M"])
        [idle] = study._idle_cursors
        with pytest.raises(duckdb.Error):
            study.query(f"COPY subjects TO '{tmp_path}/leak.csv'")
        assert study._idle_cursors == []  # the cursor that failed was closed, not kept
        with pytest.raises(duckdb.Error):
            idle.execute("SELECT 1")
        with pytest.raises(duckdb.Error):
            study.query("SET enable_external_access = true")
        with pytest.raises(duckdb.Error):  # still refused on the reused cursor
            study.query("SELECT * FROM read_text('/etc/hostname')")
        assert not (tmp_path / "leak.csv").exists()


def test_concurrent_queries_get_cursors_of_their_own(copied):
    with open_study(copied) as study:
        expected = {sex: study.query(COUNT_SQL, [sex]) for sex in ("F", "M")}
        with ThreadPoolExecutor(4) as pool:
            got = list(pool.map(lambda i: (i % 2, study.query(COUNT_SQL, ["FM"[i % 2]])),
                                range(40)))
        for i, frame in got:
            assert frame.equals(expected["FM"[i]])
        assert 1 <= len(study._idle_cursors) <= 4


def test_close_closes_the_idle_cursors_so_the_file_can_be_opened_again(copied):
    study = open_study(copied)
    study.query(COUNT_SQL, ["F"])
    idle = list(study._idle_cursors)
    study.close()
    assert study._idle_cursors == []
    with pytest.raises(duckdb.Error):
        idle[0].execute("SELECT 1")
    with open_study(copied) as again:  # the same file (same inode) attached anew
        assert len(again.query(COUNT_SQL, ["F"])) == 2
