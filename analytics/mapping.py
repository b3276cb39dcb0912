"""A mapping file turns a study's own export into the raw tables of the data contract.

The mapping is TOML (full example in docs/STUDY.md, section 2a)::

    [study]                     name = "..."
    [files]                     table = "file" | ["file", ...] | [{file = "x.xlsx", sheet = "..."}]
    [columns.<table>]           contract column = "source column" | ["alternative", ...]
    [visits]                    "source visit label" = "contract visit code" | "ignore"
    [arms]                      "source arm code" = "MSC" | "MSC_IFNG"
    [arm_labels.<arm>]          en = "...", zh = "..."   (display labels, stored in study_info)
    [values.<column>]           "source code" = "contract value"   (``flags``: every 0/1 column)
    [units]                     contract column = "source unit"     (converted to the contract's)
    [dates]                     formats = ["%Y/%m/%d"], excel_serial = true
    [[pivot.<table>]]           file, test, value, unit (optional), tests = {CODE = "column"}

:func:`apply_mapping` reads the files and returns contract-named text tables plus every problem
found, each naming the source file, row and column (and the contract column beside);
:func:`load_mapped` then validates them with the importer and translates its problems back to the
source's names. Several files of ``subjects`` or ``visits`` are merged on subject (and visit);
several files of the other tables are stacked. Visit labels mapped to ``"ignore"`` (visits the
contract does not know) are dropped with a warning; any other unmapped label is an error.
"""
from __future__ import annotations

import datetime as dt
import json
import re
import tomllib
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

import numpy as np
import pandas as pd

from . import importer
from .importer import MAX_PROBLEMS, ROW_INDEX, ContractError, EMPTY_ALLOWED, Problem, _Problems
from .readers import read_source
from .schema import ARMS, TABLES, VISITS

MAPPING_FILE = "mapping.toml"
SECTIONS = ("study", "files", "columns", "visits", "arms", "arm_labels", "values", "units",
            "dates", "pivot")
IGNORE_VISIT = "ignore"  # [visits] value: a visit the contract does not know, left out
FLAGS = "flags"  # [values.flags]: codes of every 0/1 column
MERGE_KEYS: dict[str, tuple[str, ...]] = {"subjects": ("subject_id",),
                                          "visits": ("subject_id", "visit")}
EXCEL_EPOCH = dt.date(1899, 12, 30)  # Excel serial day 0 (1900 system, after its leap-year bug)
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}")
_SERIAL = re.compile(r"\d{1,7}(\.0+)?")

# contract column -> (contract unit, {source unit (normalised): factor to the contract unit})
UNITS: dict[str, tuple[str, dict[str, float]]] = {
    "crp": ("mg/L", {"mg/l": 1, "mg/dl": 10, "ug/ml": 1, "g/l": 1000, "mg/100ml": 10}),
    "esr": ("mm/h", {"mm/h": 1, "mm/hr": 1, "mm/1h": 1, "mm/1hr": 1, "mm/60min": 1,
                     "毫米/小时": 1}),
    **{vas: ("mm", {"mm": 1, "cm": 10, "0-100": 1, "0-100mm": 1, "0-10": 10, "0-10cm": 10})
       for vas in ("patient_global", "physician_global", "pain")},
    "age": ("years", {"years": 1, "year": 1, "y": 1, "岁": 1, "年": 1}),
    "ra_duration_years": ("years", {"years": 1, "year": 1, "y": 1, "年": 1,
                                    "months": Decimal(1) / 12, "month": Decimal(1) / 12,
                                    "月": Decimal(1) / 12}),
}


def normalise_unit(unit: str) -> str:
    return re.sub(r"\s+", "", str(unit)).lower().replace("µ", "u").replace("μ", "u")


def unit_factor(column: str, unit: str) -> Decimal | None:
    """Factor from ``unit`` to the contract unit of ``column``; None when not convertible."""
    factor = UNITS.get(column, (None, {}))[1].get(normalise_unit(unit))
    return None if factor is None else Decimal(factor)


def _all_columns() -> dict[str, str]:
    """contract column -> its kind (columns shared by tables have one meaning)."""
    return {c.name: c.kind for t in TABLES.values() for c in t.columns}


def _allowed(column: str) -> tuple[str, ...]:
    """The contract values of an enum or flag column."""
    for table in TABLES.values():
        for c in table.columns:
            if c.name == column:
                return c.choices if c.kind == "enum" else ("0", "1") if c.kind == "flag" else ()
    return ()


