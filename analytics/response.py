"""Response rates per arm and time point, and the between-arm comparison (the paper's Table 3).

Counting rules (stated in every footnote):

* **Completers** (``status = 'completed'``): at each time point, the subjects with an observed
  response (TRUE/FALSE in ``visit_measures``); a missed visit or a not-evaluable response
  (NULL) leaves the denominator.
* **NRI** (non-responder imputation): every subject of the selection; a subject without an
  observed response at the time point (withdrawn, missed visit, not evaluable) counts as a
  non-responder, so the denominator is the whole arm at every time point.
* **Time points**: the post-baseline visits with any data in the study (M1 ... Y7).

Counting is done in DuckDB with bound parameters; intervals and tests come from
:mod:`analytics.stats`: Clopper–Pearson exact 95 % CI per proportion, Newcombe hybrid score 95 %
CI for the difference MSC + IFN-γ − MSC, two-sided Fisher exact test.
"""
from __future__ import annotations

import pandas as pd

from .annotate import annotate, arm_counts, bare
from .i18n import fmt_number, fmt_p, fmt_percent, t
from .measures import RESPONSE_COLUMNS, RESPONSE_ENDPOINTS
from .population import follow_up_sql, select
from .schema import ARMS, POST_BASELINE_VISITS
from .caution import (CAUTION_MARK, needs_caution, not_estimable, small_numbers_note,
                      untestable_reason)
from .stats import clopper_pearson, fisher_exact_p, holm_adjust, newcombe_diff_ci

EFFICACY_POPULATIONS = ("completers", "nri")
REFERENCE_ARM, TEST_ARM = "MSC", "MSC_IFNG"  # diff = TEST_ARM − REFERENCE_ARM

ENDPOINTS = RESPONSE_ENDPOINTS  # defined with the derived measures


def check_population(population: str) -> None:
    if population not in EFFICACY_POPULATIONS:
        raise ValueError(f"efficacy population must be one of {EFFICACY_POPULATIONS}, "
                         f"got {population!r}")


def _check_endpoint(endpoint: str) -> str:
    if endpoint not in ENDPOINTS:
        raise ValueError(f"unknown endpoint {endpoint!r}; expected one of {tuple(ENDPOINTS)}")
    return ENDPOINTS[endpoint]


def study_timepoints(study) -> list[str]:
    """The post-baseline visits with any data in the study, in visit order (asked once per open
    study: every response analysis needs them)."""
    present = set(study.fact("SELECT DISTINCT visit FROM visits")["visit"])
    return [v for v in POST_BASELINE_VISITS if v in present]


def _counts(study, endpoints: list[str], population: str, **filters) -> pd.DataFrame:
    """Responders, denominator and subjects whose follow-up had ended, per endpoint, arm and
    time point (every endpoint x arm x time point appears), in one query for all ``endpoints``.
    The follow-up rule is :func:`analytics.population.follow_up_sql`."""
    check_population(population)
    exprs = [_check_endpoint(endpoint) for endpoint in endpoints]
    sel_sql, sel_params = select(population, **filters).sql
    timepoints = study_timepoints(study)
    fu_sql, fu_params = follow_up_sql(timepoints, measures=RESPONSE_COLUMNS)
    endpoint_values = ", ".join("(?, ?)" for _ in endpoints)
    response_cases = " ".join(f"WHEN ? THEN ({expr})" for expr in exprs)
    sql = f"""
    WITH sel AS ({sel_sql}),
    {fu_sql},
    endpoints(endpoint, endpoint_order) AS (VALUES {endpoint_values}),
    arms AS (SELECT unnest(?::VARCHAR[]) AS arm),
    -- each subject's visit joined once, with the follow-up, then read per endpoint (joining
    -- per endpoint on three keys was most of the time on a large cohort)
    resp AS (SELECT e.endpoint, f.arm, f.timepoint, f.state,
                    CASE e.endpoint {response_cases} END AS r
             FROM follow_up f CROSS JOIN endpoints e),
    agg AS (SELECT endpoint, arm, timepoint,
                   count_if(coalesce(r, FALSE)) AS responders,
                   -- NRI: all but those whose follow-up had ended; completers: observed responses
                   CASE WHEN ? THEN count_if(state <> 'ended') ELSE count(r) END AS n,
                   count_if(state = 'ended') AS n_ended
            FROM resp
            GROUP BY endpoint, arm, timepoint)
    SELECT e.endpoint, arms.arm, tp.timepoint, tp.months / 12.0 AS years, tp.visit_order,
           coalesce(agg.responders, 0)::INTEGER AS responders, coalesce(agg.n, 0)::INTEGER AS n,
           coalesce(agg.n_ended, 0)::INTEGER AS n_ended
    FROM endpoints e CROSS JOIN arms CROSS JOIN tp
    LEFT JOIN agg ON agg.endpoint = e.endpoint AND agg.arm = arms.arm
                  AND agg.timepoint = tp.timepoint
    ORDER BY e.endpoint_order, tp.visit_order, arms.arm
    """
    params = [*sel_params, *fu_params,
              *[v for order, endpoint in enumerate(endpoints) for v in (endpoint, order)],
              list(ARMS), *endpoints, population == "nri"]
    return study.query(sql, params)


