"""What the Step page shows about one test step, computed without Streamlit.

For a step the splitters dispute, a researcher asks *why*. This module gathers the answers:
the step's nearest train steps in each splitter's embedding space (:func:`nearest_train`),
where its input score falls among the train scores (:func:`score_percentile`), and the other
steps of its episode in order (:func:`episode`), each with its ground-truth action and every
model's match, and the way through that episode (:func:`strip_neighbours`, :func:`window`). Thumbnails of screenshots come from :func:`thumbnail`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from gemviz.actions import parse_action
from gemviz.actions.describe import describe
from gemviz.analysis.neighbours import rows
from gemviz.analysis.outcomes import metric_short
from gemviz.analysis.samples import match_col
from gemviz.analysis.step import GT_FIELD
from gemviz.data.errors import GemvizError
from gemviz.data.fields import ID, IMAGE, SCORE, TASK
from gemviz.data.ids import sample_ids
from gemviz.data.loaders import load_scores
from gemviz.data.markup import md
from gemviz.data.read import read_records
from gemviz.data.study import Study

# Fields that number a step inside its episode, in the order they are looked for.
ORDER_FIELDS = ("step", "step_index", "now_step")


def splitters_with_embeddings(workspace) -> list[Any]:
    """The workspace's splitter entries whose train and test embedding files both exist."""
    return [
        s
        for s in workspace.splitters
        if s.train_embeddings
        and s.test_embeddings
        and os.path.isfile(s.train_embeddings)
        and os.path.isfile(s.test_embeddings)
    ]


def train_records(path: str | os.PathLike) -> pd.DataFrame:
    """The train file's records indexed by sample id (``task`` and ``image_path`` at least).

    Raises:
        GemvizError: The file is unreadable.
    """
    records = read_records(path)
    frame = pd.DataFrame.from_records(records)
    for col in (TASK, IMAGE):
        if col not in frame.columns:
            frame[col] = ""
    frame.index = pd.Index(sample_ids(records, str(path)), name=ID)
    return frame


def nearest_train(found, sample_id: str, train: pd.DataFrame | None = None) -> pd.DataFrame:
    """The nearest train steps of one test step.

    Args:
        found: A :class:`gemviz.analysis.neighbours.NeighbourTable` of the splitter's embeddings.
        sample_id: The test step's id.
        train: Train records by id (:func:`train_records`) for the task and screenshot.

    Returns:
        Rows ``rank, neighbour, task, image_path, distance``, nearest first.

    Raises:
        GemvizError: The id is not in the test embeddings.
    """
    frame = pd.DataFrame(rows(found, [sample_id]))
    ids = frame["neighbour"]
    known = train is not None
    frame[TASK] = [train[TASK].get(i, "") if known else "" for i in ids]
    frame[IMAGE] = [train[IMAGE].get(i, "") if known else "" for i in ids]
    return frame[["rank", "neighbour", TASK, IMAGE, "distance"]]


def file_stamp(path: str | os.PathLike) -> tuple:
    """``(path, size, mtime_ns)`` of a file (``(path, None)`` when unreadable): a cache key
    that belongs to that file alone and changes whenever it is rewritten."""
    try:
        st = os.stat(path)
    except OSError:
        return (str(path), None)
    return (str(path), st.st_size, st.st_mtime_ns)


def train_score_values(path: str | os.PathLike) -> np.ndarray:
    """A splitter's train input scores as a float array, read from its score file.

    Raises:
        GemvizError: The file is unreadable or a score is bad (file, row and field named).
    """
    return load_scores(path)[SCORE].to_numpy(dtype=float, copy=True)


def score_percentile(score: float, train_scores: Sequence[float] | np.ndarray) -> float:
    """Percentage of train input scores at or below ``score`` (NaN when unknown).

    A test step far from the train centroid has a percentile near 100: few train steps lie
    as far out.
    """
    train = np.asarray(train_scores, dtype=float)
    train = train[np.isfinite(train)]
    if not np.isfinite(score) or not len(train):
        return float("nan")
    return float(100.0 * np.count_nonzero(train <= score) / len(train))


@dataclass(frozen=True)
class ScoreVerdict:
    """One splitter's verdict on one step, as the Step page shows it.

    Attributes:
        splitter: The splitter.
        score: The step's input score (NaN when the splitter has none).
        label: ``"ID"`` or ``"OOD"``.
        percentile: Percentage of train scores at or below ``score`` (NaN when unknown).
    """

    splitter: str
    score: float
    label: str
    percentile: float

    @property
    def caption(self) -> str | None:
        """Where the score lies among the train steps, in words (None when unknown)."""
        if not np.isfinite(self.percentile):
            return None
        return (
            f"Farther from the train centroid than {self.percentile:.0f}% of train steps "
            "(percentile of the train score distribution)."
        )


