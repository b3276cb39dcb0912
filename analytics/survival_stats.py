"""Survival inference on plain arrays, following R's survival package where conventions differ.

Pure functions of times, event indicators and arm labels (no database, no Streamlit), each
checked against R in ``tests/r/survival_reference.R``:

* :func:`kaplan_meier` - scipy's product-limit estimate with the log(−log) Greenwood interval
  (R ``conf.type = "log-log"``); where the estimate is 0 or 1 that interval is undefined, and so
  NaN, as in R;
* :func:`survival_quantile` - a port of R's ``quantile.survfit``: the median of a curve that sits
  exactly at 0.5 over a flat stretch is the midpoint of that stretch (the R and SAS rule), and the
  CI is the same rule applied to the confidence curves;
* :func:`logrank` - statsmodels' log-rank test (R ``survdiff``);
* :func:`cox_hazard_ratio` - statsmodels' Cox model with Efron ties (lifelines' where Newton's
  plain steps do not converge), fitted to steps below 1e-12, optionally stratified; a partial
  likelihood without a finite maximum (monotone likelihood) is detected from the risk sets
  before fitting;
* :func:`cumulative_incidence` - lifelines' Aalen–Johansen estimate for one cause of an event
  with competing causes.

What cannot be estimated comes back as NaN with a reason code of :mod:`analytics.caution`.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

ALPHA = 0.05
# R's quantile.survfit tolerance: a curve within this of the quantile counts as sitting on it.
QUANTILE_TOLERANCE = math.sqrt(np.finfo(float).eps)
# Newton–Raphson stopping rule for the Cox fit: steps below this, so the estimate is good to 1e-9.
COX_PRECISION = 1e-12
COX_MAX_STEPS = 200
# |score| at the fitted coefficient above this: the fit did not reach the maximum
COX_SCORE_TOLERANCE = 1e-6
# A finite |log HR| beyond this means the fit ran off towards an infinite coefficient.
MAX_ABS_LOG_HR = math.log(1e3)


@dataclass
class Estimate:
    """A value with its 95 % CI; ``reason`` (and ``ci_reason``) say why a NaN is NaN."""

    value: float
    ci_low: float = math.nan
    ci_high: float = math.nan
    p: float = math.nan
    statistic: float = math.nan
    reason: str = ""
    ci_low_reason: str = ""
    ci_high_reason: str = ""


# -- Kaplan–Meier --------------------------------------------------------------------------------

def kaplan_meier(time, event, alpha: float = ALPHA) -> pd.DataFrame:
    """``time, estimate, ci_low, ci_high, n_at_risk, n_events, n_censored`` at time 0 and every
    distinct observed time. The CI is undefined (NaN) where the estimate is 0 or 1.

    The estimate and its log(−log) Greenwood interval are scipy's (``stats.ecdf`` of the
    right-censored times, ``confidence_interval(method="log-log")``); the same numbers as
    lifelines' ``KaplanMeierFitter`` (``tests/test_survival_estimable.py``) in a twentieth of
    the time (issue 13)."""
    from scipy import stats

    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=bool)
    times = np.unique(np.concatenate(([0.0], time)))
    ordered = np.sort(time)
    n_at_risk = time.size - np.searchsorted(ordered, times, side="left")
    at = np.searchsorted(times, time)
    n_events = np.bincount(at[event], minlength=times.size)
    n_censored = np.bincount(at[~event], minlength=times.size)
    if event.any():
        fit = stats.ecdf(stats.CensoredData(uncensored=time[event], right=time[~event]))
        with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
            warnings.simplefilter("ignore")  # log(0) where the curve reaches 0: NaN, as in R
            ci = fit.sf.confidence_interval(confidence_level=1 - alpha, method="log-log")
            estimate = fit.sf.evaluate(times)
            low, high = ci.low.evaluate(times), ci.high.evaluate(times)
    else:  # nobody had the event: the curve stays at 1
        estimate = np.ones(times.size)
        low = high = np.full(times.size, math.nan)
    undefined = (estimate <= 0) | (estimate >= 1)
    low = np.where(undefined, math.nan, low)
    high = np.where(undefined, math.nan, high)
    return pd.DataFrame({
        "time": times, "estimate": estimate, "ci_low": low, "ci_high": high,
        "n_at_risk": n_at_risk.astype(int), "n_events": n_events.astype(int),
        "n_censored": n_censored.astype(int),
    })


# -- quantiles (R quantile.survfit) -------------------------------------------------------------

def _approx_constant_right(xs: np.ndarray, ys: np.ndarray, xout: float) -> float:
    """R ``approx(xs, ys, xout, method = "constant", f = 1)`` with NA pairs dropped and rule 1
    (NaN outside the range)."""
    ok = ~(np.isnan(xs) | np.isnan(ys))
    xs, ys = xs[ok], ys[ok]
    if xs.size == 0:
        return math.nan
    order = np.argsort(xs, kind="stable")
    xs, ys = xs[order], ys[order]
    if xout < xs[0] or xout > xs[-1]:
        return math.nan
    hit = np.nonzero(xs == xout)[0]
    if hit.size:
        return float(ys[hit[0]])
    return float(ys[np.searchsorted(xs, xout, side="right")])  # f = 1: the right-hand value


def _findq(x: np.ndarray, y: np.ndarray, p: float, tol: float) -> float:
    """R survival's internal ``findq``: the time at which the cumulative curve ``y`` reaches
    ``p``, the midpoint of a flat stretch that sits on ``p`` (within ``tol``)."""
    if np.all(np.isnan(y)) or np.nanmax(y) < p:
        return math.nan
    xmax = x[-1]
    # duplicated(y), NA equal to NA: keep the first of each value
    seen, keep = set(), []
    for v in y:
        key = "nan" if math.isnan(v) else v
        keep.append(key not in seen)
        seen.add(key)
    keep = np.array(keep)
    x, y = x[keep], y[keep]
    n = y.size
    index = np.arange(1, n + 1, dtype=float)
    i1 = _approx_constant_right(y + tol, index, p)
    i2 = _approx_constant_right(y - tol, index, p)
    x1 = x[int(i1) - 1] if not math.isnan(i1) else math.nan
    x2 = x[int(i2) - 1] if not math.isnan(i2) else math.nan
    quant = (x1 + x2) / 2
    if p == 0:
        quant = x[0]
    if not math.isnan(y[-1]) and abs(p - y[-1]) < tol:
        quant = (x1 + xmax) / 2
    return float(quant)


def survival_quantile(curve: pd.DataFrame, p: float = 0.5,
                      tol: float = QUANTILE_TOLERANCE) -> Estimate:
    """The time by which a fraction ``p`` had the event, with its CI, per R ``quantile.survfit``.

    ``curve`` is :func:`kaplan_meier`'s frame (survival scale). A quantile or limit the curve does
    not reach is NaN with reason ``not_reached``; a limit whose confidence curve is undefined
    where it would be read (e.g. a one-subject arm) is NaN with reason ``undefined_bound``.
    """
    time = curve["time"].to_numpy(dtype=float)
    first = 0.0
    if time.size and time[0] == 0 and curve["n_events"].iloc[0] == 0:
        time, curve = time[1:], curve.iloc[1:]  # R's curve starts after 0; firstx is 0
    x = np.concatenate([[first], time])

    def read(values) -> float:
        return _findq(x, np.concatenate([[0.0], 1 - np.asarray(values, dtype=float)]), p, tol)

    value = read(curve["estimate"])
    low = read(curve["ci_low"])    # the lower survival curve falls to 1 - p first
    high = read(curve["ci_high"])
    est = Estimate(value, low, high)
    if math.isnan(value):
        est.reason = "not_reached"
    for name, limit, band in (("ci_low", low, "ci_low"), ("ci_high", high, "ci_high")):
        if math.isnan(limit):
            # a band with no defined value (every estimate 0 or 1, e.g. a one-subject arm) has
            # no limit to read; otherwise the band does not reach p within follow-up
            defined = curve[band].notna().any()
            setattr(est, f"{name}_reason", "not_reached" if defined else "undefined_bound")
    return est


# -- between-arm tests ---------------------------------------------------------------------------

def logrank(time, event, group) -> Estimate:
    """Log-rank chi-square and p between two groups (statsmodels ``survdiff``; R ``survdiff``,
    rho = 0)."""
    from statsmodels.duration.survfunc import survdiff

    time, event, group = (np.asarray(v) for v in (time, event, group))
    event = event.astype(bool)
    levels = pd.unique(group)
    if len(levels) < 2:
        return Estimate(math.nan, reason="no_subjects")
    if not event.any():
        return Estimate(math.nan, reason="no_events")
    second = group == levels[1]
    if _logrank_variance(time, event, second) <= 0:
        return Estimate(math.nan, reason="no_information")
    chi2, p = survdiff(time.astype(float), event.astype(float), second)
    return Estimate(math.nan, p=float(p), statistic=float(chi2))


def _logrank_variance(time: np.ndarray, event: np.ndarray, second: np.ndarray) -> float:
    """The hypergeometric variance of the log-rank statistic; 0 when no event time had both
    groups at risk and someone at risk without the event (survdiff's matrix is then singular)."""
    # at risk at each event time from sorted times (one risk set per event time was
    # quadratic in the number of subjects)
    times = np.unique(time[event])
    ordered, ordered_second = np.sort(time), np.sort(time[second])
    n = time.size - np.searchsorted(ordered, times, side="left")
    n2 = ordered_second.size - np.searchsorted(ordered_second, times, side="left")
    d = np.bincount(np.searchsorted(times, time[event]), minlength=times.size)
    kept = n > 1
    n, n2, d = n[kept], n2[kept], d[kept]
    return float(((n - n2) * n2 * d * (n - d) / (n * n * (n - 1))).sum())


def monotone_likelihood(time, event, exposed, strata=None) -> bool:
    """True when the Cox partial likelihood of a binary covariate has no finite maximum.

    The score only crosses zero if, within some stratum, an exposed subject has an event while
    an unexposed one is at risk (pulling the coefficient up) and, within some stratum, an
    unexposed subject has an event while an exposed one is at risk (pulling it down). With no
    event of one of these kinds the likelihood rises (or is flat) towards ±infinity - R reports
    "coefficient may be infinite". This holds for Efron's and Breslow's handling of ties alike.
    """
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=bool)
    exposed = np.asarray(exposed, dtype=bool)
    strata = np.zeros(time.size) if strata is None else np.asarray(strata)
    up = down = False
    for s in pd.unique(strata):
        m = strata == s
        t, e, x = time[m], event[m], exposed[m]
        # someone of the other group is at risk at an event time exactly when that group's
        # longest time reaches it (one comparison per subject, not one risk set per event)
        last_unexposed = t[~x].max(initial=-np.inf)
        last_exposed = t[x].max(initial=-np.inf)
        up = up or bool((e & x & (t <= last_unexposed)).any())
        down = down or bool((e & ~x & (t <= last_exposed)).any())
        if up and down:
            return False
    return True


