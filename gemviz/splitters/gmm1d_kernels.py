"""Compiled loops for :mod:`gemviz.splitters.gmm1d` when the scores have many distinct values.

Scores of hidden states rarely repeat, so a million steps can hold a million distinct values.
The array version of the fit then builds several ``values x components`` arrays per EM
iteration and per k-means pass. These loops run the same arithmetic one value at a time, in
one pass over the values, with nothing of that size allocated:

- :func:`lloyd_pass`: the nearest centre of every value (the comparison scikit-learn's Lloyd
  iteration makes, operation for operation) and the weighted sums of the update;
- :func:`seed_potentials` / :func:`seed_closest`: k-means++'s candidate potentials and the
  distances of the kept candidate, as ``_euclidean_distances`` rounds them;
- :func:`running_sum`: k-means++'s running sum of distances in the samples' own order;
- :func:`e_step`: the log-likelihood and the sums of the M-step in one pass. The variance sum
  is taken about the previous means and moved to the new ones exactly
  (``Σ r(x-m)² = Σ r(x-c)² - 2(m-c)Σ r(x-c) + (m-c)²Σ r``), so responsibilities are never
  stored.

numba compiles them on first use (cached on disk afterwards); it is imported only then.
"""

from __future__ import annotations

import math

import numpy as np

_LOG_2PI = math.log(2 * math.pi)
_KERNELS: dict | None = None
_UNDERFLOW = -746.0  # exp of anything below is 0.0 in float64


def _lloyd_pass(centered, counts, centers, labels, weight, wsum):
    k = centers.shape[0]
    squares = centers * centers
    weight[:] = 0.0
    wsum[:] = 0.0
    for i in range(centered.shape[0]):
        x = centered[i]
        best = 0
        low = squares[0] + (-2.0 * (x * centers[0]))
        for j in range(1, k):
            d = squares[j] + (-2.0 * (x * centers[j]))
            if d < low:
                low = d
                best = j
        labels[i] = best
        weight[best] += counts[i]
        wsum[best] += counts[i] * x


def _seed_potentials(centered, squares, counts, closest, candidates, out):
    t = candidates.shape[0]
    out[:] = 0.0
    for i in range(centered.shape[0]):
        x = centered[i]
        for j in range(t):
            c = candidates[j]
            d = -2.0 * (c * x)
            d += c * c
            d += squares[i]
            d = max(d, 0.0)
            out[j] += min(closest[i], d) * counts[i]


def _seed_closest(centered, squares, closest, c):
    for i in range(centered.shape[0]):
        d = -2.0 * (c * centered[i])
        d += c * c
        d += squares[i]
        d = max(d, 0.0)
        closest[i] = min(closest[i], d)


def _running_sum(closest, index, out):
    total = 0.0
    for i in range(index.shape[0]):
        total += closest[index[i]]
        out[i] = total


def _e_step(values, counts, weights, means, precision, shift, stats):
    """Sums of one E-step: stats rows are Σr, Σr(x-shift), Σr(x-shift)²; returns Σ c·log p."""
    k = means.shape[0]
    offset = np.log(precision) + np.log(weights)
    mp = means * precision
    lp = np.empty(k)
    stats[:, :] = 0.0
    likelihood = 0.0
    for i in range(values.shape[0]):
        x = values[i]
        top = -np.inf
        for j in range(k):
            y = x * precision[j] - mp[j]
            lp[j] = -0.5 * (_LOG_2PI + y * y) + offset[j]
            top = max(top, lp[j])
        # log-sum-exp as scikit-learn takes it: the maxima counted, the rest summed, log1p.
        ties = 0.0
        rest = 0.0
        for j in range(k):
            if lp[j] == top:
                ties += 1.0
                lp[j] = 1.0
            elif lp[j] - top < _UNDERFLOW:
                lp[j] = 0.0  # what exp gives there
            else:
                lp[j] = math.exp(lp[j] - top)
                rest += lp[j]
        c = counts[i]
        likelihood += c * (math.log1p(rest / ties) + math.log(ties) + top)
        scale = c / (ties + rest)
        for j in range(k):
            r = lp[j] * scale
            d = x - shift[j]
            stats[0, j] += r
            stats[1, j] += r * d
            stats[2, j] += r * d * d
    return likelihood


def kernels() -> dict:
    """The compiled loops by name (compiled, or loaded from numba's cache, on first call)."""
    global _KERNELS
    if _KERNELS is None:
        import numba  # heavy: only fits with many distinct scores need it

        jit = numba.njit(cache=True, nogil=True)
        _KERNELS = {
            "lloyd_pass": jit(_lloyd_pass),
            "seed_potentials": jit(_seed_potentials),
            "seed_closest": jit(_seed_closest),
            "running_sum": jit(_running_sum),
            "e_step": jit(_e_step),
        }
    return _KERNELS