# -- problems in the source's own names --------------------------------------------------------
@dataclass(frozen=True)
class MappedProblem(Problem):
    """A problem named in the export's own terms: ``column`` is the source column (or test)."""

    contract: str | None = None  # "table.column" of the contract
    source_value: str | None = None

    def __str__(self) -> str:
        where = ", ".join(p for p in (
            self.file,
            f"row {self.row}" if self.row is not None else None,
            f"column {self.column}" if self.column else None) if p)
        if self.contract:
            where += f" (contract {self.contract})"
        text = f"{where}: {self.detail}" if where else self.detail
        return f"{text} (rule: {self.rule})" if self.rule else text


def problems_table(problems: list[Problem]) -> pd.DataFrame:
    """Problems as a table (for a page to show or offer as CSV): file, row, column, contract,
    value, rule, detail."""
    return pd.DataFrame(
        [{"file": p.file, "row": p.row, "column": p.column,
          "contract": getattr(p, "contract", None), "value": getattr(p, "source_value", None),
          "rule": p.rule, "detail": p.detail} for p in problems],
        columns=["file", "row", "column", "contract", "value", "rule", "detail"]).astype(
        {"row": "Int64"})


class MappingError(ContractError):
    """An export that the mapping cannot turn into the contract's tables (or that then breaks
    the contract); every problem names the source file, row and column and the contract column."""


class _Collect(_Problems):
    def add(self, file, row, column, rule, detail, contract=None, value=None) -> None:
        self.total += 1
        if len(self.items) < self.cap:
            self.items.append(MappedProblem(file, None if row is None else int(row), column, rule,
                                            detail, contract, value))

    def raise_if_any(self) -> None:
        if self.total:
            raise MappingError(self.items, self.total)


# -- the mapping -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Source:
    file: str
    sheet: str | None = None

    @property
    def label(self) -> str:
        return self.file if self.sheet is None else f"{self.file} [{self.sheet}]"


@dataclass
class Pivot:
    """A long table (one row per test): which column holds the test code, which the value."""

    test: str
    value: str
    tests: dict[str, str]  # source test code -> contract column
    unit: str | None = None  # a column with each row's unit, converted row by row
    file: str | None = None  # None: every file of the table that has the test column


