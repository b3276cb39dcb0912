"""The safety_overview view, drawn from its description in analytics/views/safety_overview.py."""
from dashboard.render import render

render("safety_overview")
