"""Next-trial planner: sample size per arm for a two-arm confirmatory trial, from an observed effect.

Two proportions (1:1, two-sided α):

* **normal approximation** on the arcsine scale: statsmodels ``NormalIndPower`` with Cohen's
  ``h = proportion_effectsize(p_test, p_ref)`` — n per arm is the smallest integer at or above the
  solution;
* **exact Fisher power** by exact enumeration: for every outcome ``(k_ref, k_test)`` of two
  binomials, whether the two-sided Fisher exact test (R's ``fisher.test`` rule: tables at most as
  probable as the observed one, relative tolerance 1e-7) rejects at α; power is the binomial
  probability of the rejection region. The planned n is the smallest n at which exact power
  reaches the target (exact power is not monotone in n; the sawtooth is shown on the curve).

Time to event (1:1, two-sided α): **Schoenfeld** events ``d = (z_{1-α/2} + z_{1-β})² / (p(1−p)
(log HR)²)``, p = 1/2; patients from the probability of observing an event under exponential
models — control hazard λ (from a median or the observed rate), test hazard HR·λ, dropout hazard
η = −log(1 − annual dropout), uniform accrual over ``a`` years then ``f`` years of follow-up:
``P = λ/(λ+η) · (1 − (e^{−(λ+η)f} − e^{−(λ+η)(a+f)}) / ((λ+η)a))``, averaged over the arms.

Every assumption is an argument and comes back in ``attrs['assumptions']``.
"""
from __future__ import annotations

import functools
import math

import numpy as np
import pandas as pd
from scipy import stats

from .annotate import annotate, bare
from .caution import not_estimable
from .i18n import fmt_number, t
from .response import REFERENCE_ARM, TEST_ARM, compare_rates

FISHER_REL_TOL = 1e-7  # R fisher.test: "relErr <- 1 + 10^(-7)"
# Exact Fisher power is enumerated up to this n in the MSC arm: one power at n = 700 takes about
# 0.1 s and the search scans every n from 80 % of the normal-approximation n (18 s for 0.30 vs
# 0.37), too slow for a page; at such sizes the normal approximation is close to exact.
EXACT_FISHER_MAX_N = 300


# -- two proportions ------------------------------------------------------------------------------

def _check_probability(name: str, p: float) -> None:
    if not 0 < p < 1:
        raise ValueError(f"{name} must be strictly between 0 and 1, got {p!r}")


def n_two_proportions_normal(p_ref: float, p_test: float, alpha: float = 0.05,
                             power: float = 0.8, ratio: float = 1.0) -> int:
    """n of the MSC arm (the MSC + IFN-γ arm has :func:`test_arm_size` of it; ``ratio`` =
    n MSC + IFN-γ / n MSC), normal approximation on the arcsine scale (statsmodels
    NormalIndPower)."""
    from statsmodels.stats.power import NormalIndPower
    from statsmodels.stats.proportion import proportion_effectsize
    _check_probability("p_ref", p_ref)
    _check_probability("p_test", p_test)
    if p_ref == p_test:
        return math.nan
    h = proportion_effectsize(p_test, p_ref)
    n = NormalIndPower().solve_power(effect_size=abs(h), alpha=alpha, power=power, ratio=ratio,
                                     alternative="two-sided")
    return int(math.ceil(n - 1e-9))


def test_arm_size(n_ref, ratio: float = 1.0):
    """n of the MSC + IFN-γ arm for ``n_ref`` in the MSC arm (rounded up; array-friendly)."""
    return np.ceil(np.asarray(n_ref, dtype=float) * ratio - 1e-9).astype(int)


def power_two_proportions_normal(p_ref: float, p_test: float, n_per_arm, alpha: float = 0.05,
                                 ratio: float = 1.0):
    """Power of the normal-approximation test at n in the MSC arm (array-friendly)."""
    from statsmodels.stats.power import NormalIndPower
    from statsmodels.stats.proportion import proportion_effectsize
    h = proportion_effectsize(p_test, p_ref)
    return NormalIndPower().power(effect_size=abs(h), nobs1=np.asarray(n_per_arm, dtype=float),
                                  alpha=alpha, ratio=ratio, alternative="two-sided")


