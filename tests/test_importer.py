"""Importer, study-file build and the `python -m analytics build` command.

A tiny hand-written raw cohort is written into tmp_path; each bad-input rule of the data contract
is broken once and must be reported with file, row, column and rule, leaving an existing study
file byte-for-byte unchanged.
"""
from __future__ import annotations

import copy
import csv
import datetime as dt
import hashlib
import json
import math
import subprocess
import sys
import threading
import time
import types
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from analytics import importer
from analytics.build import build_default, build_study
from analytics.importer import ContractError, read_raw, validate
from analytics.schema import TABLES

PROJECT_DIR = Path(__file__).resolve().parent.parent

SUBJECT_COLUMNS = TABLES["subjects"].column_names

# Spreadsheet rows: header = row 1, so the n-th record below is row n + 1.
COHORT: dict[str, list[dict]] = {
    "subjects": [
        dict(subject_id="S01", study_id="T1", arm="MSC", sex="F", age="45", ra_duration_years="3.5",
             rf_positive="1", anti_ccp_positive="1", prior_csdmard="1", prior_bdmard="0",
             prior_nsaid="1", prior_prednisone="1", infusion_date="2017-03-01",
             status="completed", withdrawal_date="", withdrawal_reason="",
             last_assessment_date="2022-03-01"),
        dict(subject_id="S02", study_id="T2", arm="MSC_IFNG", sex="M", age="52.4",
             ra_duration_years="6", rf_positive="0", anti_ccp_positive="1", prior_csdmard="1",
             prior_bdmard="1", prior_nsaid="1", prior_prednisone="0", infusion_date="2018-06-15",
             status="withdrawn", withdrawal_date="2020-01-10",
             withdrawal_reason="lack_of_efficacy", last_assessment_date="2020-01-10"),
        dict(subject_id="S03", study_id="T1", arm="MSC", sex="F", age="38", ra_duration_years="1",
             rf_positive="1", anti_ccp_positive="0", prior_csdmard="1", prior_bdmard="0",
             prior_nsaid="1", prior_prednisone="1", infusion_date="2017-05-20",
             status="completed", withdrawal_date="NA", withdrawal_reason="NULL",
             last_assessment_date="2023-05-20"),
    ],
    "visits": [
        dict(subject_id="S01", visit="BL", visit_date="2017-03-01", tjc28="10", sjc28="8",
             esr="40", crp="20.5", patient_global="70", physician_global="65", pain="60",
             haq_di="1.625"),
        dict(subject_id="S01", visit="M1", visit_date="2017-03-29", tjc28="6", sjc28="4",
             esr="30", crp="10", patient_global="50", physician_global="45", pain="40",
             haq_di="1.25"),
        dict(subject_id="S01", visit="M3", visit_date="2017-05-24", tjc28="2", sjc28="1",
             esr="12", crp="3", patient_global="20", physician_global="15", pain="20",
             haq_di="0.5"),
        dict(subject_id="S02", visit="BL", visit_date="2018-06-15", tjc28="14", sjc28="9",
             esr="55", crp="30", patient_global="80", physician_global="75", pain="70",
             haq_di="1.875"),
        dict(subject_id="S02", visit="M1", visit_date="2018-07-13", tjc28="", sjc28="NaN",
             esr="", crp="", patient_global="", physician_global="", pain="", haq_di=""),
        dict(subject_id="S03", visit="BL", visit_date="2017-05-20", tjc28="8", sjc28="6",
             esr="35", crp="0", patient_global="60", physician_global="55", pain="50",
             haq_di="1.5"),
    ],
    "adverse_events": [
        dict(subject_id="S01", ae_id="AE1", pt="Lymphocyte count decreased",
             soc="Investigations", onset_date="2017-03-02", end_date="2017-03-20", serious="0",
             severity="mild", outcome="recovered", category=""),
        dict(subject_id="S02", ae_id="AE2", pt="Pneumonia", soc="Infections and infestations",
             onset_date="2019-02-01", end_date="", serious="1", severity="severe",
             outcome="recovered", category="infection"),
    ],
    "medications": [
        dict(subject_id="S01", drug_class="csDMARD", drug_name="methotrexate",
             start_date="2015-01-01", end_date=""),
        dict(subject_id="S02", drug_class="prednisone", drug_name="prednisone",
             start_date="2016-09-01", end_date="2019-01-01"),
        dict(subject_id="S03", drug_class="NSAID", drug_name="celecoxib",
             start_date="2017-01-01", end_date="2017-12-31"),
    ],
}


