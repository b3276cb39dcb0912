"""The study file the dashboard serves: verified on open, reopened when the file is replaced.

Each run looks at the file on disk (device, inode, size, mtime: :class:`FileIdentity`). A new
identity — the file rebuilt, copied over, truncated — opens and verifies the file again
(:func:`analytics.open_study`), for new sessions and for the next run of open ones, which then say
"study updated". Memoised analysis results are keyed by the identity and the content hash, so a
result computed from an older or refused file is never shown. A file that fails its check is a
message in the reader's language with a reference id (:class:`StudyFileError`), never a traceback.
"""
from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import astuple

import streamlit as st

from analytics import Study, open_study
from analytics.i18n import t, use_study_labels
from analytics.integrity import StudyFileError, file_identity
from analytics.study import is_default_path
from analytics.study_catalog import DEFAULT_SLUG, list_studies, study_path

_SEEN = "_study_seen"  # session key: (identity, built_at) of the study this session last showed
STUDY_URL = "study"  # URL name of the chosen study (its slug; absent for the default study)
CHOSEN = "filter_study"  # session key: the slug of the study this session shows
_RUN_STUDY = "_study_of_run"  # session key: the study this session's current run reads
_LOG = logging.getLogger(__name__)


_LOCK = threading.Lock()
_SERVED: dict[str, Study] = {}  # path -> the study open on it (its ``identity`` set)


RETIRE_AFTER_S = 60  # a replaced file's connection stays open this long for runs still using it


def _open(path: str, identity: tuple) -> Study:
    """The study at ``path`` as it is now (``identity``). A file with a new identity is opened
    anew. The connection to the previous version is closed: at once when the file was rewritten
    in place (DuckDB refuses to attach a file, same inode, that is still attached in the
    process), else a minute later, so that runs still reading it can finish."""
    with _LOCK:
        study = _SERVED.get(path)
        if study is not None and study.identity == identity:
            return study
        if study is not None:
            del _SERVED[path]
            study.replaced = True  # a run still reading it ends with "reload" (see below)
            if study.identity[:2] == identity[:2]:  # same device and inode
                study.close()
            else:
                timer = threading.Timer(RETIRE_AFTER_S, study.close)
                timer.daemon = True
                timer.start()
        study = open_study(path)
        study.identity = identity
        _SERVED[path] = study
        return study


def forget(path) -> None:
    """Stop serving ``path`` (a study just removed or rebuilt): its connection is closed after
    :data:`RETIRE_AFTER_S`, so that runs still reading it can finish."""
    with _LOCK:
        study = _SERVED.pop(str(path), None)
    if study is not None:
        study.replaced = True
        timer = threading.Timer(RETIRE_AFTER_S, study.close)
        timer.daemon = True
        timer.start()


def _close_all() -> None:
    with _LOCK:
        for study in _SERVED.values():
            study.close()
        _SERVED.clear()
    forget_views()


def served_study(slug: str = DEFAULT_SLUG) -> Study:
    """The study ``slug`` of the data folder (:mod:`analytics.study_catalog`; the default is the
    configured ``MSC_RA_STUDY``, else the embedded default, built when missing), verified.
    Raises :class:`StudyFileError` (logged) when it cannot be served."""
    path = study_path(slug)
    if is_default_path(path) and not path.exists():
        from analytics.build import build_default
        build_default(path)
    try:
        identity = astuple(file_identity(path))
    except StudyFileError as exc:
        raise exc.log()
    return _open(str(path), identity)


served_study.clear = _close_all  # the old name's API: ui.get_study.clear() reopens the file


@st.cache_data(show_spinner=False, max_entries=2000)
def _cached_result(path: str, identity: tuple, content_hash: str, method: str, args: tuple,
                   kwargs: tuple, _study: CachedStudy | None = None):
    # identity and content hash key the cache to one verified version of the file (``_study``,
    # not hashed, is that version open). The analysis runs on the memoising study, so one that
    # asks the study for another (the rate trend for the rates by year, a comparison for its
    # rates) gets the memoised result instead of computing it again.
    study = _study if _study is not None else CachedStudy(_open(path, identity))
    return getattr(type(study._study), method)(study, *args, **dict(kwargs))


