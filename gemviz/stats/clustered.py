"""Cluster-robust (linearised) differences: the CR1 t, and the interaction on the log-odds scale."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats as _sps

from gemviz.stats._base import ArrayLike, cluster_codes, column_sums

# The small-sample t tests (the score t, the log-odds interaction) need at least this many
# clusters in the smaller set: below it the t reference has under 3 degrees of freedom and
# the score t never rejected a true null in simulation, nor anything else.
MIN_SCORE_CLUSTERS = 4


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


def logodds_did(
    a: np.ndarray,
    b: np.ndarray,
    in_a: np.ndarray,
    in_b: np.ndarray,
    clusters: np.ndarray | None = None,
    confidence: float = 0.95,
) -> dict[str, np.ndarray]:
    """The interaction on the log-odds scale, with a cluster-robust (delta method) t interval.

    ``L = [logit(A) - logit(B)] on set a - [logit(A) - logit(B)] on set b``, each cell's
    mean taken as ``(sum + 0.5) / (n + 1)`` so that 0 and 1 give finite log-odds. A constant
    advantage on the log-odds scale gives ``L = 0`` however close a set is to 0 or 1, where
    the difference in differences of probabilities does not. Its variance sums each cluster's
    linearised contribution over the four cells (``G / (G - 1)`` factor, t on ``G - 1``
    degrees of freedom). ``G`` counts, per column, the clusters that carry information in the
    thinnest of the four cells: the clusters holding its rarer outcome (near 0, those with
    any success), since a log-odds near the floor rests on them alone.

    Args:
        a, b: ``(n, m)`` per-step values of the two models (columns paired).
        in_a, in_b: Masks of the two sets (e.g. ID and OOD).
        clusters: Cluster code per step; None for singletons.
        confidence: Two-sided level.

    Returns:
        Arrays of length ``m``: ``est, lo, hi, p`` (NaN when ``G`` is below
        :data:`MIN_SCORE_CLUSTERS` or the variance is 0).
    """
    va = np.asarray(a, dtype=float)
    vb = np.asarray(b, dtype=float)
    va = va[:, None] if va.ndim == 1 else va
    vb = vb[:, None] if vb.ndim == 1 else vb
    sa_mask = np.asarray(in_a, dtype=bool)
    sb_mask = np.asarray(in_b, dtype=bool) & ~sa_mask
    used = sa_mask | sb_mask
    inv = cluster_codes(clusters, used)
    k = int(inv.max()) + 1 if inv.size else 0
    m = va.shape[1]
    est = np.zeros(m)
    infl = np.zeros((k, m))
    g = np.full(m, k)
    for mask, sign in ((sa_mask, 1.0), (sb_mask, -1.0)):
        w = mask[used].astype(float)
        cnt = np.bincount(inv, weights=w, minlength=k)
        n = cnt.sum()
        for vals, model_sign in ((va, 1.0), (vb, -1.0)):
            s = column_sums(inv, vals[used] * w[:, None], k)
            has = (cnt > 0)[:, None]
            rare = np.minimum(
                (has & (s > 1e-12)).sum(axis=0), (has & (s < cnt[:, None] - 1e-12)).sum(axis=0)
            )
            g = np.minimum(g, rare)
            with np.errstate(invalid="ignore", divide="ignore"):
                mean = s.sum(axis=0) / n
                smooth = (s.sum(axis=0) + 0.5) / (n + 1.0)
                est += sign * model_sign * np.log(smooth / (1.0 - smooth))
                infl += sign * model_sign * (s - mean * cnt[:, None]) / n / (smooth * (1 - smooth))
    enough = g >= MIN_SCORE_CLUSTERS
    gg = np.where(enough, g, MIN_SCORE_CLUSTERS).astype(float)
    se = np.sqrt(gg / (gg - 1) * (infl**2).sum(axis=0))
    crit = _sps.t.ppf(0.5 + confidence / 2.0, gg - 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.where(enough & (se > 0), 2.0 * _sps.t.sf(np.abs(est) / se, gg - 1), math.nan)
    ok = enough & (se > 0)
    return {
        "est": est,
        "lo": np.where(ok, est - crit * se, math.nan),
        "hi": np.where(ok, est + crit * se, math.nan),
        "p": p,
    }