# The region depends on the sizes and alpha only, not on the data: a filter change re-plans on
# new rates with mostly the same sizes, so each region is enumerated once (read-only; at most
# 128 kept, 90 kB each at EXACT_FISHER_MAX_N).
@functools.lru_cache(maxsize=128)
def fisher_rejection_region(n_ref: int, n_test: int, alpha: float = 0.05) -> np.ndarray:
    """Boolean matrix ``[k_ref, k_test]`` (read-only): the two-sided Fisher exact test rejects at
    ``alpha``.

    Conditional on the total ``s = k_ref + k_test``, ``k_ref`` is hypergeometric; the p-value of
    a table is the sum of the probabilities of the tables no more probable than it.
    """
    from scipy.special import gammaln

    def log_choose(n: int, k: np.ndarray) -> np.ndarray:
        return gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)

    log_ref = log_choose(n_ref, np.arange(n_ref + 1))
    log_test = log_choose(n_test, np.arange(n_test + 1))
    reject = np.zeros((n_ref + 1, n_test + 1), dtype=bool)
    for s in range(n_ref + n_test + 1):
        k = np.arange(max(0, s - n_test), min(n_ref, s) + 1)
        # hypergeometric probabilities of the tables with this total (log-space, normalised)
        log_p = log_ref[k] + log_test[s - k]
        pmf = np.exp(log_p - log_p.max())
        pmf /= pmf.sum()
        sorted_pmf = np.sort(pmf)
        cum = np.cumsum(sorted_pmf)
        # p-value of each table: the mass of all tables with pmf <= its pmf * (1 + tol)
        last = np.searchsorted(sorted_pmf, pmf * (1 + FISHER_REL_TOL), side="right") - 1
        reject[k, s - k] = cum[last] <= alpha * (1 + 1e-12)
    reject.flags.writeable = False
    return reject


def power_fisher_exact(p_ref: float, p_test: float, n_per_arm: int, alpha: float = 0.05,
                       ratio: float = 1.0) -> float:
    """Exact power of the two-sided Fisher exact test, n in the MSC arm, by enumeration."""
    n = int(n_per_arm)
    m = int(test_arm_size(n, ratio))
    reject = fisher_rejection_region(n, m, alpha)
    prob = np.outer(stats.binom.pmf(np.arange(n + 1), n, p_ref),
                    stats.binom.pmf(np.arange(m + 1), m, p_test))
    return float(prob[reject].sum())


def n_two_proportions_fisher(p_ref: float, p_test: float, alpha: float = 0.05,
                             power: float = 0.8, n_max: int = EXACT_FISHER_MAX_N,
                             ratio: float = 1.0) -> int:
    """Smallest n per arm whose exact Fisher power reaches ``power``, searched upward from 80 % of
    the normal-approximation n (the exact test is conservative, so it needs more, not less);
    NaN when no n up to ``n_max`` does."""
    start = n_two_proportions_normal(p_ref, p_test, alpha, power, ratio)
    if start != start:
        return math.nan
    for n in range(max(2, int(0.8 * start)), n_max + 1):
        if power_fisher_exact(p_ref, p_test, n, alpha, ratio) >= power:
            return n
    return math.nan


# -- time to event --------------------------------------------------------------------------------

def schoenfeld_events(hazard_ratio: float, alpha: float = 0.05, power: float = 0.8,
                      allocation: float = 0.5) -> int:
    """Total events for a two-sided log-rank/Cox test of ``hazard_ratio`` (Schoenfeld 1983)."""
    if not hazard_ratio > 0 or hazard_ratio == 1:
        return math.nan
    z = stats.norm.isf(alpha / 2) + stats.norm.isf(1 - power)
    d = z ** 2 / (allocation * (1 - allocation) * math.log(hazard_ratio) ** 2)
    return int(math.ceil(d - 1e-9))


def event_probability(hazard: float, accrual_years: float, follow_up_years: float,
                      dropout_per_year: float = 0.0) -> float:
    """P(event observed) under an exponential event time, exponential dropout and uniform
    accrual over ``accrual_years`` followed by ``follow_up_years`` (formula in the docstring)."""
    eta = -math.log(1 - dropout_per_year)
    rate = hazard + eta
    a, f = accrual_years, follow_up_years
    if a <= 0:
        tail = math.exp(-rate * f)
    else:
        tail = (math.exp(-rate * f) - math.exp(-rate * (a + f))) / (rate * a)
    return hazard / rate * (1 - tail)


