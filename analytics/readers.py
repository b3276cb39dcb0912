"""Reading one export file of any supported format as a text frame.

A mapped export (:mod:`analytics.mapping`) may hold its tables in CSV (UTF-8 with or without BOM,
GBK/GB18030), XLSX (any sheet), Parquet, SAS transport (XPT) or SAS7BDAT files. Every reader
returns what :func:`analytics.importer.read_raw` returns for one table: all values as text (or
None), indexed by the row a spreadsheet user sees (header = row 1), with the file's own headers
(no renaming to contract names) and ``attrs["file"]`` set.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from . import importer
from .importer import _Problems

# extension -> reader; SAS formats are read with pyreadstat
FORMATS: tuple[str, ...] = ("csv", "xlsx", "parquet", "xpt", "sas7bdat")


def _read_sas(path: Path, problems: _Problems) -> pd.DataFrame | None:
    import pyreadstat

    read = pyreadstat.read_xport if path.suffix.lower() == ".xpt" else pyreadstat.read_sas7bdat
    try:
        frame, _meta = read(str(path))
    except Exception as exc:  # noqa: BLE001 - an unreadable file is the user's to fix
        problems.add(path.name, None, None, f"{path.suffix[1:].upper()} is a readable SAS file",
                     f"cannot read the file ({exc})")
        return None
    # Records are numbered as in a spreadsheet export of the data set: header = row 1.
    records = [(i + 2, list(values)) for i, values in
               enumerate(frame.astype(object).itertuples(index=False, name=None))]
    return importer._frame(list(frame.columns), records, path.name, problems,
                           contract_names=False)


def read_source(path: str | Path, problems: _Problems, sheet: str | None = None
                ) -> pd.DataFrame | None:
    """One export file (``sheet`` of a workbook) as text; problems are collected, None on failure."""
    path = Path(path)
    ext = path.suffix.lower().lstrip(".")
    if not path.is_file():
        problems.add(path.name, None, None, "the mapping's [files] name files of the export",
                     f"no such file in {path.parent.name or path.parent}")
        return None
    if ext not in FORMATS:
        problems.add(path.name, None, None, f"a file is one of {', '.join(FORMATS)}",
                     f"cannot read .{ext} files")
        return None
    if ext == "xlsx":
        frame = importer._read_xlsx(path, problems, contract_names=False, sheet=sheet)
    elif ext == "csv":
        frame = importer._read_csv(path, problems, contract_names=False)
    elif ext == "parquet":
        frame = importer._read_parquet(path, problems, contract_names=False)
    else:
        frame = _read_sas(path, problems)
    if frame is not None:
        frame.attrs["file"] = path.name if sheet is None else f"{path.name} [{sheet}]"
    return frame


def export_files(raw_dir: str | Path) -> list[Path]:
    """The readable files of an export folder, in name order."""
    return [p for p in sorted(Path(raw_dir).iterdir())
            if p.is_file() and p.suffix.lower().lstrip(".") in FORMATS]


def sheet_names(path: Path) -> list[str]:
    """The sheets of a workbook (one unnamed entry for other formats)."""
    if path.suffix.lower() != ".xlsx":
        return []
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True)
    try:
        return list(book.sheetnames)
    finally:
        book.close()
