"""The study connection the app shares, and its analyses memoised per arguments."""
from __future__ import annotations

import streamlit as st

from analytics import Study, open_study


@st.cache_resource(show_spinner=False)
def get_study() -> Study:
    return open_study()


@st.cache_data(show_spinner=False, max_entries=2000)
def _cached_result(path: str, mtime: float, method: str, args: tuple, kwargs: tuple):
    # path and mtime key the cache to the study file as built; a rebuilt file misses it
    return getattr(get_study(), method)(*args, **dict(kwargs))


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
        path = self._study.path

        def call(*args, **kwargs):
            # keyword order kept: the recorded call ("Show code") reads as the view wrote it
            return _cached_result(str(path), path.stat().st_mtime, name, args,
                                  tuple(kwargs.items()))
        return call
