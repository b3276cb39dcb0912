"""The forest plot view, drawn from its description in analytics/views/forest_plot.py."""
from dashboard.render import render

render("forest_plot")
