"""Reference statistics that only the tests and benchmarks use.

Step-level bootstrap and permutation by counts (the classical methods for independent steps,
checked against index resampling) and the cluster-robust CR1 t of a difference
(:func:`clustered_diff`), which the calibration benchmark compares with the task-level tests
gemviz reports.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats as _sps

from gemviz.stats._base import _CHUNK_ELEMENTS, SEED, ArrayLike

# Few enough distinct values to resample by counts rather than by indices.
_MAX_CATEGORIES = 16


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


def holm(p) -> np.ndarray:
    """Holm's adjustment written out: sorted p times (m, m-1, ...), running maximum, cap 1;
    a test that could not be run (NaN) is no member of the family."""
    p = np.asarray(p, float)
    out = np.full_like(p, np.nan)
    run = np.flatnonzero(~np.isnan(p))
    order = run[np.argsort(p[run], kind="stable")]
    scaled = np.maximum.accumulate(p[order] * (len(order) - np.arange(len(order))))
    out[order] = np.minimum(scaled, 1.0)
    return out
