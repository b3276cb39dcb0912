"""The import problems (importer and mapping) in the reader's language, for a page.

The importer and the mapping word their rules and findings in English (the command line's and
the log's language; tests compare them). A page in Chinese shows each of them through the
catalogue (``problem.rule.<kind>``, ``problem.detail.<kind>``), recognised by the patterns below
(tests/test_problem_text_coverage.py finds every text the import path words and holds each to
its pattern); a text no pattern knows (a library's own message) is shown as it is.
"""
from __future__ import annotations

import re

from .i18n import DEFAULT_LANGUAGE, t

_COL = r"(?P<column>[a-z_0-9]+)"
_VALUE = r"(?P<value>.+)"
_NUM = r"-?\d+(?:\.\d+)?"
_TABLE = r"(?P<table>[a-z_]+)"
_FORM = r"has the form shown in docs/STUDY\.md section 2a"
_PAIR = r"(?P<first>[a-z_0-9]+) and (?P<second>[a-z_0-9]+)"  # a two-column key
_DATE = r"(?P<date>\d{4}-\d{2}-\d{2})"
_OTHER_DATE = r"(?P<other_date>\d{4}-\d{2}-\d{2})"
PATTERNS: dict[str, dict[str, re.Pattern]] = {
    "rule": {kind: re.compile(rx) for kind, rx in {
        "required": rf"^{_COL} is required$",
        "one_of": rf"^{_COL} is one of (?P<choices>.+)$",
        "flag": rf"^{_COL} is 0 or 1$",
        "date": rf"^{_COL} is a date YYYY-MM-DD$",
        "range": rf"^{_COL} in (?P<low>{_NUM})-(?P<high>{_NUM})$",
        "range_open": rf"^{_COL} > (?P<low>{_NUM}) and <= (?P<high>{_NUM})$",
        "at_least": rf"^{_COL} >= (?P<low>{_NUM})$",
        "more_than": rf"^{_COL} > (?P<low>{_NUM})$",
        "at_most": rf"^{_COL} <= (?P<high>{_NUM})$",
        "number": rf"^{_COL} is a number$",
        "after_subject": rf"^{_COL} >= the subject's (?P<other>[a-z_]+)$",
        "after": rf"^{_COL} >= (?P<other>[a-z_]+)$",
        "listed": r"^subject_id is listed in (?P<file>.+)$",
        "withdrawn": rf"^a withdrawn subject has a {_COL}$",
        "visit_mapped": r"^\[visits\] maps every visit label to a contract visit or 'ignore'$",
        "may_be_empty": r"^(?P<table>[a-z_]+) may be empty$",
        "ignored_visits": r"^visits mapped to 'ignore' are left out$",
        # the rarer ones: a file, a table or the mapping itself is wrong
        "column_names_unique": r"^column names are unique$",
        "row_width": r"^a row has at most (?P<width>\d+) values \(the header\)$",
        "csv_encoding": r"^CSV is encoded as UTF-8 or GB18030/GBK$",
        "header_and_row": r"^a table has a header and at least one data row$",
        "xlsx_readable": r"^XLSX is a readable Excel workbook$",
        "parquet_readable": r"^Parquet is a readable Parquet file$",
        "sas_readable": r"^(?P<format>[A-Z0-9]+) is a readable SAS file$",
        "named_sheet": r"^the named sheet is in the workbook$",
        "raw_directory": r"^the raw data is a directory of table files$",
        "table_formats": r"^each table is given as one of (?P<options>.+)$",
        "one_format": r"^each table is given in exactly one format \((?P<options>.+)\)$",
        "has_column": rf"^{_TABLE} has a column {_COL}$",
        "has_rows": rf"^{_TABLE} has at least one data row$",
        "unique": rf"^{_COL} is unique$",
        "unique_pair": rf"^{_PAIR} are unique$",
        "table_given": rf"^table {_TABLE} is given$",
        "study_json": r"^study\.json is a JSON object$",
        "mapping_file": r"^the mapping is a UTF-8 TOML file$",
        "mapping_toml": r"^the mapping is valid TOML$",
        "sections": r"^the mapping's sections are (?P<sections>.+)$",
        "section_form": rf"^\[(?P<section>[a-z_]+)\] {_FORM}$",
        "sections_form": rf"^\[(?P<sections>[a-z_]+(?:, [a-z_]+)*) or (?P<last>[a-z_]+)\] "
                         rf"{_FORM}$",
        "files_tables": r"^\[files\] names tables of the contract \((?P<tables>.+)\)$",
        "columns_keys": r"^\[columns\.(?P<table>[^\]]+)\] keys are contract columns of "
                        r"(?P=table)$",
        "visit_code": r"^a visit maps to one of (?P<visits>.+) or 'ignore'$",
        "arm_code": r"^an arm maps to one of (?P<arms>.+)$",
        "values_section": r"^\[values\.<column>\] names a contract column or 'flags'$",
        "unit_converts": rf"^the unit of {_COL} converts to (?P<unit>\S+)$",
        "unit_converts_from": rf"^the unit of {_COL} converts to (?P<unit>\S+) "
                              r"\(from (?P<known>.+)\)$",
        "unit_converts_contract": rf"^the unit of {_COL} converts to its contract unit$",
        "no_unit_conversion": rf"^{_COL} takes no unit conversion$",
        "date_format": r"^a date format uses strftime codes such as %Y/%m/%d$",
        "test_column": r"^a test feeds a contract column of (?P<table>.+)$",
        "files_given": rf"^\[files\] names the file\(s\) of {_TABLE}$",
        "files_inside": r"^\[files\] names files inside the export's folder$",
        "pivot_columns": rf"^the \[pivot\.{_TABLE}\] columns are in the file's header$",
        "pivot_tests": rf"^every test of \[pivot\.{_TABLE}\] tests occurs in (?P<test>.+)$",
        "pivot_once": r"^one (?P<code>.+) value per subject and visit$",
        "unit_given": rf"^a {_COL} value has a unit$",
        "codes_mapped": rf"^\[(?P<section>[^\]]+)\] maps every code of {_COL} "
                        r"\(contract values: (?P<values>.+)\)$",
        "columns_in_header": rf"^\[columns\.{_TABLE}\] names a column of the header$",
        "merge_key": rf"^each file of {_TABLE} has the key {_COL} to merge on$",
        "merge_key_pair": rf"^each file of {_TABLE} has the key {_PAIR} to merge on$",
        "merge_unique": rf"^{_COL} are unique in each file merged$",
        "merge_unique_pair": rf"^{_PAIR} are unique in each file merged$",
        "merge_agree": rf"^files merged into {_TABLE} agree on {_COL}$",
        "export_files": r"^the mapping's \[files\] name files of the export$",
        "file_format": r"^a file is one of (?P<formats>.+)$",
    }.items()},
    "detail": {kind: re.compile(rx) for kind, rx in {
        "missing": r"^value is missing$",
        "missing_withdrawn": r"^value is missing for a withdrawn subject$",
        "not_allowed": rf"^value {_VALUE} is not an allowed value$",
        "not_flag": rf"^value {_VALUE} is not 0 or 1$",
        "not_number": rf"^value {_VALUE} is not a number$",
        "not_whole": rf"^value {_VALUE} is not a whole number$",
        "below": rf"^value {_VALUE} is below the minimum (?P<low>{_NUM})$",
        "above": rf"^value {_VALUE} is above the maximum (?P<high>{_NUM})$",
        "not_date": rf"^value {_VALUE} is not a valid date YYYY-MM-DD$",
        "unknown_subject": rf"^unknown subject {_VALUE}$",
        "before": rf"^{_DATE} is before the (?P<other>[a-z_]+) {_OTHER_DATE}$",
        "before_subject": rf"^{_DATE} is before the subject's (?P<other>[a-z_]+) {_OTHER_DATE}$",
        "visit_unmapped": r"^visit label (?P<label>.+) is not mapped$",
        "unit": r"^unit (?P<unit>.+) cannot be converted$",
        "not_in_header": r"^column (?P<column>.+) is not in the header$",
        "empty_table": r"^table (?P<table>[a-z_]+) has no data rows: analyses of it will show "
                       r"no events$",
        "no_file": r"^no file for (?P<table>[a-z_]+): analyses of it will show no events$",
        "ignored_visits": r"^(?P<n>\d+) rows of visits outside the contract were left out "
                          r"\((?P<counts>.+)\)$",
        "not_above": rf"^value {_VALUE} is not above (?P<low>{_NUM})$",
        # the rarer ones: a file, a table or the mapping itself is wrong
        "column_twice": r"^column appears twice$",
        "row_width": r"^row has (?P<n>\d+) values but the header names (?P<width>\d+) columns$",
        "cannot_decode": r"^cannot decode the file$",
        "file_empty": r"^the file is empty$",
        "cannot_read_workbook": r"^cannot read the workbook \((?P<reason>.+)\)$",
        "cannot_read_file": r"^cannot read the file \((?P<reason>.+)\)$",
        "cannot_read_format": r"^cannot read \.(?P<ext>\S+) files$",
        "no_sheet": r"^no sheet (?P<sheet>.+); sheets: (?P<sheets>.*)$",
        "sheet_empty": r"^the sheet (?P<sheet>.+) is empty$",
        "first_sheet_empty": r"^the first sheet is empty$",
        "no_directory": r"^no such directory$",
        "no_such_file": r"^no such file in (?P<folder>.+)$",
        "table_missing_from": rf"^table {_TABLE} is missing from (?P<folder>.+)$",
        "table_twice": rf"^table {_TABLE} is given more than once: (?P<files>.+)$",
        "table_missing": rf"^table {_TABLE} is missing$",
        "column_missing": r"^required column is missing$",
        "no_rows": r"^the table has no data rows$",
        "duplicate": r"^duplicate (?P<key>.+) \(first at row (?P<first>\d+)\)$",
        "not_json_object": r"^the file does not hold a JSON object$",
        "unknown_section": r"^unknown section \[(?P<section>.+)\]$",
        "missing_key": r"^missing key (?P<key>.+) \((?P<error>\w+)\)$",
        "unexpected_form": r"^unexpected form \((?P<error>\w+)\)$",
        "unknown_table": r"^unknown table (?P<table>.+)$",
        "unknown_column": r"^unknown contract column (?P<column>.+)$",
        "unknown_visit": r"^unknown visit code (?P<code>.+)$",
        "unknown_arm": r"^unknown arm (?P<arm>.+)$",
        "not_contract_value": r"^(?P<code>.+) maps to (?P<value>.+), not a contract value$",
        "no_percent": r"^format (?P<format>.+) has no % code$",
        "no_file_given": rf"^no file given for {_TABLE}$",
        "outside": r"^(?P<file>.+) is outside (?P<folder>.+)$",
        "test_no_row": rf"^test (?P<code>.+) \(for {_COL}\) has no row$",
        "second_row": r"^a second (?P<code>.+) row for the same subject and visit$",
        "unit_missing": r"^unit is missing$",
        "code_unmapped": r"^code (?P<code>.+) is not mapped$",
        "column_absent": rf"^source column (?P<names>.+) is in no file of {_TABLE}$",
        "no_source_column": rf"^no source column for {_COL}$",
        "record_twice": r"^the same record appears twice in this file$",
        "differs": r"^value (?P<value>.+) differs from (?P<other>.+) in (?P<file>.+)$",
        # the TOML reader's own message stays as it is; where it points is said
        "toml_error_at": r"^(?P<message>.+) \(at line (?P<line>\d+), column (?P<column>\d+)\)$",
        "toml_error_at_end": r"^(?P<message>.+) \(at end of document\)$",
    }.items()},
}


def problem_text(text: str | None, part: str, lang: str) -> str | None:
    """``text`` (a problem's ``rule`` or ``detail``, as ``part`` says) in ``lang``."""
    if lang == DEFAULT_LANGUAGE or not text:
        return text
    for kind, pattern in PATTERNS[part].items():
        match = pattern.match(text)
        if match:
            return t(f"problem.{part}.{kind}", lang, **match.groupdict())
    return text
