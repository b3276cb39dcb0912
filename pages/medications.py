"""The medications view, drawn from its description in analytics/views/medications.py."""
from dashboard.render import render

render("medications")