@dataclass
class Mapping:
    files: dict[str, list[Source]] = field(default_factory=dict)
    columns: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    visits: dict[str, str] = field(default_factory=dict)
    arms: dict[str, str] = field(default_factory=dict)
    arm_labels: dict[str, dict[str, str]] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)
    date_formats: list[str] = field(default_factory=list)
    excel_serial: bool = False
    pivots: dict[str, list[Pivot]] = field(default_factory=dict)
    study: dict = field(default_factory=dict)
    path: str = MAPPING_FILE  # named in errors about the mapping itself
    text: str = ""  # the TOML it was read from, to name the line of a bad entry

    # -- reading ---------------------------------------------------------------------------
    @classmethod
    def load(cls, path: str | Path) -> "Mapping":
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise MappingError(MappedProblem(path.name, None, None, "the mapping is a UTF-8 "
                                             "TOML file", f"cannot read the file ({exc})"))
        return cls.from_toml(text, path.name)

    @classmethod
    def from_toml(cls, text: str, path: str = MAPPING_FILE) -> "Mapping":
        try:
            doc = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise MappingError(MappedProblem(path, None, None, "the mapping is valid TOML",
                                             str(exc)))
        unknown = sorted(set(doc) - set(SECTIONS))
        if unknown:
            raise MappingError([MappedProblem(path, None, f"[{name}]", "the mapping's sections "
                                              f"are {', '.join(SECTIONS)}",
                                              f"unknown section [{name}]") for name in unknown])
        section = "files"
        try:
            files = {table: [_source(s) for s in (v if isinstance(v, list) else [v])]
                     for table, v in doc.get("files", {}).items()}
            section = "columns"
            columns = {table: {c: [str(n) for n in (s if isinstance(s, list) else [s])]
                               for c, s in cols.items()}
                       for table, cols in doc.get("columns", {}).items()}
            section = "pivot"
            pivots = {}
            for table, spec in doc.get("pivot", {}).items():
                pivots[table] = [Pivot(test=str(p["test"]), value=str(p["value"]),
                                       tests={str(k): str(v) for k, v in p["tests"].items()},
                                       unit=p.get("unit"), file=p.get("file"))
                                 for p in (spec if isinstance(spec, list) else [spec])]
            section = "dates"
            dates = doc.get("dates", {})
            formats = dates.get("formats", dates.get("format", []))
            section = "values"
            values = {c: {str(k): str(v) for k, v in vals.items()}
                      for c, vals in doc.get("values", {}).items()}
            section = "arm_labels"
            arm_labels = {arm: {str(lang): str(text) for lang, text in labels.items()}
                          for arm, labels in doc.get("arm_labels", {}).items()}
            section = "visits, arms, units or study"
            mapping = cls(files=files, columns=columns,
                          visits={str(k): str(v) for k, v in doc.get("visits", {}).items()},
                          arms={str(k): str(v) for k, v in doc.get("arms", {}).items()},
                          arm_labels=arm_labels, values=values,
                          units={str(k): str(v) for k, v in doc.get("units", {}).items()},
                          date_formats=[formats] if isinstance(formats, str) else
                          [str(f) for f in formats],
                          excel_serial=bool(dates.get("excel_serial", False)),
                          pivots=pivots, study=dict(doc.get("study", {})), path=path, text=text)
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            what = f"missing key {exc}" if isinstance(exc, KeyError) else "unexpected form"
            raise MappingError(MappedProblem(
                path, None, f"[{section}]", f"[{section}] has the form shown in docs/STUDY.md "
                "section 2a", f"{what} ({type(exc).__name__})")) from None
        mapping.check()
        return mapping

    def line_of(self, section: str, key: str) -> int | None:
        """The line of ``key = ...`` in ``[section]`` of the TOML text (None if not found)."""
        current = None
        for number, line in enumerate(self.text.splitlines(), start=1):
            stripped = line.strip()
            if stripped.startswith("["):
                current = stripped.strip("[]").strip()
                continue
            name = stripped.split("=", 1)[0].strip().strip('"')
            if current == section and "=" in stripped and name == key:
                return number
        return None

    def check(self) -> None:
        """Problems in the mapping itself (names the mapping file and line)."""
        problems = _Collect()
        kinds = _all_columns()

        def bad(section, key, rule, detail, contract=None, value=None):
            problems.add(self.path, self.line_of(section, key), f"[{section}] {key}", rule,
                         detail, contract, value)

        for table in self.files:
            if table not in TABLES:
                bad("files", table, f"[files] names tables of the contract ({', '.join(TABLES)})",
                    f"unknown table {table!r}")
        for table, cols in self.columns.items():
            known = TABLES[table].column_names if table in TABLES else []
            for column in cols:
                if column not in known:
                    bad(f"columns.{table}", column, f"[columns.{table}] keys are contract "
                        f"columns of {table}", f"unknown contract column {column!r}")
        for label, code in self.visits.items():
            if code not in VISITS and code != IGNORE_VISIT:
                bad("visits", label, f"a visit maps to one of {', '.join(VISITS)} or "
                    f"'{IGNORE_VISIT}'", f"unknown visit code {code!r}", "visits.visit", label)
        for source, arm in self.arms.items():
            if arm not in ARMS:
                bad("arms", source, f"an arm maps to one of {', '.join(ARMS)}",
                    f"unknown arm {arm!r}", "subjects.arm", source)
        for column, codes in self.values.items():
            allowed = _allowed(column) if column != FLAGS else ("0", "1")
            if column != FLAGS and column not in kinds:
                bad("values", column, "[values.<column>] names a contract column or 'flags'",
                    f"unknown contract column {column!r}")
                continue
            for source, value in codes.items():
                if allowed and value not in allowed:
                    bad(f"values.{column}", source, f"{column} is one of {', '.join(allowed)}",
                        f"{source!r} maps to {value!r}, not a contract value", column, source)
        for column, unit in self.units.items():
            if unit_factor(column, unit) is None:
                contract_unit, known = UNITS.get(column, (None, {}))
                rule = (f"the unit of {column} converts to {contract_unit} (from "
                        f"{', '.join(known)})" if known else f"{column} takes no unit conversion")
                bad("units", column, rule, f"unit {unit!r} cannot be converted", column, unit)
        for fmt in self.date_formats:
            if "%" not in fmt:
                bad("dates", "formats", "a date format uses strftime codes such as %Y/%m/%d",
                    f"format {fmt!r} has no % code")
        for table, pivots in self.pivots.items():
            for pivot in pivots:
                for code, column in pivot.tests.items():
                    if table not in TABLES or column not in TABLES[table].column_names:
                        bad(f"pivot.{table}.tests", code, f"a test feeds a contract column of "
                            f"{table}", f"unknown contract column {column!r}")
        problems.raise_if_any()

    # -- writing ---------------------------------------------------------------------------
    def to_toml(self, comments: dict[str, list[str]] | None = None) -> str:
        """The mapping as TOML; ``comments[section]`` lines are written under that section."""
        comments = comments or {}
        out: list[str] = []

        def section(name: str, entries: dict, note: str | None = None) -> None:
            lines = [f"{_key(k)} = {_value(v)}" for k, v in entries.items()]
            extra = [f"# {c}" for c in comments.get(name, [])]
            if not lines and not extra:
                return
            out.append("")
            if note:
                out.append(f"# {note}")
            out.append(f"[{name}]")
            out.extend(lines + extra)

        if self.study:
            section("study", self.study)
        section("files", {t: [_source_value(s) for s in srcs] if len(srcs) != 1
                          else _source_value(srcs[0]) for t, srcs in self.files.items()})
        for table in TABLES:
            cols = self.columns.get(table, {})
            section(f"columns.{table}", {c: s[0] if len(s) == 1 else s for c, s in cols.items()},
                    "contract column = source column (a list: the first one a file has)")
        section("visits", self.visits, "source visit label = contract visit code, or 'ignore'")
        section("arms", self.arms, "source arm code = contract arm")
        for arm, labels in self.arm_labels.items():
            section(f"arm_labels.{arm}", labels)
        for column in sorted(set(self.values) | {k.split(".", 1)[1] for k in comments
                                                  if k.startswith("values.")}):
            section(f"values.{column}", self.values.get(column, {}))
        section("units", self.units, "source unit, converted to the contract's unit")
        dates = {}
        if self.date_formats:
            dates["formats"] = self.date_formats
        if self.excel_serial:
            dates["excel_serial"] = True
        section("dates", dates)
        for table, pivots in self.pivots.items():
            for pivot in pivots:
                out += ["", f"[[pivot.{table}]]"]
                for key in ("file", "test", "value", "unit"):
                    if getattr(pivot, key):
                        out.append(f"{key} = {_value(getattr(pivot, key))}")
                out.append(f"tests = {{ {', '.join(f'{_key(k)} = {_value(v)}' for k, v in pivot.tests.items())} }}")
        return "\n".join(out).lstrip("\n") + "\n"

    # -- as an editable table (for a page's data editor) -------------------------------------
    def to_rows(self) -> pd.DataFrame:
        """One row per entry: ``section`` (``files``, ``columns.visits``, ``pivot.visits.1`` …),
        ``key`` and ``value`` (as TOML text, e.g. ``"受试者编号"`` or ``["a.csv", "b.xpt"]``)."""
        rows, section, pivots = [], None, {}
        for line in self.to_toml().splitlines():
            text = line.strip()
            if not text or text.startswith("#"):
                continue
            if text.startswith("[["):
                name = text.strip("[]")
                pivots[name] = pivots.get(name, 0) + 1
                section = f"{name}.{pivots[name]}"
            elif text.startswith("["):
                section = text.strip("[]")
            else:
                key, value = text.split(" = ", 1)
                rows.append({"section": section,
                             "key": json.loads(key) if key.startswith('"') else key,
                             "value": value})
        return pd.DataFrame(rows, columns=["section", "key", "value"])

    @classmethod
    def from_rows(cls, rows: pd.DataFrame, path: str = MAPPING_FILE) -> "Mapping":
        """The mapping of an edited :meth:`to_rows` table (checked as :meth:`from_toml`)."""
        lines, current = [], None
        for section, key, value in rows[["section", "key", "value"]].itertuples(index=False):
            if section != current:
                name, _, number = str(section).rpartition(".")
                array = name.startswith("pivot.") and number.isdigit()
                lines += ["", f"[[{name}]]" if array else f"[{section}]"]
                current = section
            lines.append(f"{_key(str(key))} = {value}")
        return cls.from_toml("\n".join(lines) + "\n", path)

    def study_info(self) -> dict[str, str]:
        """``study_info`` entries the mapping supplies: the study name and arm display labels."""
        info = {k: v for k, v in self.study.items() if isinstance(v, (str, int, float, bool))}
        info.update(arm_label_info(self.arm_labels))
        return info


