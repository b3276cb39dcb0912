"""What the survival analysis cannot estimate, it says so; withdrawal by cause as competing risks.

* lifelines' Aalen–Johansen against a hand computation (fractions worked out below), alone and
  through ``survival()`` on a hand-made study;
* monotone likelihood and the R/SAS median rule on hand-made data;
* the Kaplan–Meier curve (scipy) against a second library, lifelines, on tied, zero, all-censored
  and all-event data;
* the previously reported cases on the default study, against R (tests/r/);
* a scan of every sidebar filter combination for every endpoint and population: no hazard
  ratio outside 1e-3 – 1e3, no zero-width CI printed as a number, every NaN with its reason.
"""
from __future__ import annotations

import itertools
import math
import re
from fractions import Fraction as F
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analytics import survival as sv
from analytics import survival_stats as ss
from analytics.caution import NOT_ESTIMABLE_REASONS, not_estimable
from analytics.charts.survival import band_segments, survival_figure
from analytics.i18n import t
from analytics.population import SUBGROUP_FILTERS
from survival_fixtures import build_study, day

R_DIR = Path(__file__).resolve().parent / "r"

# -- Aalen–Johansen by hand --------------------------------------------------------------------
# Seven subjects; cause 1 = the event of interest, 2 = competing, 0 = censored.
#   t=1 cause 1: n=7  CIF1 = 1/7                         S = 6/7
#   t=2 cause 2: n=6  CIF2 = 6/7 · 1/6 = 1/7             S = 5/7
#   t=3 censored
#   t=4 cause 1: n=4  CIF1 = 1/7 + 5/7 · 1/4 = 9/28      S = 15/28
#   t=5 cause 1: n=3  CIF1 = 9/28 + 15/28 · 1/3 = 1/2    S = 5/14
#   t=6 cause 2: n=2  CIF2 = 1/7 + 5/14 · 1/2 = 9/28     S = 5/28
#   t=7 censored.     CIF1 + CIF2 + S = 1 at every time.
AJ_TIMES = [1, 2, 3, 4, 5, 6, 7]
AJ_CAUSES = [1, 2, 0, 1, 1, 2, 0]
AJ_CIF1 = {0: F(0), 1: F(1, 7), 2: F(1, 7), 3: F(1, 7), 4: F(9, 28), 5: F(1, 2), 6: F(1, 2),
           7: F(1, 2)}
AJ_CIF2 = {0: F(0), 1: F(0), 2: F(1, 7), 3: F(1, 7), 4: F(1, 7), 5: F(1, 7), 6: F(9, 28),
           7: F(9, 28)}
# 1 − KM treating cause 2 as censoring: 1 − 6/7 · 3/4 · 2/3 = 4/7 > 1/2 (it overstates)
ONE_MINUS_KM_CAUSE1 = F(4, 7)


def _step(curve: pd.DataFrame, time: float) -> float:
    return float(curve.loc[curve["time"] <= time + 1e-12, "estimate"].iloc[-1])


def test_aalen_johansen_hand_computation():
    for code, expected in ((1, AJ_CIF1), (2, AJ_CIF2)):
        cif = ss.cumulative_incidence(AJ_TIMES, AJ_CAUSES, code)
        for time, value in expected.items():
            assert _step(cif, time) == pytest.approx(float(value), abs=1e-12), (code, time)
        # the interval holds the estimate where defined, and is undefined where CIF = 0
        defined = cif["ci_low"].notna()
        assert (cif.loc[defined, "ci_low"] <= cif.loc[defined, "estimate"] + 1e-12).all()
        assert (cif.loc[defined, "ci_high"] >= cif.loc[defined, "estimate"] - 1e-12).all()
        assert cif.loc[cif["estimate"] == 0, "ci_low"].isna().all()
    km = ss.kaplan_meier(AJ_TIMES, [c == 1 for c in AJ_CAUSES])
    assert 1 - km["estimate"].iloc[-1] == pytest.approx(float(ONE_MINUS_KM_CAUSE1))
    assert float(ONE_MINUS_KM_CAUSE1) > float(AJ_CIF1[7])


