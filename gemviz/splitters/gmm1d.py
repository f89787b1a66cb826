"""scikit-learn's 1-D ``GaussianMixture`` fit, computed on the distinct values and their counts.

GEM's train scores repeat: every step of a task shares its score (the published AITZ file has
4,724 steps and 506 distinct scores), so a million steps hold about a hundred thousand
distinct values. Every step of the fit that scikit-learn runs per sample (k-means++ seeding,
Lloyd's k-means, the E- and M-steps of EM, the log-likelihood in the BIC) is a function of the
sample's value, and every sum over samples is a sum over distinct values weighted by their
counts. :func:`fit_counts` runs that same algorithm (``GaussianMixture(n_components=k,
random_state=seed)`` with its defaults: full covariance, k-means initialisation, one init,
``tol=1e-3``, ``reg_covar=1e-6``, ``max_iter=100``) on the distinct values, with the same
random draws, so the parameters agree with scikit-learn's to rounding (about 1e-14) and the
iteration counts are the same.

The one step that depends on the samples' order is k-means++'s draw of candidate centres: a
uniform number is located in the running sum of every sample's distance, in file order. That
running sum is computed over all samples (one gather and one cumulative sum per centre), so
the same samples are drawn. A k-means cluster that empties (scikit-learn then moves a far
sample into it) is not reproduced: :class:`NotReproducedError` is raised and the caller fits with
scikit-learn instead. With many distinct values (from :data:`KERNEL_MIN` on) the same steps
run in the compiled loops of :mod:`gemviz.splitters.gmm1d_kernels`. The reproduction follows scikit-learn 1.9.1 (pinned in
``requirements.txt``); ``tests/test_splitters.py`` compares the two on the published scores.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp

from gemviz.splitters.gmm1d_kernels import kernels

_LOG_2PI = math.log(2 * math.pi)
_NK_EPS = 10 * np.finfo(np.float64).eps  # scikit-learn adds it to every component's weight
_REG_COVAR = 1e-6
_TOL = 1e-3
_MAX_ITER = 100
_KMEANS_TOL = 1e-4
_KMEANS_MAX_ITER = 300
# From this many distinct values on, the fit runs in compiled loops (gmm1d_kernels) instead
# of values x components arrays: the same arithmetic, four to ten times less time. Loading
# numba and its cached loops costs about 0.4 s once, which the loops win back from here on
# (measured: 0.56 s against 0.58 s at 10,000 values, 0.35 s against 1.63 s at 22,000).
KERNEL_MIN = 10_000


def _random_state(seed: int | None) -> np.random.RandomState:
    """The generator ``sklearn.utils.check_random_state`` gives for a seed (or None)."""
    if seed is None:
        return np.random.mtrand._rand
    return np.random.RandomState(seed)


class NotReproducedError(Exception):
    """The fit reached a step this module does not reproduce (an emptied k-means cluster)."""


@dataclass(frozen=True)
class Distinct:
    """The train scores as distinct values, their counts and each sample's value index.

    Attributes:
        column: All scores as an ``n x 1`` float64 array, in the given order.
        values: The distinct values, ascending.
        counts: How many samples hold each value (float64).
        index: For each sample, the position of its value in ``values``.
    """

    column: np.ndarray
    values: np.ndarray
    counts: np.ndarray
    index: np.ndarray

    @classmethod
    def of(cls, scores: np.ndarray) -> Distinct:
        """The distinct values of a 1-D float array (NaN-free)."""
        x = np.ascontiguousarray(scores, dtype=np.float64).ravel()
        values, index, counts = np.unique(x, return_inverse=True, return_counts=True)
        return cls(x.reshape(-1, 1), values, counts.astype(np.float64), index)

    @property
    def n(self) -> int:
        """Number of samples."""
        return int(self.column.shape[0])


@dataclass(frozen=True)
class Fit:
    """One component count's mixture, as scikit-learn's attributes would hold it.

    Attributes:
        means, variances, weights: One entry per component, in k-means' cluster order.
        bic: ``GaussianMixture.bic`` on the same scores.
        converged: Whether EM stopped on ``tol`` within ``max_iter`` iterations.
        n_iter: EM iterations run.
    """

    means: np.ndarray
    variances: np.ndarray
    weights: np.ndarray
    bic: float
    converged: bool
    n_iter: int


def _distances(center: np.ndarray, values: np.ndarray, squares: np.ndarray) -> np.ndarray:
    """Squared distances as scikit-learn's ``_euclidean_distances`` rounds them."""
    d = -2 * (center[:, None] * values[None, :])
    d += (center * center)[:, None]
    d += squares[None, :]
    np.maximum(d, 0, out=d)
    return d


