"""Reading raw study tables (STUDY.md section 2) and checking them against the data contract.

The contract itself lives in :mod:`analytics.schema`; this module only applies it.

``read_raw(raw_dir)`` finds the four tables (``<name>.csv``, ``<name>.xlsx`` or ``<name>.parquet``)
and reads every value as text, so that a bad value can be reported with the row a spreadsheet user
sees (header = row 1, first data row = row 2). ``validate(tables)`` checks them and raises one
:class:`ContractError` listing every problem found (up to :data:`MAX_PROBLEMS`), so a user can fix
them all in one go. ``parse(tables)`` does the same and returns typed frames in contract column
order, ready to be written to a study file; ``load(raw_dir)`` is ``parse(read_raw(raw_dir))``.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import math
import numbers
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .schema import OPTIONAL_COLUMNS, TABLES, Column, Table

FORMATS: tuple[str, ...] = ("csv", "xlsx", "parquet")
CSV_ENCODINGS: tuple[str, ...] = ("utf-8-sig", "gb18030")  # utf-8-sig also reads BOM-less UTF-8
# Cell texts that mean "no value" (compared case-insensitively, after stripping blanks).
MISSING_TOKENS: frozenset[str] = frozenset({"", "NA", "N/A", "NAN", "NULL", "<NA>"})
MAX_PROBLEMS = 50
# Tables a real study may legitimately leave empty (no AE reported yet, no concomitant medication
# recorded): accepted with a warning; every other table needs at least one data row.
EMPTY_ALLOWED: frozenset[str] = frozenset({"adverse_events", "medications"})
ROW_INDEX = "row"  # index name of frames from read_raw: the spreadsheet row of each record
_ISO_DATE = r"\d{4}-\d{2}-\d{2}"


# -- errors ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Problem:
    """One breach of the contract. ``row`` is the spreadsheet row (header = 1) or None."""

    file: str | None
    row: int | None
    column: str | None
    rule: str | None
    detail: str

    def __str__(self) -> str:
        where = ", ".join(p for p in (
            self.file,
            f"row {self.row}" if self.row is not None else None,
            f"column {self.column}" if self.column else None) if p)
        text = f"{where}: {self.detail}" if where else self.detail
        return f"{text} (rule: {self.rule})" if self.rule else text


class ContractError(ValueError):
    """Raw data that breaks the data contract.

    ``problems`` lists every problem found (at most :data:`MAX_PROBLEMS`; ``total`` counts all).
    ``file``, ``row``, ``column`` and ``rule`` describe the first one, so a single-problem error
    reads naturally.
    """

    def __init__(self, problems: list[Problem] | Problem | str, total: int | None = None):
        if isinstance(problems, str):
            problems = [Problem(None, None, None, None, problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        self.total: int = total if total is not None else len(self.problems)
        first = self.problems[0] if self.problems else Problem(None, None, None, None, "")
        self.file, self.row, self.column, self.rule = first.file, first.row, first.column, first.rule
        super().__init__(self._text())

    @property
    def errors(self) -> list[Problem]:
        return self.problems

    def _text(self) -> str:
        if self.total == 1 and len(self.problems) == 1:
            return str(self.problems[0])
        lines = [f"{self.total} problems in the raw data:"]
        lines += [f"  - {p}" for p in self.problems]
        if self.total > len(self.problems):
            lines.append(f"  ... and {self.total - len(self.problems)} more")
        return "\n".join(lines)


class _Problems:
    """Collects problems, keeping the first ``cap``, counting all."""

    def __init__(self, cap: int = MAX_PROBLEMS):
        self.cap = cap
        self.items: list[Problem] = []
        self.total = 0
        self.warnings: list[Problem] = []  # accepted, but the user should know

    def add(self, file, row, column, rule, detail) -> None:
        self.total += 1
        if len(self.items) < self.cap:
            self.items.append(Problem(file, None if row is None else int(row), column, rule,
                                      detail))

    def raise_if_any(self) -> None:
        if self.total:
            raise ContractError(sorted(self.items, key=_problem_order), self.total)


def _problem_order(p: Problem) -> tuple:
    """Sort problems by table (contract order), row, then column (contract order)."""
    stem = (p.file or "").rpartition(".")[0]
    tables = list(TABLES)
    t = tables.index(stem) if stem in tables else len(tables)
    columns = TABLES[stem].column_names if stem in TABLES else []
    c = columns.index(p.column) if p.column in columns else len(columns)
    return (t, p.file or "", -1 if p.row is None else p.row, c)


def _show(value, limit: int = 40) -> str:
    text = str(value)
    return f"'{text if len(text) <= limit else text[:limit - 3] + '...'}'"


def _num(x: float) -> str:
    return f"{x:g}"


# -- reading -----------------------------------------------------------------------------------
def _cell_text(value) -> str | None:
    """One cell from any reader as contract text; None when missing."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, str):
        text = value.strip()
    elif isinstance(value, (bool, np.bool_)):
        text = "1" if value else "0"
    elif isinstance(value, numbers.Integral):
        text = str(int(value))
    elif isinstance(value, numbers.Real):
        f = float(value)
        if math.isnan(f):
            return None
        text = str(int(f)) if f.is_integer() and abs(f) < 1e15 else repr(f)
    elif isinstance(value, dt.datetime):  # also pandas.Timestamp
        if (value.hour, value.minute, value.second, value.microsecond) == (0, 0, 0, 0):
            text = value.date().isoformat()
        else:
            text = value.isoformat(sep=" ")
    elif isinstance(value, dt.date):
        text = value.isoformat()
    else:
        text = str(value).strip()
    return None if text.upper() in MISSING_TOKENS else text


