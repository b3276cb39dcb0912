"""An analysis that asks the dashboard's study for another analysis gets the memoised result
(issue 13: the rate trend counted the rates by year again, a comparison its rates), and the result
is the one computed without any memo."""
from __future__ import annotations

import pandas as pd
import pytest
import streamlit as st

from analytics import response, safety
from analytics.response import compare_rates
from analytics.safety_trend import ae_rate_trend
from dashboard import study_source

pytestmark = pytest.mark.usefixtures("dashboard_study")


def _counting(monkeypatch, module, name: str) -> list:
    """Count the calls of ``module.name`` (the function a Study method runs on a miss)."""
    calls: list = []
    real = getattr(module, name)

    def counted(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)
    monkeypatch.setattr(module, name, counted)
    return calls


@pytest.mark.parametrize("filters", [{}, {"sex": "F", "comparison": "randomised"}])
def test_trend_uses_the_memoised_rates_by_year(monkeypatch, study, filters):
    st.cache_data.clear()
    cached = study_source.CachedStudy(study_source.served_study())
    counted = _counting(monkeypatch, safety, "ae_rates_by_year")
    by_year = cached.ae_rates_by_year(lang="zh", **filters)
    trend = cached.ae_rate_trend(lang="zh", **filters)
    assert len(counted) == 1  # counted for the page, not again for its trend
    pd.testing.assert_frame_equal(by_year, safety.ae_rates_by_year(study, lang="zh", **filters),
                                  check_exact=True)
    direct = ae_rate_trend(study, lang="zh", **filters)
    pd.testing.assert_frame_equal(trend, direct, check_exact=True)
    assert {k: v for k, v in trend.attrs.items() if k != "call"} == \
        {k: v for k, v in direct.attrs.items() if k != "call"}


def test_comparison_uses_the_memoised_rates(monkeypatch, study):
    st.cache_data.clear()
    cached = study_source.CachedStudy(study_source.served_study())
    counted = _counting(monkeypatch, response, "response_rates")
    cached.response_rates("ACR50", "nri", lang="en", sex="M")
    compared = cached.compare_rates("ACR50", "nri", lang="en", sex="M")
    assert len(counted) == 1
    direct = compare_rates(study, "ACR50", "nri", lang="en", sex="M")
    pd.testing.assert_frame_equal(compared, direct, check_exact=True)
    assert compared.attrs["call"]["method"] == "compare_rates"
    assert compared["p_value"].notna().any()
