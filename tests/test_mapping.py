"""Bring your own study (issue 12, items 1 and 3): the mapping file, `analytics map`, `build
--mapping`, and what real studies do differently (empty tables, other visit schedules, arm labels).

The synthetic cohort is written as a messy export (tests/messy_export.py: Chinese headers, GBK CSV,
XLSX with Excel serial dates, A组/B组, 男/女, 是/否, CRP in mg/dL, LB/QS long tables, an XPT file);
built through its mapping it must give the very study the clean build gives. Each mapping mistake
must be a named error that leaves the current study file byte-identical.
"""
from __future__ import annotations

import csv
import hashlib
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from analytics import baseline, disposition, medications, response, safety, survival, trajectories
from analytics.build import build_study
from analytics.mapping import (Mapping, MappedProblem, MappingError, apply_mapping,
                               problems_table, unit_factor)
from analytics.mapping_draft import draft_mapping, split_unit, visit_code
from analytics.reconciliation import reconcile
from analytics.schema import TABLES
from analytics.study import open_study
from analytics.synth import DEFAULT_SEED, write_cohort

from messy_export import mapping_text, write_messy_export

PROJECT_DIR = Path(__file__).resolve().parent.parent
JOINTS = "关节评估.csv"
SUBJECTS_SHEET = "受试者信息.xlsx [人口学]"
# The only lines the drafted mapping needs: which arm code is which cannot be guessed.
ARM_LINES = {'# "A组" = ""   # one of MSC, MSC_IFNG': '"A组" = "MSC"',
             '# "B组" = ""   # one of MSC, MSC_IFNG': '"B组" = "MSC_IFNG"'}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tables_of(path: Path) -> dict[str, pd.DataFrame]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {name: con.execute(f"SELECT * FROM {name} ORDER BY "
                                  + ", ".join(t.column_names)).df()
                for name, t in TABLES.items()}
    finally:
        con.close()


def info_of(path: Path) -> dict[str, str]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return dict(con.execute("SELECT key, value FROM study_info").fetchall())
    finally:
        con.close()


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "analytics", *args], cwd=PROJECT_DIR,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    """The clean synthetic raw tables, their build, the messy export and its mapping."""
    tmp = tmp_path_factory.mktemp("mapping")
    clean = tmp / "clean"
    write_cohort(clean, seed=DEFAULT_SEED)
    export = write_messy_export(clean, tmp / "export")
    (tmp / "mapping.toml").write_text(mapping_text(), encoding="utf-8")
    return {"tmp": tmp, "clean": clean, "export": export, "mapping": tmp / "mapping.toml",
            "clean_db": build_study(clean, tmp / "clean.duckdb")}


@pytest.fixture(scope="module")
def mapped_db(cohort) -> Path:
    return build_study(cohort["export"], cohort["tmp"] / "mapped.duckdb",
                       mapping=cohort["mapping"])


def assert_same_tables(a: Path, b: Path) -> None:
    left, right = tables_of(a), tables_of(b)
    for name in TABLES:
        pd.testing.assert_frame_equal(left[name], right[name], check_exact=True, obj=name)


# -- the messy export builds the same study ------------------------------------------------------
def test_export_is_as_messy_as_promised(cohort):
    export = cohort["export"]
    names = sorted(p.name for p in export.iterdir())
    assert names == sorted(["cm.parquet", "lb.xpt", "qs.csv", "不良事件.xlsx", "关节评估.csv",
                            "受试者信息.xlsx"])
    with pytest.raises(UnicodeDecodeError):
        (export / JOINTS).read_bytes().decode("utf-8")  # GBK, really
    assert (export / "qs.csv").read_bytes().startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM
    joints = (export / JOINTS).read_bytes().decode("gbk").splitlines()
    assert joints[0].startswith("受试者编号,访视,访视日期") and "基线" in joints[1]
    assert re.search(r",\d{4}/\d{1,2}/\d{1,2},", joints[1])
    subjects = pd.read_excel(export / "受试者信息.xlsx", sheet_name="人口学")
    assert set(subjects["组别"]) == {"A组", "B组"} and set(subjects["性别"]) == {"男", "女"}
    assert subjects["输注日期"].between(40000, 50000).all()  # Excel serial numbers
    import pyreadstat
    lab, _ = pyreadstat.read_xport(str(export / "lb.xpt"))
    assert set(lab["LBSTRESU"]) == {"mm/h", "mg/dL", "g/L"} and "WEEK 48" in set(lab["VISIT"])


