"""Time to first response and time to withdrawal: Kaplan–Meier or Aalen–Johansen, numbers at
risk, log-rank, Cox.

Per-subject times come from SQL over the ``visit_measures`` and ``subject_info`` views (every
user-chosen value is a bound parameter; the only SQL text chosen here is a fixed column expression
per endpoint). The statistics are in :mod:`analytics.survival_stats`, which follows R's survival
package and is tested against it:

* Kaplan–Meier per arm with pointwise 95 % CI, Greenwood's variance on the log(−log) scale (R
  ``conf.type = "log-log"``), undefined (NaN) where the estimate is 0 or 1;
* median time per arm and its CI as R's ``quantile.survfit`` (the midpoint of a flat stretch at
  exactly 0.5, as R and SAS); an unreached median or limit is NaN, "not reached";
* log-rank test and Cox hazard ratio (Efron ties, fitted to 1e-9, Wald CI), MSC + IFN-γ vs MSC
  (reference); not estimable when the partial likelihood has no finite maximum, an arm has fewer
  than :data:`analytics.caution.MIN_ARM_FOR_TEST` subjects, or there is no event;
* withdrawal for one reason (lack of efficacy, adverse event): the other reasons compete, so the
  curve is the Aalen–Johansen cumulative incidence, not 1 − KM, and no between-arm test is shown.

Time is in years since infusion (days / 365.25). ``horizon_years`` censors follow-up
administratively at the horizon. What cannot be estimated is NaN with a reason code
(:mod:`analytics.caution`) in the column beside it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from . import survival_stats as ss
from .annotate import annotate
from .caution import MIN_ARM_FOR_TEST, not_estimable, small_arm_caution
from .display import fmt_duration
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
# Withdrawal for one reason: withdrawal for another reason is a competing event.
COMPETING_RISK_ENDPOINTS: tuple[str, ...] = ("WITHDRAWAL_LOE", "WITHDRAWAL_AE")
ENDPOINTS: tuple[str, ...] = (*RESPONSE_ENDPOINTS, *WITHDRAWAL_ENDPOINTS)
SCALES: tuple[str, ...] = ("survival", "cumulative_incidence")
ALPHA = ss.ALPHA
REFERENCE_ARM, COMPARED_ARM = ARMS  # MSC is the reference of the hazard ratio
# subject_times' cause codes (competing-risk endpoints)
CENSORED, CAUSE_OF_INTEREST, COMPETING = 0, 1, 2


def is_response(endpoint: str) -> bool:
    return endpoint in RESPONSE_ENDPOINTS


def is_competing_risk(endpoint: str) -> bool:
    return endpoint in COMPETING_RISK_ENDPOINTS


def endpoints_for(population: str) -> tuple[str, ...]:
    """The endpoints that can happen in a population: completers did not withdraw (by
    definition), so under Completers only the response endpoints are offered."""
    return tuple(RESPONSE_ENDPOINTS) if population == "completers" else ENDPOINTS


def scales_for(endpoint: str) -> tuple[str, ...]:
    """A competing-risk endpoint has a cumulative incidence only (1 − it is no survival curve)."""
    return ("cumulative_incidence",) if is_competing_risk(endpoint) else SCALES


def default_scale(endpoint: str) -> str:
    """Cumulative incidence for response and cause-specific withdrawal, survival for withdrawal
    for any reason."""
    return "survival" if endpoint == "WITHDRAWAL" else "cumulative_incidence"


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
        ``arm, scale, time, estimate, ci_low, ci_high, ci_reason, n_at_risk, n_events,
        n_censored``; one row per arm, scale and distinct time (time 0 included). Scales: for
        response and any-reason withdrawal ``survival`` (KM) and ``cumulative_incidence``
        (1 − KM); for withdrawal for one reason ``cumulative_incidence`` only (Aalen–Johansen).
        ``n_*`` count the subjects at risk just before, with an event at and censored at that
        time. Step function: the estimate holds from ``time`` to the next row. Undefined limits
        are NaN with ``ci_reason`` ``undefined_bound``.
    at_risk : DataFrame
        ``arm, time, n_at_risk, n_events`` at the axis ticks: subjects still at risk at the tick
        (time ≥ tick) and the cumulative number of events up to and including the tick.
    summary : DataFrame
        Per arm: ``arm, n, events, censored`` and either ``median, median_reached,
        median_ci_low, median_ci_high`` with ``median_reason, median_ci_low_reason,
        median_ci_high_reason`` or, for a competing-risk endpoint, ``competing_events, cif_time,
        cif, cif_ci_low, cif_ci_high, cif_reason``; then ``hazard_ratio, hr_ci_low, hr_ci_high,
        hr_p, hr_reason`` (on the compared arm's row; the reference row is the reference) and
        ``logrank_p, logrank_reason``. A NaN has its reason code (analytics.caution) beside it.
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
    hr_p: float = math.nan
    hr_reason: str = ""
    logrank_reason: str = ""

    def median(self, arm: str) -> dict:
        """The arm's median time and CI (not for a competing-risk endpoint, which has none)."""
        if is_competing_risk(self.endpoint):
            raise ValueError(f"{self.endpoint} is summarised by its cumulative incidence")
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
    # Event: withdrawal (for the reason asked, if any); otherwise the follow-up ends at
    # withdrawal (another reason: a competing event) or at the last assessment (censored).
    return f"""
        WITH sel AS ({selection_sql}),
        raw AS (
            SELECT subject_id, arm,
                status = 'withdrawn' AND withdrawal_date IS NOT NULL AS withdrawn,
                status = 'withdrawn' AND withdrawal_date IS NOT NULL
                    AND (CAST(? AS VARCHAR) IS NULL OR withdrawal_reason = ?) AS event,
                greatest(datediff('day', infusion_date,
                    CASE WHEN status = 'withdrawn' AND withdrawal_date IS NOT NULL
                         THEN withdrawal_date ELSE last_assessment_date END), 0) AS days
            FROM sel
        )
        SELECT subject_id, arm,
            least(days, coalesce(?, days)) AS days,
            event AND days <= coalesce(?, days) AS event,
            withdrawn AND NOT event AND days <= coalesce(?, days) AS competing
        FROM raw
        ORDER BY subject_id
    """