def cohort() -> dict[str, list[dict]]:
    return copy.deepcopy(COHORT)


def write_csv(path: Path, rows: list[dict], columns: list[str] | None = None,
              encoding: str = "utf-8") -> None:
    columns = columns or (list(rows[0]) if rows else [])
    with open(path, "w", newline="", encoding=encoding) as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


def write_raw(raw: Path, tables: dict[str, list[dict]] | None = None,
              columns: dict[str, list[str]] | None = None) -> Path:
    raw.mkdir(parents=True, exist_ok=True)
    tables = cohort() if tables is None else tables
    for name, rows in tables.items():
        cols = (columns or {}).get(name) or (list(rows[0]) if rows else TABLES[name].column_names)
        write_csv(raw / f"{name}.csv", rows, cols)
    return raw


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("built")
    return build_study(write_raw(tmp / "raw"), tmp / "study.duckdb",
                       info={"built_at": "2024-01-01T00:00:00+00:00"})


def query(path: Path, sql: str, params=()) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def table_df(path: Path, name: str) -> pd.DataFrame:
    con = duckdb.connect(str(path), read_only=True)
    try:
        order = ", ".join(TABLES[name].key or ("subject_id", "start_date"))
        return con.execute(f"SELECT * FROM {name} ORDER BY {order}").df()
    finally:
        con.close()


# -- the valid cohort --------------------------------------------------------------------------
def test_valid_cohort_builds_with_contract_tables(built):
    for name, table in TABLES.items():
        described = query(built, f"DESCRIBE {name}")
        assert [(r[0], r[1]) for r in described] == [(c.name, c.sql_type) for c in table.columns]
        (n,), = query(built, f"SELECT count(*) FROM {name}")
        assert n == len(COHORT[name])
    info = dict(query(built, "SELECT key, value FROM study_info"))
    assert info["built_at"] == "2024-01-01T00:00:00+00:00"
    assert info["source"] == "raw"
    assert info["synthetic"] == "false"
    assert info["n_visits"] == str(len(COHORT["visits"]))
    # missing tokens are NULL; ids keep their text
    assert query(built, "SELECT withdrawal_date, withdrawal_reason FROM subjects "
                        "WHERE subject_id = 'S03'") == [(None, None)]
    assert query(built, "SELECT tjc28, sjc28 FROM visits WHERE subject_id = 'S02' "
                        "AND visit = 'M1'") == [(None, None)]
    assert query(built, "SELECT infusion_date FROM subjects WHERE subject_id = 'S01'") == [
        (dt.date(2017, 3, 1),)]


def test_views_exist_and_das28_matches_hand_computation(built):
    views = {r[0] for r in query(built, "SELECT view_name FROM duckdb_views() WHERE NOT internal")}
    assert {"visit_measures", "subject_info"} <= views
    (das28,), = query(built, "SELECT das28_esr FROM visit_measures "
                             "WHERE subject_id = 'S01' AND visit = 'M1'")
    hand = 0.56 * math.sqrt(6) + 0.28 * math.sqrt(4) + 0.70 * math.log(30) + 0.014 * 50
    assert das28 == pytest.approx(hand, abs=1e-12)
    (n,), = query(built, "SELECT count(*) FROM subject_info")
    assert n == 3


def test_open_study_reads_built_file(built):
    from analytics.study import open_study

    with open_study(built) as study:
        assert study.info["n_subjects"] == "3"
        assert not study.synthetic


def test_study_json_is_merged_into_info(tmp_path):
    raw = write_raw(tmp_path / "raw")
    (raw / "study.json").write_text('{"name": "demo", "synthetic": true, "seed": 7}')
    out = build_study(raw, tmp_path / "s.duckdb")
    info = dict(query(out, "SELECT key, value FROM study_info"))
    assert (info["name"], info["synthetic"], info["seed"]) == ("demo", "true", "7")
    assert info["built_at"]  # the build time when none is given


def test_extra_columns_are_ignored_and_case_of_headers(tmp_path):
    tables = cohort()
    for row in tables["visits"]:
        row["comment"] = "note"
    tables["subjects"] = [{("Subject_ID" if k == "subject_id" else k): v for k, v in r.items()}
                          for r in tables["subjects"]]
    out = build_study(write_raw(tmp_path / "raw", tables), tmp_path / "s.duckdb")
    assert "comment" not in [r[0] for r in query(out, "DESCRIBE visits")]
    assert query(out, "SELECT count(*) FROM visits") == [(6,)]


