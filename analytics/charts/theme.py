"""One look for every figure: arm colours (Okabe–Ito, readable with colour-vision deficiency),
fonts that carry Chinese, and the footnote under the plot."""
from __future__ import annotations

import copy
import functools
import json
import os

from _plotly_utils.utils import is_homogeneous_array, is_skipped_key, to_typed_array_spec
import plotly.graph_objects as go
import plotly.io as pio
from plotly.colors import get_colorscale

from ..annotate import bare, caption  # noqa: F401  (bare: the charts' look-ups)
from ..i18n import t

# Blue and orange from the Okabe–Ito palette: distinct under protan, deutan and tritan vision.
ARM_COLORS = {"MSC": "#0072B2", "MSC_IFNG": "#E69F00"}
ARM_DASH = {"MSC": "solid", "MSC_IFNG": "dash"}  # a second cue besides colour
ARM_SYMBOLS = {"MSC": "circle", "MSC_IFNG": "diamond"}
CATEGORY_COLORS = {  # disease activity, ordered from best to worst
    "remission": "#009E73", "low": "#56B4E9", "moderate": "#F0E442", "high": "#D55E00",
    "withdrawn": "#999999", "missing": "#D9D9D9", "ended": "#EFE6D2",
}
# Counts in a heatmap. Spelled out, as plotly's validation spells a named scale ("Blues"): an
# unvalidated figure keeps what it is given.
COUNT_COLORSCALE = get_colorscale("Blues")
FONT_FAMILY = "Noto Sans CJK SC, Noto Sans SC, Source Han Sans SC, Microsoft YaHei, Arial, sans-serif"

# The figures' template, registered once and made plotly's default: a new figure takes it when it
# is created, without the validation and deep copy that setting a template on a figure costs
# (about 25 ms a figure, most of the time a page took to build its charts).
TEMPLATE = "msc_ra"
pio.templates[TEMPLATE] = pio.templates["plotly_white"]
pio.templates.default = TEMPLATE


# -- figures as plain dicts ----------------------------------------------------------------------
# plotly validates and copies on every add_trace / update_layout call, which cost most of a
# page's re-run; a chart is instead built as dicts (FigureSpec, the same calls) and made into one
# go.Figure at the end without validation. Tests set MSC_RA_VALIDATE_FIGURES=1: every figure is
# then also built with plotly's validation and must serialise to the same JSON.
VALIDATE_FIGURES = os.environ.get("MSC_RA_VALIDATE_FIGURES") == "1"
_REAL_UNDERSCORE = {"error_x", "error_y"}   # properties whose names hold "_"


def _expand(props: dict) -> dict:
    """plotly's "magic underscore" (``title_text`` = ``title.text``) as nested dicts."""
    out: dict = {}
    for key, value in props.items():
        if isinstance(value, dict):
            value = _expand(value)
        head, _, rest = key.partition("_")
        if rest and key not in _REAL_UNDERSCORE and not any(
                key.startswith(f"{real}_") for real in _REAL_UNDERSCORE):
            _merge(out, {head: _expand({rest: value})})
        else:
            _merge(out, {key: value})
    return out


def _merge(into: dict, update: dict) -> dict:
    # update_layout's rule: a dict merges into a dict, anything else replaces
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = copy.copy(value) if isinstance(value, dict) else value
    return into