def arm_label_info(labels: dict) -> dict[str, str]:
    """``{"MSC": {"en": ..., "zh": ...}}`` as ``study_info`` keys ``arm_label.MSC.en`` …"""
    return {f"arm_label.{arm}.{lang}": str(text)
            for arm, by_lang in (labels or {}).items() if arm in ARMS
            for lang, text in by_lang.items()}


def _source(value) -> Source:
    if isinstance(value, dict):
        return Source(str(value["file"]), value.get("sheet"))
    return Source(str(value))


def _source_value(source: Source):
    return source.file if source.sheet is None else {"file": source.file, "sheet": source.sheet}


_BARE = re.compile(r"[A-Za-z0-9_-]+")


def _key(key: str) -> str:
    return key if _BARE.fullmatch(key) else json.dumps(key, ensure_ascii=False)


def _value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(str(value), ensure_ascii=False)  # a TOML basic string


def as_mapping(mapping) -> Mapping:
    return mapping if isinstance(mapping, Mapping) else Mapping.load(mapping)


# -- applying it -------------------------------------------------------------------------------
@dataclass
class _Part:
    """One file of a table after renaming and recoding: values and where each came from."""

    file: str
    values: pd.DataFrame  # contract columns, text
    rows: pd.DataFrame  # same shape: the source row of each cell
    source: dict[str, str]  # contract column -> source column (or "VALUE [TEST = CODE]")
    converted: set[str] = field(default_factory=set)  # converted row by row from a unit column