def test_optional_columns_may_be_absent(tmp_path):
    tables = cohort()
    for row in tables["adverse_events"]:
        del row["category"], row["outcome"]
    out = build_study(write_raw(tmp_path / "raw", tables), tmp_path / "s.duckdb")
    assert query(out, "SELECT DISTINCT category, outcome FROM adverse_events") == [(None, None)]


def test_gb18030_csv_with_chinese_text(tmp_path):
    raw = write_raw(tmp_path / "raw")
    meds = cohort()["medications"]
    meds[0]["drug_name"] = "甲氨蝶呤"
    for row in meds:
        row["备注"] = "长期用药，无不良反应"
    write_csv(raw / "medications.csv", meds, encoding="gb18030")
    with pytest.raises(UnicodeDecodeError):  # really not UTF-8
        (raw / "medications.csv").read_bytes().decode("utf-8")
    out = build_study(raw, tmp_path / "s.duckdb")
    assert query(out, "SELECT drug_name FROM medications WHERE subject_id = 'S01'") == [
        ("甲氨蝶呤",)]
    assert [r[0] for r in query(out, "DESCRIBE medications")] == TABLES[
        "medications"].column_names


def test_utf8_bom_csv(tmp_path):
    raw = write_raw(tmp_path / "raw")
    write_csv(raw / "subjects.csv", cohort()["subjects"], encoding="utf-8-sig")
    out = build_study(raw, tmp_path / "s.duckdb")
    assert query(out, "SELECT count(*) FROM subjects") == [(3,)]


def typed_frame(name: str) -> pd.DataFrame:
    """The cohort table with real numbers and dates, as Excel or Parquet would hold them."""
    frame = pd.DataFrame(cohort()[name]).replace({"": None, "NA": None, "NULL": None,
                                                   "NaN": None})
    for col in TABLES[name].columns:
        if col.kind == "date":
            frame[col.name] = pd.to_datetime(frame[col.name])
        elif col.kind in ("int", "flag"):
            frame[col.name] = pd.to_numeric(frame[col.name]).astype("Int64")
        elif col.kind == "float":
            frame[col.name] = pd.to_numeric(frame[col.name])
    return frame


@pytest.mark.parametrize("fmt", ["xlsx", "parquet"])
def test_xlsx_and_parquet_inputs(tmp_path, built, fmt):
    raw = write_raw(tmp_path / "raw")
    for name in ("subjects", "visits"):
        (raw / f"{name}.csv").unlink()
        frame = typed_frame(name)
        frame["extra"] = "x"
        if fmt == "xlsx":
            frame.to_excel(raw / f"{name}.xlsx", index=False)
        else:
            frame.to_parquet(raw / f"{name}.parquet", index=False)
    out = build_study(raw, tmp_path / "s.duckdb")
    for name in ("subjects", "visits"):
        pd.testing.assert_frame_equal(table_df(out, name), table_df(built, name))


def test_xlsx_error_names_spreadsheet_row(tmp_path):
    raw = write_raw(tmp_path / "raw")
    (raw / "visits.csv").unlink()
    frame = typed_frame("visits")
    frame.loc[2, "tjc28"] = 31
    frame.to_excel(raw / "visits.xlsx", index=False)
    with pytest.raises(ContractError) as info:
        build_study(raw, tmp_path / "s.duckdb")
    assert (info.value.file, info.value.row, info.value.column) == ("visits.xlsx", 4, "tjc28")


