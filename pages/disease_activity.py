"""The disease_activity view, drawn from its description in analytics/views/disease_activity.py."""
from dashboard.render import render

render("disease_activity")