@pytest.fixture(scope="module")
def aj_study(tmp_path_factory):
    """The hand example as withdrawals (days = 100 · t): cause 1 = lack of efficacy, 2 = adverse
    event; the MSC + IFN-γ arm mirrors it with the causes swapped."""
    reasons = {1: "lack_of_efficacy", 2: "adverse_event"}
    subjects = []
    for arm, swap in (("MSC", False), ("MSC_IFNG", True)):
        for i, (time, cause) in enumerate(zip(AJ_TIMES, AJ_CAUSES)):
            if swap and cause:
                cause = 3 - cause
            withdrawn = cause != 0
            subjects.append(dict(
                subject_id=f"{arm}-{i}", arm=arm, status="withdrawn" if withdrawn else "completed",
                withdrawal_date=day(100 * time) if withdrawn else None,
                withdrawal_reason=reasons.get(cause), last_assessment_date=day(100 * time)))
    s = build_study(tmp_path_factory.mktemp("aj") / "aj.duckdb", subjects, [])
    yield s
    s.close()


@pytest.mark.parametrize("lang", ("en", "zh"))
def test_withdrawal_by_cause_is_cumulative_incidence(aj_study, lang):
    res = sv.survival(aj_study, "WITHDRAWAL_LOE", "nri", lang=lang)
    assert set(res.curves["scale"]) == {"cumulative_incidence"}
    for arm, expected in (("MSC", AJ_CIF1), ("MSC_IFNG", AJ_CIF2)):
        c = res.curves[res.curves["arm"] == arm]
        for time, value in expected.items():
            assert _step(c, 100 * time / 365.25) == pytest.approx(float(value), abs=1e-12)
    s = res.summary.set_index("arm")
    assert s.loc["MSC", "events"] == 3 and s.loc["MSC", "competing_events"] == 2
    assert s.loc["MSC", "cif"] == pytest.approx(0.5)
    assert s.loc["MSC_IFNG", "cif"] == pytest.approx(9 / 28)
    # no between-arm test for the incidence, and the reader is told why
    assert math.isnan(res.hazard_ratio) and res.hr_reason == "no_cif_test"
    assert math.isnan(res.logrank_p) and res.logrank_reason == "no_cif_test"
    assert "Aalen–Johansen" in res.method
    fig = survival_figure(res, "cumulative_incidence")
    texts = " ".join(a.text for a in fig.layout.annotations)
    assert t("survival.figure.no_test", lang) in texts
    shown = sv.summary_display(res, lang)
    assert t("survival.col.cif", lang) in shown.columns
    assert t("survival.col.hr", lang) not in shown.columns
    # any reason: withdrawal is one event type, so Kaplan–Meier
    res = sv.survival(aj_study, "WITHDRAWAL", "nri", lang=lang)
    assert set(res.curves["scale"]) == set(sv.SCALES)


def test_endpoints_offered_per_population():
    assert not set(sv.WITHDRAWAL_ENDPOINTS) & set(sv.endpoints_for("completers"))
    assert set(sv.endpoints_for("nri")) == set(sv.ENDPOINTS)
    for e in sv.COMPETING_RISK_ENDPOINTS:
        assert sv.scales_for(e) == ("cumulative_incidence",)
        assert sv.default_scale(e) in sv.scales_for(e)


# -- monotone likelihood, the R/SAS median -------------------------------------------------------

def test_monotone_likelihood_cases():
    # arm 1's only event comes before any arm-0 event: the likelihood rises to +inf
    assert ss.monotone_likelihood([1, 2, 3, 4], [1, 1, 1, 0], [1, 0, 0, 0])
    # no events in arm 1 at all
    assert ss.monotone_likelihood([1, 2, 3, 4], [1, 1, 0, 0], [0, 0, 1, 1])
    # events in both arms while the other arm is at risk: a finite maximum
    assert not ss.monotone_likelihood([1, 2, 3, 4], [1, 1, 1, 1], [1, 0, 1, 0])
    # stratified: each stratum alone pulls one way; together a finite maximum
    assert not ss.monotone_likelihood([1, 2, 1, 2], [1, 1, 1, 1], [1, 0, 0, 1],
                                      strata=["a", "a", "b", "b"])
    fit = ss.cox_hazard_ratio([1, 2, 3, 4], [1, 1, 1, 0], [1, 0, 0, 0])
    assert math.isnan(fit.value) and fit.reason == "monotone_likelihood"
    assert ss.cox_hazard_ratio([1, 2], [0, 0], [1, 0]).reason == "no_events"


