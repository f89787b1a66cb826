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
  shuffles whole clusters, and the interval obtained by inverting it under a shift model
  (the cluster-robust t when clusters straddle the region's border);
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


def clustered_diff(
    values: np.ndarray,
    in_a: np.ndarray,
    in_b: np.ndarray | None = None,
    clusters: np.ndarray | None = None,
    confidence: float = 0.95,
) -> dict[str, np.ndarray]:
    """Difference of two means (or one mean against 0) with a cluster-robust t interval and test.

    ``diff = mean(values[in_a]) - mean(values[in_b])``, or ``mean(values[in_a])`` when
    ``in_b`` is None (e.g. a paired difference ``a - b`` tested against 0). The means are
    ratios of per-cluster totals; their difference is linearised into one influence value per
    cluster ``u_k = (S_ak - m_a N_ak) / n_a - (S_bk - m_b N_bk) / n_b`` (a cluster may hold
    steps of both sets, e.g. an episode that straddles ID and OOD: its covariance is kept). The
    variance is ``G / (G - 1) * sum(u_k**2)`` (CR1), the reference distribution t with
    ``G - 1`` degrees of freedom, ``G`` the number of clusters of the smaller set. Interval and
    p-value are the same t statistic, so ``p < 1 - confidence`` exactly when the interval
    excludes 0. With singleton clusters this is Welch's z/t test (one set: the paired t test).

    Args:
        values: ``(n,)`` or ``(n, m)`` per-step values (m columns tested at once).
        in_a, in_b: Boolean masks of the two sets (``in_b`` None: one-sample).
        clusters: Cluster code per step; None for singletons.
        confidence: Two-sided level of the interval.

    Returns:
        Arrays of length ``m``: ``diff, lo, hi, p, df`` and the counts ``n_a, n_b, k_a, k_b``
        (steps and clusters). NaN where a set is empty or has a single cluster.
    """
    vals = np.asarray(values, dtype=float)
    vals = vals[:, None] if vals.ndim == 1 else vals
    a = np.asarray(in_a, dtype=bool)
    b = np.zeros_like(a) if in_b is None else np.asarray(in_b, dtype=bool)
    used = a | b
    if clusters is None:
        inv = np.arange(int(used.sum()))
    else:
        inv = _dense_codes(np.asarray(clusters)[used])
    k = int(inv.max()) + 1 if inv.size else 0
    x, wa, wb = vals[used], a[used].astype(float), b[used].astype(float)

    def totals(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        counts = np.bincount(inv, weights=w, minlength=k)
        sums = np.column_stack(
            [np.bincount(inv, weights=x[:, j] * w, minlength=k) for j in range(x.shape[1])]
        )
        return sums.reshape(k, x.shape[1]), counts

    sa, na = totals(wa)
    sb, nb = totals(wb)
    n_a, n_b = na.sum(), nb.sum()
    k_a, k_b = int((na > 0).sum()), int((nb > 0).sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        m_a = sa.sum(axis=0) / n_a
        u = (sa - m_a * na[:, None]) / n_a
        if in_b is None:
            diff, g = m_a, k_a
        else:
            m_b = sb.sum(axis=0) / n_b
            diff = m_a - m_b
            u = u - (sb - m_b * nb[:, None]) / n_b
            g = min(k_a, k_b)
        df = float(g - 1) if g >= 2 else math.nan
        se = np.sqrt(g / (g - 1) * (u**2).sum(axis=0)) if g >= 2 else np.full(diff.shape, np.nan)
        crit = _sps.t.ppf(0.5 + confidence / 2.0, df) if g >= 2 else math.nan
        stat = np.abs(diff) / se
        p = np.where(se > 0, 2.0 * _sps.t.sf(stat, df), np.where(diff == 0, 1.0, 0.0))
    p = np.where(np.isnan(se) | np.isnan(diff), math.nan, p)
    m = diff.size
    return {
        "diff": diff,
        "lo": diff - crit * se,
        "hi": diff + crit * se,
        "p": p,
        "df": np.full(m, df),
        "n_a": np.full(m, int(n_a)),
        "n_b": np.full(m, int(n_b)),
        "k_a": np.full(m, k_a),
        "k_b": np.full(m, k_b),
    }


def difference(
    values: ArrayLike,
    in_a: ArrayLike,
    in_b: ArrayLike | None = None,
    clusters: ArrayLike | None = None,
    confidence: float = 0.95,
) -> DiffEstimate:
    """One :func:`clustered_diff` as a :class:`DiffEstimate` (1-D ``values``).

    Args:
        values: One value per step.
        in_a, in_b: Masks of the two sets (``in_b`` None: ``mean(values[in_a])`` against 0).
        clusters: Cluster code per step; None for singletons.
        confidence: Two-sided level of the interval.
    """
    out = clustered_diff(
        np.asarray(values, dtype=float),
        np.asarray(in_a, dtype=bool),
        None if in_b is None else np.asarray(in_b, dtype=bool),
        None if clusters is None else np.asarray(clusters),
        confidence,
    )
    return DiffEstimate(
        float(out["diff"][0]),
        float(out["lo"][0]),
        float(out["hi"][0]),
        float(out["p"][0]),
        int(out["n_a"][0]),
        int(out["n_b"][0]),
        int(out["k_a"][0]),
        int(out["k_b"][0]),
        float(out["df"][0]),
    )


def _dense_codes(codes: np.ndarray) -> np.ndarray:
    """Cluster codes usable by ``np.bincount``: small non-negative ints as they are (empty
    clusters only add zero rows), anything else renumbered ``0..k-1``."""
    if (
        codes.dtype.kind in "iu"
        and codes.size
        and codes.min() >= 0
        and codes.max() < 4 * codes.size
    ):
        return codes.astype(np.int64, copy=False)
    return np.unique(codes, return_inverse=True)[1].reshape(-1)


def region_test(
    values: np.ndarray,
    ref: np.ndarray,
    region: np.ndarray,
    clusters: np.ndarray | None = None,
    n_perm: int = 2000,
    seed: int | np.random.Generator = SEED,
    confidence: float = 0.95,
) -> dict[str, np.ndarray]:
    """Does a region behave like the rest of its reference set? Cluster permutation test.

    The statistic is ``T = mean(region) - mean(ref)`` (the region is part of ``ref``). When
    every cluster of ``ref`` lies wholly inside or outside the region (as with GEM, whose
    scores are per task, and always at step level), its null distribution ("the region's
    clusters are exchangeable with the rest of ref's clusters") comes from relabelling whole
    clusters within ``ref``: a random ``k_reg`` of its ``k`` clusters form the region. It is
    drawn

    - by counts when clusters fall into few kinds (steps, successes): a multivariate
      hypergeometric draw of how many clusters of each kind land in the region, exactly
      equivalent and O(resamples) (this covers ``--cluster-by none`` and whole-task regions);
    - by drawing the region's clusters (uniform random subsets, Floyd's algorithm) when the
      region has at most a few hundred clusters;
    - otherwise (hundreds of clusters on both sides) by its normal limit: the linear
      permutation statistic ``sum_k f_pi(k) e_k`` (``f`` 1 for region clusters, else 0) has
      mean 0 and variance ``sum (f - f_bar)^2 sum e^2 / (K - 1)`` (``e_k = S_k - mean(ref)
      N_k``).

    When some cluster straddles the region and the rest (scores that vary within a task),
    shuffling whole clusters cannot reproduce how the region was drawn; the region is then
    compared with the rest of ``ref`` by :func:`clustered_diff` (cluster-robust t) and the
    difference and interval rescaled by ``1 - n_region / n_ref``. ``method`` says which.

    The p-value is two-sided, ``(1 + #{|T*| >= |T|}) / (n_perm + 1)`` (or its normal value),
    and the interval ``T -/+ q`` inverts the same test under a shift model, ``q`` being the
    smallest critical value, so ``p < 1 - confidence`` exactly when the interval excludes 0.

    Args:
        values: ``(n,)`` or ``(n, m)`` per-step values.
        ref: The reference set (e.g. splitter A's ID set).
        region: The region (a subset of ``ref``; steps outside ``ref`` are ignored).
        clusters: Cluster code per step; None for singletons.
        n_perm: Permutations.
        seed: Seed or generator (one stream; columns drawn one after another).
        confidence: Two-sided level.

    Returns:
        Arrays of length ``m``: ``diff, lo, hi, p, mean, ref_mean`` and counts ``n, k, ref_n,
        ref_k`` (region and reference steps and clusters); ``method`` (a string):
        ``"cluster permutation"`` or ``"cluster-robust t"``.
    """
    rng = np.random.default_rng(seed)
    vals = np.asarray(values, dtype=float)
    vals = vals[:, None] if vals.ndim == 1 else vals
    ref = np.asarray(ref, dtype=bool)
    reg = np.asarray(region, dtype=bool)[ref]
    codes = np.arange(ref.size) if clusters is None else np.asarray(clusters)
    _, inv = np.unique(codes[ref], return_inverse=True)
    k = int(inv.max()) + 1 if inv.size else 0
    x = vals[ref]
    m = x.shape[1]
    counts = np.bincount(inv, minlength=k).astype(float)
    in_reg = np.bincount(inv, weights=reg.astype(float), minlength=k)
    sums = np.zeros((k, m))
    reg_sums = np.zeros((k, m))
    for j in range(m):
        sums[:, j] = np.bincount(inv, weights=x[:, j], minlength=k)
        reg_sums[:, j] = np.bincount(inv, weights=x[:, j] * reg, minlength=k)
    n_ref, n_reg = counts.sum(), in_reg.sum()
    k_reg = int((in_reg > 0).sum())
    nan = np.full(m, math.nan)
    out = {
        "diff": nan.copy(),
        "lo": nan.copy(),
        "hi": nan.copy(),
        "p": nan.copy(),
        "mean": reg_sums.sum(axis=0) / n_reg if n_reg else nan.copy(),
        "ref_mean": sums.sum(axis=0) / n_ref if n_ref else nan.copy(),
        "n": np.full(m, int(n_reg)),
        "k": np.full(m, k_reg),
        "ref_n": np.full(m, int(n_ref)),
        "ref_k": np.full(m, k),
        "method": "cluster permutation",
    }
    if n_reg == 0:
        return out
    observed = out["mean"] - out["ref_mean"]
    out["diff"] = observed
    if n_reg == n_ref:
        out["diff"] = np.zeros(m)  # the region is the whole set: nothing to test
        return out
    share = in_reg / counts
    if not np.all((share == 0) | (share == 1)):
        # Some clusters straddle the region and the rest of the set: shuffling whole clusters
        # no longer reproduces how the region was drawn (it ignores which steps of a cluster
        # fall inside, and rejected a true null 15-40% of the time in simulation). Compare the
        # region with the rest by the cluster-robust t instead, which keeps each cluster's
        # covariance, and rescale: mean(R) - mean(S) = (1 - n_R / n_S) (mean(R) - mean(S \ R)).
        rest = ref & ~np.asarray(region, dtype=bool)
        t = clustered_diff(vals, ref & np.asarray(region, dtype=bool), rest, clusters, confidence)
        factor = 1.0 - n_reg / n_ref
        out.update(lo=factor * t["lo"], hi=factor * t["hi"], p=t["p"], method="cluster-robust t")
        return out
    alpha = 1.0 - confidence
    null = _region_null(rng, sums, counts, k_reg, out["ref_mean"], n_perm)
    if null is None:
        # Normal limit of the linear permutation statistic (hundreds of clusters each side).
        e = sums - out["ref_mean"] * counts[:, None]
        spread = ((share - share.mean()) ** 2).sum() * (e**2).sum(axis=0) / (k - 1)
        sd = np.sqrt(spread) / n_reg
        with np.errstate(invalid="ignore", divide="ignore"):
            out["p"] = np.where(sd > 0, 2 * _sps.norm.sf(np.abs(observed) / sd), 1.0)
        q = _z(confidence) * sd
    else:
        extreme = np.abs(null) >= np.abs(observed) - 1e-12
        out["p"] = (1 + extreme.sum(axis=0)) / (n_perm + 1)
        # p < alpha  <=>  fewer than ceil(alpha (B+1) - 1) null values reach |T|.
        j = math.ceil(alpha * (n_perm + 1) - 1)
        if j < 1:
            q = np.full(m, np.inf)
        else:
            ordered = -np.sort(-np.abs(null), axis=0)
            q = ordered[j - 1] + 1e-12
    out["lo"] = np.maximum(observed - q, -1.0)
    out["hi"] = np.minimum(observed + q, 1.0)
    return out


# Clusters kinds up to which the permutation is drawn by counts.
_MAX_KINDS = 256
# Region (or set) cluster counts up to which permutations are drawn exactly.
_MAX_DRAWN = 400


def _region_null(
    rng: np.random.Generator,
    sums: np.ndarray,
    counts: np.ndarray,
    k_reg: int,
    ref_mean: np.ndarray,
    n_perm: int,
) -> np.ndarray | None:
    """``(n_perm, m)`` null draws of ``mean(region) - mean(ref)`` when ``k_reg`` whole clusters
    of the ``k`` form the region, or None for the normal limit."""
    k, m = sums.shape
    null = np.empty((n_perm, m))
    kinds = [_kinds(counts, sums[:, j]) for j in range(m)]
    if all(kind is not None for kind in kinds):
        for j, (kind_n, kind_s, kind_counts) in enumerate(kinds):
            drawn = rng.multivariate_hypergeometric(kind_counts, k_reg, size=n_perm)
            null[:, j] = (drawn @ kind_s) / (drawn @ kind_n) - ref_mean[j]
        return null
    if k_reg <= _MAX_DRAWN:
        rows = max(1, _CHUNK_ELEMENTS // max(k_reg * max(m, 1), 1))
        for start in range(0, n_perm, rows):
            stop = min(n_perm, start + rows)
            chosen = _random_subsets(rng, k, k_reg, stop - start)
            with np.errstate(invalid="ignore", divide="ignore"):
                null[start:stop] = (
                    sums[chosen].sum(axis=1) / counts[chosen].sum(axis=1)[:, None] - ref_mean
                )
        return null
    return None


def _random_subsets(rng: np.random.Generator, k: int, size: int, rows: int) -> np.ndarray:
    """``rows`` uniformly random ``size``-subsets of ``0..k-1`` (Floyd's algorithm, vectorised)."""
    chosen = np.empty((rows, size), dtype=np.int64)
    taken = np.zeros((rows, k), dtype=bool)
    at = np.arange(rows)
    for i, j in enumerate(range(k - size, k)):
        t = rng.integers(0, j + 1, rows)
        t = np.where(taken[at, t], j, t)
        taken[at, t] = True
        chosen[:, i] = t
    return chosen


def _kinds(
    counts: np.ndarray, sums: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Distinct (steps, sum) pairs of the clusters and how many clusters have each, or None.

    None when the sums are not whole numbers or there are more than :data:`_MAX_KINDS` kinds.
    """
    whole = np.round(sums)
    if not np.allclose(sums, whole, rtol=0, atol=1e-9):
        return None
    low = whole.min(initial=0)
    base = int(whole.max(initial=0) - low) + 1
    key = counts.astype(np.int64) * base + (whole - low).astype(np.int64)
    uniq, kind_counts = np.unique(key, return_counts=True)
    if uniq.size > _MAX_KINDS:
        return None
    return (uniq // base).astype(float), (uniq % base + low).astype(float), kind_counts


def verdict(
    diff: float,
    lo: float,
    hi: float,
    p_adjusted: float,
    *,
    higher: str = "higher",
    lower: str = "lower",
    margin: float = MARGIN,
    alpha: float = ALPHA,
    method: str = "holm",
) -> str:
    """The plain-words reading of a difference, its 95% interval and its adjusted p-value.

    - ``p_adjusted < alpha``: ``higher``/``lower`` (the interval then excludes 0, since the
      interval and the raw p-value come from one method and adjusting only raises p);
    - otherwise, when the interval lies within ``+/- margin``: "no detectable difference";
    - otherwise: "too uncertain to tell", with the interval.

    Args:
        diff, lo, hi: The difference and its 95% interval.
        p_adjusted: The p-value adjusted over the family shown.
        higher, lower: Words for a significant positive / negative difference.
        margin: Differences within +/- margin count as negligible (default 0.05).
        alpha: Significance level for the adjusted p-value.
        method: The adjustment used, named in the verdict.

    Returns:
        One sentence fragment, e.g. ``"higher (+0.12, 95% CI +0.05 to +0.19; Holm p=0.003)"``.
    """
    if diff is None or math.isnan(diff):
        return "no data"
    if lo is None or math.isnan(lo) or p_adjusted is None or math.isnan(p_adjusted):
        return f"cannot be tested ({diff:+.2f}; too few clusters)"
    label = {"holm": "Holm", "bh": "BH"}.get(method, method)
    detail = f"{diff:+.2f}, 95% CI {lo:+.2f} to {hi:+.2f}; {label}-adjusted {format_p(p_adjusted)}"
    if p_adjusted < alpha:
        return f"{higher if diff > 0 else lower} ({detail})"
    if -margin <= lo and hi <= margin:
        return f"no detectable difference (interval within ±{margin:g}; {detail})"
    return f"too uncertain to tell ({detail})"


def format_p(p: float) -> str:
    """``p<0.001``, ``p=0.0042`` or ``p=0.41``."""
    return "p<0.001" if p < 0.001 else f"p={p:.2g}" if p < 0.01 else f"p={p:.2f}"