def cox_hazard_ratio(time, event, exposed, strata=None, alpha: float = ALPHA) -> Estimate:
    """Hazard ratio of ``exposed`` vs not, Cox model with Efron ties, Wald CI and p (R
    ``coxph(ties = "efron")``, ``strata()`` when ``strata`` is given).

    Fitted with statsmodels' ``PHReg`` (Newton–Raphson to steps below 1e-12), in half the time
    of lifelines' ``CoxPHFitter``; where plain Newton steps do not converge, lifelines'
    step-controlled Newton fits it (as R's ``coxph`` halves its steps). NaN with reason
    ``no_events``, ``monotone_likelihood`` (no finite maximum, detected from the risk sets) or
    ``not_converged`` (neither fit converged, or it ran off to |log HR| > log 1000).
    """
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=bool)
    exposed = np.asarray(exposed, dtype=bool)
    if not event.any():
        return Estimate(math.nan, reason="no_events")
    if monotone_likelihood(time, event, exposed, strata):
        return Estimate(math.nan, reason="monotone_likelihood")
    fit = _cox_statsmodels(time, event, exposed, strata)
    if fit is None:
        fit = _cox_lifelines(time, event, exposed, strata)
    if fit is None:
        return Estimate(math.nan, reason="not_converged")
    coef, se = fit
    if not (math.isfinite(coef) and math.isfinite(se)) or abs(coef) > MAX_ABS_LOG_HR:
        return Estimate(math.nan, reason="not_converged")
    from scipy import stats
    z = float(stats.norm.isf(alpha / 2))
    return Estimate(math.exp(coef), math.exp(coef - z * se), math.exp(coef + z * se),
                    p=float(stats.chi2.sf((coef / se) ** 2, 1)), statistic=coef / se)


