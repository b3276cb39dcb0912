"""Exposure-adjusted adverse-event rates (the paper's Table 2), by MedDRA term and by year.

Counting rules (stated in every footnote):

* **Exposure** runs from the MSC infusion to the last safety assessment (``subject_info``), in
  years of 365.25 days. In a year window ``[start, end)`` a subject contributes
  ``max(0, min(end, exposure_end) - start)`` person-years (PY).
* **Events** count in a window when their onset (days since infusion / 365.25) lies in
  ``[start, end)``. Without a window (``years=None``) the window is ``[0, ∞)``: every event with
  onset on or after the infusion day.
* **N** (the denominator of the percentage) is the subjects at risk in the window: everyone for a
  window starting at 0, else those whose exposure runs past the window start.
* **Rate** = events / PY × 100 with the exact Garwood (chi-square) Poisson 95 % CI; **rate ratio**
  MSC + IFN-γ over MSC with the exact conditional (binomial) 95 % CI (:mod:`analytics.stats`).

All counting and summing is done in DuckDB with bound parameters; the confidence limits come from
:mod:`analytics.stats`. Each function returns a tidy frame (one row per group and arm) whose
``attrs`` carry title, population, N per arm, method and footnote in the language asked for.
"""
from __future__ import annotations

import math

import pandas as pd

from .annotate import annotate, arm_counts
from .caution import MIN_ARM_FOR_TEST, not_estimable, small_arm_caution
from .empty_tables import no_events_note
from .i18n import t, term
from .population import select
from .schema import ARMS, DAYS_PER_YEAR
from .stats import poisson_rate_ci, rate_ratio_ci

POPULATION = "safety"
REFERENCE_ARM, TEST_ARM = "MSC", "MSC_IFNG"  # rate ratio = TEST_ARM / REFERENCE_ARM
PER = 100  # rates per 100 person-years

INFECTION_SOC = "Infections and infestations"
WITHDRAWAL_REASON_AE = "adverse_event"

# The rows of Table 2, in order: code -> (SQL condition on an event row ``e``, bound parameters).
# ``e`` carries the adverse_events columns plus the subject's withdrawal_reason/withdrawal_date.
# Text comparisons are case-insensitive so that 'Fatal' and 'fatal' both count.
CATEGORIES: dict[str, tuple[str, list]] = {
    "any": ("TRUE", []),
    "serious": ("e.serious = 1", []),
    # The AE that led to withdrawal: see NOT_RECOVERED below; ``wd_ids`` is built in ``_counts``.
    "withdrawal": ("e.ae_id IN (SELECT ae_id FROM wd_ids)", []),
    "infection": ("(e.soc = ? OR lower(e.category) = ?)", [INFECTION_SOC, "infection"]),
    "serious_infection": ("(e.soc = ? OR lower(e.category) = ?) AND e.serious = 1",
                          [INFECTION_SOC, "infection"]),
    "autoimmune": ("lower(e.category) = ?", ["autoimmune disease"]),
    "lymphocyte": ("lower(e.pt) = ?", ["lymphocyte count decreased"]),
    "gvhd": ("(lower(e.pt) LIKE ? OR lower(e.pt) LIKE ?)",
             ["%graft versus host%", "%graft-versus-host%"]),
    "death": ("lower(e.outcome) = ?", ["fatal"]),
}
# AE leading to withdrawal, for a subject who withdrew because of an adverse event: the AEs with
# onset on or before the withdrawal date whose outcome is 'not recovered…'; if the subject has no
# such AE, the last AE with onset on or before the withdrawal date. (The synthetic cohort writes
# exactly one 'not recovered/not resolved' AE, the withdrawal-causing one, per such subject.)
NOT_RECOVERED = "not recovered%"
TERM_LEVELS = ("soc", "pt")
BY_YEAR_CATEGORIES = ("any", "serious")

_NUMERIC = ["n", "events", "subjects", "percent", "person_years", "rate", "ci_low", "ci_high",
            "rate_ratio", "rr_low", "rr_high"]
# the rate columns plus why the rate ratio is not estimable ('' when it is)
_RATE_COLUMNS = [*_NUMERIC, "rr_reason"]


