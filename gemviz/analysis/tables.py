"""The study's tables: ID vs OOD means and gaps, paired model comparisons, interactions.

Every interval and test is cluster-aware (:mod:`gemviz.stats`): steps of one task or episode
(``study.clusters``) move together. A table is one family of tests: its p-values are adjusted
together (Holm by default, Benjamini-Hochberg with ``adjust="bh"``) into ``*_p_adjusted``.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import pandas as pd

from gemviz.analysis.runs import run_spread
from gemviz.data import clusters as clusters_mod
from gemviz.data.errors import GemvizError
from gemviz.data.study import Study
from gemviz.stats import (
    ADJUST_METHODS,
    MARGIN,
    SMALL_CLUSTERS,
    SMALL_N,
    adjust_pvalues,
    clustered_diff,
    mcnemar_exact,
    mean_intervals,
    verdict,
)

TABLE_COLUMNS = [
    "splitter", "model", "metric",
    "id_mean", "id_lo", "id_hi", "id_n", "id_clusters",
    "ood_mean", "ood_lo", "ood_hi", "ood_n", "ood_clusters",
    "gap", "gap_lo", "gap_hi", "gap_p", "gap_p_adjusted",
    "small", "runs", "run_sd", "run_min", "run_max",
]  # fmt: skip
PAIRED_COLUMNS = [
    "subset", "n", "n_clusters", "mean_a", "mean_b", "diff", "diff_lo", "diff_hi",
    "diff_p", "diff_p_adjusted", "a_only", "b_only", "mcnemar_p",
]  # fmt: skip
INTERACTION_COLUMNS = [
    "splitter", "metric", "model_a", "model_b",
    "diff_id", "diff_ood", "did", "did_lo", "did_hi", "did_p", "did_p_adjusted",
    "id_n", "id_clusters", "ood_n", "ood_clusters", "verdict",
]  # fmt: skip


def _singletons(study: Study) -> bool:
    return study.cluster_by == clusters_mod.NONE


def _check_adjust(adjust: str) -> str:
    adjust = str(adjust).lower()
    if adjust not in ADJUST_METHODS:
        raise GemvizError(f"unknown p-value adjustment '{adjust}'; use holm or bh")
    return adjust


def id_ood_table(
    study: Study,
    splitters: Sequence[str] | None = None,
    models: Sequence[str] | None = None,
    metrics: Sequence[str] | None = None,
    adjust: str = "holm",
) -> pd.DataFrame:
    """Each model's mean on every splitter's ID and OOD sets, and the ID-OOD gap.

    Means carry n, the number of clusters and a 95% interval (Wilson on the cluster-adjusted
    effective n; plain Wilson with ``cluster_by="none"``). The gap ``id_mean - ood_mean`` has a
    cluster-robust t interval and p-value (:func:`gemviz.stats.clustered_diff`); the p-values
    of all rows are adjusted together into ``gap_p_adjusted``.

    Args:
        study: The aligned study (its clusters decide the resampling unit).
        splitters: Splitters to include (default: all, in study order).
        models: Models to include (default: all).
        metrics: Metrics of the study (default: all of them).
        adjust: ``"holm"`` or ``"bh"``.

    Returns:
        One row per splitter x model x metric with columns :data:`TABLE_COLUMNS`. ``small``
        is True when the ID or the OOD set has fewer than 30 steps or 10 clusters. Means and
        bounds are NaN for an empty set. A model with repeated runs is measured on its
        per-step outcome averaged over the runs; ``runs``, ``run_sd``, ``run_min`` and
        ``run_max`` give the spread of its per-run means over all steps
        (:func:`gemviz.analysis.runs.run_spread`; ``run_sd`` NaN for one run).

    Raises:
        GemvizError: An unknown splitter, model, metric or adjustment.
    """
    adjust = _check_adjust(adjust)
    splitters = list(study.splitters if splitters is None else splitters)
    models = list(study.models if models is None else models)
    study.check_splitters(splitters)
    study.check_models(models)
    metrics = list(study.metrics if metrics is None else metrics)
    frames = {m: study.metric(m)[models].to_numpy(float) for m in metrics}
    codes = study.clusters
    k = int(codes.max()) + 1 if codes.size else 0
    single = _singletons(study)
    rows = []
    for splitter in splitters:
        is_id = study.is_id(splitter)
        n_id = np.bincount(codes, weights=is_id.astype(float), minlength=k)
        n_all = np.bincount(codes, minlength=k).astype(float)
        for metric, values in frames.items():
            s_all = np.column_stack([np.bincount(codes, v, k) for v in values.T])
            s_id = np.column_stack([np.bincount(codes, v * is_id, k) for v in values.T])
            ide = mean_intervals(s_id, n_id, singletons=single)
            ood = mean_intervals(s_all - s_id, n_all - n_id, singletons=single)
            gap = clustered_diff(values, is_id, ~is_id, None if single else codes)
            for j, model in enumerate(models):
                rows.append(
                    {
                        "splitter": splitter,
                        "model": model,
                        "metric": metric,
                        "id_mean": ide["mean"][j],
                        "id_lo": ide["lo"][j],
                        "id_hi": ide["hi"][j],
                        "id_n": int(ide["n"][j]),
                        "id_clusters": int(ide["k"][j]),
                        "ood_mean": ood["mean"][j],
                        "ood_lo": ood["lo"][j],
                        "ood_hi": ood["hi"][j],
                        "ood_n": int(ood["n"][j]),
                        "ood_clusters": int(ood["k"][j]),
                        "gap": gap["diff"][j],
                        "gap_lo": gap["lo"][j],
                        "gap_hi": gap["hi"][j],
                        "gap_p": gap["p"][j],
                    }
                )
    spread = {(m, k): run_spread(study, m, k) for m in models for k in frames}
    for row in rows:
        row.update(spread[(row["model"], row["metric"])])
    table = pd.DataFrame(rows, columns=TABLE_COLUMNS)
    table["gap_p_adjusted"] = adjust_pvalues(table["gap_p"].to_numpy(float), adjust)
    table["small"] = (
        (table["id_n"] < SMALL_N)
        | (table["ood_n"] < SMALL_N)
        | (table["id_clusters"] < SMALL_CLUSTERS)
        | (table["ood_clusters"] < SMALL_CLUSTERS)
    )
    return table


def paired_comparison(
    study: Study,
    model_a: str,
    model_b: str,
    metric: str,
    splitter: str | None = None,
    adjust: str = "holm",
) -> pd.DataFrame:
    """Compare two models on the same samples (e.g. SFT vs RL on the OOD steps).

    For each subset: both means and their difference ``mean_a - mean_b``, with a cluster-level
    paired interval and test: the per-step differences ``a - b`` are averaged and tested
    against 0 with a cluster-robust t (clusters resampled as units; with
    ``cluster_by="none"`` the paired t test). ``diff_p_adjusted`` adjusts over the rows
    shown. The discordant counts (``a_only``: a right and b wrong, or with repeated runs a
    right in more runs than b; ``b_only``: the reverse) and
    McNemar's exact p-value on them stay as the step-level reference (valid only when steps
    are independent, i.e. ``cluster_by="none"``).

    Args:
        study: The aligned study.
        model_a, model_b: Two models of the study.
        metric: A metric of the study (e.g. ``"exact_match"``).
        splitter: When given, rows for ``"ID"`` and ``"OOD"`` of that splitter follow the row
            for ``"all"``.
        adjust: ``"holm"`` or ``"bh"``.

    Returns:
        Columns :data:`PAIRED_COLUMNS`, one row per subset.

    Raises:
        GemvizError: An unknown model, splitter, metric or adjustment, or the same model twice.
    """
    adjust = _check_adjust(adjust)
    study.check_models([model_a, model_b])
    if model_a == model_b:
        raise GemvizError(f"compare two different models (got '{model_a}' twice)")
    values = study.metric(metric)
    # Per-step outcomes: 0/1, or the mean over runs when a model was run several times.
    a = values[model_a].to_numpy(float)
    b = values[model_b].to_numpy(float)
    codes = None if _singletons(study) else study.clusters
    subsets = {"all": np.ones(len(study), dtype=bool)}
    if splitter is not None:
        is_id = study.is_id(splitter)
        subsets.update({"ID": is_id, "OOD": ~is_id})
    rows = []
    for name, mask in subsets.items():
        xa, xb = a[mask], b[mask]
        n = int(mask.sum())
        test = clustered_diff((a - b).astype(float), mask, None, codes)
        a_only = int((xa > xb).sum())
        b_only = int((xa < xb).sum())
        rows.append(
            {
                "subset": name,
                "n": n,
                "n_clusters": study.clusters_in(mask),
                "mean_a": xa.mean() if n else np.nan,
                "mean_b": xb.mean() if n else np.nan,
                "diff": test["diff"][0],
                "diff_lo": test["lo"][0],
                "diff_hi": test["hi"][0],
                "diff_p": test["p"][0],
                "a_only": a_only,
                "b_only": b_only,
                "mcnemar_p": mcnemar_exact(a_only, b_only),
            }
        )
    out = pd.DataFrame(rows, columns=PAIRED_COLUMNS)
    out["diff_p_adjusted"] = adjust_pvalues(out["diff_p"].to_numpy(float), adjust)
    return out


def interaction_table(
    study: Study,
    splitters: Sequence[str] | None = None,
    models: Sequence[str] | None = None,
    metrics: Sequence[str] | None = None,
    adjust: str = "holm",
    margin: float = MARGIN,
) -> pd.DataFrame:
    """Does model A gain more on ID than model B? The model x split interaction.

    For every splitter, metric and pair of models: ``diff_id = mean_a - mean_b`` on the ID
    set, ``diff_ood`` likewise on OOD, and the difference in differences
    ``did = diff_id - diff_ood``, paired within steps (the per-step ``a - b``) and clustered
    (:func:`gemviz.stats.clustered_diff` on ``a - b`` between ID and OOD). A positive ``did``
    says A's advantage over B is larger in distribution. P-values of all rows are adjusted
    together into ``did_p_adjusted``; ``verdict`` reads them in words
    (:func:`gemviz.stats.verdict`, "no detectable difference" only within ``+/- margin``).

    Args:
        study: The aligned study.
        splitters: Splitters to include (default: all).
        models: Models to pair (default: all; every pair in study order).
        metrics: Metrics to include (default: all of the study's).
        adjust: ``"holm"`` or ``"bh"``.
        margin: The "no detectable difference" margin.

    Returns:
        Columns :data:`INTERACTION_COLUMNS`, one row per splitter x metric x pair.

    Raises:
        GemvizError: Fewer than two models, or an unknown splitter, model, metric or
            adjustment.
    """
    adjust = _check_adjust(adjust)
    splitters = list(study.splitters if splitters is None else splitters)
    models = list(study.models if models is None else models)
    study.check_splitters(splitters)
    study.check_models(models)
    if len(set(models)) < 2:
        raise GemvizError("the interaction needs at least two different models")
    pairs = list(itertools.combinations(dict.fromkeys(models), 2))
    metrics = list(study.metrics if metrics is None else metrics)
    codes = None if _singletons(study) else study.clusters
    rows = []
    for splitter in splitters:
        is_id = study.is_id(splitter)
        n_id, n_ood = int(is_id.sum()), int((~is_id).sum())
        k_id, k_ood = study.clusters_in(is_id), study.clusters_in(~is_id)
        for metric in metrics:
            values = study.metric(metric)
            diffs = np.column_stack(
                [values[a].to_numpy(float) - values[b].to_numpy(float) for a, b in pairs]
            )
            test = clustered_diff(diffs, is_id, ~is_id, codes)
            d_id = diffs[is_id].mean(axis=0) if n_id else np.full(len(pairs), np.nan)
            d_ood = diffs[~is_id].mean(axis=0) if n_ood else np.full(len(pairs), np.nan)
            for j, (a, b) in enumerate(pairs):
                rows.append(
                    {
                        "splitter": splitter,
                        "metric": metric,
                        "model_a": a,
                        "model_b": b,
                        "diff_id": d_id[j],
                        "diff_ood": d_ood[j],
                        "did": test["diff"][j],
                        "did_lo": test["lo"][j],
                        "did_hi": test["hi"][j],
                        "did_p": test["p"][j],
                        "id_n": n_id,
                        "id_clusters": k_id,
                        "ood_n": n_ood,
                        "ood_clusters": k_ood,
                    }
                )
    out = pd.DataFrame(rows, columns=INTERACTION_COLUMNS)
    out["did_p_adjusted"] = adjust_pvalues(out["did_p"].to_numpy(float), adjust)
    out["verdict"] = [
        verdict(
            r.did,
            r.did_lo,
            r.did_hi,
            r.did_p_adjusted,
            higher=f"{r.model_a} gains more on ID than {r.model_b}",
            lower=f"{r.model_a} gains more on OOD than {r.model_b}",
            margin=margin,
            method=adjust,
        )
        for r in out.itertuples()
    ]
    return out