def test_mapped_export_builds_the_clean_study(cohort, mapped_db):
    assert_same_tables(cohort["clean_db"], mapped_db)


def test_mapping_stores_name_and_arm_labels(mapped_db):
    info = info_of(mapped_db)
    assert info["name"] == "MSC RA trial export"
    assert (info["arm_label.MSC.en"], info["arm_label.MSC.zh"]) == ("MSC monotherapy", "MSC 单药")
    assert info["arm_label.MSC_IFNG.zh"] == "MSC 联合 IFN-γ"
    assert "import_warnings" not in info
    assert info["synthetic"] == "false"


def test_every_published_figure_matches_on_the_mapped_build(mapped_db):
    with open_study(mapped_db) as study:
        table = reconcile(study)
    assert len(table) > 100 and table.match.all(), table[~table.match].to_string()


ANALYSES = {
    "disposition": lambda s: disposition.disposition(s),
    "baseline": lambda s: baseline.baseline(s),
    "acr20_nri": lambda s: response.compare_rates(s, "ACR20", population="nri"),
    "das28_trajectory": lambda s: trajectories.trajectories(s, "DAS28_CRP"),
    "medications": lambda s: medications.medications(s),
    "ae_summary": lambda s: safety.ae_summary(s),
    "ae_rates_pt": lambda s: safety.ae_rates(s, by="pt"),
    "sae_listing": lambda s: safety.sae_listing(s),
    "survival": lambda s: survival.survival(s, "ACR20").summary,
}


@pytest.mark.parametrize("name", list(ANALYSES))
def test_analyses_equal_between_clean_and_mapped_builds(cohort, mapped_db, name):
    with open_study(cohort["clean_db"]) as clean, open_study(mapped_db) as mapped:
        expected, got = ANALYSES[name](clean), ANALYSES[name](mapped)
    assert len(expected) > 0
    pd.testing.assert_frame_equal(got, expected, check_exact=True)


# -- the drafted mapping ----------------------------------------------------------------------
def test_drafted_mapping_recognises_every_column(cohort):
    draft = draft_mapping(cohort["export"])
    assert draft.unmapped == ["arm code 'B组'", "arm code 'A组'"]
    assert sorted(draft.ignored) == ["lb.xpt: test 'HGB'", "受试者信息.xlsx [说明]: no column "
                                     "recognised"]
    hand = Mapping.load(cohort["mapping"])
    for table in TABLES:
        drafted = {c: set(s) for c, s in draft.mapping.columns[table].items()}
        assert drafted == {c: set(s) for c, s in hand.columns[table].items()}, table
    assert draft.mapping.visits == hand.visits
    assert {(p.file, p.test, p.value, p.unit): p.tests for p in draft.mapping.pivots["visits"]} \
        == {(p.file, p.test, p.value, p.unit): p.tests for p in hand.pivots["visits"]}
    assert draft.mapping.excel_serial and draft.mapping.date_formats == ["%Y/%m/%d"]


def test_cli_map_then_build_with_two_arm_lines_added(cohort, tmp_path, existing_out):
    drafted = tmp_path / "drafted.toml"
    result = run_cli("map", str(cohort["export"]), "--out", str(drafted))
    assert result.returncode == 0, result.stderr
    assert "could not map: arm code 'A组'" in result.stdout
    text = drafted.read_text(encoding="utf-8")
    Mapping.from_toml(text)  # the draft is a valid mapping as written
    # Unedited, it stops at the arm codes, which cannot be guessed, and changes nothing.
    before = sha256(existing_out)
    result = run_cli("build", str(cohort["export"]), "--mapping", str(drafted),
                     "--out", str(existing_out))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "受试者信息.xlsx [人口学], row 2, column 组别 (contract subjects.arm)" in result.stderr
    assert sha256(existing_out) == before
    for old, new in ARM_LINES.items():  # the test's only edit: two lines
        assert text.count(old) == 1
        text = text.replace(old, new)
    drafted.write_text(text, encoding="utf-8")
    result = run_cli("build", str(cohort["export"]), "--mapping", str(drafted),
                     "--out", str(existing_out))
    assert result.returncode == 0, result.stderr
    assert_same_tables(cohort["clean_db"], existing_out)