# -- windows ----------------------------------------------------------------------------------
def _check_years(years) -> tuple[float, float]:
    """``years`` as a ``(start, end)`` window in years; ``None`` is ``[0, ∞)``."""
    if years is None:
        return 0.0, math.inf
    try:
        start, end = years
    except (TypeError, ValueError):
        raise ValueError(f"years must be (start, end), got {years!r}") from None
    start = 0.0 if start is None else float(start)
    end = math.inf if end is None else float(end)
    if not (0 <= start < end):
        raise ValueError(f"years window needs 0 <= start < end, got {years!r}")
    return start, end


def follow_up_years(study, population: str = POPULATION, **filters) -> int:
    """Whole years spanned by the longest exposure in the selection (at least 1)."""
    sel_sql, params = select(population, **filters).sql
    # a fact of the open study file: the window control and the analyses ask it on every run
    days = study.fact(f"SELECT max(exposure_days) AS d FROM ({sel_sql})", params)["d"].iloc[0]
    if days is None or pd.isna(days) or days <= 0:
        return 1
    return max(1, math.ceil(float(days) / DAYS_PER_YEAR - 1e-12))


# -- the counting query -----------------------------------------------------------------------
def _counts(study, selection, windows: list[tuple[float, float]], *, categories=None,
            term: str | None = None, serious_only: bool = False) -> pd.DataFrame:
    """Events, subjects with an event, subjects at risk and person-years per window, key and arm.

    Either ``categories`` (codes of :data:`CATEGORIES`; key = category) or ``term`` (``'soc'`` or
    ``'pt'``; key = the MedDRA term, optionally serious events only). Every window x key x arm
    appears, with zeros where nothing happened.
    """
    sel_sql, sel_params = selection.sql
    params: list = []
    sql = [f"WITH sel AS ({sel_sql}),"]
    params += sel_params
    sql.append("""
    win AS (SELECT unnest(?::INTEGER[]) AS w, unnest(?::DOUBLE[]) AS w_start,
                   unnest(?::DOUBLE[]) AS w_end),
    arms AS (SELECT unnest(?::VARCHAR[]) AS arm),
    expo AS (
        SELECT win.w, s.arm, s.subject_id,
               greatest(0.0, least(win.w_end, s.exposure_days / ?) - win.w_start) AS py,
               (win.w_start = 0 OR s.exposure_days / ? > win.w_start) AS at_risk
        FROM sel s CROSS JOIN win),
    ev AS (
        SELECT win.w, s.arm, s.withdrawal_reason, s.withdrawal_date, a.ae_id, a.subject_id,
               a.pt, a.soc, a.onset_date, a.serious, a.outcome, a.category
        FROM adverse_events a
        JOIN sel s ON a.subject_id = s.subject_id
        JOIN win ON datediff('day', s.infusion_date, a.onset_date) / ? >= win.w_start
                AND datediff('day', s.infusion_date, a.onset_date) / ? < win.w_end),
    wd AS (
        SELECT a.ae_id, coalesce(lower(a.outcome) LIKE ?, FALSE) AS not_recovered,
               bool_or(coalesce(lower(a.outcome) LIKE ?, FALSE))
                   OVER (PARTITION BY a.subject_id) AS any_not_recovered,
               row_number() OVER (PARTITION BY a.subject_id
                                  ORDER BY a.onset_date DESC, a.ae_id DESC) AS from_last
        FROM adverse_events a JOIN sel s ON a.subject_id = s.subject_id
        WHERE s.withdrawal_reason = ? AND a.onset_date <= s.withdrawal_date),
    wd_ids AS (SELECT ae_id FROM wd
               WHERE not_recovered OR (NOT any_not_recovered AND from_last = 1)),""")
    params += [list(range(len(windows))), [w[0] for w in windows], [w[1] for w in windows],
               list(ARMS), DAYS_PER_YEAR, DAYS_PER_YEAR, DAYS_PER_YEAR, DAYS_PER_YEAR,
               NOT_RECOVERED, NOT_RECOVERED, WITHDRAWAL_REASON_AE]
    if categories is not None:
        # each event joined to every category whose condition it meets: one join on the codes
        # (a UNION ALL branch per category cost DuckDB more to plan than to run)
        codes = ", ".join("(?)" for _ in categories)
        params += list(categories)
        conditions = []
        for code in categories:
            cond, cond_params = CATEGORIES[code]
            conditions.append(f"WHEN ? THEN {cond}")
            params += [code, *cond_params]
        sql.append(f"""ev_key AS (SELECT k.key, NULL::VARCHAR AS soc, e.* EXCLUDE (soc)
                                  FROM ev e JOIN (VALUES {codes}) k(key)
                                  ON CASE k.key {' '.join(conditions)} END),""")
        sql.append("keys AS (SELECT unnest(?::VARCHAR[]) AS key, "
                   "generate_subscripts(?::VARCHAR[], 1) AS ord, NULL::VARCHAR AS soc),")
        params += [list(categories), list(categories)]
    else:
        if term not in TERM_LEVELS:
            raise ValueError(f"by must be one of {TERM_LEVELS}, got {term!r}")
        column = {"soc": "e.soc", "pt": "e.pt"}[term]  # a fixed column name, never user text
        sql.append(f"""ev_key AS (SELECT {column} AS key, e.* FROM ev e
                                  WHERE (? = FALSE OR e.serious = 1)),""")
        params.append(bool(serious_only))
        sql.append("""keys AS (
            SELECT key, row_number() OVER (ORDER BY count(*) DESC, key) AS ord,
                   CASE WHEN count(DISTINCT soc) = 1 THEN any_value(soc)
                        ELSE string_agg(DISTINCT soc, '; ' ORDER BY soc) END AS soc
            FROM ev_key GROUP BY key),""")
    sql.append("""
    -- person-years added in one order: a parallel sum of doubles varies in its last bits
    ex AS (SELECT w, arm, sum(py ORDER BY subject_id) AS person_years,
                  count(*) FILTER (WHERE at_risk) AS n
           FROM expo GROUP BY w, arm),
    agg AS (SELECT w, arm, key, count(*) AS events, count(DISTINCT subject_id) AS subjects
            FROM ev_key GROUP BY w, arm, key)
    SELECT win.w, win.w_start, win.w_end, keys.key, keys.ord, keys.soc, arms.arm,
           coalesce(ex.n, 0) AS n, coalesce(ex.person_years, 0.0) AS person_years,
           coalesce(agg.events, 0) AS events, coalesce(agg.subjects, 0) AS subjects
    FROM win CROSS JOIN keys CROSS JOIN arms
    LEFT JOIN ex ON ex.w = win.w AND ex.arm = arms.arm
    LEFT JOIN agg ON agg.w = win.w AND agg.arm = arms.arm AND agg.key = keys.key
    ORDER BY win.w, keys.ord, arms.arm""")
    df = study.query("\n".join(sql), params)
    for col in ("n", "events", "subjects"):
        df[col] = df[col].astype("int64")
    df["person_years"] = df["person_years"].astype(float)
    return df


