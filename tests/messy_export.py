"""The synthetic cohort written as a real EDC/Excel export would come: the test data of the mapping.

Chinese headers and codes; subjects in an XLSX sheet (A组/B组, 男/女, 阳性/阴性, 是/否, Excel serial
dates) beside a notes sheet; the visit table on three forms merged on subject and visit: joint
counts in a GBK CSV (Chinese visit labels, dates as 2019/3/5), labs as an SDTM-like LB long table
in a SAS transport file (English visit labels, CRP in mg/dL with a unit column, an extra test) and
questionnaires as a QS long table in a UTF-8-with-BOM CSV; adverse events in XLSX (Chinese codes);
medications as SDTM CM in Parquet. :data:`MAPPING` is the hand-written mapping of it.
"""
from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pandas as pd

ARM_CODES = {"MSC": "A组", "MSC_IFNG": "B组"}
SEX = {"F": "女", "M": "男"}
POS_NEG = {"1": "阳性", "0": "阴性"}
YES_NO = {"1": "是", "0": "否"}
STATUS = {"completed": "完成", "withdrawn": "退出"}
REASON = {"lack_of_efficacy": "疗效不佳", "adverse_event": "不良事件", "other": "其他"}
SEVERITY = {"mild": "轻度", "moderate": "中度", "severe": "重度"}
OUTCOME = {"recovered/resolved": "痊愈", "recovering/resolving": "恢复中",
           "not recovered/not resolved": "未恢复"}
EXCEL_EPOCH = dt.date(1899, 12, 30)


VISIT_WORDS = {"zh": ("基线", "第{}周", "第{}个月", "第{}年"),
               "en": ("BASELINE", "WEEK {}", "MONTH {}", "YEAR {}")}
RCT_WEEKS = {"M1": 4, "M3": 12, "M6": 24, "Y1": 48}


def visit_label(code: str, lang: str) -> str:
    """基线, 第4周 … 第18个月, 第2年 (zh) or BASELINE, WEEK 4 … MONTH 18, YEAR 2 (en)."""
    baseline, week, month, year = VISIT_WORDS[lang]
    if code == "BL":
        return baseline
    if code in RCT_WEEKS:
        return week.format(RCT_WEEKS[code])
    return (month if code[0] == "M" else year).format(code[1:])


def zh_visit(code: str) -> str:
    return visit_label(code, "zh")


def en_visit(code: str) -> str:
    return visit_label(code, "en")


def _serial(iso: str | None) -> int | None:
    return None if not iso else (dt.date.fromisoformat(iso) - EXCEL_EPOCH).days


def _slash(iso: str | None) -> str:
    if not iso:
        return ""
    d = dt.date.fromisoformat(iso)
    return f"{d.year}/{d.month}/{d.day}"