def _as_text(series: pd.Series) -> pd.Series:
    """A column as contract text (object dtype, None for missing)."""
    if pd.api.types.is_datetime64_any_dtype(series):
        text = series.dt.strftime("%Y-%m-%d").astype(object)
        return text.where(series.notna(), None)
    values = series.astype(object)
    return pd.Series([_cell_text(v) for v in values], index=series.index, dtype=object)


def _frame(header: list, records: list[tuple[int, list]], file: str,
           problems: _Problems, contract_names: bool = True) -> pd.DataFrame:
    """Build a text frame from a header and (spreadsheet row, values) records.

    ``contract_names``: headers that spell a contract column in another case get its name (a
    mapped export keeps its own headers instead: the mapping names them).
    """
    names: list[str] = []
    for i, h in enumerate(header):
        name = (_cell_text(h) or "").lstrip("\ufeff").strip()
        names.append(name or f"_unnamed_{i + 1}")
    if contract_names:
        contract = {c.lower(): c for t in TABLES.values() for c in t.column_names}
        names = [contract.get(n.lower(), n) if n not in contract.values() else n for n in names]
    seen: set[str] = set()
    for name in names:
        if name in seen:
            problems.add(file, 1, name, "column names are unique", "column appears twice")
        seen.add(name)
    width = len(names)
    rows, data = [], []
    for row, values in records:
        values = [_cell_text(v) for v in values]
        if all(v is None for v in values):
            continue  # blank line
        if len(values) > width:
            if any(v is not None for v in values[width:]):
                problems.add(file, row, None, f"a row has at most {width} values (the header)",
                             f"row has {len(values)} values but the header names {width} columns")
            values = values[:width]
        rows.append(row)
        data.append(values + [None] * (width - len(values)))
    frame = pd.DataFrame(data, columns=names, index=pd.Index(rows, name=ROW_INDEX, dtype=int),
                         dtype=object)
    if len(set(names)) != len(names):
        frame = frame.loc[:, ~frame.columns.duplicated()]
    return frame


def _decode_csv(path: Path) -> str:
    raw = path.read_bytes()
    for encoding in CSV_ENCODINGS:
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UnicodeDecodeError("csv", raw, 0, 1, "neither UTF-8 nor GB18030")


def _read_csv(path: Path, problems: _Problems, contract_names: bool = True) -> pd.DataFrame | None:
    try:
        text = _decode_csv(path)
    except UnicodeDecodeError:
        problems.add(path.name, None, None, "CSV is encoded as UTF-8 or GB18030/GBK",
                     "cannot decode the file")
        return None
    first_line = text.split("\n", 1)[0]
    delimiter = ","
    if "," not in first_line:
        delimiter = next((d for d in ("\t", ";") if d in first_line), ",")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    records = [(i, values) for i, values in enumerate(reader, start=1)]
    if not records:
        problems.add(path.name, None, None, "a table has a header and at least one data row",
                     "the file is empty")
        return None
    return _frame(records[0][1], records[1:], path.name, problems, contract_names)