def rate_ratio_reason(n_ref: int, events_ref: int, n_test: int, events_test: int) -> str:
    """Why the rate ratio TEST/REFERENCE cannot be estimated ('' when it can): an arm below
    :data:`analytics.caution.MIN_ARM_FOR_TEST` subjects, no event in either arm, or none in the
    reference arm (the ratio and its upper limit would be infinite)."""
    if min(n_ref, n_test) == 0:
        return "no_subjects"
    if min(n_ref, n_test) < MIN_ARM_FOR_TEST:
        return "arm_too_small"
    if events_ref == 0 and events_test == 0:
        return "no_events"
    if events_ref == 0:
        return "no_reference_events"
    return ""


def _add_rates(df: pd.DataFrame, group: list[str]) -> pd.DataFrame:
    """Percent, rate with exact CI per row; rate ratio TEST/REFERENCE per ``group`` (both rows),
    NaN with ``rr_reason`` where :func:`rate_ratio_reason` says it is not estimable."""
    events, subjects = df["events"].tolist(), df["subjects"].tolist()
    n, person_years = df["n"].tolist(), df["person_years"].tolist()
    pct, rate, low, high = [], [], [], []
    for ev, sub, n_at_risk, py in zip(events, subjects, n, person_years):
        pct.append(100.0 * sub / n_at_risk if n_at_risk > 0 else math.nan)
        r, lo, hi = poisson_rate_ci(int(ev), float(py), per=PER)
        rate.append(r), low.append(lo), high.append(hi)
    df["percent"], df["rate"], df["ci_low"], df["ci_high"] = pct, rate, low, high
    # the rate ratio per group, on plain lists: a pandas look-up per group cost more than the
    # rest of the analysis. Rows of a group in frame order, as groupby(sort=False) gives them;
    # a group with a missing key is left out, as groupby leaves it out.
    keys = list(zip(*(df[column].tolist() for column in group)))
    members: dict = {}
    for row, key in enumerate(keys):
        if not any(k is None or k != k for k in key):
            members.setdefault(key, []).append(row)
    arms = df["arm"].tolist()
    ratio, ratio_low, ratio_high = ([math.nan] * len(df) for _ in range(3))
    reasons = [""] * len(df)
    for rows in members.values():
        ref = next((r for r in rows if arms[r] == REFERENCE_ARM), None)
        test = next((r for r in rows if arms[r] == TEST_ARM), None)
        if ref is None or test is None:
            reason, rr = "no_subjects", None
        else:
            reason = rate_ratio_reason(int(n[ref]), int(events[ref]), int(n[test]),
                                       int(events[test]))
            rr = None if reason else rate_ratio_ci(int(events[ref]), float(person_years[ref]),
                                                   int(events[test]), float(person_years[test]))
        for r in rows:
            reasons[r] = reason
            if rr is not None:
                ratio[r], ratio_low[r], ratio_high[r] = rr
    df["rate_ratio"], df["rr_low"], df["rr_high"] = ratio, ratio_low, ratio_high
    df["rr_reason"] = pd.Series(reasons, index=df.index, dtype=object)   # object when empty too
    return df


