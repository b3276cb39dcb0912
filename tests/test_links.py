"""Link values the dashboard does not recognise (issue 15, item 7): the page says which value was
ignored and what it shows instead, in the reader's language, once."""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from analytics.i18n import t
from apptest_support import open_link

pytestmark = pytest.mark.usefixtures("dashboard_study")


def _open(**params) -> AppTest:
    return open_link(params)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_unrecognised_population_is_named(lang):
    at = _open(lang=lang, pop="NRI", tp="Y99")
    assert not at.exception
    text = "\n".join(w.value for w in at.warning)
    assert t("link.unrecognised", lang, param="pop", name=t("filter.population", lang),
             value="NRI", used=t("population.completers", lang)) in text
    assert t("link.unrecognised", lang, param="tp", name=t("filter.timepoint", lang),
             value="Y99", used=t("visit.Y1", lang)) in text
    # shown once: the next run (the link now rewritten) does not repeat it
    at.run()
    assert not any("NRI" in w.value for w in at.warning)


def test_unrecognised_language_falls_back_to_english():
    at = _open(lang="fr")
    assert t("link.unrecognised", "en", param="lang", name=t("filter.lang", "en"), value="fr",
             used="English") in "\n".join(w.value for w in at.warning)


def test_recognised_values_say_nothing():
    at = _open(pop="nri", tp="Y3", sex="F")
    assert not any(t("link.unrecognised", "en", param="pop", name="", value="", used="")[:20]
                   in w.value for w in at.warning)
    assert at.session_state["filter_pop"] == "nri"
