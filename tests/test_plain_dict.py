"""The dict a page hands to st.plotly_chart (charts.theme.plain_dict, no deep copy) is the
figure's to_dict(), and making it leaves the figure as it was (issue 13: to_dict deep-copied every
figure, template included, on every run)."""
from __future__ import annotations

import plotly.graph_objects as go
import plotly.io as pio
import pytest

from analytics.charts.theme import plain_dict
from analytics.views import registry
from analytics.views.state import resolve


def _json(d) -> str:
    return pio.to_json(d, validate=False)


@pytest.mark.parametrize("given", [{"lang": "en"}, {"lang": "zh", "population": "nri"}])
def test_every_view_figure_gives_its_to_dict(study, given):
    checked = 0
    for key in registry.MODULES:
        state = resolve(key, study, dict(given))
        for item in registry.items(registry.blocks(study, state)):
            if item.kind != "figure":
                continue
            before = _json(item.figure.to_dict())
            assert _json(plain_dict(item.figure)) == before, (key, item.key)
            assert _json(item.figure.to_dict()) == before  # the figure is unchanged
            checked += 1
    assert checked >= 15


def test_numeric_arrays_become_typed_arrays_as_in_to_dict():
    import numpy as np
    fig = go.Figure({"data": [{"type": "scatter", "x": np.arange(5), "y": np.linspace(0, 1, 5),
                               "customdata": [[1, "a"], [2, "b"]]}],
                     "layout": {"xaxis": {"range": [0, 4]}}}, _validate=False)
    got = plain_dict(fig)
    assert got["data"][0]["x"]["dtype"] == "i1" and "bdata" in got["data"][0]["y"]
    assert _json(got) == _json(fig.to_dict())
    assert isinstance(fig.data[0].x, np.ndarray)  # the figure keeps its own arrays


def test_the_screen_draws_each_figure_in_its_own_theme_as_exported():
    """theme=None: a chart on the screen looks as its PNG, SVG and slide do (Streamlit's theme
    would restyle it in the browser, 25-30 ms per chart per click; issue 13)."""
    import json

    from apptest_support import default_study_error, run_page, section_runs
    reason = default_study_error()
    if reason:
        pytest.skip(reason)
    at = run_page("disease_activity")
    charts = [chart for _, drawn in section_runs(at, "disease_activity")
              for chart in drawn.get("plotly_chart")]
    assert len(charts) == 4
    for chart in charts:
        assert chart.proto.theme == "", chart.proto.id  # "streamlit" when Streamlit restyles
        assert json.loads(chart.proto.spec)["layout"]["template"]  # the house theme it carries
