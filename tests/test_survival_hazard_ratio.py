"""The hazard-ratio-only analysis (the survival page's pooled-versus-randomised note) gives
exactly the hazard ratio, CI, p and reason of the full survival analysis (issue 13: the note fitted
the whole analysis, curves and all, for the ratio alone)."""
from __future__ import annotations

import math

import pandas as pd
import pytest

from analytics.population import randomised_trials, trial_ids
from analytics.survival import COMPARED_ARM, ENDPOINTS, hazard_ratio, survival

HR_COLUMNS = ["hazard_ratio", "hr_ci_low", "hr_ci_high", "hr_p", "hr_reason"]


def _same(a, b) -> bool:
    return a == b or (isinstance(a, float) and isinstance(b, float)
                      and math.isnan(a) and math.isnan(b))


def _cases(study):
    randomised = randomised_trials(study)
    single_arm = [t for t in trial_ids(study) if t not in randomised]
    yield "nri", None, {}
    yield "completers", 3.0, {}
    yield "nri", 1.0, {"comparison": "randomised"}
    yield "nri", None, {"sex": "M", "comparison": "randomised"}
    yield "completers", 0.5, {"age_band": "lt45", "prior_bdmard": 1}
    yield "nri", 5.0, {"study_id": randomised[0], "baseline_activity": "high"}
    yield "nri", 3.0, {"study_id": single_arm[0]}  # one arm only: no comparison


def test_hazard_ratio_equals_the_survival_analysis(study):
    reasons = set()
    for population, horizon, filters in _cases(study):
        for endpoint in ENDPOINTS:
            if population == "completers" and endpoint.startswith("WITHDRAWAL"):
                continue
            full = survival(study, endpoint, population, horizon_years=horizon, lang="zh",
                            **filters)
            alone = hazard_ratio(study, endpoint, population, horizon_years=horizon, lang="zh",
                                 **filters)
            expected = full.summary.set_index("arm").loc[COMPARED_ARM, HR_COLUMNS].to_dict()
            assert list(alone["arm"]) == [COMPARED_ARM]
            got = alone.iloc[0][HR_COLUMNS].to_dict()
            assert all(_same(got[c], expected[c]) for c in HR_COLUMNS), (endpoint, filters)
            for key in ("population", "n_per_arm", "filters", "comparison", "method", "lang"):
                assert alone.attrs[key] == full.summary.attrs[key]
            if got["hr_reason"]:
                assert "风险比" in alone.attrs["footnote"]  # the reason is stated
            reasons.add(got["hr_reason"])
    # estimable ratios and the reasons a ratio is not estimable are both exercised
    assert "" in reasons and "no_cif_test" in reasons and len(reasons) >= 3, reasons


def test_study_method_is_the_analysis(study):
    via_study = study.hazard_ratio("ACR20", "nri", horizon_years=3.0, comparison="randomised")
    direct = hazard_ratio(study, "ACR20", "nri", horizon_years=3.0, comparison="randomised")
    assert via_study.equals(direct)
    assert via_study.attrs["call"]["method"] == "hazard_ratio"
    assert not math.isnan(float(via_study["hazard_ratio"].iloc[0]))


def test_the_ratio_alone_fits_no_curve_and_is_worded_per_language(monkeypatch):
    """The note's ratio is the Cox fit alone (no Kaplan–Meier curve), memoised in no language:
    the other language rewords it and fits nothing again."""
    from analytics import survival as sv
    from dashboard import study_source
    served = study_source.CachedStudy(study_source.served_study())
    study_source._cached_result.clear()
    fits, curves = [], []
    real_cox, real_curve = sv._cox, sv._curve_arm
    monkeypatch.setattr(sv, "_cox", lambda *a: fits.append(a[0]) or real_cox(*a))
    monkeypatch.setattr(sv, "_curve_arm", lambda *a: curves.append(a[0]) or real_curve(*a))
    en = served.hazard_ratio("ACR50", "nri", horizon_years=3.0, lang="en",
                             comparison="randomised")
    zh = served.hazard_ratio("ACR50", "nri", horizon_years=3.0, lang="zh",
                             comparison="randomised")
    assert fits == ["ACR50"] and curves == []
    pd.testing.assert_frame_equal(en[HR_COLUMNS], zh[HR_COLUMNS])
    assert en.attrs["title"] != zh.attrs["title"] and zh.attrs["lang"] == "zh"
    study_source._cached_result.clear()