def _read(clean: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(clean / f"{name}.csv", dtype=str, keep_default_na=False)


def _none(value: str) -> str | None:
    return value if value != "" else None


def write_messy_export(clean: Path, out: Path) -> Path:
    """Write the export of the clean raw tables in ``clean`` into ``out``."""
    import pyreadstat

    out.mkdir(parents=True, exist_ok=True)
    s = _read(clean, "subjects")
    subjects = pd.DataFrame({
        "受试者编号": s.subject_id, "研究编号": s.study_id, "组别": s.arm.map(ARM_CODES),
        "性别": s.sex.map(SEX), "年龄": pd.to_numeric(s.age),
        "病程(年)": pd.to_numeric(s.ra_duration_years),
        "类风湿因子": s.rf_positive.map(POS_NEG), "抗CCP抗体": s.anti_ccp_positive.map(POS_NEG),
        "既往csDMARD": s.prior_csdmard.map(YES_NO), "既往生物制剂": s.prior_bdmard.map(YES_NO),
        "既往NSAID": s.prior_nsaid.map(YES_NO), "既往泼尼松": s.prior_prednisone.map(YES_NO),
        "输注日期": s.infusion_date.map(_serial), "状态": s.status.map(STATUS),
        "退出日期": s.withdrawal_date.map(_serial).astype("Int64"),
        "退出原因": s.withdrawal_reason.map(lambda r: REASON.get(r)),
        "末次评估日期": s.last_assessment_date.map(_serial),
    })
    with pd.ExcelWriter(out / "受试者信息.xlsx") as writer:
        subjects.to_excel(writer, sheet_name="人口学", index=False)
        pd.DataFrame({"说明": ["导出自 EDC", "日期为 Excel 序列号"]}).to_excel(
            writer, sheet_name="说明", index=False)

    v = _read(clean, "visits")
    with open(out / "关节评估.csv", "w", newline="", encoding="gbk") as fh:
        writer = csv.writer(fh)
        writer.writerow(["受试者编号", "访视", "访视日期", "压痛关节数", "肿胀关节数",
                         "医生总体评估"])
        for r in v.itertuples():
            writer.writerow([r.subject_id, zh_visit(r.visit), _slash(r.visit_date), r.tjc28,
                             r.sjc28, r.physician_global])
    lab = []
    for r in v.itertuples():
        lab.append((r.subject_id, en_visit(r.visit), "HGB", 125.0, "g/L"))  # not in the contract
        if r.esr:
            lab.append((r.subject_id, en_visit(r.visit), "ESR", float(r.esr), "mm/h"))
        if r.crp:
            lab.append((r.subject_id, en_visit(r.visit), "CRP",
                        float(Decimal(r.crp) / 10), "mg/dL"))
    pyreadstat.write_xport(pd.DataFrame(lab, columns=["USUBJID", "VISIT", "LBTESTCD",
                                                      "LBSTRESN", "LBSTRESU"]),
                           str(out / "lb.xpt"), table_name="LB")
    with open(out / "qs.csv", "w", newline="", encoding="utf-8-sig") as fh:
        writer = csv.writer(fh)
        writer.writerow(["USUBJID", "VISIT", "QSTESTCD", "QSSTRESN"])
        for r in v.itertuples():
            for code, value in (("PTGA", r.patient_global), ("PAIN", r.pain),
                                ("HAQDI", r.haq_di)):
                if value:
                    writer.writerow([r.subject_id, zh_visit(r.visit), code, value])

    a = _read(clean, "adverse_events")
    pd.DataFrame({
        "受试者编号": a.subject_id, "不良事件编号": a.ae_id, "首选术语": a.pt,
        "系统器官分类": a.soc, "开始日期": pd.to_datetime(a.onset_date),
        "结束日期": pd.to_datetime(a.end_date.map(_none)), "严重": a.serious.map(YES_NO),
        "严重程度": a.severity.map(SEVERITY), "转归": a.outcome.map(OUTCOME),
        "分类": a.category.map(_none),
    }).to_excel(out / "不良事件.xlsx", index=False)

    m = _read(clean, "medications")
    pd.DataFrame({"USUBJID": m.subject_id, "CMCLAS": m.drug_class, "CMTRT": m.drug_name,
                  "CMSTDTC": m.start_date, "CMENDTC": m.end_date.map(_none)}).to_parquet(
        out / "cm.parquet", index=False)
    return out


MAPPING = """
[study]
name = "MSC RA trial export"

[files]
subjects = { file = "受试者信息.xlsx", sheet = "人口学" }
visits = ["关节评估.csv", "lb.xpt", "qs.csv"]
adverse_events = "不良事件.xlsx"
medications = "cm.parquet"

[columns.subjects]
subject_id = "受试者编号"
study_id = "研究编号"
arm = "组别"
sex = "性别"
age = "年龄"
ra_duration_years = "病程(年)"
rf_positive = "类风湿因子"
anti_ccp_positive = "抗CCP抗体"
prior_csdmard = "既往csDMARD"
prior_bdmard = "既往生物制剂"
prior_nsaid = "既往NSAID"
prior_prednisone = "既往泼尼松"
infusion_date = "输注日期"
status = "状态"
withdrawal_date = "退出日期"
withdrawal_reason = "退出原因"
last_assessment_date = "末次评估日期"

[columns.visits]
subject_id = ["受试者编号", "USUBJID"]
visit = ["访视", "VISIT"]
visit_date = "访视日期"
tjc28 = "压痛关节数"
sjc28 = "肿胀关节数"
physician_global = "医生总体评估"

[columns.adverse_events]
subject_id = "受试者编号"
ae_id = "不良事件编号"
pt = "首选术语"
soc = "系统器官分类"
onset_date = "开始日期"
end_date = "结束日期"
serious = "严重"
severity = "严重程度"
outcome = "转归"
category = "分类"

[columns.medications]
subject_id = "USUBJID"
drug_class = "CMCLAS"
drug_name = "CMTRT"
start_date = "CMSTDTC"
end_date = "CMENDTC"

[visits]
"基线" = "BL"
"第4周" = "M1"
"第12周" = "M3"
"第24周" = "M6"
"第48周" = "Y1"
BASELINE = "BL"
"WEEK 4" = "M1"
"WEEK 12" = "M3"
"WEEK 24" = "M6"
"WEEK 48" = "Y1"
{visits}

[arms]
"A组" = "MSC"
"B组" = "MSC_IFNG"

[arm_labels.MSC]
en = "MSC monotherapy"
zh = "MSC 单药"

[arm_labels.MSC_IFNG]
en = "MSC + IFN-γ"
zh = "MSC 联合 IFN-γ"

[values.sex]
"男" = "M"
"女" = "F"

[values.flags]
"是" = "1"
"否" = "0"
"阳性" = "1"
"阴性" = "0"

[values.status]
"完成" = "completed"
"退出" = "withdrawn"

[values.withdrawal_reason]
"疗效不佳" = "lack_of_efficacy"
"不良事件" = "adverse_event"
"其他" = "other"

[values.severity]
"轻度" = "mild"
"中度" = "moderate"
"重度" = "severe"

[values.outcome]
"痊愈" = "recovered/resolved"
"恢复中" = "recovering/resolving"
"未恢复" = "not recovered/not resolved"

[dates]
formats = ["%Y/%m/%d"]
excel_serial = true

[[pivot.visits]]
file = "lb.xpt"
test = "LBTESTCD"
value = "LBSTRESN"
unit = "LBSTRESU"
tests = { ESR = "esr", CRP = "crp" }

[[pivot.visits]]
file = "qs.csv"
test = "QSTESTCD"
value = "QSSTRESN"
tests = { PTGA = "patient_global", PAIN = "pain", HAQDI = "haq_di" }
"""


def mapping_text() -> str:
    """:data:`MAPPING` with the labels of every later visit filled in."""
    from analytics.schema import VISITS

    later = [v for v in VISITS if v not in ("BL", "M1", "M3", "M6", "Y1")]
    lines = [f'"{label(v)}" = "{v}"' for v in later for label in (zh_visit, en_visit)]
    return MAPPING.replace("{visits}", "\n".join(lines))


def write_messy_zip(tmp: Path) -> tuple[Path, Path]:
    """The synthetic cohort (default seed) as the messy export in ``tmp/export`` and as one zip of
    it, ``tmp/export.zip`` (files under ``export/``, no mapping), as a user uploads it."""
    import zipfile

    from analytics.synth import DEFAULT_SEED, write_cohort

    write_cohort(tmp / "clean", seed=DEFAULT_SEED)
    folder = write_messy_export(tmp / "clean", tmp / "export")
    archive = tmp / "export.zip"
    with zipfile.ZipFile(archive, "w") as out:
        for path in sorted(folder.iterdir()):
            out.write(path, f"export/{path.name}")
    return archive, folder
