"""Relabellings of whole clusters and the intervals that invert a test over them.

Private to :mod:`gemviz.stats.randomization`: all relabellings of two sets (or a seeded
sample of them, drawn by counts when clusters fall into few kinds), and the inversion of a
permutation or sign-flip test into the interval of shifts it accepts.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from gemviz.stats._base import _CHUNK_ELEMENTS
from gemviz.stats._select import kth_smallest

# Cluster kinds (steps, sum, set) up to which draws are made by counts.
MAX_KINDS = 256
# Sums that are whole multiples of 1/d for d up to this (means over up to 20 runs) count too.
MAX_DENOMINATOR = 20


def invert(
    observed: float, a: np.ndarray, b: np.ndarray, alpha: float, exact: bool, bound: float
) -> tuple[float, float, float]:
    """p-value at 0 and the accepted shifts around ``observed``.

    Draw ``j`` counts as "as extreme" at shift ``delta`` when ``|a_j - delta b_j| >=
    |observed - delta|``; with ``|b_j| <= 1`` that holds on one closed interval of deltas
    (a quadratic's non-negative part). A shift is accepted while enough draws count:
    ``count / M > alpha`` when all ``M`` arrangements are enumerated (the observed one among
    them), ``(1 + count) / (B + 1) > alpha`` for ``B`` random draws. The interval is the run of
    accepted shifts holding ``observed``, widened to 0 when 0 is accepted too.
    """
    tol = 1e-12 * max(1.0, abs(observed))
    extreme0 = int((np.abs(a) >= abs(observed) - tol).sum())
    if exact:
        p = extreme0 / a.size
        need = math.floor(alpha * a.size + 1e-9) + 1
    else:
        p = (1 + extreme0) / (a.size + 1)
        need = max(0, math.floor(alpha * (a.size + 1) + 1e-9))
    if need <= 0:
        return p, -bound, bound
    qa = b * b - 1.0
    qb = 2.0 * (observed - a * b)
    qc = a * a - observed * observed + tol
    start = np.full(a.shape, math.nan)
    end = np.full(a.shape, math.nan)
    quad = qa < -1e-12
    disc = qb * qb - 4.0 * qa * qc
    real = quad & (disc >= 0)
    root = np.sqrt(np.maximum(disc, 0.0))
    with np.errstate(invalid="ignore", divide="ignore"):
        r1 = (-qb + root) / (2.0 * qa)
        r2 = (-qb - root) / (2.0 * qa)
        line = -qc / qb
    start[real] = np.minimum(r1, r2)[real]
    end[real] = np.maximum(r1, r2)[real]
    lin = ~quad
    up = lin & (qb > 1e-15)
    down = lin & (qb < -1e-15)
    flat = lin & ~up & ~down & (qc >= 0)
    start[up], end[up] = line[up], math.inf
    start[down], end[down] = -math.inf, line[down]
    start[flat], end[flat] = -math.inf, math.inf
    ok = ~np.isnan(start)
    starts, ends = np.sort(start[ok]), np.sort(end[ok])
    # The count is constant between consecutive break points; test each point and each gap.
    points = np.unique(np.concatenate([starts, ends]))
    points = points[np.isfinite(points)]
    at = np.searchsorted(starts, points, "right") - np.searchsorted(ends, points, "left")
    gaps = np.concatenate([[-math.inf], points])
    between = np.searchsorted(starts, gaps, "right") - np.searchsorted(ends, gaps, "right")
    # Segments in order: gap before point 0, point 0, gap, point 1, ..., gap after the last.
    accepted = np.empty(2 * points.size + 1, dtype=bool)
    accepted[0::2] = between >= need
    accepted[1::2] = at >= need
    where = int(np.searchsorted(points, observed, "left"))
    seg = 2 * where + 1 if where < points.size and points[where] == observed else 2 * where
    if not accepted[seg]:
        return p, -bound, bound  # cannot happen: the observed value is always accepted
    # The run of accepted segments around the observed one.
    before = np.flatnonzero(~accepted[:seg])
    after = np.flatnonzero(~accepted[seg + 1 :])
    first = int(before[-1]) + 1 if before.size else 0
    last = seg + int(after[0]) if after.size else accepted.size - 1
    lo = -math.inf if first == 0 else points[(first - 1) // 2]
    hi = math.inf if last == accepted.size - 1 else points[last // 2]
    if p > alpha:
        lo, hi = min(lo, 0.0), max(hi, 0.0)
    return p, max(lo, -bound), min(hi, bound)


def enumerated_groups(
    sums: np.ndarray, counts: np.ndarray, g_n: np.ndarray, k_a: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Totals of set a under every relabelling (the smaller side enumerated)."""
    k = sums.size
    side = min(k_a, k - k_a)
    combos = np.array(list(itertools.combinations(range(k), side)), dtype=np.int64)
    combos = combos.reshape(-1, side)
    # Totals over the enumerated side by index (never a dense relabelling matrix).
    out = [v[combos].sum(axis=1) for v in (sums, counts, g_n)]
    if side != k_a:
        out = [v.sum() - o for v, o in zip((sums, counts, g_n), out, strict=True)]
    return out[0], out[1], out[2]


def drawn_groups(
    rng: np.random.Generator,
    sums: np.ndarray,
    counts: np.ndarray,
    group: np.ndarray,
    k_a: int,
    n_perm: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Totals of set a under ``n_perm`` random relabellings (by kinds when they are few)."""
    found = kinds(counts, sums, group)
    if found is not None:
        kind_n, kind_s, kind_g, kind_count = found
        # By marginals when the kinds are few or the clusters many, else by counts (fastest
        # for some dozens of kinds over a few thousand clusters).
        few = kind_count.size <= 16 or kind_count.sum() > 10_000
        method = "marginals" if few else "count"
        drawn = rng.multivariate_hypergeometric(kind_count, k_a, size=n_perm, method=method)
        drawn = drawn.astype(float)
        return drawn @ kind_s, drawn @ kind_n, drawn @ (kind_g * kind_n)
    k = sums.size
    g_n = group * counts
    out_s, out_n, out_g = np.empty(n_perm), np.empty(n_perm), np.empty(n_perm)
    rows = max(1, _CHUNK_ELEMENTS // max(k, 1))
    for start in range(0, n_perm, rows):
        stop = min(n_perm, start + rows)
        keys = rng.random((stop - start, k))
        # The k_a clusters with the smallest keys form set a: a uniform random subset.
        pick = (keys <= kth_smallest(keys, k_a - 1)[:, None]).astype(float)
        out_s[start:stop], out_n[start:stop], out_g[start:stop] = (
            pick @ sums,
            pick @ counts,
            pick @ g_n,
        )
    return out_s, out_n, out_g


def kinds(
    counts: np.ndarray, sums: np.ndarray, group: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """Distinct (steps, sum, set) clusters and how many clusters have each, or None.

    None when the sums are not whole numbers (nor whole multiples of ``1 / d`` for some ``d``
    up to :data:`MAX_DENOMINATOR`, as means over a few runs are) or there are more than
    :data:`MAX_KINDS` kinds.
    """
    scale = next(
        (
            d
            for d in range(1, MAX_DENOMINATOR + 1)
            if np.allclose(sums * d, np.round(sums * d), rtol=0, atol=1e-9)
        ),
        None,
    )
    if scale is None:
        return None
    whole = np.round(sums * scale)
    # One integer key per cluster (a 1-D unique is far faster than rows of a table).
    steps = np.round(counts).astype(np.int64)
    low = int(whole.min(initial=0))
    span = int(whole.max(initial=0)) - low + 1
    key = (steps * span + (whole.astype(np.int64) - low)) * 2 + group.astype(np.int64)
    uniq, kind_count = np.unique(key, return_counts=True)
    if uniq.size > MAX_KINDS:
        return None
    kind_g = (uniq % 2).astype(float)
    rest = uniq // 2
    kind_s = (rest % span + low).astype(float) / scale
    return (rest // span).astype(float), kind_s, kind_g, kind_count
