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
  The fit is :mod:`analytics.gaussian_mixture`: scikit-learn's own steps, the same numbers to
  the last bit, without its per-call overhead.
* **Names.** Each cluster is named from its mean trajectory by fixed rules (:func:`shape_of`).
* **Membership per arm.** Counts and % of each arm's clustered subjects; Fisher's exact test for
  two clusters, Pearson's χ² test for more (scipy), under the small-number rules of
  :mod:`analytics.caution`.

This is descriptive: the clusters are found in the data at hand, and the test of membership by
arm does not account for the clusters having been estimated from the same subjects.
"""
from __future__ import annotations

import functools
import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats as sps

from .annotate import annotate
from .caution import arms_too_small, not_estimable
from .gaussian_mixture import fit_tied_mixture
from .i18n import fmt_number, t
from .measures import DAS28_LOW
from .population import select
from .response import check_population
from .schema import ARMS, VISIT_MONTHS
from .stats import fisher_exact_p

SEED = 20250642            # fixed: the same data give the same clusters on every run
CLUSTER_RANGE = (2, 3, 4, 5)
N_INIT = 10
REG_COVAR = 1e-4
MIN_OBSERVED_SHARE = 0.5   # a subject needs observed values at >= half of the window's visits
SILHOUETTE_SAMPLE = 2000
# Above this many subjects the N_INIT starts run on a fixed-seed sample of this size and EM then
# runs on every subject from the best start (100x cohort: 4 s -> 1 s per window); the default
# study (97 completers) is fitted on all subjects as before.
FIT_SAMPLE = 2000
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
    months between observed visits, as ``np.interp``) and a Series subject -> exclusion reason.
    Vectorised over subjects: the 100x cohort has 11,000 of them.
    """
    months = np.array([VISIT_MONTHS[v] for v in window], dtype=float)
    subjects, rows = pd.factorize(values["subject_id"], sort=False)
    column = pd.Index(window).get_indexer(values["timepoint"])
    y = np.full((len(rows), len(window)), np.nan)
    inside = column >= 0
    # the first value of a subject and visit, as pivot_table(aggfunc="first")
    y[subjects[inside][::-1], column[inside][::-1]] = values["das28_esr"].to_numpy(float)[inside][::-1]
    observed = ~np.isnan(y)
    reason = np.select(
        [~observed[:, 0], ~observed[:, -1],
         observed.sum(axis=1) < MIN_OBSERVED_SHARE * len(window)],
        ["no_first_visit", "ends_before_window", "too_few_visits"], "")
    keep = reason == ""
    y, observed = y[keep], observed[keep]
    position = np.arange(len(window))
    # the observed visit at or before / at or after each visit (kept rows have both ends)
    before = np.maximum.accumulate(np.where(observed, position, -1), axis=1)
    after = np.minimum.accumulate(np.where(observed, position, len(window))[:, ::-1],
                                  axis=1)[:, ::-1]
    take = np.take_along_axis
    y0, y1 = take(y, before, axis=1), take(y, after, axis=1)
    m0, m1 = months[before], months[after]
    with np.errstate(invalid="ignore", divide="ignore"):
        filled = (y1 - y0) / (m1 - m0) * (months - m0) + y0   # np.interp's own formula
    filled = np.where(observed, y, filled)
    courses = pd.DataFrame(filled, index=pd.Index(rows[keep], name="subject_id"),
                           columns=list(window))
    left_out = ~keep
    return courses, pd.Series(reason[left_out], index=rows[left_out], dtype=object,
                              name="reason")


# -- model ---------------------------------------------------------------------------------------

