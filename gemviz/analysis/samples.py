"""The Samples table: one row per test step, and what the Samples page says about a set of them.

:func:`sample_table` flattens a :class:`~gemviz.data.study.Study` into one wide frame (id, task,
dataset/app fields, whether the splitters disagree, each splitter's label and input score,
each model's outcomes). It is built once per study; the filters of
:mod:`gemviz.analysis.filters` are vectorised masks over its columns and
:mod:`gemviz.analysis.paging` pages through the result. Column names come from
:func:`label_col`, :func:`score_col` and :func:`match_col`, so pages and tests never spell
them by hand.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from gemviz.analysis.means import MEAN_COLUMNS, model_means
from gemviz.analysis.outcomes import metric_short
from gemviz.analysis.stability import id_probability
from gemviz.data import clusters as clusters_mod
from gemviz.data.fields import ID, IMAGE, TASK
from gemviz.data.study import Study
from gemviz.workspace.annotations import with_annotations

DISPUTED = "disputed"
# Fields of a test record that name where a step comes from, in the order they are shown.
GROUP_FIELDS = ("dataset", "platform", "app", "domain")
#: The hidden lower-cased task column the text search reads.
SEARCH = "_task_lower"


def label_col(splitter: str) -> str:
    """Column of the table holding ``splitter``'s ID/OOD label."""
    return f"{splitter} label"


def score_col(splitter: str) -> str:
    """Column of the table holding ``splitter``'s input score."""
    return f"{splitter} score"


def prob_col(splitter: str) -> str:
    """Column of the table holding ``splitter``'s ID probability over bootstrap refits."""
    return f"{splitter} ID probability"


def with_id_probability(table: pd.DataFrame, probs: Mapping[str, np.ndarray]) -> pd.DataFrame:
    """``table`` plus a :func:`prob_col` column per splitter of ``probs`` (study order).

    Args:
        table: Output of :func:`sample_table`.
        probs: Splitter -> each step's ID probability (:func:`gemviz.analysis.stability.id_probability`).
    """
    if not probs:
        return table
    out = table.copy()
    for name, prob in probs.items():
        out[prob_col(name)] = np.asarray(prob, dtype=float)
    return out


def match_col(model: str, metric: str) -> str:
    """Column of the table holding ``model``'s ``metric`` (``"<model> exact"``, ``"<model> accuracy"``)."""
    return f"{model} {metric_short(metric)}"


def group_fields(study: Study) -> list[str]:
    """The dataset/app-like fields the study's samples carry (see :data:`GROUP_FIELDS`)."""
    return [f for f in GROUP_FIELDS if f in study.samples.columns]


def disputed(labels: pd.DataFrame) -> np.ndarray:
    """True where the splitters do not all give the same label (False with < 2 splitters)."""
    if labels.shape[1] < 2:
        return np.zeros(len(labels), dtype=bool)
    values = labels.to_numpy()
    return (values != values[:, :1]).any(axis=1)


def suggest_examples(study: Study, k: int = 3) -> list[str]:
    """A few steps worth showing: those the splitters disagree on first, else the first steps.

    Args:
        study: The study.
        k: How many ids at most.

    Returns:
        Up to ``k`` sample ids, in study order.
    """
    hits = np.flatnonzero(disputed(study.labels))[:k]
    if not len(hits):
        hits = np.arange(min(k, len(study)))
    return study.samples[ID].iloc[hits].tolist()


