"""The parts a view is described with, without Streamlit.

A view declares its **controls** (each with a state name, a URL name, allowed values, a default
and a label key) and a **build** function that, given the study and a state, returns the page as
a list of blocks: figures and tables (:class:`Item`), text (:class:`Note`), metric cells
(:class:`Metrics`), columns, expanders and the places where its controls are drawn
(:class:`ControlSlot`). The Streamlit renderer draws the blocks; the slide deck, the "Show code"
snippets and the tests read the same items from the same state.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable

import pandas as pd

from ..annotate import caption
from ..display import with_dashes
from ..i18n import t
from ..scope import KIND_FILTERS


@dataclass
class Item:
    """One figure or table of a view."""

    kind: str                      # "figure" | "table"
    title: str
    key: str                       # download and widget key of the figure or table
    caption: str = ""              # population, N, method, footnote, synthetic notice
    figure: object = None          # plotly Figure (kind == "figure")
    frame: pd.DataFrame | None = None    # the analytics result (kind == "table")
    display: pd.DataFrame | None = None  # what the page shows of it
    detail: bool = False           # shown in a collapsed expander on the page (not in the deck)
    extra: dict = field(default_factory=dict)
    attrs: dict = field(default_factory=dict)  # the result frame's attrs (figure: its source)
    state: Any = None              # the ViewState the item was built from
    source: pd.DataFrame | None = None   # figure: the frame it is drawn from ("Show code")
    # selection -> subject ids: the page lets the reader select points, lines, links or rows
    # and lists those subjects, each with a link to its profile (see :func:`subjects_of_rows`)
    subjects: Callable | None = None
    selection: tuple[str, ...] = ()      # figure: plotly selection modes (points, box, lasso)

    @property
    def shown(self) -> pd.DataFrame | None:
        return self.display if self.display is not None else self.frame


@dataclass
class Note:
    """Text on the page: ``style`` is subheader, markdown, caption, info, success or error."""

    style: str
    text: str


@dataclass
class Metrics:
    """Metric cells side by side: (label, value, help)."""

    cells: list[tuple[str, str, str | None]]
    stacked: bool = False          # one under another (else side by side)


@dataclass
class Columns:
    """Blocks in columns of relative ``widths``."""

    widths: list[float]
    columns: list[list]


@dataclass
class Expander:
    label: str
    blocks: list


@dataclass
class Tabs:
    """Sections of a page shown one at a time, as tabs; the view's control ``control`` (widget
    "tabs") holds the open one. ``panes`` maps each of the control's values to a function that
    returns that section's blocks. The screen builds and draws the open section only, so a
    filter change redraws its charts alone (issue 13); the deck, the report and "Show code"
    take every section (:func:`analytics.views.registry.items`)."""

    control: str
    panes: dict[str, Callable[[], list]]
    _built: dict = field(default_factory=dict, repr=False, compare=False)

    def blocks(self, value: str) -> list:
        """The blocks of section ``value``, built once (kept blocks are shared by sessions;
        two building the same section at once build the same blocks)."""
        if value not in self._built:
            self._built[value] = self.panes[value]()
        return self._built[value]


@dataclass
class ControlSlot:
    """Where the named controls are drawn, side by side in columns of ``widths``."""

    keys: tuple[str, ...]
    widths: tuple[float, ...] | None = None


# -- controls -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Control:
    """One choice of a view: its name in the state, in the URL and on the widget.

    ``options`` and ``default`` may be functions of ``(study, values)`` where ``values`` holds
    the choices made before this one (global filters first, then this view's controls in
    order), so a default can follow another choice.
    """

    key: str                       # name in the state (and in analytics terms)
    url: str                       # URL parameter
    label: str                     # catalogue key of the widget label
    # selectbox | radio | toggle | multiselect | window | number | tabs (drawn by a Tabs block)
    widget: str
    options: Any = None            # allowed values (selectbox, radio, multiselect, window)
    default: Any = None
    option_label: Callable[[Any, str], str] | None = None  # (value, lang) -> shown text
    widget_key: str | Callable[[dict], str] = ""  # Streamlit key (default: the view's key_url)
    help: str | None = None        # catalogue key
    help_args: Callable[[dict, str], dict] | None = None  # (values, lang) -> its placeholders
    horizontal: bool = False
    bounds: tuple[int, int, int] | None = None    # number: (min, max, step)
    url_names: dict | None = None  # value -> shorter URL text (e.g. survival -> km)
    # the values the widget lists, when fewer than the valid ones (e.g. the subjects of the
    # current selection, while a link may name any subject of the study)
    listed: Callable | None = None

    def listed_values(self, study, values: dict):
        return self.listed(study, values) if self.listed else self.allowed(study, values)

    def label_of(self, value, lang: str, study=None) -> str:
        """The shown text of ``value`` (some labels name what the study file holds)."""
        if self.option_label is None:
            return str(value)
        if self.option_label.__code__.co_argcount == 3:
            return self.option_label(value, lang, study)
        return self.option_label(value, lang)

    def allowed(self, study, values: dict):
        return self.options(study, values) if callable(self.options) else self.options

    def default_value(self, study, values: dict):
        return self.default(study, values) if callable(self.default) else self.default

    def widget_name(self, view_key: str, values: dict) -> str:
        if callable(self.widget_key):
            return self.widget_key(values)
        return self.widget_key or f"{view_key}_{self.key}"

    def valid(self, value, study, values: dict) -> bool:
        if self.widget == "toggle":
            return isinstance(value, bool)
        if self.widget == "number":
            lo, hi, _ = self.bounds
            return isinstance(value, int) and not isinstance(value, bool) and lo <= value <= hi
        allowed = tuple(self.allowed(study, values))
        if self.widget == "multiselect":
            return (isinstance(value, (list, tuple)) and len(set(value)) == len(value)
                    and all(v in allowed for v in value))
        if self.widget == "window":
            return (isinstance(value, (list, tuple)) and len(value) == 2
                    and all(v in allowed for v in value) and value[0] <= value[1])
        return value in allowed

    # URL text <-> value; decode returns None for text that is not a valid value
    def encode(self, value) -> str:
        if self.url_names and value in self.url_names:
            return self.url_names[value]
        if self.widget == "toggle":
            return "1" if value else "0"
        if self.widget == "multiselect":
            return ",".join(map(str, value))
        if self.widget == "window":
            return f"{value[0]}-{value[1]}"
        return str(value)

    def decode(self, text: str, study, values: dict):
        aliases = {v: k for k, v in (self.url_names or {}).items()}
        text = aliases.get(text, text)
        try:
            if self.widget == "toggle":
                value = {"1": True, "0": False}[text]
            elif self.widget == "number":
                value = int(text)
            elif self.widget == "multiselect":
                value = [v for v in text.split(",") if v] if text else []
            elif self.widget == "window":
                start, end = text.split("-")
                value = (int(start), int(end))
            else:
                value = text
        except (KeyError, ValueError):
            return None
        return value if self.valid(value, study, values) else None

    def normal(self, value):
        """The value as the state holds it (lists as lists, windows as tuples)."""
        if self.widget == "multiselect":
            return list(value)
        if self.widget == "window":
            return tuple(value)
        return value


@dataclass(frozen=True)
class View:
    """One page of the dashboard, described once."""

    key: str                       # registry key (deck --pages, message keys nav.<key>)
    path: str                      # URL path of the page
    controls: tuple[Control, ...]
    build: Callable                # (ViewContext) -> list of blocks
    header: str = "efficacy"       # efficacy | safety | overview | whole: the kind of header
    in_deck: bool = True           # part of the default deck ("every view")
    doc: str = ""
    # (state values) -> the global filters the view follows in that state, when its own choices
    # narrow those of its kind (analytics.scope.KIND_FILTERS)
    applies: Callable[[dict], tuple[str, ...]] | None = None

    @property
    def title_key(self) -> str:
        return f"nav.{self.key}"

    def control(self, key: str) -> Control:
        return next(c for c in self.controls if c.key == key)

    @property
    def sections(self) -> Control | None:
        """The control holding the open tab (:func:`sections_control`), if the view has tabs."""
        return next((c for c in self.controls if c.widget == "tabs"), None)

    def applied(self, values: dict) -> tuple[str, ...]:
        """The global filters (analytics.scope names) this view follows in the state ``values``."""
        return self.applies(values) if self.applies else KIND_FILTERS[self.header]


# -- helpers the view modules share ---------------------------------------------------------------
def sections_control(view_key: str, sections: dict[str, str]) -> Control:
    """The control of a page's tabs (a :class:`Tabs` block named ``"section"``): ``sections``
    maps each section, in tab order, to the catalogue key of its name; the first is open by
    default. Its value is in the address as ``sec``."""
    return Control("section", "sec", "view.section", "tabs", tuple(sections), next(iter(sections)),
                   lambda value, lang: t(sections[value], lang), f"{view_key}_section")


def plain(text: str) -> str:
    """Plotly's title markup (``<br>``, ``<sup>``, ``<b>``) as plain text."""
    text = re.sub(r"<br\s*/?>", " — ", text or "")
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", text)).strip(" —")


