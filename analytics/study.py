"""Opening a study file and the analyses available on it.

``open_study()`` returns a :class:`Study`; each analysis is a method that delegates to its own
module (one analysis per module) and returns a tidy DataFrame whose ``attrs`` carry what a reader
must know: ``population``, ``n_per_arm``, ``method``, ``footnote`` (and ``title``), in the
language asked for.
"""
from __future__ import annotations

import functools
import os
from pathlib import Path

import duckdb
import pandas as pd

PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_STUDY_PATH = PROJECT_DIR / "data" / "study.duckdb"
STUDY_ENV_VAR = "MSC_RA_STUDY"  # points the dashboard at another study file


def _frames(result) -> list[pd.DataFrame]:
    if isinstance(result, pd.DataFrame):
        return [result]
    return [v for v in vars(result).values() if isinstance(v, pd.DataFrame)]


def _recorded(method):
    """Note the call in each result frame's ``attrs["call"]``, so a page can show the few lines
    of Python that rebuild its table (see :mod:`analytics.code`)."""
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        from .i18n import study_labels
        with study_labels(self.info):  # the study's own arm labels, if it names its arms
            result = method(self, *args, **kwargs)
        call = {"method": method.__name__, "args": list(args),
                "kwargs": {k: v for k, v in kwargs.items() if v is not None}}
        for frame in _frames(result):
            frame.attrs["call"] = call
        return result
    wrapper.analysis = True  # the dashboard memoises analyses (dashboard.study_source)
    return wrapper


