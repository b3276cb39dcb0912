"""The floor of a page like the home page: the trivial app (benchmarks/trivial_app.py) with one
element of each kind the home page draws that loads a component of its own in the browser — a
small plotly chart (plotly.js), a small table (the data grid) and code (the syntax highlighter,
as "Show code" and the share link use) — served and measured exactly as the dashboard is
(benchmarks/run_all.py). No data, no study: what these elements cost in Streamlit's page is
Streamlit's and plotly.js's own, not the dashboard's."""
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

# two sidebar filters of the kinds the dashboard has (a radio, a select box) that change the
# chart and the table, so the browser's click-to-drawn floor is measured as the app's is
choice = st.sidebar.radio("Choice", ["one", "two"], horizontal=True)
pick = st.sidebar.selectbox("Pick", ["first", "second"])
shift = (choice == "two") + 2 * (pick == "second")

st.title("Trivial app")
st.markdown("One line of text.")
st.plotly_chart(go.Figure(go.Scatter(x=[1, 2, 3], y=[2 + shift, 1, 3])), key="chart")
st.dataframe(pd.DataFrame({"a": [1 + shift, 2, 3], "b": ["x", "y", "z"]}), hide_index=True)
with st.expander("code"):
    st.code("print('one line')", language="python")
