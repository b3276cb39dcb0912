"""A Gaussian mixture with one covariance matrix shared by the components (``tied``), fitted by
EM exactly as scikit-learn's ``GaussianMixture(covariance_type="tied")`` fits it.

The same steps in the same order with the same numpy, LAPACK (``potrf``, ``trtrs``) and k-means
calls, so every parameter, posterior and BIC is the same to the last bit
(``tests/test_gaussian_mixture.py`` compares them with scikit-learn's). What is left out is
per-call work that changes no number: input validation, array-API dispatch and the product
``X.T @ X`` and the centred k-means input recomputed for every start and EM step. On the
clusters page (16 mixtures of 10 starts, 97 subjects) that work was most of the time.

Kept from scikit-learn 1.9 (``sklearn/mixture/_base.py``, ``_gaussian_mixture.py``): k-means
starts (one k-means++ seeding and Lloyd run per start, sharing one ``RandomState``), EM until
the mean log-likelihood changes by less than ``tol``, the start with the highest final
log-likelihood kept (the first of equals), ``reg_covar`` added to the covariance's diagonal.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
from scipy.linalg import lapack

TOL = 1e-3          # scikit-learn's defaults
MAX_ITER = 100
KMEANS_TOL = 1e-4
KMEANS_MAX_ITER = 300
_TINY = 10 * np.finfo(np.float64).eps
_FIT_FAILED = ("Fitting the mixture model failed because some components have ill-defined "
               "empirical covariance (for instance caused by singleton or collapsed samples). "
               "Try to decrease the number of components, increase reg_covar, or scale the "
               "input data.")


@dataclass
class TiedMixture:
    """A fitted mixture: ``weights`` (k), ``means`` (k × d), ``precisions_cholesky`` (d × d)."""

    weights: np.ndarray
    means: np.ndarray
    precisions_cholesky: np.ndarray
    converged: bool = True

    @property
    def n_components(self) -> int:
        return len(self.means)

    @property
    def precisions(self) -> np.ndarray:
        return self.precisions_cholesky @ self.precisions_cholesky.T

    def weighted_log_prob(self, x: np.ndarray) -> np.ndarray:
        """samples × components"""
        return self._by_component(x).T

    def _by_component(self, x: np.ndarray) -> np.ndarray:
        return _weighted_log_prob(x, self.weights[np.newaxis], self.means[np.newaxis],
                                  self.precisions_cholesky[np.newaxis])[:, 0, :]

    def predict(self, x: np.ndarray) -> np.ndarray:
        return np.argmax(self._by_component(x), axis=0)   # the first of equals, as argmax(.., 1)

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        return self.predict_with_proba(x)[1]

    def predict_with_proba(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``predict(x)`` and ``predict_proba(x)`` from one evaluation of the densities."""
        by_component = self._by_component(x)
        return np.argmax(by_component, axis=0), np.exp(_log_prob_resp(by_component)[1]).T

    def bic(self, x: np.ndarray) -> float:
        return self.predict_and_bic(x)[1]

    def predict_and_bic(self, x: np.ndarray) -> tuple[np.ndarray, float]:
        """``predict(x)`` and ``bic(x)`` from one evaluation of the densities."""
        by_component = self._by_component(x)
        n_features = x.shape[1]
        k = self.n_components
        n_parameters = int(n_features * (n_features + 1) / 2.0 + n_features * k + k - 1)
        score = float(np.mean(_logsumexp_components(by_component)))
        return (np.argmax(by_component, axis=0),
                -2 * score * x.shape[0] + n_parameters * math.log(x.shape[0]))


