"""Step-level resampling: bootstrap and permutation by counts, McNemar's exact test.

These are the classical methods for independent steps (``--cluster-by none``); every routine
is vectorised by drawing how often each distinct value appears instead of resampling indices.
"""

from __future__ import annotations

import math

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