def test_empty_ae_and_medication_tables_are_accepted(tmp_path):
    """A study without adverse events or medication records yet builds, says so in
    ``import_warnings``, and its AE and medication analyses say "no events"."""
    from analytics import medications, safety
    from analytics.study import open_study

    tables = cohort()
    tables["adverse_events"], tables["medications"] = [], []
    columns = {name: TABLES[name].column_names for name in ("adverse_events", "medications")}
    out = build_study(write_raw(tmp_path / "raw", tables, columns), tmp_path / "s.duckdb")
    assert query(out, "SELECT count(*) FROM adverse_events") == [(0,)]
    info = dict(query(out, "SELECT key, value FROM study_info"))
    assert json.loads(info["import_warnings"]) == [
        "adverse_events.csv: table adverse_events has no data rows: analyses of it will show no "
        "events (rule: adverse_events may be empty)",
        "medications.csv: table medications has no data rows: analyses of it will show no events "
        "(rule: medications may be empty)"]
    with open_study(out) as study:
        for frame in (safety.ae_summary(study), safety.ae_rates(study),
                      safety.ae_rates_by_year(study), safety.sae_listing(study)):
            assert "No events: no adverse event is recorded" in frame.attrs["footnote"]
            assert frame.empty or (frame.events == 0).all()
        meds = medications.medications(study)
        assert (meds["count"] == 0).all()
        assert "No events: no medication use is recorded" in meds.attrs["footnote"]
        assert "本研究未记录任何用药" in medications.medications(study, lang="zh").attrs["footnote"]
    with open_study(build_study(write_raw(tmp_path / "full"), tmp_path / "f.duckdb")) as study:
        assert "No events" not in safety.ae_summary(study).attrs["footnote"]


def test_validate_accepts_read_raw_output_and_keeps_extra_columns(tmp_path):
    tables = cohort()
    for row in tables["subjects"]:
        row["site"] = "Chongqing"
    raw_tables = read_raw(write_raw(tmp_path / "raw", tables))
    assert "site" in raw_tables["subjects"].columns
    assert raw_tables["visits"].attrs["file"] == "visits.csv"
    validate(raw_tables)  # no exception


# -- bad inputs: one case per rule ---------------------------------------------------------------
def _set(table, index, **values):
    def mutate(t):
        t[table][index].update(values)
    return mutate


def _drop_table(table):
    def mutate(t):
        del t[table]
    return mutate


def _empty_table(table):
    def mutate(t):
        t[table] = []
    return mutate


def _drop_column(table, column):
    def mutate(t):
        for row in t[table]:
            del row[column]
    return mutate


