"""The overview view, drawn from its description in analytics/views/overview.py."""
from dashboard.render import render

render("overview")
