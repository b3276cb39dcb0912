"""The ae_terms view, drawn from its description in analytics/views/ae_terms.py."""
from dashboard.render import render

render("ae_terms")