def _read_xlsx(path: Path, problems: _Problems, contract_names: bool = True,
               sheet: str | None = None) -> pd.DataFrame | None:
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable workbook is the user's to fix
        problems.add(path.name, None, None, "XLSX is a readable Excel workbook",
                     f"cannot read the workbook ({exc})")
        return None
    try:
        if sheet is not None and sheet not in book.sheetnames:
            problems.add(path.name, None, None, "the named sheet is in the workbook",
                         f"no sheet {_show(sheet)}; sheets: {', '.join(book.sheetnames)}")
            return None
        chosen = book[sheet] if sheet is not None else book.worksheets[0]
        records = [(i, list(values)) for i, values in
                   enumerate(chosen.iter_rows(values_only=True), start=1)]
    finally:
        book.close()
    records = [(i, v) for i, v in records if any(_cell_text(x) is not None for x in v)]
    if not records:
        problems.add(path.name, None, None, "a table has a header and at least one data row",
                     f"the sheet {_show(sheet)} is empty" if sheet else "the first sheet is empty")
        return None
    return _frame(records[0][1], records[1:], path.name, problems, contract_names)


def _read_parquet(path: Path, problems: _Problems,
                  contract_names: bool = True) -> pd.DataFrame | None:
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # noqa: BLE001
        problems.add(path.name, None, None, "Parquet is a readable Parquet file",
                     f"cannot read the file ({exc})")
        return None
    # Rows are numbered as in a spreadsheet export of the table: header = row 1.
    records = [(i + 2, list(values)) for i, values in
               enumerate(frame.astype(object).itertuples(index=False, name=None))]
    return _frame(list(frame.columns), records, path.name, problems, contract_names)


_READERS = {"csv": _read_csv, "xlsx": _read_xlsx, "parquet": _read_parquet}


def find_files(raw_dir: str | Path) -> dict[str, list[Path]]:
    """The candidate files of each contract table in ``raw_dir`` (extension case-insensitive)."""
    found: dict[str, list[Path]] = {name: [] for name in TABLES}
    for path in sorted(Path(raw_dir).iterdir()):
        stem, _, ext = path.name.rpartition(".")
        if path.is_file() and stem in found and ext.lower() in FORMATS:
            found[stem].append(path)
    return found


def read_raw(raw_dir: str | Path) -> dict[str, pd.DataFrame]:
    """Read the four raw tables of ``raw_dir`` as text.

    Returns one frame per table (all values ``str`` or ``None``), indexed by spreadsheet row
    (index name ``"row"``); ``frame.attrs["file"]`` is the file name. Extra columns are kept.
    Raises :class:`ContractError` when a table is missing, given in two formats, or unreadable.
    """
    raw_dir = Path(raw_dir)
    problems = _Problems()
    if not raw_dir.is_dir():
        problems.add(str(raw_dir), None, None, "the raw data is a directory of table files",
                     "no such directory")
        problems.raise_if_any()
    tables: dict[str, pd.DataFrame] = {}
    for name, paths in find_files(raw_dir).items():
        options = ", ".join(f"{name}.{ext}" for ext in FORMATS)
        if not paths:
            problems.add(f"{name}.*", None, None, f"each table is given as one of {options}",
                         f"table {name} is missing from {raw_dir.name or raw_dir}")
            continue
        if len(paths) > 1:
            problems.add(f"{name}.*", None, None,
                         f"each table is given in exactly one format ({options})",
                         f"table {name} is given more than once: "
                         + ", ".join(p.name for p in paths))
            continue
        path = paths[0]
        frame = _READERS[path.name.rpartition(".")[2].lower()](path, problems)
        if frame is not None:
            frame.attrs["file"] = path.name
            tables[name] = frame
    problems.raise_if_any()
    return tables


# -- checking ----------------------------------------------------------------------------------
def _rows(frame: pd.DataFrame) -> pd.Index:
    """Spreadsheet row of each record (header = row 1)."""
    if frame.index.name == ROW_INDEX:
        return frame.index
    return pd.RangeIndex(2, len(frame) + 2)


def _range_rule(col: Column) -> str:
    lo, hi = col.low, col.high
    if lo is not None and hi is not None:
        if col.low_exclusive:
            return f"{col.name} > {_num(lo)} and <= {_num(hi)}"
        return f"{col.name} in {_num(lo)}-{_num(hi)}"
    if lo is not None:
        return f"{col.name} {'>' if col.low_exclusive else '>='} {_num(lo)}"
    if hi is not None:
        return f"{col.name} <= {_num(hi)}"
    return f"{col.name} is a number"