def _lifelines_km(time, event) -> pd.DataFrame:
    """The Kaplan–Meier frame as lifelines' KaplanMeierFitter gives it (the second library)."""
    import warnings

    from lifelines import KaplanMeierFitter
    kmf = KaplanMeierFitter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kmf.fit(np.asarray(time, dtype=float), np.asarray(event, dtype=bool), label="km")
    times = kmf.survival_function_.index.to_numpy(dtype=float)
    estimate = kmf.survival_function_["km"].to_numpy(dtype=float)
    low = kmf.confidence_interval_.iloc[:, 0].to_numpy(dtype=float)
    high = kmf.confidence_interval_.iloc[:, 1].to_numpy(dtype=float)
    undefined = (estimate <= 0) | (estimate >= 1)
    et = kmf.event_table.reindex(times).fillna(0)
    return pd.DataFrame({"time": times, "estimate": estimate,
                         "ci_low": np.where(undefined, np.nan, low),
                         "ci_high": np.where(undefined, np.nan, high),
                         "n_at_risk": et["at_risk"].astype(int).to_numpy(),
                         "n_events": et["observed"].astype(int).to_numpy(),
                         "n_censored": et["censored"].astype(int).to_numpy()})


KM_CASES = {
    "ties of events and censorings": ([1, 1, 1, 2, 2, 3, 3, 3, 5, 8],
                                      [1, 1, 0, 1, 0, 0, 1, 1, 1, 0]),
    "an event at time 0": ([0, 0, 1, 2, 2, 4], [1, 0, 1, 1, 0, 1]),
    "all censored": ([1, 2, 3], [0, 0, 0]),
    "all events, down to 0": ([1, 2, 2, 3], [1, 1, 1, 1]),
    "one subject": ([0.5], [1]),
}


@pytest.mark.parametrize("case", list(KM_CASES))
def test_kaplan_meier_equals_lifelines(case):
    time, event = KM_CASES[case]
    pd.testing.assert_frame_equal(ss.kaplan_meier(time, event), _lifelines_km(time, event),
                                  check_dtype=False, rtol=1e-12, atol=1e-12)


def test_kaplan_meier_equals_lifelines_on_random_data():
    rng = np.random.default_rng(13)
    for n in (5, 40, 300):
        time = np.round(rng.exponential(2.0, n), 1)  # rounded: many ties
        event = rng.random(n) < 0.6
        pd.testing.assert_frame_equal(ss.kaplan_meier(time, event), _lifelines_km(time, event),
                                      check_dtype=False, rtol=1e-12, atol=1e-12)


def test_median_midpoint_of_flat_stretch_and_one_subject():
    # S = 1/2 from t = 2 to the next event at t = 4: median 3 (R, SAS), not 2
    km = ss.kaplan_meier([1, 2, 4, 5], [1, 1, 1, 0])
    assert ss.survival_quantile(km).value == pytest.approx(3.0)
    # S = 1/2 after the last event and flat to the end of follow-up (t = 6): midpoint of 2 and 6
    km = ss.kaplan_meier([1, 2, 6, 6], [1, 1, 0, 0])
    assert ss.survival_quantile(km).value == pytest.approx(4.0)
    # one subject: S goes 1 -> 0, the log(-log) band is undefined, so is the median's CI
    q = ss.survival_quantile(ss.kaplan_meier([0.5], [1]))
    assert q.value == pytest.approx(0.5)
    assert math.isnan(q.ci_low) and math.isnan(q.ci_high)
    assert q.ci_low_reason == q.ci_high_reason == "undefined_bound"


def test_band_segments_skip_undefined():
    nan = math.nan
    segs = band_segments([0, 1, 2, 3, 4], [nan, 0.2, 0.1, nan, nan], [nan, 0.8, 0.6, nan, nan])
    assert len(segs) == 1
    xs, ys = segs[0]
    assert min(xs) == 1 and max(xs) == 3 and not any(math.isnan(y) for y in ys)
    assert band_segments([0, 1], [nan, nan], [nan, nan]) == []


# -- the reported cases on the default study, against R ------------------------------------------

def _r(dataset, analysis, arm, quantity) -> float:
    ref = pd.read_csv(R_DIR / "survival_reference.csv", na_values=["NA"])
    r = ref[(ref.dataset == dataset) & (ref.analysis == analysis) & (ref.arm.fillna("") == arm)
            & (ref.quantity == quantity)]
    return float(r["value"].iloc[0])