class Study:
    """A read-only study file and its analyses.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        A read-only connection to the study file.
    path : Path
        Where the file lives.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, path: Path,
                 info: dict[str, str] | None = None, catalog: str | None = None,
                 search_path: str | None = None):
        self.con = con
        self.catalog = catalog  # the attached study file's name in ``con`` (None: its main)
        self.search_path = search_path  # where the derived measures are kept (None: the views)
        self.path = Path(path)
        self._facts: dict[tuple[str, str], pd.DataFrame] = {}
        # cursors set up for this study (catalog, search path) and idle: setting one up cost
        # more than many a query; each is used by one query at a time (list pop and append are
        # atomic), so a cursor is never shared between threads
        self._idle_cursors: list = []
        self._closed = False
        self.info: dict[str, str] = info if info is not None else dict(
            con.execute("SELECT key, value FROM study_info").fetchall())

    @property
    def synthetic(self) -> bool:
        """True when the file holds the synthetic cohort (every screen must say so)."""
        return self.info.get("synthetic") == "true"

    def query(self, sql: str, params: list | tuple = ()) -> pd.DataFrame:
        """Run SQL with bound parameters on a cursor of its own (safe across threads)."""
        try:
            cur = self._idle_cursors.pop()
        except IndexError:
            from .integrity import cursor
            cur = cursor(self.con, self.catalog, self.search_path)
        try:
            result = cur.execute(sql, list(params)).df()
        except BaseException:
            cur.close()  # not reused after a failure
            raise
        if self._closed:
            cur.close()
        else:
            self._idle_cursors.append(cur)
        return result

    def fact(self, sql: str, params: list | tuple = ()) -> pd.DataFrame:
        """A query about the file itself (its trials, the N per arm of a selection), asked again
        and again by the controls and the analyses: run once per open study and parameters (the
        file cannot change under an open study: a replaced file is opened anew). Do not modify
        the returned frame."""
        key = (sql, repr(list(params)))  # parameters are plain values and lists of them
        if key not in self._facts:
            self._facts[key] = self.query(sql, params)
        return self._facts[key]

    def close(self) -> None:
        self._closed = True
        while self._idle_cursors:
            self._idle_cursors.pop().close()
        self.con.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- analyses: one module each ------------------------------------------------------------
    @_recorded
    def disposition(self, lang: str = "en", **filters) -> pd.DataFrame:
        from .disposition import disposition
        return disposition(self, lang=lang, **filters)

    @_recorded
    def baseline(self, population: str = "completers", lang: str = "en", **filters) -> pd.DataFrame:
        from .baseline import baseline
        return baseline(self, population, lang=lang, **filters)

    @_recorded
    def response_rates(self, endpoint: str, population: str = "completers", lang: str = "en",
                       **filters) -> pd.DataFrame:
        from .response import response_rates
        return response_rates(self, endpoint, population, lang=lang, **filters)

    @_recorded
    def compare_rates(self, endpoint: str, population: str = "completers", lang: str = "en",
                      **filters) -> pd.DataFrame:
        from .response import compare_rates
        return compare_rates(self, endpoint, population, lang=lang, **filters)

    @_recorded
    def disease_activity(self, population: str = "completers", lang: str = "en",
                         **filters) -> pd.DataFrame:
        from .disease_activity import disease_activity
        return disease_activity(self, population, lang=lang, **filters)

    @_recorded
    def transitions(self, population: str, from_timepoint: str, to_timepoint: str,
                    lang: str = "en", **filters) -> pd.DataFrame:
        from .transitions import transitions
        return transitions(self, population, from_timepoint, to_timepoint, lang=lang, **filters)

    @_recorded
    def flows(self, population: str, timepoints: list, lang: str = "en", **filters):
        from .transitions import flows
        return flows(self, population, timepoints, lang=lang, **filters)

    @_recorded
    def trajectories(self, measure: str, population: str = "completers", lang: str = "en",
                     **filters) -> pd.DataFrame:
        from .trajectories import trajectories
        return trajectories(self, measure, population, lang=lang, **filters)

    @_recorded
    def medications(self, population: str = "completers", lang: str = "en",
                    **filters) -> pd.DataFrame:
        from .medications import medications
        return medications(self, population, lang=lang, **filters)

    @_recorded
    def survival(self, endpoint: str, population: str = "completers", horizon_years=None,
                 lang: str = "en", **filters):
        from .survival import survival
        return survival(self, endpoint, population, horizon_years=horizon_years, lang=lang,
                        **filters)

    @_recorded
    def survival_estimates(self, endpoint: str, population: str = "completers",
                           horizon_years=None, **filters):
        from .survival import survival_estimates
        return survival_estimates(self, endpoint, population, horizon_years=horizon_years,
                                  **filters)

    @_recorded
    def hazard_ratio_estimate(self, endpoint: str, population: str = "completers",
                              horizon_years=None, **filters) -> pd.DataFrame:
        from .survival import hazard_ratio_estimate
        return hazard_ratio_estimate(self, endpoint, population, horizon_years=horizon_years,
                                     **filters)

    @_recorded
    def hazard_ratio(self, endpoint: str, population: str = "completers", horizon_years=None,
                     lang: str = "en", **filters) -> pd.DataFrame:
        from .survival import hazard_ratio
        return hazard_ratio(self, endpoint, population, horizon_years=horizon_years, lang=lang,
                            **filters)

    @_recorded
    def ae_summary(self, population: str = "safety", years=None, lang: str = "en", **filters):
        from .safety import ae_summary
        return ae_summary(self, population, years=years, lang=lang, **filters)

    @_recorded
    def ae_rates(self, by: str = "soc", serious_only: bool = False, years=None,
                 lang: str = "en", **filters):
        from .safety import ae_rates
        return ae_rates(self, by=by, serious_only=serious_only, years=years, lang=lang, **filters)

    @_recorded
    def sae_listing(self, years=None, lang: str = "en", **filters):
        from .safety import sae_listing
        return sae_listing(self, years=years, lang=lang, **filters)

    @_recorded
    def ae_rates_by_year(self, lang: str = "en", **filters):
        from .safety import ae_rates_by_year
        return ae_rates_by_year(self, lang=lang, **filters)

    @_recorded
    def patient_profile(self, subject_id: str, population: str = "completers",
                        lang: str = "en", **filters):
        from .profile import patient_profile
        return patient_profile(self, subject_id, population, lang=lang, **filters)

    @_recorded
    def clusters(self, population: str = "completers", lang: str = "en", *,
                 period: str = "course", n_clusters: int | None = None, **filters):
        from .clusters import clusters
        return clusters(self, population, lang=lang, period=period, n_clusters=n_clusters,
                        **filters)

    @_recorded
    def cluster_transitions(self, population: str = "completers", lang: str = "en", **filters):
        from .clusters import cluster_transitions
        return cluster_transitions(self, population, lang=lang, **filters)

    @_recorded
    def forest_response(self, endpoint: str, timepoint: str, population: str = "completers",
                        lang: str = "en", **filters):
        from .forest import forest_response
        return forest_response(self, endpoint, timepoint, population, lang=lang, **filters)

    @_recorded
    def forest_survival(self, endpoint: str, population: str = "completers",
                        horizon_years=None, lang: str = "en", **filters):
        from .forest import forest_survival
        return forest_survival(self, endpoint, population, horizon_years=horizon_years,
                               lang=lang, **filters)

    @_recorded
    def plan_response(self, endpoint: str, timepoint: str, population: str = "completers",
                      lang: str = "en", **options_and_filters):
        """Planner options (conservative, alpha, power, ratio) and filters as keywords."""
        from .planner import plan_response
        return plan_response(self, endpoint, timepoint, population, lang=lang,
                             **options_and_filters)

    @_recorded
    def plan_survival(self, endpoint: str, population: str = "completers", lang: str = "en",
                      **options_and_filters):
        """Planner options (horizon_years, accrual_years, follow_up_years, dropout_per_year,
        conservative, alpha, power, ratio) and filters as keywords."""
        from .planner import plan_survival
        return plan_survival(self, endpoint, population, lang=lang, **options_and_filters)

    @_recorded
    def ae_rate_trend(self, lang: str = "en", **filters):
        from .safety_trend import ae_rate_trend
        return ae_rate_trend(self, lang=lang, **filters)


def default_study_path() -> Path:
    return Path(os.environ.get(STUDY_ENV_VAR) or DEFAULT_STUDY_PATH)


def is_default_path(path: Path) -> bool:
    """True for the embedded study's own path, the only one that is built when missing."""
    return Path(path).resolve() == DEFAULT_STUDY_PATH.resolve()


