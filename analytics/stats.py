"""Small-sample inferential statistics for the dashboard, as pure functions of plain numbers.

Everything here takes counts, exposures or summary statistics and returns floats (or tuples of
floats), so the functions can be unit-tested against published tables and independent libraries
without a database or Streamlit. Conventions shared by all two-group functions:

* the comparison is **second minus first** (or second over first): group 1 is the reference;
* impossible or empty inputs (``n == 0``, non-positive exposure) give ``nan`` rather than raising,
  because a dashboard filter can legitimately produce an empty arm;
* ``alpha`` is two-sided: a ``1 - alpha`` interval puts ``alpha / 2`` in each tail.
"""
from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Iterable

import numpy as np
from scipy import stats

__all__ = [
    "clopper_pearson",
    "newcombe_diff_ci",
    "fisher_exact_p",
    "poisson_rate_ci",
    "rate_ratio_ci",
    "welch_t_p",
    "welch_t_p_samples",
    "mean_ci",
    "poisson_trend",
]

NAN = float("nan")
# Pure functions of a few counts, asked for the same counts again and again (every arm, time
# point and filter of a page): each answer is computed once. Invalid input is never cached (it
# raises).
_memo = functools.lru_cache(maxsize=8192)


def _check_counts(k: int, n: int) -> None:
    # A count outside 0..n is a programming error upstream, not an empty arm: fail loudly.
    if n < 0 or k < 0 or k > n:
        raise ValueError(f"need 0 <= k <= n, got k={k}, n={n}")


def _check_alpha(alpha: float) -> None:
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")


@_memo
def clopper_pearson(k: int, n: int, alpha: float = 0.05) -> tuple[float, float]:
    """Exact (Clopper–Pearson) confidence interval for a binomial proportion.

    Parameters
    ----------
    k : int
        Number of successes, ``0 <= k <= n``.
    n : int
        Number of trials.
    alpha : float, optional
        Two-sided significance level; the interval has nominal coverage ``1 - alpha``.

    Returns
    -------
    low, high : float
        Confidence limits for ``k / n``. ``(nan, nan)`` when ``n == 0``; ``low == 0`` when
        ``k == 0`` and ``high == 1`` when ``k == n``.

    Notes
    -----
    Uses the beta-quantile form of the interval: ``Beta(alpha/2; k, n-k+1)`` and
    ``Beta(1-alpha/2; k+1, n-k)``.
    """
    _check_counts(k, n)
    _check_alpha(alpha)
    if n == 0:
        return NAN, NAN
    # The beta quantiles are undefined at a zero shape parameter; the limits there are exactly
    # 0 and 1 by definition, so set them rather than rely on scipy returning nan.
    low = 0.0 if k == 0 else float(stats.beta.ppf(alpha / 2, k, n - k + 1))
    high = 1.0 if k == n else float(stats.beta.ppf(1 - alpha / 2, k + 1, n - k))
    return low, high


def _wilson(k: int, n: int, z: float) -> tuple[float, float]:
    """Wilson score interval without continuity correction (Newcombe 1998, method 3)."""
    p = k / n
    z2 = z * z
    centre = (2 * n * p + z2) / (2 * (n + z2))
    half = z * math.sqrt(z2 + 4 * n * p * (1 - p)) / (2 * (n + z2))
    # Clip: at p == 0 or 1 rounding can put the limit a hair outside [0, 1].
    return max(0.0, centre - half), min(1.0, centre + half)


@_memo
def newcombe_diff_ci(
    k1: int, n1: int, k2: int, n2: int, alpha: float = 0.05
) -> tuple[float, float, float]:
    """Difference of two independent proportions, ``p2 - p1``, with Newcombe's hybrid score CI.

    Parameters
    ----------
    k1, n1 : int
        Successes and trials in group 1 (the reference).
    k2, n2 : int
        Successes and trials in group 2.
    alpha : float, optional
        Two-sided significance level.

    Returns
    -------
    diff, low, high : float
        ``k2/n2 - k1/n1`` and its confidence limits; all ``nan`` if either ``n`` is 0.

    Notes
    -----
    Newcombe (1998), Statistics in Medicine 17:873-890, method 10: combine the two Wilson score
    intervals (no continuity correction) ``(l1, u1)``, ``(l2, u2)`` by the square-and-add rule::

        low  = d - sqrt((p2 - l2)**2 + (u1 - p1)**2)
        high = d + sqrt((u2 - p2)**2 + (p1 - l1)**2)

    Unlike the Wald interval it behaves well at 0/n and n/n, and never leaves [-1, 1].
    Note the order: ``statsmodels``' ``confint_proportions_2indep`` reports ``p1 - p2``.
    """
    _check_counts(k1, n1)
    _check_counts(k2, n2)
    _check_alpha(alpha)
    if n1 == 0 or n2 == 0:
        return NAN, NAN, NAN
    z = float(stats.norm.isf(alpha / 2))
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = _wilson(k1, n1, z)
    l2, u2 = _wilson(k2, n2, z)
    d = p2 - p1
    low = d - math.sqrt((p2 - l2) ** 2 + (u1 - p1) ** 2)
    high = d + math.sqrt((u2 - p2) ** 2 + (p1 - l1) ** 2)
    return d, low, high


