"""Subgroup forest plot: the between-arm effect per level of each baseline subgroup.

Response endpoints (one time point): per level, the difference in response rate MSC + IFN-γ − MSC
with the Newcombe hybrid score 95 % CI (the counting rules of :mod:`analytics.response`), the odds
ratio with Woolf's logit 95 % CI, n per arm, and the treatment-by-subgroup interaction p: a
likelihood-ratio test of the arm × subgroup terms in the logistic regression
``response ~ arm * subgroup`` (statsmodels ``Logit``) against ``response ~ arm + subgroup``.
Two overall rows: unadjusted (Newcombe difference, 2×2 odds ratio) and covariate-adjusted (odds
ratio of arm from the logistic regression on arm + baseline DAS28-ESR + prior biologic + trial,
Wald CI).

Survival endpoints: per level, the Cox hazard ratio (:func:`analytics.survival_stats.
cox_hazard_ratio`, Efron ties) and the interaction p: likelihood-ratio test of the arm × subgroup
terms in a Cox model with arm, subgroup and their product (lifelines, Efron ties).

Not estimable (NaN with a reason, :mod:`analytics.caution`): a level with an arm below
``MIN_ARM_FOR_TEST``; an odds ratio with an empty cell or a logistic regression whose data are
separated (some arm × level cell all responders or all non-responders) — ``separation``; a
subgroup with a single level present (``single_level``) or a level where an arm has fewer than
``MIN_ARM_FOR_TEST`` subjects (``arm_too_small``; e.g. a trial that gave one arm only) — no
interaction test.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
from scipy import stats

from .annotate import annotate, arm_counts, bare
from .caution import MIN_ARM_FOR_TEST, arms_too_small, not_estimable, small_arm_caution
from .i18n import fmt_number, fmt_p, t
from .population import SUBGROUP_FILTERS, follow_up_sql, select
from .provenance import filter_label
from .response import REFERENCE_ARM, TEST_ARM, _check_endpoint, check_population, ended_note
from .stats import fisher_exact_p, newcombe_diff_ci
from .survival import ENDPOINTS as SURVIVAL_ENDPOINTS, is_response, subject_times
from .survival_stats import cox_hazard_ratio

# subgroup filters (analytics.population) split into levels; the trials are read from the data
SUBGROUPS = ("sex", "age_band", "baseline_activity", "prior_bdmard", "study_id")
_Z = float(stats.norm.isf(0.025))


def subject_responses(study, endpoint: str, timepoint: str, population: str = "completers",
                      **filters) -> pd.DataFrame:
    """One row per counted subject: arm, subgroup columns, baseline DAS28-ESR and ``response``
    (0/1) at ``timepoint``, by the counting rules of :func:`analytics.response.response_rates`
    (completers: observed responses only; NRI: every subject still in follow-up at the time
    point, missing = non-responder)."""
    check_population(population)
    expr = _check_endpoint(endpoint)
    sel_sql, sel_params = select(population, **filters).sql
    fu_sql, fu_params = follow_up_sql([timepoint])
    cols = ", ".join(f"s.{c}" for c in SUBGROUPS)
    df = study.query(f"""
        WITH sel AS ({sel_sql}), {fu_sql}
        SELECT s.subject_id, s.arm, {cols}, s.bl_das28_esr, r.r AS response, f.state
        FROM sel s JOIN follow_up f ON f.subject_id = s.subject_id
        LEFT JOIN (SELECT subject_id, ({expr}) AS r FROM visit_measures
                   WHERE visit = ?) r ON r.subject_id = s.subject_id
        ORDER BY s.subject_id""", [*sel_params, *fu_params, timepoint])
    if population == "nri":
        # NRI: a subject whose follow-up had ended leaves the denominator; others without an
        # observed response count as non-responders (analytics.population.follow_up_sql)
        df["response"] = df["response"].where(df["state"] == "ended", df["response"].fillna(False))
    df.attrs["n_ended"] = {a: int(((df["state"] == "ended") & (df["arm"] == a)).sum())
                           for a in (REFERENCE_ARM, TEST_ARM)} if population == "nri" else {}
    df = df[df["response"].notna()].copy()
    df["response"] = df["response"].astype(bool).astype(int)
    df["treated"] = (df["arm"] == TEST_ARM).astype(int)
    df["prior_bdmard"] = df["prior_bdmard"].astype(int)
    return df.reset_index(drop=True)


# -- logistic regression ------------------------------------------------------------------------

def _interaction_unsupported(df: pd.DataFrame, subgroup: str) -> str:
    """Why the arm × subgroup interaction cannot be tested, or '': one level only, or a level
    where an arm has fewer than MIN_ARM_FOR_TEST subjects (e.g. a trial that gave one arm)."""
    if df[subgroup].nunique() < 2:
        return "single_level"
    per_cell = df.groupby([subgroup, "treated"]).size().unstack(fill_value=0)
    if per_cell.shape[1] < 2 or int(per_cell.to_numpy().min()) < MIN_ARM_FOR_TEST:
        return "arm_too_small"
    return ""


def _separated(df: pd.DataFrame, by: list[str]) -> bool:
    """Quasi-complete separation by a categorical cell: some cell all 0 or all 1."""
    means = df.groupby(by)["response"].mean()
    return bool(((means == 0) | (means == 1)).any())


def _logit(formula: str, df: pd.DataFrame):
    """A statsmodels Logit fit, or None when it fails or does not converge."""
    import statsmodels.formula.api as smf
    from statsmodels.tools.sm_exceptions import PerfectSeparationError
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            fit = smf.logit(formula, df).fit(disp=0, maxiter=100)
        except (PerfectSeparationError, np.linalg.LinAlgError, ValueError):
            return None
    if not fit.mle_retvals.get("converged", False):
        return None
    return fit


def interaction_p_logistic(df: pd.DataFrame, subgroup: str) -> tuple[float, str]:
    """Likelihood-ratio p of the arm × subgroup terms, or (nan, reason)."""
    if reason := _interaction_unsupported(df, subgroup):
        return math.nan, reason
    if _separated(df, ["treated", subgroup]):
        return math.nan, "separation"
    full = _logit(f"response ~ treated * C({subgroup})", df)
    reduced = _logit(f"response ~ treated + C({subgroup})", df)
    if full is None or reduced is None:
        return math.nan, "not_converged"
    lr = 2 * (full.llf - reduced.llf)
    return float(stats.chi2.sf(lr, full.df_model - reduced.df_model)), ""


def adjusted_odds_ratio(df: pd.DataFrame) -> dict:
    """Odds ratio of arm adjusted for baseline DAS28-ESR, prior biologic and trial (Wald CI)."""
    terms = ["treated", "bl_das28_esr"]
    for cat in ("prior_bdmard", "study_id"):
        if df[cat].nunique() > 1:
            terms.append(f"C({cat})")
    used = df.dropna(subset=["bl_das28_esr"])
    out = dict(odds_ratio=math.nan, or_ci_low=math.nan, or_ci_high=math.nan, reason="")
    if arms_too_small(used["arm"].value_counts().to_dict()) or used["arm"].nunique() < 2:
        return out | dict(reason="arm_too_small")
    if _separated(used, ["treated"]):
        return out | dict(reason="separation")
    fit = _logit("response ~ " + " + ".join(terms), used)
    if fit is None:
        return out | dict(reason="not_converged")
    b, se = float(fit.params["treated"]), float(fit.bse["treated"])
    return dict(odds_ratio=math.exp(b), or_ci_low=math.exp(b - _Z * se),
                or_ci_high=math.exp(b + _Z * se), reason="", n_used=len(used))


def _odds_ratio(k1: int, n1: int, k2: int, n2: int) -> tuple[float, float, float, str]:
    """Odds ratio (MSC_IFNG vs MSC) with Woolf's logit CI; NaN + 'separation' on an empty cell."""
    cells = (k2, n2 - k2, k1, n1 - k1)
    if min(cells) == 0:
        return math.nan, math.nan, math.nan, "separation"
    log_or = math.log(k2 * (n1 - k1) / ((n2 - k2) * k1))
    se = math.sqrt(sum(1 / c for c in cells))
    return math.exp(log_or), math.exp(log_or - _Z * se), math.exp(log_or + _Z * se), ""