def fit_tied_mixture(x: np.ndarray, n_components: int, *, n_init: int, random_state: int,
                     reg_covar: float, start: TiedMixture | None = None) -> TiedMixture:
    """EM from ``n_init`` k-means starts (or once from the parameters of ``start``); as
    ``GaussianMixture(n_components, covariance_type="tied", n_init=n_init,
    random_state=random_state, reg_covar=reg_covar)`` with ``weights_init``, ``means_init``
    and ``precisions_init`` from ``start`` when given. Call it with the BLAS and OpenMP thread
    pools limited to one thread (``threadpoolctl``), as :func:`analytics.clusters.fit_mixture`
    does: the results are those of scikit-learn under the same limit.

    The starts run their EM steps side by side, as a stack of arrays (one slice per start, each
    slice laid out as scikit-learn's array of that start, so each product and sum is the same
    BLAS call or reduction on the same numbers); a start leaves the stack when it converges.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < max(2, n_components):
        raise ValueError(f"need at least max(2, {n_components}) samples, got {x.shape}")
    n_samples = x.shape[0]
    gram = x.T @ x                           # the same in every M step
    if start is None:
        # the random state serves only the k-means starts, in order: all can be drawn first
        rng = np.random.RandomState(random_state)
        seeding = _KMeansSeeding(x)
        resp = np.zeros((n_init, n_samples, n_components), dtype=x.dtype)
        for s, labels in enumerate(seeding.labels(n_components, n_init, rng)):
            resp[s, np.arange(n_samples), labels] = 1
        weights, means, covariance = _gaussian_parameters(x, gram, resp, reg_covar)
        weights /= n_samples
        prec_chol = _precision_cholesky(covariance)
    else:
        weights, means = np.array(start.weights)[np.newaxis], np.array(start.means)[np.newaxis]
        prec_chol = _precision_cholesky_from_precisions(start.precisions)[np.newaxis]
    running = np.arange(len(weights))        # the starts still iterating
    bound = np.full(len(weights), -np.inf)
    fitted: dict[int, tuple] = {}
    for iteration in range(MAX_ITER):
        previous = bound
        log_prob_norm, log_resp = _log_prob_resp(_weighted_log_prob(x, weights, means,
                                                                    prec_chol))
        bound = np.mean(log_prob_norm, axis=1)
        # responsibilities laid out as scikit-learn's (starts × samples × components)
        resp = np.ascontiguousarray(np.exp(log_resp).transpose(1, 2, 0))
        weights, means, covariance = _gaussian_parameters(x, gram, resp, reg_covar)
        weights /= np.sum(weights, axis=1, keepdims=True)
        prec_chol = _precision_cholesky(covariance)
        converged = np.abs(bound - previous) < TOL
        stops = converged | (iteration == MAX_ITER - 1)
        for i in np.flatnonzero(stops):
            fitted[int(running[i])] = (bound[i], TiedMixture(weights[i], means[i], prec_chol[i],
                                                             bool(converged[i])))
        if stops.all():
            break
        go_on = ~stops
        running, bound, weights, means, prec_chol = (
            running[go_on], bound[go_on], weights[go_on], means[go_on], prec_chol[go_on])
    best, best_bound = None, -np.inf
    for s in range(len(fitted)):             # the first start of the highest bound
        if fitted[s][0] > best_bound or best_bound == -np.inf:
            best_bound, best = fitted[s]
    if not best.converged:
        from sklearn.exceptions import ConvergenceWarning
        warnings.warn("Best performing initialization did not converge. Try different init "
                      "parameters, or increase max_iter, tol, or check for degenerate data.",
                      ConvergenceWarning)
    return best


class _KMeansSeeding:
    """The labels of ``KMeans(n_clusters, n_init=1, random_state=rng).fit(x)``, with what that
    fit computes from ``x`` alone (its centred copy, row norms, tolerance) computed once."""

    def __init__(self, x: np.ndarray):
        from sklearn.utils._openmp_helpers import _openmp_effective_n_threads

        centred = np.array(x, dtype=np.float64, order="C", copy=True)
        self.tol = np.mean(np.var(centred, axis=0)) * KMEANS_TOL
        centred -= centred.mean(axis=0)
        self.x = centred
        self.squared_norms = np.einsum("ij,ij->i", centred, centred)
        self.sample_weight = np.ones(len(centred), dtype=centred.dtype)
        self.n_threads = _openmp_effective_n_threads()

    def labels(self, n_clusters: int, n_starts: int, rng: np.random.RandomState) -> list:
        """The labels of ``n_starts`` k-means fits drawing one after the other from ``rng``."""
        from sklearn.cluster._kmeans import _kmeans_single_lloyd

        # without its per-call BLAS limit to one thread: the caller has limited every pool
        return [_kmeans_single_lloyd.__wrapped__(self.x, self.sample_weight, centers,
                                                 max_iter=KMEANS_MAX_ITER, verbose=False,
                                                 tol=self.tol, n_threads=self.n_threads)[0]
                for centers in self._plusplus(n_clusters, n_starts, rng)]

    def _plusplus(self, n_clusters: int, n_starts: int, rng: np.random.RandomState
                  ) -> np.ndarray:
        """scikit-learn's ``_kmeans_plusplus`` (greedy k-means++ seeding) of ``n_starts``
        seedings one after the other, step for step, the seedings side by side (starts × ...).

        Each seeding draws a fixed number of uniforms from ``rng`` (one for its first centre,
        as ``RandomState.choice``, then ``n_local_trials`` per further centre), so all are drawn
        first, in the order scikit-learn draws them."""
        x, weight = self.x, self.sample_weight
        n_local_trials = 2 + int(np.log(n_clusters))
        draws = rng.random_sample(n_starts * (1 + (n_clusters - 1) * n_local_trials))
        draws = draws.reshape(n_starts, -1)
        centers = np.empty((n_starts, n_clusters, x.shape[1]), dtype=x.dtype)
        p = weight / weight.sum()
        cdf = p.cumsum()                                 # RandomState.choice(n, p=p)
        cdf /= cdf[-1]
        centers[:, 0] = x[cdf.searchsorted(draws[:, 0], side="right")]
        closest_dist_sq = self._squared_distances(centers[:, 0, np.newaxis])   # starts × 1 × n
        current_pot = closest_dist_sq @ weight                                 # starts × 1
        closest_dist_sq = closest_dist_sq[:, 0]
        for c in range(1, n_clusters):
            rand_vals = draws[:, 1 + (c - 1) * n_local_trials:1 + c * n_local_trials] * current_pot
            cumulative = np.cumsum(weight * closest_dist_sq, axis=1)
            candidate_ids = np.array([np.searchsorted(cumulative[s], rand_vals[s])
                                      for s in range(n_starts)])
            np.clip(candidate_ids, None, closest_dist_sq.shape[1] - 1, out=candidate_ids)
            distance_to_candidates = self._squared_distances(x[candidate_ids])
            np.minimum(closest_dist_sq[:, np.newaxis], distance_to_candidates,
                       out=distance_to_candidates)
            candidates_pot = distance_to_candidates @ weight.reshape(-1, 1)    # starts × L × 1
            best = np.argmin(candidates_pot[:, :, 0], axis=1)
            starts = np.arange(n_starts)
            current_pot = candidates_pot[starts, best]
            closest_dist_sq = distance_to_candidates[starts, best]
            centers[:, c] = x[candidate_ids[starts, best]]
        return centers

    def _squared_distances(self, points: np.ndarray) -> np.ndarray:
        """scikit-learn's ``_euclidean_distances(points, x, squared=True)`` for float64, of each
        start's points (starts × points × features)."""
        distances = -2 * (points @ self.x.T)
        distances += np.array([np.einsum("ij,ij->i", one, one) for one in points])[:, :, None]
        distances += self.squared_norms.reshape(1, -1)
        np.maximum(distances, np.asarray(0, dtype=distances.dtype), out=distances)
        return distances


