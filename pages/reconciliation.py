"""The reconciliation view, drawn from its description in analytics/views/reconciliation.py."""
from dashboard.render import render

render("reconciliation")