# -- reader-facing text -----------------------------------------------------------------------
def _fmt_year(value: float) -> str:
    return "∞" if math.isinf(value) else f"{value:g}"


def window_label(years, lang: str = "en") -> str:
    """The window in words: 'all follow-up' or 'years 1–3'."""
    start, end = _check_years(years)
    if start == 0 and math.isinf(end):
        return t("safety.window.all", lang)
    return t("safety.window.range", lang, start=_fmt_year(start), end=_fmt_year(end))


def _window_note(years, lang: str) -> str:
    start, end = _check_years(years)
    if start == 0 and math.isinf(end):
        return t("safety.footnote.window_all", lang)
    return t("safety.footnote.window", lang, start=_fmt_year(start), end=_fmt_year(end))


def category_label(code: str, lang: str = "en") -> str:
    return t(f"safety.cat.{code}", lang)


def _method(lang: str) -> str:
    return t("safety.method", lang)


def _finish(df, study, selection, *, lang, title, footnote_parts, **extra) -> pd.DataFrame:
    sel_sql, params = selection.sql
    n_per_arm = {arm: arm_counts(study, sel_sql, params).get(arm, 0) for arm in ARMS}
    caution = small_arm_caution(n_per_arm, lang)
    return annotate(df, study, lang=lang, title=title, population=selection.population,
                    n_per_arm=n_per_arm, method=_method(lang),
                    footnote=" ".join(p for p in [*footnote_parts, caution,
                                                  no_events_note(study, "adverse_events", lang)]
                                      if p),
                    caution=caution, filters=selection.keywords, **extra)


# -- analyses ---------------------------------------------------------------------------------
def ae_summary(study, population: str = POPULATION, years=None, lang: str = "en",
               **filters) -> pd.DataFrame:
    """Table 2: per category and arm, events, subjects, %, PY, rate per 100 PY, exact CIs.

    Parameters
    ----------
    study : Study
    population : str
        Normally ``'safety'`` (all treated subjects).
    years : (start, end), optional
        A window of follow-up in years; ``None`` is all follow-up.
    lang : str
    **filters
        Subgroup filters for :func:`analytics.population.select`.

    Returns
    -------
    DataFrame
        One row per category (in :data:`CATEGORIES` order) and arm: ``category``, ``label``,
        ``arm``, ``n``, ``events``, ``subjects``, ``percent``, ``person_years``, ``rate``,
        ``ci_low``, ``ci_high``, and per category ``rate_ratio``, ``rr_low``, ``rr_high``
        (MSC + IFN-γ / MSC, repeated on both arm rows).
    """
    window = _check_years(years)
    selection = select(population, **filters)
    df = _counts(study, selection, [window], categories=list(CATEGORIES))
    df = _add_rates(df, ["key"])
    df = df.rename(columns={"key": "category"})
    df["label"] = [category_label(c, lang) for c in df["category"]]
    df = df[["category", "label", "arm", *_RATE_COLUMNS]].reset_index(drop=True)
    return _finish(df, study, selection, lang=lang,
                   title=t("safety.summary.title", lang, window=window_label(years, lang)),
                   window=window,
                   footnote_parts=[_window_note(years, lang), t("safety.footnote.percent", lang),
                                   t("safety.footnote.categories", lang),
                                   t("safety.footnote.withdrawal", lang)],
                   years=None if years is None else window)


