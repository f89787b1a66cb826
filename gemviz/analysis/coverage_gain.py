"""The decisive comparison: does a configuration gain where its training data covers the test set?

For each training set (its covered flags over the test entries) and each configuration, with
``d_i`` the configuration's outcome on entry ``i`` minus the baseline's (each the share of its
runs that passed, so runs are averaged and the comparison is paired over entries):

* ``covered_gain`` / ``uncovered_gain``: the mean of ``d_i`` over covered / uncovered entries;
* ``did``: their difference, with the task-level test and interval of
  :func:`gemviz.stats.compare_sets` on ``d_i`` (a permutation of whole clusters between the two
  sets, or the cluster-robust score t when clusters straddle them);
* ``did_p_adjusted``: Holm over every row of the table, one family (each row asks the same
  question of another set or configuration). A configuration whose training set is known
  (``trained_on``, from the configuration table) is compared on its own set only, so the
  family is the rows shown;
* ``verdict``: :func:`gemviz.analysis.findings_coverage.coverage_finding`.

The numbers are observational: covered and uncovered entries may differ in other ways
(length, tool classes), so a gain that sits on covered entries goes with coverage, it is not
shown to come from it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from gemviz.analysis.findings_coverage import coverage_finding
from gemviz.data import clusters as clusters_mod
from gemviz.data.errors import GemvizError
from gemviz.data.study import Study
from gemviz.stats import adjust_pvalues, compare_sets, default_margin

DECISIVE_COLUMNS = [
    "train_set", "model", "covered_n", "uncovered_n", "covered_mean", "uncovered_mean",
    "covered_gain", "uncovered_gain", "did", "did_lo", "did_hi", "did_p", "did_p_adjusted",
    "verdict",
]  # fmt: skip


def _mean(values: np.ndarray, mask: np.ndarray) -> float:
    return float(values[mask].mean()) if mask.any() else float("nan")


def decisive_rows(
    study: Study,
    covered: Mapping[str, np.ndarray],
    baseline: str,
    models: Sequence[str] | None = None,
    metric: str | None = None,
    adjust: str = "holm",
    trained_on: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Gains over the baseline on covered and uncovered entries, and their difference.

    Args:
        study: The test entries with the configurations' runs (``study.metric``: run means).
        covered: Training set name -> covered flag per entry, in study order.
        baseline: The configuration every other one is compared with.
        models: The configurations (default: every model but the baseline).
        metric: The metric (default: the study's default, ``accuracy`` for BFCL).
        adjust: ``"holm"`` or ``"bh"`` over the whole table.
        trained_on: Configuration -> the set it was trained on (one of ``covered``): that
            configuration's only row; a configuration not named here gets a row per set.

    Returns:
        Columns :data:`DECISIVE_COLUMNS`, one row per set x configuration.

    Raises:
        GemvizError: An unknown baseline or model, or flags of another length.
    """
    study.check_models([baseline])
    models = [m for m in (study.models if models is None else models) if m != baseline]
    study.check_models(models)
    metric = metric or study.default_metric
    outcomes = study.metric(metric)
    base = outcomes[baseline].to_numpy(float)
    codes = None if study.cluster_by == clusters_mod.NONE else study.clusters
    rows = []
    for name, flags in covered.items():
        mask = np.asarray(flags, dtype=bool)
        if mask.shape != (len(study),):
            raise GemvizError(
                f"training set '{name}': {mask.size} covered flags for {len(study)} entries"
            )
        for model in models:
            if (trained_on or {}).get(model, name) != name:
                continue
            values = outcomes[model].to_numpy(float)
            diff = values - base
            test = compare_sets(diff, mask, ~mask, codes, kind=f"coverage:{name}")
            rows.append(
                {
                    "train_set": name,
                    "model": model,
                    "covered_n": int(mask.sum()),
                    "uncovered_n": int((~mask).sum()),
                    "covered_mean": _mean(values, mask),
                    "uncovered_mean": _mean(values, ~mask),
                    "covered_gain": _mean(diff, mask),
                    "uncovered_gain": _mean(diff, ~mask),
                    "did": float(test["diff"][0]),
                    "did_lo": float(test["lo"][0]),
                    "did_hi": float(test["hi"][0]),
                    "did_p": float(test["p"][0]),
                }
            )
    out = pd.DataFrame(rows, columns=DECISIVE_COLUMNS)
    out["did_p_adjusted"] = adjust_pvalues(out["did_p"].to_numpy(float), adjust)
    margin = default_margin(metric)
    out["verdict"] = [coverage_finding(r, baseline, adjust, margin) for r in out.to_dict("records")]
    return out