def ended_note(df: pd.DataFrame, lang: str) -> str:
    """The NRI footnote's count of subjects who left the denominator because their follow-up
    had ended, per time point and arm ('' when none did). ``df`` has ``arm, timepoint,
    n_ended``."""
    # time point -> arm -> n_ended; a frame per group would deep-copy the frame's attrs each time
    by_timepoint: dict = {}
    for tp, arm, n_ended in zip(df["timepoint"], df["arm"], df["n_ended"]):
        by_timepoint.setdefault(tp, {})[arm] = n_ended
    parts = []
    for tp, ended in by_timepoint.items():
        if sum(ended.values()):
            parts.append(t("efficacy.footnote.ended_at", lang, timepoint=t(f"visit.{tp}", lang),
                           msc=int(ended.get("MSC", 0)), ifng=int(ended.get("MSC_IFNG", 0))))
    if not parts:
        return ""
    return t("efficacy.footnote.ended", lang,
             counts=t("common.list_separator", lang).join(parts))


def _meta(study, endpoint: str, population: str, lang: str, kind: str, counts: pd.DataFrame,
          **filters) -> dict:
    sel_sql, sel_params = select(population, **filters).sql
    name = t(f"endpoint.{endpoint}", lang)
    method = t("efficacy.method.rates", lang)
    if kind == "compare":
        method = t("efficacy.method.compare", lang)
    footnote = [t(f"efficacy.footnote.{population}", lang)]
    if population == "nri":
        footnote.append(ended_note(counts, lang))
    return dict(
        title=t(f"efficacy.title.{kind}", lang, endpoint=name),
        population=population,
        n_per_arm=arm_counts(study, sel_sql, sel_params),
        method=method,
        footnote=" ".join(p for p in footnote if p),
        endpoint=endpoint,
        filters=filters,
    )


def response_rates(study, endpoint: str, population: str = "completers", lang: str = "en",
                   **filters) -> pd.DataFrame:
    """Response rate per arm and post-baseline time point with Clopper–Pearson 95 % CIs.

    Parameters
    ----------
    study : analytics.Study
    endpoint : str
        One of :data:`ENDPOINTS` (ACR20, ACR50, ACR70, DAS28_REM, DAS28_LDA, EULAR, HAQ_MCID).
    population : str
        ``'completers'`` or ``'nri'``.
    lang : str
        Language of ``attrs`` texts.
    **filters
        Subgroup filters and ``comparison`` (see :func:`analytics.population.select`).

    Returns
    -------
    DataFrame
        Columns ``arm, timepoint, years, responders, n, n_ended, rate, ci_low, ci_high``; rate
        and limits are proportions (0–1), ``nan`` when ``n == 0``. ``n_ended``: subjects whose
        follow-up had ended before the time point (under NRI they leave ``n``).
    """
    return response_rates_by_endpoint(study, [endpoint], population, lang=lang,
                                      **filters)[endpoint]


