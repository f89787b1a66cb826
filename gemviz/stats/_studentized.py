"""The studentized permutation of whole clusters and its guard: tests of equal means.

Private to :mod:`gemviz.stats.randomization`. Relabelling whole clusters between two sets is
exact when the clusters are exchangeable, but with the plain difference of means it tests
"same distribution": when one set's clusters are more heterogeneous than the other's, equal
means are rejected too often. Dividing the difference by its cluster-robust standard error
(each set's own spread, as in Welch's t) makes the same relabellings a test of equal means
that stays exact under exchangeability.

The permutation is exact only when the clusters are exchangeable; when one set is far more
heterogeneous and few of its clusters carry the information (rare successes, a handful of
tasks), no relabelling can show it. :func:`welch_guard` is a cluster-robust Welch t that
needs no exchangeability, its variance widened where it rests on few informative clusters;
:func:`gemviz.stats.compare_sets` reports the larger of the two p-values and the hull of the
two intervals, so a difference is called only when both agree.

Every statistic here is a function of eight per-cluster moments totalled over the clusters a
relabelling puts in set a, so one draw of relabellings serves every shift ``delta`` that the
interval's search tries (a shift taken off set a's steps is linear in those totals).
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from gemviz.stats import _dist
from gemviz.stats._base import _CHUNK_ELEMENTS
from gemviz.stats._relabel import kinds
from gemviz.stats._select import kth_smallest

# Moments per cluster: s, n, g n, s^2, s g n, g n^2, s n, n^2 (s: centred sum, n: steps,
# g: 1 in the observed set a).
_S, _N, _GN, _S2, _SGN, _GN2, _SN, _N2 = range(8)
# Relative tolerance under which two statistics count as tied.
_TIE = 1e-9
# Bisection stops when the bracket is this narrow (on the scale of the difference).
_STEP_TOL = 1e-8
# A set's variance rests on at most this many times Satterthwaite's effective number of
# clusters carrying it, ``(sum e_k^2)^2 / sum e_k^4`` (chosen by simulation: 1 costs much power
# with heavy-tailed task lengths, no limit lets 8 heterogeneous tasks reject 7.5%).
CARRY = 2.0


def moments(sums: np.ndarray, counts: np.ndarray, group: np.ndarray) -> np.ndarray:
    """``(k, 8)`` per-cluster moments, the sums centred on the pooled mean (less round-off)."""
    s = sums - counts * (sums.sum() / counts.sum())
    g = group.astype(float)
    n = counts.astype(float)
    return np.column_stack([s, n, g * n, s * s, s * g * n, g * n * n, s * n, n * n])


def relabelled(
    mom: np.ndarray,
    sums: np.ndarray,
    counts: np.ndarray,
    group: np.ndarray,
    exact: bool,
    rng: np.random.Generator | None,
    n_perm: int,
) -> np.ndarray:
    """``(M, 8)`` moment totals of set a under every relabelling, or ``n_perm`` random ones."""
    k, k_a = sums.size, int(group.sum())
    if exact:
        side = min(k_a, k - k_a)
        combos = np.array(list(itertools.combinations(range(k), side)), dtype=np.int64)
        out = mom[combos.reshape(-1, side)].sum(axis=1)
        return mom.sum(axis=0) - out if side != k_a else out
    found = kinds(counts, sums, group)
    if found is not None:
        kind_n, kind_s, kind_g, kind_count = found
        few = kind_count.size <= 16 or kind_count.sum() > 10_000
        method = "marginals" if few else "count"
        drawn = rng.multivariate_hypergeometric(kind_count, k_a, size=n_perm, method=method)
        centred = kind_s - kind_n * (sums.sum() / counts.sum())
        kind_mom = np.column_stack(
            [
                centred,
                kind_n,
                kind_g * kind_n,
                centred**2,
                centred * kind_g * kind_n,
                kind_g * kind_n**2,
                centred * kind_n,
                kind_n**2,
            ]
        )
        return drawn.astype(float) @ kind_mom
    out = np.empty((n_perm, 8))
    rows = max(1, _CHUNK_ELEMENTS // max(k, 1))
    for start in range(0, n_perm, rows):
        stop = min(n_perm, start + rows)
        keys = rng.random((stop - start, k))
        # The k_a clusters with the smallest keys form set a: a uniform random subset.
        pick = (keys <= kth_smallest(keys, k_a - 1)[:, None]).astype(float)
        out[start:stop] = pick @ mom
    return out


class Studentized:
    """The cluster-robust t of ``mean_a - mean_b - delta`` under each relabelling.

    ``t(delta)`` returns the statistics of every relabelling and of the observed labelling,
    with ``delta`` taken off the steps of the observed set a (so the observed difference
    becomes ``diff - delta``). Each set's variance is its own: ``f_a sum_a (S_k - m_a N_k)^2
    / N_a^2 + f_b sum_b (...)^2 / N_b^2``, ``f = K / (K - 1)`` per set (1 for a single
    cluster), floored at a tiny share of the pooled spread so that sets without variation
    give large, tied statistics rather than divisions by zero.
    """

    def __init__(self, mom: np.ndarray, totals: np.ndarray, group: np.ndarray) -> None:
        self.totals = totals
        self.observed = mom[group].sum(axis=0)[None, :]
        self.grand = mom.sum(axis=0)
        k, k_a = group.size, int(group.sum())
        self.f_a = k_a / (k_a - 1.0) if k_a > 1 else 1.0
        self.f_b = (k - k_a) / (k - k_a - 1.0) if k - k_a > 1 else 1.0
        n = self.grand[_N]
        self.floor = 1e-12 * max(self.grand[_S2], 1e-12) / (n * n) + 1e-300

    def _t(self, tot: np.ndarray, delta: float) -> np.ndarray:
        g = self.grand
        n_a = tot[:, _N]
        n_b = g[_N] - n_a
        s_a = tot[:, _S] - delta * tot[:, _GN]
        s_b = g[_S] - delta * g[_GN] - s_a
        m_a, m_b = s_a / n_a, s_b / n_b
        q_a = tot[:, _S2] - 2.0 * delta * tot[:, _SGN] + delta * delta * tot[:, _GN2]
        q_b = g[_S2] - 2.0 * delta * g[_SGN] + delta * delta * g[_GN2] - q_a
        r_a = tot[:, _SN] - delta * tot[:, _GN2]
        r_b = g[_SN] - delta * g[_GN2] - r_a
        w_a = tot[:, _N2]
        w_b = g[_N2] - w_a
        m0 = (g[_S] - delta * g[_GN]) / g[_N]
        ss_a = np.maximum(q_a - 2.0 * m0 * r_a + m0 * m0 * w_a, 0.0)
        ss_b = np.maximum(q_b - 2.0 * m0 * r_b + m0 * m0 * w_b, 0.0)
        var = self.f_a * ss_a / (n_a * n_a) + self.f_b * ss_b / (n_b * n_b)
        return (m_a - m_b) / np.sqrt(np.maximum(var, self.floor))

    def extreme(self, delta: float) -> int:
        """How many relabellings are at least as extreme as the observed one at ``delta``."""
        observed = abs(float(self._t(self.observed, delta)[0]))
        stats = np.abs(self._t(self.totals, delta))
        return int((stats >= observed * (1.0 - _TIE) - 1e-300).sum())


def invert(
    stat: Studentized, diff: float, alpha: float, exact: bool, bound: float
) -> tuple[float, float, float]:
    """p-value at 0 and the interval of shifts the studentized test accepts around ``diff``.

    A shift is accepted while ``count / M > alpha`` (all ``M`` relabellings enumerated) or
    ``(1 + count) / (B + 1) > alpha`` (``B`` random ones). Each bound is searched outward from
    the observed difference (always accepted) in doubling steps, 0 tried first when it lies
    on that side, and the last crossing bracketed is narrowed by bisection; when 0 is
    accepted the interval reaches 0, so ``p > alpha`` exactly when the interval holds 0.
    """
    m = stat.totals.shape[0]
    count0 = stat.extreme(0.0)
    if exact:
        p = count0 / m
        need = math.floor(alpha * m + 1e-9) + 1
    else:
        p = (1 + count0) / (m + 1)
        need = max(0, math.floor(alpha * (m + 1) + 1e-9))
    if need <= 0:
        return p, -bound, bound

    def accepted(delta: float) -> bool:
        return stat.extreme(delta) >= need

    # A first step on the scale of the observed difference's standard error.
    scale = abs(diff) / max(abs(float(stat._t(stat.observed, 0.0)[0])), 1e-12)
    first = min(max(4.0 * scale, 1e-4), 2.0 * bound)
    lo = _edge(accepted, diff, -1.0, first, bound)
    hi = _edge(accepted, diff, 1.0, first, bound)
    if p > alpha:
        lo, hi = min(lo, 0.0), max(hi, 0.0)
    return p, max(lo, -bound), min(hi, bound)


def _edge(accepted, diff: float, sign: float, first: float, bound: float) -> float:
    """The farthest accepted shift found from ``diff`` in direction ``sign`` (see invert)."""
    inside = diff
    step = first
    tries = []
    if sign * (0.0 - diff) > 0:
        tries.append(0.0)
    while True:
        point = diff + sign * step
        if sign * (point - sign * bound) >= 0:
            point = sign * bound
        tries.append(point)
        if point == sign * bound:
            break
        step *= 2.0
    tries = sorted(set(tries), key=lambda x: sign * (x - diff))
    outside = None
    for point in tries:
        if accepted(point):
            inside = point
        else:
            outside = point
            break
    if outside is None:
        return sign * bound
    while abs(outside - inside) > _STEP_TOL * max(1.0, abs(inside)):
        mid = 0.5 * (inside + outside)
        if accepted(mid):
            inside = mid
        else:
            outside = mid
    return inside


def welch_guard(
    x: np.ndarray, inv: np.ndarray, in_a: np.ndarray, confidence: float
) -> tuple[float, float, float]:
    """The cluster-robust Welch t of one column, on the clusters that carry its information.

    Each set's variance is its own (residuals about its own mean, ``K / (K - 1)``); the
    degrees of freedom count, per set, one less than its clusters that hold a step value other
    than the most common one of both sets (with rare successes, the clusters with any
    success: a skewed set's variance rests on them), or than :data:`CARRY` times the
    effective number of clusters carrying its variance, whichever is fewer. A set without any
    variation says nothing about its spread: it gets the largest variance its values allow at
    the other set's mean, ``(m - lo)(hi - m) / n_Kish`` (every cluster one draw, ``lo, hi`` the
    range of the values), on ``K - 1`` degrees of freedom, as a mean of 0 or 1 does in
    :func:`gemviz.stats.mean_intervals`. A varying set with a single informative cluster
    leaves no degrees of freedom (p = 1, the interval unbounded). Each set's variance is
    widened by ``(t_df / z)^2`` at the interval's level (Korn and Graubard's factor) and the
    sum read on the normal scale, so a set whose spread rests on few informative clusters
    weighs as the uncertain thing it is. Returns ``(p, lo, hi)``; NaN when neither set varies.
    """
    values, counts = _value_counts(np.round(x, 12))
    mode = values[np.argmax(counts)]
    sets = [_set_spread(x, inv, mask, mode) for mask in (in_a, ~in_a)]
    diff = sets[0][0] - sets[1][0]
    if sets[0][1] <= 0 and sets[1][1] <= 0:
        return math.nan, math.nan, math.nan
    var, dfs = [], []
    for (_mean, v, df, kish, k), (other, *_) in zip(sets, sets[::-1], strict=True):
        if v <= 0:
            v = max((other - values[0]) * (values[-1] - other), 0.0) / kish
            df = k - 1.0
        var.append(v)
        dfs.append(df)
    z = float(_dist.norm_ppf(0.5 + confidence / 2.0))
    total = 0.0
    for v, d in zip(var, dfs, strict=True):
        if v <= 0:
            continue
        if d < 1:
            return 1.0, -math.inf, math.inf
        total += v * (float(_dist.t_ppf(0.5 + confidence / 2.0, d)) / z) ** 2
    if total <= 0:
        return math.nan, math.nan, math.nan
    se = math.sqrt(total)
    p = float(2.0 * _dist.norm_sf(abs(diff) / se))
    return p, diff - z * se, diff + z * se


def _value_counts(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(x, return_counts=True)``; by a count when ``x`` holds a few whole numbers
    (0/1 results and their differences), instead of a sort."""
    if x.size:
        lo, hi = float(x.min()), float(x.max())
        if hi - lo <= 1024 and np.array_equal(x, np.floor(x)):
            counts = np.bincount((x - lo).astype(np.int64))
            present = np.flatnonzero(counts)
            return present + lo, counts[present]
    return np.unique(x, return_counts=True)