def n_time_to_event(hazard_ratio: float, control_hazard: float, accrual_years: float,
                    follow_up_years: float, dropout_per_year: float = 0.0, alpha: float = 0.05,
                    power: float = 0.8, ratio: float = 1.0) -> dict:
    """Events and patients for a time-to-event trial: ``n_per_arm`` is the MSC arm's n (1:1:
    each arm's), ``n_test`` the MSC + IFN-γ arm's (``ratio`` = n MSC + IFN-γ / n MSC)."""
    share = ratio / (1 + ratio)
    events = schoenfeld_events(hazard_ratio, alpha, power, allocation=share)
    if events != events:
        return dict(events=math.nan, event_probability=math.nan, n_per_arm=math.nan,
                    n_test=math.nan)
    prob = ((1 - share) * event_probability(control_hazard, accrual_years, follow_up_years,
                                            dropout_per_year)
            + share * event_probability(control_hazard * hazard_ratio, accrual_years,
                                        follow_up_years, dropout_per_year))
    n_ref = int(math.ceil(events / prob / (1 + ratio) - 1e-9))
    return dict(events=events, event_probability=prob, n_per_arm=n_ref,
                n_test=int(test_arm_size(n_ref, ratio)))


def power_time_to_event(hazard_ratio: float, events, alpha: float = 0.05, ratio: float = 1.0):
    """Power of the two-sided test with ``events`` total events (Schoenfeld; share
    ``ratio / (1 + ratio)`` in the MSC + IFN-γ arm)."""
    d = np.asarray(events, dtype=float)
    share = ratio / (1 + ratio)
    return stats.norm.cdf(np.sqrt(d * share * (1 - share)) * abs(math.log(hazard_ratio))
                          - stats.norm.isf(alpha / 2))


# -- from the observed effect ---------------------------------------------------------------------

def _count(n: float, lang: str) -> str:
    return t("common.missing_value", lang) if n != n else fmt_number(n, 0, lang)


def _conservative(value: float, low: float, high: float, null: float) -> tuple[float, str]:
    """The CI end nearest no effect, or NaN + reason when the CI reaches it."""
    if not (low == low and high == high):
        return math.nan, "undefined_bound"
    if low <= null <= high:
        return math.nan, "ci_includes_null"
    return (low if value > null else high), ""


def _power_grid(n_grid, n_planned: float) -> np.ndarray:
    """The sizes per arm of a power-vs-n curve: ``n_grid`` when given, else 40 sizes from 5 to
    1.5 times the planned size (at least 20)."""
    if n_grid is not None:
        return np.asarray(n_grid)
    top = int(max(20, 1.5 * n_planned))
    return np.unique(np.linspace(5, top, 40).round().astype(int))