def fit_mixture(courses: pd.DataFrame, k_range=CLUSTER_RANGE, seed: int = SEED
                ) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """Gaussian mixtures with k in ``k_range``; the one with the lowest BIC.

    Returns the cluster of each row (numbered 1.. in order of the clusters' mean DAS28-ESR, so
    the numbering does not depend on the fit's arbitrary labels), each row's posterior
    probability of its cluster, and the fit table ``k, bic, silhouette, chosen``.
    """
    x = courses.to_numpy(dtype=float)
    fits, rows = {}, []
    with _one_thread():  # tiny matrices: BLAS threads only contend (30x slower on 2 cores)
        _fit_all(x, k_range, seed, fits, rows)
    fit = pd.DataFrame(rows, columns=["k", "bic", "silhouette"])
    if fit.empty:
        fit["chosen"] = pd.Series(dtype=bool)
        return np.zeros(len(x), dtype=int), np.full(len(x), np.nan), fit
    best = int(fit.loc[fit["bic"].idxmin(), "k"])
    fit["chosen"] = fit["k"] == best
    gm = fits[best]
    raw, proba = gm.predict_with_proba(x)
    proba = proba[np.arange(len(x)), raw]
    order = np.argsort([x[raw == c].mean() if (raw == c).any() else np.inf
                        for c in range(best)], kind="stable")
    renumber = {int(old): new + 1 for new, old in enumerate(order)}
    return np.array([renumber[int(c)] for c in raw]), proba, fit


def _one_thread():
    """BLAS and OpenMP limited to one thread, as ``threadpool_limits(1)`` (that call looks up
    the loaded libraries each time: 1.4 ms; the controller, made once, does not)."""
    return _threadpool_controller().limit(limits=1)


@functools.cache
def _threadpool_controller():
    import sklearn.cluster._kmeans  # noqa: F401  (its OpenMP runtime loaded before the look-up)
    from threadpoolctl import ThreadpoolController  # installed with scikit-learn

    return ThreadpoolController()


# Fits kept in the process, by the courses' bytes and k: a mixture is a pure function of them,
# and the same courses are fitted again on the page (a period shown and clustered again for the
# transitions; k chosen after "auto"; the language or a filter that selects the same subjects).
_FITS: OrderedDict = OrderedDict()   # (courses key, k) -> (mixture, bic, silhouette)
FITS_KEPT = 256
_FITS_LOCK = threading.Lock()


def forget_fits() -> None:
    """Drop the kept fits (benchmarks of a first visit)."""
    with _FITS_LOCK:
        _FITS.clear()


def _courses_key(x: np.ndarray, seed: int) -> tuple:
    digest = hashlib.blake2b(np.ascontiguousarray(x).tobytes(), digest_size=16).hexdigest()
    # the layout too: BLAS may take another path for another layout
    return (digest, x.shape, x.strides, x.dtype.str, seed, N_INIT, REG_COVAR, FIT_SAMPLE,
            SILHOUETTE_SAMPLE)


def _fit_all(x: np.ndarray, k_range, seed: int, fits: dict, rows: list) -> None:
    key = _courses_key(x, seed)
    wanted = [k for k in k_range if k * MIN_PER_CLUSTER <= len(x)]
    with _FITS_LOCK:
        done = {k: _FITS[key, k] for k in wanted if (key, k) in _FITS}
        for k in done:
            _FITS.move_to_end((key, k))
    missing = [k for k in wanted if k not in done]
    if missing:
        done.update(_fit_new(x, missing, seed))
        with _FITS_LOCK:
            for k in missing:
                _FITS[key, k] = done[k]
            while len(_FITS) > FITS_KEPT:
                _FITS.popitem(last=False)
    for k in wanted:
        fits[k], bic, silhouette = done[k]
        rows.append(dict(k=k, bic=bic, silhouette=silhouette))


def _fit_new(x: np.ndarray, k_range, seed: int) -> dict:
    """k -> (mixture, BIC, silhouette) of the mixture with k components."""
    # a large cohort: the starts on a fixed-seed sample, then EM on every subject from the best
    fit_rows = (np.sort(np.random.default_rng(seed).choice(len(x), FIT_SAMPLE, replace=False))
                if len(x) > FIT_SAMPLE else None)
    fits, labels, bics = {}, {}, {}
    for k in k_range:
        # scikit-learn's GaussianMixture(covariance_type="tied"), the same numbers to the last
        # bit without its per-call validation (analytics/gaussian_mixture.py)
        gm = fit_tied_mixture(x if fit_rows is None else x[fit_rows], k, n_init=N_INIT,
                              random_state=seed, reg_covar=REG_COVAR)
        if fit_rows is not None:
            gm = fit_tied_mixture(x, k, n_init=1, random_state=seed, reg_covar=REG_COVAR,
                                  start=gm)
        fits[k] = gm
        labels[k], bics[k] = gm.predict_and_bic(x)
    silhouettes = _silhouettes(x, labels, seed)
    return {k: (fits[k], float(bics[k]), silhouettes[k]) for k in k_range}