@dataclass
class MappedExport:
    """The export as contract tables (text), with the origin of every cell for error messages."""

    tables: dict[str, pd.DataFrame]
    problems: list[Problem]
    total: int
    warnings: list[Problem]
    origins: dict[str, tuple[list[_Part], dict[str, np.ndarray], dict[str, np.ndarray]]]

    def translate(self, error: ContractError) -> MappingError:
        """The importer's problems, renamed to the source file, row and column."""
        translated = []
        for p in error.problems:
            table = p.file if p.file in self.origins else None
            if table is None:
                translated.append(p)
                continue
            parts, part_of, row_of = self.origins[table]
            column = (p.column or "").split("+")[0] or None
            i = p.row
            if i is None or column not in part_of:
                files = ", ".join(dict.fromkeys(part.file for part in parts))
                translated.append(MappedProblem(files or table, None, column, p.rule, p.detail,
                                                f"{table}.{column}" if column else table))
                continue
            k = part_of[column][i]
            if k < 0:  # the value is missing: name the file that gave the row
                k = part_of["__row__"][i]
                src_row = row_of["__row__"][i]
            else:
                src_row = row_of[column][i]
            part = parts[k]
            translated.append(MappedProblem(part.file, int(src_row),
                                            part.source.get(column, column), p.rule, p.detail,
                                            f"{table}.{column}"))
        return MappingError(translated, error.total)


def apply_mapping(raw_dir: str | Path, mapping, max_problems: int = MAX_PROBLEMS
                  ) -> MappedExport:
    """Read the export in ``raw_dir`` through ``mapping``: contract-named text tables (index
    name ``row``), every problem found (source names; nothing raised; the first
    ``max_problems`` kept, all counted) and warnings."""
    mapping = as_mapping(mapping)
    raw_dir = Path(raw_dir)
    problems = _Collect(max_problems)
    warnings: list[Problem] = []
    tables, origins = {}, {}
    for table in TABLES:
        sources = mapping.files.get(table, [])
        if not sources:
            if table in EMPTY_ALLOWED:
                warnings.append(MappedProblem(mapping.path, None, f"[files] {table}",
                                              f"{table} may be empty", f"no file for {table}: "
                                              "analyses of it will show no events", table))
                tables[table] = pd.DataFrame(
                    columns=TABLES[table].column_names, dtype=object).rename_axis(ROW_INDEX)
                tables[table].attrs["file"] = table
                origins[table] = ([], {}, {})
                continue
            problems.add(mapping.path, mapping.line_of("files", table), "[files]",
                         f"[files] names the file(s) of {table}", f"no file given for {table}",
                         table)
            continue
        parts = []
        for source in sources:
            path = raw_dir / source.file
            if not path.resolve().is_relative_to(raw_dir.resolve()):
                problems.add(mapping.path, mapping.line_of("files", table), "[files]",
                             "[files] names files inside the export's folder",
                             f"{source.file!r} is outside {raw_dir.name}", table, source.file)
                continue
            frame = read_source(path, problems, source.sheet)
            if frame is not None:
                part = _part(table, frame, source.label, mapping, problems, warnings)
                if part is not None:
                    parts.append(part)
        if len(parts) != len(sources):
            continue
        _check_columns(table, parts, mapping, problems)
        frame, part_of, row_of = _combine(table, parts, problems)
        frame.attrs["file"] = table  # translated back to source files by MappedExport
        tables[table] = frame
        origins[table] = (parts, part_of, row_of)
    return MappedExport(tables, problems.items, problems.total, warnings, origins)


def load_mapped(raw_dir: str | Path, mapping, warnings: list | None = None,
                max_problems: int = MAX_PROBLEMS
                ) -> tuple[dict[str, pd.DataFrame], dict[str, str]]:
    """Typed contract tables (as :func:`analytics.importer.parse`) of a mapped export, and the
    ``study_info`` entries of the mapping. Raises :class:`MappingError` naming source files,
    rows and columns (the first ``max_problems``; ``total`` counts all)."""
    mapping = as_mapping(mapping)
    mapped = apply_mapping(raw_dir, mapping, max_problems)
    if mapped.total:
        raise MappingError(mapped.problems, mapped.total)
    found: list[Problem] = []
    try:
        tables = importer.parse(mapped.tables, found, max_problems)
    except ContractError as exc:
        raise mapped.translate(exc) from None
    if warnings is not None:
        warnings.extend(mapped.warnings)
        said = {w.contract for w in mapped.warnings}
        for w in found:  # the importer's warnings name the table: name the files instead
            parts = mapped.origins.get(w.file, ([],))[0]
            if w.file not in said and parts:
                files = ", ".join(p.file for p in parts)
                warnings.append(MappedProblem(files, w.row, w.column, w.rule, w.detail, w.file))
    return tables, mapping.study_info()


