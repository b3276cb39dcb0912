"""The view registry: every view described once, its state a value.

* for every view, state -> URL -> state is the identity (in analytics, and through the app: a
  URL opens the view in that state, and the app writes the same URL back);
* every view of the registry has its page, and every page its view;
* ``deck --view`` parses addresses as the app writes them, and refuses bad ones by name;
* the deck built from chosen states holds exactly those states: titles name the choices, and its
  tables carry the page's numbers (survival ACR70, event-free scale, NRI, Female, Year 3, ...);
* the report basket end to end: add two cards, reorder, remove one, build the deck.
"""
from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pptx import Presentation
from streamlit.testing.v1 import AppTest

from analytics import export, views
from analytics.i18n import t
from apptest_support import run_page, section_runs, switch_to
from deck_support import slide_texts as _slide_texts
from test_deck import _slide_titles  # a figure's or table's title(s) as its slides carry it

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app.py"
TIMEOUT = 120

pytestmark = pytest.mark.usefixtures("dashboard_study")


def _changed(control, study, values: dict):
    """A valid value of ``control`` other than its default (None when it has only one)."""
    default = control.default_value(study, values)
    if control.widget == "toggle":
        return not default
    if control.widget == "number":
        low, high, step = control.bounds
        return next(v for v in range(low, high + 1, step) if v != default)
    allowed = list(control.allowed(study, values))
    if control.widget == "multiselect":
        return [v for v in allowed if v not in default][:3]
    if control.widget == "window":
        return (1, allowed[-1]) if len(allowed) > 2 else None
    others = [v for v in allowed if v != default]
    return others[-1] if others else None


def _states(study, view: str) -> list[views.ViewState]:
    """The defaults; every choice changed at once; each choice changed alone."""
    states = [views.resolve(view, study, {})]
    values: dict = {}
    for control in views.controls_of(view):
        value = _changed(control, study, values)
        if value is not None:
            values[control.key] = value
        values[control.key] = values.get(control.key, control.default_value(study, values))
    states.append(views.resolve(view, study, values))
    for control in views.VIEWS[view].controls:
        base = views.resolve(view, study, {"population": "nri", "sex": "F"})
        value = _changed(control, study, dict(base.values))
        if value is not None:
            states.append(base.with_values(study, **{control.key: value}))
    return states


@pytest.mark.parametrize("view", list(views.VIEWS))
def test_state_url_state_is_identity(study, view):
    for state in _states(study, view):
        assert views.from_query(view, study, state.query(), strict=True) == state
        assert views.parse_address(state.address(), study) == state
        assert views.parse_address("https://host/" + state.address(), study) == state
    every = _states(study, view)[1]
    # every choice has a URL name: a state with all values changed names each changed one
    changed = {c.url for c in views.controls_of(view)
               if every.values[c.key] != every.defaults[c.key]}
    assert set(every.query()) == changed


def test_every_view_has_its_page_and_back():
    from dashboard.pages import LOAD_STUDY, REPORT, pages
    keys = [key for key, _, _ in pages()]
    assert keys[:len(views.VIEWS)] == list(views.VIEWS)  # menu order is registry order
    assert keys[len(views.VIEWS):] == [REPORT[0], LOAD_STUDY[0]]  # then the tool pages
    for key, _, path in pages()[:len(views.VIEWS)]:
        assert views.view_for_path(path).key == key
    paths = [p for _, _, p in pages()]
    assert len(paths) == len(set(paths))


def test_bad_addresses_are_refused_by_name(study):
    with pytest.raises(views.AddressError, match="nowhere"):
        views.parse_address("nowhere?ep=ACR70", study)
    with pytest.raises(views.AddressError, match="colour"):
        views.parse_address("survival?colour=red", study)
    with pytest.raises(views.AddressError, match="ACR99"):
        views.parse_address("survival?ep=ACR99", study)
    # the app is lenient: a bad value falls back to its default
    state = views.parse_address("survival?ep=ACR99&pop=nri", study, strict=False)
    assert state["endpoint"] == views.resolve("survival", study, {})["endpoint"]
    assert state.population == "nri"


