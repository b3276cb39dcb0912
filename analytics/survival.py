"""Time to first response and time to withdrawal: Kaplan–Meier, numbers at risk, log-rank, Cox.

Per-subject times come from SQL over the ``visit_measures`` and ``subject_info`` views (every
user-chosen value is a bound parameter; the only SQL text chosen here is a fixed column expression
per endpoint). The statistics come from lifelines:

* ``KaplanMeierFitter`` per arm; pointwise 95 % CI by Greenwood's variance on the log(−log) scale
  (lifelines' "exponential Greenwood" interval, the same as R ``conf.type = "log-log"``);
* median time to event per arm, its 95 % CI where the log(−log) band crosses 0.5
  (Brookmeyer–Crowley type interval); an unreached median or limit is reported as not reached;
* ``logrank_test`` between the arms;
* ``CoxPHFitter`` (Efron's method for tied times) with arm as the only covariate, MSC the
  reference: hazard ratio MSC + IFN-γ vs MSC with a Wald 95 % CI.

Time is in years since infusion (days / 365.25). ``horizon_years`` censors follow-up
administratively at the horizon.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .annotate import annotate
from .i18n import fmt_number, fmt_p, t
from .measures import RESPONSE_ENDPOINTS
from .population import select
from .schema import ARMS, DAYS_PER_YEAR

# Endpoint code -> withdrawal reason counted as the event (None: any reason).
WITHDRAWAL_ENDPOINTS: dict[str, str | None] = {
    "WITHDRAWAL": None,
    "WITHDRAWAL_LOE": "lack_of_efficacy",
    "WITHDRAWAL_AE": "adverse_event",
}
ENDPOINTS: tuple[str, ...] = (*RESPONSE_ENDPOINTS, *WITHDRAWAL_ENDPOINTS)
SCALES: tuple[str, ...] = ("survival", "cumulative_incidence")
ALPHA = 0.05
REFERENCE_ARM, COMPARED_ARM = ARMS  # MSC is the reference of the hazard ratio


def is_response(endpoint: str) -> bool:
    return endpoint in RESPONSE_ENDPOINTS


def default_scale(endpoint: str) -> str:
    """Cumulative incidence (1 − KM) for response endpoints, survival for withdrawal."""
    return "cumulative_incidence" if is_response(endpoint) else "survival"


def horizon_for_visit(visit: str) -> float:
    """The horizon (years) of a time point: its nominal month / 12."""
    from .schema import VISIT_MONTHS
    return VISIT_MONTHS[visit] / 12


@dataclass
class SurvivalResult:
    """What :func:`survival` returns.

    Attributes
    ----------
    curves : DataFrame
        ``arm, scale, time, estimate, ci_low, ci_high, n_at_risk, n_events, n_censored``; one row
        per arm, scale (``survival`` | ``cumulative_incidence``) and distinct time (time 0
        included). ``n_*`` count the subjects at risk just before, with an event at and censored
        at that time. Step function: the estimate holds from ``time`` to the next row.
    at_risk : DataFrame
        ``arm, time, n_at_risk, n_events`` at the axis ticks: subjects still at risk at the tick
        (time ≥ tick) and the cumulative number of events up to and including the tick.
    summary : DataFrame
        Per arm: ``arm, n, events, censored, median, median_reached, median_ci_low,
        median_ci_high, hazard_ratio, hr_ci_low, hr_ci_high, logrank_p`` (the hazard ratio is on
        the compared arm's row; the reference row holds NaN). Unreached medians/limits are NaN.
    """

    endpoint: str
    curves: pd.DataFrame
    at_risk: pd.DataFrame
    summary: pd.DataFrame
    logrank_p: float
    logrank_chi2: float
    hazard_ratio: float
    hr_ci_low: float
    hr_ci_high: float
    method: str
    ticks: list[float]
    horizon_years: float | None = None
    subjects: pd.DataFrame = field(default=None, repr=False)  # per-subject time, event, arm
    attrs: dict = field(default_factory=dict)

    def median(self, arm: str) -> dict:
        row = self.summary.set_index("arm").loc[arm]
        return {"median": row["median"], "ci_low": row["median_ci_low"],
                "ci_high": row["median_ci_high"], "reached": bool(row["median_reached"])}


# -- per-subject times (SQL) ------------------------------------------------------------------

def _response_sql(endpoint: str, selection_sql: str) -> str:
    crit = RESPONSE_ENDPOINTS[endpoint]
    # First post-baseline visit meeting the criterion; otherwise censored at the last visit where
    # the endpoint could be assessed (0 if none: at risk at time 0 only).
    return f"""
        WITH sel AS ({selection_sql}),
        m AS (
            SELECT subject_id, study_day, ({crit}) AS met
            FROM visit_measures
            WHERE visit <> 'BL' AND subject_id IN (SELECT subject_id FROM sel)
        ),
        per AS (
            SELECT sel.subject_id, sel.arm,
                min(m.study_day) FILTER (WHERE m.met) AS event_day,
                max(m.study_day) FILTER (WHERE m.met IS NOT NULL) AS last_day
            FROM sel LEFT JOIN m USING (subject_id)
            GROUP BY sel.subject_id, sel.arm
        ),
        raw AS (
            SELECT subject_id, arm, event_day IS NOT NULL AS event,
                greatest(coalesce(event_day, last_day, 0), 0) AS days
            FROM per
        )
        SELECT subject_id, arm,
            least(days, coalesce(?, days)) AS days,
            event AND days <= coalesce(?, days) AS event
        FROM raw
        ORDER BY subject_id
    """


def _withdrawal_sql(selection_sql: str) -> str:
    # Event: withdrawal (for the reason asked, if any); otherwise censored at withdrawal (another
    # reason) or at the last assessment.
    return f"""
        WITH sel AS ({selection_sql}),
        raw AS (
            SELECT subject_id, arm,
                status = 'withdrawn' AND withdrawal_date IS NOT NULL
                    AND (CAST(? AS VARCHAR) IS NULL OR withdrawal_reason = ?) AS event,
                greatest(datediff('day', infusion_date,
                    CASE WHEN status = 'withdrawn' AND withdrawal_date IS NOT NULL
                         THEN withdrawal_date ELSE last_assessment_date END), 0) AS days
            FROM sel
        )
        SELECT subject_id, arm,
            least(days, coalesce(?, days)) AS days,
            event AND days <= coalesce(?, days) AS event
        FROM raw
        ORDER BY subject_id
    """


def subject_times(study, endpoint: str, population: str = "completers",
                  horizon_years: float | None = None, **filters) -> pd.DataFrame:
    """Per subject: ``subject_id, arm, days, time`` (years), ``event`` (bool)."""
    if endpoint not in ENDPOINTS:
        raise ValueError(f"unknown endpoint {endpoint!r}; expected one of {ENDPOINTS}")
    if horizon_years is not None and not horizon_years > 0:
        raise ValueError(f"horizon_years must be positive, got {horizon_years!r}")
    sel_sql, sel_params = select(population, **filters).sql
    horizon_days = None if horizon_years is None else float(horizon_years) * DAYS_PER_YEAR
    if is_response(endpoint):
        sql, params = _response_sql(endpoint, sel_sql), [*sel_params, horizon_days, horizon_days]
    else:
        reason = WITHDRAWAL_ENDPOINTS[endpoint]
        sql = _withdrawal_sql(sel_sql)
        params = [*sel_params, reason, reason, horizon_days, horizon_days]
    df = study.query(sql, params)
    df["days"] = df["days"].astype(float)
    df["event"] = df["event"].fillna(False).astype(bool)
    df["time"] = df["days"] / DAYS_PER_YEAR
    return df


# -- axis ticks and numbers at risk ------------------------------------------------------------

_TICK_STEPS = (1 / 12, 0.25, 0.5, 1.0, 2.0)


def axis_ticks(max_years: float, max_intervals: int = 8) -> list[float]:
    """Evenly spaced ticks from 0 to ``max_years`` (inclusive when it falls on a step)."""
    if not max_years or max_years <= 0 or not math.isfinite(max_years):
        return [0.0]
    step = next((s for s in _TICK_STEPS if max_years / s <= max_intervals), _TICK_STEPS[-1])
    n = int(math.floor(max_years / step + 1e-9))
    return [round(i * step, 10) for i in range(n + 1)]


def numbers_at_risk(subjects: pd.DataFrame, ticks: list[float]) -> pd.DataFrame:
    """``arm, time, n_at_risk, n_events`` at each tick (at risk: time ≥ tick)."""
    rows = []
    for arm in ARMS:
        s = subjects[subjects["arm"] == arm]
        times = s["time"].to_numpy()
        events = s["event"].to_numpy(dtype=bool)
        for tick in ticks:
            rows.append({"arm": arm, "time": tick,
                         "n_at_risk": int((times >= tick).sum()),
                         "n_events": int((events & (times <= tick)).sum())})
    return pd.DataFrame(rows, columns=["arm", "time", "n_at_risk", "n_events"])


# -- statistics (lifelines) --------------------------------------------------------------------

def _km_arm(arm: str, s: pd.DataFrame):
    from lifelines import KaplanMeierFitter
    from lifelines.utils import median_survival_times

    kmf = KaplanMeierFitter(alpha=ALPHA)
    kmf.fit(s["time"].to_numpy(), s["event"].to_numpy(dtype=bool), label="km")
    sf = kmf.survival_function_["km"].to_numpy()
    ci = kmf.confidence_interval_
    lo = ci.iloc[:, 0].to_numpy(dtype=float)
    hi = ci.iloc[:, 1].to_numpy(dtype=float)
    # Where S = 1 or S = 0 the log(-log) interval degenerates to the point itself.
    lo = np.where(np.isnan(lo), sf, lo)
    hi = np.where(np.isnan(hi), sf, hi)
    et = kmf.event_table
    times = kmf.survival_function_.index.to_numpy(dtype=float)
    surv = pd.DataFrame({
        "arm": arm, "time": times, "estimate": sf, "ci_low": lo, "ci_high": hi,
        "n_at_risk": et["at_risk"].reindex(times).fillna(0).astype(int).to_numpy(),
        "n_events": et["observed"].reindex(times).fillna(0).astype(int).to_numpy(),
        "n_censored": et["censored"].reindex(times).fillna(0).astype(int).to_numpy(),
    })
    med = float(kmf.median_survival_time_)
    mci = median_survival_times(ci).to_numpy(dtype=float).ravel()
    return surv, med, float(np.min(mci)), float(np.max(mci))


def _finite_or_nan(x: float) -> float:
    return float(x) if x is not None and math.isfinite(x) else math.nan


def _logrank(a: pd.DataFrame, b: pd.DataFrame) -> tuple[float, float]:
    from lifelines.statistics import logrank_test
    if len(a) == 0 or len(b) == 0 or (a["event"].sum() + b["event"].sum()) == 0:
        return math.nan, math.nan
    r = logrank_test(a["time"], b["time"], a["event"], b["event"], alpha=1 - ALPHA)
    return float(r.test_statistic), float(r.p_value)


def _cox(subjects: pd.DataFrame) -> tuple[float, float, float]:
    from lifelines import CoxPHFitter
    ev = subjects.groupby("arm")["event"].sum()
    # With no events in an arm the partial likelihood has no finite maximum: not estimable.
    if any(ev.get(arm, 0) == 0 for arm in ARMS):
        return math.nan, math.nan, math.nan
    df = pd.DataFrame({"time": subjects["time"].to_numpy(),
                       "event": subjects["event"].to_numpy(dtype=int),
                       "ifng": (subjects["arm"] == COMPARED_ARM).to_numpy(dtype=float)})
    # A zero duration is not allowed by lifelines' Cox; such subjects leave the risk set at 0
    # (censored) or have an event at 0: shift by a negligible amount keeps the ordering.
    df.loc[df["time"] <= 0, "time"] = 1e-9
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            cph = CoxPHFitter(alpha=ALPHA).fit(df, "time", "event")
        except Exception:  # convergence failure on degenerate data
            return math.nan, math.nan, math.nan
    row = cph.summary.loc["ifng"]
    cols = [c for c in cph.summary.columns if c.startswith("exp(coef) ")]
    low, high = (float(row[c]) for c in sorted(cols))  # "... lower 95%", "... upper 95%"
    return float(row["exp(coef)"]), low, high


# -- the analysis ------------------------------------------------------------------------------

def endpoint_label(endpoint: str, lang: str = "en") -> str:
    return t(f"endpoint.{endpoint}", lang)


def method_text(endpoint: str, population: str, horizon_years: float | None,
                lang: str = "en") -> str:
    parts = [t("survival.method.response" if is_response(endpoint) else
               "survival.method.withdrawal", lang, endpoint=endpoint_label(endpoint, lang))]
    if is_response(endpoint) and population == "nri":
        parts.append(t("survival.method.nri", lang))
    if horizon_years is not None:
        parts.append(t("survival.method.horizon", lang, years=f"{horizon_years:g}"))
    parts.append(t("survival.method.stats", lang))
    return " ".join(parts)


def survival(study, endpoint: str, population: str = "completers",
             horizon_years: float | None = None, lang: str = "en", **filters) -> SurvivalResult:
    """Kaplan–Meier analysis of time to first response or time to withdrawal, by arm.

    Parameters
    ----------
    study : Study
    endpoint : str
        One of :data:`ENDPOINTS`: ACR20, ACR50, ACR70, DAS28_REM, DAS28_LDA, EULAR, HAQ_MCID
        (time to first response) or WITHDRAWAL, WITHDRAWAL_LOE, WITHDRAWAL_AE.
    population : str
        ``completers`` (status = completed) or ``nri`` (all randomised; withdrawn subjects are
        censored at their last visit). ``safety`` is accepted and means all treated.
    horizon_years : float, optional
        Administrative censoring at this time (years since infusion).
    lang : str
        Language of titles, method text and footnotes.
    **filters
        Subgroup filters (see :mod:`analytics.population`).
    """
    subjects = subject_times(study, endpoint, population, horizon_years, **filters)

    curve_parts, summary_rows = [], []
    for arm in ARMS:
        s = subjects[subjects["arm"] == arm]
        if len(s):
            surv, med, mlo, mhi = _km_arm(arm, s)
            curve_parts.append(surv)
        else:
            med = mlo = mhi = math.nan
        summary_rows.append({
            "arm": arm, "n": int(len(s)), "events": int(s["event"].sum()),
            "censored": int(len(s) - s["event"].sum()),
            "median": _finite_or_nan(med), "median_reached": bool(math.isfinite(med)),
            "median_ci_low": _finite_or_nan(mlo), "median_ci_high": _finite_or_nan(mhi),
        })
    cols = ["arm", "scale", "time", "estimate", "ci_low", "ci_high", "n_at_risk", "n_events",
            "n_censored"]
    if curve_parts:
        surv = pd.concat(curve_parts, ignore_index=True)
        cum = surv.assign(estimate=1 - surv["estimate"], ci_low=1 - surv["ci_high"],
                          ci_high=1 - surv["ci_low"])
        curves = pd.concat([surv.assign(scale="survival"),
                            cum.assign(scale="cumulative_incidence")], ignore_index=True)[cols]
    else:
        curves = pd.DataFrame(columns=cols)

    a = subjects[subjects["arm"] == REFERENCE_ARM]
    b = subjects[subjects["arm"] == COMPARED_ARM]
    chi2, p = _logrank(a, b)
    hr, hr_lo, hr_hi = _cox(subjects)

    summary = pd.DataFrame(summary_rows)
    summary["hazard_ratio"] = [math.nan, hr]
    summary["hr_ci_low"] = [math.nan, hr_lo]
    summary["hr_ci_high"] = [math.nan, hr_hi]
    summary["logrank_p"] = p

    max_time = horizon_years if horizon_years is not None else (
        float(subjects["time"].max()) if len(subjects) else 0.0)
    ticks = axis_ticks(max_time)
    at_risk = numbers_at_risk(subjects, ticks)

    method = method_text(endpoint, population, horizon_years, lang)
    footnotes = []
    if not is_response(endpoint) and population == "completers":
        footnotes.append(t("survival.footnote.completers_withdrawal", lang))
    if not math.isnan(p) and math.isnan(hr) and len(a) and len(b):
        footnotes.append(t("survival.footnote.hr_not_estimable", lang))
    footnote = " ".join(footnotes)
    n_per_arm = {arm: int(n) for arm, n in subjects["arm"].value_counts().items()}
    label = endpoint_label(endpoint, lang)
    common = dict(lang=lang, population=population, n_per_arm=n_per_arm, method=method,
                  footnote=footnote, endpoint=endpoint, horizon_years=horizon_years)
    annotate(curves, study, title=t("survival.curve.title", lang, endpoint=label), **common)
    annotate(summary, study, title=t("survival.summary.title", lang, endpoint=label), **common)
    annotate(at_risk, study, title=t("survival.at_risk", lang), **common)

    return SurvivalResult(
        endpoint=endpoint, curves=curves, at_risk=at_risk, summary=summary,
        logrank_p=p, logrank_chi2=chi2, hazard_ratio=hr, hr_ci_low=hr_lo, hr_ci_high=hr_hi,
        method=method, ticks=ticks, horizon_years=horizon_years, subjects=subjects,
        attrs=dict(summary.attrs))


# -- display -----------------------------------------------------------------------------------

def _fmt_time(x: float, lang: str) -> str:
    if x is None or not math.isfinite(x):
        return t("survival.not_reached", lang)
    from .display import fmt_duration
    return fmt_duration(x, lang)


def summary_display(res: SurvivalResult, lang: str = "en") -> pd.DataFrame:
    """The summary as a reader sees it: localized headers, formatted numbers, 'not reached'."""
    rows = []
    for r in res.summary.itertuples(index=False):
        if r.n == 0:
            median = ci = t("common.missing_value", lang)
        else:
            median = _fmt_time(r.median, lang)
            ci = f"{_fmt_time(r.median_ci_low, lang)} – {_fmt_time(r.median_ci_high, lang)}"
        if r.arm == REFERENCE_ARM:
            hr = t("survival.reference", lang)
        elif math.isnan(r.hazard_ratio):
            hr = t("common.missing_value", lang)
        else:
            hr = (f"{fmt_number(r.hazard_ratio, 2, lang)} "
                  f"({fmt_number(r.hr_ci_low, 2, lang)} – {fmt_number(r.hr_ci_high, 2, lang)})")
        rows.append({
            t("survival.col.arm", lang): t(f"arm.{r.arm}", lang),
            t("survival.col.n", lang): r.n,
            t("survival.col.events", lang): r.events,
            t("survival.col.median", lang): median,
            t("survival.col.median_ci", lang): ci,
            t("survival.col.hr", lang): hr,
            t("survival.col.logrank_p", lang): fmt_p(r.logrank_p, lang),
        })
    out = pd.DataFrame(rows)
    out.attrs.update(res.summary.attrs)
    return out


def at_risk_display(res: SurvivalResult, lang: str = "en") -> pd.DataFrame:
    """Numbers at risk and cumulative events at the axis ticks, with localized headers."""
    out = res.at_risk.rename(columns={
        "arm": t("survival.col.arm", lang), "time": t("survival.col.time", lang),
        "n_at_risk": t("survival.col.n_at_risk", lang),
        "n_events": t("survival.col.n_events_cum", lang)})
    out[t("survival.col.arm", lang)] = [t(f"arm.{a}", lang) for a in res.at_risk["arm"]]
    return out


def curves_display(res: SurvivalResult, lang: str = "en") -> pd.DataFrame:
    """The step curves (both scales) with localized headers, arm and scale names."""
    c = res.curves
    out = pd.DataFrame({
        t("survival.col.arm", lang): [t(f"arm.{a}", lang) for a in c["arm"]],
        t("survival.col.scale", lang): [t(f"survival.scale.{s}", lang) for s in c["scale"]],
        t("survival.col.time", lang): c["time"].to_numpy(),
        t("survival.col.estimate", lang): c["estimate"].to_numpy(),
        t("survival.col.ci_low", lang): c["ci_low"].to_numpy(),
        t("survival.col.ci_high", lang): c["ci_high"].to_numpy(),
        t("survival.col.n_at_risk", lang): c["n_at_risk"].to_numpy(),
        t("survival.col.n_events", lang): c["n_events"].to_numpy(),
        t("survival.col.n_censored", lang): c["n_censored"].to_numpy(),
    })
    out.attrs.update(c.attrs)
    return out
