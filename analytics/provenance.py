"""Where a result comes from, in one line: the whole view that produced it.

Every export states the same facts in the same words, from the frame's ``attrs``: population,
comparison, subgroup filters, time point or safety window, N per arm, the study file (name and
build date) and the synthetic-data flag. The PNG/SVG caption (via :func:`analytics.annotate.
caption`), the CSV/XLSX header rows (:func:`header_rows`) and the slide source line
(:func:`source_line`) are all built here, so they cannot disagree.

The study facts travel in ``attrs["study"]`` (set by :func:`analytics.annotate.annotate` from
:func:`study_facts`), so a figure's caption can name the file without the study at hand.
"""
from __future__ import annotations

import datetime as _dt
import math
from pathlib import Path

from .i18n import has, study_names_arms, t
from .display import fmt_duration

SEPARATOR = " · "


# -- the study file ------------------------------------------------------------------------------
def _build_date(study) -> str:
    """The study file's build date (UTC, ``YYYY-MM-DD``): ``built_at`` from ``study_info`` when
    it is an ISO timestamp, else the file's modification time (the build writes the file once,
    atomically, so that is when it was built)."""
    info = getattr(study, "info", {}) or {}
    try:
        return _dt.datetime.fromisoformat(info.get("built_at", "")).date().isoformat()
    except ValueError:
        pass
    path = getattr(study, "path", None)
    try:
        mtime = Path(path).stat().st_mtime
    except (TypeError, OSError):
        return ""
    return _dt.datetime.fromtimestamp(mtime, _dt.timezone.utc).date().isoformat()


def study_facts(study) -> dict:
    """What a reader needs to find the data again: file name, study name, build date."""
    info = getattr(study, "info", {}) or {}
    path = getattr(study, "path", None)
    return {"file": Path(path).name if path else "", "name": info.get("name", ""),
            "built": _build_date(study)}


# -- the parts of a view -------------------------------------------------------------------------
def _filters(attrs: dict) -> dict:
    """The active subgroup filters of the frame. ``attrs["filters"]`` when the analysis set it;
    else the subgroup keywords of the recorded call (frames built through :class:`Study`)."""
    if "filters" in attrs:
        return dict(attrs["filters"] or {})
    from .population import SUBGROUP_FILTERS

    kwargs = (attrs.get("call") or {}).get("kwargs", {})
    return {k: v for k, v in kwargs.items() if k in SUBGROUP_FILTERS and v is not None}


def filter_label(name: str, value, lang: str) -> str:
    """One subgroup filter in words: the catalogue's label for a known value ('Female'), else
    the filter's name and the value as stored (e.g. a trial's registration number)."""
    key = f"filter.{name}.{value}"
    if has(key):
        return t(key, lang)
    label = t(f"filter.{name}", lang) if has(f"filter.{name}") else name
    return t("provenance.filter_value", lang, name=label, value=value)


def subgroups_text(attrs: dict, lang: str) -> str:
    filters = _filters(attrs)
    if not filters:
        return t("provenance.subgroups.none", lang)
    return ", ".join(filter_label(k, v, lang) for k, v in filters.items())


def comparison_text(attrs: dict, lang: str) -> str:
    if attrs.get("comparison_label"):
        return str(attrs["comparison_label"])
    if attrs.get("comparison", "all") == "all":
        return t("comparison.all", lang)
    return str(attrs["comparison"])


def _year(value: float) -> str:
    return f"{value:g}"


def when_text(attrs: dict, lang: str) -> str:
    """The time point (one visit), the safety window or the survival horizon the result is
    for; '' when none applies."""
    if attrs.get("timepoint"):
        return t(f"visit.{attrs['timepoint']}", lang)
    if attrs.get("horizon_years"):
        return t("provenance.horizon", lang, end=fmt_duration(float(attrs["horizon_years"]), lang))
    window = attrs.get("window")
    if window:
        start, end = (float(x) for x in window)
        if start == 0 and math.isinf(end):
            return t("provenance.window.all", lang)
        if math.isinf(end):
            return t("provenance.window.from", lang, start=_year(start))
        return t("provenance.window.range", lang, start=_year(start), end=_year(end))
    return ""


def n_text(attrs: dict, lang: str) -> str:
    n = attrs.get("n_per_arm", {})
    if study_names_arms():  # a study's own arm labels replace the catalogue's arm names
        return t("provenance.n_per_arm.named", lang, arms=t("common.list_separator", lang).join(
            f"{t(f'arm.{arm}', lang)} {n.get(arm, 0)}" for arm in ("MSC", "MSC_IFNG")))
    return t("provenance.n_per_arm", lang, msc=n.get("MSC", 0), ifng=n.get("MSC_IFNG", 0))


def study_text(attrs: dict, lang: str, study=None) -> str:
    facts = study_facts(study) if study is not None else attrs.get("study") or {}
    if not facts.get("file"):
        return ""
    if facts.get("built"):
        return t("provenance.study_file", lang, file=facts["file"], built=facts["built"])
    return facts["file"]


def source_parts(attrs: dict, lang: str | None = None, study=None, *,
                 synthetic: bool = True) -> list[tuple[str, str]]:
    """``(label key, text)`` per fact of the view, in reading order; empty facts left out."""
    lang = lang or attrs.get("lang", "en")
    parts = [
        ("provenance.label.population", attrs.get("population_label")
         or (t(f"population.{attrs['population']}", lang) if attrs.get("population") else "")),
        ("provenance.label.comparison", comparison_text(attrs, lang)),
        ("provenance.label.subgroups", subgroups_text(attrs, lang)),
        ("provenance.label.when", when_text(attrs, lang)),
        ("provenance.label.n_per_arm", n_text(attrs, lang)),
        ("provenance.label.study_file", study_text(attrs, lang, study)),
    ]
    if synthetic and attrs.get("synthetic"):
        parts.append(("provenance.label.data", t("synthetic.label", lang)))
    return [(key, text) for key, text in parts if text]


def source_line(attrs: dict, study=None, lang: str | None = None, *,
                synthetic: bool = True) -> str:
    """The view in one short line: 'Completers · all subjects, trials pooled · Female · Year 3 ·
    N: MSC 59, MSC + IFN-γ 24 · study.duckdb, built 2026-11-27 · Synthetic data'."""
    return SEPARATOR.join(text for _, text in source_parts(attrs, lang, study,
                                                            synthetic=synthetic))


def header_rows(attrs: dict, study=None, lang: str | None = None) -> list[tuple[str, str]]:
    """``(label, value)`` rows above an exported table: the title, each fact of the view, the
    method and the footnote, and the synthetic-data notice."""
    lang = lang or attrs.get("lang", "en")
    rows = [(t("provenance.label.title", lang), attrs.get("title", ""))]
    rows += [(t(key, lang), text) for key, text in source_parts(attrs, lang, study,
                                                                synthetic=False)]
    if attrs.get("method"):
        rows.append((t("provenance.label.method", lang), attrs["method"]))
    if attrs.get("footnote"):
        rows.append((t("provenance.label.footnote", lang), attrs["footnote"]))
    if attrs.get("synthetic"):
        rows.append((t("provenance.label.data", lang), t("synthetic.notice", lang)))
    return [(label, str(value)) for label, value in rows if value]
