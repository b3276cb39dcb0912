"""The trajectories view, drawn from its description in analytics/views/trajectories.py."""
from dashboard.render import render

render("trajectories")
