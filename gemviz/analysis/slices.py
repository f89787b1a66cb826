"""Slices: each model's ID and OOD means broken down by a field of the test records.

A gap between ID and OOD can come from one app, one platform or one kind of action. A slice
is the set of test steps sharing one value of a categorical field (``app``, ``platform``,
``domain``, ``dataset``, ...) or of the ground-truth action's type (:data:`ACTION_TYPE`,
parsed with :mod:`gemviz.actions`). For every splitter, model, metric, slice and label the
table gives the mean with its n, the number of clusters (tasks or episodes, see
:mod:`gemviz.data.clusters`) and a cluster-aware 95% interval (:func:`gemviz.analysis.means.model_means`);
slices are flagged ``small`` by the one rule of :func:`gemviz.stats.is_small` (fewer than 30
steps or 10 clusters).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from gemviz.actions import parse_action
from gemviz.analysis.means import grouped_means, mean_frame, mean_records
from gemviz.data import clusters as clusters_mod
from gemviz.data.errors import GemvizError
from gemviz.data.fields import ID, IMAGE, LABELS, TASK
from gemviz.data.study import Study

ACTION_TYPE = "action_type"
GT_FIELD = "action"
MISSING = "(missing)"
COLUMNS = [
    "splitter",
    "model",
    "metric",
    "slice",
    "label",
    "mean",
    "lo",
    "hi",
    "n",
    "n_clusters",
    "small",
]
# Fields that are never slices: identities, free text, per-step numbers.
_NOT_SLICES = {ID, TASK, IMAGE, GT_FIELD, "episode_id", "step", "step_index", "now_step"}
MAX_VALUES = 50


def slice_fields(study: Study) -> list[str]:
    """Fields worth slicing by: :data:`ACTION_TYPE` when the steps carry an ``action``, then
    every text field with 2..:data:`MAX_VALUES` distinct values."""
    s = study.samples
    out = [ACTION_TYPE] if GT_FIELD in s.columns else []
    for col in s.columns:
        if col in _NOT_SLICES or s[col].dtype.kind in "fc":
            continue
        try:
            distinct = s[col].dropna().astype(str).nunique()
        except TypeError:
            continue
        if 2 <= distinct <= MAX_VALUES:
            out.append(str(col))
    return out


def action_types(study: Study, gt_field: str = GT_FIELD) -> np.ndarray:
    """The type of each step's ground-truth action (``"invalid"`` when unreadable).

    Parsed once per study and field: the study is read-only (pages share one copy), so the
    result is kept on it and a change of models or splitters does not parse again.

    Raises:
        GemvizError: The test records have no ``gt_field``.
    """
    if gt_field not in study.samples.columns:
        raise GemvizError(
            f"the test records have no '{gt_field}' field to take the action type from; "
            "name the ground-truth field with --gt-field, or slice by another field (--by)",
            field=gt_field,
        )
    memo = study.__dict__.setdefault("_action_types", {})
    if gt_field in memo:
        return memo[gt_field]
    out = []
    for value in study.samples[gt_field].tolist():
        if value is None or (isinstance(value, float) and np.isnan(value)):
            out.append(MISSING)
            continue
        try:
            out.append(parse_action(value, fmt="auto").type)
        except GemvizError:
            out.append("invalid")
    memo[gt_field] = np.asarray(out, dtype=object)
    memo[gt_field].flags.writeable = False
    return memo[gt_field]


def slice_values(study: Study, by: str, gt_field: str = GT_FIELD) -> np.ndarray:
    """Each step's slice: its value of ``by`` as text (``"(missing)"`` when absent).

    Raises:
        GemvizError: ``by`` is neither :data:`ACTION_TYPE` nor a field of the test records.
    """
    if by == ACTION_TYPE:
        return action_types(study, gt_field)
    if by not in study.samples.columns:
        have = ", ".join(slice_fields(study)) or "none"
        raise GemvizError(f"unknown slice field '{by}' (fields to slice by: {have})", field=by)
    col = study.samples[by]
    if pd.api.types.infer_dtype(col, skipna=True) == "string":
        # Text columns at C speed: the value itself, MISSING where there is none.
        return col.astype(object).where(col.notna(), MISSING).to_numpy(dtype=object)
    return np.asarray(
        [MISSING if v is None or (isinstance(v, float) and np.isnan(v)) else str(v) for v in col],
        dtype=object,
    )


def slices_table(
    study: Study,
    by: str,
    splitters: Sequence[str] | None = None,
    models: Sequence[str] | None = None,
    metrics: Sequence[str] | None = None,
    gt_field: str = GT_FIELD,
) -> pd.DataFrame:
    """Means per splitter, model, metric, slice and label.

    Args:
        study: The study; its clusters (``study.cluster_by``) make the intervals
            cluster-aware (Wilson at step level when ``cluster_by`` is ``"none"``).
        by: A field of the test records, or :data:`ACTION_TYPE`.
        splitters: Splitters to include (default all).
        models: Models to include (default all).
        metrics: Metrics of the study (default: all of them).
        gt_field: Field of the ground-truth action, for :data:`ACTION_TYPE`.

    Returns:
        Rows with :data:`COLUMNS`; slices ordered by size (largest first, then by name),
        empty (slice, label) groups left out.

    Raises:
        GemvizError: Unknown field, splitter, model or metric.
    """
    splitters = list(study.splitters if splitters is None else splitters)
    models = list(study.models if models is None else models)
    study.check_splitters(splitters)
    study.check_models(models)
    metrics = list(study.metrics if metrics is None else metrics)
    values = slice_values(study, by, gt_field)
    counts = pd.Series(values).value_counts()
    order = sorted(counts.index, key=lambda v: (-counts[v], str(v)))
    # Each step's slice as its rank in ``order``; a group is (slice, label): 2 * rank + label.
    codes, uniques = pd.factorize(pd.Series(values, dtype=object))
    position = {v: i for i, v in enumerate(order)}
    slice_rank = np.array([position[v] for v in uniques], dtype=np.int64)[codes]
    single = study.cluster_by == clusters_mod.NONE
    columns = {m: study.metric(m)[models].to_numpy(float) for m in metrics}
    records = []
    for splitter in splitters:
        groups = 2 * slice_rank + (~study.is_id(splitter)).astype(np.int64)
        sizes = np.bincount(groups, minlength=2 * len(order))
        per_metric = {
            m: grouped_means(v, groups, 2 * len(order), study.clusters, single)
            for m, v in columns.items()
        }
        for g in np.flatnonzero(sizes):
            found = mean_records(models, {m: means[g] for m, means in per_metric.items()})
            where = {"splitter": splitter, "slice": order[g // 2], "label": LABELS[g % 2]}
            records.extend({**r, **where} for r in found)
    if not records:
        return pd.DataFrame(columns=COLUMNS)
    table = mean_frame(records, COLUMNS)
    # Splitter, model, metric, slice (largest first), then label: the order a reader scans.
    rank = {
        "splitter": {v: i for i, v in enumerate(splitters)},
        "model": {v: i for i, v in enumerate(models)},
        "metric": {v: i for i, v in enumerate(metrics)},
        "slice": {v: i for i, v in enumerate(order)},
        "label": {v: i for i, v in enumerate(LABELS)},
    }
    keys = pd.DataFrame({c: table[c].map(r) for c, r in rank.items()})
    table = table.iloc[keys.sort_values(list(rank), kind="stable").index]
    return table[COLUMNS].reset_index(drop=True)
