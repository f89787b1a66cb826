"""The Samples table: one row per test step, its filters, paging and step details.

:func:`sample_table` flattens a :class:`~gemviz.data.study.Study` into one wide frame (id, task,
dataset/app fields, whether the splitters disagree, each splitter's label and input score,
each model's type and exact match). It is built once per study; every filter in
:class:`SampleFilter` is then a vectorised boolean mask over its columns, so filtering and
paging 50,000 steps costs a few milliseconds. Column names come from :func:`label_col`,
:func:`score_col` and :func:`match_col`, so pages and tests never spell them by hand.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

# Re-exported: pages reach a step's outcomes through this module.
from gemviz.analysis.outcomes import metric_short, model_rows, outcome_text  # noqa: F401
from gemviz.data.errors import GemvizError
from gemviz.data.io import read_records
from gemviz.data.records import EXACT_MATCH, ID, IMAGE, TASK, sample_ids
from gemviz.data.study import Study

DISPUTED = "disputed"
# Fields of a test record that name where a step comes from, in the order they are shown.
GROUP_FIELDS = ("dataset", "platform", "app", "domain")
_SEARCH = "_task_lower"


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
    ids = study.ids
    return [ids[i] for i in hits]


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
    table[_SEARCH] = table[TASK].str.lower()
    table.attrs["splitters"] = study.splitters
    table.attrs["models"] = study.models
    return table


def visible(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` without the helper columns that are not meant to be shown."""
    return table.drop(columns=[_SEARCH], errors="ignore")


@dataclass
class SampleFilter:
    """What the Samples page shows; an empty filter keeps every step.

    Attributes:
        labels: Splitter -> required label ("ID" or "OOD").
        disputed: True keeps only steps the splitters disagree on, False only agreed ones.
        matches: ``(model, metric)`` -> required 0/1 value.
        only_correct: Keep steps that this model got right and every other model got wrong.
        only_metric: The metric ``only_correct`` looks at.
        score_ranges: Splitter -> (low, high) inclusive input-score range.
        prob_ranges: Splitter -> (low, high) inclusive ID-probability range (needs the
            :func:`prob_col` columns of :func:`with_id_probability`).
        values: Field (e.g. ``"dataset"``) -> allowed values.
        search: Case-insensitive text that must occur in the task.
        tags: Keep steps annotated with any of these tags (needs the ``tags`` column of
            :func:`gemviz.workspace.annotations.with_annotations`; ``"(any tag)"``: any annotated step).
        ids: Keep only these sample ids (a selection sent from another page), or None.
    """

    labels: Mapping[str, str] = field(default_factory=dict)
    disputed: bool | None = None
    matches: Mapping[tuple[str, str], int] = field(default_factory=dict)
    only_correct: str | None = None
    only_metric: str = EXACT_MATCH
    score_ranges: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    prob_ranges: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    values: Mapping[str, Sequence[str]] = field(default_factory=dict)
    search: str = ""
    tags: Sequence[str] = ()
    ids: Sequence[str] | None = None


def filter_mask(table: pd.DataFrame, flt: SampleFilter) -> np.ndarray:
    """Boolean mask of the rows of ``table`` that pass ``flt``.

    Raises:
        GemvizError: The filter names a splitter, model or field the table does not have.
    """
    mask = np.ones(len(table), dtype=bool)
    if flt.ids is not None:
        mask &= table[ID].isin(set(flt.ids)).to_numpy()
    for splitter, label in flt.labels.items():
        mask &= _column(table, label_col(splitter), "splitter", splitter) == label
    if flt.disputed is not None:
        mask &= table[DISPUTED].to_numpy() == flt.disputed
    for (model, metric), value in flt.matches.items():
        mask &= _column(table, match_col(model, metric), "model", model) == int(value)
    if flt.only_correct is not None:
        mask &= only_correct(table, flt.only_correct, flt.only_metric)
    for splitter, (lo, hi) in flt.score_ranges.items():
        score = _column(table, score_col(splitter), "splitter", splitter)
        mask &= (score >= lo) & (score <= hi)
    for splitter, (lo, hi) in flt.prob_ranges.items():
        prob = _column(table, prob_col(splitter), "ID probability of splitter", splitter)
        mask &= (prob >= lo) & (prob <= hi)
    for name, allowed in flt.values.items():
        if allowed:
            mask &= np.isin(
                _column(table, name, "field", name), np.asarray(list(allowed), dtype=object)
            )
    if flt.search.strip():
        mask &= (
            table[_SEARCH]
            .str.contains(flt.search.strip().lower(), regex=False)
            .to_numpy(dtype=bool)
        )
    if flt.tags:
        from gemviz.workspace.annotations import tag_mask

        if "tags" not in table.columns:
            raise GemvizError("the sample table carries no annotations to filter by tag")
        mask &= tag_mask(table, list(flt.tags)).to_numpy(dtype=bool)
    return mask


