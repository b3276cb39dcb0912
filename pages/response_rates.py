"""The response_rates view, drawn from its description in analytics/views/response_rates.py."""
from dashboard.render import render

render("response_rates")