def figure(fig, key: str, source: pd.DataFrame, state=None, subjects: Callable | None = None,
           selection: tuple[str, ...] = ("points", "box", "lasso")) -> Item:
    """A figure item drawn from the result frame ``source``; ``subjects`` maps a selection
    event of the figure to subject ids (the page then lists them)."""
    attrs = dict(source.attrs)
    title = plain(fig.layout.title.text or attrs.get("title", ""))
    return Item("figure", title, key, caption(attrs), figure=fig, attrs=attrs, state=state,
                source=source, subjects=subjects, selection=selection if subjects else ())


def subjects_of_rows(frame: pd.DataFrame, shown: pd.DataFrame,
                     row_subjects: Callable | None = None) -> Callable:
    """Selection event of a table -> subject ids: the selected rows of ``shown`` (positions)
    looked up in ``frame`` by index label; ``row_subjects(row)`` names a row's subjects
    (default: its ``subject_id``)."""
    def ids(event) -> list[str]:
        rows = ((event or {}).get("selection") or {}).get("rows") or []
        found: list[str] = []
        for position in rows:
            row = frame.loc[shown.index[position]]
            found += row_subjects(row) if row_subjects else [str(row["subject_id"])]
        return list(dict.fromkeys(found))
    return ids


def table(df: pd.DataFrame, key: str, display: pd.DataFrame | None = None,
          detail: bool = False, state=None, ongoing: tuple[str, ...] = (),
          row_subjects: Callable | None = None) -> Item:
    """A table item; what it shows reads "–" where a value is missing (``ongoing``: columns
    where a missing end means it has not ended). Its rows are selectable, leading to the
    subjects' profiles, when the frame has a ``subject_id`` column or ``row_subjects(row)``
    names a row's subjects."""
    shown = with_dashes(df if display is None else display, df.attrs.get("lang", "en"), ongoing)
    subjects = (subjects_of_rows(df, shown, row_subjects)
                if row_subjects or "subject_id" in df.columns else None)
    return Item("table", df.attrs.get("title", ""), key, caption(df.attrs), frame=df,
                display=shown, detail=detail, attrs=dict(df.attrs), state=state,
                subjects=subjects)


def visit_label(value: str, lang: str) -> str:
    return t(f"visit.{value}", lang)