def _rate_row(g: pd.DataFrame) -> dict:
    # counted on the columns' arrays: a pandas filter per arm cost more than the statistics
    arms, response = g["arm"].to_numpy(), g["response"].to_numpy()
    k = {arm: int(response[arms == arm].sum()) for arm in (REFERENCE_ARM, TEST_ARM)}
    n = {arm: int((arms == arm).sum()) for arm in (REFERENCE_ARM, TEST_ARM)}
    row = {f"responders_{a}": k[a] for a in k} | {f"n_{a}": n[a] for a in n}
    k1, n1, k2, n2 = k[REFERENCE_ARM], n[REFERENCE_ARM], k[TEST_ARM], n[TEST_ARM]
    if arms_too_small(n):
        return row | dict(diff=math.nan, diff_ci_low=math.nan, diff_ci_high=math.nan,
                          p_value=math.nan, odds_ratio=math.nan, or_ci_low=math.nan,
                          or_ci_high=math.nan, reason="arm_too_small")
    d, lo, hi = newcombe_diff_ci(k1, n1, k2, n2)
    o, olo, ohi, reason = _odds_ratio(k1, n1, k2, n2)
    return row | dict(diff=d, diff_ci_low=lo, diff_ci_high=hi, p_value=fisher_exact_p(k1, n1, k2, n2),
                      odds_ratio=o, or_ci_low=olo, or_ci_high=ohi, reason=reason)