def subject_times(study, endpoint: str, population: str = "completers",
                  horizon_years: float | None = None, **filters) -> pd.DataFrame:
    """Per subject: ``subject_id, arm, days, time`` (years), ``event`` (bool) and, for
    withdrawal endpoints, ``competing`` (bool: withdrew for another reason within the horizon)
    and ``cause`` (0 censored, 1 the event, 2 a competing withdrawal)."""
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
        params = [*sel_params, reason, reason, horizon_days, horizon_days, horizon_days]
    df = study.query(sql, params)
    df["days"] = df["days"].astype(float)
    df["event"] = df["event"].fillna(False).astype(bool)
    if "competing" in df:
        df["competing"] = df["competing"].fillna(False).astype(bool)
        df["cause"] = np.where(df["event"], CAUSE_OF_INTEREST,
                               np.where(df["competing"], COMPETING, CENSORED))
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


# -- statistics (analytics.survival_stats) -----------------------------------------------------

def _curve_arm(endpoint: str, s: pd.DataFrame) -> pd.DataFrame:
    """The arm's curve on the scale(s) the endpoint has, with ``ci_reason`` beside NaN limits."""
    if is_competing_risk(endpoint):
        parts = [ss.cumulative_incidence(s["time"], s["cause"], CAUSE_OF_INTEREST)
                 .assign(scale="cumulative_incidence")]
    else:
        km = ss.kaplan_meier(s["time"], s["event"])
        # 1 − KM: the cumulative probability of the event (no competing event here)
        cum = km.assign(estimate=1 - km["estimate"], ci_low=1 - km["ci_high"],
                        ci_high=1 - km["ci_low"])
        parts = [km.assign(scale="survival"), cum.assign(scale="cumulative_incidence")]
    out = pd.concat(parts, ignore_index=True)
    out["ci_reason"] = np.where(out["ci_low"].isna() | out["ci_high"].isna(),
                                "undefined_bound", "")
    return out