# id: (mutation, file, row, column, words in the rule)
BAD = {
    "missing_table": (_drop_table("medications"), "medications.*", None, None, "medications.csv"),
    # An empty adverse_events or medications table is accepted with a warning (issue 12: a real
    # study may have none yet; see test_empty_ae_and_medication_tables_are_accepted); an empty
    # subjects or visits table is still an error.
    "empty_table": (_empty_table("subjects"), "subjects.csv", None, None,
                    "at least one data row"),
    "empty_visits": (_empty_table("visits"), "visits.csv", None, None, "at least one data row"),
    "missing_column": (_drop_column("visits", "haq_di"), "visits.csv", None, "haq_di",
                       "has a column haq_di"),
    "unknown_arm": (_set("subjects", 1, arm="PLACEBO"), "subjects.csv", 3, "arm",
                    "arm is one of MSC, MSC_IFNG"),
    "unknown_visit": (_set("visits", 2, visit="M2"), "visits.csv", 4, "visit", "visit is one of"),
    "unknown_severity": (_set("adverse_events", 0, severity="fatal"), "adverse_events.csv", 2,
                         "severity", "severity is one of mild"),
    "unknown_drug_class": (_set("medications", 2, drug_class="steroid"), "medications.csv", 4,
                           "drug_class", "drug_class is one of"),
    "duplicate_subject": (_set("subjects", 2, subject_id="S01"), "subjects.csv", 4, "subject_id",
                          "subject_id is unique"),
    "duplicate_visit": (_set("visits", 2, visit="M1"), "visits.csv", 4, "subject_id+visit",
                        "subject_id and visit are unique"),
    "duplicate_ae": (_set("adverse_events", 1, ae_id="AE1"), "adverse_events.csv", 3, "ae_id",
                     "ae_id is unique"),
    "visit_unknown_subject": (_set("visits", 5, subject_id="S99"), "visits.csv", 7, "subject_id",
                              "listed in subjects.csv"),
    "ae_unknown_subject": (_set("adverse_events", 0, subject_id="X1"), "adverse_events.csv", 2,
                           "subject_id", "listed in subjects.csv"),
    "med_unknown_subject": (_set("medications", 1, subject_id="S4"), "medications.csv", 3,
                            "subject_id", "listed in subjects.csv"),
    "tjc_not_number": (_set("visits", 0, tjc28="ten"), "visits.csv", 2, "tjc28", "tjc28 in 0-28"),
    "tjc_above_max": (_set("visits", 1, tjc28="31"), "visits.csv", 3, "tjc28", "tjc28 in 0-28"),
    "sjc_not_integer": (_set("visits", 1, sjc28="2.5"), "visits.csv", 3, "sjc28", "sjc28 in 0-28"),
    "sjc_negative": (_set("visits", 1, sjc28="-1"), "visits.csv", 3, "sjc28", "sjc28 in 0-28"),
    "haq_above_max": (_set("visits", 3, haq_di="3.5"), "visits.csv", 5, "haq_di",
                      "haq_di in 0-3"),
    "esr_zero": (_set("visits", 0, esr="0"), "visits.csv", 2, "esr", "esr > 0"),
    "crp_negative": (_set("visits", 0, crp="-0.1"), "visits.csv", 2, "crp", "crp in 0-"),
    "vas_above_max": (_set("visits", 2, patient_global="101"), "visits.csv", 4, "patient_global",
                      "patient_global in 0-100"),
    "pain_not_number": (_set("visits", 2, pain="severe"), "visits.csv", 4, "pain", "pain in 0-100"),
    "bad_date_format": (_set("visits", 1, visit_date="2017/03/29"), "visits.csv", 3, "visit_date",
                        "YYYY-MM-DD"),
    "impossible_date": (_set("subjects", 0, infusion_date="2017-02-30"), "subjects.csv", 2,
                        "infusion_date", "YYYY-MM-DD"),
    "visit_before_infusion": (_set("visits", 3, visit_date="2018-06-01"), "visits.csv", 5,
                              "visit_date", "infusion_date"),
    "ae_before_infusion": (_set("adverse_events", 0, onset_date="2017-01-01",
                                end_date="2017-01-02"),
                           "adverse_events.csv", 2, "onset_date", "infusion_date"),
    "ae_end_before_onset": (_set("adverse_events", 0, end_date="2017-03-01"),
                            "adverse_events.csv", 2, "end_date", "end_date >= onset_date"),
    "med_end_before_start": (_set("medications", 1, end_date="2016-01-01"), "medications.csv", 3,
                             "end_date", "end_date >= start_date"),
    "withdrawn_no_date": (_set("subjects", 1, withdrawal_date=""), "subjects.csv", 3,
                          "withdrawal_date", "withdrawn subject has a withdrawal_date"),
    "withdrawn_no_reason": (_set("subjects", 1, withdrawal_reason="NA"), "subjects.csv", 3,
                            "withdrawal_reason", "withdrawn subject has a withdrawal_reason"),
    "bad_withdrawal_reason": (_set("subjects", 1, withdrawal_reason="moved"), "subjects.csv", 3,
                              "withdrawal_reason", "withdrawal_reason is one of"),
    "flag_not_01": (_set("subjects", 0, rf_positive="2"), "subjects.csv", 2, "rf_positive",
                    "rf_positive is 0 or 1"),
    "serious_yes": (_set("adverse_events", 1, serious="yes"), "adverse_events.csv", 3, "serious",
                    "serious is 0 or 1"),
    "required_value_missing": (_set("adverse_events", 1, pt=""), "adverse_events.csv", 3, "pt",
                               "pt is required"),
}


def _problem_text(file, row, column) -> str:
    parts = [file] + ([f"row {row}"] if row is not None else []) + (
        [f"column {column}"] if column else [])
    return ", ".join(parts)


def _bad_raw(tmp_path: Path, mutate) -> Path:
    tables = cohort()
    mutate(tables)
    columns = {name: TABLES[name].column_names for name, rows in tables.items() if not rows}
    return write_raw(tmp_path / "raw", tables, columns)


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_is_reported_and_out_unchanged(tmp_path, existing_out, case):
    mutate, file, row, column, rule = BAD[case]
    raw = _bad_raw(tmp_path, mutate)
    before = sha256(existing_out)
    with pytest.raises(ContractError) as info:
        build_study(raw, existing_out)
    err = info.value
    assert isinstance(err, ValueError)
    matches = [p for p in err.problems
               if (p.file, p.row, p.column) == (file, row, column) and rule in p.rule]
    assert matches, f"expected {(file, row, column, rule)} in:\n{err}"
    assert str(matches[0]) in str(err)
    assert str(matches[0]).startswith(_problem_text(file, row, column))
    assert sha256(existing_out) == before
    assert sorted(p.name for p in existing_out.parent.iterdir()) == ["study.duckdb"]


