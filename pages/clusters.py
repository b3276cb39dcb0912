"""The clusters view, drawn from its description in analytics/views/clusters.py."""
from dashboard.render import render

render("clusters")