def only_correct(
    table: pd.DataFrame, model: str, metric: str = EXACT_MATCH, models: Sequence[str] | None = None
) -> np.ndarray:
    """True where ``model`` is right on ``metric`` and every other model is wrong.

    Args:
        table: A :func:`sample_table` frame.
        model: The model that alone must be right.
        metric: ``"type_match"`` or ``"exact_match"``.
        models: All models to compare with; default: those recorded in ``table.attrs``.
    """
    models = list(models if models is not None else table.attrs.get("models", [model]))
    mask = _column(table, match_col(model, metric), "model", model) == 1
    for other in models:
        if other != model:
            mask &= _column(table, match_col(other, metric), "model", other) == 0
    return mask


def _column(table: pd.DataFrame, col: str, kind: str, name: str) -> np.ndarray:
    if col not in table.columns:
        raise GemvizError(f"unknown {kind} '{name}' in the sample filter")
    return table[col].to_numpy()


@dataclass(frozen=True)
class ScoreRange:
    """A score filter's slider over the observed scores: bounds, step and display format."""

    lo: float
    hi: float
    step: float
    format: str

    def is_full(self, chosen: tuple[float, float]) -> bool:
        """True when ``chosen`` covers the whole observed range (within half a step)."""
        return chosen[0] <= self.lo + self.step / 2 and chosen[1] >= self.hi - self.step / 2

    def bounds(self, chosen: tuple[float, float]) -> tuple[float, float]:
        """``chosen`` with an end at the slider's end widened to the observed extreme.

        Slider positions are ``lo + k * step`` in floating point: the last one can fall a
        hair short of the largest score, which would then drop out of the filter.
        """
        a, b = chosen
        return (
            -np.inf if a <= self.lo + self.step / 2 else a,
            np.inf if b >= self.hi - self.step / 2 else b,
        )


def score_range(scores: Sequence[float] | np.ndarray, positions: int = 200) -> ScoreRange | None:
    """A slider over the observed scores with ``positions`` steps (GEM scores span 0.004-0.08).

    Args:
        scores: The scores (NaN ignored).
        positions: Number of steps between the smallest and largest score (at least 100).

    Returns:
        The slider's spec, or None when fewer than two distinct scores exist.
    """
    values = np.asarray(scores, dtype=float)
    values = values[np.isfinite(values)]
    if values.size == 0 or values.min() >= values.max():
        return None
    lo, hi = float(values.min()), float(values.max())
    step = (hi - lo) / max(100, positions)
    digits = min(10, max(2, int(np.ceil(-np.log10(step))) + 1))
    return ScoreRange(lo, hi, step, f"%.{digits}f")


def filter_table(table: pd.DataFrame, flt: SampleFilter) -> pd.DataFrame:
    """The rows of ``table`` passing ``flt``, in table order (index kept = study position)."""
    return table[filter_mask(table, flt)]


def clusters_text(study: Study, positions: Sequence[int] | np.ndarray) -> str:
    """How many clusters the steps at ``positions`` come from, e.g. ``"in 12 clusters (task)"``.

    Empty at step level (``cluster_by`` none), where every step is its own cluster.
    """
    from gemviz.data import clusters as clusters_mod

    if study.cluster_by == clusters_mod.NONE:
        return ""
    k = clusters_mod.count(study.clusters[np.asarray(positions, dtype=np.int64)])
    return f"in {k:,} cluster{'s' if k != 1 else ''} ({study.cluster_by})"


def summary(study: Study, positions: Sequence[int] | np.ndarray) -> pd.DataFrame:
    """Each model's mean on the steps at ``positions``, with n, clusters and a 95% interval.

    The interval is cluster-aware by the study's clusters (:func:`gemviz.stats.mean_estimate`;
    Wilson at step level), so a filtered set of a few tasks shows how little it holds.

    Args:
        study: The aligned study.
        positions: Row positions in the study (e.g. the index of a filtered sample table).

    Returns:
        Rows ``model, metric, mean, lo, hi, n, n_clusters, small`` (``small``: fewer than
        30 steps or 10 clusters), models in study order; no rows when ``positions`` is empty.
    """
    from gemviz.data import clusters as clusters_mod
    from gemviz.stats import mean_estimate

    pos = np.asarray(positions, dtype=np.int64)
    rows = []
    if pos.size:
        codes = None if study.cluster_by == clusters_mod.NONE else study.clusters[pos]
        for model in study.models:
            for metric in study.metrics:
                est = mean_estimate(study.metric(metric)[model].to_numpy(dtype=float)[pos], codes)
                rows.append(
                    {
                        "model": model,
                        "metric": metric,
                        "mean": est.mean,
                        "lo": est.lo,
                        "hi": est.hi,
                        "n": est.n,
                        "n_clusters": est.n_clusters,
                        "small": est.small,
                    }
                )
    columns = ["model", "metric", "mean", "lo", "hi", "n", "n_clusters", "small"]
    return pd.DataFrame(rows, columns=columns)


