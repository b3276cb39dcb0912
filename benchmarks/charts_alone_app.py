"""A page's plotly charts and nothing else (benchmarks/bench_charts_alone.py): the figures the
dashboard draws for one page, read from ``BENCH_CHARTS_DIR``, drawn with ``st.plotly_chart`` as
the dashboard draws them (its config, the figure's own theme, a selection where the page has
one). The sidebar radio changes every figure's title a little, so each click gives every chart a
new figure, as a filter change on the page does. With no figures it is the floor: the same app, no chart."""
import json
import os
from pathlib import Path

import plotly.graph_objects as go
import streamlit as st


class Drawn(go.Figure):
    """The figure's dict as st.plotly_chart takes it, not validated again (as the dashboard's
    ``dashboard.widgets._Drawn``)."""

    def __init__(self, spec: dict):  # noqa: D107 - no plotly state: only to_dict is used
        object.__setattr__(self, "_spec", spec)

    def to_dict(self) -> dict:
        return self._spec


folder = Path(os.environ["BENCH_CHARTS_DIR"])
charts = json.loads((folder / "charts.json").read_text(encoding="utf-8"))
choice = st.sidebar.radio("Choice", ["one", "two"], horizontal=True)
st.title("Charts alone")
st.markdown(f"{len(charts)} charts")
for chart in charts:
    spec = json.loads((folder / chart["file"]).read_text(encoding="utf-8"))
    title = spec["layout"].setdefault("title", {})
    title["text"] = (title.get("text") or "") + (" ·" if choice == "two" else "")
    chosen = (dict(on_select="rerun", selection_mode=chart["selection"])
              if chart["selection"] else {})
    st.plotly_chart(Drawn(spec), key=chart["key"], config={"displaylogo": False}, theme=None,
                    **chosen)  # as dashboard.widgets.show_chart draws it