def _arm_summary(endpoint: str, arm: str, s: pd.DataFrame, curve: pd.DataFrame | None,
                 horizon_years: float | None) -> dict:
    row = {"arm": arm, "n": int(len(s)), "events": int(s["event"].sum())}
    if is_competing_risk(endpoint):
        row["competing_events"] = int(s["competing"].sum())
    row["censored"] = int(len(s) - s["event"].sum() - row.get("competing_events", 0))
    if is_competing_risk(endpoint):
        # cumulative incidence at the end of the horizon (or of follow-up)
        if curve is None:
            row.update(cif_time=math.nan, cif=math.nan, cif_ci_low=math.nan,
                       cif_ci_high=math.nan, cif_reason="no_subjects")
            return row
        c = curve[curve["scale"] == "cumulative_incidence"]
        end = c.iloc[-1]
        row.update(cif_time=horizon_years if horizon_years is not None else float(end["time"]),
                   cif=float(end["estimate"]), cif_ci_low=float(end["ci_low"]),
                   cif_ci_high=float(end["ci_high"]), cif_reason=end["ci_reason"])
        return row
    if curve is None:
        q = ss.Estimate(math.nan, reason="no_subjects", ci_low_reason="no_subjects",
                        ci_high_reason="no_subjects")
    else:
        q = ss.survival_quantile(curve[curve["scale"] == "survival"].drop(columns="scale"))
    row.update(median=q.value, median_reached=not math.isnan(q.value), median_ci_low=q.ci_low,
               median_ci_high=q.ci_high, median_reason=q.reason,
               median_ci_low_reason=q.ci_low_reason, median_ci_high_reason=q.ci_high_reason)
    return row


def _untestable(endpoint: str, n_per_arm: dict) -> str:
    """Why no between-arm comparison (log-rank, Cox) is made at all ('' when one is)."""
    if is_competing_risk(endpoint):
        return "no_cif_test"
    if min(n_per_arm.get(arm, 0) for arm in ARMS) == 0:
        return "no_subjects"
    return ""


def _cox(endpoint: str, subjects: pd.DataFrame, n_per_arm: dict) -> ss.Estimate:
    """The Cox hazard ratio between the arms, or NaN with the reason it cannot be given."""
    reason = _untestable(endpoint, n_per_arm)
    if reason:
        return ss.Estimate(math.nan, reason=reason)
    time, event = subjects["time"], subjects["event"]
    exposed = subjects["arm"] == COMPARED_ARM
    if not event.any():
        return ss.Estimate(math.nan, reason="no_events")
    if ss.monotone_likelihood(time, event, exposed):
        return ss.Estimate(math.nan, reason="monotone_likelihood")
    if min(n_per_arm.values()) < MIN_ARM_FOR_TEST:
        return ss.Estimate(math.nan, reason="arm_too_small")
    return ss.cox_hazard_ratio(time, event, exposed)


def _comparison(endpoint: str, subjects: pd.DataFrame, n_per_arm: dict
                ) -> tuple[ss.Estimate, ss.Estimate]:
    """Log-rank and Cox between the arms, or NaN with the reason neither can be given."""
    hr = _cox(endpoint, subjects, n_per_arm)
    reason = _untestable(endpoint, n_per_arm)
    if reason:
        return ss.Estimate(math.nan, reason=reason), hr
    lr = ss.logrank(subjects["time"], subjects["event"], subjects["arm"])
    if min(n_per_arm.values()) < MIN_ARM_FOR_TEST and not lr.reason:
        lr = ss.Estimate(math.nan, reason="arm_too_small")
    return lr, hr


