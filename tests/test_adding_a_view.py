"""Adding a view is one module, its name in the registry and its catalogue keys (README, "How it
is built"): a throwaway view, never written into the project, appears in the app's menu, opens
from its address and writes it back, round-trips its state through the URL and goes into a
slide deck, with no other file touched."""
from __future__ import annotations

import importlib.util
import io
import textwrap

import pytest
from pptx import Presentation
from streamlit.testing.v1 import AppTest

from analytics import deck, views
from analytics.i18n import catalogue
from analytics.views import registry
from apptest_support import APP, switch_to
from deck_support import slide_texts

pytestmark = pytest.mark.usefixtures("dashboard_study")

# The whole of a new view: a control with a URL name, and a table from an existing analysis.
MODULE = '''
"""Baseline characteristics, all rows or the first five (a throwaway view for a test)."""
from analytics.views.base import Control, ControlSlot, View, table

CONTROLS = (Control("rows", "rows", "demo_view.rows", "radio", ("all", "first5"), "all"),)


def build(ctx) -> list:
    baseline = ctx.study.baseline(ctx.population, lang=ctx.lang, **ctx.filters)
    shown = baseline.head(5) if ctx.state["rows"] == "first5" else baseline
    shown.attrs = dict(baseline.attrs)
    return [ControlSlot(("rows",)), table(shown, "demo_view_table")]


VIEW = View("demo_view", "demo-view", CONTROLS, build)
'''
MESSAGES = {"nav.demo_view": {"en": "Demo view", "zh": "示例视图"},
            "demo_view.rows": {"en": "Rows", "zh": "行"}}


@pytest.fixture
def demo_view(tmp_path, monkeypatch):
    """The view module written and registered as a MODULES entry would register it."""
    path = tmp_path / "demo_view.py"
    path.write_text(textwrap.dedent(MODULE), encoding="utf-8")
    spec = importlib.util.spec_from_file_location("demo_view", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(registry, "MODULES", registry.MODULES + ("demo_view",))
    monkeypatch.setitem(registry.VIEWS, "demo_view", module.VIEW)
    for key, texts in MESSAGES.items():
        monkeypatch.setitem(catalogue(), key, texts)
    return module.VIEW


def test_the_new_view_is_in_the_menu_and_opens_from_its_address(demo_view, study):
    from dashboard.pages import pages
    assert ("demo_view", "nav.demo_view", "demo-view") in pages()
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.session_state["filter_lang"] = "zh"
    at.run()
    menu = {info.get("url_pathname"): info.get("page_name")
            for info in at._registered_pages.values()}
    assert menu.get("demo-view") == "示例视图"
    at.query_params["rows"] = "first5"
    switch_to(at, "demo_view").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "示例视图"
    assert at.radio(key="demo_view_rows").value == "first5"
    assert len(at.dataframe[0].value) == 5
    assert at.query_params.get("rows") in ("first5", ["first5"])  # written back to the URL


def test_the_new_view_round_trips_its_address(demo_view, study):
    address = "demo-view?rows=first5&pop=nri&sex=F"
    state = views.parse_address(address, study)
    assert state.view == "demo_view" and state["rows"] == "first5"
    assert views.parse_address(state.address(), study) == state
    with pytest.raises(views.AddressError, match="many"):
        views.parse_address("demo-view?rows=many", study)


def test_the_new_view_goes_into_a_deck(demo_view, study):
    state = views.parse_address("demo-view?rows=first5&sex=F", study)
    prs = Presentation(io.BytesIO(deck.build_deck(study, "en", states=[state])))
    table_title = study.baseline("completers", lang="en", sex="F").attrs["title"]
    texts = [text for slide in list(prs.slides)[1:] for text in slide_texts(slide)]
    assert any(table_title in text for text in texts)