def response_rates_by_endpoint(study, endpoints: list[str], population: str = "completers",
                               lang: str = "en", **filters) -> dict[str, pd.DataFrame]:
    """:func:`response_rates` of each of ``endpoints`` (the same frames), counted in one query:
    for a page that shows several endpoints at once."""
    counts = _counts(study, list(dict.fromkeys(endpoints)), population, **filters)
    out = {}
    for endpoint, df in counts.groupby("endpoint", sort=False):
        limits = [clopper_pearson(int(k), int(n)) for k, n in zip(df["responders"], df["n"])]
        df = df.copy()
        df["rate"] = [k / n if n else float("nan") for k, n in zip(df["responders"], df["n"])]
        df["ci_low"] = [lo for lo, _ in limits]
        df["ci_high"] = [hi for _, hi in limits]
        df = df[["arm", "timepoint", "years", "responders", "n", "n_ended", "rate", "ci_low",
                 "ci_high"]]
        df = df.reset_index(drop=True)
        out[endpoint] = annotate(df, study, lang=lang,
                                 **_meta(study, endpoint, population, lang, "rates", df,
                                         **filters))
    return out


def compare_rates(study, endpoint: str, population: str = "completers", lang: str = "en",
                  **filters) -> pd.DataFrame:
    """Between-arm comparison per time point: rates, difference with Newcombe CI, Fisher p
    (nominal) and Holm-adjusted p across the time points.

    Small numbers (:mod:`analytics.caution`): where an arm has fewer than
    ``MIN_ARM_FOR_TEST`` subjects at a time point, the difference's CI and the p-values are NaN
    and ``not_estimable`` names the reason; fewer than ``CAUTION_ARM_BELOW`` sets ``caution``.

    Returns
    -------
    DataFrame
        One row per time point: ``timepoint, years``, then per arm ``responders_<ARM>, n_<ARM>,
        n_ended_<ARM>, rate_<ARM>, ci_low_<ARM>, ci_high_<ARM>``, then ``diff`` (MSC_IFNG − MSC),
        ``diff_ci_low, diff_ci_high``, ``p_value`` (two-sided Fisher exact, nominal),
        ``p_holm`` (Holm across the time points with a test), ``not_estimable`` (reason code or
        '') and ``caution`` (bool).
    """
    # asked of the study: the dashboard's memoising study then counts the rates (also on the
    # response page) once
    rates = study.response_rates(endpoint, population, lang=lang, **filters)
    return compare_computed_rates(study, rates, endpoint, population, lang=lang, **filters)


def compare_computed_rates(study, rates: pd.DataFrame, endpoint: str,
                           population: str = "completers", lang: str = "en",
                           **filters) -> pd.DataFrame:
    """:func:`compare_rates` from ``rates``, the :func:`response_rates` frame of the same
    endpoint, population and filters already computed (so a caller that shows both counts
    once)."""
    counts = bare(rates)
    # the columns as arrays and each (time point, years, arm) row's position: a frame look-up
    # per cell (groupby, set_index, .at) cost more than the statistics
    columns = ("responders", "n", "n_ended", "rate", "ci_low", "ci_high")
    values = {col: counts[col].to_numpy() for col in columns}
    position: dict = {}
    for i, key in enumerate(zip(counts["timepoint"], counts["years"], counts["arm"])):
        position.setdefault(key, i)
    rows = []
    for tp, years in dict.fromkeys(zip(counts["timepoint"], counts["years"])):
        row = {"timepoint": tp, "years": years}
        for arm in ARMS:
            i = position[(tp, years, arm)]
            for col in columns:
                row[f"{col}_{arm}"] = values[col][i]
        k1, n1 = int(row[f"responders_{REFERENCE_ARM}"]), int(row[f"n_{REFERENCE_ARM}"])
        k2, n2 = int(row[f"responders_{TEST_ARM}"]), int(row[f"n_{TEST_ARM}"])
        row["diff"], row["diff_ci_low"], row["diff_ci_high"] = newcombe_diff_ci(k1, n1, k2, n2)
        row["p_value"] = fisher_exact_p(k1, n1, k2, n2) if n1 and n2 else float("nan")
        n_per_arm = {REFERENCE_ARM: n1, TEST_ARM: n2}
        reason = untestable_reason(n_per_arm)
        if reason:
            row["diff_ci_low"] = row["diff_ci_high"] = row["p_value"] = float("nan")
        row["not_estimable"] = reason
        row["caution"] = not reason and needs_caution(n_per_arm)
        rows.append(row)
    df = pd.DataFrame(rows)
    df.insert(df.columns.get_loc("p_value") + 1, "p_holm", holm_adjust(df["p_value"]))
    meta = _meta(study, endpoint, population, lang, "compare", rates, **filters)
    meta["footnote"] = " ".join(p for p in (meta["footnote"], _compare_note(df, lang)) if p)
    return annotate(df, study, lang=lang, **meta)