def _cox_statsmodels(time, event, exposed, strata) -> tuple[float, float] | None:
    """(log HR, its standard error), or None when Newton–Raphson does not converge."""
    from statsmodels.duration.hazard_regression import PHReg
    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    model = PHReg(time, exposed.astype(float)[:, None], status=event.astype(float),
                  strata=None if strata is None else np.asarray(strata), ties="efron")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            res = model.fit(method="newton", maxiter=COX_MAX_STEPS, tol=COX_PRECISION,
                            disp=False)
        except (np.linalg.LinAlgError, ValueError, OverflowError):
            return None
    if any(issubclass(w.category, (ConvergenceWarning, RuntimeWarning)) for w in caught):
        return None
    # at the maximum the score is zero (statsmodels' results do not keep the fit's own verdict)
    if not abs(float(model.score(res.params)[0])) <= COX_SCORE_TOLERANCE:
        return None
    return float(res.params[0]), float(res.bse[0])


def _cox_lifelines(time, event, exposed, strata) -> tuple[float, float] | None:
    """(log HR, its standard error) by lifelines' step-controlled Newton, or None."""
    from lifelines import CoxPHFitter
    from lifelines.exceptions import ConvergenceError, ConvergenceWarning

    df = pd.DataFrame({"time": time, "event": event.astype(int), "x": exposed.astype(float)})
    if strata is not None:
        df["stratum"] = np.asarray(strata)
    # lifelines refuses a zero duration; shifting every zero by the same tiny amount keeps the
    # order of the risk sets, which is all the partial likelihood sees.
    df.loc[df["time"] <= 0, "time"] = 1e-9
    cph = CoxPHFitter(strata=["stratum"] if strata is not None else None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            cph.fit(df, "time", "event", fit_options={
                "precision": COX_PRECISION, "r_precision": 0.0, "max_steps": COX_MAX_STEPS})
        except (ConvergenceError, np.linalg.LinAlgError, ValueError):
            return None
    if any(issubclass(w.category, ConvergenceWarning) for w in caught):
        return None
    return float(cph.params_["x"]), float(cph.standard_errors_["x"])


# -- competing risks -----------------------------------------------------------------------------

def cumulative_incidence(time, cause, cause_of_interest: int, alpha: float = ALPHA,
                         seed: int = 0) -> pd.DataFrame:
    """Aalen–Johansen cumulative incidence of one cause (lifelines ``AalenJohansenFitter``).

    ``cause`` is 0 for censored and a positive code per cause; the other codes compete. Returns
    ``time, estimate, ci_low, ci_high, n_at_risk, n_events, n_censored`` from time 0 (lifelines'
    delta-method log(−log) interval; undefined, NaN, where the incidence is 0 or 1).
    ``n_events`` counts the cause of interest. Tied times of different causes are jittered by
    lifelines, reproducibly with ``seed``.
    """
    from lifelines import AalenJohansenFitter

    time = np.asarray(time, dtype=float)
    cause = np.asarray(cause, dtype=int)
    ajf = AalenJohansenFitter(alpha=alpha, seed=seed, calculate_variance=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the jitter notice; log(0) where the incidence is 0
        ajf.fit(time, cause, event_of_interest=cause_of_interest)
    cif = ajf.cumulative_density_.iloc[:, 0]
    times = cif.index.to_numpy(dtype=float)
    estimate = cif.to_numpy(dtype=float)
    ci = ajf.confidence_interval_
    upper = ci.iloc[:, 0].to_numpy(dtype=float)  # lifelines labels its columns upper, lower
    lower = ci.iloc[:, 1].to_numpy(dtype=float)
    low, high = np.minimum(lower, upper), np.maximum(lower, upper)
    undefined = (estimate <= 0) | (estimate >= 1) | np.isnan(low) | np.isnan(high)
    low[undefined] = math.nan
    high[undefined] = math.nan
    et = ajf.event_table
    observed = [c for c in et.columns if c.startswith("observed_")][0]
    out = pd.DataFrame({
        "time": times, "estimate": estimate, "ci_low": low, "ci_high": high,
        "n_at_risk": et["at_risk"].to_numpy(dtype=int),
        "n_events": et[observed].fillna(0).to_numpy(dtype=int),
        "n_censored": et["censored"].to_numpy(dtype=int),
    })
    if out.empty or out["time"].iloc[0] > 0:
        first = {"time": 0.0, "estimate": 0.0, "ci_low": math.nan, "ci_high": math.nan,
                 "n_at_risk": int(time.size), "n_events": 0, "n_censored": 0}
        out = pd.concat([pd.DataFrame([first]), out], ignore_index=True)
    return out