def open_study(path: str | Path | None = None, keep_measures: bool = True) -> Study:
    """Open a study file read-only, verified (schema and content hash; see
    :mod:`analytics.integrity`) and confined to the file (no external access, no extensions).

    Parameters
    ----------
    path : str or Path, optional
        A DuckDB study file built by ``python -m analytics build``. ``None`` opens the file named
        by ``MSC_RA_STUDY``, else the embedded default (the synthetic cohort). Only the embedded
        default is built when missing (or rebuilt when it predates content hashes); any other
        missing or bad file raises :class:`~analytics.integrity.StudyFileError`.
    keep_measures : bool
        Compute the derived measures once, at open, into tables of the connection
        (:func:`analytics.measures.keep_measures`), rather than from the raw visits in every
        query. The results are the same (``tests/test_kept_results.py``); False is for checking
        that.
    """
    from .integrity import CATALOG, StudyFileError, open_verified

    path = Path(default_study_path() if path is None else path)
    if is_default_path(path) and not path.exists():
        from .build import build_default
        build_default(path)
    try:
        con, info = open_verified(path)
    except StudyFileError as exc:
        if not (is_default_path(path) and exc.code == "no_checksum"):
            raise
        from .build import build_default  # an embedded file from an older build: rebuild it
        build_default(path, force=True, unless_verified=True)
        con, info = open_verified(path)
    search_path = None
    if keep_measures:
        from .measures import keep_measures as keep
        try:
            search_path = keep(con, CATALOG)
        except BaseException:
            con.close()
            raise
    return Study(con, path, info, CATALOG, search_path)
