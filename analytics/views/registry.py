"""Every view of the dashboard, in menu order, and what is computed from a view's state.

Adding a view: write ``analytics/views/<view>.py`` with a ``VIEW`` (controls and a build
function), list the module in :data:`MODULES` and add its ``nav.<view>`` title (and any other
text) to the message catalogue. The app's menu, URL handling, "Add to report", the slide deck
and the tests all read this registry.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass

from ..annotate import comparison_label
from ..i18n import t
from ..scope import POPULATION, SUBGROUPS, TIMEPOINT, header_lines
from .base import Control, Expander, Item, View, Columns, Tabs
from .state import GLOBAL_CONTROLS, SUBGROUPS as SUBGROUP_KEYS, ViewState, resolve

MODULES = ("overview", "response_rates", "disease_activity", "trajectories", "medications",
           "survival",
           # from the arm to the next trial (issue 14): after the efficacy pages
           "clusters", "forest_plot", "trial_planner",
           "safety_overview", "ae_terms", "sae_listing",
           "patient_profile",
           "reconciliation")

VIEWS: dict[str, View] = {
    m: importlib.import_module(f"{__package__}.{m}").VIEW for m in MODULES}
assert list(VIEWS) == [v.key for v in VIEWS.values()], "module name = view key"

# The views of the default deck ("every view"), in menu order.
PAGE_KEYS: tuple[str, ...] = tuple(k for k, v in VIEWS.items() if v.in_deck)
SAFETY_PAGES = frozenset(k for k, v in VIEWS.items() if v.header == "safety")


def controls_of(view: str) -> tuple[Control, ...]:
    """The global filters, then the view's own controls: the order values are resolved in."""
    return GLOBAL_CONTROLS + VIEWS[view].controls


def view_for_path(path: str) -> View | None:
    """The view at a URL path ('' is the default page)."""
    path = path.strip("/")
    if not path:
        return next(iter(VIEWS.values()))
    return next((v for v in VIEWS.values() if v.path == path), None)


def page_title(key: str, lang: str) -> str:
    return t(f"nav.{key}", lang)


@dataclass
class ViewContext:
    """What a view's build function reads: the study and the state."""

    study: object
    state: ViewState

    @property
    def lang(self) -> str:
        return self.state.lang

    @property
    def population(self) -> str:
        return self.state.population

    @property
    def timepoint(self) -> str:
        return self.state.timepoint

    @property
    def filters(self) -> dict:
        return self.state.filters

    def t(self, key: str, **params) -> str:
        return t(key, self.lang, **params)

    def header_lines(self) -> tuple[str, str]:
        return header_lines_of(self.state, self.study)


def header_lines_of(state: ViewState, study) -> tuple[str, str]:
    """(the view in words, the sidebar choices this view does not apply): each view's header
    lists only the filters it applies, and the comparison (see :mod:`analytics.scope`)."""
    view = VIEWS[state.view]
    return header_lines(view.header, state.lang, state.population, state.timepoint,
                        state.subgroups, comparison_label(study, state.comparison, state.lang),
                        used=view.applied(state.values))


def blocks(study, state: ViewState) -> list:
    """The page of ``state`` as blocks, in page order."""
    return VIEWS[state.view].build(ViewContext(study, state))


def blocks_key(state: ViewState) -> tuple:
    """What the blocks of ``state`` depend on besides the study: the view, every value of its
    state but the global filters the view does not apply (:mod:`analytics.scope`; its header says
    so) and the open tab, and what the state replaced. Two states with the same key have the same
    blocks (``tests/test_kept_results.py``), so a view's blocks can be kept under it."""
    view = VIEWS[state.view]
    used = view.applied(state.values)
    ignored = {name for name in (POPULATION, TIMEPOINT) if name not in used}
    if SUBGROUPS not in used:
        ignored |= set(SUBGROUP_KEYS)
    if view.header == "whole":
        ignored.add("comparison")
    # the open tab: every section is in the blocks (built when first opened)
    if view.sections is not None:
        ignored.add(view.sections.key)

    def kept(values: dict) -> tuple:
        return tuple(sorted((k, repr(v)) for k, v in values.items() if k not in ignored))
    return state.view, kept(state.values), kept(state.defaults), kept(state.replaced)


def leaves(blocks_: list, details: bool = True, values: dict | None = None):
    """The blocks among ``blocks_`` that hold no others (figures and tables, notes, metrics,
    control slots), in page order: those in expanders only with ``details``; in tabs, every
    section's, or with a state's ``values`` the open section's only (what the page draws)."""
    for block in blocks_:
        if isinstance(block, Expander):
            if details:
                yield from leaves(block.blocks, True, values)
        elif isinstance(block, Columns):
            for column in block.columns:
                yield from leaves(column, details, values)
        elif isinstance(block, Tabs):
            sections = block.panes if values is None else [values[block.control]]
            for section in sections:
                yield from leaves(block.blocks(section), details, values)
        else:
            yield block


def items(blocks_: list, details: bool = True) -> list[Item]:
    """The figures and tables among ``blocks_`` in page order (``details``: with those in
    expanders, which are marked ``detail``), every tab's."""
    return [block for block in leaves(blocks_, details) if isinstance(block, Item)]


def state_items(study, state: ViewState, details: bool = False) -> list[Item]:
    """The figures and tables of one view in a given state; each item knows its state."""
    found = items(blocks(study, state), details)
    # as on the page's header: a slide names the choices its view does not apply
    _, not_applied = header_lines_of(state, study)
    for item in found:
        item.state = state
        if not_applied:
            item.caption = f"{not_applied} {item.caption}".strip()
    return found


def default_state(view: str, study, *, lang: str = "en", population: str = "completers",
                  timepoint: str = "Y1", filters: dict | None = None) -> ViewState:
    """``view`` at its defaults under the given global filters (analytics keyword names)."""
    given = {"lang": lang, "population": population, "timepoint": timepoint}
    given.update({k: str(v) for k, v in (filters or {}).items() if v is not None})
    return resolve(view, study, given, strict=True)


def page_items(study, key: str, *, lang: str = "en", population: str = "completers",
               timepoint: str = "Y1", filters: dict | None = None,
               details: bool = False) -> list[Item]:
    """The figures and tables of one page at its defaults, in page order."""
    if key not in VIEWS:
        raise KeyError(key)
    state = default_state(key, study, lang=lang, population=population, timepoint=timepoint,
                          filters=filters)
    return state_items(study, state, details)
