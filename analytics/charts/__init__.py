"""Plotly figure builders. Each takes a result frame (and its attrs) and returns a Figure."""