def plan_response(study, endpoint: str, timepoint: str, population: str = "completers",
                  lang: str = "en", *, conservative: bool = False, alpha: float = 0.05,
                  power: float = 0.8, ratio: float = 1.0, n_grid=None,
                  **filters) -> pd.DataFrame:
    """Power vs n per arm for a trial of ``endpoint`` at ``timepoint``, planned on the observed
    rates (or, with ``conservative``, on the CI end of the difference nearest 0).

    Returns a frame ``n_per_arm, n_test, power_normal, power_fisher`` (``n_per_arm``: the MSC
    arm, ``n_test``: the MSC + IFN-γ arm, ``ratio`` times it); ``attrs['plan']`` holds the
    planned n of the MSC arm (normal and exact) and ``attrs['assumptions']`` every input.
    """
    cmp = compare_rates(study, endpoint, population, lang=lang, **filters)
    row = cmp.loc[cmp["timepoint"] == timepoint]
    if row.empty:
        raise ValueError(f"no time point {timepoint!r} for {endpoint}")
    row = row.iloc[0]
    p_ref, diff = float(row[f"rate_{REFERENCE_ARM}"]), float(row["diff"])
    # plan only on a comparison that is estimable (as plan_survival takes the HR's own reason)
    reason = str(row["not_estimable"] or "")
    if not reason and conservative:
        diff, reason = _conservative(diff, float(row["diff_ci_low"]), float(row["diff_ci_high"]),
                                     0.0)
    p_test = p_ref + diff if diff == diff else math.nan
    # a rate of 0 or 1 gives no finite effect size; the plan keeps it within (0, 1)
    if not reason and not (0 < p_ref < 1 and 0 < p_test < 1):
        reason = "rate_at_bound"
    assumptions = dict(endpoint=endpoint, timepoint=timepoint, p_ref=p_ref, p_test=p_test,
                       conservative=conservative, alpha=alpha, power=power,
                       allocation=allocation_text(ratio), ratio=ratio, sidedness="two-sided")
    plan = dict(n_normal=math.nan, n_fisher=math.nan, reason=reason)
    if reason:
        out = pd.DataFrame(columns=["n_per_arm", "n_test", "power_normal", "power_fisher"])
    else:
        plan.update(n_normal=n_two_proportions_normal(p_ref, p_test, alpha, power, ratio),
                    n_fisher=n_two_proportions_fisher(p_ref, p_test, alpha, power, ratio=ratio))
        grid = _power_grid(n_grid, np.nanmax([plan["n_normal"], plan["n_fisher"]]))
        out = pd.DataFrame({"n_per_arm": grid, "n_test": test_arm_size(grid, ratio),
                            "power_normal": power_two_proportions_normal(p_ref, p_test, grid,
                                                                         alpha, ratio),
                            "power_fisher": [power_fisher_exact(p_ref, p_test, int(n), alpha,
                                                                ratio)
                                             if n <= EXACT_FISHER_MAX_N else math.nan
                                             for n in grid]})
    if reason:
        result = not_estimable(reason, lang)
    elif ratio == 1:
        result = t("planner.result.response", lang, n_normal=_count(plan["n_normal"], lang),
                   n_fisher=_count(plan["n_fisher"], lang))
    else:
        result = t("planner.result.response_unequal", lang,
                   **_arm_sizes("normal", plan["n_normal"], ratio, lang),
                   **_arm_sizes("fisher", plan["n_fisher"], ratio, lang))
    footnote = result + " " + t("planner.footnote.response", lang, p_ref=fmt_number(p_ref * 100, 1, lang),
                 p_test=fmt_number(p_test * 100, 1, lang), alpha=fmt_number(alpha, 3, lang),
                 power=fmt_number(power * 100, 0, lang)) + " " + _allocation_note(ratio, lang)
    if not reason and plan["n_fisher"] != plan["n_fisher"]:
        footnote += " " + t("planner.footnote.exact_limit", lang, n=EXACT_FISHER_MAX_N)
    return annotate(out, study, lang=lang,
                    title=t("planner.title.response", lang, endpoint=t(f"endpoint.{endpoint}", lang),
                            timepoint=t(f"visit.{timepoint}", lang)),
                    population=population, n_per_arm=cmp.attrs["n_per_arm"],
                    method=t("planner.method.response", lang), footnote=footnote,
                    filters={k: v for k, v in filters.items() if v is not None},
                    timepoint=timepoint, assumptions=assumptions, plan=plan)


def allocation_text(ratio: float) -> str:
    """``ratio`` (n MSC + IFN-γ / n MSC) as 'MSC + IFN-γ : MSC', e.g. 2 -> '2:1'."""
    from fractions import Fraction
    f = Fraction(ratio).limit_denominator(10)
    return f"{f.numerator}:{f.denominator}"


def _allocation_note(ratio: float, lang: str) -> str:
    return t("planner.footnote.allocation", lang, allocation=allocation_text(ratio))


def _arm_sizes(method: str, n_ref: float, ratio: float, lang: str) -> dict:
    n_test = math.nan if n_ref != n_ref else int(test_arm_size(n_ref, ratio))
    return {f"{method}_ref": _count(n_ref, lang), f"{method}_test": _count(n_test, lang)}


def observed_hazards(times: pd.DataFrame) -> dict:
    """Events per person-year per arm (the exponential model's maximum-likelihood hazard)."""
    out = {}
    for arm in (REFERENCE_ARM, TEST_ARM):
        g = times[times["arm"] == arm]
        out[arm] = float(g["event"].sum() / g["time"].sum()) if g["time"].sum() > 0 else math.nan
    return out


