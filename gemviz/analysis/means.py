"""Each model's mean on a set of steps, with n, clusters and a 95% interval: one function.

The ID/OOD table, the Samples page's summary of the steps shown and the slices table all
report per-model means of some subset of the test steps. They get them here, so a mean, its
interval (:func:`gemviz.stats.mean_intervals`: Korn-Graubard on the study's clusters, Wilson
at step level) and its ``small`` flag (:func:`gemviz.stats.is_small`) are the same wherever
they are shown.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import pandas as pd

from gemviz.data import clusters as clusters_mod
from gemviz.data.study import Study
from gemviz.stats import is_small, mean_intervals

#: Columns of :func:`model_means`.
MEAN_COLUMNS = ["model", "metric", "mean", "lo", "hi", "n", "n_clusters", "small"]


def masked_means(
    values: np.ndarray, mask: np.ndarray, codes: np.ndarray, singletons: bool
) -> dict[str, np.ndarray]:
    """Means of the columns of ``values`` over the steps of ``mask``, cluster-aware.

    Args:
        values: ``(n, m)`` per-step outcomes, one column per model.
        mask: ``(n,)`` the steps of the set.
        codes: ``(n,)`` cluster codes ``0..K-1`` (``study.clusters``).
        singletons: True at step level (every step its own cluster): Wilson intervals.

    Returns:
        ``{"mean", "lo", "hi", "n", "k"}`` arrays of length ``m`` (NaN means for an empty set).
    """
    x = np.asarray(values, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    w = np.asarray(mask, dtype=float)
    k = int(codes.max()) + 1 if codes.size else 0
    counts = np.bincount(codes, weights=w, minlength=k)
    sums = np.column_stack([np.bincount(codes, weights=v * w, minlength=k) for v in x.T])
    return mean_intervals(sums.reshape(k, x.shape[1]), counts, singletons=singletons)


def grouped_means(
    values: np.ndarray, groups: np.ndarray, n_groups: int, codes: np.ndarray, singletons: bool
) -> list[dict[str, np.ndarray]]:
    """:func:`masked_means` of every group of steps at once (one pass over the steps).

    Args:
        values: ``(n, m)`` per-step outcomes, one column per model.
        groups: ``(n,)`` group of each step, ``0..n_groups-1`` (-1: in no group).
        n_groups: Number of groups.
        codes: ``(n,)`` cluster codes ``0..K-1``.
        singletons: True at step level: Wilson intervals.

    Returns:
        One :func:`masked_means` answer per group (the same numbers: a cluster with no step of
        the group adds nothing to its sums, so only the clusters it touches are kept).
    """
    x = np.asarray(values, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    keep = groups >= 0
    k = int(codes.max()) + 1 if codes.size else 0
    pairs, where = np.unique(groups[keep].astype(np.int64) * k + codes[keep], return_inverse=True)
    counts = np.bincount(where, minlength=pairs.size).astype(float)
    sums = np.column_stack(
        [np.bincount(where, weights=v[keep], minlength=pairs.size) for v in x.T]
    ).reshape(pairs.size, x.shape[1])
    bounds = np.searchsorted(pairs // max(k, 1), np.arange(n_groups + 1))
    return [
        mean_intervals(sums[a:b], counts[a:b], singletons=singletons)
        for a, b in itertools.pairwise(bounds)
    ]


def mean_records(models: Sequence[str], per_metric: dict) -> list[dict]:
    """Records of :data:`MEAN_COLUMNS` but ``small``, from ``{metric: masked_means answer}``."""
    return [
        {
            "model": model,
            "metric": metric,
            "mean": float(est["mean"][j]),
            "lo": float(est["lo"][j]),
            "hi": float(est["hi"][j]),
            "n": int(est["n"][j]),
            "n_clusters": int(est["k"][j]),
        }
        for j, model in enumerate(models)
        for metric, est in per_metric.items()
    ]


def mean_frame(records: list[dict], columns: Sequence[str] = MEAN_COLUMNS) -> pd.DataFrame:
    """:func:`mean_records` (plus any keys of ``columns``) as a frame, ``small`` flagged."""
    out = pd.DataFrame(records, columns=[c for c in columns if c != "small"])
    out["small"] = np.asarray(is_small(out["n"], out["n_clusters"]), dtype=bool)
    return out


def model_means(
    study: Study,
    mask: np.ndarray,
    models: Sequence[str] | None = None,
    metrics: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Each model's mean of each metric on the steps of ``mask``.

    Args:
        study: The aligned study (its clusters make the intervals cluster-aware).
        mask: One flag per step of the study.
        models: Models (default: all, in study order).
        metrics: Metrics (default: all of the study's).

    Returns:
        Rows :data:`MEAN_COLUMNS`, model by model and metric by metric within a model;
        NaN means and bounds (and ``n`` 0) for an empty set.

    Raises:
        GemvizError: An unknown model or metric.
    """
    models = list(study.models if models is None else models)
    study.check_models(models)
    metrics = list(study.metrics if metrics is None else metrics)
    single = study.cluster_by == clusters_mod.NONE
    codes = study.clusters
    per_metric = {
        metric: masked_means(study.metric(metric)[models].to_numpy(float), mask, codes, single)
        for metric in metrics
    }
    return mean_frame(mean_records(models, per_metric))
