"""The trial planner view, drawn from its description in analytics/views/trial_planner.py."""
from dashboard.render import render

render("trial_planner")
