"""Issue 12, items 2-3: the "Load a study" page, the study switcher, the audit log, and a real
study's differences (its own arm labels, no synthetic banner, empty safety tables).

The messy export (tests/messy_export.py) is uploaded as one zip through the page's file
uploader (AppTest), its drafted mapping validated and, with the hand-written mapping in the
upload, built into the data folder of the test (``MSC_RA_DATA_DIR``)."""
from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import zipfile
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from analytics import study_loading
from analytics.build import build_study
from analytics.i18n import t
from analytics.importer import ContractError
from analytics.study_catalog import (DATA_DIR_ENV, DEFAULT_SLUG, UploadError, list_studies,
                                     slugify, store_upload, study_path)
from analytics.synth import DEFAULT_SEED, write_cohort
from tests.apptest_support import reset_dashboard_study, run_page, switch_to
from tests.messy_export import mapping_text, write_messy_export

PAGE = "pages/load_study.py"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def zipped(folder: Path, extra: dict[str, bytes] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(folder.iterdir()):
            archive.write(path, f"export/{path.name}")
        for name, data in (extra or {}).items():
            archive.writestr(f"export/{name}", data)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("load")
    write_cohort(tmp / "clean", seed=DEFAULT_SEED)
    folder = write_messy_export(tmp / "clean", tmp / "export")
    return {"tmp": tmp, "folder": folder, "zip": zipped(folder),
            "zip_with_mapping": zipped(folder, {"mapping.toml": mapping_text().encode()})}


@pytest.fixture
def data_dir(tmp_path, monkeypatch, dashboard_study):
    folder = tmp_path / "data"
    monkeypatch.setenv(DATA_DIR_ENV, str(folder))
    reset_dashboard_study()
    yield folder
    reset_dashboard_study()


def audit_lines(folder: Path) -> list[dict]:
    path = folder / "audit.log"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def audited_actions(folder: Path) -> list[str]:
    """The actions in the audit log, in order ([] before its first line)."""
    return ([line["action"] for line in audit_lines(folder)]
            if (folder / "audit.log").exists() else [])


def texts(at) -> str:
    parts = [e.value for kind in ("markdown", "caption", "success", "error", "warning", "info",
                                   "title", "subheader") for e in getattr(at, kind)]
    return "\n".join(str(p) for p in parts)


def problems_of(at, column: str = "Contract column") -> pd.DataFrame:
    """The problems table (a st.dataframe has no key in AppTest: found by a column name)."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def upload(at, name: str, data: bytes):
    at.file_uploader(key="load_files").set_value((name, data, "application/zip"))
    at.run()
    assert not at.exception, at.exception
    return at


# -- the page --------------------------------------------------------------------------------
def test_upload_draft_and_validate_show_every_problem_in_source_names(export, data_dir):
    at = upload(run_page(PAGE), "export.zip", export["zip"])
    shown = texts(at)
    assert "could not map 2 entries" in shown and "code “A组” of arm" in shown
    editor = at.dataframe(key=f"load_editor_{at.session_state['load_upload']['id']}")
    rows = editor.value
    arms = rows[rows.section == "arms"]
    assert sorted(arms.key) == ["A组", "B组"] and (arms.value == "").all()
    assert (arms.todo == "MSC, MSC_IFNG").all()
    assert (rows[rows.section == "columns.visits"].set_index("key").value["tjc28"]
            == '"压痛关节数"')
    at.button(key="load_validate").click().run()
    assert not at.exception
    assert at.error[0].value == "110 problems found. Nothing was written."  # all listed
    problems = problems_of(at)
    first = problems.iloc[0]
    assert first["File"] == "受试者信息.xlsx [人口学]" and first["Row"] == 2
    assert first["Column (export)"] == "组别" and first["Contract column"] == "subjects.arm"
    assert not (data_dir / "studies").exists()  # validating writes no study
    lines = audit_lines(data_dir)
    assert [line["action"] for line in lines] == ["upload", "validate"]
    upload_id = at.session_state["load_upload"]["id"]
    assert lines[0]["study"] == upload_id and lines[0]["user"] == "local"
    assert lines[0]["hashes"]["export.zip"] == sha256(export["zip"])
    assert lines[0]["hashes"]["关节评估.csv"] == sha256(
        (export["folder"] / "关节评估.csv").read_bytes())
    assert lines[1]["detail"] == f"{problems.shape[0]} problems"  # here all are listed


def test_build_switch_and_see_the_new_study(export, data_dir):
    at = upload(run_page(PAGE), "export.zip", export["zip_with_mapping"])
    assert at.text_input(key="load_name").value == "MSC RA trial export"  # the mapping's name
    at.text_input(key="load_name").set_value("Messy export trial").run()
    at.button(key="load_validate").click().run()
    assert "The export is valid" in texts(at)
    at.button(key="load_build").click().run()
    assert not at.exception, at.exception
    slug = slugify("Messy export trial")
    built = study_path(slug)
    assert built.exists() and "Study \"Messy export trial\" built" in texts(at)
    at.button(key="load_switch").click().run()
    assert at.session_state["filter_study"] == slug
    switcher = at.selectbox(key="w_study")
    assert switcher.options == ["Synthetic cohort (default)", "Messy export trial"]
    assert switcher.value == slug
    switch_to(at, "overview").run()
    assert not at.exception, at.exception
    assert at.query_params.get("study") in ([slug], slug)
    # the mapping names the arms; the pages say those names
    info = dict(duckdb.connect(str(built), read_only=True).execute(
        "SELECT key, value FROM study_info").fetchall())
    lines = audit_lines(data_dir)
    assert [line["action"] for line in lines] == ["upload", "validate", "build", "switch"]
    build_line = lines[2]
    assert build_line["study"] == slug
    assert build_line["hashes"]["content_hash"] == info["content_hash"]
    assert build_line["hashes"]["export.zip"] == sha256(export["zip_with_mapping"])
    assert lines[3]["hashes"] == {"content_hash": info["content_hash"]}


def test_a_failed_build_changes_nothing(export, data_dir):
    at = upload(run_page(PAGE), "export.zip", export["zip_with_mapping"])
    at.text_input(key="load_name").set_value("Same trial").run()
    at.button(key="load_build").click().run()
    built = study_path(slugify("Same trial"))
    before = built.read_bytes()
    studies_before = sorted(p.name for p in built.parent.iterdir())
    # the same name again, from the export without its mapping: the arms are not mapped
    at = upload(run_page(PAGE), "export.zip", export["zip"])
    at.text_input(key="load_name").set_value("Same trial").run()
    assert "building replaces it" in texts(at)
    at.button(key="load_build").click().run()
    assert not at.exception
    assert "The build stopped; the studies in the data folder are unchanged." in texts(at)
    assert "110 problems found (the first 50 are listed)" in texts(at)  # as the CLI; Validate
    assert problems_of(at).iloc[0]["Contract column"] == "subjects.arm"
    assert built.read_bytes() == before
    assert sorted(p.name for p in built.parent.iterdir()) == studies_before
    assert audit_lines(data_dir)[-1]["detail"].startswith("failed:")


def test_remove_needs_confirmation_and_never_the_default(export, data_dir):
    raw = export["tmp"] / "clean"
    build_study(raw, study_path("other-trial"), info={"name": "Other trial"})
    at = run_page(PAGE)
    assert at.selectbox(key="load_remove_slug").options == ["Other trial (other-trial)"]
    assert at.button(key="load_remove").disabled
    at.checkbox(key="load_remove_sure_other-trial").check().run()
    at.button(key="load_remove").click().run()
    assert not at.exception
    assert not study_path("other-trial").exists()
    assert [e.slug for e in list_studies()] == [DEFAULT_SLUG]
    assert "Study \"Other trial\" removed." in texts(at)
    assert audit_lines(data_dir)[-1]["action"] == "remove"
    with pytest.raises(ValueError):
        from analytics.study_catalog import remove_study
        remove_study(DEFAULT_SLUG)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_study_the_folder_will_not_let_go_is_said_and_kept(export, data_dir, monkeypatch,
                                                             lang):
    """A removal the data folder refuses (permissions) is a message in the reader's language,
    not a traceback; the study stays listed and nothing is audited as removed."""
    build_study(export["tmp"] / "clean", study_path("other-trial"), info={"name": "Other trial"})
    at = run_page(PAGE, lang=lang)

    def refused(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(self))
    at.checkbox(key="load_remove_sure_other-trial").check().run()
    with monkeypatch.context() as patched:
        patched.setattr(Path, "unlink", refused)
        at.button(key="load_remove").click().run()
    assert not at.exception, at.exception
    said = t("load.remove_failed", lang, name="Other trial", reason=t("os_error.EACCES", lang))
    assert said in [error.value for error in at.error], texts(at)
    assert study_path("other-trial").exists()
    assert "other-trial" in [e.slug for e in list_studies()]
    assert "remove" not in audited_actions(data_dir)


def test_a_study_another_session_removed_first_is_gone_without_an_error(export, data_dir,
                                                                        monkeypatch):
    """Two people removing the same study: the second finds it gone, and sees the list without
    it (the first session's removal is the one audited)."""
    from analytics.study_catalog import remove_study
    build_study(export["tmp"] / "clean", study_path("other-trial"), info={"name": "Other trial"})
    at = run_page(PAGE)
    at.checkbox(key="load_remove_sure_other-trial").check().run()

    def removed_first(slug):
        study_path(slug).unlink()  # the other session, between this page's list and its click
        return remove_study(slug)
    monkeypatch.setattr("dashboard.load_study.remove_study", removed_first)
    at.button(key="load_remove").click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert [e.slug for e in list_studies()] == [DEFAULT_SLUG]
    assert "remove" not in audited_actions(data_dir)


def test_page_in_chinese_shows_no_english(export, data_dir):
    at = upload(run_page(PAGE, lang="zh"), "export.zip", export["zip"])
    at.button(key="load_validate").click().run()
    assert not at.exception
    chrome = "\n".join([at.title[0].value, at.error[0].value, at.button(key="load_validate").label,
                        *problems_of(at, "数据约定列").columns])
    assert not re.search(r"\b(problems|found|Validate|File|Row|Column)\b", chrome), chrome
    assert "发现" in at.error[0].value
    first = problems_of(at, "数据约定列").iloc[0]
    assert (first["规则"], first["问题"]) == ("arm 须为以下之一:MSC, MSC_IFNG",
                                          "取值 'B组' 不是允许的值")
    assert "arm 的编码“A组”" in at.warning[0].value and "检测项目“HGB”" in texts(at)


# -- the steps without Streamlit ---------------------------------------------------------------
def test_unsafe_zip_names_are_refused(data_dir):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("../../etc/evil.csv", "a,b\n")
    with pytest.raises(UploadError) as info:
        store_upload([("evil.zip", buffer.getvalue())])
    assert info.value.code == "unsafe_name"
    with pytest.raises(UploadError):
        store_upload([("broken.zip", b"not a zip")])
    assert not (data_dir / "uploads").exists() or not any((data_dir / "uploads").iterdir())


def test_failed_build_function_leaves_the_file_and_folder_as_they_were(export, data_dir):
    rows = study_loading.draft_rows(export["folder"]).rows  # arms not filled in
    out = study_path(slugify("Kept"))
    out.parent.mkdir(parents=True)
    out.write_bytes(b"the previous study")
    with pytest.raises(ContractError):
        study_loading.build(export["folder"], rows, "Kept")
    assert out.read_bytes() == b"the previous study"
    assert sorted(p.name for p in out.parent.iterdir()) == [out.name]


# -- a real study: its arm labels, no synthetic banner, empty safety tables ---------------------
@pytest.fixture
def real_study(export, data_dir):
    """A non-synthetic study with its own arm labels, no adverse events and no medications."""
    raw = Path(shutil.copytree(export["tmp"] / "clean", data_dir.parent / "raw"))
    for table in ("adverse_events", "medications"):
        header = (raw / f"{table}.csv").read_text(encoding="utf-8").splitlines()[0]
        (raw / f"{table}.csv").write_text(header + "\n", encoding="utf-8")
    meta = json.loads((raw / "study.json").read_text(encoding="utf-8"))
    meta.update({"name": "Real trial", "synthetic": False,
                 "arm_labels": {"MSC": {"en": "Group A", "zh": "甲组"},
                                "MSC_IFNG": {"en": "Group B", "zh": "乙组"}}})
    (raw / "study.json").write_text(json.dumps(meta), encoding="utf-8")
    build_study(raw, study_path("real-trial"))
    return "real-trial"


def test_a_real_study_has_its_arm_labels_no_banner_and_no_events(real_study):
    at = run_page("pages/overview.py", filter_study=real_study)
    assert not at.exception, at.exception
    assert not any("synthetic" in w.value.lower() for w in at.warning)
    assert at.selectbox(key="w_study").value == real_study
    assert [m.label for m in at.metric][:1] == ["Group A"]
    assert "N: Group A 69; Group B 28" in texts(at)  # every caption's N per arm
    table1 = next(d.value for d in at.dataframe if any("(N =" in str(c) for c in d.value.columns))
    assert [c for c in table1.columns if "(N =" in str(c)] == ["Group A (N = 69)",
                                                              "Group B (N = 28)"]
    safety = run_page("pages/safety_overview.py", filter_study=real_study)
    assert not safety.exception
    assert "No events" in texts(safety) + "\n".join(
        str(c) for d in safety.dataframe for c in d.value.columns)
    meds = run_page("pages/medications.py", filter_study=real_study, lang="zh")
    assert not meds.exception
    assert "无事件" in texts(meds)
    for page in ("pages/ae_terms.py", "pages/sae_listing.py"):
        at = run_page(page, filter_study=real_study)
        assert not at.exception, (page, at.exception)
        assert "No events" in texts(at) + "\n".join(
            str(c) for d in at.dataframe for c in d.value.columns), page
    # the default study still has its banner
    default = run_page("pages/overview.py")
    assert any("synthetic" in w.value.lower() for w in default.warning)


# -- the study in the address, the switcher, the report basket and the deck ---------------------
def test_study_in_the_address_round_trips_and_a_switch_is_audited(real_study, data_dir):
    from streamlit.testing.v1 import AppTest

    from tests.apptest_support import APP
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.query_params["study"] = real_study
    at.run()
    assert not at.exception, at.exception
    assert at.session_state["filter_study"] == real_study
    assert at.query_params["study"] in (real_study, [real_study])
    share = next(c.value for c in at.code if "study=" in c.value)
    assert share.endswith(f"?study={real_study}")
    at.selectbox(key="w_study").set_value(DEFAULT_SLUG).run()
    assert "study" not in at.query_params  # the default study needs no parameter
    assert any("synthetic" in w.value.lower() for w in at.warning)
    line = audit_lines(data_dir)[-1]
    assert (line["action"], line["study"], line["user"]) == ("switch", DEFAULT_SLUG, "local")
    assert line["hashes"]["content_hash"] == next(
        e.content_hash for e in list_studies() if e.slug == DEFAULT_SLUG)


def test_an_unknown_study_in_a_link_gives_way_to_the_default(data_dir):
    from streamlit.testing.v1 import AppTest

    from tests.apptest_support import APP
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.query_params["study"] = "no-such-study"
    at.run()
    assert not at.exception
    assert at.session_state["filter_study"] == DEFAULT_SLUG
    assert any("no-such-study" in w.value for w in at.warning)


def test_report_cards_and_the_deck_come_from_the_chosen_study(real_study):
    from pptx import Presentation

    at = run_page("pages/overview.py", filter_study=real_study)
    at.button(key="report_add").click().run()
    assert at.session_state["report_cards"][0]["address"].endswith(f"study={real_study}")
    at.button(key="deck_build").click().run()
    assert not at.exception, at.exception
    deck = Presentation(io.BytesIO(at.session_state["_deck"][1]))
    text = "\n".join(shape.text_frame.text for slide in deck.slides for shape in slide.shapes
                     if shape.has_text_frame)
    assert "real-trial.duckdb" in text and "Group A" in text


def test_import_problems_in_chinese_say_the_same_as_in_english(export, tmp_path):
    """Each pattern's English template rebuilds the importer's own text exactly (so the Chinese
    one is a translation of it), on real problems of a broken export."""
    from analytics import importer
    from analytics.i18n import t
    from analytics.problem_text import PATTERNS, problem_text

    raw = Path(shutil.copytree(export["tmp"] / "clean", tmp_path / "raw"))
    visits = pd.read_csv(raw / "visits.csv", dtype=str, keep_default_na=False)
    visits.loc[0, "tjc28"], visits.loc[1, "esr"], visits.loc[2, "visit_date"] = "31", "x", "2019/3/5"
    visits.loc[3, "subject_id"], visits.loc[4, "sjc28"] = "NOBODY", ""
    visits.to_csv(raw / "visits.csv", index=False)
    subjects = pd.read_csv(raw / "subjects.csv", dtype=str, keep_default_na=False)
    subjects.loc[0, "sex"], subjects.loc[1, "rf_positive"] = "X", "2"
    subjects.to_csv(raw / "subjects.csv", index=False)
    with pytest.raises(ContractError) as info:
        importer.load(raw)
    translated = 0
    for problem in info.value.problems:
        for part in ("rule", "detail"):
            text = getattr(problem, part)
            for kind, pattern in PATTERNS[part].items():
                match = pattern.match(text or "")
                if match:
                    assert t(f"problem.{part}.{kind}", "en", **match.groupdict()) == text
                    zh = problem_text(text, part, "zh")
                    assert zh != text and re.search(r"[\u4e00-\u9fff]", zh), (text, zh)
                    translated += 1
                    break
    assert translated == 2 * len(info.value.problems), [
        (p.rule, p.detail) for p in info.value.problems]


def test_warnings_of_an_accepted_export_are_listed_in_chinese(export, data_dir, tmp_path):
    """An export without adverse events: accepted, its warning in the reader's language."""
    text = mapping_text().replace('adverse_events = "不良事件.xlsx"\n', "")
    folder = Path(shutil.copytree(export["folder"], tmp_path / "no_ae"))
    (folder / "不良事件.xlsx").unlink()
    at = upload(run_page(PAGE, lang="zh"), "export.zip",
                zipped(folder, {"mapping.toml": text.encode()}))
    at.button(key="load_validate").click().run()
    assert not at.exception
    assert "导出文件有效" in texts(at) and "1 条警告" in texts(at)
    warning = problems_of(at, "数据约定列")
    assert warning.iloc[0]["问题"] == "没有 adverse_events 的文件:相关分析将显示无事件"


def test_deck_command_opens_the_study_its_views_name(real_study, data_dir, tmp_path):
    import os
    import subprocess
    import sys

    from pptx import Presentation

    from analytics.study import PROJECT_DIR

    def deck(*views):
        return subprocess.run(
            [sys.executable, "-m", "analytics", "deck", "--out", str(tmp_path / "d.pptx"),
             *(a for v in views for a in ("--view", v))],
            cwd=PROJECT_DIR, capture_output=True, text=True, timeout=300,
            env={**os.environ, DATA_DIR_ENV: str(data_dir)})

    clash = deck(f"?study={real_study}", "response-rates?study=other")
    assert clash.returncode == 2 and "different studies" in clash.stderr
    done = deck(f"?study={real_study}")
    assert done.returncode == 0, done.stderr
    text = "\n".join(shape.text_frame.text for slide in Presentation(tmp_path / "d.pptx").slides
                     for shape in slide.shapes if shape.has_text_frame)
    assert "real-trial.duckdb" in text and "Group A" in text