# -- one file ----------------------------------------------------------------------------------
def _pivot_for(table: str, frame: pd.DataFrame, file: str, mapping: Mapping) -> Pivot | None:
    for pivot in mapping.pivots.get(table, []):
        if pivot.file is not None:
            if pivot.file in (file, file.split(" [")[0]):
                return pivot
        elif pivot.test in frame.columns:
            return pivot
    return None


def _source_column(names: list[str], frame: pd.DataFrame) -> str | None:
    return next((n for n in names if n in frame.columns), None)


def _part(table: str, frame: pd.DataFrame, file: str, mapping: Mapping, problems: _Collect,
          warnings: list) -> _Part | None:
    """Rename, pivot, recode and convert one file of ``table``."""
    # A header that already has the contract's name needs no [columns] entry.
    wanted = {c: [c] for c in TABLES[table].column_names} | mapping.columns.get(table, {})
    chosen = {c: _source_column(names, frame) for c, names in wanted.items()}
    chosen = {c: s for c, s in chosen.items() if s is not None}
    pivot = _pivot_for(table, frame, file, mapping)
    values = pd.DataFrame({c: frame[s] for c, s in chosen.items()}, index=frame.index)
    rows = pd.DataFrame({c: frame.index.to_numpy() for c in chosen}, index=frame.index)
    source = dict(chosen)
    if pivot is not None:
        result = _unpivot(table, frame, file, pivot, values, source, problems)
        if result is None:
            return None
        values, rows, source = result
    part = _Part(file, values, rows, source,
                 set(pivot.tests.values()) if pivot is not None and pivot.unit else set())
    _recode(table, part, mapping, problems, warnings)
    return part


def _unpivot(table, frame, file, pivot: Pivot, keys: pd.DataFrame, key_source: dict[str, str],
             problems: _Collect):
    """A long file (one row per test) as one row per subject and visit."""
    for needed in (pivot.test, pivot.value, pivot.unit):
        if needed is not None and needed not in frame.columns:
            problems.add(file, 1, needed, f"the [pivot.{table}] columns are in the file's header",
                         f"column {needed!r} is not in the header", f"{table} (pivot)")
            return None
    key_columns = [k for k in MERGE_KEYS.get(table, ("subject_id",)) if k in keys.columns]
    codes = frame[pivot.test]
    present = set(codes.dropna())
    for code, column in pivot.tests.items():
        if code not in present:
            problems.add(file, None, pivot.test, f"every test of [pivot.{table}] tests occurs in "
                         f"{pivot.test}", f"test {code!r} (for {column}) has no row",
                         f"{table}.{column}", code)
    wide = keys[key_columns].drop_duplicates()
    wide_rows = pd.DataFrame({k: wide.index.to_numpy() for k in key_columns}, index=wide.index)
    lookup = {key: i for i, key in zip(wide.index, wide.itertuples(index=False, name=None))}
    position = [lookup[key] for key in keys[key_columns].itertuples(index=False, name=None)]
    out_values = pd.DataFrame(index=wide.index, columns=[], dtype=object)
    out_rows = pd.DataFrame(index=wide.index, columns=[], dtype=object)
    for code, column in pivot.tests.items():
        mask = (codes == code).to_numpy()
        if not mask.any():
            continue
        at = pd.Index(np.asarray(position)[mask])
        dup = at.duplicated()
        for row in frame.index[mask][dup]:
            problems.add(file, row, pivot.test, f"one {code} value per subject and visit",
                         f"a second {code} row for the same subject and visit",
                         f"{table}.{column}", code)
        vals = frame[pivot.value][mask]
        if pivot.unit is not None:
            vals = _convert_rows(vals, frame[pivot.unit][mask], column, file, pivot, table,
                                 problems)
        spread = pd.Series(vals.to_numpy()[~dup], index=at[~dup], dtype=object).reindex(wide.index)
        out_values[column] = spread.where(spread.notna(), None)
        out_rows[column] = pd.Series(frame.index[mask][~dup], index=at[~dup]).reindex(
            wide.index).fillna(0).astype(int)
    for k in key_columns:
        out_values[k] = wide[k]
        out_rows[k] = wide_rows[k]
    sources = {**{k: key_source[k] for k in key_columns},
               **{c: f"{pivot.value} [{pivot.test} = {code}]" for code, c in pivot.tests.items()}}
    return out_values, out_rows, sources


