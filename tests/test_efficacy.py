"""Efficacy analyses on the default study: the paper's Table 3 and Table 4, populations, CIs.

Brute-force checks recompute from the raw ``subjects``/``visits``/``medications`` tables with
pandas, independently of the SQL views.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint

from analytics import open_study
from analytics.i18n import fmt_p, t
from analytics.medications import medications, medications_display
from analytics.response import ENDPOINTS, compare_rates, comparison_display, response_rates
from analytics.schema import POST_BASELINE_VISITS, VISIT_DAYS
from analytics.trajectories import MEASURES, subject_values, trajectories, trajectories_display
from analytics.charts.efficacy import medications_figure, response_figure, trajectory_figure


@pytest.fixture(scope="module")
def raw(study):
    subjects = study.query("SELECT * FROM subjects")
    visits = study.query("SELECT * FROM visits")
    return subjects, visits


def _cell(df: pd.DataFrame, arm: str, tp: str) -> pd.Series:
    row = df[(df["arm"] == arm) & (df["timepoint"] == tp)]
    assert len(row) == 1, (arm, tp)
    return row.iloc[0]


# -- Table 3 (completers, published) -----------------------------------------------------------
TABLE3 = [  # endpoint, time point, (k, n, %) MSC, (k, n, %) MSC + IFN-γ
    ("ACR20", "Y1", (35, 69, 50.7), (28, 28, 100.0)),
    ("DAS28_LDA", "Y1", (6, 69, 8.7), (11, 28, 39.3)),
    ("DAS28_REM", "Y3", (1, 69, 1.4), (7, 28, 25.0)),
    ("ACR20", "Y5", (31, 69, 44.9), (25, 28, 89.3)),
    ("DAS28_LDA", "Y5", (6, 69, 8.7), (12, 28, 42.9)),
    ("DAS28_REM", "Y5", (2, 69, 2.9), (7, 28, 25.0)),
]


@pytest.mark.parametrize("endpoint,tp,msc,ifng", TABLE3)
def test_table3_cells(study, endpoint, tp, msc, ifng):
    df = response_rates(study, endpoint, "completers")
    for arm, (k, n, pct) in (("MSC", msc), ("MSC_IFNG", ifng)):
        row = _cell(df, arm, tp)
        assert (row["responders"], row["n"]) == (k, n)
        assert round(row["rate"] * 100, 1) == pytest.approx(pct)


@pytest.mark.parametrize("endpoint", ["ACR50", "ACR70"])
def test_acr50_acr70_not_significant_at_yearly_time_points(study, endpoint):
    df = compare_rates(study, endpoint, "completers")
    yearly = df[df["timepoint"].isin(["Y1", "Y2", "Y3", "Y4", "Y5"])]
    assert len(yearly) == 5
    assert (yearly["p_value"] >= 0.05).all(), yearly[["timepoint", "p_value"]]


@pytest.mark.parametrize("endpoint", ["ACR50", "ACR70"])
def test_acr50_acr70_not_significant_at_every_time_point(study, endpoint):
    df = compare_rates(study, endpoint, "completers")
    assert len(df) > 0
    assert (df["p_value"] >= 0.05).all(), df[["timepoint", "p_value"]]


def test_remission_significance_pattern(study):
    df = compare_rates(study, "DAS28_REM", "completers").set_index("timepoint")
    assert df.at["Y1", "p_value"] >= 0.05
    assert df.at["Y3", "p_value"] < 0.05
    assert df.at["Y5", "p_value"] < 0.05


# -- populations ------------------------------------------------------------------------------
@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_nri_denominators_are_whole_arms_to_year_5(study, endpoint):
    # every completer was followed to Year 5; later, those whose follow-up ended leave
    df = response_rates(study, endpoint, "nri")
    assert set(df["timepoint"]) == set(POST_BASELINE_VISITS)
    to_y5 = df["timepoint"].isin(POST_BASELINE_VISITS[:POST_BASELINE_VISITS.index("Y5") + 1])
    assert (df.loc[to_y5 & (df["arm"] == "MSC"), "n"] == 79).all()
    assert (df.loc[to_y5 & (df["arm"] == "MSC_IFNG"), "n"] == 31).all()
    assert (df.loc[to_y5, "n_ended"] == 0).all()
    assert (df["n"] + df["n_ended"] == df["arm"].map({"MSC": 79, "MSC_IFNG": 31})).all()
    assert df.attrs["n_per_arm"] == {"MSC": 79, "MSC_IFNG": 31}


def test_completers_attrs(study):
    df = response_rates(study, "ACR20", "completers")
    assert df.attrs["n_per_arm"] == {"MSC": 69, "MSC_IFNG": 28}
    assert df.attrs["population"] == "completers"
    assert "Clopper" in df.attrs["method"]
    assert "observed" in df.attrs["footnote"]
    c = compare_rates(study, "ACR20", "nri")
    for word in ("Clopper", "Newcombe", "Fisher"):
        assert word in c.attrs["method"]
    assert "non-responder" in c.attrs["footnote"] and "withdrawn" in c.attrs["footnote"]
    zh = compare_rates(study, "ACR20", "nri", lang="zh")
    assert "无应答者" in zh.attrs["footnote"]


def _acr20_brute(subjects: pd.DataFrame, visits: pd.DataFrame) -> pd.DataFrame:
    """ACR20 per subject and post-baseline visit: True / False / None, from raw values."""
    comps = ["patient_global", "physician_global", "pain", "haq_di", "crp"]
    bl = visits[visits["visit"] == "BL"].set_index("subject_id")
    out = []
    for _, v in visits[visits["visit"] != "BL"].iterrows():
        b = bl.loc[v["subject_id"]]

        def imp(c):
            if pd.isna(b[c]) or pd.isna(v[c]):
                return None
            return 0.0 if b[c] == 0 else round((b[c] - v[c]) / b[c], 9)

        tj, sj = imp("tjc28"), imp("sjc28")
        core = [imp(c) for c in comps]
        met = sum(1 for x in core if x is not None and x >= 0.2)
        missing = sum(1 for x in core if x is None)
        if (tj is not None and tj < 0.2) or (sj is not None and sj < 0.2) or met + missing < 3:
            r = False
        elif tj is not None and sj is not None and tj >= 0.2 and sj >= 0.2 and met >= 3:
            r = True
        else:
            r = None
        out.append((v["subject_id"], v["visit"], r))
    df = pd.DataFrame(out, columns=["subject_id", "visit", "acr20"])
    return df.merge(subjects[["subject_id", "arm", "status"]], on="subject_id")


@pytest.fixture(scope="module")
def acr20_brute(raw):
    return _acr20_brute(*raw)


def _followed_at(subjects: pd.DataFrame, visits: pd.DataFrame, tp: str) -> pd.DataFrame:
    """The subjects still in an NRI denominator at ``tp``, by the rule in words (STUDY.md
    section 4): everyone except a completer without the visit whose last assessment came before
    the visit's nominal day (follow-up ended)."""
    had_visit = set(visits.loc[visits["visit"] == tp, "subject_id"])
    last_day = (pd.to_datetime(subjects["last_assessment_date"])
                - pd.to_datetime(subjects["infusion_date"])).dt.days
    ended = ((subjects["status"] == "completed") & (last_day < VISIT_DAYS[tp])
             & ~subjects["subject_id"].isin(had_visit))
    return subjects[~ended]


