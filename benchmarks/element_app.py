"""The trivial app (benchmarks/trivial_app.py) with the elements named in ``BENCH_ELEMENTS``
(comma-separated, in this order) added: what each kind of element costs a first page load in
the browser, measured by ``benchmarks/home_elements.py``. No data, no study."""
import os

import streamlit as st

ELEMENTS = [e for e in os.environ.get("BENCH_ELEMENTS", "").split(",") if e]

st.title("Trivial app")
st.markdown("One line of text.")
choice = st.sidebar.radio("Choice", ["one", "two"], horizontal=True)
st.markdown(f"Chosen: {choice}")

if "selectbox" in ELEMENTS:
    st.sidebar.selectbox("Pick", ["first", "second"])
if "metric" in ELEMENTS:
    st.metric("Completed", "50 / 55")
if "static_table" in ELEMENTS:
    st.table({"a": [1, 2, 3], "b": ["x", "y", "z"]})
if "data_grid" in ELEMENTS:
    import pandas as pd
    st.dataframe(pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]}), hide_index=True)
if "code" in ELEMENTS:
    st.code("print('one line')", language="python")
if "plotly_chart" in ELEMENTS:
    import plotly.graph_objects as go
    st.plotly_chart(go.Figure(go.Scatter(x=[1, 2, 3], y=[2, 1, 3])), key="chart")