def _convert(col: Column, text: pd.Series, file: str, problems: _Problems) -> pd.Series:
    """Typed values of one column; every bad value is reported and becomes missing."""
    present = text.notna()
    name = col.name
    if col.required:
        for row in text.index[~present]:
            problems.add(file, row, name, f"{name} is required", "value is missing")

    def report(mask: pd.Series, rule: str, detail) -> None:
        for row, value in text[mask].items():
            problems.add(file, row, name, rule, detail(value))

    if col.kind == "str":
        return text
    if col.kind == "enum":
        bad = present & ~text.isin(col.choices)
        report(bad, f"{name} is one of {', '.join(col.choices)}",
               lambda v: f"value {_show(v)} is not an allowed value")
        return text.where(~bad, None)
    if col.kind == "flag":
        bad = present & ~text.isin(["0", "1"])
        report(bad, f"{name} is 0 or 1", lambda v: f"value {_show(v)} is not 0 or 1")
        return text.where(present & ~bad).map({"0": 0, "1": 1}).astype("Int8")
    if col.kind in ("int", "float"):
        rule = _range_rule(col)
        num = pd.to_numeric(text.where(present), errors="coerce").astype(float)
        not_number = present & ~np.isfinite(num)
        report(not_number, rule, lambda v: f"value {_show(v)} is not a number")
        ok = present & ~not_number
        if col.kind == "int":
            fractional = ok & (num % 1 != 0)
            report(fractional, rule, lambda v: f"value {_show(v)} is not a whole number")
            ok &= ~fractional
        if col.low is not None:
            below = ok & ((num <= col.low) if col.low_exclusive else (num < col.low))
            report(below, rule, (lambda v: f"value {_show(v)} is not above {_num(col.low)}")
                   if col.low_exclusive else
                   (lambda v: f"value {_show(v)} is below the minimum {_num(col.low)}"))
            ok &= ~below
        if col.high is not None:
            above = ok & (num > col.high)
            report(above, rule, lambda v: f"value {_show(v)} is above the maximum {_num(col.high)}")
            ok &= ~above
        num = num.where(ok)
        return num.round().astype("Int64") if col.kind == "int" else num
    if col.kind == "date":
        iso = text.where(present).str.fullmatch(_ISO_DATE, na=False).astype(bool)
        parsed = pd.to_datetime(text.where(present & iso), format="%Y-%m-%d", errors="coerce")
        bad = present & parsed.isna()
        report(bad, f"{name} is a date YYYY-MM-DD",
               lambda v: f"value {_show(v)} is not a valid date YYYY-MM-DD")
        return parsed
    raise ValueError(f"unknown column kind {col.kind!r} for {name}")


def _parse_table(table: Table, frame: pd.DataFrame, problems: _Problems):
    """(typed frame or None, text frame) for one table; problems are collected."""
    file = frame.attrs.get("file", table.name)
    frame = frame.set_axis(_rows(frame), axis=0)
    optional = OPTIONAL_COLUMNS.get(table.name, set())
    missing = [c for c in table.column_names if c not in frame.columns]
    for name in missing:
        if name not in optional:
            problems.add(file, None, name, f"{table.name} has a column {name}",
                         "required column is missing")
    if len(frame) == 0 and table.name not in EMPTY_ALLOWED:
        problems.add(file, None, None, f"{table.name} has at least one data row",
                     "the table has no data rows")
        return None, None
    if len(frame) == 0:
        problems.warnings.append(Problem(file, None, None, f"{table.name} may be empty",
                                         f"table {table.name} has no data rows: analyses of it "
                                         "will show no events"))
    texts = pd.DataFrame({
        c: _as_text(frame[c]) if c in frame.columns else pd.Series(None, index=frame.index,
                                                                   dtype=object)
        for c in table.column_names})
    typed = pd.DataFrame({
        c.name: (_convert(c, texts[c.name], file, problems) if c.name in frame.columns
                 else texts[c.name])
        for c in table.columns})
    return typed, texts


def _check_unique(table: Table, typed: pd.DataFrame, file: str, problems: _Problems) -> None:
    if not table.key:
        return
    key = list(table.key)
    keyed = typed.dropna(subset=key)
    later = keyed.duplicated(subset=key, keep="first")
    if not later.any():
        return
    first = {k: row for row, k in zip(keyed.index[~later],
                                      keyed.loc[~later, key].itertuples(index=False, name=None))}
    column = "+".join(key)
    rule = f"{' and '.join(key)} {'is' if len(key) == 1 else 'are'} unique"
    for row, k in zip(keyed.index[later], keyed.loc[later, key].itertuples(index=False, name=None)):
        shown = ", ".join(_show(v) for v in k)
        problems.add(file, row, column, rule, f"duplicate {shown} (first at row {first[k]})")


