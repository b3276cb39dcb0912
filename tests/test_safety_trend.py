"""Constant-rate check for the AE rates (issue 10, item 7): Poisson trend over years of follow-up.

* :func:`analytics.stats.poisson_trend` against R's ``glm(family = poisson, offset = log(py))``
  (``tests/reference/poisson_trend.R`` and its output ``poisson_trend_r.csv``), to 1e-6;
* hand-made counts: a constant rate gives rate ratio 1 and no evidence against a constant rate, a
  rising rate a rate ratio above 1 and p < 0.05; where the trend cannot be estimated, NaN and a
  reason;
* on the default study, per arm and category, against a statsmodels formula GLM written here on
  counts taken from the raw subjects and adverse_events tables with pandas.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf

from analytics.caution import NOT_ESTIMABLE_REASONS
from analytics.safety_trend import ae_rate_trend, trend_display
from analytics.stats import poisson_trend
from safety_fixtures import make_study

REFERENCE = Path(__file__).resolve().parent / "reference"
Y = 365.25


def _datasets() -> dict[str, pd.DataFrame]:
    data = pd.read_csv(REFERENCE / "poisson_trend_input.csv")
    return {name: g for name, g in data.groupby("dataset")}


R_RESULTS = pd.read_csv(REFERENCE / "poisson_trend_r.csv").set_index("dataset")


@pytest.mark.parametrize("name", sorted(R_RESULTS.index))
def test_trend_matches_r_glm(name):
    d = _datasets()[name]
    ratio, low, high, p, reason = poisson_trend(d["events"], d["person_years"], d["year"])
    ref = R_RESULTS.loc[name]
    assert reason == ""
    assert ratio == pytest.approx(ref["rate_ratio"], rel=1e-6)
    assert low == pytest.approx(ref["ci_low"], rel=1e-6)
    assert high == pytest.approx(ref["ci_high"], rel=1e-6)
    assert p == pytest.approx(ref["p_value"], rel=1e-6, abs=1e-12)


def test_constant_rate_shows_no_trend():
    # 12 events per 100 PY every year: the fitted trend is flat and p is 1.
    ratio, low, high, p, _ = poisson_trend([12] * 5, [100.0] * 5, range(5))
    assert ratio == pytest.approx(1.0, abs=1e-9)
    assert low < 1 < high
    assert p == pytest.approx(1.0, abs=1e-9)


def test_rising_rate_is_detected():
    # The rate doubles every year: the estimate is 2 and the constant rate is rejected.
    events = [2, 4, 8, 16, 32]
    ratio, low, high, p, _ = poisson_trend(events, [50.0] * 5, range(5))
    assert ratio == pytest.approx(2.0, rel=1e-9)
    assert 1 < low < 2 < high
    assert p < 0.05


@pytest.mark.parametrize("events,py,x,reason", [
    ([0, 0, 0], [10.0, 10.0, 10.0], [0, 1, 2], "no_events"),
    ([5, 0, 0], [10.0, 10.0, 10.0], [0, 1, 2], "no_trend_estimate"),   # all in the first year
    ([0, 0, 3], [10.0, 10.0, 4.0], [0, 1, 2], "no_trend_estimate"),    # all in the last year
    ([4, 2], [10.0, 0.0], [0, 1], "too_few_years"),                   # one year with exposure
])
def test_not_estimable_trend_is_nan_with_reason(events, py, x, reason):
    ratio, low, high, p, got = poisson_trend(events, py, x)
    assert got == reason and reason in NOT_ESTIMABLE_REASONS
    assert all(math.isnan(v) for v in (ratio, low, high, p))


def test_events_in_a_middle_year_only_have_a_finite_trend():
    ratio, low, high, p, reason = poisson_trend([0, 3, 0], [10.0, 10.0, 10.0], [0, 1, 2])
    assert reason == "" and 0 < low < ratio < high < math.inf


# -- on the default study, against a GLM written here --------------------------------------------

def _raw_by_year(study) -> pd.DataFrame:
    """Events and person-years per arm, category and year of follow-up, from the raw tables."""
    subjects = study.query("SELECT subject_id, arm, infusion_date, last_assessment_date "
                           "FROM subjects")
    events = study.query("SELECT subject_id, onset_date, serious FROM adverse_events")
    subjects["exposure"] = (pd.to_datetime(subjects.last_assessment_date)
                            - pd.to_datetime(subjects.infusion_date)).dt.days / Y
    events = events.merge(subjects[["subject_id", "arm", "infusion_date"]], on="subject_id")
    events["onset"] = (pd.to_datetime(events.onset_date)
                       - pd.to_datetime(events.infusion_date)).dt.days / Y
    events = events[events.onset >= 0]
    n_years = math.ceil(subjects.exposure.max() - 1e-12)
    rows = []
    for arm, subj in subjects.groupby("arm"):
        for year in range(n_years):
            py = float(np.clip(subj.exposure - year, 0, 1).sum())
            in_year = events[(events.arm == arm) & (events.onset >= year)
                             & (events.onset < year + 1)]
            rows.append(dict(arm=arm, category="any", year=year, events=len(in_year), py=py))
            rows.append(dict(arm=arm, category="serious", year=year,
                             events=int((in_year.serious == 1).sum()), py=py))
    return pd.DataFrame(rows)


def test_study_trend_matches_independent_glm(study):
    got = ae_rate_trend(study)
    raw = _raw_by_year(study)
    assert len(got) == 4
    for row in got.itertuples():
        d = raw[(raw.arm == row.arm) & (raw.category == row.category) & (raw.py > 0)]
        fit = smf.glm("events ~ year", data=d, family=sm.families.Poisson(),
                      offset=np.log(d["py"])).fit(tol=1e-12)
        low, high = np.exp(fit.conf_int().loc["year"])
        assert row.events == d.events.sum()
        assert row.person_years == pytest.approx(d.py.sum(), rel=1e-9)
        assert row.rate_ratio_per_year == pytest.approx(math.exp(fit.params["year"]), rel=1e-6)
        assert row.ci_low == pytest.approx(low, rel=1e-6)
        assert row.ci_high == pytest.approx(high, rel=1e-6)
        assert row.p_value == pytest.approx(fit.pvalues["year"], rel=1e-6)
        assert row.conclusion == ("constant" if row.p_value >= 0.05 else "not_constant")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_footnote_says_whether_the_constant_rate_holds(study, lang):
    from analytics.i18n import t
    got = ae_rate_trend(study, lang=lang)
    for row in got.itertuples():
        assert t(f"safety.trend.conclusion.{row.conclusion}", lang) in got.attrs["footnote"]
    assert t("safety.trend.meaning", lang) in got.attrs["footnote"]
    assert got.attrs["population"] == "safety"
    assert got.attrs["n_per_arm"] == {"MSC": 79, "MSC_IFNG": 31}
    shown = trend_display(got)
    assert len(shown) == 4 and not shown.isna().any().any()


def test_small_arm_gives_no_trend(tmp_path):
    fixture = make_study(tmp_path / "study.duckdb")
    try:
        got = ae_rate_trend(fixture, sex="M")  # one subject per arm
        assert (got["reason"] == "arm_too_small").all()
        assert got["rate_ratio_per_year"].isna().all() and got["p_value"].isna().all()
        assert got.attrs["caution"]
        assert "not estimable" in trend_display(got).to_string()
    finally:
        fixture.close()
