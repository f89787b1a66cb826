"""Does a region behave like the rest of its reference set? The drill-down's test."""

from __future__ import annotations

import numpy as np

from gemviz.stats._base import cluster_codes
from gemviz.stats.randomization import N_PERM, compare_sets


def region_test(
    values: np.ndarray,
    ref: np.ndarray,
    region: np.ndarray,
    clusters: np.ndarray | None = None,
    n_perm: int = N_PERM,
    confidence: float = 0.95,
) -> dict[str, np.ndarray]:
    """``mean(region) - mean(ref)`` (the region part of ``ref``) with a task-level test.

    The region is compared with the rest of ``ref`` by :func:`gemviz.stats.compare_sets`: a
    permutation of whole clusters when every cluster of ``ref`` lies wholly inside or outside
    the region (GEM's task-level scores, and always at step level), the cluster-robust score t
    when some cluster straddles the region's border. Since ``mean(R) - mean(ref) = (1 -
    n_R / n_ref) (mean(R) - mean(ref \\ R))``, the difference and its interval are the
    comparison's, rescaled by that factor; the p-value is the comparison's.

    Args:
        values: ``(n,)`` or ``(n, m)`` per-step values in [0, 1].
        ref: The reference set (e.g. splitter A's ID set).
        region: The region (a subset of ``ref``; steps outside ``ref`` are ignored).
        clusters: Cluster code per step; None for singletons.
        n_perm: Random relabellings when there are too many to enumerate.
        confidence: Two-sided level.

    Returns:
        Arrays of length ``m``: ``diff, lo, hi, p, mean, ref_mean`` and counts ``n, k, ref_n,
        ref_k`` (region and reference steps and clusters); ``method`` (strings): the test of
        each column (:data:`gemviz.stats.randomization.PERMUTATION`, ``SCORE_T`` or
        ``UNTESTABLE``).
    """
    vals = np.asarray(values, dtype=float)
    vals = vals[:, None] if vals.ndim == 1 else vals
    ref = np.asarray(ref, dtype=bool)
    reg = np.asarray(region, dtype=bool) & ref
    rest = ref & ~reg
    m = vals.shape[1]
    codes = None if clusters is None else np.asarray(clusters)
    out = compare_sets(vals, reg, rest, codes, confidence, n_perm, kind="region")
    n_reg, n_ref = int(reg.sum()), int(ref.sum())
    k_reg = _distinct(codes, reg) if codes is not None else n_reg
    k_ref = _distinct(codes, ref) if codes is not None else n_ref
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.compress(reg, vals, axis=0).sum(axis=0) / n_reg if n_reg else np.full(m, np.nan)
        ref_mean = (
            np.compress(ref, vals, axis=0).sum(axis=0) / n_ref if n_ref else np.full(m, np.nan)
        )
    factor = 1.0 - n_reg / n_ref if n_ref else np.nan
    diff = mean - ref_mean
    if n_reg and n_reg == n_ref:
        diff = np.zeros(m)  # the region is the whole set: nothing to test
    return {
        "diff": diff,
        "lo": factor * out["lo"],
        "hi": factor * out["hi"],
        "p": out["p"],
        "mean": mean,
        "ref_mean": ref_mean,
        "n": np.full(m, n_reg),
        "k": np.full(m, k_reg),
        "ref_n": np.full(m, n_ref),
        "ref_k": np.full(m, k_ref),
        "method": out["test"],
    }


def _distinct(codes: np.ndarray, used: np.ndarray) -> int:
    """How many distinct clusters the steps of ``used`` touch (counted, not sorted, for a
    study's small codes: :func:`gemviz.stats._base.cluster_codes`)."""
    return int(cluster_codes(codes, used).max()) + 1 if used.any() else 0