def score_verdict(
    study: Study, splitter: str, pos: int, train_scores: Sequence[float] | None = None
) -> ScoreVerdict:
    """``splitter``'s input score and label of the step at ``pos``, placed among the train scores.

    Args:
        study: The study.
        splitter: One of its splitters.
        pos: Row of the step.
        train_scores: The splitter's train input scores, when known.
    """
    score = float(study.scores[splitter].iloc[pos]) if splitter in study.scores else math.nan
    pct = math.nan if train_scores is None else score_percentile(score, train_scores)
    return ScoreVerdict(splitter, score, str(study.labels[splitter].iloc[pos]), pct)


def order_field(samples: pd.DataFrame) -> str | None:
    """The first of :data:`ORDER_FIELDS` the samples carry with at least one number."""
    for name in ORDER_FIELDS:
        if name in samples.columns and pd.to_numeric(samples[name], errors="coerce").notna().any():
            return name
    return None


def episode(study: Study, pos: int) -> pd.DataFrame:
    """The steps sharing the cluster (episode or task) of the step at ``pos``, in order.

    Order: by the step-number field (:func:`order_field`) when the samples have one, steps
    without a number last; ties and everything else in test-file order.

    Returns:
        Rows ``position, id, order, task, image_path, gt, current`` then ``<model> type`` and
        ``<model> exact`` for every model (0/1). ``gt`` describes the ground-truth action
        (empty when the test set has none); ``current`` marks the step at ``pos``.
    """
    members = np.flatnonzero(study.clusters == study.clusters[pos])
    field = order_field(study.samples)
    if field is not None:
        number = pd.to_numeric(study.samples[field].iloc[members], errors="coerce").to_numpy()
        key = np.where(np.isnan(number), np.inf, number)
        members = members[np.lexsort((members, key))]
    s = study.samples.iloc[members]
    has_gt = GT_FIELD in s.columns
    out = pd.DataFrame(
        {
            "position": members,
            ID: s[ID].astype(str).to_numpy(),
            "order": (
                pd.to_numeric(s[field], errors="coerce").to_numpy()
                if field is not None
                else np.arange(1, len(members) + 1)
            ),
            TASK: s[TASK].astype(str).to_numpy(),
            IMAGE: s[IMAGE].astype(str).to_numpy(),
            "gt": [describe(_gt(v)) if has_gt else "" for v in _column(s, GT_FIELD)],
            "current": members == pos,
        }
    )
    for m in study.models:
        for metric in study.metrics:
            out[match_col(m, metric)] = study.metric(metric)[m].to_numpy()[members]
    return out


def _column(frame: pd.DataFrame, name: str) -> list[Any]:
    return frame[name].tolist() if name in frame.columns else [None] * len(frame)


def _gt(value: Any) -> Any:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    try:
        return parse_action(value, fmt="auto")
    except GemvizError:
        return None


def current_index(strip: pd.DataFrame) -> int:
    """Row of the current step in an :func:`episode` strip."""
    return int(np.flatnonzero(strip["current"].to_numpy())[0])


def strip_neighbours(strip: pd.DataFrame) -> tuple[str | None, str | None]:
    """Ids of the steps before and after the current one in an :func:`episode` strip."""
    at = current_index(strip)
    ids = strip[ID].tolist()
    return (ids[at - 1] if at > 0 else None, ids[at + 1] if at + 1 < len(ids) else None)


def strip_captions(strip: pd.DataFrame, study: Study, metric: str | None = None) -> list[str]:
    """One caption per row of a strip: the step, its ground truth, each model's result.

    Args:
        strip: Rows of :func:`episode` (or of :func:`window`).
        study: The study whose models the strip's columns name.
        metric: The metric marked ✓/✗ (default: the study's default metric).

    Returns:
        Two Markdown lines per row (user text escaped), e.g. ``"step 3 · GT: click (0.50, 0.20)  \nexact: a ✓ b ✗"``;
        the current step's head reads ``"**▶ this step**"``.
    """
    metric = metric or study.default_metric
    out = []
    for _, row in strip.iterrows():
        marks = " ".join(
            f"{md(m)} {'✓' if row[match_col(m, metric)] == 1 else '✗'}" for m in study.models
        )
        head = "**▶ this step**" if row["current"] else f"step {row['order']:g}"
        gt = md(row["gt"] or "–")
        out.append(f"{head} · GT: {gt}  \n{md(metric_short(metric))}: {marks}")
    return out


def window(strip: pd.DataFrame, width: int = 7) -> pd.DataFrame:
    """At most ``width`` rows of an episode strip, centred on the current step."""
    if len(strip) <= width:
        return strip
    at = current_index(strip)
    start = min(max(0, at - width // 2), len(strip) - width)
    return strip.iloc[start : start + width]
