"""The patient profile view, drawn from its description in analytics/views/patient_profile.py."""
from dashboard.render import render

render("patient_profile")