# -- mapping mistakes: a named error, the study file untouched --------------------------------
def _replace(old: str, new: str):
    def edit(text: str) -> str:
        assert text.count(old) == 1, old
        return text.replace(old, new)
    return edit


# case: (edit of the mapping text, file, row, column, contract, words of the rule)
MISTAKES = {
    "unknown_source_column": (_replace('tjc28 = "压痛关节数"', 'tjc28 = "压痛关节数28"'),
                              f"{JOINTS}, lb.xpt, qs.csv", 1, "压痛关节数28", "visits.tjc28",
                              "[columns.visits] names a column"),
    "unmapped_visit_label": (_replace('"第12周" = "M3"\n', ""), JOINTS, 4, "访视",
                             "visits.visit", "[visits] maps every visit label"),
    "unit_not_convertible": (lambda t: t + '\n[units]\ncrp = "mmol/L"\n', "mapping.toml", None,
                             "[units] crp", "crp", "the unit of crp converts to mg/L"),
    "code_value_not_mapped": (_replace('"男" = "M"\n', ""), SUBJECTS_SHEET, None, "性别",
                              "subjects.sex", "[values.sex] maps every code"),
    "pivot_test_missing": (_replace('CRP = "crp"', 'CRPHS = "crp"'), "lb.xpt", None,
                           "LBTESTCD", "visits.crp", "every test of [pivot.visits]"),
    "unknown_arm_code": (_replace('"B组" = "MSC_IFNG"', '"B组" = "IFNG"'), "mapping.toml", None,
                         "[arms] B组", "subjects.arm", "an arm maps to one of MSC, MSC_IFNG"),
}


def _first_row(export: Path, column: str, value: str) -> int:
    """The spreadsheet row (header = 1) of the first subject with ``column == value``."""
    sheet = pd.read_excel(export / "受试者信息.xlsx", sheet_name="人口学", dtype=str)
    return int(sheet.index[sheet[column] == value][0]) + 2


@pytest.mark.parametrize("case", list(MISTAKES))
def test_mapping_mistake_is_named_and_study_untouched(cohort, tmp_path, existing_out, case):
    edit, file, row, column, contract, rule = MISTAKES[case]
    if case == "code_value_not_mapped":
        row = _first_row(cohort["export"], "性别", "男")
    text = edit(mapping_text())
    if file == "mapping.toml":  # the line of the bad entry
        bad_line = {"unit_not_convertible": 'crp = "mmol/L"',
                    "unknown_arm_code": '"B组" = "IFNG"'}[case]
        row = text.splitlines().index(bad_line) + 1
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(text, encoding="utf-8")
    before = sha256(existing_out)
    with pytest.raises(MappingError) as info:
        build_study(cohort["export"], existing_out, mapping=mapping)
    hits = [p for p in info.value.problems if isinstance(p, MappedProblem)
            and (p.file, p.row, p.column, p.contract) == (file, row, column, contract)
            and rule in p.rule]
    assert hits, f"expected {(file, row, column, contract, rule)} in:\n{info.value}"
    assert str(hits[0]) in str(info.value)
    assert f"(contract {contract})" in str(hits[0]) and column in str(hits[0])
    assert sha256(existing_out) == before
    assert sorted(p.name for p in existing_out.parent.iterdir()) == ["study.duckdb"]


def test_problems_as_a_table(cohort, tmp_path):
    text = MISTAKES["unmapped_visit_label"][0](mapping_text())
    mapped = apply_mapping(cohort["export"], Mapping.from_toml(text))
    table = problems_table(mapped.problems)
    assert mapped.total == 2 * 110 and len(table) == len(mapped.problems) == 50  # capped
    first = table.iloc[0]
    assert (first.file, first.row, first.column, first.contract, first.value) == (
        JOINTS, 4, "访视", "visits.visit", "第12周")