class FigureSpec:
    """A figure as plain dicts, built with go.Figure's calls (``add_trace``, ``update_layout``,
    ``update_xaxes``, ``add_annotation``, ``add_hline``, …; traces are dicts with a ``type``) and
    made into a go.Figure once, by :func:`finish` or :func:`figure`. :func:`subplots` makes one
    laid out as ``make_subplots`` does."""

    def __init__(self, layout: dict | None = None, grid: dict | None = None):
        self.data: list[dict] = []
        self.layout: dict = layout if layout is not None else {}
        self._grid = grid or {}   # (row, col) -> (trace axis refs, layout axis keys)

    def add_trace(self, trace: dict, row: int | None = None, col: int | None = None):
        trace = _expand(trace)
        if row is not None:
            refs, _ = self._grid[(row, col or 1)]
            trace.update(refs)
        self.data.append(trace)
        return self

    def update_layout(self, **props):
        _merge(self.layout, _expand(props))
        return self

    def _axes(self, letter: str, row, col) -> list[str]:
        if row is not None or col is not None:
            return [keys[0 if letter == "x" else 1] for (r, c), (_, keys) in self._grid.items()
                    if (row is None or r == row) and (col is None or c == col)]
        found = sorted(k for k in self.layout if k.startswith(f"{letter}axis"))
        return found or [f"{letter}axis"]

    def update_xaxes(self, row: int | None = None, col: int | None = None, **props):
        for key in self._axes("x", row, col):
            _merge(self.layout.setdefault(key, {}), _expand(props))
        return self

    def update_yaxes(self, row: int | None = None, col: int | None = None, **props):
        for key in self._axes("y", row, col):
            _merge(self.layout.setdefault(key, {}), _expand(props))
        return self

    def add_annotation(self, **props):
        self.layout.setdefault("annotations", []).append(_expand(props))
        return self

    def update_annotations(self, **props):
        for annotation in self.layout.get("annotations", []):
            _merge(annotation, _expand(props))
        return self

    def add_shape(self, **props):
        self.layout.setdefault("shapes", []).append(_expand(props))
        return self

    def _refs(self, row, col) -> tuple[str, str]:
        if row is None:
            return "x", "y"
        refs, _ = self._grid[(row, col or 1)]
        return refs["xaxis"], refs["yaxis"]

    def _spanning(self, kind: str, shape: dict, row, col, props: dict):
        # as go.Figure.add_hline / add_vline: the line spans the plot's domain in one direction;
        # ``annotation_*`` arguments label it, placed by plotly's own rule
        from plotly import shapeannotation
        line_props, label_props = shapeannotation.split_dict_by_key_prefix(props, "annotation_")
        label = shapeannotation.axis_spanning_shape_annotation(None, kind, shape, label_props)
        xref, yref = self._refs(row, col)
        refs = ({"xref": xref, "yref": f"{yref} domain"} if kind == "vline"
                else {"xref": f"{xref} domain", "yref": yref})
        self.add_shape(**_merge(_expand(line_props), {**shape, **refs}))
        if label is not None:
            self.add_annotation(**_merge(_expand(label), refs))
        return self

    def add_hline(self, y, row: int | None = None, col: int | None = None, **props):
        return self._spanning("hline", {"type": "line", "x0": 0, "x1": 1, "y0": y, "y1": y},
                              row, col, props)

    def add_vline(self, x, row: int | None = None, col: int | None = None, **props):
        return self._spanning("vline", {"type": "line", "x0": x, "x1": x, "y0": 0, "y1": 1},
                              row, col, props)


def _frozen(value):
    return tuple(_frozen(v) for v in value) if isinstance(value, (list, tuple)) else value


@functools.lru_cache(maxsize=256)
def _subplot_grid(args: tuple) -> tuple[str, dict]:
    from plotly.subplots import make_subplots
    kwargs = {k: list(v) if isinstance(v, tuple) else v for k, v in args}
    laid_out = make_subplots(**kwargs)
    layout = laid_out.layout.to_plotly_json()
    layout.pop("template", None)   # a figure takes TEMPLATE when it is made
    grid = {(r + 1, c + 1): (dict(refs[0].trace_kwargs), refs[0].layout_keys)
            for r, cells in enumerate(laid_out._grid_ref)
            for c, refs in enumerate(cells) if refs}
    return json.dumps(layout), grid


def subplots(**make_subplots_args) -> FigureSpec:
    """A FigureSpec laid out as ``plotly.subplots.make_subplots(**args)`` (its layout computed
    once per arguments: make_subplots costs more than the rest of a chart)."""
    layout, grid = _subplot_grid(tuple(sorted((k, _frozen(v))
                                              for k, v in make_subplots_args.items())))
    return FigureSpec(json.loads(layout), grid)


def figure(spec: FigureSpec | go.Figure) -> go.Figure:
    """The go.Figure of ``spec``, built without plotly's validation (see VALIDATE_FIGURES)."""
    if isinstance(spec, go.Figure):
        return spec
    plain = {"data": spec.data, "layout": spec.layout}
    fig = go.Figure(plain, _validate=False)
    if VALIDATE_FIGURES:
        checked = go.Figure(plain)   # raises on a property plotly does not know
        if json.loads(checked.to_json()) != json.loads(fig.to_json()):
            raise ValueError("a figure built without validation differs from the validated "
                             f"one: {fig.layout.title.text!r}")
    return fig


def _plain(value):
    # what convert_to_base64 does to a deep copy, building the copy only where it converts
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if is_skipped_key(key):
                out[key] = item
            elif is_homogeneous_array(item):
                out[key] = to_typed_array_spec(item)
            else:
                out[key] = _plain(item) if isinstance(item, (dict, list, tuple)) else item
        return out
    if isinstance(value, list):
        return [_plain(item) if isinstance(item, (dict, list, tuple)) else item for item in value]
    return tuple(_plain(item) if isinstance(item, (dict, list, tuple)) else item
                 for item in value)


