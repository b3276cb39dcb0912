"""Patient profile (issue 14 item 1): the numbers equal the raw tables for subjects picked at
random (fixed seed), derived values come from the project's views, selections map back to
subjects, and a subject outside the selection is said to be so."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analytics import profile as pr
from analytics.schema import DAYS_PER_YEAR

N_PICKED = 6


@pytest.fixture(scope="module")
def raw(study):
    """The raw tables of the default study, as pandas frames."""
    return {name: study.con.execute(f"SELECT * FROM {name}").df()
            for name in ("subjects", "visits", "adverse_events", "medications")}


@pytest.fixture(scope="module")
def picked(raw):
    rng = np.random.default_rng(14)
    ids = sorted(raw["subjects"]["subject_id"])
    chosen = list(rng.choice(ids, size=N_PICKED, replace=False))
    # make sure a withdrawn subject is among them
    withdrawn = sorted(raw["subjects"].loc[raw["subjects"]["status"] == "withdrawn", "subject_id"])
    if not set(chosen) & set(withdrawn):
        chosen.append(withdrawn[int(rng.integers(len(withdrawn)))])
    return chosen


def _das28_esr(v: pd.DataFrame) -> pd.Series:
    return (0.56 * np.sqrt(v["tjc28"]) + 0.28 * np.sqrt(v["sjc28"]) + 0.70 * np.log(v["esr"])
            + 0.014 * v["patient_global"])


def _das28_crp(v: pd.DataFrame) -> pd.Series:
    return (0.56 * np.sqrt(v["tjc28"]) + 0.28 * np.sqrt(v["sjc28"]) + 0.36 * np.log(v["crp"] + 1)
            + 0.014 * v["patient_global"] + 0.96)


def test_profile_numbers_equal_raw_tables(study, raw, picked):
    for sid in picked:
        prof = pr.patient_profile(study, sid, "nri")
        subj = raw["subjects"].set_index("subject_id").loc[sid]
        infusion = pd.Timestamp(subj["infusion_date"])
        # visits: every raw value, and DAS28 recomputed here from the raw components
        visits = raw["visits"][raw["visits"]["subject_id"] == sid].set_index("visit")
        shown = prof.visits.set_index("timepoint")
        assert sorted(shown.index) == sorted(visits.index)
        shown = shown.loc[visits.index]
        for col in ("tjc28", "sjc28", "esr", "crp", "patient_global", "physician_global", "pain",
                    "haq_di"):
            pd.testing.assert_series_equal(shown[col].astype(float), visits[col].astype(float),
                                           check_names=False)
        np.testing.assert_allclose(shown["das28_esr"], _das28_esr(visits), rtol=1e-12)
        np.testing.assert_allclose(shown["das28_crp"], _das28_crp(visits), rtol=1e-12)
        days = (pd.to_datetime(visits["visit_date"]) - infusion).dt.days
        np.testing.assert_allclose(shown["years"], days / DAYS_PER_YEAR, rtol=1e-12)
        # baseline characteristics
        base = prof.baseline.set_index("characteristic")["value"]
        for col in ("study_id", "arm", "sex", "age", "ra_duration_years", "rf_positive",
                    "prior_bdmard", "status"):
            assert base[col] == subj[col], (sid, col)
        bl = visits.loc[["BL"]]
        assert base["bl_das28_esr"] == pytest.approx(float(_das28_esr(bl).iloc[0]), rel=1e-12)
        # medications and adverse events: same rows, same dates
        meds = raw["medications"][raw["medications"]["subject_id"] == sid]
        assert sorted(zip(prof.medications["drug_name"], prof.medications["start_date"])) == \
            sorted(zip(meds["drug_name"], meds["start_date"]))
        aes = raw["adverse_events"][raw["adverse_events"]["subject_id"] == sid]
        assert sorted(prof.adverse_events["ae_id"]) == sorted(aes["ae_id"])
        merged = prof.adverse_events.merge(aes, on="ae_id", suffixes=("", "_raw"))
        assert (merged["pt"] == merged["pt_raw"]).all()
        assert (merged["serious"] == merged["serious_raw"]).all()
        assert (merged["severity"] == merged["severity_raw"]).all()
        # milestones
        events = prof.milestones.set_index("event")
        assert events.loc["end_of_follow_up", "date"] == subj["last_assessment_date"]
        assert ("withdrawal" in events.index) == (subj["status"] == "withdrawn")


def test_responses_are_the_views_own(study, picked):
    for sid in picked:
        prof = pr.patient_profile(study, sid, "nri")
        view = study.query("SELECT visit AS timepoint, acr20, acr50, acr70, eular, das28_category"
                           " FROM visit_measures WHERE subject_id = ? ORDER BY visit_order",
                           [sid])
        pd.testing.assert_frame_equal(
            prof.visits[["timepoint", "acr20", "acr50", "acr70", "eular", "das28_category"]],
            view, check_dtype=False)


def test_outside_selection_is_said(study, raw):
    subjects = raw["subjects"]
    withdrawn = subjects.loc[subjects["status"] == "withdrawn", "subject_id"].iloc[0]
    prof = pr.patient_profile(study, withdrawn, "completers")
    assert prof.visits.attrs["in_selection"] is False
    assert prof.visits.attrs["footnote"].startswith("This subject is outside")
    assert pr.patient_profile(study, withdrawn, "nri").visits.attrs["in_selection"] is True
    woman = subjects.loc[subjects["sex"] == "F", "subject_id"].iloc[0]
    assert pr.in_selection(study, woman, "nri", sex="F")
    assert not pr.in_selection(study, woman, "nri", sex="M")
    zh = pr.patient_profile(study, woman, "nri", lang="zh", sex="M")
    assert "不在当前选择范围内" in zh.visits.attrs["footnote"]


def test_unknown_subject_is_named(study):
    with pytest.raises(ValueError, match="NOPE-1"):
        pr.patient_profile(study, "NOPE-1")


def test_selection_maps_back_to_subjects(study, raw, picked):
    from analytics.charts.profile import profile_figure
    prof = pr.patient_profile(study, picked[0], "nri")
    fig = profile_figure(prof)
    for trace in fig.data:
        assert set(trace.customdata) == {picked[0]}
    event = {"selection": {"points": [{"customdata": picked[1]}, {"customdata": [picked[0]]},
                                      {"customdata": picked[1]}, {"x": 1}]}}
    ids = pr.subject_ids_from_selection(event)
    assert ids == [picked[1], picked[0]]
    listing = pr.subjects_listing(study, [*ids, "NOPE-1"], "completers")
    assert list(listing["subject_id"]) == ids
    # each subject's profile link is the profile view's canonical address, keeping the
    # global filters of the view it is listed on
    from analytics import views
    from analytics.views.patient_profile import profile_state
    on = views.parse_address("trajectories?pop=nri&sex=F&lines=1", study)
    state = profile_state(study, on, picked[1])
    assert views.parse_address(state.address(), study) == state
    assert state["subject"] == picked[1] and state.population == "nri"
    assert state["sex"] == "F"
    status = raw["subjects"].set_index("subject_id")["status"]
    assert list(listing["in_selection"]) == [status[i] == "completed" for i in ids]


def test_sankey_link_lists_its_subjects(study):
    tr = study.transitions("completers", "BL", "Y1")
    cell = tr[tr["count"] > 0].iloc[0]
    ids = pr.subjects_in_flow(study, "completers", cell["arm"], "BL", cell["from_category"], "Y1",
                              cell["to_category"])
    assert len(ids) == cell["count"]


def test_trajectory_lines_carry_subject_ids(study):
    from analytics.charts.efficacy import trajectory_figure
    df = study.trajectories("DAS28_ESR", "completers")
    from analytics.trajectories import subject_values
    individual = subject_values(study, "DAS28_ESR", "completers")
    fig = trajectory_figure(df, individual)
    ids = {c for trace in fig.data if trace.customdata is not None for c in trace.customdata
           if c is not None}
    assert ids == set(individual["subject_id"])


def test_displays_in_both_languages(study, picked):
    for lang in ("en", "zh"):
        prof = pr.patient_profile(study, picked[0], "nri", lang=lang)
        table = pr.visits_display(prof.visits)
        assert len(table) == len(prof.visits)
        base = pr.baseline_display(prof.baseline)
        assert len(base) == len(pr.BASELINE_COLUMNS)


def test_sankey_link_customdata_maps_to_subjects(study):
    from analytics.charts.disease_activity import link_flow, sankey_figure, sankey_links
    flows = study.flows("completers", ["BL", "Y1", "Y3"])
    fig = sankey_figure(flows, "MSC", lang="zh")
    link = sankey_links(fig)
    for data, value in zip(link.customdata, link.text):
        from_tp, from_cat, to_tp, to_cat = link_flow(data)
        ids = pr.subjects_in_flow(study, "completers", "MSC", from_tp, from_cat, to_tp, to_cat)
        assert len(ids) == int(value)


def test_sae_listing_rows_lead_to_their_profiles(study, raw):
    listing = study.sae_listing()
    rows = listing.head(3)
    subjects = pr.subjects_listing(study, rows["subject_id"], "safety")
    assert list(subjects["subject_id"]) == list(dict.fromkeys(rows["subject_id"]))
    serious = raw["adverse_events"][raw["adverse_events"]["serious"] == 1]
    for sid in subjects["subject_id"]:
        prof = pr.patient_profile(study, sid, "safety")
        shown = set(prof.adverse_events.loc[prof.adverse_events["serious"] == 1, "ae_id"])
        assert shown == set(serious.loc[serious["subject_id"] == sid, "ae_id"])


def test_profile_respects_the_comparison(study, raw):
    from analytics.population import randomised_trials
    trials = randomised_trials(study)
    outside = raw["subjects"].loc[~raw["subjects"]["study_id"].isin(trials), "subject_id"]
    inside = raw["subjects"].loc[raw["subjects"]["study_id"].isin(trials), "subject_id"]
    assert pr.in_selection(study, inside.iloc[0], "nri", comparison="randomised")
    if len(outside):
        prof = pr.patient_profile(study, outside.iloc[0], "nri", comparison="randomised")
        assert prof.visits.attrs["in_selection"] is False
        assert prof.visits.attrs["comparison"] == "randomised"


def test_sankey_nodes_map_to_their_subjects(study):
    """A selected Sankey node lists the subjects in its category at its time point."""
    from analytics.charts.disease_activity import link_flow, sankey_figure
    from analytics.disease_activity import subject_categories
    flows = study.flows("nri", ["BL", "Y1", "Y3"])
    fig = sankey_figure(flows, "MSC_IFNG")
    nodes = fig.data[-1]
    cats = subject_categories(study, "nri", ["BL", "Y1", "Y3"])
    cats = cats[cats["arm"] == "MSC_IFNG"]
    for data, size in zip(nodes.customdata, nodes.text):
        tp, category, tp2, category2 = link_flow(data)
        assert (tp, category) == (tp2, category2)
        ids = pr.subjects_in_flow(study, "nri", "MSC_IFNG", tp, category, tp, category)
        expected = cats[(cats["timepoint"] == tp) & (cats["category"] == category)]
        assert sorted(ids) == sorted(expected["subject_id"])
        assert len(ids) == int(size)
