"""Table 1: baseline characteristics per arm, with the between-arm test."""
from __future__ import annotations

from types import SimpleNamespace

import pandas as pd

from .annotate import annotate, arm_counts
from .caution import arms_too_small, not_estimable, small_arm_caution
from .i18n import fmt_p, t
from .population import select
from .schema import ARMS
from .stats import fisher_exact_p, welch_t_p

# (characteristic, subject_info column or SQL expression, kind, display decimals of the mean or
# percent, of the SD) -- the precision the paper's Table 1 prints.
CHARACTERISTICS: list[tuple[str, str, str, int, int]] = [
    ("female", "(sex = 'F')::INTEGER", "count", 1, 0),
    ("age", "age", "mean", 1, 1),
    ("ra_duration_years", "ra_duration_years", "mean", 2, 1),
    ("das28_esr", "bl_das28_esr", "mean", 2, 2),
    ("haq_di", "bl_haq_di", "mean", 2, 2),
    ("esr", "bl_esr", "mean", 2, 2),
    ("crp", "bl_crp", "mean", 2, 2),
    ("rf_positive", "rf_positive", "count", 1, 0),
    ("anti_ccp_positive", "anti_ccp_positive", "count", 1, 0),
    ("prior_csdmard", "prior_csdmard", "count", 0, 0),
    ("prior_bdmard", "prior_bdmard", "count", 0, 0),
    ("prior_nsaid", "prior_nsaid", "count", 0, 0),
    ("prior_prednisone", "prior_prednisone", "count", 0, 0),
]


def baseline(study, population: str = "completers", lang: str = "en", **filters) -> pd.DataFrame:
    """Baseline characteristics, one row per characteristic and arm.

    Columns: ``characteristic``, ``label``, ``arm``, ``n`` (subjects with a value), ``mean``,
    ``sd``, ``count``, ``percent``, ``display`` (mean ± SD or n (%)), ``p_value`` (Welch t-test
    for means, Fisher's exact test for counts; the same on both rows of a characteristic) and
    ``p_reason``: when an arm has fewer than :data:`analytics.caution.MIN_ARM_FOR_TEST` subjects
    no test is done, ``p_value`` is NaN and ``p_reason`` the not-estimable code (else '').
    Below :data:`analytics.caution.CAUTION_ARM_BELOW` the footnote and ``attrs["caution"]`` carry
    the small-arm caution.
    """
    sel = select(population, **filters)
    sql, params = sel.sql
    n_per_arm = {arm: arm_counts(study, sql, params).get(arm, 0) for arm in ARMS}
    p_reason = ""
    if min(n_per_arm.values()) == 0:
        p_reason = "no_subjects"
    elif arms_too_small(n_per_arm):
        p_reason = "arm_too_small"
    # every characteristic's n, mean, SD and sum per arm in one scan (one UNION ALL branch per
    # characteristic cost DuckDB more to plan than to run)
    aggregates = ", ".join(
        f"count({expr}) AS n_{i}, avg({expr}) AS mean_{i}, stddev_samp({expr}) AS sd_{i}, "
        f"sum({expr}) AS count_{i}" for i, (_, expr, *_) in enumerate(CHARACTERISTICS))
    df = study.query(f"SELECT arm, {aggregates} FROM ({sql}) GROUP BY arm", params)
    by_name: dict = {}  # characteristic -> arm -> its n, mean, sd, count
    for values in df.to_dict("records"):
        for i, (name, *_) in enumerate(CHARACTERISTICS):
            by_name.setdefault(name, {})[values["arm"]] = SimpleNamespace(
                **{stat: values[f"{stat}_{i}"] for stat in ("n", "mean", "sd", "count")})
    rows = []
    for name, _, kind, decimals, sd_decimals in CHARACTERISTICS:
        by_arm = by_name.get(name, {})
        a, b = by_arm.get(ARMS[0]), by_arm.get(ARMS[1])
        if p_reason:
            p = float("nan")
        elif kind == "mean":
            p = welch_t_p(a.mean, a.sd, a.n, b.mean, b.sd, b.n) if a and b else float("nan")
        else:
            p = fisher_exact_p(int(a.count), int(a.n), int(b.count), int(b.n)) \
                if a and b else float("nan")
        for arm in ARMS:
            r = by_arm.get(arm)
            n = int(r.n) if r else 0
            row = {"characteristic": name, "label": t(f"baseline.{name}", lang), "arm": arm,
                   "n": n, "mean": None, "sd": None, "count": None, "percent": None,
                   "p_value": p, "p_reason": p_reason,
                   "p_display": t("not_estimable.short", lang) if p_reason else fmt_p(p, lang)}
            if r is not None and kind == "mean":
                # one subject has no SD: show the dash, never "nan"
                sd = (f"{r.sd:.{sd_decimals}f}" if pd.notna(r.sd)
                      else t("common.missing_value", lang))
                row.update(mean=float(r.mean), sd=float(r.sd),
                           display=f"{r.mean:.{decimals}f} ± {sd}")
            elif r is not None:
                count = int(r.count)
                pct = 100 * count / n if n else float("nan")
                row.update(count=count, percent=pct, display=f"{count} ({pct:.{decimals}f})")
            else:
                row["display"] = t("common.missing_value", lang)
            rows.append(row)
    out = pd.DataFrame(rows)
    caution = small_arm_caution(n_per_arm, lang)
    footnote = [t("baseline.footnote", lang), caution]
    if p_reason:
        footnote.append(t("baseline.no_test", lang, reason=not_estimable(p_reason, lang)))
    return annotate(out, study, lang=lang, title=t("baseline.title", lang),
                    population=population, n_per_arm=n_per_arm,
                    method=t("baseline.method", lang),
                    footnote=" ".join(f for f in footnote if f), caution=caution,
                    filters=filters)


def baseline_display(table: pd.DataFrame, lang: str = "en") -> pd.DataFrame:
    """Table 1 as printed: one row per characteristic, a column per arm (N in the header), p."""
    display = (table.pivot(index=["characteristic", "label"], columns="arm", values="display")
               .reset_index())
    p = table.drop_duplicates("characteristic").set_index("characteristic")["p_display"]
    display["p"] = display["characteristic"].map(p)
    order = {c: i for i, c in enumerate(table.characteristic.unique())}
    display = display.sort_values("characteristic", key=lambda s: s.map(order))
    n = table.attrs["n_per_arm"]
    return display.drop(columns="characteristic").rename(columns={
        "label": t("baseline.characteristic", lang),
        "MSC": f"{t('arm.MSC', lang)} (N = {n['MSC']})",
        "MSC_IFNG": f"{t('arm.MSC_IFNG', lang)} (N = {n['MSC_IFNG']})",
        "p": t("baseline.p_value", lang)})
