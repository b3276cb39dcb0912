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

from .annotate import annotate, arm_counts
from .i18n import fmt_number, fmt_p, fmt_percent, t
from .measures import RESPONSE_ENDPOINTS
from .population import select
from .schema import ARMS
from .stats import clopper_pearson, fisher_exact_p, newcombe_diff_ci

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


def _counts(study, endpoint: str, population: str, **filters) -> pd.DataFrame:
    """Responders and denominator per arm and time point (every arm x time point appears)."""
    check_population(population)
    expr = _check_endpoint(endpoint)
    sel_sql, sel_params = select(population, **filters).sql
    sql = f"""
    WITH sel AS ({sel_sql}),
    arms AS (SELECT unnest(?::VARCHAR[]) AS arm),
    tp AS (SELECT visit, any_value(visit_order) AS visit_order, any_value(years) AS years
           FROM visit_measures WHERE visit <> 'BL' GROUP BY visit),
    resp AS (SELECT v.subject_id, v.visit, ({expr}) AS r
             FROM visit_measures v WHERE v.subject_id IN (SELECT subject_id FROM sel)),
    grid AS (SELECT s.subject_id, s.arm, tp.visit FROM sel s CROSS JOIN tp),
    agg AS (SELECT g.arm, g.visit,
                   count_if(coalesce(r.r, FALSE)) AS responders,
                   CASE WHEN ? THEN count(*) ELSE count(r.r) END AS n
            FROM grid g LEFT JOIN resp r ON r.subject_id = g.subject_id AND r.visit = g.visit
            GROUP BY g.arm, g.visit)
    SELECT arms.arm, tp.visit AS timepoint, tp.years, tp.visit_order,
           coalesce(agg.responders, 0)::INTEGER AS responders, coalesce(agg.n, 0)::INTEGER AS n
    FROM arms CROSS JOIN tp
    LEFT JOIN agg ON agg.arm = arms.arm AND agg.visit = tp.visit
    ORDER BY tp.visit_order, arms.arm
    """
    params = [*sel_params, list(ARMS), population == "nri"]
    return study.query(sql, params)


def _meta(study, endpoint: str, population: str, lang: str, kind: str, **filters) -> dict:
    sel_sql, sel_params = select(population, **filters).sql
    name = t(f"endpoint.{endpoint}", lang)
    method = t("efficacy.method.rates", lang)
    if kind == "compare":
        method = t("efficacy.method.compare", lang)
    return dict(
        title=t(f"efficacy.title.{kind}", lang, endpoint=name),
        population=population,
        n_per_arm=arm_counts(study, sel_sql, sel_params),
        method=method,
        footnote=t(f"efficacy.footnote.{population}", lang),
        endpoint=endpoint,
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
        Subgroup filters (see :func:`analytics.population.select`).

    Returns
    -------
    DataFrame
        Columns ``arm, timepoint, years, responders, n, rate, ci_low, ci_high``; rate and limits
        are proportions (0–1), ``nan`` when ``n == 0``.
    """
    df = _counts(study, endpoint, population, **filters)
    limits = [clopper_pearson(int(k), int(n)) for k, n in zip(df["responders"], df["n"])]
    df["rate"] = [k / n if n else float("nan") for k, n in zip(df["responders"], df["n"])]
    df["ci_low"] = [lo for lo, _ in limits]
    df["ci_high"] = [hi for _, hi in limits]
    df = df[["arm", "timepoint", "years", "responders", "n", "rate", "ci_low", "ci_high"]]
    df = df.reset_index(drop=True)
    return annotate(df, study, lang=lang,
                    **_meta(study, endpoint, population, lang, "rates", **filters))


def compare_rates(study, endpoint: str, population: str = "completers", lang: str = "en",
                  **filters) -> pd.DataFrame:
    """Between-arm comparison per time point: rates, difference with Newcombe CI, Fisher p.

    Returns
    -------
    DataFrame
        One row per time point: ``timepoint, years``, then per arm ``responders_<ARM>, n_<ARM>,
        rate_<ARM>, ci_low_<ARM>, ci_high_<ARM>``, then ``diff`` (MSC_IFNG − MSC),
        ``diff_ci_low, diff_ci_high`` and ``p_value`` (two-sided Fisher exact).
    """
    rates = response_rates(study, endpoint, population, lang=lang, **filters)
    rows = []
    for (tp, years), g in rates.groupby(["timepoint", "years"], sort=False):
        by_arm = g.set_index("arm")
        row = {"timepoint": tp, "years": years}
        for arm in ARMS:
            for col in ("responders", "n", "rate", "ci_low", "ci_high"):
                row[f"{col}_{arm}"] = by_arm.at[arm, col]
        k1, n1 = int(row[f"responders_{REFERENCE_ARM}"]), int(row[f"n_{REFERENCE_ARM}"])
        k2, n2 = int(row[f"responders_{TEST_ARM}"]), int(row[f"n_{TEST_ARM}"])
        row["diff"], row["diff_ci_low"], row["diff_ci_high"] = newcombe_diff_ci(k1, n1, k2, n2)
        row["p_value"] = fisher_exact_p(k1, n1, k2, n2) if n1 and n2 else float("nan")
        rows.append(row)
    df = pd.DataFrame(rows)
    return annotate(df, study, lang=lang,
                    **_meta(study, endpoint, population, lang, "compare", **filters))


# -- display ----------------------------------------------------------------------------------
def percent_points(value: float, lang: str = "en") -> str:
    """A proportion (0–1) shown in percentage points, one decimal."""
    return fmt_number(value * 100 if value == value else value, 1, lang)


def comparison_display(df: pd.DataFrame) -> pd.DataFrame:
    """The comparison as a reader sees it: n/N (%) [95 % CI] per arm, difference, p; translated
    headers. ``df`` is a :func:`compare_rates` frame."""
    lang = df.attrs.get("lang", "en")
    out = pd.DataFrame()
    out[t("efficacy.col.timepoint", lang)] = [t(f"visit.{v}", lang) for v in df["timepoint"]]
    for arm in ARMS:
        arm_name = t(f"arm.{arm}", lang)
        out[t("efficacy.col.arm_rate", lang, arm=arm_name)] = [
            f"{int(k)}/{int(n)} ({fmt_percent(r * 100, 1, lang)})" if n
            else t("common.missing_value", lang)
            for k, n, r in zip(df[f"responders_{arm}"], df[f"n_{arm}"], df[f"rate_{arm}"])]
        out[t("efficacy.col.arm_ci", lang, arm=arm_name)] = [
            f"{percent_points(lo, lang)}–{percent_points(hi, lang)}" if lo == lo
            else t("common.missing_value", lang)
            for lo, hi in zip(df[f"ci_low_{arm}"], df[f"ci_high_{arm}"])]
    out[t("efficacy.col.diff", lang)] = [percent_points(d, lang) for d in df["diff"]]
    out[t("efficacy.col.diff_ci", lang)] = [
        t("efficacy.range", lang, low=percent_points(lo, lang), high=percent_points(hi, lang))
        if lo == lo else t("common.missing_value", lang)
        for lo, hi in zip(df["diff_ci_low"], df["diff_ci_high"])]
    out[t("efficacy.col.p", lang)] = [fmt_p(p, lang) for p in df["p_value"]]
    return out