def ae_rates(study, by: str = "soc", serious_only: bool = False, years=None,
             population: str = POPULATION, lang: str = "en", **filters) -> pd.DataFrame:
    """Rates per MedDRA system organ class (``by='soc'``) or preferred term (``by='pt'``).

    Returns
    -------
    DataFrame
        One row per term and arm, terms ordered by total events (most first): ``term``, ``soc``
        (the SOC of a preferred term; equal to ``term`` for ``by='soc'``), ``arm`` and the columns
        of :func:`ae_summary`. Terms without an event in the window do not appear.
    """
    if by not in TERM_LEVELS:
        raise ValueError(f"by must be one of {TERM_LEVELS}, got {by!r}")
    window = _check_years(years)
    selection = select(population, **filters)
    df = _counts(study, selection, [window], term=by, serious_only=serious_only)
    df = _add_rates(df, ["key"])
    df = df.rename(columns={"key": "term"})
    if by == "soc":
        df["soc"] = df["term"]
    df = df[["term", "soc", "arm", *_RATE_COLUMNS]].reset_index(drop=True)
    kind = "serious" if serious_only else "any"
    title = t(f"safety.terms.title.{by}.{kind}", lang, window=window_label(years, lang))
    return _finish(df, study, selection, lang=lang, title=title,
                   footnote_parts=[_window_note(years, lang), t("safety.footnote.percent", lang),
                                   t("safety.footnote.meddra", lang)],
                   by=by, serious_only=bool(serious_only), window=window,
                   years=None if years is None else window)


def ae_rates_by_year(study, population: str = POPULATION, lang: str = "en",
                     **filters) -> pd.DataFrame:
    """AE and SAE rates per 100 PY in each year of follow-up, per arm.

    Windows ``[0, 1), [1, 2), …`` up to the longest exposure in the selection.

    Returns
    -------
    DataFrame
        One row per year, category (``'any'``, ``'serious'``) and arm: ``year`` (1 = first year),
        ``start``, ``end``, ``category``, ``label``, ``arm`` and the columns of
        :func:`ae_summary`.
    """
    selection = select(population, **filters)
    n_years = follow_up_years(study, population, **filters)
    windows = [(float(k), float(k + 1)) for k in range(n_years)]
    df = _counts(study, selection, windows, categories=list(BY_YEAR_CATEGORIES))
    df = _add_rates(df, ["w", "key"])
    df["year"] = df["w"] + 1
    df = df.rename(columns={"key": "category", "w_start": "start", "w_end": "end"})
    df["label"] = [category_label(c, lang) for c in df["category"]]
    df = df[["year", "start", "end", "category", "label", "arm", *_RATE_COLUMNS]]
    df = df.reset_index(drop=True)
    return _finish(df, study, selection, lang=lang, title=t("safety.by_year.title", lang),
                   footnote_parts=[t("safety.footnote.by_year", lang),
                                   t("safety.footnote.categories_short", lang)])


