"""analytics.survival against independent computations.

* a published worked example: Freireich et al. (1963) 6-MP vs placebo remission data, with the
  textbook Kaplan–Meier values and Greenwood SEs (Klein & Moeschberger, table 4.1B), the log-rank
  chi-square 16.79 and the Cox (Efron) coefficient 1.572 (SE 0.412), HR 4.82;
* plain-Python product-limit estimates and Greenwood log(−log) intervals;
* statsmodels (SurvfuncRight, survdiff, PHReg with Efron ties);
* numbers at risk and per-subject times recomputed from the raw tables in Python.
"""
from __future__ import annotations

import math
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.duration.hazard_regression import PHReg
from statsmodels.duration.survfunc import SurvfuncRight, survdiff

from analytics import survival as sv
from analytics.charts.survival import survival_figure
from analytics.i18n import catalogue, t
from analytics.schema import DAYS_PER_YEAR
from survival_fixtures import (FREIREICH_6MP, FREIREICH_PLACEBO, build_study, day,
                               freireich_study, random_study)

Z = stats.norm.ppf(0.975)
W = 1 / DAYS_PER_YEAR  # one Freireich 'week' is one day in the fixture


@pytest.fixture(scope="module")
def freireich(tmp_path_factory):
    s = freireich_study(tmp_path_factory.mktemp("fr") / "fr.duckdb")
    yield s
    s.close()


@pytest.fixture(scope="module")
def rnd(tmp_path_factory):
    s = random_study(tmp_path_factory.mktemp("rnd") / "rnd.duckdb", n_per_arm=(50, 25), seed=7)
    yield s
    s.close()


def _curve(res, arm, scale="survival"):
    c = res.curves
    return c[(c["arm"] == arm) & (c["scale"] == scale)].sort_values("time").reset_index(drop=True)


def _at(curve: pd.DataFrame, time: float, col="estimate") -> float:
    """Step-function value at ``time``."""
    return float(curve.loc[curve["time"] <= time + 1e-12, col].iloc[-1])


# -- 1. published worked example ----------------------------------------------------------------

KM_6MP = {6: (0.857, 0.0764), 7: (0.807, 0.0869), 10: (0.753, 0.0963), 13: (0.690, 0.1068),
          16: (0.627, 0.1141), 22: (0.538, 0.1282), 23: (0.448, 0.1346)}


@pytest.mark.parametrize("endpoint", ["WITHDRAWAL", "DAS28_REM"])
def test_freireich_km(freireich, endpoint):
    res = sv.survival(freireich, endpoint, "nri")
    c = _curve(res, "MSC")
    for week, (s_pub, se_pub) in KM_6MP.items():
        s = _at(c, week * W)
        assert s == pytest.approx(s_pub, abs=5e-4)
        # log(-log) Greenwood interval built from the published SE
        v = (se_pub / (s_pub * math.log(s_pub))) ** 2
        lo = s_pub ** math.exp(Z * math.sqrt(v))
        hi = s_pub ** math.exp(-Z * math.sqrt(v))
        assert _at(c, week * W, "ci_low") == pytest.approx(lo, abs=2e-3)
        assert _at(c, week * W, "ci_high") == pytest.approx(hi, abs=2e-3)
    # R survfit(conf.type = "log-log"): 0.620-0.952 at week 6
    assert _at(c, 6 * W, "ci_low") == pytest.approx(0.620, abs=1e-3)
    assert _at(c, 6 * W, "ci_high") == pytest.approx(0.952, abs=1e-3)


@pytest.mark.parametrize("endpoint", ["WITHDRAWAL", "DAS28_REM"])
def test_freireich_logrank_cox_median(freireich, endpoint):
    res = sv.survival(freireich, endpoint, "nri")
    assert res.logrank_chi2 == pytest.approx(16.79, abs=0.01)
    assert res.logrank_p == pytest.approx(4.17e-5, rel=0.01)
    assert math.log(res.hazard_ratio) == pytest.approx(1.572, abs=1e-3)
    assert res.hazard_ratio == pytest.approx(4.82, abs=0.01)
    assert res.hr_ci_low == pytest.approx(math.exp(1.572 - Z * 0.412), rel=2e-3)
    assert res.hr_ci_high == pytest.approx(math.exp(1.572 + Z * 0.412), rel=2e-3)
    mp, pl = res.median("MSC"), res.median("MSC_IFNG")
    assert mp["median"] == pytest.approx(23 * W) and mp["reached"]
    assert mp["ci_low"] == pytest.approx(13 * W) and math.isnan(mp["ci_high"])  # not reached
    assert pl["median"] == pytest.approx(8 * W)
    assert (pl["ci_low"], pl["ci_high"]) == pytest.approx((4 * W, 11 * W))
    s = res.summary.set_index("arm")
    assert s.loc["MSC", "events"] == 9 and s.loc["MSC_IFNG", "events"] == 21
    assert s.loc["MSC", "n"] == 21