def _app_at(address: str, lang: str = "en") -> AppTest:
    """The app opened at ``address`` (path and query, as a shared link)."""
    from urllib.parse import parse_qsl

    path, _, query = address.partition("?")
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    # AppTest always starts on the default page, which writes its own URL: the link's
    # parameters are given before that first run (global filters) and again before the switch
    # (the view's own), as a browser opening the link directly would have them.
    for name, value in parse_qsl(query):
        at.query_params[name] = value
    at.run()
    for name, value in parse_qsl(query):
        at.query_params[name] = value
    view = views.view_for_path(path)
    switch_to(at, view.key)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _app_state(at: AppTest, study, view: str) -> views.ViewState:
    query = {k: (v[0] if isinstance(v, list) else v) for k, v in at.query_params.items()}
    return views.from_query(view, study, query, strict=True)


@pytest.mark.parametrize("view", list(views.VIEWS))
def test_app_opens_a_link_in_its_state_and_writes_it_back(study, view):
    state = _states(study, view)[1]
    at = _app_at(state.address())
    assert _app_state(at, study, view) == state
    # the widgets show the state
    for control in views.VIEWS[view].controls:
        key = control.widget_name(view, state.values)
        widget = at.session_state[key]
        assert control.normal(widget) == state.values[control.key], control.key


# -- the deck holds exactly the chosen states ----------------------------------------------------
DECK_STATES = [
    "survival?ep=ACR70&scale=km&pop=nri&sex=F&tp=Y3",
    "response-rates?ep=ACR50&pop=nri&tp=Y3&sex=F",
    "adverse-events?by=pt&serious=1&win=1-4",
    "medications?tps=BL,Y2,Y4&pop=completers&age=lt45",
]


@pytest.fixture(scope="module")
def chromium():
    if not export.chromium_available():
        reason = f"the deck renders figures with Chromium at {export.CHROMIUM_PATH}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason + " (not found; CI=true requires it)")
        pytest.skip(reason + " (not found)")


def _slides_of(prs, slides: list, lang: str = "en") -> list[tuple]:
    """(item, its slides' texts) in deck order: a table may continue on more slides."""
    remaining, out = list(prs.slides)[1:], []
    for _, item in slides:
        texts = _slide_texts(remaining.pop(0))
        if item is not None:
            first, cont = _slide_titles(item, lang)
            assert first in texts, (first, texts[:3])
            while item.kind == "table" and remaining and cont in _slide_texts(remaining[0]):
                texts += _slide_texts(remaining.pop(0))
        out.append((item, texts))
    assert not remaining
    return out


def _cells(df) -> set[str]:
    """The text cells of a shown table (numbers are formatted by whoever shows them)."""
    return {str(v) for col in df.columns if df[col].dtype == object for v in df[col]
            if isinstance(v, str) and v.strip()}


