"""The efficacy estimands (STUDY.md section 4): NRI after Year 5, the randomised comparison, the
trial filter, small numbers and multiplicity.

Brute-force counts read the raw tables (``SELECT *``) and apply the rules in pandas, apart from
the project's SQL views.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.multitest import multipletests

from analytics.annotate import caption
from analytics.caution import CAUTION_ARM_BELOW, MIN_ARM_FOR_TEST
from analytics.design import differs_materially, response_note, survival_note
from analytics.population import randomised_trials, select, trial_ids
from analytics.response import ENDPOINTS, comparison_display, compare_rates, response_rates
from analytics.schema import ARMS, VISIT_DAYS
from analytics.stats import holm_adjust

LATE_VISITS = ("M66", "Y6", "M78", "Y7")


@pytest.fixture(scope="module")
def raw(study):
    subjects = study.query("SELECT * FROM subjects")
    visits = study.query("SELECT * FROM visits")
    return subjects, visits


def _days(later, earlier) -> pd.Series:
    return (pd.to_datetime(later) - pd.to_datetime(earlier)).dt.days


def _nri_denominator(subjects: pd.DataFrame, visits: pd.DataFrame, tp: str) -> dict:
    """Per arm: everyone, less the completers without a visit at ``tp`` whose last assessment
    came before its nominal day (follow-up ended: not a failure)."""
    had_visit = set(visits.loc[visits["visit"] == tp, "subject_id"])
    ended = ((subjects["status"] == "completed")
             & (_days(subjects["last_assessment_date"], subjects["infusion_date"])
                < VISIT_DAYS[tp])
             & ~subjects["subject_id"].isin(had_visit))
    kept = subjects[~ended]
    return {arm: int((kept["arm"] == arm).sum()) for arm in ARMS}


def _ended(subjects, visits, tp) -> dict:
    whole = {arm: int((subjects["arm"] == arm).sum()) for arm in ARMS}
    kept = _nri_denominator(subjects, visits, tp)
    return {arm: whole[arm] - kept[arm] for arm in ARMS}


# -- NRI after Year 5 -------------------------------------------------------------------------
@pytest.mark.parametrize("endpoint", ["ACR20", "DAS28_LDA", "HAQ_MCID"])
def test_nri_denominators_after_year_5_match_brute_force(study, raw, endpoint):
    subjects, visits = raw
    df = response_rates(study, endpoint, "nri")
    for tp in LATE_VISITS:
        expected = _nri_denominator(subjects, visits, tp)
        got = {arm: int(df[(df["arm"] == arm) & (df["timepoint"] == tp)]["n"].iloc[0])
               for arm in ARMS}
        assert got == expected, tp
        # follow-up really had ended for some: the old whole-arm denominator was wrong here
        assert sum(expected.values()) < len(subjects), tp


def test_nri_issue_example_year_7(study, raw):
    """The issue's example: 49 MSC and 21 MSC + IFN-γ completers had not reached Year 7."""
    subjects, visits = raw
    assert _ended(subjects, visits, "Y7") == {"MSC": 49, "MSC_IFNG": 21}
    df = response_rates(study, "ACR20", "nri").set_index(["timepoint", "arm"])
    assert df.at[("Y7", "MSC"), "n"] == 79 - 49
    assert df.at[("Y7", "MSC_IFNG"), "n"] == 31 - 21
    assert df.at[("Y7", "MSC"), "n_ended"] == 49


def test_nri_published_timepoints_keep_whole_arms(study):
    for endpoint in ENDPOINTS:
        df = response_rates(study, endpoint, "nri").set_index(["timepoint", "arm"])
        for tp in ("Y1", "Y3", "Y5"):
            assert df.at[(tp, "MSC"), "n"] == 79 and df.at[(tp, "MSC_IFNG"), "n"] == 31


def test_nri_footnote_names_both_rules_and_the_count(study, raw):
    subjects, visits = raw
    c = compare_rates(study, "ACR20", "nri")
    foot = c.attrs["footnote"]
    assert "non-responder" in foot and "leaves the denominator" in foot
    ended = _ended(subjects, visits, "Y7")
    assert f"Year 7 {ended['MSC']} / {ended['MSC_IFNG']}" in foot
    zh = compare_rates(study, "ACR20", "nri", lang="zh").attrs["footnote"]
    assert "不计入分母" in zh and f"{ended['MSC']} / {ended['MSC_IFNG']}" in zh


