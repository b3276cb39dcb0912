"""Link (URL) values: a value the dashboard does not recognise is replaced by the default, and
the reader is told which value was ignored and what is shown instead."""
from __future__ import annotations

import streamlit as st

from analytics.i18n import t

_NOTICES = "_link_notices"  # session key: {param: (value given, value used)}, shown once

# URL parameter -> the catalogue's name of the filter (filter.<label>, filter.<label>.<value>)
PARAM_LABELS = {"lang": "lang", "pop": "population", "tp": "timepoint", "sex": "sex",
                "age": "age_band", "act": "baseline_activity", "bio": "prior_bdmard",
                "cmp": "comparison", "trial": "study_id", "study": "study"}
LANGUAGE_NAMES = {"en": "English", "zh": "中文"}


def checked(name: str, given: str | None, default: str, allowed) -> str:
    """``given`` when it is allowed, else ``default`` (noting the substitution for the reader)."""
    if given is None or given in allowed:
        return default if given is None else given
    st.session_state.setdefault(_NOTICES, {})[name] = (given, default)
    return default


def value_words(name: str, value: str, lang: str) -> str:
    """A filter value as the sidebar shows it."""
    if name == "lang":
        return LANGUAGE_NAMES[value]
    if name == "pop":
        return t(f"population.{value}", lang)
    if name == "tp":
        return t(f"visit.{value}", lang)
    if name == "cmp":  # URL values all / rand
        return t("comparison.all" if value == "all" else "filter.comparison", lang)
    if name == "study":  # an unknown study gives way to the default one
        return t("study.default", lang)
    if name == "trial":  # trial ids are shown as the study file names them
        return t("filter.study_id.all", lang) if value == "all" else value
    return t(f"filter.{PARAM_LABELS.get(name, name)}.{value}", lang)


def show_notices(lang: str) -> list[str]:
    """Say once which link values were not recognised and what was used instead."""
    shown = []
    for name, (given, used) in st.session_state.pop(_NOTICES, {}).items():
        label = PARAM_LABELS.get(name)
        filter_name = t(f"filter.{label}", lang) if label else name
        shown.append(t("link.unrecognised", lang, param=name, name=filter_name,
                       value=given[:40], used=value_words(name, used, lang)))
    if shown:
        st.warning("\n\n".join(shown), icon=":material/link:")
    return shown