def test_cli_reports_a_mapping_mistake(cohort, tmp_path, existing_out):
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(MISTAKES["unmapped_visit_label"][0](mapping_text()), encoding="utf-8")
    before = sha256(existing_out)
    result = run_cli("build", str(cohort["export"]), "--mapping", str(mapping),
                     "--out", str(existing_out))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert (f"{JOINTS}, row 4, column 访视 (contract visits.visit): visit label '第12周' is not "
            "mapped") in result.stderr
    assert sha256(existing_out) == before


def _copy_export(cohort, tmp_path) -> Path:
    return Path(shutil.copytree(cohort["export"], tmp_path / "export"))


def _edit_joints(export: Path, edit) -> None:
    path = export / JOINTS
    with open(path, encoding="gbk", newline="") as fh:
        rows = list(csv.reader(fh))
    rows = edit(rows)
    with open(path, "w", encoding="gbk", newline="") as fh:
        csv.writer(fh).writerows(rows)


def test_contract_errors_are_named_in_the_source_terms(cohort, tmp_path, existing_out):
    export = _copy_export(cohort, tmp_path)

    def too_many_joints(rows):
        rows[5][3] = "31"  # spreadsheet row 6, 压痛关节数
        return rows
    _edit_joints(export, too_many_joints)
    with pytest.raises(MappingError) as info:
        build_study(export, existing_out, mapping=cohort["mapping"])
    assert str(info.value) == (f"{JOINTS}, row 6, column 压痛关节数 (contract visits.tjc28): "
                               "value '31' is above the maximum 28 (rule: tjc28 in 0-28)")


def test_a_bad_unit_in_the_data_is_named_with_its_row(cohort, tmp_path, existing_out):
    import pyreadstat

    export = _copy_export(cohort, tmp_path)
    lab, _ = pyreadstat.read_xport(str(export / "lb.xpt"))
    crp = lab.index[lab["LBTESTCD"] == "CRP"][0]
    lab.loc[crp, "LBSTRESU"] = "nmol/L"
    pyreadstat.write_xport(lab, str(export / "lb.xpt"), table_name="LB")
    with pytest.raises(MappingError) as info:
        build_study(export, existing_out, mapping=cohort["mapping"])
    (problem,) = info.value.problems
    assert (problem.file, problem.row, problem.column, problem.contract, problem.source_value) \
        == ("lb.xpt", crp + 2, "LBSTRESU", "visits.crp", "nmol/L")
    assert "the unit of crp converts to mg/L" in problem.rule


# -- real studies differ ------------------------------------------------------------------------
def test_extra_visits_are_an_error_unless_mapped_to_ignore(cohort, tmp_path, existing_out):
    export = _copy_export(cohort, tmp_path)

    def add_week_8(rows):
        extra = [rows[1][0], "第8周", "2018/4/1", "3", "2", "30"]
        return rows[:3] + [extra] + rows[3:]
    _edit_joints(export, add_week_8)
    with pytest.raises(MappingError) as info:
        build_study(export, existing_out, mapping=cohort["mapping"])
    assert [str(p) for p in info.value.problems] == [
        f"{JOINTS}, row 4, column 访视 (contract visits.visit): visit label '第8周' is not mapped "
        "(rule: [visits] maps every visit label to a contract visit or 'ignore')"]
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(mapping_text().replace('[arms]', '"第8周" = "ignore"\n\n[arms]'),
                       encoding="utf-8")
    out = build_study(export, tmp_path / "ignored.duckdb", mapping=mapping)
    assert_same_tables(cohort["clean_db"], out)
    warnings = json.loads(info_of(out)["import_warnings"])
    assert warnings == [f"{JOINTS}, column 访视 (contract visits.visit): 1 rows of visits outside "
                        "the contract were left out ('第8周': 1) (rule: visits mapped to 'ignore' "
                        "are left out)"]


def test_a_missing_visit_label_is_the_importers_required_value(cohort, tmp_path, existing_out):
    export = _copy_export(cohort, tmp_path)

    def blank_visit(rows):
        rows[2][1] = ""
        return rows
    _edit_joints(export, blank_visit)
    with pytest.raises(MappingError) as info:
        build_study(export, existing_out, mapping=cohort["mapping"])
    assert f"{JOINTS}, row 3, column 访视 (contract visits.visit): value is missing (rule: visit " \
        "is required)" in str(info.value)