def _silhouettes(x: np.ndarray, labels: dict, seed: int) -> dict:
    """k -> ``silhouette_score(x, labels[k], sample_size=..., random_state=seed)`` (NaN with one
    cluster), as scikit-learn computes it, with the distances computed once for every k: they do
    not depend on the labels. Silhouette is O(n²): on large cohorts, a fixed-seed sample of
    SILHOUETTE_SAMPLE rows (the same rows for every k)."""
    from sklearn.metrics import pairwise_distances_chunked
    from sklearn.preprocessing import LabelEncoder
    from sklearn.utils import check_X_y
    from sklearn.utils._array_api import xpx

    out = {k: np.nan for k in labels}
    scored = [k for k, lab in labels.items() if 1 < len(set(lab)) < len(x)]
    if not scored:
        return out
    rows = None
    if len(x) > SILHOUETTE_SAMPLE:
        x, _ = check_X_y(x, labels[scored[0]], accept_sparse=["csc", "csr"])
        rows = np.random.RandomState(seed).permutation(x.shape[0])[:SILHOUETTE_SAMPLE]
        x = x[rows]
    x, _ = check_X_y(x, labels[scored[0]] if rows is None else labels[scored[0]][rows],
                     accept_sparse=["csr"])
    chunks, start = [], 0
    for chunk in pairwise_distances_chunked(x, metric="euclidean"):
        # transposed (one row per other sample): the sum over a cluster's samples is then a
        # reduction over whole rows, one after the other, as np.bincount adds them
        chunks.append((chunk, np.ascontiguousarray(chunk.T), start))
        start += len(chunk)
    for k in scored:
        encoded = LabelEncoder().fit_transform(labels[k] if rows is None else labels[k][rows])
        freqs = np.bincount(encoded)
        if not 1 < len(freqs) < len(encoded):  # as check_number_of_labels (a sample's labels)
            raise ValueError(f"Number of labels is {len(freqs)}. Valid values are 2 to "
                             f"n_samples - 1 (inclusive)")
        intra, inter = (np.concatenate(part) for part in zip(*(
            _silhouette_reduce(chunk, by_other, begin, encoded, freqs)
            for chunk, by_other, begin in chunks)))
        denom = (freqs - 1).take(encoded, mode="clip")
        with np.errstate(divide="ignore", invalid="ignore"):
            intra /= denom
        sil = inter - intra
        with np.errstate(divide="ignore", invalid="ignore"):
            sil /= np.maximum(intra, inter)
        out[k] = float(np.mean(xpx.nan_to_num(sil)))
    return out


def _silhouette_reduce(chunk: np.ndarray, by_other: np.ndarray, start: int,
                       labels: np.ndarray, label_freqs: np.ndarray):
    """scikit-learn's ``_silhouette_reduce`` (mean distance of each sample of ``chunk`` to its
    own cluster and to the nearest other), its per-sample ``np.bincount`` of the distances by
    cluster replaced by one sum per cluster over the rows of ``by_other`` (``chunk``
    transposed): the same additions in the same order (from 0, the samples in turn; checked
    against scikit-learn in tests/test_clusters.py), without a Python loop over the samples."""
    cluster_distances = np.zeros((len(chunk), len(label_freqs)), dtype=chunk.dtype)
    for c in range(len(label_freqs)):
        members = by_other[labels == c]
        if len(members):
            cluster_distances[:, c] += np.add.reduce(members, axis=0)
    intra_index = (np.arange(len(chunk)), labels[start:start + len(chunk)])
    intra_cluster_distances = cluster_distances[intra_index]
    cluster_distances[intra_index] = np.inf
    cluster_distances /= label_freqs
    return intra_cluster_distances, cluster_distances.min(axis=1)


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

