"""What the dashboard keeps to be fast changes nothing it shows.

Three layers keep results (see README "How it is built"): the derived measures computed once per
open study into tables of its connection (:func:`analytics.measures.keep_measures`), the
memoised analyses (:class:`dashboard.study_source.CachedStudy`) and a view's blocks kept per
study version and state (:func:`dashboard.study_source.view_blocks`). For every view, in several
states (both populations, subgroup filters, the randomised comparison, a trial, Chinese, and the
view's own choices changed), every block — tables with their attrs, what the page shows of
them, figures, notes, metrics — is the same with the layers as without them: the study opened
with the derived measures as views and every analysis and figure computed afresh.
"""
from __future__ import annotations

import math

import pandas as pd
import pytest

from analytics import open_study, views
from analytics.views import Columns, Expander, Item, Tabs
from analytics.views.registry import blocks_key, items
from dashboard import study_source
from test_views import _states

pytestmark = pytest.mark.usefixtures("dashboard_study")


@pytest.fixture(scope="module")
def plain():
    """The study without any kept result: derived measures as views, computed in each query."""
    study = open_study(keep_measures=False)
    assert study.search_path is None
    yield study
    study.close()


@pytest.fixture(scope="module")
def kept():
    """The study as the dashboard serves it: kept measures, memoised analyses, kept views."""
    served = study_source.served_study()
    assert served.search_path, "the served study keeps its derived measures"
    study_source.forget_views()
    return study_source.CachedStudy(served)


def _global_states(study, view: str) -> list[views.ViewState]:
    trial_control = next(c for c in views.GLOBAL_CONTROLS if c.key == "study_id")
    first_trial = trial_control.allowed(study, {})[1]  # after "all"
    return [views.resolve(view, study, given) for given in (
        {"population": "nri"},
        {"lang": "zh", "population": "nri", "sex": "F", "timepoint": "Y3"},
        {"comparison": "rand", "age_band": "ge55"},
        {"population": "nri", "study_id": first_trial, "prior_bdmard": "1"},
        {"baseline_activity": "high", "timepoint": "M6", "comparison": "rand"},
    )]


def _same(a, b, where: str) -> None:
    """``a`` and ``b`` equal, frames compared with pandas (NaN equal to NaN)."""
    if isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b, obj=where)
        _same(dict(a.attrs), dict(b.attrs), f"{where}.attrs")
    elif isinstance(a, pd.Series):
        pd.testing.assert_series_equal(a, b, obj=where)
    elif isinstance(a, dict):
        assert isinstance(b, dict) and list(a) == list(b), where
        for key in a:
            _same(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(a, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _same(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and math.isnan(a):
        assert isinstance(b, float) and math.isnan(b), where
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


def _same_blocks(with_layers: list, without: list, where: str) -> None:
    assert [type(b) for b in with_layers] == [type(b) for b in without], where
    for i, (a, b) in enumerate(zip(with_layers, without)):
        here = f"{where}/{i}:{type(a).__name__}"
        if isinstance(a, Item):
            assert (a.kind, a.title, a.key, a.caption, a.detail) == \
                (b.kind, b.title, b.key, b.caption, b.detail), here
            for part in ("frame", "display", "source", "attrs", "extra"):
                x, y = getattr(a, part), getattr(b, part)
                assert (x is None) == (y is None), f"{here}.{part}"
                if x is not None:
                    _same(x, y, f"{here}.{part}")
            if a.kind == "figure":
                assert a.figure.to_json() == b.figure.to_json(), f"{here}.figure"
        elif isinstance(a, Tabs):
            assert a.control == b.control and list(a.panes) == list(b.panes), here
            for section in a.panes:
                _same_blocks(a.blocks(section), b.blocks(section), f"{here}[{section}]")
        elif isinstance(a, (Columns, Expander)):
            if isinstance(a, Columns):
                assert a.widths == b.widths, here
                for j, (x, y) in enumerate(zip(a.columns, b.columns)):
                    _same_blocks(x, y, f"{here}[{j}]")
            else:
                assert a.label == b.label, here
                _same_blocks(a.blocks, b.blocks, here)
        else:
            assert a == b, here


@pytest.mark.parametrize("view", list(views.VIEWS))
def test_every_block_is_the_same_with_and_without_kept_results(view, plain, kept):
    states = _states(plain, view) + _global_states(plain, view)
    assert len({s.address() + s.lang for s in states}) >= 6
    for state in states:
        without = views.blocks(plain, state)
        where = f"{state.address()} ({state.lang})"
        first = study_source.view_blocks(kept, state)   # built (analyses may be memoised)
        again = study_source.view_blocks(kept, state)   # kept: the very blocks
        assert again is first
        _same_blocks(first, without, where)
        # the deck and the report read the same items through state_items
        deck_with = views.state_items(kept, state, details=True)
        deck_without = views.state_items(plain, state, details=True)
        _same_blocks(deck_with, deck_without, f"{where} (deck)")
    assert any(items(study_source.view_blocks(kept, s), details=True) for s in states)


def test_kept_measures_are_the_views(plain):
    """Row for row, the kept tables are what the views compute from the raw visits."""
    served = study_source.served_study()
    for name in ("visit_measures", "subject_info"):
        kept_rows = served.query(f"SELECT * FROM {name} ORDER BY ALL")
        view_rows = plain.query(f"SELECT * FROM {name} ORDER BY ALL")
        pd.testing.assert_frame_equal(kept_rows, view_rows, obj=name)
        assert plain.query(f"SELECT table_type FROM information_schema.tables "
                           f"WHERE table_name = '{name}'").table_type.tolist() == ["VIEW"]


@pytest.mark.parametrize("view", list(views.VIEWS))
def test_states_with_the_same_key_have_the_same_blocks(view, plain):
    """A view's blocks are kept under :func:`blocks_key`, which leaves out the global filters the
    view does not apply: changing only those must change none of its blocks."""
    base = views.resolve(view, plain, {})
    shared = 0
    for given in ({"population": "nri"}, {"timepoint": "Y3"}, {"sex": "F"},
                  {"comparison": "rand"}, {"population": "nri", "timepoint": "M6"}):
        state = views.resolve(view, plain, given)
        if blocks_key(state) == blocks_key(base):
            shared += 1
            _same_blocks(views.blocks(plain, state), views.blocks(plain, base),
                         f"{view} {given}")
    applied = views.VIEWS[view].applied(base.values)
    whole_study = views.VIEWS[view].header == "whole"
    assert shared == (("population" not in applied) + ("timepoint" not in applied)
                      + ("population" not in applied and "timepoint" not in applied)
                      + ("subgroups" not in applied) + whole_study)
