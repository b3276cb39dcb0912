"""What the app's pieces share, by concern (this module only gathers the names):

- :mod:`dashboard.study_source` — the served study (verified, reopened when replaced) and the
  memoised analyses; :mod:`dashboard.links` — link values the app did not recognise;
- :mod:`dashboard.url_state` — the state in the session and in the URL, the canonical address;
- :mod:`dashboard.pages` — the pages and the menu, from the view registry;
- :mod:`dashboard.render` — the sidebar filters, the header and any view drawn from its
  description (:mod:`analytics.views`);
- :mod:`dashboard.share`, :mod:`dashboard.deck_button`, :mod:`dashboard.report` — copy link,
  the deck of the view on screen, the report basket;
- :mod:`dashboard.widgets` — a control, a table, a figure, "Show code".
"""
from __future__ import annotations

from . import study_source

# the old name's API: ui.get_study() is the served study, ui.get_study.clear() reopens it
get_study = study_source.served_study