def _level_rows(df: pd.DataFrame, filters: dict, lang: str, estimate, interaction) -> list[dict]:
    """One row per level of each subgroup: ``estimate(level_frame)`` and, on every row of the
    subgroup, ``interaction(df, subgroup)``."""
    rows = []
    for subgroup in SUBGROUPS:
        if filters.get(subgroup) is not None:
            continue  # a filtered subgroup has one level: nothing to split
        p_int, p_reason = interaction(df, subgroup)
        allowed = SUBGROUP_FILTERS[subgroup][1] or ()  # the filter's order (age bands ...)
        order = {v: i for i, v in enumerate(allowed)}
        for level in sorted(df[subgroup].unique(), key=lambda v: (order.get(v, len(order)), v)):
            g = df[df[subgroup] == level]
            rows.append(dict(row_kind="level", subgroup=subgroup, level=level,
                             label=filter_label(subgroup, level, lang), **estimate(g),
                             interaction_p=p_int, interaction_reason=p_reason))
    return rows


def forest_response(study, endpoint: str, timepoint: str, population: str = "completers",
                    lang: str = "en", **filters) -> pd.DataFrame:
    """Forest rows for a response endpoint at one time point (see the module docstring).

    Returns
    -------
    DataFrame
        ``row_kind`` (overall / adjusted / level), ``subgroup``, ``level``, ``label``,
        ``responders_<ARM>, n_<ARM>``, ``diff, diff_ci_low, diff_ci_high, p_value``,
        ``odds_ratio, or_ci_low, or_ci_high``, ``reason`` (not-estimable code or ''), and
        ``interaction_p, interaction_reason`` (on every row of a subgroup).
    """
    df = subject_responses(study, endpoint, timepoint, population, **filters)
    rows = [dict(row_kind="overall", subgroup="", level="",
                 label=t("forest.row.overall", lang), **_rate_row(df),
                 interaction_p=math.nan, interaction_reason="")]
    adj = adjusted_odds_ratio(df)
    rows.append(dict(row_kind="adjusted", subgroup="", level="",
                     label=t("forest.row.adjusted", lang),
                     **{f"responders_{a}": math.nan for a in (REFERENCE_ARM, TEST_ARM)},
                     **{f"n_{a}": int((df["arm"] == a).sum()) for a in (REFERENCE_ARM, TEST_ARM)},
                     diff=math.nan, diff_ci_low=math.nan, diff_ci_high=math.nan, p_value=math.nan,
                     odds_ratio=adj["odds_ratio"], or_ci_low=adj["or_ci_low"],
                     or_ci_high=adj["or_ci_high"], reason=adj["reason"],
                     interaction_p=math.nan, interaction_reason=""))
    rows += _level_rows(df, filters, lang, _rate_row, interaction_p_logistic)
    out = pd.DataFrame(rows)
    sel_sql, sel_params = select(population, **filters).sql
    n_per_arm = arm_counts(study, sel_sql, sel_params)
    counted = {a: int((df["arm"] == a).sum()) for a in (REFERENCE_ARM, TEST_ARM)}
    ended = pd.DataFrame({"arm": list(df.attrs["n_ended"]), "timepoint": timepoint,
                          "n_ended": list(df.attrs["n_ended"].values())})
    footnote = " ".join(s for s in (t("forest.footnote.response", lang),
                                    t(f"efficacy.footnote.{population}", lang),
                                    ended_note(ended, lang) if len(ended) else "",
                                    small_arm_caution(counted, lang)) if s)
    return annotate(out, study, lang=lang,
                    title=t("forest.title.response", lang,
                            endpoint=t(f"endpoint.{endpoint}", lang),
                            timepoint=t(f"visit.{timepoint}", lang)),
                    population=population, n_per_arm=n_per_arm,
                    method=t("forest.method.response", lang), footnote=footnote,
                    filters={k: v for k, v in filters.items() if v is not None},
                    timepoint=timepoint, endpoint=endpoint, kind="response")


