"""The k-th smallest of each row of uniform random keys, without sorting whole rows.

A random relabelling of whole clusters puts in set a the clusters whose uniform keys are the
``k_a`` smallest of their row (:func:`gemviz.stats._studentized.relabelled`). ``np.partition``
finds that threshold by reordering every row; with a hundred thousand clusters and two
thousand draws per column it is most of a permutation test's time. Keys drawn uniformly on
[0, 1) put the k-th smallest within a few binomial standard deviations of ``(k + 1/2) / n``:
one pass per row counts the keys below a band around it and keeps those inside, and the
threshold is found among the kept ones. The value is the one ``np.partition`` gives, exactly
(a row whose threshold falls outside the band, about one in a billion, goes to
``np.partition``), so the relabellings and every number built on them are unchanged.

The loop is compiled by numba on first use (cached on disk afterwards); it is imported only
then, and only for rows long enough to pay for it.
"""

from __future__ import annotations

import math

import numpy as np

# Rows shorter than this are partitioned by numpy (no compiled loop, no numba import).
MIN_ROW = 20_000
# Half-width of the band in binomial standard deviations of the threshold's rank.
_WIDTH = 7.0
_KERNEL = None


def _band_select(keys, kth, lo, hi, out):
    n = keys.shape[1]
    buf = np.empty(n + 1)
    for i in range(keys.shape[0]):
        below = 0
        m = 0
        for j in range(n):  # no branch: random keys would mispredict one in three
            v = keys[i, j]
            below += v < lo
            buf[m] = v
            m += (v >= lo) & (v <= hi)
        r = kth - below
        if 0 <= r < m:
            out[i] = np.sort(buf[:m])[r]
        else:
            out[i] = np.nan


def _kernel():
    global _KERNEL
    if _KERNEL is None:
        import numba  # heavy: only long rows need it

        _KERNEL = numba.njit(cache=True, nogil=True)(_band_select)
    return _KERNEL


def kth_smallest(keys: np.ndarray, kth: int) -> np.ndarray:
    """``np.partition(keys, kth, axis=1)[:, kth]`` of ``(rows, n)`` keys uniform on [0, 1).

    Exact for any keys; fast when they are uniform (rows of :data:`MIN_ROW` keys or more).
    """
    rows, n = keys.shape
    if n < MIN_ROW:
        return np.partition(keys, kth, axis=1)[:, kth]
    q = (kth + 0.5) / n
    sd = math.sqrt(q * (1.0 - q) / n)
    lo, hi = q - _WIDTH * sd, q + _WIDTH * sd
    out = np.empty(rows)
    _kernel()(np.ascontiguousarray(keys), kth, lo, hi, out)
    missed = np.isnan(out)
    if missed.any():
        out[missed] = np.partition(keys[missed], kth, axis=1)[:, kth]
    return out
