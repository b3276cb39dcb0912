"""The floor: a trivial Streamlit script, served and measured exactly as the dashboard is
(benchmarks/run_all.py). Whatever the dashboard takes beyond this is its own cost."""
import streamlit as st

st.title("Trivial app")
st.markdown("One line of text.")

# one sidebar filter, so the browser's click-to-drawn floor is measured as the app's is
choice = st.sidebar.radio("Choice", ["one", "two"], horizontal=True)
st.markdown(f"Chosen: {choice}")
