"""analytics.survival_stats against R's survival package (3.5), to 1e-6.

``tests/r/survival_input.csv`` holds per-subject times of the default synthetic study (written by
``tests/r/export_survival_input.py``); ``tests/r/survival_reference.R`` analyses it and wrote
``survival_reference.csv`` and ``survival_reference_curves.csv`` beside it. These tests recompute
with the project's code and need no R: Kaplan–Meier curves with log(−log) CIs (NA where the curve
is 0 or 1), ``quantile.survfit`` medians and CIs, ``survdiff``, ``coxph(ties = "efron")`` pooled,
stratified by trial and within the trial that randomised both arms (statsmodels' fit, and
lifelines' where that one would not converge), and the Aalen–Johansen cumulative incidence of each
withdrawal reason.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analytics import survival_stats as ss

R_DIR = Path(__file__).resolve().parent / "r"
TOL = 1e-6
INPUT = pd.read_csv(R_DIR / "survival_input.csv")
REF = pd.read_csv(R_DIR / "survival_reference.csv", na_values=["NA"])
CURVES = pd.read_csv(R_DIR / "survival_reference_curves.csv", na_values=["NA"])
DATASETS = sorted(INPUT["dataset"].unique())
CAUSE_CODES = {"censored": 0, "event": 1, "lack_of_efficacy": 1, "adverse_event": 2, "other": 3}


def _ref(dataset, analysis, arm, quantity) -> float:
    r = REF[(REF.dataset == dataset) & (REF.analysis == analysis) & (REF.arm.fillna("") == arm)
            & (REF.quantity == quantity)]
    assert len(r) == 1, (dataset, analysis, arm, quantity)
    return float(r["value"].iloc[0])


def _same(got: float, want: float, tol: float = TOL) -> bool:
    if math.isnan(want):
        return math.isnan(got)
    return abs(got - want) <= tol * max(1.0, abs(want))


def _data(dataset, arm=None):
    d = INPUT[INPUT.dataset == dataset]
    return d if arm is None else d[d.arm == arm]


@pytest.mark.parametrize("dataset", DATASETS)
def test_km_curve_and_median(dataset):
    for arm in ("MSC", "MSC_IFNG"):
        d = _data(dataset, arm)
        if d.empty:
            continue
        km = ss.kaplan_meier(d["time"], d["event"])
        ref = CURVES[(CURVES.dataset == dataset) & (CURVES.curve == "km") & (CURVES.arm == arm)]
        got = km.set_index("time")
        for r in ref.itertuples():
            row = got.loc[got.index[np.isclose(got.index, r.time, rtol=0, atol=1e-12)][0]]
            assert _same(row["estimate"], r.estimate), (arm, r.time)
            assert _same(row["ci_low"], r.lower), (arm, r.time, row["ci_low"], r.lower)
            assert _same(row["ci_high"], r.upper), (arm, r.time)
            assert row["n_at_risk"] == r.n_risk and row["n_events"] == r.n_event
        q = ss.survival_quantile(km)
        for name, value in (("median", q.value), ("lower", q.ci_low), ("upper", q.ci_high)):
            assert _same(value, _ref(dataset, "median", arm, name)), (arm, name, value)
        # every NaN says why
        assert bool(q.reason) == math.isnan(q.value)
        assert bool(q.ci_low_reason) == math.isnan(q.ci_low)
        assert bool(q.ci_high_reason) == math.isnan(q.ci_high)


@pytest.mark.parametrize("dataset", DATASETS)
def test_logrank(dataset):
    d = _data(dataset)
    lr = ss.logrank(d["time"], d["event"], d["arm"])
    assert _same(lr.statistic, _ref(dataset, "logrank", "", "chisq"))
    assert _same(lr.p, _ref(dataset, "logrank", "", "p"))


COX_FITS = [(ds, a) for ds in DATASETS
            for a in sorted(REF[(REF.dataset == ds) & REF.analysis.str.startswith("cox")]
                            ["analysis"].unique())]


@pytest.mark.parametrize("fitter", ("statsmodels", "lifelines"))
@pytest.mark.parametrize("dataset,analysis", COX_FITS)
def test_cox_efron(dataset, analysis, fitter, monkeypatch):
    """statsmodels' fit; and lifelines' (the second library), which takes over where
    statsmodels' plain Newton steps would not converge: both give R's numbers."""
    if fitter == "lifelines":
        monkeypatch.setattr(ss, "_cox_statsmodels", lambda *args: None)
    d = _data(dataset)
    strata = None
    if analysis == "cox_strata":
        strata = d["study_id"]
    elif analysis.startswith("cox_subset:"):
        d = d[d.study_id == analysis.split(":", 1)[1]]
    fit = ss.cox_hazard_ratio(d["time"], d["event"], d["arm"] == "MSC_IFNG", strata=strata)
    if _ref(dataset, analysis, "MSC_IFNG", "warned_infinite"):
        # R: "coefficient may be infinite" - we say not estimable instead of a number
        assert math.isnan(fit.value) and fit.reason == "monotone_likelihood"
        assert math.isnan(fit.ci_low) and math.isnan(fit.ci_high)
        return
    assert not fit.reason
    for name, value in (("hr", fit.value), ("lower", fit.ci_low), ("upper", fit.ci_high),
                        ("p", fit.p)):
        assert _same(value, _ref(dataset, analysis, "MSC_IFNG", name)), (name, value)


def test_cox_not_converging_says_so(monkeypatch):
    monkeypatch.setattr(ss, "_cox_statsmodels", lambda *args: None)
    monkeypatch.setattr(ss, "_cox_lifelines", lambda *args: None)
    d = _data(DATASETS[0])
    fit = ss.cox_hazard_ratio(d["time"], d["event"], d["arm"] == "MSC_IFNG")
    assert math.isnan(fit.value) and fit.reason == "not_converged"
    assert math.isnan(fit.ci_low) and math.isnan(fit.ci_high)


def test_cif_aalen_johansen_against_r():
    d = _data("WITHDRAWAL_nri")
    curves = CURVES[(CURVES.dataset == "WITHDRAWAL_nri") & CURVES.curve.str.startswith("cif:")]
    assert len(curves)
    for arm in ("MSC", "MSC_IFNG"):
        da = d[d.arm == arm]
        for cause, code in (("lack_of_efficacy", 1), ("adverse_event", 2)):
            cif = ss.cumulative_incidence(da["time"], da["cause"].map(CAUSE_CODES), code)
            ref = curves[(curves.curve == f"cif:{cause}") & (curves.arm == arm)]
            for r in ref.itertuples():
                got = float(cif.loc[cif["time"] <= r.time + 1e-12, "estimate"].iloc[-1])
                assert _same(got, r.estimate), (arm, cause, r.time)
