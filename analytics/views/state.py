"""The state of a view as a value: the global filters plus the view's own choices.

A state has one text form, the page's address as in the browser's address bar:
``survival?ep=ACR70&scale=km&pop=nri&sex=F`` (path, then only the values that differ from their
defaults). :func:`parse_address` and :meth:`ViewState.address` are inverse to each other; the
app, the ``deck --view`` command line and the report basket all use them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urlsplit

from ..annotate import comparison_label, filter_labels
from ..i18n import LANGUAGES, t
from ..population import AGE_BANDS, BASELINE_ACTIVITIES, SEXES, trial_ids
from ..response import EFFICACY_POPULATIONS
from ..schema import POST_BASELINE_VISITS
from .base import Control, View, visit_label

ALL = "all"


def _filter_label(name: str):
    return lambda v, lang: t(f"filter.{name}.{v}", lang)


# The sidebar's filters, in order. Their URL names are short so shared links stay readable; the
# widget keys (w_<url>) and the canonical session keys (filter_<url>) are the dashboard's.
GLOBAL_CONTROLS: tuple[Control, ...] = (
    Control("lang", "lang", "filter.lang", "radio", LANGUAGES, "en",
            lambda v, lang: {"en": "English", "zh": "中文"}[v], "w_lang", horizontal=True),
    Control("population", "pop", "filter.population", "radio", EFFICACY_POPULATIONS,
            "completers", lambda v, lang: t(f"population.{v}", lang), "w_pop",
            help="filter.population.help"),
    Control("timepoint", "tp", "filter.timepoint", "selectbox", POST_BASELINE_VISITS, "Y1",
            visit_label, "w_tp"),
    Control("sex", "sex", "filter.sex", "selectbox", (ALL, *SEXES), ALL, _filter_label("sex"),
            "w_sex"),
    Control("age_band", "age", "filter.age_band", "selectbox", (ALL, *AGE_BANDS), ALL,
            _filter_label("age_band"), "w_age"),
    Control("baseline_activity", "act", "filter.baseline_activity", "selectbox",
            (ALL, *BASELINE_ACTIVITIES), ALL, _filter_label("baseline_activity"), "w_act"),
    Control("prior_bdmard", "bio", "filter.prior_bdmard", "selectbox", (ALL, "0", "1"), ALL,
            _filter_label("prior_bdmard"), "w_bio"),
    # the trial design: which trial (read from the study file) and which comparison
    Control("study_id", "trial", "filter.study_id", "selectbox",
            lambda study, v: (ALL, *trial_ids(study)), ALL,
            lambda v, lang: (t("filter.study_id.all", lang) if v == ALL
                             else filter_labels({"study_id": v}, lang)[0]), "w_trial"),
    Control("comparison", "cmp", "filter.comparison", "radio", ("all", "rand"), "all",
            lambda v, lang, study: comparison_label(study, COMPARISON_ARG[v], lang), "w_cmp",
            help="filter.comparison.help"),
)
COMPARISON_ARG = {"all": "all", "rand": "randomised"}  # URL value -> analytics keyword
# global subgroup controls -> analytics keyword argument converters
SUBGROUPS: dict[str, type] = {"sex": str, "age_band": str, "baseline_activity": str,
                              "prior_bdmard": int, "study_id": str}
GLOBAL_KEYS = tuple(c.key for c in GLOBAL_CONTROLS)
# The dashboard's choice of study file (``study=<slug>``): part of an address, not of a view's
# state (whoever opens the address opens the study), so it is accepted and left aside here.
STUDY_URL_NAME = "study"


class AddressError(ValueError):
    """A view address that names no view, or a parameter or value it does not take."""


@dataclass(frozen=True)
class ViewState:
    """A view and every choice on it (global filters included), defaults filled in."""

    view: str
    values: dict
    defaults: dict = field(default_factory=dict, compare=False)
    # choices asked for that the view could not take (key -> value asked), so it can say so
    replaced: dict = field(default_factory=dict, compare=False)

    def __getitem__(self, key):
        return self.values[key]

    @property
    def lang(self) -> str:
        return self.values["lang"]

    @property
    def population(self) -> str:
        return self.values["population"]

    @property
    def timepoint(self) -> str:
        return self.values["timepoint"]

    @property
    def subgroups(self) -> dict:
        """The active subgroup filters as analytics keyword arguments."""
        return {k: conv(self.values[k]) for k, conv in SUBGROUPS.items()
                if self.values.get(k, ALL) != ALL}

    @property
    def comparison(self) -> str:
        """The comparison as analytics names it: all | randomised."""
        return COMPARISON_ARG[self.values.get("comparison", "all")]

    @property
    def filters(self) -> dict:
        """Subgroup filters and the comparison as analytics keyword arguments."""
        extra = {"comparison": self.comparison} if self.comparison != "all" else {}
        return {**self.subgroups, **extra}

    def query(self) -> dict[str, str]:
        """URL parameters of the values that differ from their defaults, in control order."""
        from .registry import controls_of
        return {c.url: c.encode(self.values[c.key]) for c in controls_of(self.view)
                if self.values[c.key] != self.defaults.get(c.key)}

    def address(self) -> str:
        """``path?query``, as in the browser's address bar (the first view is the app's default
        page, served at the root: its path is empty)."""
        from .registry import VIEWS
        query = urlencode(self.query())
        path = "" if self.view == next(iter(VIEWS)) else VIEWS[self.view].path
        return f"{path}?{query}" if query else path

    def with_values(self, study, **changes) -> "ViewState":
        return resolve(self.view, study, {**self.values, **changes})


def resolve(view: str | View, study, given: dict | None = None, *,
            strict: bool = False) -> ViewState:
    """The full state of ``view`` from the values ``given`` (by state key); a missing or invalid
    value takes its default (``strict``: an invalid value raises :class:`AddressError`)."""
    from .registry import VIEWS, controls_of
    key = view if isinstance(view, str) else view.key
    if key not in VIEWS:
        raise AddressError(key)
    given = dict(given or {})
    values, defaults = {}, {}
    for control in controls_of(key):
        default = control.default_value(study, values)
        defaults[control.key] = control.normal(default)
        value = given.get(control.key, default)
        if not control.valid(value, study, values):
            if strict:
                raise AddressError(f"{control.url}={value!r}")
            value = default
        values[control.key] = control.normal(value)
    return ViewState(key, values, defaults)


def from_query(view: str, study, query: dict[str, str], *, strict: bool = False,
               lang: str = "en") -> ViewState:
    """The state a URL's parameters describe (unknown or invalid ones: defaults, or
    :class:`AddressError` when ``strict``)."""
    from .registry import controls_of
    controls = controls_of(view)
    known = {c.url for c in controls} | {STUDY_URL_NAME}
    unknown = [name for name in query if name not in known]
    if strict and unknown:
        raise AddressError(t("view.address.unknown_parameter", lang, name=unknown[0],
                             known=", ".join(sorted(known))))
    values: dict = {}
    for control in controls:
        text = query.get(control.url)
        value = None if text is None else control.decode(text, study, values)
        if value is None and text is not None and strict:
            raise AddressError(t("view.address.bad_value", lang, name=control.url, value=text))
        # later choices' options and defaults may depend on this one
        values[control.key] = control.default_value(study, values) if value is None else value
    return resolve(view, study, values, strict=strict)


def parse_address(address: str, study, *, strict: bool = True, lang: str = "en") -> ViewState:
    """``survival?ep=ACR70&pop=nri`` (or a full URL) -> the state; :class:`AddressError` names
    what is wrong."""
    from .registry import view_for_path, VIEWS
    parts = urlsplit(address.strip())
    path = parts.path.strip("/").rsplit("/", 1)[-1]
    view = view_for_path(path)
    if view is None:
        raise AddressError(t("view.address.unknown_path", lang, path=path or "/",
                             paths=", ".join(v.path for v in VIEWS.values())))
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    return from_query(view.key, study, query, strict=strict, lang=lang)