def _seed_centers(data: Distinct, centered: np.ndarray, k: int, rng) -> np.ndarray:
    """k-means++ seeding with scikit-learn's draws (greedy, ``2 + log k`` trials per centre)."""
    n = data.n
    squares = centered * centered
    first = rng.choice(n, p=np.ones(n) / n)
    centers = np.empty(k)
    centers[0] = centered[data.index[first]]
    closest = _distances(centers[:1], centered, squares)[0]
    potential = float(data.counts @ closest)
    trials = 2 + int(np.log(k))
    for c in range(1, k):
        targets = rng.uniform(size=trials) * potential
        # The running sum runs over the samples in their order, as scikit-learn's does.
        picked = np.searchsorted(np.cumsum(closest[data.index]), targets)
        np.clip(picked, None, n - 1, out=picked)
        candidates = centered[data.index[picked]]
        dist = _distances(candidates, centered, squares)
        np.minimum(closest, dist, out=dist)
        potentials = dist @ data.counts
        best = int(np.argmin(potentials))
        potential = float(potentials[best])
        closest = dist[best]
        centers[c] = candidates[best]
    return centers


def _nearest(centered: np.ndarray, centers: np.ndarray) -> np.ndarray:
    # Lloyd's assignment compares |c|^2 - 2 x.c (the sample's own norm dropped), as sklearn does.
    return np.argmin((centers * centers)[None, :] + (-2.0 * (centered[:, None] * centers)), axis=1)


def _seed_centers_compiled(data: Distinct, centered: np.ndarray, k: int, rng) -> np.ndarray:
    """:func:`_seed_centers` in compiled loops: the same draws, no ``trials x values`` array."""
    run = kernels()
    n = data.n
    squares = centered * centered
    first = rng.choice(n, p=np.ones(n) / n)
    centers = np.empty(k)
    centers[0] = centered[data.index[first]]
    closest = np.full(centered.size, np.inf)
    run["seed_closest"](centered, squares, closest, centers[0])
    potential = float(data.counts @ closest)
    trials = 2 + int(np.log(k))
    running = np.empty(n)
    potentials = np.empty(trials)
    for c in range(1, k):
        targets = rng.uniform(size=trials) * potential
        run["running_sum"](closest, data.index, running)
        picked = np.searchsorted(running, targets)
        np.clip(picked, None, n - 1, out=picked)
        candidates = centered[data.index[picked]]
        run["seed_potentials"](centered, squares, data.counts, closest, candidates, potentials)
        best = int(np.argmin(potentials))
        potential = float(potentials[best])
        run["seed_closest"](centered, squares, closest, candidates[best])
        centers[c] = candidates[best]
    return centers


def _kmeans_compiled(data: Distinct, centered: np.ndarray, centers: np.ndarray, tol: float):
    """:func:`_kmeans_labels`' Lloyd iterations in compiled loops."""
    lloyd = kernels()["lloyd_pass"]
    k = centers.size
    weight = np.empty(k)
    wsum = np.empty(k)
    previous = np.full(centered.size, -1)
    strict = False
    for _ in range(_KMEANS_MAX_ITER):
        labels = np.empty(centered.size, dtype=np.int64)
        lloyd(centered, data.counts, centers, labels, weight, wsum)
        if (weight == 0).any():
            raise NotReproducedError(f"a k-means cluster emptied with {k} components")
        updated = wsum / weight
        shift = float(((updated - centers) ** 2).sum())
        centers = updated
        if np.array_equal(labels, previous):
            strict = True
            break
        if shift <= tol:
            break
        previous = labels
    if not strict:
        labels = np.empty(centered.size, dtype=np.int64)
        lloyd(centered, data.counts, centers, labels, weight, wsum)
    return labels


def _kmeans_labels(data: Distinct, k: int, rng) -> np.ndarray:
    """Lloyd's k-means from k-means++ seeds; the cluster of every distinct value."""
    centered = data.values - data.column.mean(axis=0)[0]
    tol = float(np.mean(np.var(data.column, axis=0))) * _KMEANS_TOL
    if data.values.size >= KERNEL_MIN:
        centers = _seed_centers_compiled(data, centered, k, rng)
        return _kmeans_compiled(data, centered, centers, tol)
    centers = _seed_centers(data, centered, k, rng)
    previous = np.full(centered.size, -1)
    labels = previous
    strict = False
    for _ in range(_KMEANS_MAX_ITER):
        labels = _nearest(centered, centers)
        weight = np.bincount(labels, weights=data.counts, minlength=k)
        if (weight == 0).any():
            raise NotReproducedError(f"a k-means cluster emptied with {k} components")
        updated = np.bincount(labels, weights=data.counts * centered, minlength=k) / weight
        shift = float(((updated - centers) ** 2).sum())
        centers = updated
        if np.array_equal(labels, previous):
            strict = True
            break
        if shift <= tol:
            break
        previous = labels
    if not strict:
        labels = _nearest(centered, centers)
    return labels


