"""The study's tables: ID vs OOD means per splitter and model, and paired model comparisons."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from gemviz.data import METRICS
from gemviz.errors import GemvizError
from gemviz.stats import SEED, SMALL_N, bootstrap_diff, mcnemar_exact, wilson_interval
from gemviz.study import Study

TABLE_COLUMNS = [
    "splitter", "model", "metric",
    "id_mean", "id_n", "id_lo", "id_hi",
    "ood_mean", "ood_n", "ood_lo", "ood_hi",
    "small",
]  # fmt: skip
PAIRED_COLUMNS = [
    "subset", "n", "mean_a", "mean_b", "diff", "diff_lo", "diff_hi", "a_only", "b_only",
    "mcnemar_p",
]  # fmt: skip


def id_ood_table(
    study: Study,
    splitters: Sequence[str] | None = None,
    models: Sequence[str] | None = None,
    metrics: Sequence[str] = METRICS,
) -> pd.DataFrame:
    """Each model's mean on every splitter's ID and OOD sets, with n and 95% Wilson intervals.

    Args:
        study: The aligned study.
        splitters: Splitters to include (default: all, in study order).
        models: Models to include (default: all).
        metrics: Any of ``"type_match"``, ``"exact_match"``.

    Returns:
        One row per splitter x model x metric with columns :data:`TABLE_COLUMNS`. ``small``
        is True when the ID or the OOD set has fewer than :data:`gemviz.stats.SMALL_N` (30)
        samples. Means and bounds are NaN for an empty set.

    Raises:
        GemvizError: An unknown splitter, model or metric.
    """
    splitters = list(study.splitters if splitters is None else splitters)
    models = list(study.models if models is None else models)
    study.check_splitters(splitters)
    study.check_models(models)
    frames = {m: study.metric(m)[models].to_numpy(np.int64) for m in metrics}
    rows = []
    for splitter in splitters:
        is_id = study.is_id(splitter)
        n_id, n_ood = int(is_id.sum()), int((~is_id).sum())
        for metric, values in frames.items():
            # One matrix product gives every model's ID and OOD success counts at once.
            k_id = is_id.astype(np.int64) @ values
            k_ood = values.sum(axis=0) - k_id
            for j, model in enumerate(models):
                id_lo, id_hi = wilson_interval(int(k_id[j]), n_id)
                ood_lo, ood_hi = wilson_interval(int(k_ood[j]), n_ood)
                rows.append(
                    {
                        "splitter": splitter,
                        "model": model,
                        "metric": metric,
                        "id_mean": k_id[j] / n_id if n_id else np.nan,
                        "id_n": n_id,
                        "id_lo": id_lo,
                        "id_hi": id_hi,
                        "ood_mean": k_ood[j] / n_ood if n_ood else np.nan,
                        "ood_n": n_ood,
                        "ood_lo": ood_lo,
                        "ood_hi": ood_hi,
                        "small": n_id < SMALL_N or n_ood < SMALL_N,
                    }
                )
    return pd.DataFrame(rows, columns=TABLE_COLUMNS)


def paired_comparison(
    study: Study,
    model_a: str,
    model_b: str,
    metric: str,
    splitter: str | None = None,
    n_boot: int = 2000,
    seed: int = SEED,
) -> pd.DataFrame:
    """Compare two models on the same samples (e.g. SFT vs RL on the OOD steps).

    For each subset: both means, their difference ``mean_a - mean_b`` with a paired bootstrap
    95% interval (steps resampled with both models' results together), the discordant
    counts (``a_only``: a right and b wrong; ``b_only``: the reverse) and McNemar's exact
    p-value on them.

    Args:
        study: The aligned study.
        model_a, model_b: Two models of the study.
        metric: ``"type_match"`` or ``"exact_match"``.
        splitter: When given, rows for ``"ID"`` and ``"OOD"`` of that splitter follow the row
            for ``"all"``.
        n_boot: Bootstrap resamples.
        seed: Seed of the bootstrap (the same for every subset).

    Returns:
        Columns :data:`PAIRED_COLUMNS`, one row per subset.

    Raises:
        GemvizError: An unknown model, splitter or metric, or the same model twice.
    """
    study.check_models([model_a, model_b])
    if model_a == model_b:
        raise GemvizError(f"compare two different models (got '{model_a}' twice)")
    values = study.metric(metric)
    a = values[model_a].to_numpy(np.int64)
    b = values[model_b].to_numpy(np.int64)
    subsets = {"all": np.ones(len(study), dtype=bool)}
    if splitter is not None:
        is_id = study.is_id(splitter)
        subsets.update({"ID": is_id, "OOD": ~is_id})
    rows = []
    for name, mask in subsets.items():
        xa, xb = a[mask], b[mask]
        n = int(mask.sum())
        diff, lo, hi = bootstrap_diff(xa, xb, paired=True, n_boot=n_boot, seed=seed)
        a_only = int(((xa == 1) & (xb == 0)).sum())
        b_only = int(((xa == 0) & (xb == 1)).sum())
        rows.append(
            {
                "subset": name,
                "n": n,
                "mean_a": xa.mean() if n else np.nan,
                "mean_b": xb.mean() if n else np.nan,
                "diff": diff,
                "diff_lo": lo,
                "diff_hi": hi,
                "a_only": a_only,
                "b_only": b_only,
                "mcnemar_p": mcnemar_exact(a_only, b_only),
            }
        )
    return pd.DataFrame(rows, columns=PAIRED_COLUMNS)
