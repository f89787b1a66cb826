"""Means with their 95% intervals (Wilson for steps, Korn-Graubard for clusters), and the one
``small`` rule every output with a mean or a test uses."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from gemviz.stats import _dist
from gemviz.stats._base import ArrayLike, _z

# Below this many steps a mean is flagged ``small``: its 95% interval is wider than about
# +/-0.18 at p=0.5, too wide for the differences the study compares.
SMALL_N = 30
# Below this many clusters a cluster-level variance rests on too few units to trust much.
SMALL_CLUSTERS = 10


def is_small(n: int | np.ndarray, clusters: int | np.ndarray) -> bool | np.ndarray:
    """The one ``small`` rule: fewer than :data:`SMALL_N` steps or :data:`SMALL_CLUSTERS` clusters.

    Every output with a mean or a test flags its rows with it (a comparison is small when
    either side is). At step level the clusters are the steps, so the rule is ``n < 30``.

    Args:
        n: Steps (scalar or array).
        clusters: Clusters behind them (same shape).

    Returns:
        True where the estimate rests on too little data to read much into.
    """
    out = (np.asarray(n) < SMALL_N) | (np.asarray(clusters) < SMALL_CLUSTERS)
    return bool(out) if out.ndim == 0 else out


@dataclass(frozen=True)
class MeanEstimate:
    """A mean with its sample size, cluster count and 95% interval.

    ``n_clusters`` equals ``n`` for step-level estimates (no clusters given).
    """

    mean: float
    n: int
    lo: float
    hi: float
    n_clusters: int = -1

    def __post_init__(self) -> None:
        if self.n_clusters < 0:
            object.__setattr__(self, "n_clusters", self.n)

    @property
    def small(self) -> bool:
        """True when ``n`` is below :data:`SMALL_N` or the clusters below :data:`SMALL_CLUSTERS`."""
        return bool(is_small(self.n, self.n_clusters))


def wilson_interval(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion ``k / n``.

    Unlike the normal (Wald) interval it stays inside [0, 1] and keeps its coverage for
    small ``n`` and proportions near 0 or 1, which is where the OOD sets of the study live.

    Args:
        k: Successes (e.g. steps with exact match).
        n: Trials; 0 gives ``(nan, nan)``.
        confidence: Two-sided level.

    Returns:
        ``(lo, hi)``.

    Raises:
        ValueError: ``k`` outside ``0..n`` or ``confidence`` outside (0, 1).
    """
    if n == 0:
        return (math.nan, math.nan)
    if not 0 <= k <= n:
        raise ValueError(f"k must lie in 0..n, got k={k}, n={n}")
    z = _z(confidence)
    p = k / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    # Round-off must not keep k=0 and k=n from reaching exactly 0 and 1.
    lo = 0.0 if k == 0 else max(0.0, centre - half)
    hi = 1.0 if k == n else min(1.0, centre + half)
    return (lo, hi)


def mean_estimate(
    values: ArrayLike, clusters: ArrayLike | None = None, confidence: float = 0.95
) -> MeanEstimate:
    """Mean of values in [0, 1] (0/1 results) with n, clusters and a 95% interval.

    Without ``clusters`` (step level) the interval is Wilson's. With ``clusters`` it is Korn
    and Graubard's: the Clopper-Pearson interval on the effective sample size ``n`` divided
    by the design effect (the cluster-robust variance of the mean over the binomial one, at
    least 1) and multiplied by ``(t_{n-1} / t_df)**2`` for the uncertainty of that variance,
    ``df`` one less than the clusters that hold the rarer outcome (with a mean near 0, the
    clusters with any success: the variance rests on them, and looks small exactly when the
    sample missed the clusters that often succeed). A mean of exactly 0 or 1 carries no
    variance information: its effective n is Kish's ``n^2 / sum N_k^2`` (as if every cluster
    were one draw) and ``df = K - 1``. The interval stays inside [0, 1] and never has zero width; a single
    cluster gives the whole range [0, 1].

    Args:
        values: One value per step (0/1 results; any values in [0, 1] work).
        clusters: One cluster code per step (e.g. ``study.clusters[mask]``); None treats
            every step as its own cluster.
        confidence: Two-sided level.

    Returns:
        A :class:`MeanEstimate`; n = 0 gives NaNs.

    Raises:
        ValueError: ``clusters`` of another length, or ``confidence`` outside (0, 1).
    """
    arr = np.asarray(values, dtype=float).ravel()
    n = int(arr.size)
    if n == 0:
        return MeanEstimate(math.nan, 0, math.nan, math.nan, 0)
    if clusters is None:
        codes = None
    else:
        codes = np.asarray(clusters).ravel()
        if codes.size != n:
            raise ValueError(f"values and clusters differ in length: {n} vs {codes.size}")
    sums, counts = _cluster_totals(arr[:, None], codes)
    est = mean_intervals(sums, counts, confidence, singletons=codes is None)
    return MeanEstimate(
        float(est["mean"][0]),
        n,
        float(est["lo"][0]),
        float(est["hi"][0]),
        int(counts.size),
    )