def sae_listing(study, years=None, population: str = POPULATION, lang: str = "en",
                **filters) -> pd.DataFrame:
    """Every serious AE of the selection with onset in the window, one row per event.

    Returns
    -------
    DataFrame
        ``subject_id``, ``arm``, ``ae_id``, ``pt``, ``soc``, ``onset_day`` (days since infusion),
        ``end_day``, ``severity``, ``outcome``, ``category``; ordered by arm, subject, onset.
    """
    start, end = _check_years(years)
    selection = select(population, **filters)
    sel_sql, sel_params = selection.sql
    sql = f"""
    WITH sel AS ({sel_sql})
    SELECT s.subject_id, s.arm, a.ae_id, a.pt, a.soc,
           datediff('day', s.infusion_date, a.onset_date) AS onset_day,
           datediff('day', s.infusion_date, a.end_date) AS end_day,
           a.severity, a.outcome, a.category
    FROM adverse_events a JOIN sel s ON a.subject_id = s.subject_id
    WHERE a.serious = 1
      AND datediff('day', s.infusion_date, a.onset_date) / ? >= ?
      AND datediff('day', s.infusion_date, a.onset_date) / ? < ?
    ORDER BY s.arm, s.subject_id, onset_day, a.ae_id"""
    df = study.query(sql, [*sel_params, DAYS_PER_YEAR, start, DAYS_PER_YEAR, end])
    df["onset_day"] = df["onset_day"].astype("int64")
    df["end_day"] = df["end_day"].astype("Int64")
    return _finish(df, study, selection, lang=lang,
                   title=t("safety.listing.title", lang, window=window_label(years, lang)),
                   window=(start, end),
                   footnote_parts=[t("safety.footnote.listing", lang),
                                   _window_note(years, lang)],
                   years=None if years is None else (start, end))


# -- display copies (translated headers, formatted numbers) -------------------------------------
def _fmt(value: float, decimals: int = 2, lang: str = "en") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return t("common.missing_value", lang)
    if math.isinf(value):
        return "∞"
    return f"{value:,.{decimals}f}"


def _rate_ci(rate, low, high, lang, reason: str = "") -> str:
    if reason:
        return not_estimable(reason, lang)
    if rate is None or (isinstance(rate, float) and math.isnan(rate)):
        return t("common.missing_value", lang)
    return f"{_fmt(rate, 2, lang)} ({_fmt(low, 2, lang)}–{_fmt(high, 2, lang)})"


def _ratio_ci(row, lang) -> str:
    """A rate ratio with its CI, or 'not estimable (why)'."""
    return _rate_ci(row["rate_ratio"], row["rr_low"], row["rr_high"], lang, row["rr_reason"])


def _groups(df: pd.DataFrame, keys: list[str]) -> list[tuple[dict, dict]]:
    """Per group of ``keys`` (in order of appearance, as ``groupby(sort=False)``): its first row
    and its first row per arm, as plain dicts (a pandas look-up per group and arm deep-copies
    the frame's attrs and cost more than the table)."""
    groups: dict = {}
    for row in df.to_dict("records"):
        first, by_arm = groups.setdefault(tuple(row[k] for k in keys), (row, {}))
        by_arm.setdefault(row["arm"], row)
    return list(groups.values())


def summary_display(df: pd.DataFrame) -> pd.DataFrame:
    """Table 2 laid out as in the paper: one row per category, arms side by side."""
    lang = df.attrs.get("lang", "en")
    rows = []
    for first, by_arm in _groups(df, ["category"]):
        row = {t("safety.col.category", lang): first["label"]}
        for arm in ARMS:
            r = by_arm.get(arm)
            if r is None:
                continue
            arm_name = t(f"arm.{arm}", lang)
            row[t("safety.col.arm_events", lang, arm=arm_name)] = int(r["events"])
            row[t("safety.col.arm_subjects", lang, arm=arm_name)] = (
                f"{int(r['subjects'])} ({_fmt(r['percent'], 1, lang)})")
            row[t("safety.col.arm_py", lang, arm=arm_name)] = _fmt(r["person_years"], 2, lang)
            row[t("safety.col.arm_rate", lang, arm=arm_name)] = _rate_ci(
                r["rate"], r["ci_low"], r["ci_high"], lang)
        row[t("safety.col.rate_ratio", lang)] = _ratio_ci(first, lang)
        rows.append(row)
    return pd.DataFrame(rows)


def soc_label(value, lang: str = "en") -> str:
    """A SOC, or the '; '-joined SOCs of a preferred term coded under several, in ``lang``."""
    if not isinstance(value, str):
        return value
    return t("common.list_separator", lang).join(term("soc", v, lang) for v in value.split("; "))