def _parameters(data: Distinct, resp: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    weighted = resp * data.counts[:, None]
    nk = weighted.sum(axis=0) + _NK_EPS
    means = (weighted.T @ data.values) / nk
    diff = data.values[:, None] - means[None, :]
    variances = (weighted * diff * diff).sum(axis=0) / nk + _REG_COVAR
    return nk, means, variances


def _weighted_log_prob(data: Distinct, weights, means, precision) -> np.ndarray:
    y = data.values[:, None] * precision[None, :] - (means * precision)[None, :]
    return -0.5 * (_LOG_2PI + y * y) + np.log(precision)[None, :] + np.log(weights)[None, :]


def _label_parameters(data: Distinct, labels: np.ndarray, k: int):
    """:func:`_parameters` of one-hot responsibilities, from the labels."""
    nk = np.bincount(labels, weights=data.counts, minlength=k) + _NK_EPS
    means = np.bincount(labels, weights=data.counts * data.values, minlength=k) / nk
    diff = data.values - means[labels]
    spread = np.bincount(labels, weights=data.counts * diff * diff, minlength=k)
    return nk, means, spread / nk + _REG_COVAR


def _em_compiled(data: Distinct, labels: np.ndarray, k: int) -> Fit:
    """EM from the k-means labels with one compiled pass per iteration (see fit_counts)."""
    e_step = kernels()["e_step"]
    n = data.n
    nk, means, variances = _label_parameters(data, labels, k)
    weights = nk / n
    stats = np.empty((3, k))
    bound = -np.inf
    converged = False
    n_iter = 0
    while n_iter < _MAX_ITER:
        n_iter += 1
        previous = bound
        precision = 1.0 / np.sqrt(variances)
        bound = e_step(data.values, data.counts, weights, means, precision, means, stats) / n
        nk = stats[0] + _NK_EPS
        updated = (stats[1] + means * stats[0]) / nk
        move = updated - means
        spread = stats[2] - 2 * move * stats[1] + move * move * stats[0]
        means, variances = updated, spread / nk + _REG_COVAR
        weights = nk / nk.sum()
        if abs(bound - previous) < _TOL:
            converged = True
            break
    precision = 1.0 / np.sqrt(variances)
    final = e_step(data.values, data.counts, weights, means, precision, means, stats)
    bic = -2 * (final / n) * n + (3 * k - 1) * math.log(n)
    return Fit(means, variances, weights, float(bic), converged, n_iter)


def fit_counts(data: Distinct, k: int, random_state: int | None) -> Fit:
    """Fit ``GaussianMixture(n_components=k, random_state=random_state)`` on the scores.

    Args:
        data: The scores as :class:`Distinct` values (at least ``k`` of them).
        k: Component count.
        random_state: The seed scikit-learn would get (None: fresh entropy).

    Returns:
        The :class:`Fit`.

    Raises:
        NotReproducedError: A k-means cluster emptied; fit with scikit-learn instead.
    """
    rng = _random_state(random_state)
    n = data.n
    labels = _kmeans_labels(data, k, rng)
    if data.values.size >= KERNEL_MIN:
        return _em_compiled(data, labels, k)
    resp = np.zeros((data.values.size, k))
    resp[np.arange(data.values.size), labels] = 1
    nk, means, variances = _parameters(data, resp)
    weights = nk / n
    precision = 1.0 / np.sqrt(variances)
    bound = -np.inf
    converged = False
    n_iter = 0
    while n_iter < _MAX_ITER:
        n_iter += 1
        previous = bound
        log_prob = _weighted_log_prob(data, weights, means, precision)
        norm = logsumexp(log_prob, axis=1)
        bound = float(data.counts @ norm) / n
        with np.errstate(under="ignore"):
            resp = np.exp(log_prob - norm[:, None])
        nk, means, variances = _parameters(data, resp)
        weights = nk / nk.sum()
        precision = 1.0 / np.sqrt(variances)
        if abs(bound - previous) < _TOL:
            converged = True
            break
    final = logsumexp(_weighted_log_prob(data, weights, means, precision), axis=1)
    # GaussianMixture.bic: -2 * (mean log-likelihood) * n + (free parameters) * log n
    bic = -2 * (float(data.counts @ final) / n) * n + (3 * k - 1) * math.log(n)
    return Fit(means, variances, weights, float(bic), converged, n_iter)
