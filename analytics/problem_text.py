"""The import problems (importer and mapping) in the reader's language, for a page.

The importer and the mapping word their rules and findings in English (the command line's and
the log's language; tests compare them). A page in Chinese shows the frequent ones — one per row
of a bad export — through the catalogue (``problem.rule.<kind>``, ``problem.detail.<kind>``),
recognised by the patterns below; a text no pattern knows is shown as it is.
"""
from __future__ import annotations

import re

from .i18n import DEFAULT_LANGUAGE, t

_COL = r"(?P<column>[a-z_0-9]+)"
_VALUE = r"(?P<value>.+)"
_NUM = r"-?\d+(?:\.\d+)?"
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
        "before": r"^(?P<date>\d{4}-\d{2}-\d{2}) is before the (?:subject's )?(?P<other>[a-z_]+) "
                  r"(?P<other_date>\d{4}-\d{2}-\d{2})$",
        "visit_unmapped": r"^visit label (?P<label>.+) is not mapped$",
        "unit": r"^unit (?P<unit>.+) cannot be converted$",
        "not_in_header": r"^column (?P<column>.+) is not in the header$",
        "empty_table": r"^table (?P<table>[a-z_]+) has no data rows: analyses of it will show "
                       r"no events$",
        "no_file": r"^no file for (?P<table>[a-z_]+): analyses of it will show no events$",
        "ignored_visits": r"^(?P<n>\d+) rows of visits outside the contract were left out "
                          r"\((?P<counts>.+)\)$",
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