def test_freireich_display_not_reached(freireich):
    res = sv.survival(freireich, "WITHDRAWAL", "nri")
    for lang in ("en", "zh"):
        d = sv.summary_display(res, lang)
        assert t("survival.not_reached", lang) in d.iloc[0, 4]
        assert d.iloc[1, 5].startswith("4.82")
        assert d.iloc[0, 6] == "< 0.001"


# -- 2. plain-Python product-limit and Greenwood ------------------------------------------------

def brute_km(times, events):
    """Product-limit estimate and log(-log) Greenwood CI at each distinct event time; the CI is
    undefined (NaN) where the estimate is 0 or 1, as in R."""
    out, s, g = {}, 1.0, 0.0
    for u in sorted(set(t for t, e in zip(times, events) if e)):
        n = sum(1 for t in times if t >= u)
        d = sum(1 for t, e in zip(times, events) if e and t == u)
        s *= 1 - d / n
        g += d / (n * (n - d)) if n > d else math.inf
        if 0 < s < 1 and math.isfinite(g):
            se = math.sqrt(g) / abs(math.log(s))
            lo, hi = s ** math.exp(Z * se), s ** math.exp(-Z * se)
        else:
            lo = hi = math.nan
        out[u] = (s, lo, hi)
    return out


def brute_median(times, events):
    """The R/SAS median: the first time the estimate is below 0.5, or, where it sits exactly
    at 0.5, the midpoint between that time and the next event time (or the last time)."""
    km = brute_km(times, events)
    event_times = sorted(km)
    for i, u in enumerate(event_times):
        s = km[u][0]
        if abs(s - 0.5) < 1e-12:
            following = event_times[i + 1] if i + 1 < len(event_times) else max(times)
            return (u + following) / 2
        if s < 0.5:
            return u
    return math.nan


def _approx_or_nan(got, want, abs_tol):
    return math.isnan(got) if math.isnan(want) else got == pytest.approx(want, abs=abs_tol)


ENDPOINT_POP = [(e, p) for e in sv.ENDPOINTS for p in ("completers", "nri")
                if not sv.is_competing_risk(e)]  # those: Aalen–Johansen, tested below


@pytest.mark.parametrize("endpoint,population", ENDPOINT_POP)
def test_km_matches_brute_force(rnd, endpoint, population):
    res = sv.survival(rnd, endpoint, population)
    for arm in ("MSC", "MSC_IFNG"):
        s = res.subjects[res.subjects["arm"] == arm]
        ref = brute_km(list(s["time"]), list(s["event"]))
        c = _curve(res, arm)
        for u, (est, lo, hi) in ref.items():
            assert _at(c, u) == pytest.approx(est, abs=1e-12)
            assert _approx_or_nan(_at(c, u, "ci_low"), lo, 1e-9)
            assert _approx_or_nan(_at(c, u, "ci_high"), hi, 1e-9)
        ci = _curve(res, arm, "cumulative_incidence")
        np.testing.assert_allclose(ci["estimate"], 1 - c["estimate"])
        np.testing.assert_allclose(ci["ci_low"], 1 - c["ci_high"])
        row = res.summary.set_index("arm").loc[arm]
        assert row["n"] == len(s) and row["events"] == int(s["event"].sum())
        median = brute_median(list(s["time"]), list(s["event"]))
        if math.isnan(median):
            assert math.isnan(row["median"]) and not row["median_reached"]
            assert row["median_reason"] == "not_reached"
        else:
            assert row["median"] == pytest.approx(median) and row["median_reached"]