def _check_acr20(study, subjects, acr20_brute, population, timepoints, visits):
    df = response_rates(study, "ACR20", population)
    for tp in timepoints:
        arm_size = _followed_at(subjects, visits, tp).groupby("arm").size()
        for arm in ("MSC", "MSC_IFNG"):
            obs = acr20_brute[(acr20_brute["visit"] == tp) & (acr20_brute["arm"] == arm)]
            if population == "completers":
                obs = obs[obs["status"] == "completed"]
                n = int(obs["acr20"].notna().sum())
            else:
                n = int(arm_size[arm])
            k = int((obs["acr20"] == True).sum())  # noqa: E712 -- None is not a responder
            row = _cell(df, arm, tp)
            assert (row["responders"], row["n"]) == (k, n), (population, tp, arm)


# Visits where no ACR core component is missing for a would-be responder in the default cohort.
ACR_CLEAN_VISITS = ("M1", "M3", "M6", "Y1", "M18", "Y2", "Y3", "Y4", "Y5", "Y6", "Y7")


@pytest.mark.parametrize("population", ["completers", "nri"])
def test_acr20_rates_match_brute_force(study, raw, acr20_brute, population):
    _check_acr20(study, raw[0], acr20_brute, population, ACR_CLEAN_VISITS, raw[1])


@pytest.mark.parametrize("population", ["completers", "nri"])
def test_acr20_rates_match_brute_force_every_visit(study, raw, acr20_brute, population):
    _check_acr20(study, raw[0], acr20_brute, population, POST_BASELINE_VISITS, raw[1])