def _arm_sizes(subjects: pd.DataFrame) -> dict:
    return {arm: int((subjects["arm"] == arm).sum()) for arm in ARMS}


# -- the analysis ------------------------------------------------------------------------------

def endpoint_label(endpoint: str, lang: str = "en") -> str:
    return t(f"endpoint.{endpoint}", lang)


def method_text(endpoint: str, population: str, horizon_years: float | None,
                lang: str = "en") -> str:
    """The estimand (population, variable, intercurrent events and how each is handled, summary
    measure) and the methods, in the order of docs/STUDY.md section 5."""
    label = endpoint_label(endpoint, lang)
    competing = is_competing_risk(endpoint)
    if is_response(endpoint):
        parts = [t("survival.method.response", lang, endpoint=label)]
    elif competing:
        parts = [t("survival.method.competing", lang, endpoint=label)]
    else:
        parts = [t("survival.method.withdrawal", lang, endpoint=label)]
    if is_response(endpoint) and population == "nri":
        parts.append(t("survival.method.nri", lang))
    if horizon_years is not None:
        parts.append(t("survival.method.horizon", lang,
                       duration=fmt_duration(horizon_years, lang)))
    parts.append(t("survival.method.stats.competing", lang, min_n=MIN_ARM_FOR_TEST) if competing
                 else t("survival.method.stats", lang, min_n=MIN_ARM_FOR_TEST))
    return " ".join(parts)


def _footnote(endpoint: str, population: str, summary: pd.DataFrame, logrank_reason: str,
              hr_reason: str, n_per_arm: dict, lang: str) -> str:
    notes = []
    if not is_response(endpoint) and population == "completers":
        notes.append(t("survival.footnote.completers_withdrawal", lang))
    if not is_competing_risk(endpoint) and min(n_per_arm.values()) > 0:
        if hr_reason and hr_reason == logrank_reason:
            notes.append(t("survival.footnote.hr_logrank", lang,
                           text=not_estimable(hr_reason, lang)))
        else:
            if hr_reason:
                notes.append(t("survival.footnote.hr", lang, text=not_estimable(hr_reason, lang)))
            if logrank_reason:
                notes.append(t("survival.footnote.logrank", lang,
                               text=not_estimable(logrank_reason, lang)))
        undefined = [t(f"arm.{r.arm}", lang) for r in summary.itertuples()
                     if r.n and "undefined_bound" in (r.median_ci_low_reason,
                                                      r.median_ci_high_reason)]
        if undefined:
            notes.append(t("survival.footnote.median_ci", lang, arms=", ".join(undefined),
                           text=not_estimable("undefined_bound", lang)))
    caution = small_arm_caution(n_per_arm, lang)
    if caution and min(n_per_arm.values()) > 0:
        notes.append(caution)
    return " ".join(notes)