def _cluster_window(values: pd.DataFrame, arms: pd.Series, window: tuple[str, ...], lang: str,
                    k_range=CLUSTER_RANGE):
    courses, reasons = interpolate_courses(values, window)
    clusters, proba, fit = fit_mixture(courses, k_range)
    if fit.empty:  # too few subjects to cluster: no clusters (the footnote says why)
        courses, clusters, proba = courses.iloc[:0], clusters[:0], proba[:0]
    membership = pd.DataFrame({"subject_id": courses.index,
                               "arm": arms.reindex(courses.index).to_numpy(),
                               "cluster": clusters, "probability": proba})
    profile_rows, shapes = [], {}
    for c in sorted(membership["cluster"].unique()):
        members = courses[membership["cluster"].to_numpy() == c]
        shapes[int(c)] = shape_of(members.mean().to_numpy(), from_baseline=window[0] == "BL")
        # every visit's mean and quartiles at once, each as pandas' Series.mean and .quantile
        # compute it (a pairwise sum over the members; numpy's linear percentile)
        by_visit = np.ascontiguousarray(members.to_numpy(dtype=float).T)   # visits × members
        n = by_visit.shape[1]
        mean = np.sum(by_visit, axis=1) / n
        low, high = np.percentile(by_visit, [25.0, 75.0], axis=1, method="linear")
        profile_rows += [dict(cluster=int(c), timepoint=tp, months=VISIT_MONTHS[tp], n=n,
                              mean=float(mean[i]), band_low=float(low[i]),
                              band_high=float(high[i]))
                         for i, tp in enumerate(window)]
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
              population: str, n_clusters: int | None = None, n_fitted: int = 0) -> str:
    chosen = fit[fit["chosen"]]
    parts = [t("clusters.footnote.method", lang, first=t(f"visit.{window[0]}", lang),
               last=t(f"visit.{window[-1]}", lang), share=int(MIN_OBSERVED_SHARE * 100),
               seed=SEED, n_init=N_INIT)]
    if n_clusters is not None:
        parts.append(t("clusters.footnote.fixed_k", lang, k=n_clusters))
    if n_fitted > FIT_SAMPLE:
        parts.append(t("clusters.footnote.sampled_starts", lang, sample=FIT_SAMPLE))
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


def clusters(study, population: str = "completers", lang: str = "en", *,
             period: str = "course", n_clusters: int | None = None, **filters
             ) -> ClusterResult:
    """Clusters of the DAS28-ESR course of the selected subjects over ``period`` (a key of
    :data:`WINDOWS`: the whole course BL–Y5 or one period), with the number of clusters chosen
    by BIC among 2–5, or ``n_clusters`` when given.

    ``n_per_arm`` in ``attrs`` counts the clustered subjects; those left out (no extrapolation,
    too few visits) are in ``excluded`` and named in the footnote.
    """
    if period not in WINDOWS:
        raise ValueError(f"unknown period {period!r}; expected one of {tuple(WINDOWS)}")
    if n_clusters is not None and n_clusters not in CLUSTER_RANGE:
        raise ValueError(f"n_clusters must be one of {CLUSTER_RANGE} or None, not {n_clusters!r}")
    values = course_values(study, population, **filters)
    arms = _arms(study, population, **filters)
    window = WINDOWS[period]
    membership, profiles, fit, excluded = _cluster_window(
        values, arms, window, lang, CLUSTER_RANGE if n_clusters is None else (n_clusters,))
    excluded = _with_unobserved(excluded, _unobserved(arms, values))
    result = ClusterResult(membership, profiles, _by_arm(membership), fit, excluded)
    title = (t("clusters.title", lang) if period == "course" else
             t("clusters.title.period", lang, period=t(f"clusters.period.{period}", lang)))
    return _annotated(result, study, lang, population, title,
                      _footnote(fit, excluded, window, lang, population, n_clusters,
                                len(membership)),
                      filters=filters, period=period, n_clusters=n_clusters)