@_memo
def fisher_exact_p(k1: int, n1: int, k2: int, n2: int) -> float:
    """Two-sided Fisher exact p-value for ``[[k1, n1 - k1], [k2, n2 - k2]]``.

    Parameters
    ----------
    k1, n1 : int
        Events and subjects in group 1.
    k2, n2 : int
        Events and subjects in group 2.

    Returns
    -------
    float
        Two-sided p-value (scipy's definition: sum of tables no more likely than the observed).
        ``1.0`` when any margin is zero, since such a table carries no evidence of a difference.
    """
    _check_counts(k1, n1)
    _check_counts(k2, n2)
    events, non_events = k1 + k2, (n1 - k1) + (n2 - k2)
    # With a zero margin only one table is possible; say so explicitly rather than depend on
    # scipy's handling of degenerate tables.
    if n1 == 0 or n2 == 0 or events == 0 or non_events == 0:
        return 1.0
    p = stats.fisher_exact([[k1, n1 - k1], [k2, n2 - k2]], alternative="two-sided").pvalue
    # Summing hypergeometric probabilities can overshoot 1 by rounding.
    return min(1.0, float(p))


def poisson_rate_ci(
    events: int, person_years: float, per: float = 100, alpha: float = 0.05
) -> tuple[float, float, float]:
    """Event rate per ``per`` person-years with the exact Garwood (chi-square) interval.

    Parameters
    ----------
    events : int
        Number of events, ``>= 0``.
    person_years : float
        Total exposure.
    per : float, optional
        Rate denominator, e.g. 100 for "per 100 person-years".
    alpha : float, optional
        Two-sided significance level.

    Returns
    -------
    rate, low, high : float
        ``events / person_years * per`` and its confidence limits; ``low == 0`` when
        ``events == 0``; all ``nan`` when ``person_years <= 0``.

    Notes
    -----
    Garwood (1936): ``low = chi2.ppf(alpha/2, 2k) / 2`` and
    ``high = chi2.ppf(1 - alpha/2, 2k + 2) / 2`` for the expected count, then divided by exposure.
    """
    if events < 0:
        raise ValueError(f"events must be >= 0, got {events}")
    _check_alpha(alpha)
    if not person_years > 0:  # also catches nan exposure
        return NAN, NAN, NAN
    scale = per / person_years
    low, high = _garwood_counts(int(events), alpha)
    return events * scale, low * scale, high * scale


@_memo
def _garwood_counts(events: int, alpha: float) -> tuple[float, float]:
    # the limits for the expected count depend on the count alone: a page asks the same few
    # counts again and again, and each chi2.ppf call costs about 0.1 ms
    # chi2 with 0 degrees of freedom is degenerate at 0; the exact lower limit for k = 0 is 0.
    low = 0.0 if events == 0 else float(stats.chi2.ppf(alpha / 2, 2 * events)) / 2
    high = float(stats.chi2.ppf(1 - alpha / 2, 2 * events + 2)) / 2
    return low, high