def mean_intervals(
    sums: np.ndarray, counts: np.ndarray, confidence: float = 0.95, singletons: bool = False
) -> dict[str, np.ndarray]:
    """Vectorised :func:`mean_estimate` from per-cluster totals.

    Args:
        sums: ``(K, m)`` per-cluster sums of ``m`` value columns (clusters with no steps in
            the set may be included with zero counts; they are ignored).
        counts: ``(K,)`` or ``(K, m)`` steps per cluster in the set.
        confidence: Two-sided level.
        singletons: True when every cluster is one step (step level): plain Wilson.

    Returns:
        ``{"mean", "lo", "hi", "n", "k"}`` arrays of length ``m``.
    """
    sums = np.asarray(sums, dtype=float)
    if sums.ndim == 1:
        sums = sums[:, None]
    counts = np.asarray(counts, dtype=float)
    m = sums.shape[1]
    if counts.ndim == 1:
        # One count column for every value column: reduce it once (strided sums are slow).
        n = np.full(m, counts.sum())
        k = np.full(m, int((counts > 0).sum()))
        counts = counts[:, None]
    else:
        n = counts.sum(axis=0)
        k = (counts > 0).sum(axis=0)
    z = _z(confidence)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = sums.sum(axis=0) / n
        if singletons:
            lo, hi = _wilson(mean, n, z)
        else:
            lo, hi = _korn_graubard(sums, counts, mean, n, k, confidence)
    if not singletons:
        lo = np.where(k == 1, 0.0, lo)
        hi = np.where(k == 1, 1.0, hi)
    empty = n == 0
    for arr in (mean, lo, hi):
        arr[empty] = math.nan
    return {"mean": mean, "lo": lo, "hi": hi, "n": n.astype(np.int64), "k": k.astype(np.int64)}


def _korn_graubard(
    sums: np.ndarray,
    counts: np.ndarray,
    mean: np.ndarray,
    n: np.ndarray,
    k: np.ndarray,
    confidence: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Clopper-Pearson bounds on the Korn-Graubard effective sample size (see mean_estimate)."""
    alpha = 1.0 - confidence
    resid = sums - mean * counts
    var = k / (k - 1) * (resid**2).sum(axis=0) / n**2
    binom = mean * (1 - mean) / n
    sq = (counts**2).sum(axis=0)
    kish = n**2 / sq
    inner = (mean > 0) & (mean < 1) & (binom > 1e-15)
    n_eff = np.where(inner, n / np.maximum(1.0, var / np.where(inner, binom, 1.0)), kish)
    # The variance rests on the clusters that hold the rarer outcome: with 0/1 values and a
    # mean near 0, on the few clusters with any success (otherwise it looks small exactly when
    # the sample missed the clusters that succeed often).
    has = counts > 0
    minor = np.minimum(
        (has & (sums > 1e-12)).sum(axis=0), (has & (sums < counts - 1e-12)).sum(axis=0)
    )
    # A mean of 0 or 1 estimates no variance (Kish's n above): only the clusters count.
    df = np.maximum(np.where(inner, np.minimum(k, minor), k) - 1, 1.0)
    ratio = _dist.t_ppf(1 - alpha / 2, np.maximum(n - 1, 1)) / _dist.t_ppf(1 - alpha / 2, df)
    # Never below Kish's n: with values in [0, 1] no spread exceeds every cluster being one
    # draw, so a few informative clusters (df near 1) cannot widen the interval past it.
    n_eff = np.minimum(n, np.maximum(n_eff * ratio**2, kish))
    x = np.clip(mean, 0.0, 1.0) * n_eff
    lo = np.where(x <= 0, 0.0, _dist.beta_ppf(alpha / 2, x, n_eff - x + 1))
    hi = np.where(x >= n_eff, 1.0, _dist.beta_ppf(1 - alpha / 2, x + 1, n_eff - x))
    return np.nan_to_num(lo, nan=0.0), np.nan_to_num(hi, nan=1.0)


def _wilson(p: np.ndarray, n: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    """Wilson bounds for proportions ``p`` on (possibly fractional) sample sizes ``n``."""
    p = np.clip(p, 0.0, 1.0)
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z / denom * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    # Round-off must not keep p=0 and p=1 from reaching exactly 0 and 1.
    lo = np.where(p <= 0.0, 0.0, np.maximum(0.0, centre - half))
    hi = np.where(p >= 1.0, 1.0, np.minimum(1.0, centre + half))
    return lo, hi


def _cluster_totals(
    values: np.ndarray, codes: np.ndarray | None, weights: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Per-cluster sums ``(K, m)`` of ``values`` ``(n, m)`` and steps per cluster ``(K,)``.

    Only clusters with at least one step are returned; ``weights`` (0/1 per step) restricts
    the steps counted.
    """
    values = np.asarray(values, dtype=float)
    if codes is None:
        if weights is None:
            return values, np.ones(values.shape[0])
        keep = np.asarray(weights, dtype=bool)
        return values[keep], np.ones(int(keep.sum()))
    _, inverse = np.unique(codes, return_inverse=True)
    w = np.ones(values.shape[0]) if weights is None else np.asarray(weights, dtype=float)
    k = int(inverse.max()) + 1 if inverse.size else 0
    counts = np.bincount(inverse, weights=w, minlength=k)
    sums = (
        np.column_stack(
            [
                np.bincount(inverse, weights=values[:, j] * w, minlength=k)
                for j in range(values.shape[1])
            ]
        )
        if values.shape[1]
        else np.zeros((k, 0))
    )
    keep = counts > 0
    return sums[keep], counts[keep]
