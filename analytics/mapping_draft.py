"""Drafting a mapping from an export: ``python -m analytics map RAW_DIR --out mapping.toml``.

Recognises the contract's own names and common English, SDTM and Chinese synonyms of every
column (受试者编号, 压痛关节数, 血沉, C反应蛋白 …), units written in a header (``CRP (mg/dL)``,
``病程(月)``) or in a long table's unit column, visit labels (基线, 第4周, WEEK 48, 第18个月 …),
common codes (男/女, 是/否, 阳性/阴性, 完成/退出 …), date formats and Excel serial dates.
:func:`draft_mapping` returns the :class:`Draft`: the mapping plus the list of what it could not
map (written as comments into the TOML, for a person to fill in).
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .importer import _Problems
from .mapping import (EXCEL_EPOCH, FLAGS, IGNORE_VISIT, Mapping, Pivot, Source, _allowed,
                      unit_factor)
from .readers import export_files, read_source, sheet_names
from .schema import TABLES, VISIT_MONTHS, VISITS

_ID = ["subject_id", "subjectid", "subject", "usubjid", "subjid", "patientid", "patient",
       "受试者编号", "受试者id", "受试者代码", "患者编号", "病例编号", "受试者"]
# contract column -> synonyms (compared after normalise(): case, blanks, _-. and brackets dropped).
# Ambiguous abbreviations are left out on purpose (PGA is the patient's global in some forms and
# the physician's in others): an unrecognised column is listed, a wrongly guessed one is not.
SYNONYMS: dict[str, dict[str, list[str]]] = {
    "subjects": {
        "subject_id": _ID,
        "study_id": ["study_id", "studyid", "study", "trial", "trialid", "研究编号", "试验编号",
                     "方案编号", "注册号", "研究"],
        "arm": ["arm", "armcd", "group", "treatment", "treatmentgroup", "组别", "分组", "治疗组",
                "治疗分组"],
        "sex": ["sex", "gender", "性别"],
        "age": ["age", "年龄"],
        "ra_duration_years": ["ra_duration_years", "raduration", "diseaseduration", "duration",
                              "病程", "疾病病程", "ra病程"],
        "rf_positive": ["rf_positive", "rf", "rheumatoidfactor", "类风湿因子", "rf阳性",
                        "类风湿因子阳性"],
        "anti_ccp_positive": ["anti_ccp_positive", "anticcp", "accp", "抗ccp", "抗ccp抗体",
                              "抗环瓜氨酸肽抗体", "抗ccp阳性"],
        "prior_csdmard": ["prior_csdmard", "priorcsdmard", "既往csdmard", "既往csdmards",
                          "既往dmard", "既往dmards", "既往传统dmard", "csdmard史"],
        "prior_bdmard": ["prior_bdmard", "priorbdmard", "既往生物制剂", "既往bdmard",
                         "生物制剂史"],
        "prior_nsaid": ["prior_nsaid", "priornsaid", "既往nsaid", "既往nsaids",
                        "既往非甾体抗炎药", "nsaid史"],
        "prior_prednisone": ["prior_prednisone", "priorprednisone", "既往泼尼松", "既往激素",
                             "既往糖皮质激素"],
        "infusion_date": ["infusion_date", "infusiondate", "rfxstdtc", "exstdtc", "输注日期",
                          "回输日期", "干细胞输注日期"],
        "status": ["status", "dsdecod", "状态", "完成状态", "研究状态"],
        "withdrawal_date": ["withdrawal_date", "withdrawaldate", "dsstdtc", "退出日期",
                            "脱落日期"],
        "withdrawal_reason": ["withdrawal_reason", "withdrawalreason", "dsterm", "退出原因",
                              "脱落原因"],
        "last_assessment_date": ["last_assessment_date", "lastassessmentdate", "末次评估日期",
                                 "最后评估日期", "末次随访日期", "最后随访日期"],
    },
    "visits": {
        "subject_id": _ID,
        "visit": ["visit", "visitname", "avisit", "访视", "访视名称", "访视点", "随访"],
        "visit_date": ["visit_date", "visitdate", "visdat", "svstdtc", "访视日期", "随访日期",
                       "评估日期"],
        "tjc28": ["tjc28", "tjc", "tenderjointcount", "压痛关节数", "压痛关节计数",
                  "压痛关节数28"],
        "sjc28": ["sjc28", "sjc", "swollenjointcount", "肿胀关节数", "肿胀关节计数",
                  "肿胀关节数28"],
        "esr": ["esr", "血沉", "红细胞沉降率"],
        "crp": ["crp", "c反应蛋白", "creactiveprotein"],
        "patient_global": ["patient_global", "patientglobal", "ptga", "ptglobal",
                           "患者总体评估", "患者整体评估", "患者总体评价"],
        "physician_global": ["physician_global", "physicianglobal", "phga", "phglobal", "ega",
                             "mdga", "医生总体评估", "医生整体评估", "医师总体评估"],
        "pain": ["pain", "painvas", "vaspain", "疼痛", "疼痛评分", "疼痛vas", "vas疼痛"],
        "haq_di": ["haq_di", "haqdi", "haq", "健康评估问卷", "haq评分"],
    },
    "adverse_events": {
        "subject_id": _ID,
        "ae_id": ["ae_id", "aeid", "aespid", "aeseq", "不良事件编号", "ae编号"],
        "pt": ["pt", "aedecod", "preferredterm", "首选术语", "首选语"],
        "soc": ["soc", "aebodsys", "aesoc", "systemorganclass", "系统器官分类"],
        "onset_date": ["onset_date", "onsetdate", "aestdtc", "开始日期", "发生日期", "起始日期"],
        "end_date": ["end_date", "enddate", "aeendtc", "结束日期", "终止日期"],
        "serious": ["serious", "aeser", "严重", "是否严重", "严重不良事件"],
        "severity": ["severity", "aesev", "严重程度"],
        "outcome": ["outcome", "aeout", "转归"],
        "category": ["category", "aecat", "分类", "类别"],
    },
    "medications": {
        "subject_id": _ID,
        "drug_class": ["drug_class", "drugclass", "cmclas", "cmcat", "药物类别", "药物分类"],
        "drug_name": ["drug_name", "drugname", "cmtrt", "cmdecod", "药物名称", "药品名称",
                      "药名"],
        "start_date": ["start_date", "startdate", "cmstdtc", "开始日期", "起始日期"],
        "end_date": ["end_date", "enddate", "cmendtc", "结束日期", "停止日期"],
    },
}
# columns of a long (one row per test) table
TEST_CODE = ["lbtestcd", "qstestcd", "vstestcd", "testcd", "testcode", "test", "检查项目代码",
             "检验项目", "项目"]
TEST_VALUE = ["lbstresn", "qsstresn", "vsstresn", "stresn", "lborres", "qsorres", "result",
              "value", "结果", "检测值"]
TEST_UNIT = ["lbstresu", "qsstresu", "vsstresu", "stresu", "lborresu", "unit", "单位"]

# normalised source code -> contract value, per column ("flags": every 0/1 column)
CODES: dict[str, dict[str, str]] = {
    "sex": {"男": "M", "男性": "M", "male": "M", "m": "M", "女": "F", "女性": "F",
            "female": "F", "f": "F"},
    FLAGS: {"是": "1", "有": "1", "阳性": "1", "yes": "1", "y": "1", "true": "1", "+": "1",
            "否": "0", "无": "0", "阴性": "0", "no": "0", "n": "0", "false": "0", "-": "0"},
    "status": {"完成": "completed", "已完成": "completed", "complete": "completed",
               "completed": "completed", "退出": "withdrawn", "脱落": "withdrawn",
               "withdrawn": "withdrawn", "discontinued": "withdrawn"},
    "withdrawal_reason": {"疗效不佳": "lack_of_efficacy", "缺乏疗效": "lack_of_efficacy",
                          "lackofefficacy": "lack_of_efficacy",
                          "不良事件": "adverse_event", "adverseevent": "adverse_event",
                          "其他": "other", "其它": "other", "other": "other"},
    "severity": {"轻度": "mild", "轻": "mild", "mild": "mild", "中度": "moderate",
                 "中": "moderate", "moderate": "moderate", "重度": "severe", "重": "severe",
                 "severe": "severe"},
    "outcome": {"痊愈": "recovered/resolved", "已恢复": "recovered/resolved",
                "已缓解": "recovered/resolved", "恢复中": "recovering/resolving",
                "好转": "recovering/resolving", "未恢复": "not recovered/not resolved",
                "未缓解": "not recovered/not resolved", "未痊愈": "not recovered/not resolved",
                "痊愈有后遗症": "recovered/resolved with sequelae", "死亡": "fatal"},
    "drug_class": {"csdmard": "csDMARD", "传统合成dmard": "csDMARD", "tsdmard": "tsDMARD",
                   "靶向合成dmard": "tsDMARD", "bdmard": "bDMARD", "生物制剂": "bDMARD",
                   "生物dmard": "bDMARD", "prednisone": "prednisone", "泼尼松": "prednisone",
                   "糖皮质激素": "prednisone", "nsaid": "NSAID", "非甾体抗炎药": "NSAID"},
}
DATE_FORMATS = ("%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日", "%d/%m/%Y", "%m/%d/%Y",
                "%d-%b-%Y", "%d%b%Y")
WEEKS_TO_MONTHS = {4: 1, 12: 3, 24: 6, 48: 12}  # the RCT's weeks; Y1 is week 48
_UNIT_IN_HEADER = re.compile(r"^(.*?)[(（\[]\s*([^()（）\[\]]+?)\s*[)）\]]\s*$")


def normalise(name: str) -> str:
    return re.sub(r"[\s_\-.·:：/]+", "", str(name)).casefold()


def split_unit(header: str) -> tuple[str, str | None]:
    """``'C反应蛋白(mg/dL)'`` -> (``'c反应蛋白'``, ``'mg/dL'``)."""
    match = _UNIT_IN_HEADER.match(str(header).strip())
    if match:
        return normalise(match.group(1)), match.group(2)
    return normalise(header), None


def visit_code(label: str) -> str | None:
    """A contract visit code for a visit label, when the label says it plainly."""
    text = normalise(label)
    if text.upper() in VISITS:
        return text.upper()
    if text in ("基线", "baseline", "bl", "基线访视", "day0", "第0天", "d0"):
        return "BL"
    months_of = {m: v for v, m in VISIT_MONTHS.items()}
    for pattern, unit in ((r"第?(\d+)周|week(\d+)|wk(\d+)|w(\d+)", "week"),
                          (r"第?(\d+)个?月|month(\d+)|mo(\d+)|m(\d+)", "month"),
                          (r"第?(\d+)年|year(\d+)|yr(\d+)|y(\d+)", "year")):
        match = re.fullmatch(pattern, text)
        if match:
            n = int(next(g for g in match.groups() if g))
            months = {"week": WEEKS_TO_MONTHS.get(n), "month": n, "year": 12 * n}[unit]
            return months_of.get(months)
    return None


# the kinds of finding a draft notes (catalogue keys draft.unmapped.<kind>, draft.ignored.<kind>)
NOTE_KINDS = {"unmapped": ("no_file", "no_source", "visit", "code"),
              "ignored": ("no_column", "column", "test")}


@dataclass
class Draft:
    mapping: Mapping
    unmapped: list[str] = field(default_factory=list)  # what a person must fill in
    ignored: list[str] = field(default_factory=list)  # source columns/tests not used
    comments: dict[str, list[str]] = field(default_factory=dict)
    # the same findings as (list, kind, fields), worded by the catalogue's
    # ``draft.<list>.<kind>`` in the reader's language on a page (the CLI prints the English)
    notes: list[tuple[str, str, dict]] = field(default_factory=list)

    def cannot_map(self, text: str, kind: str, **fields) -> None:
        self.unmapped.append(text)
        self.notes.append(("unmapped", kind, fields))

    def not_used(self, text: str, kind: str, **fields) -> None:
        self.ignored.append(text)
        self.notes.append(("ignored", kind, fields))

    def to_toml(self) -> str:
        head = ["# Mapping drafted by `python -m analytics map`: check every line.",
                *(f"# could not map: {u}" for u in self.unmapped),
                *(f"# not used: {i}" for i in self.ignored)]
        return "\n".join(head) + "\n\n" + self.mapping.to_toml(self.comments)


@dataclass
class _Sheet:
    source: Source
    frame: pd.DataFrame
    long: tuple[str, str, str | None] | None = None  # test, value, unit columns


def _find(headers, synonyms) -> str | None:
    wanted = {normalise(s) for s in synonyms}
    return next((h for h in headers if split_unit(h)[0] in wanted), None)


def _read_all(raw_dir: Path) -> list[_Sheet]:
    sheets, problems = [], _Problems()
    for path in export_files(raw_dir):
        for sheet in sheet_names(path) or [None]:
            frame = read_source(path, problems, sheet if len(sheet_names(path)) > 1 else None)
            if frame is not None and len(frame.columns):
                source = Source(path.name, sheet if len(sheet_names(path)) > 1 else None)
                sheets.append(_Sheet(source, frame))
    return sheets


def _classify(sheet: _Sheet) -> str | None:
    headers = list(sheet.frame.columns)
    test, value = _find(headers, TEST_CODE), _find(headers, TEST_VALUE)
    if test and value:
        sheet.long = (test, value, _find(headers, TEST_UNIT))
        return "visits"
    scores = {}
    for table, columns in SYNONYMS.items():
        scores[table] = sum(1 for c, syn in columns.items()
                            if c != "subject_id" and _find(headers, syn))
    best = max(scores, key=scores.get)
    return best if scores[best] else None


def draft_mapping(raw_dir: str | Path) -> Draft:
    """A mapping for the export in ``raw_dir``, and what it could not map."""
    raw_dir = Path(raw_dir)
    mapping = Mapping(study={"name": raw_dir.resolve().name})
    draft = Draft(mapping)
    by_table: dict[str, list[_Sheet]] = {t: [] for t in TABLES}
    for sheet in _read_all(raw_dir):
        table = _classify(sheet)
        if table is None:
            draft.not_used(f"{sheet.source.label}: no column recognised", "no_column",
                           file=sheet.source.label)
        else:
            by_table[table].append(sheet)
    for table, sheets in by_table.items():
        if not sheets:
            draft.cannot_map(f"no file found for table {table}", "no_file", table=table)
            continue
        sheets.sort(key=lambda s: s.long is not None)  # wide forms first: they give the rows
        mapping.files[table] = [s.source for s in sheets]
        _draft_columns(table, sheets, draft)
    _draft_codes(by_table, draft)
    return draft


def _draft_columns(table: str, sheets: list[_Sheet], draft: Draft) -> None:
    mapping = draft.mapping
    columns: dict[str, list[str]] = {}
    for sheet in sheets:
        used = set()
        if sheet.long:
            used |= {h for h in sheet.long if h}
            _draft_pivot(table, sheet, draft)
        for column, synonyms in SYNONYMS[table].items():
            header = _find(sheet.frame.columns, synonyms)
            if header is None:
                continue
            used.add(header)
            if header not in columns.setdefault(column, []):
                columns[column].append(header)
            unit = split_unit(header)[1]
            if unit and unit_factor(column, unit) is not None:
                mapping.units[column] = unit
        for header in sheet.frame.columns:
            if header not in used:
                draft.not_used(f"{sheet.source.label}: column {header!r}", "column",
                               file=sheet.source.label, column=header)
    mapping.columns[table] = columns
    fed = {c for p in mapping.pivots.get(table, []) for c in p.tests.values()}
    optional = {"category", "outcome", "end_date"} if table == "adverse_events" else set()
    for column in TABLES[table].column_names:
        if column not in columns and column not in fed and column not in optional:
            draft.cannot_map(f"{table}.{column}: no source column recognised", "no_source",
                             column=f"{table}.{column}")
            draft.comments.setdefault(f"columns.{table}", []).append(
                f'{column} = ""   # could not find it: name the source column')


def _draft_pivot(table: str, sheet: _Sheet, draft: Draft) -> None:
    test, value, unit = sheet.long
    tests = {}
    for code in dict.fromkeys(sheet.frame[test].dropna()):
        column = next((c for c, syn in SYNONYMS[table].items()
                       if c not in ("subject_id", "visit", "visit_date")
                       and normalise(code) in {normalise(s) for s in syn}), None)
        if column is None:
            draft.not_used(f"{sheet.source.label}: test {code!r}", "test", file=sheet.source.label,
                           test=code)
        else:
            tests[code] = column
    draft.mapping.pivots.setdefault(table, []).append(
        Pivot(test=test, value=value, tests=tests, unit=unit, file=sheet.source.file))


def _draft_codes(by_table: dict[str, list[_Sheet]], draft: Draft) -> None:
    """Visit labels, coded values and date formats, from the values in the files."""
    mapping = draft.mapping
    formats: dict[str, int] = {}
    for table, sheets in by_table.items():
        for sheet in sheets:
            for column, names in mapping.columns.get(table, {}).items():
                header = next((n for n in names if n in sheet.frame.columns), None)
                if header is None:
                    continue
                values = list(dict.fromkeys(sheet.frame[header].dropna()))
                kind = next(c.kind for c in TABLES[table].columns if c.name == column)
                if column == "visit":
                    _draft_visits(values, draft)
                elif kind == "date":
                    _draft_dates(values, formats, draft)
                elif kind in ("enum", "flag") or column == "outcome":
                    _draft_values(column, kind, values, draft)
    mapping.date_formats = sorted(formats, key=formats.get, reverse=True)


def _draft_visits(labels, draft: Draft) -> None:
    for label in labels:
        if label in VISITS or label in draft.mapping.visits:
            continue
        code = visit_code(label)
        if code is None:
            draft.cannot_map(f"visit label {label!r}", "visit", label=label)
            draft.comments.setdefault("visits", []).append(
                f'{_quoted(label)} = ""   # a visit code ({", ".join(VISITS)}) or "{IGNORE_VISIT}"')
        else:
            draft.mapping.visits[label] = code


def _draft_values(column: str, kind: str, values, draft: Draft) -> None:
    allowed = set(_allowed(column))
    section = "arms" if column == "arm" else FLAGS if kind == "flag" else column
    known = CODES.get(section, {})
    target = draft.mapping.arms if column == "arm" else draft.mapping.values.setdefault(section, {})
    for value in values:
        if value in allowed or value in target:
            continue
        guess = known.get(normalise(value))
        if guess is None and allowed:
            guess = next((a for a in allowed if normalise(a) == normalise(value)), None)
        if guess is not None:
            target[value] = guess
        elif column != "outcome":  # free text outcome terms may stay as they are
            draft.cannot_map(f"{column} code {value!r}", "code", column=column, value=value)
            key = "arms" if column == "arm" else f"values.{section}"
            draft.comments.setdefault(key, []).append(
                f'{_quoted(value)} = ""   # one of {", ".join(sorted(allowed))}')
    if section in draft.mapping.values and not draft.mapping.values[section]:
        del draft.mapping.values[section]


def _draft_dates(values, formats: dict[str, int], draft: Draft) -> None:
    for value in values:
        text = str(value)
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            continue
        if re.fullmatch(r"\d{5}(\.0+)?", text):
            serial = EXCEL_EPOCH + dt.timedelta(days=int(float(text)))
            if dt.date(1950, 1, 1) <= serial <= dt.date(2100, 1, 1):
                draft.mapping.excel_serial = True
                continue
        for fmt in DATE_FORMATS:
            try:
                dt.datetime.strptime(text, fmt)
            except ValueError:
                continue
            formats[fmt] = formats.get(fmt, 0) + 1
            break


def _quoted(text: str) -> str:
    import json

    return json.dumps(str(text), ensure_ascii=False)