def _check_cross(typed: dict[str, pd.DataFrame], texts: dict[str, pd.DataFrame],
                 files: dict[str, str], problems: _Problems) -> None:
    subjects = typed.get("subjects")
    if subjects is not None:
        file, text = files["subjects"], texts["subjects"]
        withdrawn = subjects["status"] == "withdrawn"
        for column in ("withdrawal_date", "withdrawal_reason"):
            for row in subjects.index[withdrawn & text[column].isna()]:
                problems.add(file, row, column, f"a withdrawn subject has a {column}",
                             "value is missing for a withdrawn subject")
        for column in ("withdrawal_date", "last_assessment_date"):
            before = subjects[column] < subjects["infusion_date"]
            for row, value in subjects.loc[before, column].items():
                problems.add(file, row, column, f"{column} >= infusion_date",
                             f"{value:%Y-%m-%d} is before the infusion_date "
                             f"{subjects.at[row, 'infusion_date']:%Y-%m-%d}")
        first = subjects.dropna(subset=["subject_id"]).drop_duplicates("subject_id")
        known = set(first["subject_id"])
        infusion = first.set_index("subject_id")["infusion_date"]
    subjects_file = files.get("subjects", "subjects")
    for name, start in (("visits", "visit_date"), ("adverse_events", "onset_date"),
                        ("medications", "start_date")):
        frame = typed.get(name)
        if frame is None:
            continue
        file = files[name]
        if subjects is not None:
            ids = frame["subject_id"]
            unknown = ids.notna() & ~ids.isin(known)
            for row, value in ids[unknown].items():
                problems.add(file, row, "subject_id", f"subject_id is listed in {subjects_file}",
                             f"unknown subject {_show(value)}")
            if name != "medications":  # medication periods may predate the infusion
                infused = ids.map(infusion)
                before = frame[start] < infused
                for row, value in frame.loc[before, start].items():
                    problems.add(file, row, start, f"{start} >= the subject's infusion_date",
                                 f"{value:%Y-%m-%d} is before the subject's infusion_date "
                                 f"{infused[row]:%Y-%m-%d}")
        if "end_date" in frame.columns:
            ends_early = frame["end_date"] < frame[start]
            for row, value in frame.loc[ends_early, "end_date"].items():
                problems.add(file, row, "end_date", f"end_date >= {start}",
                             f"{value:%Y-%m-%d} is before the {start} "
                             f"{frame.at[row, start]:%Y-%m-%d}")


def _parse(tables: dict[str, pd.DataFrame], max_problems: int = MAX_PROBLEMS
           ) -> tuple[dict[str, pd.DataFrame], _Problems]:
    problems = _Problems(max_problems)
    typed: dict[str, pd.DataFrame] = {}
    texts: dict[str, pd.DataFrame] = {}
    files: dict[str, str] = {}
    for name, table in TABLES.items():
        frame = tables.get(name)
        if frame is None:
            problems.add(f"{name}.*", None, None, f"table {name} is given",
                         f"table {name} is missing")
            continue
        files[name] = frame.attrs.get("file", name)
        t, x = _parse_table(table, frame, problems)
        if t is not None:
            typed[name], texts[name] = t, x
            _check_unique(table, t, files[name], problems)
    _check_cross(typed, texts, files, problems)
    return typed, problems


def validate(tables: dict[str, pd.DataFrame]) -> None:
    """Check raw tables (as from :func:`read_raw`, or typed frames) against the contract.

    Raises :class:`ContractError` listing every problem (up to :data:`MAX_PROBLEMS`).
    """
    _parse(tables)[1].raise_if_any()


def parse(tables: dict[str, pd.DataFrame], warnings: list[Problem] | None = None,
          max_problems: int = MAX_PROBLEMS) -> dict[str, pd.DataFrame]:
    """Validate and convert: typed frames with exactly the contract columns, in contract order.

    Extra columns are dropped; absent optional columns are filled with missing values. Integer
    columns are ``Int64``, flags ``Int8``, dates ``datetime64``. Raises :class:`ContractError`.
    What is accepted but worth telling (an empty adverse-event table) is appended to ``warnings``.
    ``max_problems``: how many problems the error lists (all are counted).
    """
    typed, problems = _parse(tables, max_problems)
    problems.raise_if_any()
    if warnings is not None:
        warnings.extend(problems.warnings)
    return {name: frame.reset_index(drop=True) for name, frame in typed.items()}


def load(raw_dir: str | Path) -> dict[str, pd.DataFrame]:
    """``parse(read_raw(raw_dir))``."""
    return parse(read_raw(raw_dir))
