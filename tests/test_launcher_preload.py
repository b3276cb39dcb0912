"""Issue 13, home page: the launcher does before the server listens what a first session would
otherwise wait for (dashboard.launcher.preload), so that this session costs what a later one
does: the default study open and verified, and the default page's blocks, as the first visitor
sees them, kept."""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from analytics import views
from apptest_support import APP
from dashboard import launcher, study_source

pytestmark = pytest.mark.usefixtures("dashboard_study")


def test_first_session_draws_the_preloaded_default_page(monkeypatch):
    study_source.forget_views()
    launcher.preload()
    preloaded = list(study_source._VIEW_BLOCKS)
    assert len(preloaded) == 1, "the default page's blocks are kept"
    served = study_source.served_study()
    assert preloaded[0][:3] == (str(served.path), served.identity, served.info["content_hash"])

    built = []
    real_blocks = views.blocks
    monkeypatch.setattr(views, "blocks", lambda *args: built.append(args) or real_blocks(*args))
    at = AppTest.from_file(str(APP), default_timeout=60).run()  # a first visitor: no state
    assert not at.exception
    assert list(study_source._VIEW_BLOCKS) == preloaded, "the same page, same state"
    assert not built, "nothing built again in the first session's run"
    assert at.title[0].value  # the page is drawn


def test_a_study_that_cannot_be_served_is_left_to_the_page(monkeypatch, tmp_path, caplog):
    """A bad default study does not stop the server (the page says what is wrong): preload
    logs it and keeps nothing."""
    bad = tmp_path / "study.duckdb"
    bad.write_bytes(b"not a study")
    monkeypatch.setenv("MSC_RA_STUDY", str(bad))
    study_source.served_study.clear()
    try:
        launcher.preload()
        assert not study_source._VIEW_BLOCKS
        assert any(r.name == launcher.__name__ and r.levelname == "WARNING"
                   for r in caplog.records)
    finally:
        study_source.served_study.clear()


def test_start_up_objects_are_frozen_before_the_server_listens(monkeypatch):
    """Streamlit collects garbage in full after every script run; what start-up made is moved
    out of that collection's sight (gc.freeze) after the preload and before the server
    starts."""
    from streamlit.web import cli

    from analytics.study import PROJECT_DIR

    steps = []
    monkeypatch.chdir(PROJECT_DIR)  # restored afterwards; the launcher changes to it
    monkeypatch.setenv(launcher.EXPORT_WARMUP_ENV, "0")
    for name in ("fewer_malloc_arenas", "quiet_network", "navigation_only"):
        monkeypatch.setattr(launcher, name, lambda: None)
    monkeypatch.setattr(launcher, "preload", lambda: steps.append("preload"))
    monkeypatch.setattr(launcher.gc, "freeze", lambda: steps.append("freeze"))
    monkeypatch.setattr(cli.main, "main", lambda **kwargs: steps.append("serve"))
    launcher.main(["--port", "8599", "--address", "127.0.0.1"])
    assert steps == ["preload", "freeze", "serve"]