class CachedStudy:
    """The study as views see it: the same attributes, analyses memoised (results are copies).

    An analysis is a method the study records for "Show code" (``analysis`` marks it), so a new
    analysis is cached without being listed here: results are small, and a view a reader returns
    to, or a widget change that does not touch the analysis, should not recompute."""

    def __init__(self, study: Study):
        self._study = study

    def __getattr__(self, name):
        value = getattr(self._study, name)
        if not getattr(value, "analysis", False):
            return value
        study = self._study
        identity = getattr(study, "identity", None) or astuple(file_identity(study.path))

        def call(*args, **kwargs):
            return _cached_result(str(study.path), identity, study.info["content_hash"], name,
                                  args, tuple(kwargs.items()), self)  # call order: "Show code"
        return call


# -- a view's blocks, built once per version of the study file and state ------------------------
VIEWS_KEPT = 64  # views (study version x state) whose blocks are kept, least recently used out
_VIEW_LOCK = threading.Lock()
_VIEW_BLOCKS: OrderedDict = OrderedDict()


def view_blocks(study: CachedStudy, state) -> list:
    """The blocks of the view in ``state`` (:func:`analytics.views.blocks`), built once per
    version of the study file and state, so that a view seen before is drawn without building
    its tables and figures again.

    The key is the file's identity and content hash (as for the memoised analyses) and the
    state's values that the view applies, language included
    (:func:`analytics.views.registry.blocks_key`): a view's blocks are a function of the study
    and those values only, so a kept entry cannot be stale. Blocks are shared between sessions
    and only read when drawn (never changed)."""
    from analytics.views import blocks
    from analytics.views.registry import blocks_key

    key = (str(study.path), study.identity, study.info.get("content_hash"), blocks_key(state))
    with _VIEW_LOCK:
        kept = _VIEW_BLOCKS.get(key)
        if kept is not None:
            _VIEW_BLOCKS.move_to_end(key)
            return kept
    built = blocks(study, state)
    with _VIEW_LOCK:
        _VIEW_BLOCKS[key] = built
        while len(_VIEW_BLOCKS) > VIEWS_KEPT:
            _VIEW_BLOCKS.popitem(last=False)
    return built


def forget_views() -> None:
    """Drop every kept view (the memoised analyses stay)."""
    with _VIEW_LOCK:
        _VIEW_BLOCKS.clear()


def show_study_error(error: StudyFileError, lang: str) -> None:
    """The reader's message for a study that cannot be served (details are in the log)."""
    st.error(f"**{t('study_error.title', lang)}**\n\n{error.message(lang)}",
             icon=":material/error:")


def chosen_slug() -> str:
    """The slug of the study this session shows: held in the session, first from the URL
    (``study=<slug>``); one that is not (or no longer) in the data folder gives way to the
    default study, and the reader is told."""
    from . import links

    held = st.session_state.get(CHOSEN)
    available = {entry.slug for entry in list_studies()}
    if held is None or held not in available:
        given = held if held is not None else st.query_params.get(STUDY_URL)
        held = links.checked(STUDY_URL, given, DEFAULT_SLUG, available)
        st.session_state[CHOSEN] = held
    return held


def study_query(query: dict[str, str]) -> dict[str, str]:
    """A page's URL parameters with the chosen study's (none for the default study)."""
    slug = st.session_state.get(CHOSEN, DEFAULT_SLUG)
    return {**query, STUDY_URL: slug} if slug != DEFAULT_SLUG else dict(query)


def page_study(lang: str) -> CachedStudy:
    """The study for this run of a page, or the error message and the end of the run. Says so
    when the file changed since this session's previous run."""
    try:
        study = served_study(chosen_slug())
    except StudyFileError as exc:
        show_study_error(exc, lang)
        st.session_state.pop(_SEEN, None)
        st.stop()
    seen = (st.session_state[CHOSEN], study.identity, study.info.get("content_hash"))
    previous = st.session_state.get(_SEEN)
    if previous is not None and previous[0] == seen[0] and previous != seen:  # not a switch
        st.info(t("study.updated", lang, built_at=study.info.get("built_at", "?")),
                icon=":material/sync:")
    st.session_state[_SEEN] = seen
    use_study_labels(study.info)  # its arms' display labels on this run's page
    st.session_state[_RUN_STUDY] = study
    return CachedStudy(study)


@contextmanager
def finish_or_say_replaced(lang: str):
    """Around a page's run: the run finishes, or, when its study file was replaced while it ran
    (a file rewritten in place has its connection closed at once, under the run), it ends with
    the reader's "reload" message instead of the error it met — never a traceback. Any other
    error is not this one's to handle."""
    try:
        yield
    except Exception:
        study = st.session_state.get(_RUN_STUDY)
        if not getattr(study, "replaced", False):
            raise
        _LOG.info("a run met the study file replaced under it", exc_info=True)
        st.info(t("study.replaced_during_run", lang), icon=":material/sync:")
        st.stop()