def _convert_rows(values: pd.Series, units: pd.Series, column: str, file: str, pivot: Pivot,
                  table: str, problems: _Collect) -> pd.Series:
    """Convert each row's value from its own unit."""
    contract_unit, known = UNITS.get(column, (None, {}))
    factors = {unit: unit_factor(column, unit) for unit in set(units.dropna())}
    out = []
    for row, value, unit in zip(values.index, values, units):
        factor = factors.get(unit)
        if value is not None and unit is None:
            problems.add(file, row, pivot.unit, f"a {column} value has a unit",
                         "unit is missing", f"{table}.{column}")
        elif value is not None and factor is None:
            problems.add(file, row, pivot.unit, f"the unit of {column} converts to "
                         f"{contract_unit or 'its contract unit'}"
                         + (f" (from {', '.join(known)})" if known else ""),
                         f"unit {unit!r} cannot be converted", f"{table}.{column}", unit)
        out.append(value if value is None or factor is None else _scale(value, factor))
    return pd.Series(out, index=values.index, dtype=object)


def _scale(text: str, factor: Decimal) -> str:
    """``text`` × ``factor`` in decimal arithmetic (2.14 mg/dL is 21.4 mg/L, not 21.400000000000002)."""
    if factor == 1:
        return text
    try:
        number = Decimal(text)
    except InvalidOperation:
        return text  # not a number: the importer reports it
    scaled = number * factor
    if factor == factor.to_integral_value():
        return format(scaled.normalize(), "f")
    return repr(float(scaled))  # a fraction such as 1/12: as many digits as a float holds


def _recode(table: str, part: _Part, mapping: Mapping, problems: _Collect, warnings: list
            ) -> None:
    """Visit labels, coded values, units and dates of one file, in place."""
    values = part.values
    columns = {c.name: c for c in TABLES[table].columns}

    def report(column, row, rule, detail, value=None):
        problems.add(part.file, row, part.source.get(column, column), rule, detail,
                     f"{table}.{column}", value)

    if "visit" in values.columns:
        labels = values["visit"]
        ignored: dict[str, int] = {}
        keep = np.ones(len(values), dtype=bool)
        recoded = []
        for i, (row, label) in enumerate(labels.items()):
            code = mapping.visits.get(label, label if label in VISITS or label is None else None)
            if code == IGNORE_VISIT:
                keep[i] = False
                ignored[label] = ignored.get(label, 0) + 1
            elif code is None and label is not None:  # a missing label: the importer says so
                report("visit", row, "[visits] maps every visit label to a contract visit "
                       "or 'ignore'", f"visit label {label!r} is not mapped", label)
            recoded.append(code)
        values["visit"] = recoded
        if ignored:
            counts = ", ".join(f"{k!r}: {n}" for k, n in ignored.items())
            warnings.append(MappedProblem(part.file, None, part.source.get("visit"),
                                          "visits mapped to 'ignore' are left out",
                                          f"{sum(ignored.values())} rows of visits outside the "
                                          f"contract were left out ({counts})", f"{table}.visit"))
            part.values, part.rows = values[keep].copy(), part.rows[keep].copy()
            values = part.values
    for name in values.columns:
        col = columns.get(name)
        if col is None or name == "visit":
            continue
        codes = mapping.arms if name == "arm" and mapping.arms else mapping.values.get(name)
        if codes is None and col.kind == "flag":
            codes = mapping.values.get(FLAGS)
        if codes:
            allowed = set(_allowed(name)) or set(codes.values())
            section = "arms" if name == "arm" and mapping.arms else (
                f"values.{name}" if name in mapping.values else f"values.{FLAGS}")
            folded = {k.casefold(): v for k, v in codes.items()}
            out = []
            for row, v in values[name].items():
                if v is None or v in allowed:
                    out.append(v)
                elif v in codes or v.casefold() in folded:
                    out.append(codes.get(v, folded.get(v.casefold())))
                else:
                    report(name, row, f"[{section}] maps every code of {name} (contract values: "
                           f"{', '.join(sorted(allowed))})", f"code {v!r} is not mapped", v)
                    out.append(v)
            values[name] = out
        if name in mapping.units and name not in part.converted:
            factor = unit_factor(name, mapping.units[name])
            if factor is not None and factor != 1:
                values[name] = [None if v is None else _scale(v, factor) for v in values[name]]
        if col.kind == "date" and (mapping.date_formats or mapping.excel_serial):
            values[name] = _dates(values[name], mapping)