def plain_dict(fig: go.Figure) -> dict:
    """``fig.to_dict()`` (data, layout and frames, numeric arrays as plotly.js typed arrays)
    without its deep copy of the whole figure, template included: the same dict, built in a
    third of the time (a page draws every figure on each run). Shares the figure's unconverted
    values: read it, do not change it."""
    out = {"data": _plain(fig._data), "layout": _plain(fig._layout)}
    frames = [_plain(frame._props) for frame in fig._frame_objs]
    if frames:
        out["frames"] = frames
    if VALIDATE_FIGURES and pio.to_json(out, validate=False) != pio.to_json(fig.to_dict(),
                                                                          validate=False):
        raise ValueError(f"plain_dict differs from to_dict: {fig.layout.title.text!r}")
    return out


def arm_label(arm: str, lang: str) -> str:
    return t(f"arm.{arm}", lang)


def finish(fig: FigureSpec | go.Figure, attrs: dict, *, title: str | None = None,
           height: int = 480, wrap: int = 110, layout: dict | None = None) -> go.Figure:
    """Title, fonts, white background (the :data:`TEMPLATE` every figure is created with) and
    the caption (population, N, method) under the plot.

    ``wrap`` is the caption's line width in Latin characters (a CJK character counts two); use
    a smaller one for a figure drawn in a narrow column. ``layout``: the figure's own layout
    over the theme's (a legend or margins elsewhere), set before the go.Figure is made rather
    than by a validated update of it. Returns the go.Figure (a :class:`FigureSpec` is made into
    one here).
    """
    spec = finish_spec(fig, attrs, title=title, height=height, wrap=wrap)
    if layout:
        spec.update_layout(**layout)
    return figure(spec)


def finish_spec(fig: FigureSpec | go.Figure, attrs: dict, *, title: str | None = None,
                height: int = 480, wrap: int = 110) -> FigureSpec | go.Figure:
    """:func:`finish` without making the go.Figure: for a chart that adjusts the finished
    layout (the caption is the last annotation) before :func:`figure` makes it."""
    text = wrap_lines(caption(attrs), wrap)
    n_lines = text.count("<br>") + 1
    fig.update_layout(
        title=dict(text=title or attrs.get("title", ""), x=0.01, xanchor="left"),
        font=dict(family=FONT_FAMILY, size=14),
        height=height,
        margin=dict(l=70, r=30, t=70, b=70 + 16 * n_lines),
        legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1),
    )
    fig.add_annotation(text=text, xref="paper", yref="paper", x=0, y=0,
                       yshift=-60, xanchor="left", yanchor="top", showarrow=False,
                       align="left", font=dict(size=11, color="#444"))
    return fig


def _char_width(ch: str) -> int:
    return 2 if ord(ch) > 0x2E80 else 1


def _width(text: str) -> int:
    return sum(map(_char_width, text))


# Chinese punctuation that may not begin a line
_CLOSING = set("，。、；：？！）」』】》〉％")


def _cjk_fill(word: str, room: int) -> int:
    """How many leading characters of ``word`` fit in ``room`` and end where Chinese text may
    break: beside a CJK character, and not before closing punctuation (0: none)."""
    best, used = 0, 0
    for i, ch in enumerate(word[:-1]):
        used += _char_width(ch)
        if used > room:
            break
        following = word[i + 1]
        if (_char_width(ch) == 2 or _char_width(following) == 2) and following not in _CLOSING:
            best = i + 1
    return best


def wrap_lines(text: str, width: int) -> str:
    # Plotly annotations do not wrap: break at spaces, and inside runs of CJK text (which has
    # none), so no line is wider than ``width``. A CJK word that does not fit fills the line
    # first, as Chinese text does (a line left short before a long mixed word read as a gap).
    # Widths are added up as the line grows (a caption has hundreds of words; measuring each
    # candidate line anew was quadratic).
    lines, line, line_width = [], "", 0
    for word in text.split():
        word_width = _width(word)
        candidate_width = line_width + 1 + word_width if line else word_width
        if candidate_width <= width:
            line = f"{line} {word}" if line else word
            line_width = candidate_width
            continue
        if line:
            keep = _cjk_fill(word, width - line_width - 1)
            if keep:
                line = f"{line} {word[:keep]}"
                word = word[keep:]
                word_width = _width(word)
            lines.append(line)
        line, line_width = word, word_width
        while line_width > width:
            cut, cut_width = 0, 0
            while cut_width + _char_width(line[cut]) <= width:
                cut_width += _char_width(line[cut])
                cut += 1
            # a word cut at a slash keeps its halves whole ("持续缓解/" + "低疾病活动度", not
            # "持续缓解/低疾病活" + "动度") when the first half fills a third of the line
            slash = line.rfind("/", 0, cut)
            if slash >= 0 and 3 * _width(line[:slash + 1]) >= width:
                cut, cut_width = slash + 1, _width(line[:slash + 1])
            lines.append(line[:cut])
            line, line_width = line[cut:], line_width - cut_width
    if line:
        lines.append(line)
    return "<br>".join(lines)
