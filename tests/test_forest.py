"""Subgroup forest plot (issue 14 item 3): rows against compare_rates / survival run with each
subgroup filter, interaction p against independent statsmodels fits, not-estimable rules."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from analytics.forest import (SUBGROUPS, forest_display, forest_response, forest_survival,
                              subject_responses)
from analytics.charts.forest import forest_figure
from analytics.population import SUBGROUP_FILTERS
from analytics.response import compare_rates
from analytics.survival import survival

CASES = [("ACR20", "Y1", "completers"), ("DAS28_REM", "Y7", "nri"), ("ACR50", "Y3", "completers")]


@pytest.mark.parametrize("endpoint,timepoint,population", CASES)
def test_rows_equal_compare_rates_with_each_subgroup_filter(study, endpoint, timepoint, population):
    forest = forest_response(study, endpoint, timepoint, population)
    overall = compare_rates(study, endpoint, population).set_index("timepoint").loc[timepoint]
    checked = 0
    for _, row in forest[forest["row_kind"].isin(["overall", "level"])].iterrows():
        ref = overall if row["row_kind"] == "overall" else compare_rates(
            study, endpoint, population, **{row["subgroup"]: row["level"]}
        ).set_index("timepoint").loc[timepoint]
        for arm in ("MSC", "MSC_IFNG"):
            assert row[f"n_{arm}"] == ref[f"n_{arm}"]
            assert row[f"responders_{arm}"] == ref[f"responders_{arm}"]
        if row["reason"] == "arm_too_small":
            assert math.isnan(row["diff"]) and min(row["n_MSC"], row["n_MSC_IFNG"]) < 3
            continue
        for col in ("diff", "diff_ci_low", "diff_ci_high", "p_value"):
            assert row[col] == pytest.approx(ref[col], abs=1e-12)
        checked += 1
    assert checked >= 5
    assert set(forest["subgroup"]) - {""} == set(SUBGROUPS) <= set(SUBGROUP_FILTERS)


def test_randomised_comparison_keeps_the_randomising_trial_only(study):
    from analytics.population import randomised_trials
    forest = forest_response(study, "ACR50", "Y3", "completers", comparison="randomised")
    trial = forest[forest["subgroup"] == "study_id"]
    assert list(trial["level"]) == randomised_trials(study)
    assert (trial["interaction_reason"] == "single_level").all()
    assert forest.attrs["comparison"] == "randomised"
    ref = compare_rates(study, "ACR50", "completers", comparison="randomised")
    ref = ref.set_index("timepoint").loc["Y3"]
    assert forest.iloc[0]["diff"] == pytest.approx(ref["diff"], abs=1e-12)


def test_trial_rows_count_the_subjects_of_each_trial(study):
    forest = forest_response(study, "ACR20", "Y1", "completers")
    trial = forest[forest["subgroup"] == "study_id"]
    subjects = study.query("SELECT study_id, arm, count(*) AS n FROM subject_info "
                           "WHERE status = 'completed' GROUP BY ALL")
    responses = subject_responses(study, "ACR20", "Y1", "completers")
    assert set(trial["level"]) == set(subjects["study_id"])
    for _, row in trial.iterrows():
        for arm in ("MSC", "MSC_IFNG"):
            counted = responses[(responses.study_id == row["level"]) & (responses.arm == arm)]
            assert row[f"n_{arm}"] == len(counted)
            assert row[f"responders_{arm}"] == counted["response"].sum()
    # a trial that gave one arm only: no comparison, no interaction test, with the reason
    one_arm = trial[(trial["n_MSC"] < 3) | (trial["n_MSC_IFNG"] < 3)]
    assert (one_arm["reason"] == "arm_too_small").all()
    assert trial["interaction_p"].isna().all()
    assert (trial["interaction_reason"] == "arm_too_small").all()


def _design(df: pd.DataFrame, subgroup: str, interaction: bool) -> np.ndarray:
    levels = sorted(df[subgroup].unique(), key=str)
    treated = (df["arm"] == "MSC_IFNG").to_numpy(float)
    cols = [np.ones(len(df)), treated]
    for level in levels[1:]:
        cols.append((df[subgroup] == level).to_numpy(float))
    if interaction:
        for level in levels[1:]:
            cols.append(treated * (df[subgroup] == level).to_numpy(float))
    return np.column_stack(cols), len(levels) - 1


@pytest.mark.parametrize("endpoint,timepoint,population", CASES)
def test_interaction_p_equals_an_independent_glm_fit(study, endpoint, timepoint, population):
    forest = forest_response(study, endpoint, timepoint, population)
    df = subject_responses(study, endpoint, timepoint, population)
    compared = 0
    for subgroup in SUBGROUPS:
        p = forest.loc[forest["subgroup"] == subgroup, "interaction_p"].iloc[0]
        if math.isnan(p):
            reason = forest.loc[forest["subgroup"] == subgroup, "interaction_reason"].iloc[0]
            assert reason in ("separation", "arm_too_small", "single_level")
            continue
        y = df["response"].to_numpy(float)
        x_full, k = _design(df, subgroup, True)
        x_red, _ = _design(df, subgroup, False)
        full = sm.GLM(y, x_full, family=sm.families.Binomial()).fit()
        red = sm.GLM(y, x_red, family=sm.families.Binomial()).fit()
        expected = stats.chi2.sf(2 * (full.llf - red.llf), k)
        assert p == pytest.approx(expected, rel=1e-6, abs=1e-10)
        compared += 1
    if endpoint == "ACR50":
        assert compared >= 3  # the case chosen to have no separation


def test_separation_is_detected_and_not_estimable(study):
    # ACR20 at Y1: every MSC + IFN-γ completer responded (separation)
    forest = forest_response(study, "ACR20", "Y1", "completers")
    responses = subject_responses(study, "ACR20", "Y1", "completers")
    assert responses.loc[responses.arm == "MSC_IFNG", "response"].all()
    overall, adjusted = forest.iloc[0], forest.iloc[1]
    assert math.isnan(overall["odds_ratio"]) and overall["reason"] == "separation"
    assert math.isnan(adjusted["odds_ratio"]) and adjusted["reason"] == "separation"
    shown = forest_display(forest)
    assert shown.iloc[1, 4].startswith("not estimable")


def test_adjusted_odds_ratio_equals_an_independent_glm_fit(study):
    forest = forest_response(study, "ACR70", "Y3", "completers")
    row = forest[forest["row_kind"] == "adjusted"].iloc[0]
    df = subject_responses(study, "ACR70", "Y3", "completers").dropna(subset=["bl_das28_esr"])
    x = np.column_stack([np.ones(len(df)), (df["arm"] == "MSC_IFNG").to_numpy(float),
                         df["bl_das28_esr"].to_numpy(float), df["prior_bdmard"].to_numpy(float)]
                        + [(df["study_id"] == s).to_numpy(float)
                           for s in sorted(df["study_id"].unique())[1:]])
    fit = sm.GLM(df["response"].to_numpy(float), x, family=sm.families.Binomial()).fit()
    assert row["odds_ratio"] == pytest.approx(math.exp(fit.params[1]), rel=1e-6)
    se = fit.bse[1]
    assert row["or_ci_low"] == pytest.approx(math.exp(fit.params[1] - 1.959963984540054 * se),
                                             rel=1e-6)
    # the unadjusted odds ratio is the 2x2 one
    overall = forest.iloc[0]
    a, b = overall["responders_MSC_IFNG"], overall["n_MSC_IFNG"] - overall["responders_MSC_IFNG"]
    c, d = overall["responders_MSC"], overall["n_MSC"] - overall["responders_MSC"]
    assert overall["odds_ratio"] == pytest.approx(a * d / (b * c), rel=1e-12)


def test_attrs_and_filtered_subgroup_dropped(study):
    forest = forest_response(study, "ACR70", "Y3", "completers", lang="zh", sex="F")
    assert forest.attrs["filters"] == {"sex": "F"}
    assert forest.attrs["timepoint"] == "Y3"
    assert forest.attrs["method"] and forest.attrs["footnote"]
    assert "sex" not in set(forest["subgroup"])
    fig = forest_figure(forest, "diff")
    assert len(fig.data) >= 1


@pytest.mark.parametrize("endpoint,population", [("ACR50", "completers"), ("WITHDRAWAL", "nri")])
def test_survival_rows_equal_survival_with_each_filter(study, endpoint, population):
    from statsmodels.duration.hazard_regression import PHReg
    from analytics.survival import subject_times

    forest = forest_survival(study, endpoint, population)
    for _, row in forest.iterrows():
        filt = {} if row["row_kind"] == "overall" else {row["subgroup"]: row["level"]}
        ref = survival(study, endpoint, population, **filt)
        if row["reason"]:
            assert math.isnan(row["hazard_ratio"])
            continue
        assert row["hazard_ratio"] == pytest.approx(ref.hazard_ratio, rel=1e-9)
        assert row["hr_ci_low"] == pytest.approx(ref.hr_ci_low, rel=1e-9)
    # interaction p: an independent Cox fit (statsmodels PHReg, Efron ties), LR test
    times = subject_times(study, endpoint, population)
    groups = study.query("SELECT subject_id, sex, age_band, baseline_activity, prior_bdmard, "
                         "study_id FROM subject_info")
    df = times.merge(groups, on="subject_id")
    compared = 0
    for subgroup in SUBGROUPS:
        p = forest.loc[forest["subgroup"] == subgroup, "interaction_p"].iloc[0]
        if math.isnan(p):
            continue
        x_full, k = _design(df, subgroup, True)
        x_red, _ = _design(df, subgroup, False)
        t_ = df["time"].clip(lower=1e-9).to_numpy()
        e_ = df["event"].to_numpy(int)
        full = PHReg(t_, x_full[:, 1:], status=e_, ties="efron").fit()
        red = PHReg(t_, x_red[:, 1:], status=e_, ties="efron").fit()
        assert p == pytest.approx(stats.chi2.sf(2 * (full.llf - red.llf), k), rel=1e-4)
        compared += 1
    assert compared >= 1 or endpoint == "WITHDRAWAL"
    fig = forest_figure(forest, "hazard_ratio")
    assert len(fig.data) >= 1
    assert len(forest_display(forest)) == len(forest)