# -- 3. statsmodels -----------------------------------------------------------------------------

@pytest.mark.parametrize("endpoint,population", ENDPOINT_POP)
def test_against_statsmodels(rnd, endpoint, population):
    res = sv.survival(rnd, endpoint, population)
    sub = res.subjects
    for arm in ("MSC", "MSC_IFNG"):
        s = sub[sub["arm"] == arm]
        if s["event"].sum() == 0:
            assert (_curve(res, arm)["estimate"] == 1).all()
            continue
        sf = SurvfuncRight(s["time"].to_numpy(), s["event"].to_numpy(dtype=float))
        c = _curve(res, arm)
        for u, p, se in zip(sf.surv_times, sf.surv_prob, sf.surv_prob_se):
            assert _at(c, u) == pytest.approx(p, abs=1e-12)
            if 0 < p < 1 and se > 0:  # statsmodels' Greenwood SE, on the log(-log) scale
                v = se / abs(p * math.log(p))
                assert _at(c, u, "ci_low") == pytest.approx(p ** math.exp(Z * v), abs=1e-9)
                assert _at(c, u, "ci_high") == pytest.approx(p ** math.exp(-Z * v), abs=1e-9)
        med = res.median(arm)
        # statsmodels takes the first time S < 0.5; we (lifelines) the first time S <= 0.5
        if med["reached"] and not np.isclose(sf.surv_prob, 0.5, rtol=0, atol=1e-12).any():
            assert med["median"] == pytest.approx(sf.quantile(0.5))
    if sub["event"].sum() == 0:
        assert math.isnan(res.logrank_p)
        return
    chi2, p = survdiff(sub["time"].to_numpy(), sub["event"].to_numpy(dtype=float),
                       (sub["arm"] == "MSC_IFNG").to_numpy(dtype=int))
    assert res.logrank_chi2 == pytest.approx(chi2, rel=1e-8)
    assert res.logrank_p == pytest.approx(p, rel=1e-6)
    if sub.groupby("arm")["event"].sum().min() == 0:
        assert math.isnan(res.hazard_ratio)
        return
    fit = PHReg(sub["time"].to_numpy(), (sub["arm"] == "MSC_IFNG").to_numpy(float)[:, None],
                status=sub["event"].to_numpy(dtype=float), ties="efron").fit()
    # compare on the log scale: near-separated data (HR ~ 75) leaves the optimisers' stopping
    # points a little apart
    assert math.log(res.hazard_ratio) == pytest.approx(fit.params[0], abs=1e-3)
    lo, hi = fit.conf_int()[0]
    assert math.log(res.hr_ci_low) == pytest.approx(lo, abs=1e-3)
    assert math.log(res.hr_ci_high) == pytest.approx(hi, abs=1e-3)


def test_median_ci_against_statsmodels(freireich):
    res = sv.survival(freireich, "WITHDRAWAL", "nri")
    for arm, data in (("MSC", FREIREICH_6MP), ("MSC_IFNG", FREIREICH_PLACEBO)):
        sf = SurvfuncRight([w for w, _ in data], [e for _, e in data])
        lo, hi = sf.quantile_ci(0.5, method="cloglog")
        med = res.median(arm)
        assert med["ci_low"] == pytest.approx(lo * W)
        assert (math.isnan(med["ci_high"]) and math.isinf(hi)) or \
            med["ci_high"] == pytest.approx(hi * W)


# -- 4. per-subject times and numbers at risk from the raw tables -------------------------------

def _raw(study, table):
    return study.con.cursor().execute(f"SELECT * FROM {table}").df()


def _das28(v):
    return (0.56 * math.sqrt(v.tjc28) + 0.28 * math.sqrt(v.sjc28) + 0.70 * math.log(v.esr)
            + 0.014 * v.patient_global)


RAW_CRITERIA = {
    "DAS28_REM": lambda v, bl: None if _nan(v, "tjc28", "sjc28", "esr", "patient_global")
    else _das28(v) < 2.6,
    "DAS28_LDA": lambda v, bl: None if _nan(v, "tjc28", "sjc28", "esr", "patient_global")
    else _das28(v) <= 3.2,
    "HAQ_MCID": lambda v, bl: None if _nan(v, "haq_di") or _nan(bl, "haq_di")
    else round(bl.haq_di - v.haq_di, 9) >= 0.22,
}