def rate_ratio_ci(
    events1: int, py1: float, events2: int, py2: float, alpha: float = 0.05
) -> tuple[float, float, float]:
    """Ratio of two Poisson rates, group 2 over group 1, with the exact conditional CI.

    Parameters
    ----------
    events1, py1 : int, float
        Events and person-years in group 1 (the reference, denominator).
    events2, py2 : int, float
        Events and person-years in group 2 (numerator).
    alpha : float, optional
        Two-sided significance level.

    Returns
    -------
    ratio, low, high : float
        ``(events2 / py2) / (events1 / py1)`` and its limits. If ``events2 == 0``: ratio and
        ``low`` are 0. If ``events1 == 0``: ratio and ``high`` are ``inf``. If both are 0, or an
        exposure is not positive: all ``nan``.

    Notes
    -----
    Conditional on the total ``n = events1 + events2``, ``events2 ~ Binomial(n, pi)`` with
    ``pi = py2 * RR / (py1 + py2 * RR)``, which depends on RR alone (no nuisance parameter).
    So the Clopper–Pearson interval for ``pi`` maps monotonically to an exact interval for RR via
    ``RR = pi / (1 - pi) * py1 / py2``.
    """
    if events1 < 0 or events2 < 0:
        raise ValueError(f"events must be >= 0, got {events1}, {events2}")
    _check_alpha(alpha)
    if not (py1 > 0 and py2 > 0):
        return NAN, NAN, NAN
    total = events1 + events2
    if total == 0:
        return NAN, NAN, NAN
    pi_low, pi_high = clopper_pearson(events2, total, alpha)
    exposure = py1 / py2

    def to_ratio(pi: float) -> float:
        # pi == 1 happens exactly when events1 == 0: the upper limit is unbounded.
        return math.inf if pi >= 1.0 else pi / (1.0 - pi) * exposure

    ratio = math.inf if events1 == 0 else (events2 / py2) / (events1 / py1)
    return ratio, to_ratio(pi_low), to_ratio(pi_high)


def welch_t_p(
    mean1: float, sd1: float, n1: int, mean2: float, sd2: float, n2: int
) -> float:
    """Two-sided Welch (unequal-variance) t-test p-value from summary statistics.

    Parameters
    ----------
    mean1, sd1, n1 : float, float, int
        Mean, sample standard deviation (``ddof=1``) and size of group 1.
    mean2, sd2, n2 : float, float, int
        The same for group 2.

    Returns
    -------
    float
        Two-sided p-value with Welch–Satterthwaite degrees of freedom; ``nan`` if either group
        has fewer than 2 observations, an input is ``nan``, or both standard deviations are 0.
    """
    if n1 < 2 or n2 < 2:
        return NAN
    v1, v2 = sd1 * sd1 / n1, sd2 * sd2 / n2
    se2 = v1 + v2
    # se2 == 0 (two constant samples) has no defined t statistic; nan comparisons fall here too.
    if not se2 > 0:
        return NAN
    t = (mean2 - mean1) / math.sqrt(se2)
    df = se2 * se2 / (v1 * v1 / (n1 - 1) + v2 * v2 / (n2 - 1))
    return float(2 * stats.t.sf(abs(t), df))


def _clean(values: Iterable[float]) -> np.ndarray:
    # Accept lists, arrays, Series and one-shot iterables alike; NaN marks a missing value.
    arr = np.asarray(values if hasattr(values, "__len__") else list(values), dtype=float).ravel()
    return arr[~np.isnan(arr)]


def welch_t_p_samples(x: Iterable[float], y: Iterable[float]) -> float:
    """Two-sided Welch t-test p-value from two raw samples, ignoring NaNs.

    Parameters
    ----------
    x, y : array_like of float
        The two samples; NaN (e.g. a missed visit) is dropped, not propagated.

    Returns
    -------
    float
        As :func:`welch_t_p`; ``nan`` when a sample has fewer than 2 non-missing values.
    """
    a, b = _clean(x), _clean(y)
    if a.size < 2 or b.size < 2:
        return NAN
    return welch_t_p(
        float(a.mean()), float(a.std(ddof=1)), a.size,
        float(b.mean()), float(b.std(ddof=1)), b.size,
    )


def mean_ci(values: Iterable[float], alpha: float = 0.05) -> tuple[float, float, float]:
    """Mean with a t-based confidence interval, ignoring NaNs.

    Parameters
    ----------
    values : array_like of float
        Observations; NaN entries are dropped.
    alpha : float, optional
        Two-sided significance level.

    Returns
    -------
    mean, low, high : float
        Sample mean and ``mean -/+ t(1 - alpha/2, n-1) * sd / sqrt(n)``. With one observation the
        limits are ``nan`` (no variance estimate); with none, all three are ``nan``. Values that
        do not vary (the change from baseline at baseline, 0 by definition) have no interval,
        ``nan`` rather than a zero-width one, as R's ``t.test``: its "data are essentially
        constant" (standard error below 10 machine epsilons of the mean), and NaN at a zero mean.
    """
    _check_alpha(alpha)
    arr = _clean(values)
    n = arr.size
    if n == 0:
        return NAN, NAN, NAN
    mean = float(arr.mean())
    if n < 2:
        return mean, NAN, NAN
    stderr = float(arr.std(ddof=1)) / math.sqrt(n)
    if stderr == 0 or stderr < 10 * np.finfo(float).eps * abs(mean):
        return mean, NAN, NAN
    half = _t_quantile(n - 1, alpha) * stderr
    return mean, mean - half, mean + half


