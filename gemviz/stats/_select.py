"""The k-th smallest of each row of uniform random keys, without reordering whole rows.

A random relabelling of whole clusters puts in set a the clusters whose uniform keys are the
``k_a`` smallest of their row (:func:`gemviz.stats._studentized.relabelled`). ``np.partition``
finds that threshold by reordering every row; with a hundred thousand clusters and two
thousand draws per column it was most of a permutation test's time. Keys drawn uniformly on
[0, 1) put the k-th smallest within a few binomial standard deviations of ``(k + 1/2) / n``:
the keys below a band around it are counted, the few inside it (about 2% of a row of
100,000) are sorted, and the threshold is read among them. The value is the one
``np.partition`` gives, exactly: a row whose threshold falls outside the band (about one in
a billion for uniform keys, every row for keys that are not) goes to ``np.partition``, so
the relabellings and every number built on them are unchanged.
"""

from __future__ import annotations

import math

import numpy as np

# Rows shorter than this are partitioned whole (the band saves nothing there).
MIN_ROW = 20_000
# Half-width of the band in binomial standard deviations of the threshold's rank.
_WIDTH = 7.0


def kth_smallest(keys: np.ndarray, kth: int) -> np.ndarray:
    """``np.partition(keys, kth, axis=1)[:, kth]`` of ``(rows, n)`` keys, exactly.

    Fast when the keys are uniform on [0, 1) and rows hold :data:`MIN_ROW` keys or more.
    """
    rows, n = keys.shape
    if n < MIN_ROW:
        return np.partition(keys, kth, axis=1)[:, kth]
    q = (kth + 0.5) / n
    half = _WIDTH * math.sqrt(q * (1.0 - q) / n)
    below = np.count_nonzero(keys < q - half, axis=1)
    inside = (keys >= q - half) & (keys <= q + half)
    counts = np.count_nonzero(inside, axis=1)
    # The band's keys row by row, sorted, padded with +inf to the longest row's count.
    band = np.full((rows, int(counts.max(initial=0))), np.inf)
    row = np.repeat(np.arange(rows), counts)
    band[row, np.arange(row.size) - np.repeat(np.cumsum(counts) - counts, counts)] = keys[inside]
    band.sort(axis=1)
    rank = kth - below
    found = (rank >= 0) & (rank < counts)
    out = np.empty(rows)
    out[found] = band[found, rank[found]]
    if not found.all():
        out[~found] = np.partition(keys[~found], kth, axis=1)[:, kth]
    return out
