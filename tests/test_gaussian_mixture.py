"""The tied Gaussian mixture of the clusters page (:mod:`analytics.gaussian_mixture`) against
scikit-learn's ``GaussianMixture``, which it replaces: every parameter, posterior, label and BIC
equal to the last bit, on the study's own courses and on other data (more components than
structure, a large sample, the fit from a start), so that the page shows exactly what
scikit-learn would give."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.mixture import GaussianMixture
from threadpoolctl import threadpool_limits

from analytics import open_study
from analytics.clusters import PERIODS, WINDOWS, course_values, interpolate_courses
from analytics.gaussian_mixture import fit_tied_mixture

SEED = 20250642
REG = 1e-4


def _assert_same(ours, x, theirs: GaussianMixture) -> None:
    np.testing.assert_array_equal(ours.weights, theirs.weights_)
    np.testing.assert_array_equal(ours.means, theirs.means_)
    np.testing.assert_array_equal(ours.precisions_cholesky, theirs.precisions_cholesky_)
    np.testing.assert_array_equal(ours.precisions, theirs.precisions_)
    np.testing.assert_array_equal(ours.predict(x), theirs.predict(x))
    np.testing.assert_array_equal(ours.predict_proba(x), theirs.predict_proba(x))
    assert ours.bic(x) == theirs.bic(x)
    labels, bic = ours.predict_and_bic(x)
    np.testing.assert_array_equal(ours.predict_with_proba(x)[0], theirs.predict(x))
    np.testing.assert_array_equal(labels, theirs.predict(x))
    assert bic == theirs.bic(x)
    assert ours.converged == theirs.converged_


def _both(x, k, n_init=10, seed=SEED):
    with threadpool_limits(1):
        theirs = GaussianMixture(n_components=k, covariance_type="tied", n_init=n_init,
                                 random_state=seed, reg_covar=REG).fit(x)
        ours = fit_tied_mixture(x, k, n_init=n_init, random_state=seed, reg_covar=REG)
    return ours, theirs


def _study_courses():
    with open_study() as study:
        for population in ("completers", "nri"):
            values = course_values(study, population)
            for period in ("course", *PERIODS):
                yield interpolate_courses(values, WINDOWS[period])[0].to_numpy(dtype=float)
            yield interpolate_courses(course_values(study, population, sex="M"),
                                      WINDOWS["course"])[0].to_numpy(dtype=float)


@pytest.mark.usefixtures("dashboard_study")
def test_the_study_courses_give_scikit_learns_mixtures():
    for x in _study_courses():
        for k in (2, 3, 4, 5):
            if 5 * k <= len(x):
                ours, theirs = _both(x, k)
                _assert_same(ours, x, theirs)


@pytest.mark.parametrize("n, d, k, seed", [(30, 4, 2, 1), (60, 5, 5, 2), (200, 13, 3, 3),
                                           (97, 13, 4, 4), (12, 3, 5, 5), (2500, 4, 3, 6)])
def test_other_data_give_scikit_learns_mixtures(n, d, k, seed):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 2, size=(3, d))
    x = centres[rng.integers(0, 3, n)] + rng.normal(0, 1, size=(n, d))
    ours, theirs = _both(x, k, seed=seed)
    _assert_same(ours, x, theirs)


def test_a_fit_from_a_start_gives_scikit_learns():
    """The large-cohort path: starts on a sample, then EM on every row from the best start."""
    rng = np.random.default_rng(7)
    x = np.vstack([rng.normal(m, 1, size=(400, 4)) for m in (0, 2.5, 5)])
    sample = x[np.sort(rng.choice(len(x), 300, replace=False))]
    start, theirs_start = _both(sample, 3)
    _assert_same(start, sample, theirs_start)
    with threadpool_limits(1):
        theirs = GaussianMixture(n_components=3, covariance_type="tied", n_init=1,
                                 random_state=SEED, reg_covar=REG,
                                 weights_init=theirs_start.weights_,
                                 means_init=theirs_start.means_,
                                 precisions_init=theirs_start.precisions_).fit(x)
        ours = fit_tied_mixture(x, 3, n_init=1, random_state=SEED, reg_covar=REG, start=start)
    _assert_same(ours, x, theirs)


def test_the_sum_over_features_is_numpys_own():
    """The E step sums squares over the features with whole-array additions in the order of
    numpy's pairwise sum of a contiguous row: the same sums to the last bit, for every length."""
    from analytics.gaussian_mixture import _pairwise_sum

    rng = np.random.default_rng(11)
    for n in (*range(1, 40), 127, 128, 129, 300):
        rows = (rng.exponential(size=(20_000, n))
                * rng.choice([1e-8, 1e-3, 1.0, 1e3, 1e8], size=(20_000, 1)))
        np.testing.assert_array_equal(_pairwise_sum(np.ascontiguousarray(rows.T)),
                                      np.sum(rows, axis=-1), err_msg=f"n = {n}")
