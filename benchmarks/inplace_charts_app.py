"""An experiment for issue 13 (benchmarks/bench_inplace_charts.py), not part of the dashboard: a
page's figures drawn either by ``st.plotly_chart`` (as the dashboard draws them: a changed figure
is a new chart, mounted and drawn anew) or by a small ``st.components.v2`` element that keeps one
plotly.js plot per key and updates it in place (``Plotly.react``). The sidebar radio switches
every figure between two subgroups, as a filter change does.

``BENCH_CHARTS_DIR`` holds ``charts.json`` and the figures; ``BENCH_CHART_MODE`` is ``streamlit``
or ``inplace``. In place, plotly.js is read from ``static/plotly.min.js`` beside this script
(Streamlit's static serving; it serves a script as text, so the element runs its text)."""
import json
import os
from pathlib import Path

import plotly.graph_objects as go
import streamlit as st

UPDATE_IN_PLACE = """
export default function (component) {
  const { parentElement, data } = component;
  let plot = parentElement.querySelector('div.bench-plot');
  if (!plot) {
    plot = document.createElement('div');
    plot.className = 'bench-plot';
    parentElement.appendChild(plot);
  }
  const draw = () => window.Plotly.react(plot, data.figure.data, data.figure.layout,
                                         {displaylogo: false, responsive: true});
  if (window.Plotly) { draw(); return; }
  window.benchPlotly = window.benchPlotly || fetch('/app/static/plotly.min.js')
    .then(answer => answer.text()).then(text => {
      const script = document.createElement('script');
      script.textContent = text;
      document.head.appendChild(script);
    });
  window.benchPlotly.then(draw);
}
"""


class Drawn(go.Figure):
    """The figure's dict as st.plotly_chart takes it (as ``dashboard.widgets._Drawn``)."""

    def __init__(self, spec: dict):  # noqa: D107 - no plotly state: only to_dict is used
        object.__setattr__(self, "_spec", spec)

    def to_dict(self) -> dict:
        return self._spec


@st.cache_resource
def in_place_chart():
    return st.components.v2.component("bench_inplace_plot", js=UPDATE_IN_PLACE,
                                      isolate_styles=False)


folder = Path(os.environ["BENCH_CHARTS_DIR"])
mode = os.environ.get("BENCH_CHART_MODE", "streamlit")
charts = json.loads((folder / "charts.json").read_text(encoding="utf-8"))
choice = st.sidebar.radio("Choice", ["one", "two"], horizontal=True)
st.title(f"Charts: {mode}")
for chart in charts:
    spec = json.loads((folder / chart["files"][choice == "two"]).read_text(encoding="utf-8"))
    if mode == "inplace":
        in_place_chart()(key=chart["key"], data={"figure": spec})
    else:
        st.plotly_chart(Drawn(spec), key=chart["key"], config={"displaylogo": False},
                        theme=None)