def test_cli_build_prints_the_warnings(cohort, tmp_path):
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(mapping_text().replace('adverse_events = "不良事件.xlsx"\n', ""),
                       encoding="utf-8")
    result = run_cli("build", str(cohort["export"]), "--mapping", str(mapping),
                     "--out", str(tmp_path / "s.duckdb"))
    assert result.returncode == 0, result.stderr
    assert "0 adverse events" in result.stdout
    assert result.stderr == ("warning: mapping.toml, column [files] adverse_events (contract "
                             "adverse_events): no file for adverse_events: analyses of it will "
                             "show no events (rule: adverse_events may be empty)\n")


def test_a_schedule_that_stops_early_builds_and_analyses_run(cohort, tmp_path):
    raw = Path(shutil.copytree(cohort["clean"], tmp_path / "raw"))
    visits = pd.read_csv(raw / "visits.csv", dtype=str, keep_default_na=False)
    visits[visits.visit.isin(["BL", "M1", "M3", "M6", "Y1", "M18", "Y2"])].to_csv(
        raw / "visits.csv", index=False)
    with open_study(build_study(raw, tmp_path / "short.duckdb")) as study:
        rates = response.compare_rates(study, "ACR20")
        assert set(rates.timepoint) >= {"Y1", "Y2"}
        assert trajectories.trajectories(study, "DAS28_ESR").timepoint.isin(
            ["BL", "M1", "M3", "M6", "Y1", "M18", "Y2"]).all()
        meds = medications.medications(study)  # Y3, Y5 have no visit: no n, no percent
        assert (meds[meds.timepoint == "Y5"]["n"] == 0).all()
        assert meds[meds.timepoint == "Y5"]["percent"].isna().all()
        assert survival.survival(study, "ACR20").summary is not None


def test_empty_adverse_events_and_medications_via_the_mapping(cohort, tmp_path):
    text = (mapping_text().replace('adverse_events = "不良事件.xlsx"\n', "")
            .replace('medications = "cm.parquet"\n', ""))
    out = build_study(cohort["export"], tmp_path / "no_ae.duckdb",
                      mapping=Mapping.from_toml(text))
    info = info_of(out)
    assert (info["n_adverse_events"], info["n_medications"]) == ("0", "0")
    warnings = json.loads(info["import_warnings"])
    assert [w.split(":")[0] for w in warnings] == ["mapping.toml, column [files] adverse_events "
                                                   "(contract adverse_events)",
                                                   "mapping.toml, column [files] medications "
                                                   "(contract medications)"]
    with open_study(out) as study:
        summary = safety.ae_summary(study)
        assert (summary.events == 0).all() and summary.rate_ratio.isna().all()
        assert "No events" in summary.attrs["footnote"]
        assert "无事件" in safety.ae_summary(study, lang="zh").attrs["footnote"]


# -- pieces -----------------------------------------------------------------------------------
@pytest.mark.parametrize("label, code", [
    ("基线", "BL"), ("Baseline", "BL"), ("第4周", "M1"), ("W48", "Y1"), ("WEEK 12", "M3"),
    ("第18个月", "M18"), ("Month 24", "Y2"), ("第5年", "Y5"), ("Y7", "Y7"), ("V3", None),
    ("第8周", None), ("第60个月", "Y5"),
])
def test_visit_labels_recognised(label, code):
    assert visit_code(label) == code


def test_units_in_headers_and_conversions():
    assert split_unit("C反应蛋白(mg/dL)") == ("c反应蛋白", "mg/dL")
    assert split_unit("病程（月）") == ("病程", "月")
    assert unit_factor("crp", "mg/dL") == 10 and unit_factor("crp", " MG/L ") == 1
    assert unit_factor("esr", "mm/hr") == 1 and unit_factor("crp", "mmol/L") is None
    assert unit_factor("pain", "cm") == 10