@_memo
def _t_quantile(df: int, alpha: float) -> float:
    """t(1 - alpha/2, df): a function of the degrees of freedom only, computed once per df."""
    return float(stats.t.ppf(1 - alpha / 2, df))


def holm_adjust(p_values: Iterable[float]) -> np.ndarray:
    """Holm step-down adjusted p-values across the finite p-values given; a NaN (no test) stays
    NaN and does not count as a test.

    Holm (1979): with the m p-values sorted ascending, ``p_(i)`` becomes
    ``max_{j <= i} min(1, (m - j + 1) * p_(j))``. This is what statsmodels'
    ``multipletests(method="holm")`` returns (tests/test_estimands.py compares the two); it is
    written out here because statsmodels 0.15 runs a full ``gc.collect()`` on every Holm call,
    which costs a page re-run tenths of a second in the dashboard's process.
    """
    p = np.asarray(list(p_values), dtype=float)
    out = np.full(p.shape, NAN)
    finite = np.flatnonzero(np.isfinite(p))
    if finite.size:
        order = finite[np.argsort(p[finite], kind="stable")]
        m = order.size
        stepped = np.maximum.accumulate(p[order] * np.arange(m, 0, -1))
        out[order] = np.minimum(stepped, 1.0)
    return out


def poisson_trend(
    events: Iterable[int], person_years: Iterable[float], x: Iterable[float],
    alpha: float = 0.05,
) -> tuple[float, float, float, float, str]:
    """Log-linear trend of a Poisson rate in ``x``: GLM of ``events`` on ``x`` with log link and
    ``log(person_years)`` as offset (statsmodels), as R's ``glm(events ~ x, family = poisson,
    offset = log(person_years))``.

    Returns
    -------
    ratio, low, high, p, reason
        ``exp(slope)`` (the rate ratio per unit of ``x``) with its Wald ``1 - alpha`` CI and the
        Wald z-test p-value (R's ``confint.default`` and ``summary``), and ``reason`` ''. When the
        slope cannot be estimated all four are ``nan`` and ``reason`` says why (a code of
        :mod:`analytics.caution`): ``too_few_years`` (fewer than two ``x`` with exposure),
        ``no_events``, ``no_trend_estimate`` (every event at the smallest or at the largest ``x``:
        the likelihood keeps rising as the slope goes to -inf or +inf), ``not_converged``.
        Rows with no exposure carry no information and are left out.
    """
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import PerfectSeparationWarning

    _check_alpha(alpha)
    y = np.asarray(list(events), dtype=float)
    py = np.asarray(list(person_years), dtype=float)
    xs = np.asarray(list(x), dtype=float)
    keep = py > 0
    y, py, xs = y[keep], py[keep], xs[keep]
    failed = (NAN, NAN, NAN, NAN)
    if len(np.unique(xs)) < 2:
        return (*failed, "too_few_years")
    if y.sum() == 0:
        return (*failed, "no_events")
    with_events = xs[y > 0]
    if (with_events == xs.min()).all() or (with_events == xs.max()).all():
        return (*failed, "no_trend_estimate")
    with warnings.catch_warnings():
        # statsmodels warns of "perfect prediction" when a year has no events; the estimate
        # exists unless all events sit at one end (handled above), and convergence is checked.
        warnings.simplefilter("ignore", PerfectSeparationWarning)
        fit = sm.GLM(y, sm.add_constant(xs), family=sm.families.Poisson(),
                     offset=np.log(py)).fit(tol=1e-12, maxiter=100)
    slope, se = float(fit.params[1]), float(fit.bse[1])
    if not fit.converged or not (math.isfinite(slope) and math.isfinite(se)):
        return (*failed, "not_converged")
    z = stats.norm.ppf(1 - alpha / 2)
    p = float(2 * stats.norm.sf(abs(slope / se)))
    return math.exp(slope), math.exp(slope - z * se), math.exp(slope + z * se), p, ""
