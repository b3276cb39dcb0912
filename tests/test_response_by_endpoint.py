"""Several endpoints counted in one query give, endpoint by endpoint, the frames counted one at a
time (issue 13: the reconciliation page counts its five endpoints at once)."""
from __future__ import annotations

import pandas as pd
import pytest

from analytics.response import (ENDPOINTS, compare_computed_rates, compare_rates,
                                response_rates, response_rates_by_endpoint)


@pytest.mark.parametrize("population,filters", [
    ("completers", {}), ("nri", {}), ("nri", {"sex": "F"}),
    ("completers", {"comparison": "randomised"})])
def test_endpoints_at_once_equal_one_at_a_time(study, population, filters):
    endpoints = list(ENDPOINTS)
    together = response_rates_by_endpoint(study, endpoints + endpoints[:1], population,
                                          lang="zh", **filters)
    assert list(together) == endpoints
    for endpoint in endpoints:
        alone = response_rates(study, endpoint, population, lang="zh", **filters)
        pd.testing.assert_frame_equal(together[endpoint], alone, check_exact=True)
        assert together[endpoint].attrs == alone.attrs
        assert alone["n"].sum() > 0


def test_comparison_of_counted_rates_equals_comparison(study):
    rates = response_rates(study, "DAS28_REM", "nri")
    computed = compare_computed_rates(study, rates, "DAS28_REM", "nri")
    direct = compare_rates(study, "DAS28_REM", "nri")
    pd.testing.assert_frame_equal(computed, direct, check_exact=True)
    assert computed.attrs == direct.attrs
    assert computed["p_value"].notna().any()


def test_fact_is_kept_per_parameters(study):
    sql = "SELECT count(*) AS n FROM subject_info WHERE arm = ?"
    first = study.fact(sql, ["MSC"])
    assert study.fact(sql, ["MSC"]) is first
    other = study.fact(sql, ["MSC_IFNG"])
    expected = study.query(sql, ["MSC_IFNG"])
    assert int(other.n[0]) == int(expected.n[0]) != int(first.n[0])