def _dates(texts: pd.Series, mapping: Mapping) -> pd.Series:
    """Dates in any of the mapping's formats (or Excel serial numbers) as YYYY-MM-DD; text that
    matches none is kept as is, for the importer to report."""
    out = texts.astype(object).copy()
    present = texts.notna()
    todo = present & ~texts.where(present, "").str.fullmatch(_ISO.pattern)
    if mapping.excel_serial:
        serial = todo & texts.where(todo, "").str.fullmatch(_SERIAL.pattern)
        days = pd.to_numeric(texts[serial]).astype(int)
        out[serial] = (pd.Timestamp(EXCEL_EPOCH) + pd.to_timedelta(days, unit="D")).dt.strftime(
            "%Y-%m-%d")
        todo &= ~serial
    for fmt in mapping.date_formats:
        if not todo.any():
            break
        parsed = pd.to_datetime(texts[todo], format=fmt, errors="coerce")
        done = parsed.notna()
        out[done.index[done]] = parsed[done].dt.strftime("%Y-%m-%d")
        todo[done.index[done]] = False
    return out


# -- the files of a table together ----------------------------------------------------------
def _check_columns(table: str, parts: list[_Part], mapping: Mapping, problems: _Collect) -> None:
    """Every mapped source column is in some file of the table; key columns are in each file."""
    files = ", ".join(p.file for p in parts)
    have = set().union(*(p.values.columns for p in parts)) if parts else set()
    for column, names in mapping.columns.get(table, {}).items():
        if column not in have:
            shown = " or ".join(repr(n) for n in names)
            problems.add(files, 1, names[0], f"[columns.{table}] names a column of the header",
                         f"source column {shown} is in no file of {table}",
                         f"{table}.{column}", names[0])
    keys = MERGE_KEYS.get(table, ())
    if len(parts) > 1:
        for part in parts:
            for key in keys:
                if key not in part.values.columns:
                    problems.add(part.file, 1, None, f"each file of {table} has the key "
                                 f"{' and '.join(keys)} to merge on",
                                 f"no source column for {key}", f"{table}.{key}")


def _combine(table: str, parts: list[_Part], problems: _Collect):
    """Merge (subjects, visits: on their key) or stack the files of a table.

    Returns the text frame (index 0..n-1 named ``row``) and, per contract column, the file
    (index into ``parts``, -1 when missing) and source row of each cell; ``"__row__"`` gives the
    file and row that first held each record.
    """
    keys = list(MERGE_KEYS.get(table, ()))
    merge = len(parts) > 1 and keys and all(set(keys) <= set(p.values.columns) for p in parts)
    positions, n = [], 0
    if merge:
        index: dict[tuple, int] = {}
        for part in parts:
            at = []
            for key in part.values[keys].itertuples(index=False, name=None):
                at.append(index.setdefault(key, len(index)))
            at = np.asarray(at, dtype=int)
            dup = pd.Index(at).duplicated()
            for row in part.values.index[dup]:
                problems.add(part.file, row, part.source.get(keys[-1], keys[-1]),
                             f"{' and '.join(keys)} are unique in each file merged",
                             "the same record appears twice in this file", f"{table}.{keys[-1]}")
            positions.append(at)
        n = len(index)
    else:
        for part in parts:
            positions.append(np.arange(n, n + len(part.values)))
            n += len(part.values)
    columns = TABLES[table].column_names
    present = [c for c in columns if any(c in p.values.columns for p in parts)]
    out = {c: np.full(n, None, dtype=object) for c in present}
    part_of = {c: np.full(n, -1, dtype=int) for c in [*present, "__row__"]}
    row_of = {c: np.zeros(n, dtype=int) for c in [*present, "__row__"]}
    for k, (part, at) in enumerate(zip(parts, positions)):
        first = part_of["__row__"][at] < 0
        part_of["__row__"][at[first]] = k
        row_of["__row__"][at[first]] = part.values.index.to_numpy()[first]
        for c in part.values.columns:
            vals = part.values[c].to_numpy(dtype=object)
            have = np.array([v is not None for v in vals], dtype=bool)
            earlier = out[c][at]
            clash = have & np.array([e is not None for e in earlier]) & (earlier != vals)
            for i in np.flatnonzero(clash):
                problems.add(part.file, part.rows[c].iat[i], part.source.get(c, c),
                             f"files merged into {table} agree on {c}",
                             f"value {vals[i]!r} differs from {earlier[i]!r} in "
                             f"{parts[part_of[c][at[i]]].file}", f"{table}.{c}", vals[i])
            take = have & np.array([e is None for e in earlier])
            out[c][at[take]] = vals[take]
            part_of[c][at[take]] = k
            row_of[c][at[take]] = part.rows[c].to_numpy()[take]
    frame = pd.DataFrame(out, index=pd.RangeIndex(n, name=ROW_INDEX), dtype=object)
    return frame, part_of, row_of

