"""Disease-activity clusters: groups of subjects with a similar course of DAS28-ESR, and how each
subject's group changes between periods of follow-up.

Method (stated in the footnote):

* **Course.** DAS28-ESR at the scheduled visits of a window (whole course BL–Y5, or one period:
  core year BL–Y1, years 2–3 M18–Y3, years 4–5 M42–Y5), from the ``visit_measures`` view.
* **Missing visits.** A visit missing *between* two observed visits of the window is filled by
  linear interpolation in time (months since infusion). Nothing is extrapolated: a subject must be
  observed at the window's first and last visit and at least at half of its visits; the others
  are left out and counted by reason.
* **Model.** A Gaussian mixture (scikit-learn ``GaussianMixture``, one covariance matrix shared
  by the clusters (``tied``: a subject's own level makes its visits correlate), 10
  starts, fixed seed) on the vector of DAS28-ESR values; the number of clusters is the one with
  the lowest BIC among 2–5. The silhouette of the chosen partition is reported beside the BIC.
* **Names.** Each cluster is named from its mean trajectory by fixed rules (:func:`shape_of`).
* **Membership per arm.** Counts and % of each arm's clustered subjects; Fisher's exact test for
  two clusters, Pearson's χ² test for more (scipy), under the small-number rules of
  :mod:`analytics.caution`.

This is descriptive: the clusters are found in the data at hand, and the test of membership by
arm does not account for the clusters having been estimated from the same subjects.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats as sps

from .annotate import annotate
from .caution import arms_too_small, not_estimable
from .i18n import fmt_number, t
from .measures import DAS28_LOW
from .population import select
from .response import check_population
from .schema import ARMS, VISIT_MONTHS
from .stats import fisher_exact_p

SEED = 20250642            # fixed: the same data give the same clusters on every run
CLUSTER_RANGE = (2, 3, 4, 5)
N_INIT = 10
MIN_OBSERVED_SHARE = 0.5   # a subject needs observed values at >= half of the window's visits
SILHOUETTE_SAMPLE = 2000
MIN_PER_CLUSTER = 5        # k clusters are tried only with >= 5 k subjects (10 for any clustering)
# Thresholds of the shape rules, in DAS28 units: EULAR's 0.6 (no meaningful change) and 1.2.
NO_CHANGE = 0.6
MEANINGFUL_CHANGE = 1.2

WINDOWS: dict[str, tuple[str, ...]] = {
    "course": ("BL", "M1", "M3", "M6", "Y1", "M18", "Y2", "M30", "Y3", "M42", "Y4", "M54", "Y5"),
    "core": ("BL", "M1", "M3", "M6", "Y1"),
    "years2to3": ("M18", "Y2", "M30", "Y3"),
    "years4to5": ("M42", "Y4", "M54", "Y5"),
}
PERIODS: tuple[str, ...] = ("core", "years2to3", "years4to5")
SHAPES: tuple[str, ...] = ("sustained", "response_then_loss", "slow_response", "partial_response",
                           "no_response", "worsening", "persistent_activity")
EXCLUSION_REASONS: tuple[str, ...] = ("no_first_visit", "ends_before_window", "too_few_visits")


@dataclass
class ClusterResult:
    """The frames of one clustering (all share the annotation in ``attrs``).

    ``membership``: ``subject_id, arm, cluster, shape, label, probability``;
    ``profiles``: ``cluster, shape, label, timepoint, months, n, mean, band_low, band_high``
    (band: interquartile range of the subjects' values);
    ``by_arm``: ``cluster, shape, label, arm, count, n_arm, percent, p_value, test, reason``;
    ``fit``: ``k, bic, silhouette, chosen``;
    ``excluded``: ``reason, arm, count``.
    """

    membership: pd.DataFrame
    profiles: pd.DataFrame
    by_arm: pd.DataFrame
    fit: pd.DataFrame
    excluded: pd.DataFrame


# -- courses -------------------------------------------------------------------------------------

def course_values(study, population: str = "completers", **filters) -> pd.DataFrame:
    """Observed DAS28-ESR of the selected subjects: ``subject_id, arm, timepoint, das28_esr``."""
    check_population(population)
    sel_sql, sel_params = select(population, **filters).sql
    return study.query(f"""
        WITH sel AS ({sel_sql})
        SELECT v.subject_id, sel.arm, v.visit AS timepoint, v.das28_esr
        FROM visit_measures v JOIN sel USING (subject_id)
        WHERE v.das28_esr IS NOT NULL
        ORDER BY v.subject_id, v.visit_order""", sel_params)


def interpolate_courses(values: pd.DataFrame, window: tuple[str, ...]
                        ) -> tuple[pd.DataFrame, pd.Series]:
    """Fixed-length courses over ``window`` and the reason each left-out subject is left out.

    ``values`` has ``subject_id, timepoint, das28_esr`` (observed values only). Returns a frame
    indexed by subject (columns = the window's visits, gaps filled by linear interpolation in
    months between observed visits) and a Series subject -> exclusion reason.
    """
    months = np.array([VISIT_MONTHS[v] for v in window], dtype=float)
    wide = (values[values["timepoint"].isin(window)]
            .pivot_table(index="subject_id", columns="timepoint", values="das28_esr",
                         aggfunc="first")
            .reindex(columns=list(window)))
    all_subjects = pd.Index(values["subject_id"].unique(), name="subject_id")
    wide = wide.reindex(all_subjects)
    rows, reasons = {}, {}
    for subject, row in wide.iterrows():
        observed = row.notna().to_numpy()
        if not observed[0]:
            reasons[subject] = "no_first_visit"
        elif not observed[-1]:
            reasons[subject] = "ends_before_window"
        elif observed.sum() < MIN_OBSERVED_SHARE * len(window):
            reasons[subject] = "too_few_visits"
        else:
            y = row.to_numpy(dtype=float)
            rows[subject] = np.interp(months, months[observed], y[observed])
    courses = pd.DataFrame.from_dict(rows, orient="index", columns=list(window))
    courses.index.name = "subject_id"
    return courses, pd.Series(reasons, dtype=object, name="reason")


# -- model ---------------------------------------------------------------------------------------

def fit_mixture(courses: pd.DataFrame, k_range=CLUSTER_RANGE, seed: int = SEED
                ) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """Gaussian mixtures with k in ``k_range``; the one with the lowest BIC.

    Returns the cluster of each row (numbered 1.. in order of the clusters' mean DAS28-ESR, so
    the numbering does not depend on the fit's arbitrary labels), each row's posterior
    probability of its cluster, and the fit table ``k, bic, silhouette, chosen``.
    """
    from threadpoolctl import threadpool_limits  # installed with scikit-learn

    x = courses.to_numpy(dtype=float)
    fits, rows = {}, []
    with threadpool_limits(1):  # tiny matrices: BLAS threads only contend (30x slower on 2 cores)
        _fit_all(x, k_range, seed, fits, rows)
    fit = pd.DataFrame(rows, columns=["k", "bic", "silhouette"])
    if fit.empty:
        fit["chosen"] = pd.Series(dtype=bool)
        return np.zeros(len(x), dtype=int), np.full(len(x), np.nan), fit
    best = int(fit.loc[fit["bic"].idxmin(), "k"])
    fit["chosen"] = fit["k"] == best
    gm = fits[best]
    raw = gm.predict(x)
    proba = gm.predict_proba(x)[np.arange(len(x)), raw]
    order = np.argsort([x[raw == c].mean() if (raw == c).any() else np.inf
                        for c in range(best)], kind="stable")
    renumber = {int(old): new + 1 for new, old in enumerate(order)}
    return np.array([renumber[int(c)] for c in raw]), proba, fit


def _fit_all(x: np.ndarray, k_range, seed: int, fits: dict, rows: list) -> None:
    from sklearn.metrics import silhouette_score
    from sklearn.mixture import GaussianMixture

    for k in k_range:
        if k * MIN_PER_CLUSTER > len(x):
            continue
        gm = GaussianMixture(n_components=k, covariance_type="tied", n_init=N_INIT,
                             random_state=seed, reg_covar=1e-4).fit(x)
        labels = gm.predict(x)
        # silhouette is O(n²): on large cohorts, a fixed-seed sample of SILHOUETTE_SAMPLE rows
        sample = SILHOUETTE_SAMPLE if len(x) > SILHOUETTE_SAMPLE else None
        sil = (silhouette_score(x, labels, sample_size=sample, random_state=seed)
               if 1 < len(set(labels)) < len(x) else np.nan)
        fits[k] = gm
        rows.append(dict(k=k, bic=float(gm.bic(x)), silhouette=float(sil)))


def shape_of(mean: np.ndarray, from_baseline: bool = True) -> str:
    """The shape of a mean trajectory (first value = the window's start), by fixed rules.

    A window that does not start at baseline (a later period) has no response to speak of:
    a course that neither improves nor worsens by more than 0.6 and stays above 3.2 is
    ``persistent_activity`` there (rather than ``no_response``).

    ``early`` is the mean of the first third of the later visits, ``late`` of the last third:

    * early and late at or below 3.2 (LDA): ``sustained`` (remission/LDA kept);
    * early at or below 3.2, or improved by more than 1.2, and late worse than early by more than
      0.6: ``response_then_loss``;
    * late at or below 3.2 (reached later): ``slow_response``;
    * late worse than the start by more than 0.6: ``worsening``;
    * late better than the start by more than 0.6: ``partial_response``;
    * otherwise ``no_response``.
    """
    start, later = float(mean[0]), np.asarray(mean[1:], dtype=float)
    third = max(1, len(later) // 3)
    early, late = float(later[:third].mean()), float(later[-third:].mean())
    if early <= DAS28_LOW and late <= DAS28_LOW:
        return "sustained"
    if (early <= DAS28_LOW or start - early > MEANINGFUL_CHANGE) and late - early > NO_CHANGE:
        return "response_then_loss"
    if late <= DAS28_LOW:
        return "slow_response"
    if late - start > NO_CHANGE:
        return "worsening"
    if start - late > NO_CHANGE:
        return "partial_response"
    return "no_response" if from_baseline else "persistent_activity"


def _labels(shapes: dict[int, str], lang: str) -> dict[int, str]:
    """Cluster -> its name; two clusters of one shape are told apart by their number."""
    counts = pd.Series(list(shapes.values())).value_counts()
    return {c: (t("clusters.label_numbered", lang, shape=t(f"clusters.shape.{s}", lang), number=c)
                if counts[s] > 1 else t(f"clusters.shape.{s}", lang))
            for c, s in shapes.items()}


# -- membership by arm ---------------------------------------------------------------------------

def membership_test(table: pd.DataFrame) -> tuple[float, str, str]:
    """p of arm × cluster (rows = clusters, columns = arms); the test and a not-estimable reason.

    Two clusters: Fisher's exact test; more: Pearson's χ² without continuity correction.
    """
    n_per_arm = {arm: int(table[arm].sum()) for arm in ARMS}
    if min(n_per_arm.values()) == 0:
        return np.nan, "", "no_subjects"
    if arms_too_small(n_per_arm):
        return np.nan, "", "arm_too_small"
    table = table[table.sum(axis=1) > 0]
    if len(table) < 2:
        return np.nan, "", "no_information"
    if len(table) == 2:
        (a, b), (c, d) = table[list(ARMS)].to_numpy()
        return fisher_exact_p(int(a), int(a + c), int(b), int(b + d)), "fisher", ""
    res = sps.chi2_contingency(table[list(ARMS)].to_numpy(), correction=False)
    return float(res.pvalue), "chi2", ""


# -- the analyses --------------------------------------------------------------------------------

def _cluster_window(values: pd.DataFrame, arms: pd.Series, window: tuple[str, ...], lang: str):
    courses, reasons = interpolate_courses(values, window)
    clusters, proba, fit = fit_mixture(courses)
    if fit.empty:  # too few subjects to cluster: no clusters (the footnote says why)
        courses, clusters, proba = courses.iloc[:0], clusters[:0], proba[:0]
    membership = pd.DataFrame({"subject_id": courses.index,
                               "arm": arms.reindex(courses.index).to_numpy(),
                               "cluster": clusters, "probability": proba})
    profile_rows, shapes = [], {}
    for c in sorted(membership["cluster"].unique()):
        members = courses[membership["cluster"].to_numpy() == c]
        shapes[int(c)] = shape_of(members.mean().to_numpy(), from_baseline=window[0] == "BL")
        for tp in window:
            col = members[tp]
            profile_rows.append(dict(cluster=int(c), timepoint=tp, months=VISIT_MONTHS[tp],
                                     n=len(col), mean=float(col.mean()),
                                     band_low=float(col.quantile(0.25)),
                                     band_high=float(col.quantile(0.75))))
    labels = _labels(shapes, lang)
    membership["shape"] = membership["cluster"].map(shapes)
    membership["label"] = membership["cluster"].map(labels)
    profiles = pd.DataFrame(profile_rows, columns=["cluster", "timepoint", "months", "n", "mean",
                                                   "band_low", "band_high"])
    profiles.insert(1, "shape", profiles["cluster"].map(shapes))
    profiles.insert(2, "label", profiles["cluster"].map(labels))
    excluded = (pd.DataFrame({"reason": reasons, "arm": arms.reindex(reasons.index)})
                .groupby(["reason", "arm"]).size().rename("count").reset_index())
    membership = membership[["subject_id", "arm", "cluster", "shape", "label", "probability"]]
    return membership, profiles, fit, excluded


def _by_arm(membership: pd.DataFrame) -> pd.DataFrame:
    counts = (membership.groupby(["cluster", "arm"]).size().unstack("arm")
              .reindex(columns=list(ARMS)).fillna(0).astype(int))
    p, test, reason = membership_test(counts)
    rows = []
    names = membership.drop_duplicates("cluster").set_index("cluster")
    for c in counts.index:
        for arm in ARMS:
            n_arm = int(counts[arm].sum())
            rows.append(dict(cluster=int(c), shape=names.at[c, "shape"],
                             label=names.at[c, "label"], arm=arm, count=int(counts.at[c, arm]),
                             n_arm=n_arm,
                             percent=100.0 * counts.at[c, arm] / n_arm if n_arm else np.nan,
                             p_value=p, test=test, reason=reason))
    return pd.DataFrame(rows, columns=["cluster", "shape", "label", "arm", "count", "n_arm",
                                       "percent", "p_value", "test", "reason"])


def _footnote(fit: pd.DataFrame, excluded: pd.DataFrame, window: tuple[str, ...], lang: str,
              population: str) -> str:
    chosen = fit[fit["chosen"]]
    parts = [t("clusters.footnote.method", lang, first=t(f"visit.{window[0]}", lang),
               last=t(f"visit.{window[-1]}", lang), share=int(MIN_OBSERVED_SHARE * 100),
               seed=SEED, n_init=N_INIT)]
    if chosen.empty:
        parts.append(not_estimable("too_few_to_cluster", lang))
    if not chosen.empty:
        parts.append(t("clusters.footnote.fit", lang, k=int(chosen["k"].iloc[0]),
                       bic=fmt_number(float(chosen["bic"].iloc[0]), 1, lang),
                       silhouette=fmt_number(float(chosen["silhouette"].iloc[0]), 2, lang),
                       all_bic="; ".join(f"k = {int(k)}: {fmt_number(b, 1, lang)}"
                                         for k, b in zip(fit["k"], fit["bic"]))))
    n_out = int(excluded["count"].sum()) if not excluded.empty else 0
    by_reason = excluded.groupby("reason")["count"].sum() if n_out else pd.Series(dtype=int)
    parts.append(t("clusters.footnote.excluded", lang, n=n_out, reasons="; ".join(
        f"{t(f'clusters.excluded.{r}', lang)}: {int(by_reason.get(r, 0))}"
        for r in EXCLUSION_REASONS)))
    if population == "nri":
        parts.append(t("clusters.footnote.nri", lang))
    parts.append(t("clusters.footnote.descriptive", lang))
    return " ".join(parts)


def _annotated(result: ClusterResult, study, lang: str, population: str, title: str,
               footnote: str, **extra) -> ClusterResult:
    n_per_arm = result.membership.groupby("arm").size().to_dict()
    for frame in vars(result).values():
        annotate(frame, study, lang=lang, title=title, population=population,
                 n_per_arm=n_per_arm, method=t("clusters.method", lang), footnote=footnote,
                 **extra)
    return result


def clusters(study, population: str = "completers", lang: str = "en", **filters
             ) -> ClusterResult:
    """Clusters of the whole DAS28-ESR course (BL–Y5) of the selected subjects.

    ``n_per_arm`` in ``attrs`` counts the clustered subjects; those left out (no extrapolation,
    too few visits) are in ``excluded`` and named in the footnote.
    """
    values = course_values(study, population, **filters)
    arms = _arms(study, population, **filters)
    window = WINDOWS["course"]
    membership, profiles, fit, excluded = _cluster_window(
        values, arms, window, lang)
    excluded = _with_unobserved(excluded, arms, values)
    result = ClusterResult(membership, profiles, _by_arm(membership), fit, excluded)
    return _annotated(result, study, lang, population, t("clusters.title", lang),
                      _footnote(fit, excluded, window, lang, population), filters=filters)


def _arms(study, population: str, **filters) -> pd.Series:
    sel_sql, params = select(population, **filters).sql
    df = study.query(f"SELECT subject_id, arm FROM ({sel_sql})", params)
    return df.set_index("subject_id")["arm"]


def _with_unobserved(excluded: pd.DataFrame, arms: pd.Series, values: pd.DataFrame
                     ) -> pd.DataFrame:
    """Subjects of the selection with no DAS28-ESR at all count as ``no_first_visit``."""
    unseen = arms[~arms.index.isin(values["subject_id"])]
    if unseen.empty:
        return excluded
    extra = unseen.value_counts().rename("count").rename_axis("arm").reset_index()
    extra.insert(0, "reason", "no_first_visit")
    out = pd.concat([excluded, extra]).groupby(["reason", "arm"], as_index=False)["count"].sum()
    return out


@dataclass
class PeriodTransitions:
    """Clusters per period and the subjects moving between them.

    ``membership``: ``period, subject_id, arm, cluster, shape, label``;
    ``profiles``: as :class:`ClusterResult` with a ``period`` column;
    ``fit``: ``period, k, bic, silhouette, chosen``;
    ``transitions``: ``from_period, to_period, from_cluster, from_label, to_cluster, to_label,
    count, row_percent`` (subjects clustered in both periods of a pair);
    ``excluded``: ``period, reason, arm, count``.
    """

    membership: pd.DataFrame
    profiles: pd.DataFrame
    fit: pd.DataFrame
    transitions: pd.DataFrame
    excluded: pd.DataFrame


def cluster_transitions(study, population: str = "completers", lang: str = "en", **filters
                        ) -> PeriodTransitions:
    """Each period (core year, years 2–3, years 4–5) clustered on its own, and the transitions
    of each subject's cluster from one period to the next."""
    values = course_values(study, population, **filters)
    arms = _arms(study, population, **filters)
    members, profiles, fits, excluded, bic_notes = [], [], [], [], []
    for period in PERIODS:
        m, p, f, e = _cluster_window(values, arms, WINDOWS[period], lang)
        e = _with_unobserved(e, arms, values)
        for frame in (m, p, f, e):
            frame.insert(0, "period", period)
        members.append(m)
        profiles.append(p)
        fits.append(f)
        excluded.append(e)
        chosen = f[f["chosen"]]
        if chosen.empty:
            bic_notes.append(f"{t(f'clusters.period.{period}', lang)}: "
                             f"{not_estimable('too_few_to_cluster', lang)}")
        else:
            bic_notes.append(t("clusters.footnote.period_fit", lang,
                               period=t(f"clusters.period.{period}", lang),
                               k=int(chosen["k"].iloc[0]),
                               bic=fmt_number(float(chosen["bic"].iloc[0]), 1, lang),
                               silhouette=fmt_number(float(chosen["silhouette"].iloc[0]), 2,
                                                     lang),
                               n=len(m), n_out=int(e["count"].sum()) if not e.empty else 0))
    membership = pd.concat(members, ignore_index=True)
    rows = []
    for a, b in zip(PERIODS, PERIODS[1:]):
        pair = (membership[membership["period"] == a]
                .merge(membership[membership["period"] == b], on=["subject_id", "arm"],
                       suffixes=("_from", "_to")))
        counts = pair.groupby(["cluster_from", "label_from", "cluster_to", "label_to"]).size()
        for (cf, lf, ct, lt), n in counts.items():
            rows.append(dict(from_period=a, to_period=b, from_cluster=int(cf), from_label=lf,
                             to_cluster=int(ct), to_label=lt, count=int(n)))
    transitions = pd.DataFrame(rows, columns=["from_period", "to_period", "from_cluster",
                                              "from_label", "to_cluster", "to_label", "count"])
    row_n = transitions.groupby(["from_period", "from_cluster"])["count"].transform("sum")
    transitions["row_percent"] = 100.0 * transitions["count"] / row_n
    result = PeriodTransitions(membership, pd.concat(profiles, ignore_index=True),
                               pd.concat(fits, ignore_index=True), transitions,
                               pd.concat(excluded, ignore_index=True))
    footnote = " ".join([t("clusters.footnote.periods", lang, share=int(MIN_OBSERVED_SHARE * 100),
                           seed=SEED, n_init=N_INIT), *bic_notes,
                         t("clusters.footnote.descriptive", lang)])
    n_per_arm = arms.value_counts().to_dict()
    for frame in vars(result).values():
        annotate(frame, study, lang=lang, title=t("clusters.transitions.title", lang),
                 population=population, n_per_arm=n_per_arm,
                 method=t("clusters.method", lang), footnote=footnote, filters=filters)
    return result


# -- display -------------------------------------------------------------------------------------

def membership_display(by_arm: pd.DataFrame) -> pd.DataFrame:
    """Cluster × arm: n (%) per arm and the test's p (or why there is none), translated."""
    from .i18n import fmt_p, fmt_percent
    lang = by_arm.attrs.get("lang", "en")
    rows = []
    for c, g in by_arm.groupby("cluster", sort=True):
        row = {t("clusters.col.cluster", lang): g["label"].iloc[0]}
        for r in g.itertuples(index=False):
            row[t("clusters.col.arm_n", lang, arm=t(f"arm.{r.arm}", lang), n=r.n_arm)] = t(
                "clusters.count_percent", lang, count=r.count,
                percent=fmt_percent(r.percent, 1, lang))
        rows.append(row)
    out = pd.DataFrame(rows)
    if not by_arm.empty:
        first = by_arm.iloc[0]
        p_text = (not_estimable(first["reason"], lang) if first["reason"]
                  else f"{fmt_p(first['p_value'], lang)} ({t(f'clusters.test.{first.test}', lang)})")
        out[t("clusters.col.p", lang)] = [p_text] + [""] * (len(out) - 1)
    return out


def transition_matrix(tr: pd.DataFrame, from_period: str) -> pd.DataFrame:
    """Counts from the clusters of ``from_period`` (rows) to those of the next period."""
    sub = tr[tr["from_period"] == from_period]
    matrix = sub.pivot_table(index="from_cluster", columns="to_cluster", values="count",
                             aggfunc="sum", fill_value=0)  # in cluster order, not by name
    names_from = dict(zip(sub["from_cluster"], sub["from_label"]))
    names_to = dict(zip(sub["to_cluster"], sub["to_label"]))
    matrix.index = [names_from[c] for c in matrix.index]
    matrix.columns = [names_to[c] for c in matrix.columns]
    return matrix
