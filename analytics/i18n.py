"""The message catalogue: every user-visible string, in English and Chinese, looked up by key.

Messages live in ``analytics/messages/*.toml``, one file per area of the dashboard, each entry a
table with ``en`` and ``zh``::

    ["disposition.title"]
    en = "Subject disposition"
    zh = "受试者分布"

Placeholders use ``str.format`` syntax and are filled from keyword arguments.
"""
from __future__ import annotations

import tomllib
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path

LANGUAGES: tuple[str, ...] = ("en", "zh")
DEFAULT_LANGUAGE = "en"
MESSAGES_DIR = Path(__file__).with_name("messages")


@lru_cache(maxsize=1)
def catalogue() -> dict[str, dict[str, str]]:
    """All messages, ``{key: {"en": ..., "zh": ...}}``; a key defined twice is an error."""
    merged: dict[str, dict[str, str]] = {}
    for path in sorted(MESSAGES_DIR.glob("*.toml")):
        with path.open("rb") as fh:
            for key, entry in tomllib.load(fh).items():
                if key in merged:
                    raise ValueError(f"message key {key!r} defined twice (again in {path.name})")
                merged[key] = entry
    return merged


# The arms keep the contract's codes; a study file may name them for display (``study_info``
# ``arm_label.<arm>.<lang>``, from study.json or the mapping). Those names replace the
# catalogue's ``arm.<arm>`` while the study's analyses, pages and slides are made, so that every
# label (legends, tables, slides) says them without each caller passing the study along.
_ARM_LABELS: ContextVar[dict[str, str]] = ContextVar("study_arm_labels", default={})


def arm_labels_of(info: dict[str, str]) -> dict[str, str]:
    """``{"arm.MSC.en": "Group A", ...}`` from a study's ``study_info``."""
    return {f"arm.{key[len('arm_label.'):]}": text for key, text in (info or {}).items()
            if key.startswith("arm_label.") and str(text).strip()}


def use_study_labels(info: dict[str, str]) -> None:
    """Use the arm labels of ``info`` for the rest of this thread's run (a page's run)."""
    _ARM_LABELS.set(arm_labels_of(info))


def study_names_arms() -> bool:
    """True while a study's own arm labels are in use."""
    return bool(_ARM_LABELS.get())


@contextmanager
def study_labels(info: dict[str, str]):
    """Use the arm labels of ``info`` within the block (an analysis, a deck)."""
    token = _ARM_LABELS.set(arm_labels_of(info))
    try:
        yield
    finally:
        _ARM_LABELS.reset(token)


def t(key: str, lang: str = DEFAULT_LANGUAGE, /, **params) -> str:
    """The message ``key`` in ``lang``, with ``params`` filled in."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; expected one of {LANGUAGES}")
    if key.startswith("arm."):
        label = _ARM_LABELS.get().get(f"{key}.{lang}")
        if label is not None:
            return label
    try:
        text = catalogue()[key][lang]
    except KeyError:
        raise KeyError(f"message {key!r} has no {lang!r} text in analytics/messages") from None
    return text.format(**params) if params else text


def has(key: str) -> bool:
    return key in catalogue()


# Operating-system errors a reader may meet (the data folder refusing, the disk full), said in
# the reader's language: the system's own text (``strerror``) is English only.
OS_ERRORS = ("EACCES", "EPERM", "ENOSPC", "EDQUOT", "EROFS", "ENOENT", "EBUSY", "EIO",
             "ENAMETOOLONG")


def os_reason(exc: OSError, lang: str = DEFAULT_LANGUAGE) -> str:
    """Why ``exc`` happened, in ``lang``: the catalogue's words for the common causes, else
    "system error" and the error's code name (``EXDEV``), which an administrator can look up."""
    import errno
    name = errno.errorcode.get(exc.errno, "") if isinstance(exc.errno, int) else ""
    if name in OS_ERRORS:
        return t(f"os_error.{name}", lang)
    return t("os_error.other", lang, code=name or type(exc).__name__)


def fmt_number(value: float, decimals: int = 1, lang: str = DEFAULT_LANGUAGE) -> str:
    """A number formatted for display; both languages use Western digits and a point."""
    if value is None or value != value:  # None or NaN
        return t("common.missing_value", lang)
    return f"{value:,.{decimals}f}"


def fmt_p(p: float, lang: str = DEFAULT_LANGUAGE) -> str:
    """A p-value as journals print it: '< 0.001', '> 0.999' or three decimals."""
    if p is None or p != p:
        return t("common.missing_value", lang)
    if p < 0.001:
        return "< 0.001"
    if p > 0.999:
        return "> 0.999"
    return f"{p:.3f}"


# -- coded terms: MedDRA terms, drug names, AE outcomes ------------------------------------------
# These are data, in English as coded. The catalogue carries Chinese for the terms of the
# synthetic cohort; a term it does not know (a real study may code others) is shown as coded.
TERM_PREFIXES: dict[str, str] = {
    "soc": "meddra.soc",      # MedDRA system organ class
    "pt": "meddra.pt",        # MedDRA preferred term
    "drug": "drug",           # drug name (INN)
    "outcome": "ae.outcome",  # adverse-event outcome
}


def term_slug(value: str) -> str:
    """The key part of a coded term: lower case, runs of other characters as one '_'."""
    return "_".join(part for part in "".join(
        c if c.isascii() and c.isalnum() else " " for c in str(value).lower()).split())


def term_key(kind: str, value: str) -> str:
    """The catalogue key of a coded term, e.g. ``term_key('pt', 'Back pain')`` →
    ``'meddra.pt.back_pain'``."""
    if kind not in TERM_PREFIXES:
        raise ValueError(f"unknown term kind {kind!r}; expected one of {tuple(TERM_PREFIXES)}")
    return f"{TERM_PREFIXES[kind]}.{term_slug(value)}"


def term(kind: str, value, lang: str = DEFAULT_LANGUAGE) -> str:
    """A coded term (``kind`` = soc, pt, drug or outcome) in ``lang``; the value as coded when the
    catalogue has no translation (or ``lang`` is English). Missing values pass through."""
    if value is None or not isinstance(value, str) or not value:
        return value
    key = term_key(kind, value)
    if lang != DEFAULT_LANGUAGE and key in catalogue():
        return t(key, lang)
    return value


def fmt_percent(value: float, decimals: int = 1, lang: str = DEFAULT_LANGUAGE) -> str:
    """A percentage (0–100) for display: '12.5 %' in English (a space before the sign, as the
    English tables write it), '12.5%' in Chinese (no space, as Chinese typesetting writes it)."""
    if value is None or value != value:
        return t("common.missing_value", lang)
    return t("common.percent", lang, value=fmt_number(value, decimals, lang))
