"""What the app's pieces share, by concern (this module only gathers the names):

- :mod:`dashboard.study_source` — the served study (verified, reopened when replaced) and the
  memoised analyses; :mod:`dashboard.links` — link values the app did not recognise;
- :mod:`dashboard.url_state` — the state in the session and in the URL, the canonical address;
- :mod:`dashboard.render` — the sidebar filters, the header and any view drawn from its
  description (:mod:`analytics.views`);
- :mod:`dashboard.share`, :mod:`dashboard.deck_button`, :mod:`dashboard.report` — copy link,
  the deck of the view on screen, the report basket;
- :mod:`dashboard.widgets` — a control, a table, a figure, "Show code".
"""
from __future__ import annotations

import pandas as pd

from analytics import export

from . import study_source
from .study_source import CachedStudy, _cached_result, forget_views  # noqa: F401

# the old name's API: ui.get_study() is the served study, ui.get_study.clear() reopens it
get_study = study_source.served_study
from .url_state import current_language  # noqa: F401
from .widgets import show_chart, show_code, show_table  # noqa: F401


def table_bytes_xlsx(df: pd.DataFrame, display: pd.DataFrame | None = None) -> bytes:
    """The table on a sheet with its title above and its caption below
    (see :func:`analytics.export.table_xlsx`)."""
    return export.table_xlsx(df, display)