def sample_table(study: Study) -> pd.DataFrame:
    """The study as one wide frame for browsing and filtering.

    Args:
        study: The aligned study.

    Returns:
        Columns ``id``, ``task``, ``image_path``, the group fields present, ``disputed``, then
        ``label_col(s)`` and ``score_col(s)`` for each splitter and ``match_col(m, metric)``
        for each model and metric; plus a hidden lower-cased task column used by the search
        (drop it with :func:`visible` before showing). Row order is the study's.
    """
    s = study.samples
    cols: dict[str, Any] = {
        ID: s[ID].astype(str).to_numpy(),
        TASK: s[TASK].astype(str).to_numpy() if TASK in s else np.full(len(s), ""),
        IMAGE: s[IMAGE].astype(str).to_numpy() if IMAGE in s else np.full(len(s), ""),
    }
    for f in group_fields(study):
        cols[f] = s[f].astype("string").fillna("").to_numpy()
    cols[DISPUTED] = disputed(study.labels)
    for name in study.splitters:
        cols[label_col(name)] = study.labels[name].to_numpy()
        cols[score_col(name)] = (
            study.scores[name].to_numpy(dtype=float) if name in study.scores else np.nan
        )
    for name in study.models:
        for metric in study.metrics:
            column = study.metric(metric)[name]
            # One run: 0/1; several: the share of runs that passed.
            cols[match_col(name, metric)] = (
                column.to_numpy(dtype=np.int8)
                if column.dtype.kind in "iub"
                else column.to_numpy(dtype=float)
            )
    table = pd.DataFrame(cols)
    table[SEARCH] = table[TASK].str.lower()
    table.attrs["splitters"] = study.splitters
    table.attrs["models"] = study.models
    return table


def browse_table(
    base: pd.DataFrame, annotated: Mapping[str, Any], refits: Mapping[str, np.ndarray]
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """The table the Samples page filters: the sample table, its notes, its ID probabilities.

    Args:
        base: Output of :func:`sample_table` (left as it is: a cache may share it).
        annotated: Sample id -> :class:`~gemviz.workspace.annotations.Annotation`.
        refits: Splitter -> its ``(B, n)`` bootstrap refits' ID flags (those on disk).

    Returns:
        ``(table, probs)``: ``base`` with ``tags``, ``note`` and a :func:`prob_col` per refitted
        splitter, and splitter -> each step's ID probability.
    """
    probs = {name: id_probability(r) for name, r in refits.items()}
    return with_id_probability(with_annotations(base, dict(annotated)), probs), probs


def visible(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` without the helper columns that are not meant to be shown."""
    return table.drop(columns=[SEARCH], errors="ignore")


def clusters_text(study: Study, positions: Sequence[int] | np.ndarray) -> str:
    """How many clusters the steps at ``positions`` come from, e.g. ``"in 12 clusters (task)"``.

    Empty at step level (``cluster_by`` none), where every step is its own cluster.
    """
    if study.cluster_by == clusters_mod.NONE:
        return ""
    k = clusters_mod.count(study.clusters[np.asarray(positions, dtype=np.int64)])
    return f"in {k:,} cluster{'s' if k != 1 else ''} ({study.cluster_by})"


def summary(study: Study, positions: Sequence[int] | np.ndarray) -> pd.DataFrame:
    """Each model's mean on the steps at ``positions``, with n, clusters and a 95% interval.

    The interval is cluster-aware by the study's clusters (:func:`gemviz.analysis.means.model_means`;
    Wilson at step level), so a filtered set of a few tasks shows how little it holds.

    Args:
        study: The aligned study.
        positions: Row positions in the study (e.g. the index of a filtered sample table).

    Returns:
        Rows :data:`gemviz.analysis.means.MEAN_COLUMNS` (``small`` by
        :func:`gemviz.stats.is_small`), models in study order; no rows when ``positions`` is
        empty.
    """
    pos = np.asarray(positions, dtype=np.int64)
    if not pos.size:
        return pd.DataFrame(columns=MEAN_COLUMNS)
    mask = np.zeros(len(study), dtype=bool)
    mask[pos] = True
    return model_means(study, mask)


def ids_csv(table: pd.DataFrame) -> bytes:
    """The ``id`` and ``task`` columns of a (filtered) table as CSV bytes.

    The annotations' ``tags`` and ``note`` columns come along when the table has them.
    """
    cols = [ID, TASK] + [c for c in ("tags", "note") if c in table.columns]
    return table[cols].to_csv(index=False).encode("utf-8")