def test_withdrawn_subject_is_a_non_responder_under_nri(study, raw, acr20_brute):
    subjects, visits = raw
    withdrawn = subjects[subjects["status"] == "withdrawn"]
    # A withdrawn subject who had responded before withdrawing and has no Y3 visit.
    responded = acr20_brute[(acr20_brute["acr20"] == True)  # noqa: E712
                            & acr20_brute["subject_id"].isin(withdrawn["subject_id"])]
    has_y3 = set(visits.loc[visits["visit"] == "Y3", "subject_id"])
    candidates = sorted(set(responded["subject_id"]) - has_y3)
    assert candidates, "the default cohort should have a responder who withdrew before Y3"
    sid = candidates[0]
    arm = subjects.set_index("subject_id").at[sid, "arm"]
    nri = _cell(response_rates(study, "ACR20", "nri"), arm, "Y3")
    at_y3 = acr20_brute[(acr20_brute["visit"] == "Y3") & (acr20_brute["arm"] == arm)]
    # In the denominator (the whole arm) ...
    assert nri["n"] == (subjects["arm"] == arm).sum()
    # ... but not among the responders: these are exactly the observed TRUEs at Y3.
    assert nri["responders"] == int((at_y3["acr20"] == True).sum())  # noqa: E712
    assert sid not in set(at_y3["subject_id"])
    # And the completers denominator does not count them at all.
    comp = _cell(response_rates(study, "ACR20", "completers"), arm, "Y3")
    assert comp["n"] < nri["n"]


def test_das28_lda_brute_force(study, raw):
    subjects, visits = raw
    v = visits.merge(subjects[["subject_id", "arm", "status"]], on="subject_id")
    v = v[v["status"] == "completed"]
    das = (0.56 * np.sqrt(v["tjc28"]) + 0.28 * np.sqrt(v["sjc28"]) + 0.70 * np.log(v["esr"])
           + 0.014 * v["patient_global"])
    v = v.assign(lda=das <= 3.2, observed=das.notna())
    df = response_rates(study, "DAS28_LDA", "completers")
    for tp in ("M3", "Y2", "Y4", "Y6"):
        for arm in ("MSC", "MSC_IFNG"):
            g = v[(v["visit"] == tp) & (v["arm"] == arm) & v["observed"]]
            row = _cell(df, arm, tp)
            assert (row["responders"], row["n"]) == (int(g["lda"].sum()), len(g))


@pytest.mark.parametrize("endpoint,population", [("ACR20", "completers"), ("EULAR", "nri"),
                                                 ("DAS28_REM", "completers")])
def test_cis_match_statsmodels(study, endpoint, population):
    df = response_rates(study, endpoint, population)
    for _, row in df[df["n"] > 0].iterrows():
        lo, hi = proportion_confint(int(row["responders"]), int(row["n"]), alpha=0.05,
                                    method="beta")
        assert row["ci_low"] == pytest.approx(lo, abs=1e-9)
        assert row["ci_high"] == pytest.approx(hi, abs=1e-9)


def test_compare_rates_columns_and_direction(study):
    df = compare_rates(study, "ACR20", "completers").set_index("timepoint")
    row = df.loc["Y1"]
    assert row["diff"] == pytest.approx(28 / 28 - 35 / 69)
    assert row["diff_ci_low"] < row["diff"] < row["diff_ci_high"]
    assert row["p_value"] < 0.001
    shown = comparison_display(compare_rates(study, "ACR20", "completers", lang="zh"))
    assert t("efficacy.col.p", "zh") in shown.columns


def test_subgroup_changes_n(study):
    whole = response_rates(study, "ACR20", "nri")
    women = response_rates(study, "ACR20", "nri", sex="F")
    assert sum(women.attrs["n_per_arm"].values()) < sum(whole.attrs["n_per_arm"].values())
    women_msc = women[women["arm"] == "MSC"]
    assert ((women_msc["n"] + women_msc["n_ended"]) == women.attrs["n_per_arm"]["MSC"]).all()
    bio = compare_rates(study, "ACR20", "completers", prior_bdmard=1)
    assert bio.attrs["n_per_arm"]["MSC"] < 69
    meds = medications(study, sex="M")
    assert meds["n"].max() < 69