def term_label(value, by: str, lang: str = "en") -> str:
    """A MedDRA term of level ``by`` (``soc`` or ``pt``) in ``lang``."""
    return soc_label(value, lang) if by == "soc" else term(by, value, lang)


def terms_display(df: pd.DataFrame) -> pd.DataFrame:
    """Per-term rates, arms side by side, numeric (so the table sorts by any column)."""
    lang = df.attrs.get("lang", "en")
    by = df.attrs.get("by", "soc")
    out = pd.DataFrame()
    if df.empty:
        return pd.DataFrame(columns=[t(f"safety.col.{by}", lang)])
    terms = df.drop_duplicates("term")[["term", "soc"]].reset_index(drop=True)
    out[t(f"safety.col.{by}", lang)] = [term(by, v, lang) for v in terms["term"]]
    if by == "pt":
        out[t("safety.col.soc", lang)] = [soc_label(v, lang) for v in terms["soc"]]
    for arm in ARMS:
        sub = df[df["arm"] == arm].set_index("term").reindex(terms["term"])
        arm_name = t(f"arm.{arm}", lang)
        out[t("safety.col.arm_events", lang, arm=arm_name)] = sub["events"].to_numpy()
        out[t("safety.col.arm_subjects_n", lang, arm=arm_name)] = sub["subjects"].to_numpy()
        out[t("safety.col.arm_rate_only", lang, arm=arm_name)] = sub["rate"].round(2).to_numpy()
        out[t("safety.col.arm_ci", lang, arm=arm_name)] = [
            f"{_fmt(lo, 2, lang)}–{_fmt(hi, 2, lang)}"
            for lo, hi in zip(sub["ci_low"], sub["ci_high"])]
    first = df.drop_duplicates("term").reset_index(drop=True)
    out[t("safety.col.rate_ratio_only", lang)] = first["rate_ratio"].round(2).to_numpy()
    out[t("safety.col.rr_ci", lang)] = [
        not_estimable(reason, lang) if reason else f"{_fmt(lo, 2, lang)}–{_fmt(hi, 2, lang)}"
        for lo, hi, reason in zip(first["rr_low"], first["rr_high"], first["rr_reason"])]
    return out


def by_year_display(df: pd.DataFrame) -> pd.DataFrame:
    """Rates by year of follow-up: one row per year and category, arms side by side."""
    lang = df.attrs.get("lang", "en")
    rows = []
    for first, by_arm in _groups(df, ["year", "category"]):
        row = {t("safety.col.year", lang): t("safety.year_label", lang, year=int(first["year"])),
               t("safety.col.category", lang): first["label"]}
        for arm in ARMS:
            r = by_arm.get(arm)
            if r is None:
                continue
            arm_name = t(f"arm.{arm}", lang)
            row[t("safety.col.arm_events", lang, arm=arm_name)] = int(r["events"])
            row[t("safety.col.arm_py", lang, arm=arm_name)] = _fmt(r["person_years"], 2, lang)
            row[t("safety.col.arm_rate", lang, arm=arm_name)] = _rate_ci(
                r["rate"], r["ci_low"], r["ci_high"], lang)
        row[t("safety.col.rate_ratio", lang)] = _ratio_ci(first, lang)
        rows.append(row)
    return pd.DataFrame(rows)


def listing_display(df: pd.DataFrame) -> pd.DataFrame:
    """The SAE listing with translated headers, arm names, MedDRA terms and outcomes (a term the
    catalogue does not know is shown as coded)."""
    lang = df.attrs.get("lang", "en")
    out = pd.DataFrame({
        t("safety.col.subject", lang): df["subject_id"],
        t("safety.col.arm", lang): [t(f"arm.{a}", lang) for a in df["arm"]],
        t("safety.col.pt", lang): [term("pt", v, lang) for v in df["pt"]],
        t("safety.col.soc", lang): [term("soc", v, lang) for v in df["soc"]],
        t("safety.col.onset_day", lang): df["onset_day"],
        t("safety.col.end_day", lang): df["end_day"],
        t("safety.col.severity", lang): [t(f"safety.severity.{s}", lang)
                                         if isinstance(s, str) else s for s in df["severity"]],
        t("safety.col.outcome", lang): [term("outcome", v, lang) for v in df["outcome"]],
    })
    return out
