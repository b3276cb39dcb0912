"""Analytics for the MSC vs MSC + IFN-γ rheumatoid arthritis long-term extension study.

Knows nothing of Streamlit: each analysis takes the study and plain arguments and returns a tidy
DataFrame whose ``attrs`` say what a reader must know.
"""
from .study import Study, open_study

__all__ = ["Study", "open_study"]
