"""The "Load a study" page: upload an export (files or one zip), check and edit the drafted
mapping, validate, build into the data folder, switch to the new study; remove a built study.

The steps themselves are :mod:`analytics.study_loading` and :mod:`analytics.study_catalog` (no
Streamlit there); this module draws them and writes each action to the audit log. Only a user
who may manage studies (:func:`dashboard.access.can_manage_studies`) sees the page's tools.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

import pandas as pd
import streamlit as st

from analytics import study_loading
from analytics.build import BuildError
from analytics.i18n import os_reason, t
from analytics.importer import ContractError
from analytics.mapping import problems_table
from analytics.problem_text import problem_text
from analytics.study_catalog import (DEFAULT_SLUG, DEFAULT_UPLOAD_HOURS, UPLOAD_HOURS_ENV,
                                     UploadError, data_dir, list_studies, remove_study, slugify,
                                     store_upload, study_path, sweep_uploads, upload_hours,
                                     uploads_dir)

from . import access, audit, study_source
from .study_switcher import study_name, switch_to

_LOG = logging.getLogger(__name__)

UPLOAD = "load_upload"     # session: {"id", "folder", "hashes", "signature"} of the upload
DRAFT = "load_draft"       # session: study_loading.DraftRows of the upload
RESULT = "load_result"     # session: ("validate" | "build", Outcome | None, built slug | None)
REMOVED = "_load_removed"  # session: the name of the study just removed (said once)
UPLOAD_TYPES = ["csv", "xlsx", "xls", "parquet", "xpt", "sas7bdat", "zip", "json", "toml"]
EDITOR_WIDTHS = {"section": "medium", "key": "medium", "value": "large", "todo": "medium"}
PROBLEM_COLUMNS = {"file": "load.col.file", "row": "load.col.row", "column": "load.col.column",
                   "contract": "load.col.contract", "value": "load.col.source_value",
                   "rule": "load.col.rule", "detail": "load.col.detail"}


def sweep_old_uploads() -> list[str]:
    """Remove the uploads kept longer than ``MSC_RA_UPLOAD_HOURS`` (at the launcher's start and
    before each new upload), each with a line in the audit log. Raises ValueError for a bad
    value of the variable."""
    hours = upload_hours()
    removed = sweep_uploads(hours)
    for upload_id in removed:
        audit.record("sweep", study=upload_id, user=audit.SERVER_USER,
                     detail=f"upload older than {hours:g} h removed")
    return removed


def receive_upload(files: list[tuple[str, bytes]], signature: tuple) -> None:
    """Store a new upload, record it, draft its mapping (session state)."""
    upload_id, folder, hashes = store_upload(files)
    audit.record("upload", study=upload_id, hashes=hashes)
    st.session_state[UPLOAD] = {"id": upload_id, "folder": str(folder), "hashes": hashes,
                                "signature": signature}
    st.session_state[DRAFT] = study_loading.draft_rows(folder)
    st.session_state["load_name"] = st.session_state[DRAFT].name
    st.session_state.pop(RESULT, None)


def _upload_step(lang: str) -> None:
    uploaded = st.file_uploader(t("load.upload", lang), type=UPLOAD_TYPES,
                                accept_multiple_files=True, key="load_files")
    if not uploaded:
        return
    signature = tuple((f.name, f.size, f.file_id) for f in uploaded)
    held = st.session_state.get(UPLOAD)
    if held is not None and held["signature"] == signature:
        return
    try:
        sweep_old_uploads()
    except ValueError:  # the launcher refuses to start with it; `streamlit run` does not
        st.error(t("load.upload_hours_bad", lang, variable=UPLOAD_HOURS_ENV,
                   value=os.environ.get(UPLOAD_HOURS_ENV, "")))
    except OSError as exc:  # an old upload that cannot be removed does not stop a new one
        _LOG.warning("old uploads could not be removed: %s", exc)
        st.warning(t("load.sweep_failed", lang, folder=exc.filename or uploads_dir(),
                     reason=os_reason(exc, lang)))
    try:
        receive_upload([(f.name, f.getvalue()) for f in uploaded], signature)
    except UploadError as exc:
        st.error(t(f"upload.error.{exc.code}", lang, name=exc.name))
    except OSError as exc:  # the data folder not writable, the disk full
        _LOG.warning("an upload could not be stored: %s", exc)
        st.error(t("load.upload_not_stored", lang, reason=os_reason(exc, lang)))


def _problem_table(problems: list, lang: str) -> pd.DataFrame:
    """Problems (or warnings) as a table in the export's names, the contract column beside, the
    frequent rules and findings in the reader's language."""
    table = problems_table(problems)
    if table["value"].isna().all():  # only the mapping's own problems name a source value
        table = table.drop(columns="value")
    for part in ("rule", "detail"):
        table[part] = [problem_text(text, part, lang) for text in table[part]]
    return table.rename(columns={c: t(k, lang) for c, k in PROBLEM_COLUMNS.items()})


