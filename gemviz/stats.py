"""Statistics for per-step results of agents: means, differences, tests, multiplicity.

Agent steps come in clusters (tasks or episodes, see :mod:`gemviz.clusters`) and are not
independent, so every estimate here takes the steps' cluster codes; singleton clusters
(``--cluster-by none``) give the classical step-level methods. Each number has one method, and
its p-value and interval come from the same computation, so a verdict can never contradict its
own interval:

- a mean: Wilson interval on the Korn-Graubard effective sample size
  (``n / design effect``, shrunk by ``(z / t_{K-1})**2``); plain Wilson for singletons;
- a difference of means (ID-OOD gap, paired model difference, difference in differences):
  a cluster-robust (linearised, CR1) standard error with a t reference on ``K - 1`` degrees of
  freedom, ``K`` the clusters of the smaller group; the test is the matching t test;
- a region against the rest of its set (set-difference drill-down): a permutation test that
  shuffles whole clusters, and the interval obtained by inverting it under a shift model;
- p-values of one family (a page section, a CLI output): Holm or Benjamini-Hochberg.

The older step-level resampling helpers (bootstrap by counts, permutation by counts, McNemar)
stay for ``none`` and for comparisons. Resampling is vectorised; all randomness comes from
``numpy.random.default_rng(seed)``, seed 42 by default.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as _sps

SEED = 42
# Below this many samples a mean is flagged ``small``: its 95% interval is wider than about
# +/-0.18 at p=0.5, too wide for the differences the study compares.
SMALL_N = 30
# Below this many clusters a cluster-level variance rests on too few units to trust much.
SMALL_CLUSTERS = 10
# Margin of "no detectable difference": the 95% interval must lie within +/- this.
MARGIN = 0.05
# Significance level of the verdicts (applied to adjusted p-values).
ALPHA = 0.05
ADJUST_METHODS = ("holm", "bh")
# Few enough distinct values to resample by counts rather than by indices.
_MAX_CATEGORIES = 16
# Cap on the elements of one chunk of an index matrix (about 32 MB of int64).
_CHUNK_ELEMENTS = 4_000_000

ArrayLike = Sequence[float] | np.ndarray


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
        return self.n < SMALL_N or self.n_clusters < SMALL_CLUSTERS


@dataclass(frozen=True)
class DiffEstimate:
    """A difference with its 95% interval and two-sided p-value, from one method.

    ``n_a, n_b`` are the steps and ``clusters_a, clusters_b`` the clusters behind the two
    means (equal for a paired difference); ``df`` the degrees of freedom of the t reference
    (NaN for a permutation result).
    """

    diff: float
    lo: float
    hi: float
    p: float
    n_a: int
    n_b: int
    clusters_a: int
    clusters_b: int
    df: float = math.nan


def _z(confidence: float) -> float:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie strictly between 0 and 1, got {confidence}")
    return float(_sps.norm.ppf(0.5 + confidence / 2.0))


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

    Without ``clusters`` (step level) the interval is Wilson's. With ``clusters`` it is the
    Wilson interval on the Korn-Graubard effective sample size: ``n`` divided by the design
    effect (the cluster-robust variance of the mean over the binomial one, at least 1) and
    multiplied by ``(z / t_{K-1})**2`` for the few-cluster uncertainty of that variance. The
    interval stays inside [0, 1]. A mean of exactly 0 or 1 carries no variance information and
    uses design effect 1; a single cluster gives the whole range [0, 1].

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
    if counts.ndim == 1:
        counts = np.broadcast_to(counts[:, None], sums.shape)
    z = _z(confidence)
    n = counts.sum(axis=0)
    k = (counts > 0).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = sums.sum(axis=0) / n
        n_eff = n.copy()
        if not singletons:
            resid = sums - mean * counts
            var = k / (k - 1) * (resid**2).sum(axis=0) / n**2
            binom = mean * (1 - mean) / n
            deff = np.where(binom > 1e-15, np.maximum(1.0, var / binom), 1.0)
            t = _sps.t.ppf(0.5 + confidence / 2.0, np.maximum(k - 1, 1))
            n_eff = n / deff * (z / t) ** 2
        lo, hi = _wilson(mean, n_eff, z)
    if not singletons:
        lo = np.where(k == 1, 0.0, lo)
        hi = np.where(k == 1, 1.0, hi)
    empty = n == 0
    for arr in (mean, lo, hi):
        arr[empty] = math.nan
    return {"mean": mean, "lo": lo, "hi": hi, "n": n.astype(np.int64), "k": k.astype(np.int64)}


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


def adjust_pvalues(p: ArrayLike, method: str = "holm") -> np.ndarray:
    """Adjust a family of p-values for multiple testing.

    ``"holm"`` controls the family-wise error rate (Holm's step-down Bonferroni);
    ``"bh"`` controls the false discovery rate (Benjamini-Hochberg step-up). NaN p-values
    (tests that could not be run) stay NaN and do not count towards the family size.

    Args:
        p: The family's p-values, any shape.
        method: ``"holm"`` or ``"bh"``.

    Returns:
        Adjusted p-values, same shape, capped at 1 and never below the raw ones.

    Raises:
        ValueError: An unknown method.
    """
    method = str(method).lower()
    if method not in ADJUST_METHODS:
        raise ValueError(f"unknown p-value adjustment '{method}'; use holm or bh")
    arr = np.asarray(p, dtype=float)
    flat = arr.ravel()
    out = np.full(flat.shape, math.nan)
    ok = ~np.isnan(flat)
    q = flat[ok]
    m = q.size
    if m:
        order = np.argsort(q, kind="stable")
        sorted_p = q[order]
        rank = np.arange(1, m + 1)
        if method == "holm":
            adj = np.maximum.accumulate((m - rank + 1) * sorted_p)
        else:
            adj = np.minimum.accumulate((m / rank * sorted_p)[::-1])[::-1]
        back = np.empty(m)
        back[order] = np.minimum(adj, 1.0)
        out[ok] = back
    return out.reshape(arr.shape)


def bootstrap_means(
    values: ArrayLike, n_boot: int = 2000, seed: int | np.random.Generator = SEED
) -> np.ndarray:
    """Means of ``n_boot`` bootstrap resamples of ``values`` (each of the original size).

    Args:
        values: 1-D data; empty gives an array of NaN.
        n_boot: Number of resamples.
        seed: Seed or generator.

    Returns:
        Array of ``n_boot`` resample means.
    """
    rng = np.random.default_rng(seed)
    arr = np.asarray(values, dtype=float).ravel()
    n = arr.size
    if n == 0:
        return np.full(n_boot, math.nan)
    uniques, counts = np.unique(arr, return_counts=True)
    if uniques.size <= _MAX_CATEGORIES:
        # A resample is a multinomial draw of how often each distinct value appears.
        drawn = rng.multinomial(n, counts / n, size=n_boot)
        return drawn @ uniques / n
    out = np.empty(n_boot)
    step = max(1, _CHUNK_ELEMENTS // n)
    for start in range(0, n_boot, step):
        stop = min(n_boot, start + step)
        idx = rng.integers(0, n, size=(stop - start, n))
        out[start:stop] = arr[idx].mean(axis=1)
    return out


def bootstrap_diff(
    a: ArrayLike,
    b: ArrayLike,
    *,
    paired: bool = False,
    n_boot: int = 2000,
    confidence: float = 0.95,
    seed: int | np.random.Generator = SEED,
) -> tuple[float, float, float]:
    """Difference of means ``mean(a) - mean(b)`` with a percentile bootstrap interval.

    Args:
        a, b: The two samples.
        paired: True when ``a[i]`` and ``b[i]`` are the same sample under two conditions
            (e.g. two models on the same steps): pairs are resampled together. Otherwise the
            two groups are resampled independently (a stratified bootstrap).
        n_boot: Number of resamples.
        confidence: Two-sided level of the interval.
        seed: Seed or generator.

    Returns:
        ``(diff, lo, hi)``; NaNs when either group is empty.

    Raises:
        ValueError: ``paired`` with samples of different lengths.
    """
    rng = np.random.default_rng(seed)
    x = np.asarray(a, dtype=float).ravel()
    y = np.asarray(b, dtype=float).ravel()
    if paired and x.size != y.size:
        raise ValueError(f"paired samples need equal lengths, got {x.size} and {y.size}")
    if x.size == 0 or y.size == 0:
        return (math.nan, math.nan, math.nan)
    if paired:
        diff = x - y
        boots = bootstrap_means(diff, n_boot, rng)
        observed = float(diff.mean())
    else:
        boots = bootstrap_means(x, n_boot, rng) - bootstrap_means(y, n_boot, rng)
        observed = float(x.mean() - y.mean())
    tail = (1.0 - confidence) / 2.0 * 100.0
    lo, hi = np.percentile(boots, [tail, 100.0 - tail])
    return (observed, float(lo), float(hi))


def permutation_pvalue(
    values: ArrayLike,
    member: ArrayLike,
    n_perm: int = 2000,
    seed: int | np.random.Generator = SEED,
) -> float:
    """Two-sided permutation p-value for "the members' mean differs from the others' mean".

    The null hypothesis is that membership is unrelated to the values; it is simulated by
    shuffling membership over all samples (group sizes kept). The statistic is
    ``mean(members) - mean(others)``; the p-value is
    ``(1 + #{|T*| >= |T|}) / (n_perm + 1)``, which is never 0.

    Args:
        values: 1-D data over the whole set.
        member: Boolean mask of the same length selecting the group.
        n_perm: Number of shuffles.
        seed: Seed or generator.

    Returns:
        The p-value, or NaN when either group is empty.
    """
    rng = np.random.default_rng(seed)
    arr = np.asarray(values, dtype=float).ravel()
    mask = np.asarray(member, dtype=bool).ravel()
    if arr.size != mask.size:
        raise ValueError(f"values and member differ in length: {arr.size} vs {mask.size}")
    n, m = arr.size, int(mask.sum())
    if m == 0 or m == n:
        return math.nan
    total = arr.sum()
    uniques, counts = np.unique(arr, return_counts=True)
    if uniques.size <= _MAX_CATEGORIES:
        # How many of each distinct value a random group of size m receives.
        drawn = rng.multivariate_hypergeometric(counts, m, size=n_perm)
        sums = drawn @ uniques
    else:
        sums = np.empty(n_perm)
        step = max(1, _CHUNK_ELEMENTS // n)
        for start in range(0, n_perm, step):
            stop = min(n_perm, start + step)
            keys = rng.random((stop - start, n))
            chosen = np.argpartition(keys, m - 1, axis=1)[:, :m]
            sums[start:stop] = arr[chosen].sum(axis=1)
    stat = sums / m - (total - sums) / (n - m)
    observed = arr[mask].mean() - arr[~mask].mean()
    # A small tolerance so ties with the observed value count as "as extreme".
    extreme = np.abs(stat) >= abs(observed) - 1e-12
    return float((1 + extreme.sum()) / (n_perm + 1))


def mcnemar_exact(b: int, c: int) -> float:
    """McNemar's exact test on the discordant pairs of a paired 0/1 comparison.

    Args:
        b: Pairs where only the first model succeeds.
        c: Pairs where only the second model succeeds.

    Returns:
        Two-sided p-value of ``b ~ Binomial(b + c, 1/2)``; 1.0 when there are no
        discordant pairs.
    """
    if b < 0 or c < 0:
        raise ValueError(f"counts must be non-negative, got b={b}, c={c}")
    if b + c == 0:
        return 1.0
    return float(_sps.binomtest(int(b), int(b + c), 0.5).pvalue)