# -- survival -----------------------------------------------------------------------------------

def _subject_groups(study, population: str, **filters) -> pd.DataFrame:
    sel_sql, sel_params = select(population, **filters).sql
    cols = ", ".join(SUBGROUPS)
    df = study.query(f"SELECT subject_id, {cols} FROM ({sel_sql})", sel_params)
    df["prior_bdmard"] = df["prior_bdmard"].astype(int)
    return df


def interaction_p_cox(df: pd.DataFrame, subgroup: str) -> tuple[float, str]:
    """Likelihood-ratio p of the arm × subgroup terms in a Cox model (Efron ties), or NaN."""
    from lifelines import CoxPHFitter
    if reason := _interaction_unsupported(df, subgroup):
        return math.nan, reason
    if not df["event"].any():
        return math.nan, "no_events"
    # a level × arm cell without events makes the partial likelihood unbounded
    if (df.groupby([subgroup, "treated"])["event"].sum() == 0).any():
        return math.nan, "monotone_likelihood"
    dummies = pd.get_dummies(df[subgroup].astype(str), prefix="g", drop_first=True, dtype=float)
    base = pd.concat([df[["time", "event", "treated"]].astype(float), dummies], axis=1)
    inter = base.copy()
    for c in dummies:
        inter[f"x_{c}"] = base["treated"] * base[c]
    base.loc[base["time"] <= 0, "time"] = 1e-9
    inter.loc[inter["time"] <= 0, "time"] = 1e-9
    fits = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for frame in (inter, base):
            try:
                fits.append(CoxPHFitter().fit(frame, "time", "event"))
            except Exception:  # lifelines raises several kinds on a degenerate fit
                return math.nan, "not_converged"
    lr = 2 * (fits[0].log_likelihood_ - fits[1].log_likelihood_)
    return float(stats.chi2.sf(lr, len(dummies.columns))), ""


def _hr_row(g: pd.DataFrame) -> dict:
    n = {a: int((g["arm"] == a).sum()) for a in (REFERENCE_ARM, TEST_ARM)}
    e = {a: int(g.loc[g["arm"] == a, "event"].sum()) for a in (REFERENCE_ARM, TEST_ARM)}
    row = {f"n_{a}": n[a] for a in n} | {f"events_{a}": e[a] for a in e}
    if arms_too_small(n):
        return row | dict(hazard_ratio=math.nan, hr_ci_low=math.nan, hr_ci_high=math.nan,
                          p_value=math.nan, reason="arm_too_small")
    est = cox_hazard_ratio(g["time"], g["event"], g["treated"].astype(bool))
    return row | dict(hazard_ratio=est.value, hr_ci_low=est.ci_low, hr_ci_high=est.ci_high,
                      p_value=est.p, reason=est.reason)