def _nan(row, *cols):
    return any(pd.isna(getattr(row, c)) for c in cols)


def brute_times(study, endpoint, population, horizon=None):
    subjects = _raw(study, "subjects")
    if population == "completers":
        subjects = subjects[subjects["status"] == "completed"]
    visits = _raw(study, "visits")
    out = {}
    for s in subjects.itertuples():
        inf = pd.Timestamp(s.infusion_date)
        if endpoint in RAW_CRITERIA:
            vs = visits[visits["subject_id"] == s.subject_id]
            bl = next(vs[vs["visit"] == "BL"].itertuples(), None)
            event_day, last_day = None, 0
            for v in vs[vs["visit"] != "BL"].itertuples():
                d = (pd.Timestamp(v.visit_date) - inf).days
                met = RAW_CRITERIA[endpoint](v, bl) if bl is not None else None
                if met is None:
                    continue
                last_day = max(last_day, d)
                if met and (event_day is None or d < event_day):
                    event_day = d
            days, event = (event_day, True) if event_day is not None else (last_day, False)
        else:
            reason = sv.WITHDRAWAL_ENDPOINTS[endpoint]
            withdrawn = s.status == "withdrawn"
            end = s.withdrawal_date if withdrawn else s.last_assessment_date
            days = (pd.Timestamp(end) - inf).days
            event = withdrawn and (reason is None or s.withdrawal_reason == reason)
        if horizon is not None and days > horizon * DAYS_PER_YEAR:
            days, event = horizon * DAYS_PER_YEAR, False
        out[s.subject_id] = (s.arm, days / DAYS_PER_YEAR, bool(event))
    return out


BRUTE_CASES = [(e, p, h) for e in (*RAW_CRITERIA, *sv.WITHDRAWAL_ENDPOINTS)
               for p in ("completers", "nri") for h in (None, 0.5, 3.0)]


@pytest.mark.parametrize("endpoint,population,horizon", BRUTE_CASES)
def test_times_and_at_risk_brute_force(rnd, endpoint, population, horizon):
    res = sv.survival(rnd, endpoint, population, horizon_years=horizon)
    ref = brute_times(rnd, endpoint, population, horizon)
    got = {r.subject_id: (r.arm, r.time, r.event) for r in res.subjects.itertuples()}
    assert got.keys() == ref.keys()
    for sid, (arm, time, event) in ref.items():
        assert got[sid][0] == arm and got[sid][2] == event, sid
        assert got[sid][1] == pytest.approx(time, abs=1e-12), sid
    if horizon is not None:
        assert res.ticks[-1] == pytest.approx(horizon)
    for r in res.at_risk.itertuples():
        arm_subjects = [v for v in ref.values() if v[0] == r.arm]
        assert r.n_at_risk == sum(1 for _, tm, _ in arm_subjects if tm >= r.time - 1e-12)
        assert r.n_events == sum(1 for _, tm, e in arm_subjects if e and tm <= r.time + 1e-12)


def test_horizon_truncates(rnd):
    full = sv.survival(rnd, "ACR20", "nri")
    h = sv.survival(rnd, "ACR20", "nri", horizon_years=0.5)
    assert h.subjects["time"].max() <= 0.5 + 1e-12
    assert h.subjects["event"].sum() <= full.subjects["event"].sum()
    # KM up to the horizon is the same as without the horizon
    for arm in ("MSC", "MSC_IFNG"):
        assert _at(_curve(h, arm), 0.49) == pytest.approx(_at(_curve(full, arm), 0.49))


def test_ticks():
    assert sv.axis_ticks(1.0) == [0, 0.25, 0.5, 0.75, 1.0]
    assert sv.axis_ticks(6.4) == [0, 1, 2, 3, 4, 5, 6]
    assert sv.axis_ticks(0) == [0.0]
    assert len(sv.axis_ticks(1 / 12)) == 2


# -- 5. filters, metadata, edge cases -----------------------------------------------------------