def _gaussian_parameters(x, gram, resp, reg_covar):
    """Weights (unnormalised), means and the tied covariance of each start (``resp``: starts ×
    samples × components)."""
    nk = np.sum(resp, axis=1) + _TINY
    means = (resp.transpose(0, 2, 1) @ x) / nk[:, :, np.newaxis]
    covariance = gram - nk[:, np.newaxis, :] * means.transpose(0, 2, 1) @ means
    covariance /= np.sum(nk, axis=1)[:, np.newaxis, np.newaxis]
    n_features = covariance.shape[-1]
    covariance.reshape(len(covariance), -1)[:, ::n_features + 1] += np.asarray(
        reg_covar, dtype=covariance.dtype)
    return nk, means, covariance


def _precision_cholesky(covariance):
    """The upper-triangular Cholesky factor of each start's precision (scipy's cholesky and
    solve_triangular, called as scikit-learn calls them)."""
    if not np.isfinite(covariance).all():
        raise ValueError("array must not contain infs or NaNs")
    eye = np.eye(covariance.shape[-1], dtype=covariance.dtype)
    out = np.empty_like(covariance)
    for s, one in enumerate(covariance):
        cov_chol, info = lapack.dpotrf(one, lower=True, overwrite_a=False, clean=True)
        if info != 0:
            raise ValueError(_FIT_FAILED)
        solved, info = lapack.dtrtrs(cov_chol, eye, overwrite_b=False, lower=True, trans=0,
                                     unitdiag=False)
        if info != 0:
            raise ValueError(_FIT_FAILED)
        out[s] = solved.T
    return out