def test_completers_unchanged_by_follow_up_rule(study):
    df = response_rates(study, "ACR20", "completers").set_index(["timepoint", "arm"])
    assert (df.at[("Y1", "MSC"), "responders"], df.at[("Y1", "MSC"), "n"]) == (35, 69)
    assert (df.at[("Y5", "MSC_IFNG"), "responders"], df.at[("Y5", "MSC_IFNG"), "n"]) == (25, 28)


def test_medications_nri_denominators_follow_the_rule(study, raw):
    subjects, visits = raw
    meds = study.medications("nri", timepoints=["Y1", "Y7"])
    for tp in ("Y1", "Y7"):
        withdrawn_before = ((subjects["status"] == "withdrawn")
                            & (_days(subjects["withdrawal_date"], subjects["infusion_date"])
                               < VISIT_DAYS[tp]))
        kept = _nri_denominator(subjects, visits, tp)
        for arm in ARMS:
            expected = kept[arm] - int((withdrawn_before & (subjects["arm"] == arm)).sum())
            got = meds[(meds["timepoint"] == tp) & (meds["arm"] == arm)]["n"]
            assert (got == expected).all(), (tp, arm)
    assert "follow-up ended" in meds.attrs["footnote"]
    # Table 4 (completers) keeps the subjects with the visit
    table4 = study.medications("completers").set_index(["drug_class", "timepoint", "arm"])
    assert table4.at[("prednisone", "Y5", "MSC"), "n"] == 69


# -- the randomised comparison and the trial filter -------------------------------------------
def test_trials_and_randomised_trial_come_from_the_data(study, raw):
    subjects, _ = raw
    assert trial_ids(study) == sorted(subjects["study_id"].unique())
    both = subjects.groupby("study_id")["arm"].nunique()
    assert randomised_trials(study) == sorted(both[both == len(ARMS)].index)


def _raw_n(subjects, population, trials) -> dict:
    sel = subjects[subjects["study_id"].isin(trials)]
    if population == "completers":
        sel = sel[sel["status"] == "completed"]
    return {arm: int((sel["arm"] == arm).sum()) for arm in ARMS}


@pytest.mark.parametrize("population", ["completers", "nri"])
def test_randomised_n_per_arm_response_and_survival(study, raw, population):
    subjects, _ = raw
    trials = randomised_trials(study)
    expected = _raw_n(subjects, population, trials)
    rates = response_rates(study, "ACR20", population, comparison="randomised")
    assert rates.attrs["n_per_arm"] == expected
    assert rates.attrs["comparison"] == "randomised"
    assert trials[0] in rates.attrs["comparison_label"]
    if population == "nri":
        y1 = rates[rates["timepoint"] == "Y1"].set_index("arm")["n"].to_dict()
        assert y1 == expected
    surv = study.survival("ACR20", population, comparison="randomised")
    assert surv.summary.set_index("arm")["n"].to_dict() == expected
    assert surv.summary.attrs["comparison"] == "randomised"


def test_randomised_n_per_arm_safety(study, raw):
    subjects, _ = raw
    expected = _raw_n(subjects, "safety", randomised_trials(study))
    summary = study.ae_summary(comparison="randomised")
    assert summary.attrs["n_per_arm"] == expected
    assert summary.attrs["comparison"] == "randomised"
    assert study.baseline("completers", comparison="randomised").attrs["n_per_arm"] == \
        _raw_n(subjects, "completers", randomised_trials(study))


def test_trial_filter(study, raw):
    subjects, _ = raw
    for trial in trial_ids(study):
        df = response_rates(study, "ACR20", "nri", study_id=trial)
        assert df.attrs["n_per_arm"] == _raw_n(subjects, "nri", [trial])
        assert df.attrs["filters"] == {"study_id": trial}
    # a trial the file does not hold selects no one; bad values are refused
    empty = response_rates(study, "ACR20", "nri", study_id="NCT-not-here")
    assert empty.attrs["n_per_arm"] == {"MSC": 0, "MSC_IFNG": 0}
    with pytest.raises(ValueError):
        select("nri", study_id=3)
    with pytest.raises(ValueError):
        select("nri", comparison="pooled")


def test_caption_states_comparison_and_subgroups(study):
    df = compare_rates(study, "ACR20", "nri", sex="F", comparison="randomised")
    assert df.attrs["filters"] == {"sex": "F"}
    text = caption(df.attrs)
    assert f"randomised comparison ({randomised_trials(study)[0]})" in text and "Female" in text
    zh = caption(compare_rates(study, "ACR20", "nri", sex="F", comparison="randomised",
                               lang="zh").attrs)
    assert "随机对照比较" in zh and "女性" in zh
    pooled = compare_rates(study, "ACR20", "nri")
    assert pooled.attrs["comparison"] == "all" and pooled.attrs["filters"] == {}
    assert "as published" in caption(pooled.attrs)


