"""The floor of a page like the home page: the trivial app (benchmarks/trivial_app.py) with one
element of each kind the home page draws that loads a component of its own in the browser — a
small plotly chart (plotly.js), a small table (the data grid) and code (the syntax highlighter,
as "Show code" and the share link use) — served and measured exactly as the dashboard is
(benchmarks/run_all.py). No data, no study: what these elements cost in Streamlit's page is
Streamlit's and plotly.js's own, not the dashboard's."""
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

st.title("Trivial app")
st.markdown("One line of text.")
st.plotly_chart(go.Figure(go.Scatter(x=[1, 2, 3], y=[2, 1, 3])), key="chart")
st.dataframe(pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]}), hide_index=True)
with st.expander("code"):
    st.code("print('one line')", language="python")