def _problems(outcome: study_loading.Outcome, lang: str, upload_id: str) -> None:
    """Every problem as a table, and as CSV."""
    if outcome.total > len(outcome.problems):
        st.error(t("load.problems", lang, total=outcome.total, shown=len(outcome.problems)))
    else:
        st.error(t("load.problems.all", lang, total=outcome.total))
    table = _problem_table(outcome.problems, lang)
    st.dataframe(table, hide_index=True, width="stretch", key="load_problems")
    st.download_button(t("load.problems.download", lang),
                       table.to_csv(index=False).encode("utf-8-sig"),
                       file_name=f"problems-{upload_id}.csv", mime="text/csv",
                       key="load_problems_csv", on_click="ignore")


def _warnings(outcome: study_loading.Outcome, lang: str) -> None:
    if outcome.warnings:
        st.warning(t("load.warnings", lang, n=len(outcome.warnings)))
        st.dataframe(_problem_table(outcome.warnings, lang), hide_index=True, width="stretch")


def _mapping_step(lang: str) -> None:
    upload, draft = st.session_state[UPLOAD], st.session_state[DRAFT]
    st.success(t("load.stored", lang, upload=upload["id"], n=len(upload["hashes"])))
    st.dataframe(pd.DataFrame({t("load.col.file", lang): list(upload["hashes"]),
                               t("load.col.sha256", lang): list(upload["hashes"].values())}),
                 hide_index=True, width="stretch", key="load_files_table")
    st.subheader(t("load.mapping.header", lang), help=t("load.mapping.help", lang))
    if draft.unmapped:
        st.warning(t("load.unmapped", lang, n=len(draft.unmapped)) + "\n\n"
                   + "\n".join(f"- {t(f'draft.unmapped.{kind}', lang, **fields)}"
                             for kind, fields in draft.unmapped))
    if draft.ignored:
        st.caption(t("load.ignored", lang, items=t("common.list_separator", lang).join(
            t(f"draft.ignored.{kind}", lang, **fields) for kind, fields in draft.ignored)))
    config = {c: st.column_config.TextColumn(t(f"load.col.{c}", lang), disabled=(c == "todo"),
                                             width=EDITOR_WIDTHS[c])
              for c in study_loading.ROW_COLUMNS}
    rows = st.data_editor(draft.rows, column_config=config, num_rows="dynamic", hide_index=True,
                          width="stretch", key=f"load_editor_{upload['id']}")
    name = st.text_input(t("load.name", lang), key="load_name").strip()
    if name and study_path(slugify(name)).exists():
        st.caption(t("load.replaces", lang))
    validate, build = st.columns(2)
    if validate.button(t("load.validate", lang), key="load_validate", width="stretch"):
        _validate(upload, rows)
    if build.button(t("load.build", lang), key="load_build", type="primary",
                    width="stretch"):
        if not name:
            st.error(t("load.name.missing", lang))
        else:
            _build(upload, rows, name, lang)
    _result(lang, upload["id"])


def _rows_problem(exc: ContractError) -> study_loading.Outcome:
    return study_loading.Outcome(list(exc.problems), exc.total)


def _validate(upload: dict, rows: pd.DataFrame) -> None:
    try:
        outcome = study_loading.validate(upload["folder"], rows)
    except ContractError as exc:  # the edited rows are not a mapping
        outcome = _rows_problem(exc)
    audit.record("validate", study=upload["id"], hashes=upload["hashes"],
                 detail=f"{outcome.total} problems")
    st.session_state[RESULT] = ("validate", outcome, None)


