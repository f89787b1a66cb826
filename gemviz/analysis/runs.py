"""Repeated runs of a configuration: each run's means, their spread, and run-aware comparisons.

A lab evaluates a configuration several times and writes down one accuracy per run. Here each
run keeps its own per-step 0/1 results (``study.per_run``):

* :func:`runs_table`: one row per splitter, model, metric and run with the run's ID and OOD
  means and their gap (the ``runs`` command);
* :func:`run_spread`: the spread (sd, min, max) of a model's per-run means over all steps,
  the columns ``runs``/``run_sd``/``run_min``/``run_max`` of the ID/OOD table;
* :func:`run_points` and :func:`run_summary`: the runs board, each run's mean with its 95%
  interval, and per configuration the mean over runs ± sd next to the clustered interval of
  the run-averaged mean;
* :func:`run_pairs`: paired comparisons of configurations on the per-step outcome averaged
  over all their runs (clustered, p-values adjusted over the pairs).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import pandas as pd

from gemviz.data import clusters as clusters_mod
from gemviz.data.errors import GemvizError
from gemviz.data.study import Study
from gemviz.stats import adjust_by_family, is_small, mean_estimate, paired_test, verdict

RUNS_COLUMNS = [
    "splitter", "model", "metric", "run", "id_mean", "ood_mean", "gap", "id_n", "ood_n",
]  # fmt: skip
SPREAD_COLUMNS = ["runs", "run_sd", "run_min", "run_max"]
POINT_COLUMNS = ["model", "metric", "subset", "run", "mean", "lo", "hi", "n", "n_clusters"]
SUMMARY_COLUMNS = [
    "model", "metric", "subset", "runs", "run_mean", "run_sd", "run_min", "run_max",
    "mean", "lo", "hi", "n", "n_clusters",
]  # fmt: skip
PAIR_COLUMNS = [
    "model_a", "model_b", "metric", "subset", "runs_a", "runs_b", "mean_a", "mean_b",
    "diff", "diff_lo", "diff_hi", "diff_p", "diff_p_adjusted", "n", "n_clusters", "verdict",
    "small", "test",
]  # fmt: skip


def _codes(study: Study) -> np.ndarray | None:
    return None if study.cluster_by == clusters_mod.NONE else study.clusters


def _subsets(study: Study, splitter: str | None) -> dict[str, np.ndarray]:
    out = {"all": np.ones(len(study), dtype=bool)}
    if splitter is not None:
        is_id = study.is_id(splitter)
        out.update({"ID": is_id, "OOD": ~is_id})
    return out


def runs_table(
    study: Study,
    splitters: Sequence[str] | None = None,
    models: Sequence[str] | None = None,
    metrics: Sequence[str] | None = None,
) -> pd.DataFrame:
    """One row per splitter x model x metric x run: that run's ID and OOD means and gap.

    Args:
        study: The study.
        splitters, models, metrics: Subsets (default: all).

    Returns:
        Columns :data:`RUNS_COLUMNS`; runs are numbered from 1 in the order given.

    Raises:
        GemvizError: An unknown splitter, model or metric.
    """
    splitters = list(study.splitters if splitters is None else splitters)
    models = list(study.models if models is None else models)
    metrics = list(study.metrics if metrics is None else metrics)
    study.check_splitters(splitters)
    study.check_models(models)
    rows = []
    for splitter in splitters:
        is_id = study.is_id(splitter)
        n_id, n_ood = int(is_id.sum()), int((~is_id).sum())
        for model in models:
            for metric in metrics:
                values = study.run_values(metric, model).astype(float)
                id_means = values[is_id].mean(axis=0) if n_id else np.full(values.shape[1], np.nan)
                ood_means = (
                    values[~is_id].mean(axis=0) if n_ood else np.full(values.shape[1], np.nan)
                )
                for r in range(values.shape[1]):
                    rows.append(
                        {
                            "splitter": splitter,
                            "model": model,
                            "metric": metric,
                            "run": r + 1,
                            "id_mean": id_means[r],
                            "ood_mean": ood_means[r],
                            "gap": id_means[r] - ood_means[r],
                            "id_n": n_id,
                            "ood_n": n_ood,
                        }
                    )
    return pd.DataFrame(rows, columns=RUNS_COLUMNS)


def run_spread(study: Study, model: str, metric: str) -> dict[str, float | int]:
    """The spread of ``model``'s per-run means of ``metric`` over all steps.

    Returns:
        ``{"runs", "run_sd", "run_min", "run_max"}``; ``run_sd`` (sample sd, ddof 1) is NaN
        for a single run.
    """
    means = study.run_values(metric, model).mean(axis=0)
    return {
        "runs": int(means.size),
        "run_sd": float(means.std(ddof=1)) if means.size > 1 else float("nan"),
        "run_min": float(means.min()) if means.size else float("nan"),
        "run_max": float(means.max()) if means.size else float("nan"),
    }


def run_points(
    study: Study,
    metric: str,
    models: Sequence[str] | None = None,
    splitter: str | None = None,
) -> pd.DataFrame:
    """Each run's mean with its 95% interval (clustered as the study is), per model.

    Args:
        study: The study.
        metric: A metric of the study.
        models: Models to include (default: all).
        splitter: When given, rows for its ``"ID"`` and ``"OOD"`` sets follow ``"all"``.

    Returns:
        Columns :data:`POINT_COLUMNS`.
    """
    models = list(study.models if models is None else models)
    study.check_models(models)
    study.metric(metric)
    codes = _codes(study)
    rows = []
    for model in models:
        values = study.run_values(metric, model)
        for subset, mask in _subsets(study, splitter).items():
            for r in range(values.shape[1]):
                est = mean_estimate(values[mask, r], None if codes is None else codes[mask])
                rows.append(
                    {
                        "model": model,
                        "metric": metric,
                        "subset": subset,
                        "run": r + 1,
                        "mean": est.mean,
                        "lo": est.lo,
                        "hi": est.hi,
                        "n": est.n,
                        "n_clusters": est.n_clusters,
                    }
                )
    return pd.DataFrame(rows, columns=POINT_COLUMNS)


def run_summary(
    study: Study,
    metric: str,
    models: Sequence[str] | None = None,
    splitter: str | None = None,
) -> pd.DataFrame:
    """Per configuration: the mean of its run means ± sd, and the run-averaged mean's interval.

    ``run_mean`` equals the mean of the runs' accuracies (every run covers the same steps);
    ``mean``/``lo``/``hi`` is the mean of the per-step outcome averaged over runs (the same
    number) with its clustered 95% interval, which is what the comparisons use.

    Returns:
        Columns :data:`SUMMARY_COLUMNS`.
    """
    models = list(study.models if models is None else models)
    study.check_models(models)
    codes = _codes(study)
    averaged = study.metric(metric)
    rows = []
    for model in models:
        values = study.run_values(metric, model).astype(float)
        for subset, mask in _subsets(study, splitter).items():
            means = values[mask].mean(axis=0) if mask.any() else np.full(values.shape[1], np.nan)
            est = mean_estimate(
                averaged[model].to_numpy(float)[mask], None if codes is None else codes[mask]
            )
            rows.append(
                {
                    "model": model,
                    "metric": metric,
                    "subset": subset,
                    "runs": int(means.size),
                    "run_mean": float(means.mean()),
                    "run_sd": float(means.std(ddof=1)) if means.size > 1 else float("nan"),
                    "run_min": float(means.min()),
                    "run_max": float(means.max()),
                    "mean": est.mean,
                    "lo": est.lo,
                    "hi": est.hi,
                    "n": est.n,
                    "n_clusters": est.n_clusters,
                }
            )
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def run_pairs(
    study: Study,
    metric: str,
    models: Sequence[str] | None = None,
    splitter: str | None = None,
    adjust: str = "holm",
    margin: float = 0.05,
) -> pd.DataFrame:
    """Every pair of configurations compared on the per-step outcome averaged over all runs.

    The per-step differences ``a - b`` (each side the share of its runs that passed) are
    averaged and tested against 0 by the cluster sign flip of :func:`gemviz.stats.paired_test`
    (the interval inverts it); each pair's rows (all, ID, OOD) are one family, as for the
    paired comparison of :func:`gemviz.analysis.tables.paired_comparison`.

    Args:
        study: The study.
        metric: A metric of the study.
        models: Configurations to pair (default: all, every pair in study order).
        splitter: When given, each pair also gets rows on that splitter's ID and OOD sets.
        adjust: ``"holm"`` or ``"bh"``.
        margin: Differences within ``+/- margin`` read "no detectable difference".

    Returns:
        Columns :data:`PAIR_COLUMNS`.

    Raises:
        GemvizError: Fewer than two models, or an unknown model, metric or splitter.
    """
    models = list(dict.fromkeys(study.models if models is None else models))
    study.check_models(models)
    if len(models) < 2:
        raise GemvizError("comparing configurations needs at least two models")
    averaged = study.metric(metric)
    codes = _codes(study)
    rows = []
    for a, b in itertools.combinations(models, 2):
        diff = (averaged[a].to_numpy(float) - averaged[b].to_numpy(float)).astype(float)
        for subset, mask in _subsets(study, splitter).items():
            test = paired_test(diff, mask, codes, kind=f"paired:{subset}")
            rows.append(
                {
                    "model_a": a,
                    "model_b": b,
                    "metric": metric,
                    "subset": subset,
                    "runs_a": study.runs(a),
                    "runs_b": study.runs(b),
                    "mean_a": float(averaged[a].to_numpy(float)[mask].mean()),
                    "mean_b": float(averaged[b].to_numpy(float)[mask].mean()),
                    "diff": test["diff"][0],
                    "diff_lo": test["lo"][0],
                    "diff_hi": test["hi"][0],
                    "diff_p": test["p"][0],
                    "n": int(mask.sum()),
                    "n_clusters": study.clusters_in(mask),
                    "small": bool(is_small(int(mask.sum()), study.clusters_in(mask))),
                    "test": test["test"][0],
                }
            )
    out = pd.DataFrame(rows, columns=PAIR_COLUMNS)
    family = out["model_a"].astype(str) + "|" + out["model_b"].astype(str)
    out["diff_p_adjusted"] = adjust_by_family(out["diff_p"].to_numpy(float), family, adjust)
    out["verdict"] = [
        verdict(
            r.diff,
            r.diff_lo,
            r.diff_hi,
            r.diff_p_adjusted,
            higher=f"{r.model_a} higher than {r.model_b}",
            lower=f"{r.model_b} higher than {r.model_a}",
            margin=margin,
            method=adjust,
        )
        for r in out.itertuples()
    ]
    return out
