"""The patient profile page (issue 14 item 1) in Streamlit's AppTest: its subject control, the
numbers it shows against the raw tables for subjects picked at random (fixed seed), a subject
outside the selection, both languages; and the selectable listings that lead to it. The page has
two tabs, the timeline and the tables, the open one alone drawn."""
from __future__ import annotations

import base64

import numpy as np
import pandas as pd
import plotly.io
import pytest

from analytics import views
from analytics.i18n import t
from analytics.profile import subject_ids
from apptest_support import run_page

pytestmark = pytest.mark.usefixtures("dashboard_study")
PAGE = "pages/patient_profile.py"
N_PICKED = 4


@pytest.fixture(scope="module")
def raw(study):
    return {name: study.con.execute(f"SELECT * FROM {name}").df()
            for name in ("subjects", "visits")}


@pytest.fixture(scope="module")
def picked(raw):
    rng = np.random.default_rng(1414)
    return list(rng.choice(sorted(raw["subjects"]["subject_id"]), size=N_PICKED, replace=False))


def _ok(at):
    assert not at.exception, [e.value for e in at.exception]
    return at


def _number(text: str) -> float:
    return float(text) if text not in ("–", "-", "") else float("nan")


def _array(values) -> np.ndarray:
    """A plotly data array as the page sent it (plain, or base64-typed ``bdata``)."""
    if isinstance(values, dict) and "bdata" in values:
        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"])
    return np.asarray(values, dtype=float)


def _das28_esr(v: pd.DataFrame) -> pd.Series:
    return (0.56 * np.sqrt(v["tjc28"]) + 0.28 * np.sqrt(v["sjc28"]) + 0.70 * np.log(v["esr"])
            + 0.014 * v["patient_global"])


@pytest.mark.parametrize("lang", ("en", "zh"))
def test_page_shows_the_subject_chosen(study, lang):
    at = _ok(run_page(PAGE, lang=lang, population="nri"))
    box = at.selectbox(key="profile_subject")
    assert list(box.options) == subject_ids(study, "nri")
    first = box.value
    assert at.title[0].value == t("nav.patient_profile", lang)
    assert [tab.label for tab in at.tabs] == [t("profile.tab.timeline", lang),
                                              t("profile.tab.tables", lang)]
    assert len(at.get("plotly_chart")) == 3 and len(at.dataframe) == 0
    at.session_state["profile_section"] = "tables"
    _ok(at.run())
    assert len(at.get("plotly_chart")) == 0 and len(at.dataframe) == 3
    assert t("profile.baseline.title", lang, subject=first) in [m.value.strip("*")
                                                                 for m in at.markdown]
    other = box.options[-1]
    _ok(box.set_value(other).run())
    assert at.query_params["subj"] == [other] or at.query_params["subj"] == other
    state = views.parse_address(f"patient-profile?subj={other}&pop=nri&lang={lang}", study)
    shown = [i for i in views.state_items(study, state) if i.kind == "table"]
    for item, drawn in zip(shown, at.dataframe):
        pd.testing.assert_frame_equal(item.shown.reset_index(drop=True),
                                      drawn.value.reset_index(drop=True))


def test_control_lists_the_selection(study):
    """The subject control lists the subjects of the population and subgroup filters."""
    at = _ok(run_page(PAGE, population="completers", filter_sex="F"))
    options = list(at.selectbox(key="profile_subject").options)
    assert options == subject_ids(study, "completers", sex="F")
    assert not any(w.value for w in at.warning if "outside" in w.value)


@pytest.mark.parametrize("lang", ("en", "zh"))
def test_subject_outside_the_selection_is_a_note(study, raw, lang):
    subjects = raw["subjects"]
    woman = subjects.loc[subjects["sex"] == "F", "subject_id"].iloc[0]
    at = _ok(run_page(PAGE, lang=lang, filter_sex="M", profile_subject=woman,
                      profile_section="tables"))
    assert at.selectbox(key="profile_subject").value == woman
    assert t("profile.outside_selection", lang) in [w.value for w in at.warning]
    assert len(at.dataframe) == 3  # still shown