def _compare_note(df: pd.DataFrame, lang: str) -> str:
    """Multiplicity and small-number sentences for a comparison's footnote."""
    tested = int(df["p_value"].notna().sum())
    return " ".join(p for p in (t("efficacy.footnote.nominal", lang, k=tested),
                                small_numbers_note(df, lang)) if p)


# -- display ----------------------------------------------------------------------------------
def percent_points(value: float, lang: str = "en") -> str:
    """A proportion (0–1) shown in percentage points, one decimal."""
    return fmt_number(value * 100 if value == value else value, 1, lang)


def comparison_display(df: pd.DataFrame, adjusted: bool = False) -> pd.DataFrame:
    """The comparison as a reader sees it: n/N (%) [95 % CI] per arm, difference, p; translated
    headers. ``df`` is a :func:`compare_rates` frame; ``adjusted`` shows the Holm-adjusted p
    instead of the nominal one. A time point where an arm is small carries
    :data:`CAUTION_MARK`; what cannot be estimated says so and why."""
    lang = df.attrs.get("lang", "en")
    df = bare(df)  # each column taken from the result would deep-copy its attrs
    missing = t("common.missing_value", lang)
    reasons = [not_estimable(r, lang) if r else "" for r in df["not_estimable"]]
    out = pd.DataFrame()
    out[t("efficacy.col.timepoint", lang)] = [
        t(f"visit.{v}", lang) + (f" {CAUTION_MARK}" if c else "")
        for v, c in zip(df["timepoint"], df["caution"])]
    for arm in ARMS:
        arm_name = t(f"arm.{arm}", lang)
        out[t("efficacy.col.arm_rate", lang, arm=arm_name)] = [
            f"{int(k)}/{int(n)} ({fmt_percent(r * 100, 1, lang)})" if n else missing
            for k, n, r in zip(df[f"responders_{arm}"], df[f"n_{arm}"], df[f"rate_{arm}"])]
        out[t("efficacy.col.arm_ci", lang, arm=arm_name)] = [
            f"{percent_points(lo, lang)}–{percent_points(hi, lang)}" if lo == lo else missing
            for lo, hi in zip(df[f"ci_low_{arm}"], df[f"ci_high_{arm}"])]
    out[t("efficacy.col.diff", lang)] = [percent_points(d, lang) for d in df["diff"]]
    out[t("efficacy.col.diff_ci", lang)] = [
        t("efficacy.range", lang, low=percent_points(lo, lang), high=percent_points(hi, lang))
        if lo == lo else (why or missing)
        for lo, hi, why in zip(df["diff_ci_low"], df["diff_ci_high"], reasons)]
    p_col, header = ("p_holm", "efficacy.col.p_holm") if adjusted else ("p_value", "efficacy.col.p")
    out[t(header, lang)] = [fmt_p(p, lang) if p == p else (why or missing)
                            for p, why in zip(df[p_col], reasons)]
    return out