def test_bad_arguments(study):
    with pytest.raises(ValueError):
        response_rates(study, "ACR90", "completers")
    with pytest.raises(ValueError):
        response_rates(study, "ACR20", "safety")
    with pytest.raises(ValueError):
        trajectories(study, "FOO", "completers")
    with pytest.raises(ValueError):
        medications(study, timepoints=["Y9"])


# -- Table 4 (medications, completers, published) ----------------------------------------------
TABLE4 = {  # class -> time point -> (MSC count, IFN-γ count, printed p)
    "csDMARD": {"BL": (69, 28, "> 0.999"), "Y1": (69, 26, "0.081"), "Y3": (69, 26, "0.081"),
                "Y5": (69, 26, "0.081")},
    "tsDMARD": {"BL": (0, 0, "> 0.999"), "Y1": (0, 0, "> 0.999"), "Y3": (2, 1, "> 0.999"),
                "Y5": (13, 1, "0.061")},
    "bDMARD": {"BL": (27, 10, "0.820"), "Y1": (13, 1, "0.061"), "Y3": (11, 1, "0.170"),
               "Y5": (12, 2, "0.338")},
    "prednisone": {"BL": (57, 24, "> 0.999"), "Y1": (36, 2, "< 0.001"),
                   "Y3": (34, 2, "< 0.001"), "Y5": (23, 2, "0.009")},
}
PUBLISHED_PCT = {  # the rounded percentages printed in Table 4
    (69, 69): 100, (28, 28): 100, (26, 28): 93, (2, 69): 3, (1, 28): 4, (13, 69): 19,
    (27, 69): 39, (10, 28): 36, (11, 69): 16, (12, 69): 17, (2, 28): 7, (57, 69): 83,
    (24, 28): 86, (36, 69): 52, (34, 69): 49, (23, 69): 33, (0, 69): 0, (0, 28): 0,
}


@pytest.fixture(scope="module")
def table4(study):
    return medications(study, "completers")


@pytest.mark.parametrize("cls", list(TABLE4))
@pytest.mark.parametrize("tp", ["BL", "Y1", "Y3", "Y5"])
def test_table4_cell(table4, cls, tp):
    k_msc, k_ifng, p_text = TABLE4[cls][tp]
    msc = table4[(table4["drug_class"] == cls) & (table4["timepoint"] == tp)
                 & (table4["arm"] == "MSC")].iloc[0]
    ifng = table4[(table4["drug_class"] == cls) & (table4["timepoint"] == tp)
                  & (table4["arm"] == "MSC_IFNG")].iloc[0]
    assert (msc["count"], msc["n"]) == (k_msc, 69)
    assert (ifng["count"], ifng["n"]) == (k_ifng, 28)
    assert round(msc["percent"]) == PUBLISHED_PCT[(k_msc, 69)]
    assert round(ifng["percent"]) == PUBLISHED_PCT[(k_ifng, 28)]
    assert fmt_p(msc["p_value"]) == p_text
    assert msc["p_value"] == ifng["p_value"]


def test_table4_shape_and_display(study, table4):
    assert list(table4.columns) == ["drug_class", "timepoint", "arm", "count", "n", "percent",
                                    "p_value", "not_estimable", "caution"]
    assert not table4["caution"].any() and (table4["not_estimable"] == "").all()
    assert len(table4) == 5 * 4 * 2  # five classes incl. NSAID, four time points, two arms
    assert table4.attrs["n_per_arm"] == {"MSC": 69, "MSC_IFNG": 28}
    assert "Fisher" in table4.attrs["method"]
    shown = medications_display(table4)
    text = shown.to_string()
    for cell in ("69 (100)", "26 (93)", "13 (19)", "36 (52)", "0.081", "< 0.001", "0.338"):
        assert cell in text
    assert len(shown) == 5
    other = medications(study, "completers", timepoints=["Y2", "Y4"])
    assert set(other["timepoint"]) == {"Y2", "Y4"}


def test_medications_brute_force(study, raw):
    subjects, visits = raw
    meds = study.query("SELECT * FROM medications")
    comp = subjects[subjects["status"] == "completed"]
    df = medications(study, "completers")
    for tp in ("Y1", "Y5"):
        vis = visits[(visits["visit"] == tp) & visits["subject_id"].isin(comp["subject_id"])]
        for cls in ("prednisone", "NSAID"):
            m = meds[meds["drug_class"] == cls].merge(vis[["subject_id", "visit_date"]],
                                                      on="subject_id")
            using = m[(m["start_date"] <= m["visit_date"])
                      & (m["end_date"].isna() | (m["end_date"] >= m["visit_date"]))]
            users = set(using["subject_id"])
            for arm in ("MSC", "MSC_IFNG"):
                ids = set(comp.loc[comp["arm"] == arm, "subject_id"]) & set(vis["subject_id"])
                row = df[(df["drug_class"] == cls) & (df["timepoint"] == tp)
                         & (df["arm"] == arm)].iloc[0]
                assert (row["count"], row["n"]) == (len(ids & users), len(ids))