@pytest.fixture(scope="module")
def cli_deck(chromium, tmp_path_factory):
    out = tmp_path_factory.mktemp("deck") / "views.pptx"
    args = [a for v in DECK_STATES for a in ("--view", v)]
    proc = subprocess.run([sys.executable, "-m", "analytics", "deck", "--out", str(out), *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=400)
    assert proc.returncode == 0, proc.stderr
    return Presentation(str(out))


def test_deck_from_views_holds_those_states(study, cli_deck):
    from analytics.deck import deck_items

    states = [views.parse_address(a, study) for a in DECK_STATES]
    slides = deck_items(study, "en", states=states)
    assert [s.view for s in states] == list(dict.fromkeys(k for k, _ in slides))
    for item, texts in _slides_of(cli_deck, slides):
        if item.kind == "table" and len(item.shown) <= 10:
            missing = _cells(item.shown) - set(texts)
            assert not missing, (item.key, sorted(missing)[:5])
    # the choices are in the titles
    survival_titles = [i.title for k, i in slides if k == "survival"]
    assert any(t("endpoint.ACR70", "en") in x for x in survival_titles), survival_titles
    response_titles = [i.title for k, i in slides if k == "response_rates"]
    assert any(t("endpoint.ACR50", "en") in x for x in response_titles), response_titles
    # the captions name the population and the subgroup's N
    surv = next(i for k, i in slides if k == "survival" and i.kind == "table")
    assert t("population.nri", "en") in surv.caption


# the issue 14 views in chosen states (page tables only: no deck rendered for these)
ISSUE14_STATES = [
    "clusters?period=core&k=3&pop=nri&sex=F",
    "forest-plot?kind=time_to_event&ep=ACR50&sg=age_band,study_id&pop=nri&tp=Y3",
    "trial-planner?src=hazard_ratio&ep=ACR50&alloc=2%3A1&drop=10&pop=nri&tp=Y3",
    "trial-planner?ep=ACR70&cons=1&alpha=0.025&power=0.9&tp=Y3",
]


@pytest.mark.parametrize("address", DECK_STATES + ISSUE14_STATES)
def test_deck_items_equal_the_page_tables(study, address):
    """The tables a deck slide is made of are the tables the page shows for the same state."""
    state = views.parse_address(address, study)
    at = _app_at(address)
    assert _app_state(at, study, state.view) == state
    items = [i for i in views.state_items(study, state, details=True) if i.kind == "table"]
    # a page in tabs draws the open tab's tables: the deck has every tab's
    frames = [d.value for _, drawn in section_runs(at, state.view) for d in drawn.dataframe]
    assert len(frames) == len(items)
    import pandas as pd
    for item, frame in zip(items, frames):
        pd.testing.assert_frame_equal(item.shown.reset_index(drop=True),
                                      frame.reset_index(drop=True))


# -- the report basket ----------------------------------------------------------------------------
def _card_titles(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown if m.value.startswith("**") and ". " in m.value]


def test_report_basket_end_to_end(study, chromium):
    at = run_page("pages/survival.py", population="nri", timeout=400, surv_endpoint="ACR70",
                  filter_sex="F")
    at.text_input(key="report_comment").input("KM of ACR70 in women").run()
    at.button(key="report_add").click().run()
    assert not at.exception, [e.value for e in at.exception]
    switch_to(at, "response_rates").run()
    at.selectbox(key="resp_endpoint").set_value("ACR50").run()
    at.button(key="report_add").click().run()
    switch_to(at, "report").run()
    assert not at.exception, [e.value for e in at.exception]
    cards = at.session_state["report_cards"]
    assert [c["view"] for c in cards] == ["survival", "response_rates"]
    assert cards[0]["comment"] == "KM of ACR70 in women"
    addresses = [c.value for c in at.code if c.language in (None, "", "plaintext")]
    assert any("ep=ACR70" in a and "sex=F" in a for a in addresses)
    assert any("ep=ACR50" in a for a in addresses)
    # reorder: the second card up
    at.button(key=f"report_up_{cards[1]['id']}").click().run()
    assert [c["view"] for c in at.session_state["report_cards"]] == ["response_rates",
                                                                      "survival"]
    assert _card_titles(at)[0].startswith(f"**1. {t('nav.response_rates', 'en')}")
    # remove the response card
    first = at.session_state["report_cards"][0]
    at.button(key=f"report_remove_{first['id']}").click().run()
    assert [c["view"] for c in at.session_state["report_cards"]] == ["survival"]
    # the deck of exactly the survival card, in its state
    at.button(key="report_build").click().run()
    assert not at.exception, [e.value for e in at.exception]
    data = at.session_state["_report_deck"][1]
    prs = Presentation(io.BytesIO(data))
    from analytics.deck import deck_items
    state = views.parse_address(at.session_state["report_cards"][0]["address"], study)
    slides = deck_items(study, "en", states=[state])
    _slides_of(prs, slides)
    text = "\n".join(x for s in prs.slides for x in _slide_texts(s))
    assert t("endpoint.ACR70", "en") in text
    notes = [s.notes_slide.notes_text_frame.text for s in list(prs.slides)[1:]]
    assert all("KM of ACR70 in women" in n for n in notes)
    assert any(b.proto.label == t("deck.download", "en") for b in at.get("download_button"))


def test_sidebar_deck_is_the_view_on_screen(study, chromium):
    """The sidebar's deck button builds the view in its on-screen state, not its defaults."""
    at = run_page("pages/survival.py", population="nri", timepoint="Y3", timeout=400,
                  surv_endpoint="ACR70", filter_sex="F")
    at.button(key="deck_build").click().run()
    assert not at.exception, [e.value for e in at.exception]
    prs = Presentation(io.BytesIO(at.session_state["_deck"][1]))
    state = _app_state(at, study, "survival")
    assert state["endpoint"] == "ACR70" and state["sex"] == "F"
    from analytics.deck import deck_items
    slides = deck_items(study, "en", states=[state])
    for item, _texts in _slides_of(prs, slides):
        assert t("endpoint.ACR70", "en") in item.title
