"""The report basket: the views added to the report, in order, and their slide deck."""
from dashboard.report import report_page

report_page()