# -- trajectories -----------------------------------------------------------------------------
def test_trajectories(study, raw):
    df = trajectories(study, "HAQ_DI", "completers")
    assert {"BL", "Y1", "Y5"} <= set(df["timepoint"])
    assert list(df.columns[:7]) == ["arm", "timepoint", "years", "n", "mean", "ci_low",
                                    "ci_high"]
    subjects, visits = raw
    comp = subjects[(subjects["status"] == "completed") & (subjects["arm"] == "MSC")]
    v = visits[visits["subject_id"].isin(comp["subject_id"])]
    y1 = v[v["visit"] == "Y1"]["haq_di"].dropna()
    row = _cell(df, "MSC", "Y1")
    assert row["n"] == len(y1)
    assert row["mean"] == pytest.approx(y1.mean())
    assert row["ci_low"] < row["mean"] < row["ci_high"]
    bl = v[v["visit"] == "BL"].set_index("subject_id")["haq_di"]
    change = (y1.set_axis(v[v["visit"] == "Y1"].loc[y1.index, "subject_id"]) - bl).dropna()
    assert row["mean_change"] == pytest.approx(change.mean())
    assert row["mean_change"] < 0  # HAQ-DI falls in year 1
    bl_row = _cell(df, "MSC_IFNG", "BL")
    assert bl_row["n"] == 28
    # the change at baseline is 0 by definition: no interval (not a zero-width one), said so
    assert bl_row["mean_change"] == 0
    assert math.isnan(bl_row["change_ci_low"]) and math.isnan(bl_row["change_ci_high"])
    assert "t.test" in df.attrs["method"]
    shown = trajectories_display(df)
    first = shown.iloc[0]
    assert first.iloc[0] == "Baseline" and first.iloc[-1] == "–", first.tolist()


def test_trajectories_nri_is_observed_cases(study):
    df = trajectories(study, "DAS28_ESR", "nri")
    assert _cell(df, "MSC", "BL")["n"] == 79
    assert _cell(df, "MSC", "Y5")["n"] <= 69  # withdrawn subjects are not imputed
    assert "observed" in df.attrs["footnote"]
    zh = trajectories(study, "DAS28_ESR", "nri", lang="zh")
    assert "观测" in zh.attrs["footnote"]


@pytest.mark.parametrize("measure", list(MEASURES))
def test_every_measure_and_display(study, measure):
    df = trajectories(study, measure, "completers", sex="F")
    assert not df.empty and df.attrs["n_per_arm"]["MSC"] < 69
    vals = subject_values(study, measure, "completers", sex="F")
    assert list(vals.columns[:5]) == ["subject_id", "arm", "timepoint", "years", "value"]
    assert len(trajectories_display(df)) == len(df)


# -- charts -----------------------------------------------------------------------------------
def test_figures_build(study):
    rates = response_rates(study, "ACR20", "nri", lang="zh")
    fig = response_figure(rates, timepoint="Y3")
    assert len(fig.data) == 2 and fig.layout.title.text == rates.attrs["title"]
    traj = trajectories(study, "DAS28_ESR", "completers")
    ind = subject_values(study, "DAS28_ESR", "completers")
    assert len(trajectory_figure(traj, ind, change=True, timepoint="Y1").data) >= 4
    assert len(medications_figure(medications(study)).data) == 5 * 2  # a panel per class


def test_empty_subgroup_does_not_fail(study):
    # Men aged >= 55 with a prior biologic under completers may be empty; nothing should raise.
    df = compare_rates(study, "ACR20", "completers", sex="M", age_band="ge55", prior_bdmard=1)
    assert len(df) == len(POST_BASELINE_VISITS)
    assert all(math.isnan(p) or 0 <= p <= 1 for p in df["p_value"])
    response_figure(response_rates(study, "ACR20", "completers", sex="M", age_band="ge55",
                                   prior_bdmard=1))
    medications_display(medications(study, sex="M", age_band="ge55", prior_bdmard=1))