def test_message_format(tmp_path):
    raw = _bad_raw(tmp_path, _set("visits", 1, tjc28="31"))
    with pytest.raises(ContractError) as info:
        validate(read_raw(raw))
    assert str(info.value) == (
        "visits.csv, row 3, column tjc28: value '31' is above the maximum 28 "
        "(rule: tjc28 in 0-28)")
    assert (info.value.file, info.value.row, info.value.column, info.value.rule) == (
        "visits.csv", 3, "tjc28", "tjc28 in 0-28")


def test_all_problems_reported_together_and_capped(tmp_path):
    def mutate(t):
        t["subjects"][0]["arm"] = "X"
        t["visits"][0]["tjc28"] = "99"
        t["medications"][2]["start_date"] = "yesterday"
    with pytest.raises(ContractError) as info:
        load_dir = _bad_raw(tmp_path / "a", mutate)
        importer.load(load_dir)
    assert info.value.total == 3 and len(info.value.problems) == 3
    text = str(info.value)
    for where in ("subjects.csv, row 2, column arm", "visits.csv, row 2, column tjc28",
                  "medications.csv, row 4, column start_date"):
        assert where in text

    many = cohort()
    many["visits"] = [dict(many["visits"][0], visit=v, tjc28="abc")
                      for v in TABLES["visits"].columns[1].choices]
    many["visits"] += [dict(r, sjc28="-5") for r in many["visits"]] * 2
    with pytest.raises(ContractError) as info:
        importer.load(write_raw(tmp_path / "b", many))
    assert info.value.total > importer.MAX_PROBLEMS == len(info.value.problems)
    assert f"and {info.value.total - importer.MAX_PROBLEMS} more" in str(info.value)


def test_same_table_in_two_formats_is_an_error(tmp_path):
    raw = write_raw(tmp_path / "raw")
    typed_frame("subjects").to_parquet(raw / "subjects.parquet")
    with pytest.raises(ContractError) as info:
        read_raw(raw)
    assert info.value.file == "subjects.*"
    assert "subjects.csv" in str(info.value) and "subjects.parquet" in str(info.value)


# -- the command line ----------------------------------------------------------------------------
def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "analytics", *args], cwd=PROJECT_DIR,
                          capture_output=True, text=True, timeout=120)


def test_cli_build_success(tmp_path):
    out = tmp_path / "study.duckdb"
    result = run_cli("build", str(write_raw(tmp_path / "raw")), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("\n") == 1 and "3 subjects" in result.stdout
    assert query(out, "SELECT count(*) FROM visits") == [(6,)]


@pytest.mark.parametrize("case", ["tjc_above_max", "duplicate_subject", "withdrawn_no_reason",
                                  "missing_column", "missing_table"])
def test_cli_reports_contract_errors(tmp_path, existing_out, case):
    mutate, file, row, column, rule = BAD[case]
    before = sha256(existing_out)
    result = run_cli("build", str(_bad_raw(tmp_path, mutate)), "--out", str(existing_out))
    assert result.returncode == 2
    assert _problem_text(file, row, column) in result.stderr
    assert f"(rule: {rule}" in result.stderr or rule in result.stderr.split("(rule: ", 1)[1]
    assert "Traceback" not in result.stderr
    assert sha256(existing_out) == before
    assert sorted(p.name for p in existing_out.parent.iterdir()) == ["study.duckdb"]


# -- build_default -------------------------------------------------------------------------------
def test_build_default_builds_once_under_concurrency(tmp_path, monkeypatch):
    calls = []

    def write_cohort(out_dir: Path, seed: int = 1, subjects=None) -> None:
        calls.append(seed)
        time.sleep(0.3)
        write_raw(Path(out_dir))
        (Path(out_dir) / "study.json").write_text('{"synthetic": true, "seed": 1}')

    fake = types.ModuleType("analytics.synth")
    fake.write_cohort, fake.DEFAULT_SEED = write_cohort, 1
    monkeypatch.setitem(sys.modules, "analytics.synth", fake)
    path = tmp_path / "data" / "study.duckdb"
    errors = []

    def target():
        try:
            build_default(path)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=target) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(calls) == 1
    info = dict(query(path, "SELECT key, value FROM study_info"))
    assert info["synthetic"] == "true"
    assert not [p for p in path.parent.iterdir() if p.name.endswith((".wal",))
                or ".tmp-" in p.name]
