"""The survival view, drawn from its description in analytics/views/survival.py."""
from dashboard.render import render

render("survival")