def _build(upload: dict, rows: pd.DataFrame, name: str, lang: str) -> None:
    try:
        slug, path = study_loading.build(upload["folder"], rows, name)
    except ContractError as exc:
        outcome = _rows_problem(exc)
        audit.record("build", study=slugify(name), hashes=upload["hashes"],
                     detail=f"failed: {outcome.total} problems; upload {upload['id']}")
        st.session_state[RESULT] = ("build", outcome, None)
        return
    except BuildError as exc:
        audit.record("build", study=slugify(name), hashes=upload["hashes"],
                     detail=f"failed: {exc.code}; upload {upload['id']}")
        st.session_state[RESULT] = ("build", None, None)
        st.error(exc.message(lang))
        return
    entry = next(e for e in list_studies() if e.slug == slug)
    audit.record("build", study=slug, hashes={**upload["hashes"],
                                              "content_hash": entry.content_hash},
                 detail=f"{name}; upload {upload['id']}; {path.name}")
    study_source.forget(path)
    st.session_state[RESULT] = ("build", study_loading.Outcome(), slug)


def _result(lang: str, upload_id: str) -> None:
    held = st.session_state.get(RESULT)
    if held is None:
        return
    action, outcome, slug = held
    if outcome is not None and not outcome.ok:
        if action == "build":
            st.info(t("load.build_failed", lang))
        _problems(outcome, lang, upload_id)
        return
    if action == "validate" and outcome is not None:
        st.success(t("load.valid", lang))
        _warnings(outcome, lang)
    if action == "build" and slug is not None:
        entry = next((e for e in list_studies() if e.slug == slug), None)
        if entry is not None:
            st.success(t("load.built", lang, name=entry.name, slug=slug, hash=entry.short_hash))
            st.button(t("load.switch", lang), key="load_switch", on_click=switch_to,
                      args=(slug,), type="primary")


def _studies_step(lang: str) -> None:
    st.subheader(t("load.studies.header", lang))
    if REMOVED in st.session_state:
        st.success(t("load.removed", lang, name=st.session_state.pop(REMOVED)))
    entries = list_studies()
    st.dataframe(pd.DataFrame({
        t("load.col.study", lang): [study_name(e, lang) for e in entries],
        t("load.col.file", lang): [e.path.name for e in entries],
        t("load.col.built_at", lang): [e.built_at for e in entries],
        t("load.col.content_hash", lang): [e.short_hash for e in entries]}),
        hide_index=True, width="stretch", key="load_studies")
    built = {e.slug: e for e in entries if e.slug != DEFAULT_SLUG}
    with st.expander(t("load.remove", lang)):
        if not built:
            st.caption(t("load.remove.none", lang))
            return
        slug = st.selectbox(t("load.col.study", lang), list(built), key="load_remove_slug",
                            format_func=lambda s: f"{built[s].name} ({s})")
        sure = st.checkbox(t("load.remove.confirm", lang, name=built[slug].name),
                           key=f"load_remove_sure_{slug}")
        if st.button(t("load.remove.button", lang), key="load_remove", disabled=not sure):
            entry = built[slug]
            try:
                study_source.forget(remove_study(slug))
            except FileNotFoundError:  # another session removed it first (and audited it)
                study_source.forget(study_path(slug))
                st.rerun()
            except OSError as exc:  # the data folder refuses: the study stays, said so
                _LOG.warning("a study could not be removed: %s", exc)
                st.error(t("load.remove_failed", lang, name=entry.name,
                           reason=os_reason(exc, lang)))
                return
            audit.record("remove", study=slug, hashes={"content_hash": entry.content_hash},
                         detail=entry.name)
            st.session_state[REMOVED] = entry.name
            st.rerun()  # the list above without it


def _forget_swept_upload(lang: str) -> None:
    """An upload of this session removed as too old (``MSC_RA_UPLOAD_HOURS``): say so and drop
    its mapping; the uploader stores its files again if it still holds them."""
    held = st.session_state.get(UPLOAD)
    if held is None or Path(held["folder"]).is_dir():
        return
    for key in (UPLOAD, DRAFT, RESULT):
        st.session_state.pop(key, None)
    try:
        hours = upload_hours()
    except ValueError:  # said when the next upload is stored
        hours = DEFAULT_UPLOAD_HOURS
    st.info(t("load.upload_swept", lang, upload=held["id"], hours=f"{hours:g}"))


def load_study_page() -> None:
    """The page (the sidebar's switcher and filters as on every page)."""
    from .render import plain_page

    _, lang = plain_page("load_study", "nav.load_study")
    if not access.can_manage_studies():
        st.info(t("load.not_allowed", lang))
        return
    st.caption(t("load.intro", lang))
    st.code(str(data_dir()), language=None)
    _forget_swept_upload(lang)
    _upload_step(lang)
    if UPLOAD in st.session_state and DRAFT in st.session_state:
        _mapping_step(lang)
    _studies_step(lang)
