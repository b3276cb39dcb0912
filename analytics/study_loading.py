"""The steps of loading a study in the browser, without Streamlit: draft the mapping of an upload
as editable rows, read the edited rows back, validate, build into the data folder.

The same path as the command line (``analytics map`` / ``analytics build --mapping``): the draft
is :func:`analytics.mapping_draft.draft_mapping`, validation is :func:`analytics.mapping.load_mapped`
(mapping, then the data contract) without writing anything, and the build is
:func:`analytics.build.build_study` (a temporary file moved over the old one only when all is
valid, so a failed build changes nothing).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .build import build_study, read_study_json
from .importer import ContractError, Problem
from .mapping import (FLAGS, IGNORE_VISIT, MAPPING_FILE, Mapping, MappingError, _allowed,
                      load_mapped)
from .schema import ARMS, VISITS
from .mapping_draft import draft_mapping
from .study_catalog import slugify, study_path

# a page lists (and offers as CSV) this many problems; the command line stops at 50
PAGE_MAX_PROBLEMS = 10_000
ROW_COLUMNS = ["section", "key", "value", "todo"]  # todo: the values allowed in an entry to fill
_COMMENT = re.compile(r'^(?P<key>"(?:[^"\\]|\\.)*"|[\w-]+)\s*=\s*""')


def _choices(section: str) -> list[str]:
    """The contract values an entry of ``section`` may map to (the page words the hint)."""
    if section == "visits":
        return [*VISITS, IGNORE_VISIT]
    if section == "arms":
        return list(ARMS)
    column = section.removeprefix("values.")
    return ["0", "1"] if column == FLAGS else sorted(_allowed(column))


@dataclass
class DraftRows:
    rows: pd.DataFrame        # ROW_COLUMNS; unfilled entries have value "" and a todo hint
    unmapped: list[tuple[str, dict]]  # what the draft could not map: (kind, fields), see
    #                                   mapping_draft.NOTE_KINDS
    ignored: list[tuple[str, dict]]   # source files, columns or tests left out (same form)
    name: str                 # the study name the upload gives (study.json or mapping), or ""


@dataclass
class Outcome:
    """What validating or building found: the problems (source names, contract beside), how
    many in all, and the warnings of an accepted export."""

    problems: list[Problem] = field(default_factory=list)
    total: int = 0
    warnings: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.total == 0


def draft_rows(folder: str | Path) -> DraftRows:
    """The mapping of the upload in ``folder`` as rows: its own ``mapping.toml`` when the upload
    holds one, else the draft, with every entry the draft could not fill as an empty row."""
    folder = Path(folder)
    own = folder / MAPPING_FILE
    if own.is_file():
        mapping = Mapping.load(own)
        rows = mapping.to_rows().assign(todo="")
        unmapped, ignored = [], []
    else:
        draft = draft_mapping(folder)
        mapping = draft.mapping
        mapping.study.pop("name", None)  # the draft names the study after the upload folder
        rows = mapping.to_rows().assign(todo="")
        todo = [{"section": section, "key": json.loads(m["key"]) if m["key"].startswith('"')
                 else m["key"], "value": "", "todo": ", ".join(_choices(section))}
                for section, lines in draft.comments.items() for line in lines
                if (m := _COMMENT.match(line.strip()))]
        # the entries to fill in come first: a person sees them without scrolling
        rows = pd.concat([pd.DataFrame(todo, columns=ROW_COLUMNS), rows], ignore_index=True)
        unmapped = [(kind, fields) for found, kind, fields in draft.notes if found == "unmapped"]
        ignored = [(kind, fields) for found, kind, fields in draft.notes if found == "ignored"]
    try:
        name = str(read_study_json(folder).get("name") or mapping.study.get("name") or "")
    except ContractError:
        name = str(mapping.study.get("name") or "")
    rows = rows[ROW_COLUMNS].astype(str)
    return DraftRows(_grouped(rows), list(unmapped), list(ignored), name)


def _grouped(rows: pd.DataFrame) -> pd.DataFrame:
    """Rows of one section together (the order of first appearance), as the TOML needs."""
    order = {s: i for i, s in enumerate(dict.fromkeys(rows["section"]))}
    return rows.sort_values("section", key=lambda s: s.map(order), kind="stable").reset_index(
        drop=True)


def mapping_of_rows(rows: pd.DataFrame) -> Mapping:
    """The mapping the (edited) rows say; rows still empty are left out. Raises
    :class:`MappingError` naming the section and key of a malformed entry."""
    rows = rows.fillna("").astype(str)
    filled = rows[(rows["value"].str.strip() != "") & (rows["section"].str.strip() != "")
                  & (rows["key"].str.strip() != "")]
    return Mapping.from_rows(_grouped(filled))


def validate(folder: str | Path, rows: pd.DataFrame) -> Outcome:
    """Apply the mapping and the data contract to the upload, writing nothing."""
    warnings: list[Problem] = []
    try:
        load_mapped(folder, mapping_of_rows(rows), warnings, max_problems=PAGE_MAX_PROBLEMS)
    except ContractError as exc:  # MappingError included: both name file, row, column, rule
        return Outcome(list(exc.problems), exc.total, warnings)
    return Outcome(warnings=warnings)


def build(folder: str | Path, rows: pd.DataFrame, name: str) -> tuple[str, Path]:
    """Build the upload into ``<data>/studies/<slug>.duckdb`` (slug from ``name``). Raises
    :class:`~analytics.importer.ContractError` (with :class:`MappingError`) or
    :class:`~analytics.build.BuildError`; either way an existing file of the slug is untouched."""
    slug = slugify(name)
    path = build_study(folder, study_path(slug), info={"name": name},
                       mapping=mapping_of_rows(rows))
    return slug, path


__all__ = ["DraftRows", "Outcome", "MappingError", "build", "draft_rows", "mapping_of_rows",
           "validate"]