def _set_spread(
    x: np.ndarray, inv: np.ndarray, mask: np.ndarray, mode: float
) -> tuple[float, float, float, float, int]:
    """One set's mean, cluster-robust variance, informative degrees of freedom, Kish's
    effective number of clusters and its clusters."""
    codes = inv[mask]
    k = int(codes.max()) + 1 if codes.size else 0
    n_k = np.bincount(codes, minlength=k).astype(float)
    s_k = np.bincount(codes, weights=x[mask], minlength=k)
    odd = np.bincount(codes, weights=(np.abs(x[mask] - mode) > 1e-12), minlength=k)
    keep = n_k > 0
    n_k, s_k, odd = n_k[keep], s_k[keep], odd[keep]
    n = n_k.sum()
    mean = s_k.sum() / n
    g = n_k.size
    f = g / (g - 1.0) if g > 1 else 1.0
    sq = (s_k - mean * n_k) ** 2
    var = f * sq.sum() / n**2
    if var < 1e-15 * max(1.0, mean * mean):
        var = 0.0
    kish = n**2 / (n_k**2).sum()
    # The clusters that carry the variance: a few large residuals leave few degrees of freedom.
    carry = sq.sum() ** 2 / (sq**2).sum() if var > 0 else float(g)
    return mean, var, min(float((odd > 0).sum()), CARRY * carry) - 1.0, kish, g