def survival(study, endpoint: str, population: str = "completers",
             horizon_years: float | None = None, lang: str = "en", **filters) -> SurvivalResult:
    """Time to first response or time to withdrawal, by arm.

    Parameters
    ----------
    study : Study
    endpoint : str
        One of :data:`ENDPOINTS`: ACR20, ACR50, ACR70, DAS28_REM, DAS28_LDA, EULAR, HAQ_MCID
        (time to first response) or WITHDRAWAL, WITHDRAWAL_LOE, WITHDRAWAL_AE (the last two with
        the other withdrawal reasons as competing events).
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
    numbers = study.survival_estimates(endpoint, population, horizon_years=horizon_years,
                                       **filters)
    # the words go on copies (a memoised result is shared), which start without attrs
    curves, summary, at_risk = (_bare(numbers.curves), _bare(numbers.summary),
                                _bare(numbers.at_risk))
    n_per_arm = _arm_sizes(numbers.subjects)
    method = method_text(endpoint, population, horizon_years, lang)
    footnote = _footnote(endpoint, population, summary, numbers.logrank_reason,
                         numbers.hr_reason, n_per_arm, lang)
    label = endpoint_label(endpoint, lang)
    title_key = "survival.curve.title.competing" if is_competing_risk(endpoint) \
        else "survival.curve.title"
    common = dict(lang=lang, population=population, n_per_arm=n_per_arm, method=method,
                  footnote=footnote, endpoint=endpoint, horizon_years=horizon_years,
                  filters=filters)
    annotate(curves, study, title=t(title_key, lang, endpoint=label), **common)
    annotate(summary, study, title=t("survival.summary.title", lang, endpoint=label), **common)
    annotate(at_risk, study, title=t("survival.at_risk", lang), **common)
    return replace(numbers, curves=curves, at_risk=at_risk, summary=summary, method=method,
                   attrs=dict(summary.attrs))


def _bare(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out.attrs = {}
    return out


def survival_estimates(study, endpoint: str, population: str = "completers",
                       horizon_years: float | None = None, **filters) -> SurvivalResult:
    """The numbers of :func:`survival` without its words (titles, method text, footnotes, in
    no language): the subjects' times, the curves, the medians or cumulative incidences, the
    log-rank test and the Cox hazard ratio. Computed once for both languages (the dashboard
    memoises an analysis by its arguments), so a language switch recomputes no statistic."""
    subjects = subject_times(study, endpoint, population, horizon_years, **filters)
    n_per_arm = _arm_sizes(subjects)

    curve_parts, summary_rows = [], []
    for arm in ARMS:
        s = subjects[subjects["arm"] == arm]
        curve = _curve_arm(endpoint, s).assign(arm=arm) if len(s) else None
        if curve is not None:
            curve_parts.append(curve)
        summary_rows.append(_arm_summary(endpoint, arm, s, curve, horizon_years))
    cols = ["arm", "scale", "time", "estimate", "ci_low", "ci_high", "ci_reason", "n_at_risk",
            "n_events", "n_censored"]
    curves = (pd.concat(curve_parts, ignore_index=True)[cols] if curve_parts
              else pd.DataFrame(columns=cols))

    lr, hr = _comparison(endpoint, subjects, n_per_arm)
    summary = pd.DataFrame(summary_rows)
    # the comparison sits on the compared arm's row; the reference row is the reference
    summary["hazard_ratio"] = [math.nan, hr.value]
    summary["hr_ci_low"] = [math.nan, hr.ci_low]
    summary["hr_ci_high"] = [math.nan, hr.ci_high]
    summary["hr_p"] = [math.nan, hr.p]
    summary["hr_reason"] = ["", hr.reason]
    summary["logrank_p"] = lr.p
    summary["logrank_reason"] = lr.reason

    max_time = horizon_years if horizon_years is not None else (
        float(subjects["time"].max()) if len(subjects) else 0.0)
    ticks = axis_ticks(max_time)
    at_risk = numbers_at_risk(subjects, ticks)
    return SurvivalResult(
        endpoint=endpoint, curves=curves, at_risk=at_risk, summary=summary,
        logrank_p=lr.p, logrank_chi2=lr.statistic, logrank_reason=lr.reason,
        hazard_ratio=hr.value, hr_ci_low=hr.ci_low, hr_ci_high=hr.ci_high, hr_p=hr.p,
        hr_reason=hr.reason, method="", ticks=ticks, horizon_years=horizon_years,
        subjects=subjects)


HR_COLUMNS = ["arm", "hazard_ratio", "hr_ci_low", "hr_ci_high", "hr_p", "hr_reason"]


def hazard_ratio_estimate(study, endpoint: str, population: str = "completers",
                          horizon_years: float | None = None, **filters) -> pd.DataFrame:
    """The numbers of :func:`hazard_ratio` without its words: the same subjects and the same
    fit (``_cox``) as :func:`survival_estimates`, without its curves, medians and log-rank test.
    One row, the compared arm (``HR_COLUMNS``); ``attrs["n_per_arm"]``. Memoised in no
    language, as the survival page's numbers are."""
    subjects = subject_times(study, endpoint, population, horizon_years, **filters)
    n_per_arm = _arm_sizes(subjects)
    hr = _cox(endpoint, subjects, n_per_arm)
    df = pd.DataFrame([[COMPARED_ARM, hr.value, hr.ci_low, hr.ci_high, hr.p, hr.reason]],
                      columns=HR_COLUMNS)
    df.attrs["n_per_arm"] = n_per_arm
    return df