def test_subgroup_filters(rnd):
    info = rnd.query("SELECT arm, sex, prior_bdmard FROM subject_info")
    res = sv.survival(rnd, "DAS28_LDA", "nri", sex="F", prior_bdmard=1)
    expected = info[(info["sex"] == "F") & (info["prior_bdmard"] == 1)]
    assert len(res.subjects) == len(expected)
    assert res.summary["n"].tolist() == [int((expected["arm"] == a).sum())
                                         for a in ("MSC", "MSC_IFNG")]
    assert res.curves.attrs["n_per_arm"] == dict(zip(("MSC", "MSC_IFNG"),
                                                     res.summary["n"].tolist()))


def test_bad_arguments(rnd):
    with pytest.raises(ValueError):
        sv.survival(rnd, "ACR20; DROP TABLE visits", "nri")
    with pytest.raises(ValueError):
        sv.survival(rnd, "ACR20", "nri", sex="F' OR 1=1 --")
    with pytest.raises(ValueError):
        sv.survival(rnd, "ACR20", "nri", horizon_years=-1)


@pytest.mark.parametrize("lang", ("en", "zh"))
def test_attrs_and_method(rnd, lang):
    res = rnd.survival("ACR50", "nri", horizon_years=1.0, lang=lang)
    for df in (res.curves, res.summary, res.at_risk):
        assert df.attrs["lang"] == lang and df.attrs["population"] == "nri"
        assert df.attrs["method"] == res.method and df.attrs["synthetic"] is True
    assert "log(−log)" in res.method and "Efron" in res.method
    assert res.summary.attrs["title"]
    fig = survival_figure(res, "cumulative_incidence", ci_bands=False, censor_marks=False)
    texts = [tr for tr in fig.data if tr.mode == "text"]
    assert len(texts) == 2
    for tr in texts:  # numbers at risk sit exactly at the x ticks
        assert list(tr.x) == res.ticks
    assert list(fig.layout.xaxis.tickvals) == res.ticks
    assert not any(getattr(tr, "fill", None) for tr in fig.data)
    fig = survival_figure(res, "survival", ci_bands=True, censor_marks=True)
    assert any(tr.fill == "toself" for tr in fig.data)  # bands: one polygon per defined stretch


def test_withdrawal_completers_has_no_events(rnd):
    res = sv.survival(rnd, "WITHDRAWAL", "completers")
    assert res.summary["events"].sum() == 0
    assert math.isnan(res.logrank_p) and math.isnan(res.hazard_ratio)
    assert res.summary.attrs["footnote"]


def test_empty_arm_and_empty_selection(tmp_path):
    subjects = [dict(subject_id=f"S{i}", arm="MSC", status="withdrawn",
                     withdrawal_date=day(100 + 30 * i), withdrawal_reason="adverse_event")
                for i in range(4)]
    s = build_study(tmp_path / "one_arm.duckdb", subjects, [])
    try:
        res = sv.survival(s, "WITHDRAWAL_AE", "nri")
        assert res.summary["n"].tolist() == [4, 0]
        assert math.isnan(res.logrank_p) and math.isnan(res.hazard_ratio)
        assert _at(_curve(res, "MSC", "cumulative_incidence"), 1.0) == 1.0
        res = sv.survival(s, "WITHDRAWAL", "nri")
        assert res.hr_reason == res.logrank_reason == "no_subjects"
        assert _at(_curve(res, "MSC"), 1.0) == 0.0
        survival_figure(res)
        sv.summary_display(res, "zh")
        res = sv.survival(s, "ACR20", "nri")  # no visits at all: all censored at 0
        assert res.summary["events"].sum() == 0
        res = sv.survival(s, "ACR20", "nri", sex="M")  # nobody
        assert res.summary["n"].sum() == 0 and res.curves.empty
        survival_figure(res)
        sv.summary_display(res)
    finally:
        s.close()


def test_messages_complete():
    path = Path(sv.__file__).with_name("messages") / "survival.toml"
    with path.open("rb") as fh:
        entries = tomllib.load(fh)
    for key, entry in entries.items():
        assert entry.get("en") and entry.get("zh"), key
    cat = catalogue()
    for code in sv.ENDPOINTS:
        assert f"endpoint.{code}" in cat
    for code in sv.WITHDRAWAL_ENDPOINTS:
        assert f"endpoint.{code}" in entries
    assert "nav.survival" in entries