def test_months_of_duration_and_decimal_scaling(cohort, tmp_path):
    """CRP 2.14 mg/dL is 21.4 mg/L exactly, and 病程(月) 30 is 2.5 years."""
    export = tmp_path / "export"
    shutil.copytree(cohort["export"], export)
    sheet = pd.read_excel(export / "受试者信息.xlsx", sheet_name="人口学")
    sheet["病程(年)"] = sheet["病程(年)"] * 12
    sheet = sheet.rename(columns={"病程(年)": "病程(月)"})
    sheet.to_excel(export / "受试者信息.xlsx", sheet_name="人口学", index=False)
    text = mapping_text().replace('ra_duration_years = "病程(年)"',
                                  'ra_duration_years = "病程(月)"')
    text = text.replace("[dates]", '[units]\nra_duration_years = "月"\n\n[dates]')
    text = text.replace('{ file = "受试者信息.xlsx", sheet = "人口学" }', '"受试者信息.xlsx"')
    mapped = apply_mapping(export, Mapping.from_toml(text))
    assert not mapped.problems
    clean = pd.read_csv(cohort["clean"] / "subjects.csv", dtype=str)
    got = pd.to_numeric(mapped.tables["subjects"]["ra_duration_years"])
    assert got.to_numpy() == pytest.approx(pd.to_numeric(clean.ra_duration_years).to_numpy(),
                                           abs=1e-12)
    crp = apply_mapping(cohort["export"], cohort["mapping"]).tables["visits"]["crp"]
    clean_crp = pd.read_csv(cohort["clean"] / "visits.csv", dtype=str)["crp"]
    assert set(crp.dropna()) == set(clean_crp.dropna())  # the same decimal texts


def test_mapping_round_trips_through_toml(cohort):
    mapping = Mapping.load(cohort["mapping"])
    again = Mapping.from_toml(mapping.to_toml())
    for name in ("files", "columns", "visits", "arms", "arm_labels", "values", "units",
                 "date_formats", "excel_serial", "pivots", "study"):
        assert getattr(again, name) == getattr(mapping, name), name


@pytest.mark.parametrize("text, column, rule", [
    ('[column.visits]\ntjc28 = "TJC"\n', "[column]", "the mapping's sections are"),
    ('[[pivot.visits]]\ntest = "LBTESTCD"\ntests = { CRP = "crp" }\n', "[pivot]",
     "[pivot] has the form"),
    ('[files]\nvisits = [{ sheet = "x" }]\n', "[files]", "[files] has the form"),
    ("[visits\n", None, "the mapping is valid TOML"),
])
def test_a_malformed_mapping_is_a_named_error(text, column, rule):
    with pytest.raises(MappingError) as info:
        Mapping.from_toml(text)
    (problem,) = info.value.problems
    assert (problem.file, problem.column) == ("mapping.toml", column) and rule in problem.rule


def test_a_file_outside_the_export_is_refused(cohort, tmp_path):
    text = mapping_text().replace('medications = "cm.parquet"', 'medications = "../clean.duckdb"')
    mapped = apply_mapping(cohort["export"], Mapping.from_toml(text))
    assert [(p.file, p.column, p.source_value) for p in mapped.problems] == [
        ("mapping.toml", "[files]", "../clean.duckdb")]


def test_contract_named_headers_need_no_entry_and_study_json_labels(cohort, tmp_path):
    """A partly clean export: the clean CSVs with only the arms recoded need a mapping of just
    [arms]; arm labels may also come from study.json."""
    raw = Path(shutil.copytree(cohort["clean"], tmp_path / "raw"))
    subjects = pd.read_csv(raw / "subjects.csv", dtype=str, keep_default_na=False)
    subjects["arm"] = subjects["arm"].map({"MSC": "A组", "MSC_IFNG": "B组"})
    subjects.to_csv(raw / "subjects.csv", index=False)
    (raw / "study.json").write_text(json.dumps(
        {"name": "partly clean", "arm_labels": {"MSC": {"en": "Arm A", "zh": "A组"}}}),
        encoding="utf-8")
    mapping = Mapping.from_toml(
        '[files]\nsubjects = "subjects.csv"\nvisits = "visits.csv"\n'
        'adverse_events = "adverse_events.csv"\nmedications = "medications.csv"\n\n'
        '[arms]\n"A组" = "MSC"\n"B组" = "MSC_IFNG"\n')
    out = build_study(raw, tmp_path / "s.duckdb", mapping=mapping)
    assert_same_tables(cohort["clean_db"], out)
    info = info_of(out)
    assert (info["arm_label.MSC.en"], info["arm_label.MSC.zh"]) == ("Arm A", "A组")
    assert info["name"] == "partly clean" and "arm_labels" not in info