def _r_input(dataset) -> pd.DataFrame:
    d = pd.read_csv(R_DIR / "survival_input.csv")
    return d[d.dataset == dataset].sort_values("subject_id").reset_index(drop=True)


def _same_input(res, dataset):
    """The study still gives the per-subject times R analysed."""
    ref = _r_input(dataset)
    got = res.subjects.sort_values("subject_id").reset_index(drop=True)
    assert got["subject_id"].tolist() == ref["subject_id"].tolist()
    np.testing.assert_allclose(got["time"], ref["time"], rtol=0, atol=1e-12)
    assert got["event"].astype(int).tolist() == ref["event"].tolist()


@pytest.mark.parametrize("lang", ("en", "zh"))
def test_reported_monotone_case(study, lang):
    res = study.survival("ACR20", "completers", sex="M", prior_bdmard=0, lang=lang)
    _same_input(res, "ACR20_completers_M_nobio")
    assert _r("ACR20_completers_M_nobio", "cox", "MSC_IFNG", "warned_infinite") == 1
    assert math.isnan(res.hazard_ratio) and res.hr_reason == "monotone_likelihood"
    assert math.isnan(res.hr_ci_low) and math.isnan(res.hr_ci_high)
    text = not_estimable("monotone_likelihood", lang)
    assert text in res.summary.attrs["footnote"]
    shown = sv.summary_display(res, lang)
    assert shown[t("survival.col.hr", lang)].iloc[1] == text
    # the one-subject arm: no median CI printed as "0.07 – 0.07"
    row = res.summary.set_index("arm").loc["MSC_IFNG"]
    assert row["n"] == 1 and math.isnan(row["median_ci_low"]) and math.isnan(row["median_ci_high"])
    assert not_estimable("undefined_bound", lang) in shown[t("survival.col.median_ci", lang)].iloc[1]
    # the small-arm caution is in the footnote, and the figure says why there is no HR
    assert t("caution.small_arm.one", lang, threshold=10) in res.summary.attrs["footnote"]
    fig = survival_figure(res, "cumulative_incidence")
    assert any(text in a.text.replace("<br>", " ") for a in fig.layout.annotations) or any(
        text.replace(" ", "") in a.text.replace("<br>", "") for a in fig.layout.annotations)


@pytest.mark.parametrize("endpoint,dataset", [("EULAR", "EULAR_completers"),
                                              ("ACR50", "ACR50_completers")])
def test_reported_medians_match_r(study, endpoint, dataset):
    res = study.survival(endpoint, "completers")
    _same_input(res, dataset)
    for arm in ("MSC", "MSC_IFNG"):
        row = res.summary.set_index("arm").loc[arm]
        for col, quantity in (("median", "median"), ("median_ci_low", "lower"),
                              ("median_ci_high", "upper")):
            want = _r(dataset, "median", arm, quantity)
            if math.isnan(want):
                assert math.isnan(row[col]) and row[f"{col}_reason" if col != "median"
                                                    else "median_reason"] == "not_reached"
            else:
                assert row[col] == pytest.approx(want, rel=1e-6, abs=1e-9), (arm, col)
    assert res.hazard_ratio == pytest.approx(_r(dataset, "cox", "MSC_IFNG", "hr"), rel=1e-6)
    assert res.hr_p == pytest.approx(_r(dataset, "cox", "MSC_IFNG", "p"), rel=1e-6)
    assert res.logrank_p == pytest.approx(_r(dataset, "logrank", "", "p"), rel=1e-6)


# -- every sidebar filter combination ------------------------------------------------------------

def _filter_values(study) -> dict[str, list]:
    """Each subgroup filter's values as the sidebar offers them, read from the study (so a
    filter added later, such as the trial, is scanned too)."""
    values = {}
    columns = set(study.query("SELECT * FROM subject_info LIMIT 0").columns)
    for name, (column, *_) in SUBGROUP_FILTERS.items():
        if column not in columns:
            continue
        found = study.query(f"SELECT DISTINCT {column} AS v FROM subject_info "
                            f"WHERE {column} IS NOT NULL ORDER BY 1")["v"].tolist()
        values[name] = [None, *found]
    return values