def hazard_ratio(study, endpoint: str, population: str = "completers",
                 horizon_years: float | None = None, lang: str = "en",
                 **filters) -> pd.DataFrame:
    """The Cox hazard ratio of :func:`survival` alone (the same subjects, fit and reasons),
    without the curves, medians and log-rank test: for a caller that needs only the ratio
    (the pooled-versus-randomised note of the survival page).

    Returns
    -------
    DataFrame
        One row, the compared arm: ``arm``, ``hazard_ratio``, ``hr_ci_low``, ``hr_ci_high``,
        ``hr_p``, ``hr_reason`` -- exactly the compared arm's values in :func:`survival`'s
        ``summary`` (NaN with the reason code where not estimable).
    """
    numbers = study.hazard_ratio_estimate(endpoint, population, horizon_years=horizon_years,
                                          **filters)
    n_per_arm = numbers.attrs["n_per_arm"]
    df = _bare(numbers)
    reason = df.at[0, "hr_reason"]
    notes = [t("survival.footnote.hr", lang, text=not_estimable(reason, lang)) if reason else "",
             small_arm_caution(n_per_arm, lang) if min(n_per_arm.values()) > 0 else ""]
    return annotate(df, study, lang=lang,
                    title=t("survival.hr.title", lang, endpoint=endpoint_label(endpoint, lang)),
                    population=population, n_per_arm=n_per_arm,
                    method=method_text(endpoint, population, horizon_years, lang),
                    footnote=" ".join(n for n in notes if n), endpoint=endpoint,
                    horizon_years=horizon_years, filters=filters)


# -- display -----------------------------------------------------------------------------------

def _fmt_time(x: float, reason: str, lang: str) -> str:
    if x is not None and math.isfinite(x):
        return fmt_duration(x, lang)
    if reason in ("", "not_reached"):
        return t("survival.not_reached", lang)
    return not_estimable(reason, lang)


def hazard_ratio_text(res: SurvivalResult, lang: str = "en") -> str:
    """'2.12 (1.34 – 3.36)' or 'not estimable (reason)'."""
    if res.hr_reason:
        return not_estimable(res.hr_reason, lang)
    return (f"{fmt_number(res.hazard_ratio, 2, lang)} "
            f"({fmt_number(res.hr_ci_low, 2, lang)} – {fmt_number(res.hr_ci_high, 2, lang)})")


def logrank_text(res: SurvivalResult, lang: str = "en") -> str:
    return not_estimable(res.logrank_reason, lang) if res.logrank_reason \
        else fmt_p(res.logrank_p, lang)


def comparison_text(res: SurvivalResult, lang: str = "en") -> str:
    """One line for the figure: the hazard ratio and log-rank p, or why there are none."""
    if is_competing_risk(res.endpoint):
        return t("survival.figure.no_test", lang)
    return t("survival.figure.comparison", lang, hr=hazard_ratio_text(res, lang),
             p=logrank_text(res, lang))


def _percent_ci(value: float, low: float, high: float, reason: str, lang: str) -> str:
    from .i18n import fmt_percent
    if not math.isfinite(value):
        return t("common.missing_value", lang)
    text = fmt_percent(100 * value, 1, lang)
    if math.isnan(low) or math.isnan(high):
        return f"{text} ({t('survival.ci', lang)}: {not_estimable(reason, lang)})"
    return f"{text} ({fmt_percent(100 * low, 1, lang)} – {fmt_percent(100 * high, 1, lang)})"