def test_page_numbers_equal_the_raw_tables(study, raw, picked):
    visits_raw = raw["visits"]
    subjects = raw["subjects"].set_index("subject_id")
    for sid in picked:
        at = _ok(run_page(PAGE, population="nri", profile_subject=sid,
                          profile_section="tables"))
        baseline, responses, visits = (d.value.set_index(d.value.columns[0])
                                       for d in at.dataframe)
        baseline = baseline.reset_index()
        own = visits_raw[visits_raw["subject_id"] == sid].set_index("visit")
        labels = {t(f"visit.{v}", "en"): v for v in own.index}
        assert list(visits.index) == list(responses.index)
        assert sorted(labels) == sorted(visits.index)
        for col in ("tjc28", "sjc28", "esr", "patient_global", "physician_global", "pain"):
            shown = visits[t(f"profile.col.{col}", "en")]
            for label, value in shown.items():
                assert _number(value) == pytest.approx(float(own.loc[labels[label], col]),
                                                       abs=0.5, nan_ok=True), (sid, col, label)
        haq = visits[t("profile.col.haq_di", "en")]
        das = responses[t("profile.col.das28_esr", "en")]
        for label in visits.index:
            row = own.loc[[labels[label]]]
            assert _number(haq[label]) == pytest.approx(float(row["haq_di"].iloc[0]), abs=5e-4,
                                                        nan_ok=True)
            assert _number(das[label]) == pytest.approx(float(_das28_esr(row).iloc[0]),
                                                        abs=5e-3, nan_ok=True)
        # responses as the project's view derives them, in the page's words
        derived = study.query("SELECT visit, acr20, acr50, acr70, eular FROM visit_measures "
                              "WHERE subject_id = ?", [sid]).set_index("visit")
        words = {True: t("profile.yes", "en"), False: t("profile.no", "en")}
        for label in responses.index:
            row = derived.loc[labels[label]]
            for col in ("acr20", "acr50", "acr70"):
                expected = "–" if pd.isna(row[col]) else words[bool(row[col])]
                assert responses.loc[label, t(f"profile.col.{col}", "en")] == expected
            expected = ("–" if not isinstance(row["eular"], str)
                        else t(f"profile.eular.{row['eular']}", "en"))
            assert responses.loc[label, t("profile.col.eular", "en")] == expected
        values = dict(zip(baseline.iloc[:, 0], baseline.iloc[:, 1]))
        assert values[t("profile.char.study_id", "en")] == subjects.loc[sid, "study_id"]
        assert values[t("profile.char.arm", "en")] == t(f"arm.{subjects.loc[sid, 'arm']}", "en")
        assert _number(values[t("profile.char.age", "en")]) == subjects.loc[sid, "age"]
        # the timeline's DAS28-ESR line is the subject's DAS28-ESR at every visit
        at.session_state["profile_section"] = "timeline"
        _ok(at.run())
        fig = plotly.io.from_json(at.get("plotly_chart")[0].proto.spec)
        line = next(d for d in fig.data if d.name == t("profile.col.das28_esr", "en"))
        assert set(line.customdata) == {sid}
        expected = _das28_esr(own).dropna().sort_values()
        np.testing.assert_allclose(sorted(_array(line.y)), expected.to_numpy(), rtol=1e-12)


def test_sae_listing_rows_are_selectable_and_hint(study):
    """A listing with a subject id column is selectable; before a selection it says how."""
    at = _ok(run_page("pages/sae_listing.py"))
    assert t("profile.selection.hint", "en") in [c.value for c in at.caption]


def test_address_opens_the_profile_and_deck_builds(study, tmp_path):
    import subprocess
    import sys

    from pptx import Presentation

    from analytics import export
    from apptest_support import ROOT
    if not export.chromium_available():
        pytest.skip("the deck renders figures with Chromium")
    sid = subject_ids(study, "nri")[3]
    out = tmp_path / "profile.pptx"
    proc = subprocess.run([sys.executable, "-m", "analytics", "deck", "--out", str(out),
                           "--view", f"patient-profile?subj={sid}&pop=nri", "--lang", "zh"],
                          cwd=ROOT, capture_output=True, text=True, timeout=400)
    assert proc.returncode == 0, proc.stderr
    text = "\n".join(shape.text_frame.text for slide in Presentation(str(out)).slides
                     for shape in slide.shapes if shape.has_text_frame)
    assert sid in text
    assert t("profile.baseline.title", "zh", subject=sid) in text


def test_randomised_comparison_lists_its_trial_only(study, raw):
    """Under the randomised comparison the control lists that trial's subjects; a subject of
    the other trial, opened by a link, is shown with the note."""
    from analytics.population import randomised_trials
    trials = randomised_trials(study)
    at = _ok(run_page(PAGE, population="nri", filter_cmp="rand"))
    listed = list(at.selectbox(key="profile_subject").options)
    subjects = raw["subjects"].set_index("subject_id")
    assert listed and set(subjects.loc[listed, "study_id"]) <= set(trials)
    others = subjects.index[~subjects["study_id"].isin(trials)]
    if len(others):
        at = _ok(run_page(PAGE, population="nri", filter_cmp="rand",
                          profile_subject=others[0]))
        assert t("profile.outside_selection", "en") in [w.value for w in at.warning]