SCAN = [(e, p) for p in ("completers", "nri") for e in sv.endpoints_for(p)]
REASON_COLUMNS = {"median": "median_reason", "median_ci_low": "median_ci_low_reason",
                  "median_ci_high": "median_ci_high_reason", "cif_ci_low": "cif_reason",
                  "cif_ci_high": "cif_reason"}


@pytest.mark.parametrize("endpoint,population", SCAN)
def test_scan_filter_combinations(study, endpoint, population):
    values = _filter_values(study)
    problems = []
    for combo in itertools.product(*values.values()):
        filters = {k: v for k, v in zip(values, combo) if v is not None}
        res = sv.survival(study, endpoint, population, **filters)
        where = f"{endpoint} {population} {filters}"
        s = res.summary.set_index("arm")
        compared = s.loc[sv.COMPARED_ARM]
        hr = compared["hazard_ratio"]
        if math.isnan(hr):
            if compared["hr_reason"] not in NOT_ESTIMABLE_REASONS:
                problems.append(f"{where}: HR NaN without a reason")
        else:
            if not 1e-3 <= hr <= 1e3 or compared["hr_reason"]:
                problems.append(f"{where}: HR {hr}")
            lo, hi = compared["hr_ci_low"], compared["hr_ci_high"]
            if not (0 < lo < hr < hi < math.inf):
                problems.append(f"{where}: HR CI {lo} – {hi}")
        if math.isnan(res.logrank_p) and res.logrank_reason not in NOT_ESTIMABLE_REASONS:
            problems.append(f"{where}: log-rank NaN without a reason")
        if min(res.summary.attrs["n_per_arm"].values()) < 3 and not (
                math.isnan(hr) and math.isnan(res.logrank_p)):
            problems.append(f"{where}: a test for an arm under 3 subjects")
        for arm, row in s.iterrows():
            if row["n"] == 0:
                continue
            for col, reason_col in REASON_COLUMNS.items():
                if col in row and math.isnan(row[col]) and not row[reason_col]:
                    problems.append(f"{where} {arm}: {col} NaN without a reason")
            lows = [c for c in ("median_ci_low", "cif_ci_low") if c in row]
            for low in lows:
                high = low.replace("_low", "_high")
                if not math.isnan(row[low]) and row[low] == row[high] and \
                        row[low] != row[low.replace("_ci_low", "")]:
                    problems.append(f"{where} {arm}: zero-width CI {row[low]}")
        c = res.curves
        defined = c["ci_low"].notna() & c["ci_high"].notna()
        zero = defined & (c["ci_low"] == c["ci_high"])
        if zero.any():
            problems.append(f"{where}: zero-width curve CI at {c.loc[zero, 'time'].tolist()[:3]}")
        if (c["ci_low"].isna() != (c["ci_reason"] == "undefined_bound")).any():
            problems.append(f"{where}: curve CI NaN without its reason")
        if res.hr_reason or res.logrank_reason:
            shown = sv.summary_display(res, "en").to_string()
            if re.search(r"\b(inf|nan|NaN)\b", shown):
                problems.append(f"{where}: display shows inf/nan")
    assert not problems, "\n".join(problems[:40])


def test_a_language_switch_recomputes_no_statistic(monkeypatch):
    """The survival page in the other language takes the memoised numbers
    (``survival_estimates``, in no language) and only words them anew."""
    from dashboard import study_source
    served = study_source.CachedStudy(study_source.served_study())
    study_source._cached_result.clear()
    calls = []
    real = sv.subject_times

    def counted(*args, **kwargs):
        calls.append(args[1:3])
        return real(*args, **kwargs)
    monkeypatch.setattr(sv, "subject_times", counted)
    en = served.survival("ACR50", "nri", horizon_years=3.0, lang="en", sex="F")
    zh = served.survival("ACR50", "nri", horizon_years=3.0, lang="zh", sex="F")
    assert calls == [("ACR50", "nri")]
    numbers = [c for c in en.summary.columns if not c.endswith("reason")]
    pd.testing.assert_frame_equal(en.summary[numbers], zh.summary[numbers])
    pd.testing.assert_frame_equal(en.curves, zh.curves, check_like=True)
    assert en.summary.attrs["title"] != zh.summary.attrs["title"]
    assert en.summary.attrs["lang"] == "en" and zh.summary.attrs["lang"] == "zh"
    study_source._cached_result.clear()