def summary_display(res: SurvivalResult, lang: str = "en") -> pd.DataFrame:
    """The summary as a reader sees it: localized headers, formatted numbers, 'not reached',
    'not estimable (reason)'. A competing-risk endpoint shows the cumulative incidence at the
    end of follow-up instead of the median, and no between-arm test."""
    rows = []
    for r in res.summary.to_dict("records"):
        row = {t("survival.col.arm", lang): t(f"arm.{r['arm']}", lang),
               t("survival.col.n", lang): r["n"],
               t("survival.col.events", lang): r["events"]}
        if is_competing_risk(res.endpoint):
            row[t("survival.col.competing_events", lang)] = r["competing_events"]
            row[t("survival.col.cif_time", lang)] = fmt_duration(r["cif_time"], lang)
            row[t("survival.col.cif", lang)] = _percent_ci(r["cif"], r["cif_ci_low"], r["cif_ci_high"],
                                      r["cif_reason"], lang)
            rows.append(row)
            continue
        if r["n"] == 0:
            median = ci = t("common.missing_value", lang)
        else:
            median = _fmt_time(r["median"], r["median_reason"], lang)
            ci = (f"{_fmt_time(r['median_ci_low'], r['median_ci_low_reason'], lang)} – "
                  f"{_fmt_time(r['median_ci_high'], r['median_ci_high_reason'], lang)}")
        row[t("survival.col.median", lang)] = median
        row[t("survival.col.median_ci", lang)] = ci
        row[t("survival.col.hr", lang)] = (t("survival.reference", lang)
                                           if r["arm"] == REFERENCE_ARM
                                           else hazard_ratio_text(res, lang))
        row[t("survival.col.logrank_p", lang)] = logrank_text(res, lang)
        rows.append(row)
    out = pd.DataFrame(rows)
    out.attrs.update(res.summary.attrs)
    return out


def at_risk_display(res: SurvivalResult, lang: str = "en") -> pd.DataFrame:
    """Numbers at risk and cumulative events at the axis ticks, with localized headers (times
    under a year in weeks or months)."""
    out = res.at_risk.rename(columns={
        "arm": t("survival.col.arm", lang), "time": t("survival.col.time", lang),
        "n_at_risk": t("survival.col.n_at_risk", lang),
        "n_events": t("survival.col.n_events_cum", lang)})
    out[t("survival.col.arm", lang)] = [t(f"arm.{a}", lang) for a in res.at_risk["arm"]]
    out[t("survival.col.time", lang)] = [fmt_duration(x, lang) for x in res.at_risk["time"]]
    return out


def curves_display(res: SurvivalResult, lang: str = "en") -> pd.DataFrame:
    """The step curves (both scales) with localized headers, arm and scale names; an undefined
    confidence limit is empty, with the reason in its own column."""
    c = res.curves
    out = pd.DataFrame({
        t("survival.col.arm", lang): [t(f"arm.{a}", lang) for a in c["arm"]],
        t("survival.col.scale", lang): [t(f"survival.scale.{s}", lang) for s in c["scale"]],
        t("survival.col.time", lang): [fmt_duration(x, lang, fine=True) for x in c["time"]],
        t("survival.col.estimate", lang): c["estimate"].to_numpy(),
        t("survival.col.ci_low", lang): c["ci_low"].to_numpy(),
        t("survival.col.ci_high", lang): c["ci_high"].to_numpy(),
        t("survival.col.ci_note", lang): [not_estimable(r, lang) if r else "" for r in
                                          c["ci_reason"]],
        t("survival.col.n_at_risk", lang): c["n_at_risk"].to_numpy(),
        t("survival.col.n_events", lang): c["n_events"].to_numpy(),
        t("survival.col.n_censored", lang): c["n_censored"].to_numpy(),
    })
    out.attrs.update(c.attrs)
    return out