@dataclass(frozen=True)
class Page:
    """One page of a filtered table: rows ``start:stop`` of ``n`` rows, page ``number`` of ``count``."""

    number: int
    count: int
    start: int
    stop: int
    n: int


def paginate(n: int, number: int, size: int = 100) -> Page:
    """Bounds of page ``number`` (0-based, clipped to the valid range) of ``n`` rows.

    Raises:
        GemvizError: ``size`` is not positive.
    """
    if size <= 0:
        raise GemvizError(f"page size must be positive, got {size}")
    count = max(1, -(-n // size))
    number = min(max(int(number), 0), count - 1)
    start = number * size
    return Page(number=number, count=count, start=start, stop=min(n, start + size), n=n)


def page_of(ids: Sequence[str] | np.ndarray, sample_id: str, size: int = 100) -> int | None:
    """The page (0-based) of a filtered id list that holds ``sample_id``, or None."""
    pos = position(ids, sample_id)
    return None if pos is None else pos // size


def position(ids: Sequence[str] | np.ndarray, sample_id: str | None) -> int | None:
    """Index of ``sample_id`` in ``ids``, or None when absent."""
    if sample_id is None:
        return None
    hits = np.flatnonzero(np.asarray(ids, dtype=object) == sample_id)
    return int(hits[0]) if len(hits) else None


def neighbours(
    ids: Sequence[str] | np.ndarray, sample_id: str | None
) -> tuple[str | None, str | None]:
    """The previous and next ids around ``sample_id`` in a filtered order.

    A step outside the filtered rows has the first filtered row as its "next", so the buttons
    lead back into the list.
    """
    pos = position(ids, sample_id)
    n = len(ids)
    if pos is None:
        return None, (str(ids[0]) if n else None)
    prev_id = str(ids[pos - 1]) if pos > 0 else None
    next_id = str(ids[pos + 1]) if pos + 1 < n else None
    return prev_id, next_id


def ids_csv(table: pd.DataFrame) -> bytes:
    """The ``id`` and ``task`` columns of a (filtered) table as CSV bytes.

    The annotations' ``tags`` and ``note`` columns come along when the table has them.
    """
    cols = [ID, TASK] + [c for c in ("tags", "note") if c in table.columns]
    return table[cols].to_csv(index=False).encode("utf-8")


def splitter_rows(study: Study, pos: int) -> pd.DataFrame:
    """Each splitter's input score and label for the step at row ``pos``."""
    return pd.DataFrame(
        {
            "splitter": study.splitters,
            "input_score": [
                float(study.scores[s].iloc[pos]) if s in study.scores else np.nan
                for s in study.splitters
            ],
            "label": [str(study.labels[s].iloc[pos]) for s in study.splitters],
        }
    )


def load_predictions(path: str | os.PathLike, field: str = "prediction") -> dict[str, Any]:
    """A model's raw predictions keyed by sample id.

    Args:
        path: The predictions file (records with the test set's identity fields + ``field``).
        field: The field holding the raw model output.

    Returns:
        Sample id -> raw output (string or dict as stored).

    Raises:
        GemvizError: The file is unreadable or lacks ``field`` in every record.
    """
    records = read_records(path)
    if not any(field in r for r in records):
        raise GemvizError(f"no record has the prediction field '{field}'", file=str(path))
    ids = sample_ids(records, str(path))
    return {sid: rec.get(field) for sid, rec in zip(ids, records, strict=True)}


GT_FIELD = "action"


def step_actions(
    study: Study,
    pos: int,
    outputs: Mapping[str, Any] | None = None,
    formats: Mapping[str, str] | None = None,
) -> tuple[Any, dict[str, Any]]:
    """Parse the ground-truth action and each model's raw output for the step at ``pos``.

    Args:
        study: The study; the ground truth is the test record's ``action`` field when present.
        pos: Row of the step.
        outputs: Model name -> raw output for this step (models without one are left out).
        formats: Model name -> action format for :func:`gemviz.actions.parse_action`.

    Returns:
        ``(gt, predictions)``: the ground-truth Action (None when the test set has no
        ``action`` field) and model name -> Action. Unreadable output becomes an ``invalid``
        action, never an error.
    """
    from gemviz.actions import parse_action

    def parse(value: Any, fmt: str) -> Any:
        try:
            return parse_action(value, fmt=fmt)
        except GemvizError:
            return parse_action(value, fmt="auto")

    gt = None
    if GT_FIELD in study.samples.columns:
        value = study.samples[GT_FIELD].iloc[pos]
        if value is not None and not (isinstance(value, float) and np.isnan(value)):
            gt = parse(value, "auto")
    formats = formats or {}
    preds = {
        m: parse(outputs[m], formats.get(m, "auto"))
        for m in study.models
        if outputs and outputs.get(m) is not None
    }
    return gt, preds