def plan_survival(study, endpoint: str, population: str = "completers", lang: str = "en", *,
                  horizon_years: float | None = None, accrual_years: float = 2.0,
                  follow_up_years: float = 3.0, dropout_per_year: float = 0.05,
                  control_hazard: float | None = None, conservative: bool = False,
                  alpha: float = 0.05, power: float = 0.8, ratio: float = 1.0, n_grid=None,
                  **filters) -> pd.DataFrame:
    """Power vs n (MSC arm; MSC + IFN-γ: ``ratio`` times it) for a time-to-event trial planned
    on the observed Cox HR (or its CI end nearest 1), observed up to ``horizon_years`` (None:
    all follow-up) as on the survival page; control hazard from the observed MSC arm (events /
    person-years) unless given."""
    from .survival import survival
    res = survival(study, endpoint, population, horizon_years=horizon_years, lang=lang,
                   **filters)
    value, reason = float(res.hazard_ratio), res.hr_reason
    if not reason and conservative:
        value, reason = _conservative(value, float(res.hr_ci_low), float(res.hr_ci_high), 1.0)
    hazards = observed_hazards(res.subjects)
    lam = float(control_hazard) if control_hazard is not None else hazards[REFERENCE_ARM]
    assumptions = dict(endpoint=endpoint, hazard_ratio=value, control_hazard=lam,
                       accrual_years=accrual_years, follow_up_years=follow_up_years,
                       dropout_per_year=dropout_per_year, conservative=conservative, alpha=alpha,
                       power=power, allocation=allocation_text(ratio), ratio=ratio,
                       horizon_years=horizon_years, sidedness="two-sided")
    plan = dict(events=math.nan, event_probability=math.nan, n_per_arm=math.nan, n_test=math.nan,
                reason=reason)
    if not reason and not (lam > 0 and math.isfinite(lam)):
        plan["reason"] = reason = "no_events"
    if reason:
        out = pd.DataFrame(columns=["n_per_arm", "n_test", "events", "power"])
    else:
        plan.update(n_time_to_event(value, lam, accrual_years, follow_up_years, dropout_per_year,
                                    alpha, power, ratio))
        grid = _power_grid(n_grid, plan["n_per_arm"])
        n_test = test_arm_size(grid, ratio)
        events = (grid + n_test) * plan["event_probability"]
        out = pd.DataFrame({"n_per_arm": grid, "n_test": n_test, "events": events,
                            "power": power_time_to_event(value, events, alpha, ratio)})
    if reason:
        result = not_estimable(reason, lang)
    elif ratio == 1:
        result = t("planner.result.survival", lang, events=_count(plan["events"], lang),
                   n_per_arm=_count(plan["n_per_arm"], lang))
    else:
        result = t("planner.result.survival_unequal", lang, events=_count(plan["events"], lang),
                   n_ref=_count(plan["n_per_arm"], lang), n_test=_count(plan["n_test"], lang))
    footnote = result + " " + t("planner.footnote.survival", lang, hr=fmt_number(value, 2, lang),
                 hazard=fmt_number(lam, 3, lang), accrual=fmt_number(accrual_years, 1, lang),
                 follow_up=fmt_number(follow_up_years, 1, lang),
                 dropout=fmt_number(dropout_per_year * 100, 1, lang),
                 alpha=fmt_number(alpha, 3, lang), power=fmt_number(power * 100, 0, lang)
                 ) + " " + _allocation_note(ratio, lang)
    return annotate(out, study, lang=lang,
                    title=t("planner.title.survival", lang, endpoint=t(f"endpoint.{endpoint}", lang)),
                    population=population, n_per_arm=res.attrs["n_per_arm"],
                    method=t("planner.method.survival", lang), footnote=footnote,
                    filters={k: v for k, v in filters.items() if v is not None},
                    assumptions=assumptions, plan=plan)


def power_display(df: pd.DataFrame) -> pd.DataFrame:
    """The power curve as a table with translated headers (power in %)."""
    lang = df.attrs.get("lang", "en")
    equal = df.attrs.get("assumptions", {}).get("ratio", 1.0) == 1
    df = bare(df)  # each column taken from the result would deep-copy its attrs
    out = pd.DataFrame()
    if equal:
        out[t("planner.col.n_per_arm", lang)] = df["n_per_arm"].astype(int)
    else:
        out[n_axis_label(REFERENCE_ARM, lang)] = df["n_per_arm"].astype(int)
        out[n_axis_label(TEST_ARM, lang)] = df["n_test"].astype(int)
    names = {"power_normal": "planner.col.power_normal",
             "power_fisher": "planner.col.power_fisher", "power": "planner.col.power",
             "events": "planner.col.events"}
    for col, key in names.items():
        if col not in df:
            continue
        if col.startswith("power"):
            out[t(key, lang)] = [fmt_number(v * 100, 1, lang) for v in df[col]]
        else:
            out[t(key, lang)] = [fmt_number(v, 1, lang) for v in df[col]]
    return out


def n_axis_label(arm: str, lang: str) -> str:
    """'n (MSC)': the size of one arm under unequal allocation."""
    return t("planner.col.n_arm", lang, arm=t(f"arm.{arm}", lang))