def _arms(study, population: str, **filters) -> pd.Series:
    sel_sql, params = select(population, **filters).sql
    df = study.query(f"SELECT subject_id, arm FROM ({sel_sql})", params)
    return df.set_index("subject_id")["arm"]


def _unobserved(arms: pd.Series, values: pd.DataFrame) -> pd.Series:
    """The arm of each subject of the selection with no DAS28-ESR at all."""
    return arms[~arms.index.isin(values["subject_id"])]


def _with_unobserved(excluded: pd.DataFrame, unseen: pd.Series) -> pd.DataFrame:
    """Subjects of the selection with no DAS28-ESR at all (``unseen``) count as
    ``no_first_visit``."""
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
    unseen = _unobserved(arms, values)   # the same for every period
    for period in PERIODS:
        m, p, f, e = _cluster_window(values, arms, WINDOWS[period], lang)
        e = _with_unobserved(e, unseen)
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
    sampled = ([t("clusters.footnote.sampled_starts", lang, sample=FIT_SAMPLE)]
               if any(len(m) > FIT_SAMPLE for m in members) else [])
    footnote = " ".join([t("clusters.footnote.periods", lang, share=int(MIN_OBSERVED_SHARE * 100),
                           seed=SEED, n_init=N_INIT), *sampled, *bic_notes,
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


def _period_column(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """A display frame that starts with the period in words (frames of several periods)."""
    out = pd.DataFrame()
    if "period" in frame:
        out[t("clusters.col.period", lang)] = [t(f"clusters.period.{p}", lang)
                                               for p in frame["period"]]
    return out


def fit_display(fit: pd.DataFrame) -> pd.DataFrame:
    """The model-fit table: number of clusters, BIC, silhouette, the chosen one marked."""
    lang = fit.attrs.get("lang", "en")
    out = _period_column(fit, lang)
    out[t("clusters.col.k", lang)] = fit["k"].astype(int).to_numpy()
    out[t("clusters.col.bic", lang)] = [fmt_number(b, 1, lang) for b in fit["bic"]]
    out[t("clusters.col.silhouette", lang)] = [fmt_number(s, 2, lang) for s in fit["silhouette"]]
    out[t("clusters.col.chosen", lang)] = [t("clusters.chosen", lang) if c else ""
                                           for c in fit["chosen"]]
    return out


def excluded_display(excluded: pd.DataFrame) -> pd.DataFrame:
    """Subjects left out per reason (and period) and arm."""
    lang = excluded.attrs.get("lang", "en")
    out = _period_column(excluded, lang)
    out[t("clusters.col.reason", lang)] = [t(f"clusters.excluded.{r}", lang)
                                           for r in excluded["reason"]]
    out[t("clusters.col.arm", lang)] = [t(f"arm.{a}", lang) for a in excluded["arm"]]
    out[t("clusters.col.count", lang)] = excluded["count"].astype(int).to_numpy()
    return out


def transitions_display(tr: pd.DataFrame) -> pd.DataFrame:
    """Subjects moving from a cluster of one period to a cluster of the next (n, row %)."""
    from .i18n import fmt_percent
    lang = tr.attrs.get("lang", "en")
    return pd.DataFrame({
        t("clusters.col.from", lang): [f"{t(f'clusters.period.{p}', lang)}: {lab}"
                                       for p, lab in zip(tr["from_period"], tr["from_label"])],
        t("clusters.col.to", lang): [f"{t(f'clusters.period.{p}', lang)}: {lab}"
                                     for p, lab in zip(tr["to_period"], tr["to_label"])],
        t("clusters.col.count", lang): tr["count"].astype(int).to_numpy(),
        t("clusters.col.row_percent", lang): [fmt_percent(p, 1, lang)
                                              for p in tr["row_percent"]],
    })
