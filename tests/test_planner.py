"""Next-trial planner (issue 14 item 4) against textbook references and independent code."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, stats

from analytics.caution import MIN_ARM_FOR_TEST
from analytics.charts.forest import power_figure
from analytics.planner import (event_probability, fisher_rejection_region, n_time_to_event,
                               n_two_proportions_fisher, n_two_proportions_normal,
                               plan_response, plan_survival, power_display, power_fisher_exact,
                               power_time_to_event,
                               power_two_proportions_normal, schoenfeld_events)
from analytics.response import compare_rates


def test_schoenfeld_events_textbook():
    # HR 0.5, two-sided alpha 0.05, power 0.8: 65.3 -> 66 events (Schoenfeld 1983; Collett)
    assert schoenfeld_events(0.5, 0.05, 0.8) == 66
    assert schoenfeld_events(2.0, 0.05, 0.8) == 66  # symmetric in log HR
    # HR 0.75, power 0.9: (1.95996 + 1.28155)^2 * 4 / log(0.75)^2 = 508 events
    assert schoenfeld_events(0.75, 0.05, 0.9) == 508
    assert math.isnan(schoenfeld_events(1.0))


@pytest.mark.parametrize("p_ref,p_test", [(0.3, 0.6), (0.5, 0.65), (0.2, 0.1)])
def test_two_proportions_normal_equals_the_arcsine_formula(p_ref, p_test):
    # written out: Cohen's h, each arm's arcsine has variance 1/n, so per arm
    # n = 2 ((z_{1-a/2} + z_{1-b}) / h)^2 (Cohen 1988, ch. 6)
    h = 2 * math.asin(math.sqrt(p_test)) - 2 * math.asin(math.sqrt(p_ref))
    n = 2 * ((stats.norm.isf(0.025) + stats.norm.isf(0.2)) / h) ** 2
    assert n_two_proportions_normal(p_ref, p_test) == math.ceil(n)
    planned = n_two_proportions_normal(p_ref, p_test)
    assert power_two_proportions_normal(p_ref, p_test, planned) >= 0.8
    assert power_two_proportions_normal(p_ref, p_test, planned - 1) < 0.8


def test_fisher_rejection_region_equals_scipy_fisher_exact():
    for n_ref, n_test in ((8, 8), (6, 11)):
        region = fisher_rejection_region(n_ref, n_test, 0.05)
        for k1 in range(n_ref + 1):
            for k2 in range(n_test + 1):
                p = stats.fisher_exact([[k1, n_ref - k1], [k2, n_test - k2]])[1]
                assert region[k1, k2] == (p <= 0.05), (k1, k2, p)


def test_exact_fisher_power_within_monte_carlo_error_of_a_simulation():
    p_ref, p_test, n, sims = 0.3, 0.7, 25, 4000
    rng = np.random.default_rng(20261127)
    k1 = rng.binomial(n, p_ref, sims)
    k2 = rng.binomial(n, p_test, sims)
    rejected = [stats.fisher_exact([[a, n - a], [b, n - b]])[1] <= 0.05 for a, b in zip(k1, k2)]
    simulated = float(np.mean(rejected))
    exact = power_fisher_exact(p_ref, p_test, n)
    se = math.sqrt(exact * (1 - exact) / sims)
    assert abs(simulated - exact) < 4 * se
    # the exact test is conservative: it needs at least the normal-approximation n
    assert n_two_proportions_fisher(0.3, 0.6) >= n_two_proportions_normal(0.3, 0.6)
    planned = n_two_proportions_fisher(0.3, 0.6)
    assert power_fisher_exact(0.3, 0.6, planned) >= 0.8
    normal = n_two_proportions_normal(0.3, 0.6)
    assert all(power_fisher_exact(0.3, 0.6, m) < 0.8 for m in range(normal // 2, planned))


def test_event_probability_equals_numerical_integration():
    lam, eta_year, a, f = 0.3, 0.1, 2.0, 3.0
    eta = -math.log(1 - eta_year)

    def observed(u):  # follow-up u: event before dropout and before u
        return lam / (lam + eta) * (1 - math.exp(-(lam + eta) * u))
    expected = integrate.quad(observed, f, a + f)[0] / a
    assert event_probability(lam, a, f, eta_year) == pytest.approx(expected, rel=1e-10)
    assert event_probability(lam, 0.0, f, 0.0) == pytest.approx(1 - math.exp(-lam * f))
    plan = n_time_to_event(0.5, lam, a, f, eta_year)
    assert plan["events"] == 66
    assert plan["n_per_arm"] == math.ceil(66 / plan["event_probability"] / 2)


def test_plan_response_on_the_study(study):
    plan = plan_response(study, "ACR50", "Y1", "completers", lang="zh")
    a = plan.attrs
    assert {"p_ref", "p_test", "alpha", "power", "conservative"} <= set(a["assumptions"])
    assert a["plan"]["n_normal"] == n_two_proportions_normal(a["assumptions"]["p_ref"],
                                                             a["assumptions"]["p_test"])
    assert np.all(np.diff(plan["power_normal"]) > 0)
    assert a["footnote"] and a["method"] and a["timepoint"] == "Y1"
    assert len(power_display(plan)) == len(plan)
    assert len(power_figure(plan).data) == 2
    cons = plan_response(study, "ACR50", "Y1", "completers", conservative=True)
    if cons.attrs["plan"]["reason"]:
        assert cons.attrs["plan"]["reason"] == "ci_includes_null" and cons.empty
    else:
        assert cons.attrs["plan"]["n_normal"] >= a["plan"]["n_normal"]


def test_plan_response_in_a_tiny_subgroup_is_not_estimable_for_the_arm_size(study):
    # an arm of 2 (with a rate of 100 %): the comparison's own reason, not the rate's bound
    tiny = dict(sex="F", age_band="45to54", baseline_activity="moderate")
    rates = compare_rates(study, "ACR20", "completers", **tiny)
    y1 = rates.loc[rates["timepoint"] == "Y1"].iloc[0]
    assert min(y1["n_MSC"], y1["n_MSC_IFNG"]) < MIN_ARM_FOR_TEST
    plan = plan_response(study, "ACR20", "Y1", "completers", **tiny)
    assert plan.attrs["plan"]["reason"] == "arm_too_small" == y1["not_estimable"]
    assert plan.empty and math.isnan(plan.attrs["plan"]["n_normal"])


def test_plan_survival_on_the_study(study):
    plan = plan_survival(study, "ACR50", "completers", accrual_years=1.5, follow_up_years=2.0,
                         dropout_per_year=0.1)
    a = plan.attrs
    assert a["assumptions"]["accrual_years"] == 1.5 and a["assumptions"]["dropout_per_year"] == 0.1
    assert a["plan"]["events"] == schoenfeld_events(a["assumptions"]["hazard_ratio"])
    assert plan["power"].is_monotonic_increasing
    # completers never withdraw: no events, no plan, with the reason
    none = plan_survival(study, "WITHDRAWAL", "completers")
    assert none.attrs["plan"]["reason"] and math.isnan(none.attrs["plan"]["n_per_arm"])


# -- unequal allocation (MSC + IFN-γ : MSC = ratio : 1) -------------------------------------------
def test_unequal_allocation_normal_equals_the_written_out_formula():
    # each arm's arcsine has variance 1/n: n_MSC = ((z_{1-a/2} + z_{1-b}) / h)^2 (1 + 1/ratio)
    p_ref, p_test, ratio = 0.3, 0.6, 2.0
    h = 2 * math.asin(math.sqrt(p_test)) - 2 * math.asin(math.sqrt(p_ref))
    n = ((stats.norm.isf(0.025) + stats.norm.isf(0.2)) / h) ** 2 * (1 + 1 / ratio)
    planned = n_two_proportions_normal(p_ref, p_test, ratio=ratio)
    assert planned == math.ceil(n)
    assert power_two_proportions_normal(p_ref, p_test, planned, ratio=ratio) >= 0.8
    assert power_two_proportions_normal(p_ref, p_test, planned - 1, ratio=ratio) < 0.8
    # fewer MSC subjects than 1:1 needs per arm, more subjects in all
    equal = n_two_proportions_normal(p_ref, p_test)
    assert planned < equal and planned * (1 + ratio) > 2 * equal


def test_unequal_allocation_fisher_power_equals_scipy_table_by_table():
    p_ref, p_test, n, ratio = 0.3, 0.7, 7, 2.0
    m = 14
    expected = sum(stats.binom.pmf(a, n, p_ref) * stats.binom.pmf(b, m, p_test)
                   for a in range(n + 1) for b in range(m + 1)
                   if stats.fisher_exact([[a, n - a], [b, m - b]])[1] <= 0.05)
    assert power_fisher_exact(p_ref, p_test, n, ratio=ratio) == pytest.approx(expected, abs=1e-12)
    planned = n_two_proportions_fisher(p_ref, p_test, ratio=ratio)
    assert power_fisher_exact(p_ref, p_test, planned, ratio=ratio) >= 0.8


def test_unequal_allocation_schoenfeld():
    # 2:1 multiplies the 1:1 events by 1/(4 p (1 - p)) = 9/8 (Schoenfeld 1983): HR 0.5 -> 73.5
    z = stats.norm.isf(0.025) + stats.norm.isf(0.2)
    d = z ** 2 / ((2 / 3) * (1 / 3) * math.log(0.5) ** 2)
    plan = n_time_to_event(0.5, 0.3, 2.0, 3.0, 0.1, ratio=2.0)
    assert plan["events"] == math.ceil(d) == 74
    p_ref = event_probability(0.3, 2.0, 3.0, 0.1)
    p_test = event_probability(0.15, 2.0, 3.0, 0.1)
    assert plan["event_probability"] == pytest.approx(p_ref / 3 + 2 * p_test / 3, rel=1e-12)
    assert plan["n_per_arm"] == math.ceil(74 / plan["event_probability"] / 3)
    assert plan["n_test"] == 2 * plan["n_per_arm"]
    assert power_time_to_event(0.5, 74, ratio=2.0) >= 0.8 > power_time_to_event(0.5, 73,
                                                                                  ratio=2.0)


def test_plan_on_the_study_with_unequal_allocation_states_it(study):
    plan = plan_response(study, "DAS28_LDA", "Y1", "completers", ratio=2.0)
    a = plan.attrs
    assert a["assumptions"]["allocation"] == "2:1"
    assert "2:1" in a["footnote"]
    assert (plan["n_test"] == 2 * plan["n_per_arm"]).all()
    assert a["plan"]["n_normal"] == n_two_proportions_normal(
        a["assumptions"]["p_ref"], a["assumptions"]["p_test"], ratio=2.0)
    shown = power_display(plan)
    assert len(shown.columns) == 4  # n MSC, n MSC + IFN-γ, two powers


def test_exact_fisher_is_enumerated_up_to_its_limit_and_says_so(study):
    """Above EXACT_FISHER_MAX_N in the MSC arm there is no exact n (a page would wait minutes
    for it); the normal-approximation n stands, and the footnote says why."""
    import time
    from analytics.i18n import t
    from analytics.planner import EXACT_FISHER_MAX_N
    t0 = time.perf_counter()
    assert math.isnan(n_two_proportions_fisher(0.3, 0.37))  # normal: 712 per arm
    assert time.perf_counter() - t0 < 5
    plan = plan_response(study, "ACR70", "Y1", "completers", alpha=0.01, power=0.95)
    p = plan.attrs["plan"]
    assert p["n_normal"] > EXACT_FISHER_MAX_N and math.isnan(p["n_fisher"])
    assert plan.loc[plan["n_per_arm"] > EXACT_FISHER_MAX_N, "power_fisher"].isna().all()
    assert plan.loc[plan["n_per_arm"] <= EXACT_FISHER_MAX_N, "power_fisher"].notna().all()
    assert t("planner.footnote.exact_limit", "en", n=EXACT_FISHER_MAX_N) in plan.attrs["footnote"]
