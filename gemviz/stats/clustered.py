"""The interaction on the log-odds scale, with a cluster-robust (CR1, delta method) t."""

from __future__ import annotations

import math

import numpy as np

from gemviz.stats import _dist
from gemviz.stats._base import cluster_codes, column_sums

# The small-sample t tests (the score t, the log-odds interaction) need at least this many
# clusters in the smaller set: below it the t reference has under 3 degrees of freedom and
# the score t never rejected a true null in simulation, nor anything else.
MIN_SCORE_CLUSTERS = 4


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
            s = column_sums(inv, np.compress(used, vals, axis=0) * w[:, None], k)
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
    crit = _dist.t_ppf(0.5 + confidence / 2.0, gg - 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.where(enough & (se > 0), 2.0 * _dist.t_sf(np.abs(est) / se, gg - 1), math.nan)
    ok = enough & (se > 0)
    return {
        "est": est,
        "lo": np.where(ok, est - crit * se, math.nan),
        "hi": np.where(ok, est + crit * se, math.nan),
        "p": p,
    }