def forest_survival(study, endpoint: str, population: str = "completers",
                    horizon_years: float | None = None, lang: str = "en",
                    **filters) -> pd.DataFrame:
    """Forest rows for a time-to-event endpoint: Cox HR (MSC_IFNG vs MSC) overall and per level,
    with the Cox interaction p (see the module docstring)."""
    if endpoint not in SURVIVAL_ENDPOINTS:
        raise ValueError(f"unknown endpoint {endpoint!r}; expected one of {SURVIVAL_ENDPOINTS}")
    times = subject_times(study, endpoint, population, horizon_years, **filters)
    df = times.merge(_subject_groups(study, population, **filters), on="subject_id")
    df["treated"] = (df["arm"] == TEST_ARM).astype(int)
    rows = [dict(row_kind="overall", subgroup="", level="", label=t("forest.row.overall", lang),
                 **_hr_row(df), interaction_p=math.nan, interaction_reason="")]
    rows += _level_rows(df, filters, lang, _hr_row, interaction_p_cox)
    out = pd.DataFrame(rows)
    sel_sql, sel_params = select(population, **filters).sql
    kind = "response" if is_response(endpoint) else "withdrawal"
    return annotate(out, study, lang=lang,
                    title=t("forest.title.survival", lang, endpoint=t(f"endpoint.{endpoint}", lang)),
                    population=population, n_per_arm=arm_counts(study, sel_sql, sel_params),
                    method=t("forest.method.survival", lang),
                    footnote=t("forest.footnote.survival", lang),
                    filters={k: v for k, v in filters.items() if v is not None},
                    endpoint=endpoint, kind=f"survival_{kind}", horizon_years=horizon_years)




# -- display ------------------------------------------------------------------------------------

def _ci_text(value: float, low: float, high: float, reason: str, lang: str, scale: float = 1.0,
             digits: int = 2) -> str:
    if value != value:
        return not_estimable(reason or "not_converged", lang)
    if low != low:
        return fmt_number(value * scale, digits, lang)
    return (f"{fmt_number(value * scale, digits, lang)} "
            f"({fmt_number(low * scale, digits, lang)}–{fmt_number(high * scale, digits, lang)})")


def forest_display(df: pd.DataFrame) -> pd.DataFrame:
    """The forest rows as a reader sees them (translated headers; 'not estimable (reason)')."""
    lang = df.attrs.get("lang", "en")
    df = bare(df)  # each column taken from the result would deep-copy its attrs
    survival_kind = "hazard_ratio" in df
    out = pd.DataFrame()
    out[t("forest.col.subgroup", lang)] = df["label"]
    for arm in (REFERENCE_ARM, TEST_ARM):
        out[t("forest.col.n", lang, arm=t(f"arm.{arm}", lang))] = df[f"n_{arm}"].astype(int)
    if survival_kind:
        out[t("forest.col.hr", lang)] = [
            _ci_text(v, lo, hi, r, lang) for v, lo, hi, r in
            zip(df["hazard_ratio"], df["hr_ci_low"], df["hr_ci_high"], df["reason"])]
    else:
        out[t("forest.col.diff", lang)] = [
            t("common.missing_value", lang) if kind == "adjusted"  # an odds ratio only
            else _ci_text(v, lo, hi, r, lang, 100.0, 1) for kind, v, lo, hi, r in
            zip(df["row_kind"], df["diff"], df["diff_ci_low"], df["diff_ci_high"], df["reason"])]
        out[t("forest.col.or", lang)] = [
            _ci_text(v, lo, hi, r, lang) for v, lo, hi, r in
            zip(df["odds_ratio"], df["or_ci_low"], df["or_ci_high"], df["reason"])]
    out[t("forest.col.interaction", lang)] = [
        "" if kind != "level" else (fmt_p(p, lang) if p == p else not_estimable(r, lang))
        for kind, p, r in zip(df["row_kind"], df["interaction_p"], df["interaction_reason"])]
    return out
