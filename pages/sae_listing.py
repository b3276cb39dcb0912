"""The sae_listing view, drawn from its description in analytics/views/sae_listing.py."""
from dashboard.render import render

render("sae_listing")