# -- multiplicity ------------------------------------------------------------------------------
def test_holm_matches_statsmodels(study):
    df = compare_rates(study, "ACR50", "nri")
    finite = df["p_value"].notna().to_numpy()
    expected = multipletests(df.loc[finite, "p_value"].to_numpy(), method="holm")[1]
    np.testing.assert_allclose(df.loc[finite, "p_holm"].to_numpy(), expected, rtol=0, atol=1e-12)
    assert (df["p_holm"] >= df["p_value"] - 1e-15).all()
    # NaN stays NaN and is not counted as a test
    out = holm_adjust([0.01, float("nan"), 0.04])
    assert math.isnan(out[1])
    np.testing.assert_allclose(out[[0, 2]], multipletests([0.01, 0.04], method="holm")[1])
    # ties, unsorted input, values capped at 1, against statsmodels on random sets
    rng = np.random.default_rng(642)
    for size in (1, 2, 5, 16, 40):
        p = rng.uniform(0, 0.2, size) ** rng.uniform(0.5, 3)
        p[: size // 3] = p[0]  # ties
        rng.shuffle(p)
        np.testing.assert_allclose(holm_adjust(p), multipletests(p, method="holm")[1],
                                   rtol=0, atol=1e-15)
    np.testing.assert_allclose(holm_adjust([0.6, 0.5, 0.9]),
                               multipletests([0.6, 0.5, 0.9], method="holm")[1])


def test_nominal_and_holm_labels(study):
    df = compare_rates(study, "ACR20", "completers")
    tested = int(df["p_value"].notna().sum())
    assert "nominal" in df.attrs["footnote"] and f"{tested} time points" in df.attrs["footnote"]
    assert "p (Fisher, nominal)" in comparison_display(df).columns
    holm = comparison_display(df, adjusted=True)
    assert "p (Holm-adjusted across time points)" in holm.columns
    assert "p (Fisher, nominal)" not in holm.columns


# -- small numbers ----------------------------------------------------------------------------
def test_small_arms_give_nan_with_reason_and_caution(study):
    # men in the randomised trial: 5 MSC and 4 MSC + IFN-γ up to Year 5, fewer later
    df = compare_rates(study, "ACR20", "nri", sex="M", comparison="randomised")
    n_min = df[[f"n_{a}" for a in ARMS]].min(axis=1)
    too_small = n_min < MIN_ARM_FOR_TEST
    assert too_small.any() and (~too_small).any()
    assert df.loc[too_small, ["diff_ci_low", "diff_ci_high", "p_value", "p_holm"]].isna().all().all()
    assert set(df.loc[too_small & (n_min > 0), "not_estimable"]) == {"arm_too_small"}
    caution = (n_min >= MIN_ARM_FOR_TEST) & (n_min < CAUTION_ARM_BELOW)
    assert caution.any()
    assert (df["caution"] == caution).all()
    assert (df.loc[~too_small, "not_estimable"] == "").all()
    assert df.loc[~too_small, "p_value"].notna().all()
    shown = comparison_display(df)
    p_col = shown.columns[-1]
    assert shown.loc[too_small, p_col].str.startswith("not estimable").all()
    assert shown.loc[caution, shown.columns[0]].str.endswith("†").all()
    assert "fewer than 10 subjects" in df.attrs["footnote"]
    # Holm counts only the time points with a test
    assert f"{int((~too_small).sum())} time points" in df.attrs["footnote"]


def test_no_subjects_in_an_arm(study):
    df = compare_rates(study, "ACR20", "nri", study_id="ChiCTR-ONC-16008770")
    assert (df["n_MSC_IFNG"] == 0).all()
    assert (df["not_estimable"] == "no_subjects").all()
    assert df["p_value"].isna().all() and df["diff_ci_low"].isna().all()


# -- pooled vs randomised ---------------------------------------------------------------------
def test_differs_materially_rule():
    assert not differs_materially(0.30, 0.25, 0.05, 0.45)       # inside, same direction
    assert differs_materially(0.50, 0.25, 0.05, 0.45)           # outside the CI
    assert differs_materially(0.02, -0.01, -0.30, 0.30)         # opposite direction
    assert not differs_materially(0.30, float("nan"), 0.0, 0.5)  # nothing to compare with
    assert differs_materially(2.5, 1.2, 0.8, 1.9, null=1.0)     # hazard ratio outside
    assert differs_materially(1.1, 0.9, 0.5, 1.6, null=1.0)     # hazard ratio, other side of 1
    assert not differs_materially(1.1, 1.2, 0.5, 1.6, null=1.0)


class _FakeStudy:
    """compare_rates frames chosen by the test; the real study for the trial names."""

    def __init__(self, study, pooled, randomised):
        self._study, self._frames = study, {"all": pooled, "randomised": randomised}

    def query(self, sql, params=()):
        return self._study.query(sql, params)

    def compare_rates(self, endpoint, population, lang="en", **filters):
        return self._frames[filters.get("comparison", "all")]


def test_response_note_appears_only_when_material(study):
    frame = lambda diff, low, high: pd.DataFrame(  # noqa: E731
        {"timepoint": ["Y1"], "diff": [diff], "diff_ci_low": [low], "diff_ci_high": [high]})
    same = _FakeStudy(study, frame(0.3, 0.1, 0.5), frame(0.3, 0.1, 0.5))
    assert response_note(same, "ACR20", "nri", "Y1") == ""
    apart = _FakeStudy(study, frame(0.6, 0.3, 0.8), frame(0.2, 0.05, 0.4))
    note = response_note(apart, "ACR20", "nri", "Y1")
    assert "randomised comparison" in note and randomised_trials(study)[0] in note
    assert "60.0" in note
    assert "随机对照比较" in response_note(apart, "ACR20", "nri", "Y1", lang="zh")
    # the default cohort: pooled and randomised agree at the published time points
    for tp in ("Y1", "Y3", "Y5"):
        assert response_note(study, "ACR20", "completers", tp) == ""
    assert survival_note(study, "ACR20", "completers") == ""


def test_medications_small_arms(study):
    meds = study.medications("nri", timepoints=["Y1", "Y6"], sex="M",
                             comparison="randomised")
    per_tp = meds.drop_duplicates(["timepoint", "arm"]).pivot(index="timepoint", columns="arm",
                                                              values="n")
    n_min = per_tp.min(axis=1)
    assert 0 < n_min["Y6"] < MIN_ARM_FOR_TEST <= n_min["Y1"] < CAUTION_ARM_BELOW
    y6, y1 = meds[meds["timepoint"] == "Y6"], meds[meds["timepoint"] == "Y1"]
    assert y6["p_value"].isna().all() and set(y6["not_estimable"]) == {"arm_too_small"}
    assert y1["p_value"].notna().all() and y1["caution"].all()
    from analytics.medications import medications_display
    shown = medications_display(meds).to_string()
    assert "not estimable" in shown and "†" in shown
    assert "fewer than 10 subjects" in meds.attrs["footnote"]


class _FakeSurvivalStudy:
    """survival() summaries with hazard ratios chosen by the test."""

    def __init__(self, study, pooled, randomised):
        self._study, self._hr = study, {"all": pooled, "randomised": randomised}

    def query(self, sql, params=()):
        return self._study.query(sql, params)

    def survival(self, endpoint, population, horizon_years=None, lang="en", **filters):
        hr, low, high = self._hr[filters.get("comparison", "all")]
        summary = pd.DataFrame({"arm": list(ARMS), "hazard_ratio": [float("nan"), hr],
                                "hr_ci_low": [float("nan"), low],
                                "hr_ci_high": [float("nan"), high]})
        return type("Result", (), {"summary": summary})()

    def hazard_ratio_estimate(self, endpoint, population, horizon_years=None, **filters):
        # the hazard-ratio-only numbers: the same ratios (its frame has the same columns)
        return self.survival(endpoint, population, horizon_years, **filters).summary


def test_survival_note_appears_only_when_material(study):
    apart = _FakeSurvivalStudy(study, (3.1, 1.9, 4.9), (1.4, 0.8, 2.3))
    note = survival_note(apart, "ACR20", "nri")
    assert "3.10" in note and "0.80" in note and "2.30" in note
    assert randomised_trials(study)[0] in note
    same = _FakeSurvivalStudy(study, (1.6, 1.0, 2.5), (1.4, 0.8, 2.3))
    assert survival_note(same, "ACR20", "nri") == ""
    # not estimable in the randomised comparison: no claim
    unknown = _FakeSurvivalStudy(study, (3.1, 1.9, 4.9), (float("nan"),) * 3)
    assert survival_note(unknown, "ACR20", "nri") == ""
