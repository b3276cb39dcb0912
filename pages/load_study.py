"""Load a study: upload an export, map, validate, build; the studies of the data folder."""
from dashboard.load_study import load_study_page

load_study_page()
