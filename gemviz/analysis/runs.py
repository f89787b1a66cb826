"""Repeated runs of a configuration: each run's means, their spread, and run-aware comparisons.

A lab evaluates a configuration several times and writes down one accuracy per run. Here each
run keeps its own per-step 0/1 results (``study.per_run``):

* :func:`runs_table`: one row per splitter, model, metric and run with the run's ID and OOD
  means and their gap (the ``runs`` command), and :func:`run_means`: one row per model,
  metric and run with the run's mean over all entries (``runs`` without a splitter);
* :func:`run_spread`: the spread (sd, min, max) of a model's per-run means over all steps,
  the columns ``runs``/``run_sd``/``run_min``/``run_max`` of the ID/OOD table;
* :func:`run_points` and :func:`run_summary`: the runs board, each run's mean with its 95%
  interval, and per configuration the mean over runs ± sd next to the clustered interval of
  the run-averaged mean;
* :func:`run_pairs`: configurations compared, every pair or each against a baseline, on two
  questions: on entries like these (the per-step outcome averaged over runs, paired and
  clustered) and on this benchmark as it is (the runs' accuracies); every comparison shown is
  one family of adjusted p-values.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from gemviz.analysis.methods import ADJUST_NAMES, cluster_unit
from gemviz.data import clusters as clusters_mod
from gemviz.data.errors import GemvizError
from gemviz.data.study import Study
from gemviz.stats import (
    adjust_pvalues,
    check_margin,
    default_margin,
    fixed_reason,
    is_small,
    mean_estimate,
    paired_test,
    run_difference,
    verdict,
)

RUNS_COLUMNS = [
    "splitter", "model", "metric", "run", "id_mean", "ood_mean", "gap", "id_n", "ood_n",
]  # fmt: skip
MEANS_COLUMNS = ["model", "metric", "run", "mean", "n"]
SPREAD_COLUMNS = ["runs", "run_sd", "run_min", "run_max"]
POINT_COLUMNS = ["model", "metric", "subset", "run", "mean", "lo", "hi", "n", "n_clusters"]
SUMMARY_COLUMNS = [
    "model", "metric", "subset", "runs", "run_mean", "run_sd", "run_min", "run_max",
    "mean", "lo", "hi", "n", "n_clusters",
]  # fmt: skip
PAIR_COLUMNS = [
    "model_a", "model_b", "metric", "subset", "runs_a", "runs_b", "mean_a", "mean_b",
    "diff", "diff_lo", "diff_hi", "diff_p", "diff_p_adjusted", "n", "n_clusters", "verdict",
    "small", "test", "family", "question", "diff_lo_fixed", "diff_hi_fixed", "diff_p_fixed",
    "diff_p_fixed_adjusted", "verdict_fixed",
]  # fmt: skip
# Columns :func:`run_pairs` fills once the family is known.
_JUDGED = ("diff_p_adjusted", "verdict", "family", "diff_p_fixed_adjusted", "verdict_fixed")
#: The question of the main columns (``question``), and the two questions in words.
QUESTION = "entries"
QUESTION_ENTRIES = "on entries like these"
QUESTION_FIXED = "on this benchmark as it is"


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


def run_means(
    study: Study,
    models: Sequence[str] | None = None,
    metrics: Sequence[str] | None = None,
) -> pd.DataFrame:
    """One row per model x metric x run: that run's mean over all entries (a lab log's line).

    Args:
        study: The study (it needs no splitter).
        models, metrics: Subsets (default: all).

    Returns:
        Columns :data:`MEANS_COLUMNS`; runs are numbered from 1 in the order given, ``n`` is
        the number of entries.

    Raises:
        GemvizError: An unknown model or metric.
    """
    models = list(study.models if models is None else models)
    metrics = list(study.metrics if metrics is None else metrics)
    study.check_models(models)
    rows = []
    for model in models:
        for metric in metrics:
            values = study.run_values(metric, model).astype(float)
            means = values.mean(axis=0) if len(values) else np.full(values.shape[1], np.nan)
            rows.extend(
                {"model": model, "metric": metric, "run": r + 1, "mean": means[r],
                 "n": len(values)}
                for r in range(values.shape[1])
            )  # fmt: skip
    return pd.DataFrame(rows, columns=MEANS_COLUMNS)


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
    margin: float | None = None,
    baseline: str | None = None,
) -> pd.DataFrame:
    """Configurations compared on the per-step outcome averaged over all their runs.

    Two questions, labelled in every verdict:

    - **on entries like these** (the main columns; ``question`` is ``"entries"``): the entries
      are a sample, the runs averaged per entry; the per-step differences ``a - b`` are tested
      against 0 by the cluster sign flip of :func:`gemviz.stats.paired_test` (the interval
      inverts it);
    - **on this benchmark as it is** (``*_fixed``): the entry set fixed, only run-to-run
      variation random; Welch's t on the runs' accuracies
      (:func:`gemviz.stats.run_difference`). With a single run on either side it cannot be
      asked, and ``verdict_fixed`` says so.

    Every row shown forms one family (``family`` names it): with a ``baseline``, each other
    configuration against it (many-to-one), else every pair; over all the subsets (all, and
    ID and OOD with a splitter). ``diff_p_adjusted`` and ``diff_p_fixed_adjusted`` are Holm's
    (or BH's) adjustment over that family, each question its own.

    Args:
        study: The study.
        metric: A metric of the study.
        models: Configurations to compare (default: all, in study order).
        splitter: When given, each comparison also gets rows on its ID and OOD sets.
        adjust: ``"holm"`` or ``"bh"``.
        margin: Differences within ``+/- margin`` read "no detectable difference" (default:
            :func:`gemviz.stats.default_margin` of the metric, 0.01 for accuracy).
        baseline: A configuration to compare every other one against (``diff`` is the
            other's mean less the baseline's).

    Returns:
        Columns :data:`PAIR_COLUMNS`.

    Raises:
        GemvizError: Fewer than two models, or an unknown model, baseline, metric or splitter,
            or a negative or non-finite margin.
    """
    models = list(dict.fromkeys(study.models if models is None else models))
    study.check_models(models + ([] if baseline is None else [baseline]))
    pairs = comparisons(models, baseline)
    if not pairs:
        raise GemvizError("comparing configurations needs at least two models")
    margin = _margin(metric, margin)
    study.metric(metric)
    rows = pd.concat([pair_rows(study, metric, a, b, splitter) for a, b in pairs])
    return judge_pairs(rows, study, splitter, adjust, margin, baseline, len(pairs))


def pair_rows(study: Study, metric: str, a: str, b: str, splitter: str | None = None):
    """One comparison's rows before its family is judged (kept per pair; see judge_pairs)."""
    rows = _pair_rows(study, metric, a, b, _subsets(study, splitter), _codes(study))
    return pd.DataFrame(rows, columns=[c for c in PAIR_COLUMNS if c not in _JUDGED])


def judge_pairs(rows, study: Study, splitter, adjust: str, margin: float, baseline, pairs: int):
    """The rows of ``pairs`` comparisons (:func:`pair_rows`) judged as one family: p-values
    adjusted over all of them, verdicts and the family's name."""
    subsets = len(_subsets(study, splitter))
    family = family_text(len(rows), pairs, baseline, subsets, adjust)
    out = rows.reset_index(drop=True).copy()
    return _judge(out, study, adjust, margin, family)[PAIR_COLUMNS]


def comparisons(models: Sequence[str], baseline: str | None = None) -> list[tuple[str, str]]:
    """The comparisons of the runs view: every pair in order, or each model against
    ``baseline`` (``(model, baseline)``, the baseline itself left out)."""
    models = list(dict.fromkeys(models))
    if baseline is None:
        return list(itertools.combinations(models, 2))
    return [(m, baseline) for m in models if m != baseline]


def family_text(tests: int, pairs: int, baseline: str | None, subsets: int, adjust: str) -> str:
    """The family in words: ``"17 configurations against base, Holm"``, ``"153 pairs, Holm"``
    (with ``"(51 tests over all, ID and OOD)"`` when there are subsets)."""
    name = ADJUST_NAMES.get(adjust, adjust)
    what = (
        f"{pairs} configuration{'s' if pairs != 1 else ''} against {baseline}"
        if baseline is not None
        else f"{pairs} pair{'s' if pairs != 1 else ''}"
    )
    over = f" ({tests} tests over all, ID and OOD)" if subsets > 1 else ""
    return f"{what}{over}, {name}"


def _margin(metric: str, margin: float | None) -> float:
    if margin is None:
        return default_margin(metric)
    try:
        return check_margin(margin)
    except ValueError as exc:
        raise GemvizError(str(exc)) from None


def _pair_rows(
    study: Study,
    metric: str,
    a: str,
    b: str,
    subsets: dict[str, np.ndarray],
    codes: np.ndarray | None,
) -> list[dict]:
    """One comparison's rows (one per subset), both questions, before adjustment."""
    averaged = study.metric(metric)
    va, vb = averaged[a].to_numpy(float), averaged[b].to_numpy(float)
    runs_a = study.run_values(metric, a).astype(float)
    runs_b = study.run_values(metric, b).astype(float)
    rows = []
    for subset, mask in subsets.items():
        test = paired_test(va - vb, mask, codes, kind=f"paired:{subset}")
        empty = not mask.any()
        fixed = run_difference(
            runs_a[mask].mean(axis=0) if not empty else [],
            runs_b[mask].mean(axis=0) if not empty else [],
        )
        k = study.clusters_in(mask)
        rows.append(
            {
                "model_a": a,
                "model_b": b,
                "metric": metric,
                "subset": subset,
                "runs_a": study.runs(a),
                "runs_b": study.runs(b),
                "mean_a": float(va[mask].mean()) if not empty else np.nan,
                "mean_b": float(vb[mask].mean()) if not empty else np.nan,
                "diff": test["diff"][0],
                "diff_lo": test["lo"][0],
                "diff_hi": test["hi"][0],
                "diff_p": test["p"][0],
                "n": int(mask.sum()),
                "n_clusters": k,
                "small": bool(is_small(int(mask.sum()), k)),
                "test": test["test"][0],
                "question": QUESTION,
                "diff_lo_fixed": fixed["lo"],
                "diff_hi_fixed": fixed["hi"],
                "diff_p_fixed": fixed["p"],
            }
        )
    return rows


def _judge(
    out: pd.DataFrame, study: Study, adjust: str, margin: float, family: str
) -> pd.DataFrame:
    """Adjust both questions' p-values over the one family and read every row in words."""
    out["family"] = family
    out["diff_p_adjusted"] = adjust_pvalues(out["diff_p"].to_numpy(float), adjust)
    out["diff_p_fixed_adjusted"] = adjust_pvalues(out["diff_p_fixed"].to_numpy(float), adjust)
    unit = cluster_unit(study.cluster_by)
    verdicts, fixed = [], []
    for r in out.itertuples():
        words = {
            "higher": f"{r.model_a} higher than {r.model_b}",
            "lower": f"{r.model_b} higher than {r.model_a}",
            "margin": margin,
            "method": adjust,
        }
        verdicts.append(
            verdict(
                r.diff,
                r.diff_lo,
                r.diff_hi,
                r.diff_p_adjusted,
                clusters=r.n_clusters,
                unit=unit,
                question=QUESTION_ENTRIES,
                **words,
            )
        )
        if r.n == 0:
            fixed.append("no data")
        elif math.isnan(r.diff_p_fixed):
            fixed.append(fixed_reason(r.runs_a, r.runs_b))
        else:
            fixed.append(
                verdict(
                    r.diff,
                    r.diff_lo_fixed,
                    r.diff_hi_fixed,
                    r.diff_p_fixed_adjusted,
                    question=QUESTION_FIXED,
                    **words,
                )
            )
    out["verdict"] = verdicts
    out["verdict_fixed"] = fixed
    return out


def top_pairs(pairs: pd.DataFrame, k: int = 15, subset: str = "all") -> pd.DataFrame:
    """The ``k`` pairs of one subset with the smallest adjusted p (largest difference first
    among ties): what a page or report shows before the whole table."""
    rows = pairs[pairs["subset"] == subset] if "subset" in pairs else pairs
    order = rows.assign(_abs=-rows["diff"].abs()).sort_values(
        ["diff_p_adjusted", "_abs"], kind="stable"
    )
    return order.drop(columns="_abs").head(k).reset_index(drop=True)