def _precision_cholesky_from_precisions(precisions):
    flipped = np.flip(np.flip(precisions, axis=1), axis=0)
    chol, info = lapack.dpotrf(flipped, lower=True, overwrite_a=False, clean=True)
    if info != 0:
        raise ValueError(_FIT_FAILED)
    return np.flip(np.flip(chol, axis=1), axis=0)


def _weighted_log_prob(x, weights, means, prec_chol):
    """log P(x | component) + log weight: components × starts × samples. Components first, so
    that the sums and maxima over the components are a few whole-array operations (in numpy's
    order: each is the same number as scikit-learn's reduction over a row of components)."""
    n_features = x.shape[1]
    log_det = np.sum(np.log(np.diagonal(prec_chol, axis1=-2, axis2=-1)), axis=-1)
    projected = np.ascontiguousarray((x @ prec_chol).transpose(2, 0, 1))  # features × starts × samples
    centre = (means[:, :, np.newaxis, :] @ prec_chol[:, np.newaxis])[:, :, 0, :]
    # (x - mean) projected: features × components × starts × samples
    y = projected[:, np.newaxis] - centre.transpose(2, 1, 0)[:, :, :, np.newaxis]
    log_prob = _pairwise_sum(np.square(y, out=y))
    return (-0.5 * (n_features * math.log(2 * math.pi) + log_prob)
            + log_det[np.newaxis, :, np.newaxis] + np.log(weights).T[:, :, np.newaxis])


def _pairwise_sum(terms):
    """``np.sum(terms, axis=0)`` with the first axis summed last-bit alike as numpy sums a
    contiguous row of that length (its pairwise sum: eight partial sums, then the rest one by
    one; ``tests/test_gaussian_mixture.py`` checks it against numpy), from whole-array
    additions instead of one short reduction per element."""
    n = len(terms)
    if n > 128:   # numpy splits longer rows recursively: let it
        return np.sum(np.ascontiguousarray(np.moveaxis(terms, 0, -1)), axis=-1)
    if n < 8:
        total = 0.0 + terms[0]
        for i in range(1, n):
            total += terms[i]
        return total
    partial = terms[:8].copy()
    stop = n - n % 8
    for i in range(8, stop, 8):
        partial += terms[i:i + 8]
    total = ((partial[0] + partial[1]) + (partial[2] + partial[3])) + \
            ((partial[4] + partial[5]) + (partial[6] + partial[7]))
    for i in range(stop, n):
        total += terms[i]
    return total


def _logsumexp_components(array):
    """scikit-learn's ``_logsumexp(array, axis=1)`` (after scipy's) over the components, the
    first axis here."""
    array_max = np.max(array, axis=0)
    index_max = array == array_max
    array = np.where(index_max, -np.inf, array)
    m = np.sum(index_max, axis=0, dtype=array.dtype)      # a count: exact in any order
    shift = np.where(np.isfinite(array_max), array_max, 0)
    s = _pairwise_sum(np.exp(array - shift))
    s = np.where(s == 0, s, s / m)
    return np.log1p(s) + np.log(m) + array_max


def _log_prob_resp(weighted_log_prob):
    log_prob_norm = _logsumexp_components(weighted_log_prob)
    with np.errstate(under="ignore"):
        log_resp = weighted_log_prob - log_prob_norm[np.newaxis]
    return log_prob_norm, log_resp