def test_the_documented_example_is_a_valid_mapping():
    """docs/STUDY.md section 2a: its example is the mapping of the test export, abridged."""
    text = (PROJECT_DIR / "docs" / "STUDY.md").read_text(encoding="utf-8")
    section = text.split("## 2a.", 1)[1]
    example = section.split("```toml\n", 1)[1].split("```", 1)[0]
    documented, tested = Mapping.from_toml(example), Mapping.from_toml(mapping_text())
    for name in ("files", "columns", "arms", "arm_labels", "values", "date_formats", "pivots"):
        assert getattr(documented, name) == getattr(tested, name), name
    assert documented.visits.items() - tested.visits.items() == {("第8周", "ignore")}


def test_dates_in_the_mapping_formats_and_excel_serials():
    from analytics.mapping import _dates

    mapping = Mapping(date_formats=["%Y/%m/%d", "%d.%m.%Y"], excel_serial=True)
    texts = pd.Series(["2019/3/5", None, "43529", "2019-03-05", "5.3.2019", "yesterday",
                       "2019/2/30"], dtype=object)
    assert _dates(texts, mapping).tolist() == ["2019-03-05", None, "2019-03-05", "2019-03-05",
                                               "2019-03-05", "yesterday", "2019/2/30"]


def test_a_contract_shaped_folder_drafts_an_identity_mapping(cohort, tmp_path):
    draft = draft_mapping(cohort["clean"])
    assert draft.unmapped == [] and draft.ignored == []
    for table in TABLES:
        assert draft.mapping.columns[table] == {c: [c] for c in draft.mapping.columns[table]}
    out = build_study(cohort["clean"], tmp_path / "s.duckdb",
                      mapping=Mapping.from_toml(draft.to_toml()))
    assert_same_tables(cohort["clean_db"], out)


def test_sas7bdat_is_read_as_text():
    from analytics.importer import _Problems
    from analytics.readers import read_source

    problems = _Problems()
    frame = read_source(PROJECT_DIR / "tests" / "data" / "pyreadstat_sample.sas7bdat", problems)
    assert not problems.items
    assert list(frame.columns) == ["mychar", "mynum", "mydate", "dtime", "mylabl", "myord",
                                   "mytime"]
    assert frame.index.tolist() == [2, 3, 4, 5, 6]  # spreadsheet rows: header = 1
    assert frame.loc[2, ["mychar", "mynum", "mydate", "mylabl"]].tolist() == [
        "a", "1.1", "2018-05-06", "1"]
    assert frame.loc[4, "mynum"] == "-1000.3" and frame.loc[6, "mydate"] is None


def test_mapping_as_an_editable_table(cohort):
    """A page shows the mapping as rows (section, key, value); one edited cell changes it."""
    mapping = Mapping.load(cohort["mapping"])
    rows = mapping.to_rows()
    again = Mapping.from_rows(rows)
    for name in ("files", "columns", "visits", "arms", "values", "pivots", "date_formats"):
        assert getattr(again, name) == getattr(mapping, name), name
    cell = (rows.section == "columns.visits") & (rows.key == "tjc28")
    assert rows.loc[cell, "value"].tolist() == ['"压痛关节数"']
    assert set(rows.section) >= {"files", "visits", "arms", "pivot.visits.1", "pivot.visits.2"}
    rows.loc[(rows.section == "arms") & (rows.key == "A组"), "value"] = '"MSC_IFNG"'
    assert Mapping.from_rows(rows).arms == {"A组": "MSC_IFNG", "B组": "MSC_IFNG"}
    rows.loc[cell, "value"] = '"TJC"'
    assert Mapping.from_rows(rows).columns["visits"]["tjc28"] == ["TJC"]
