"""The loaders of the study's files: score, labeled and result files as checked frames.

Loaders
    :func:`load_scores`, :func:`load_labeled` and :func:`load_results` read a record file,
    check the fields they need and return a pandas DataFrame with gemviz's fixed column names
    (``id``, ``task``, ``image_path``, ``input_score``, ``label``, ``type_match``,
    ``exact_match``) first, followed by every other field of the file unchanged.

Metrics
    A result file's metrics are per-step 0/1 fields found by name: ``type_match`` and
    ``exact_match`` (GUI agents; both required once either is there), else any of
    :data:`OTHER_METRICS` (e.g. ``accuracy``, a benchmark's pass/fail). A BFCL score file is
    read as its evaluator wrote it (:mod:`gemviz.data.bfcl`) and gives ``accuracy``. A ``run``
    field marks repeated runs of one model in one file: the ids repeat once per run.

Reading at the file format's speed
    The loaders read the file as columns (:func:`gemviz.data.read.read_table`) and check each
    field on the whole column at once. A column that fails a check, or holds values of
    unusual types (ids as floats, scores as text, match values as ``"true"``), and files with
    runs or in BFCL's format go to the record-by-record reader, which accepts what it always
    accepted and names the file, row and field of the first bad value.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from gemviz.data import bfcl, frames
from gemviz.data.errors import GemvizError, note
from gemviz.data.fields import (
    EXACT_MATCH,
    ID,
    IMAGE,
    LABEL,
    LABELS,
    METRIC_ALIASES,
    METRICS,
    OTHER_METRICS,
    RUN,
    SCORE,
    TASK,
    TYPE_MATCH,
    run_key,
    to_binary,
    to_finite_float,
)
from gemviz.data.ids import sample_ids
from gemviz.data.read import read_records, read_table
from gemviz.data.read_like import read_table_like


def _frame(records: list[dict[str, Any]], ids: list[str], front: dict[str, list]) -> pd.DataFrame:
    cols: dict[str, Any] = {ID: ids}
    cols.update(front)
    frame = pd.DataFrame(cols)
    extra = pd.DataFrame.from_records(records)
    extra = extra.drop(columns=[c for c in extra.columns if c in cols], errors="ignore")
    if len(extra.columns):
        frame = pd.concat([frame, extra.reset_index(drop=True)], axis=1)
    return frame


def _require(records: list[dict[str, Any]], field: str, file: str) -> None:
    for i, rec in enumerate(records):
        if field not in rec or rec[field] is None:
            raise GemvizError("required field is missing", file=file, row=i + 1, field=field)


def _load_scores_records(path: str | os.PathLike) -> pd.DataFrame:
    """Load a score file (the GEM release's format): ``task``, ``image_path``, ``input_score``.

    Returns:
        DataFrame with ``id``, ``task``, ``image_path``, ``input_score`` (float) first.
    """
    file = str(path)
    records = read_records(path)
    ids = sample_ids(records, file)
    _require(records, SCORE, file)
    scores = [to_finite_float(r[SCORE], file, i + 1, SCORE) for i, r in enumerate(records)]
    return _frame(
        records,
        ids,
        {
            TASK: [_text(r.get(TASK)) for r in records],
            IMAGE: [_text(r.get(IMAGE)) for r in records],
            SCORE: np.asarray(scores, dtype=np.float64),
        },
    )


def _load_labeled_records(path: str | os.PathLike) -> pd.DataFrame:
    """Load a labeled dataset file: the test records with ``label`` of ``"ID"`` or ``"OOD"``.

    ``input_score`` is kept (as float) when present; it is not required.
    """
    file = str(path)
    records = read_records(path)
    ids = sample_ids(records, file)
    _require(records, LABEL, file)
    labels = []
    for i, rec in enumerate(records):
        value = rec[LABEL]
        # ASCII only: "ıd" (dotless i) would upper-case to "ID".
        norm = value.strip().upper() if isinstance(value, str) and value.isascii() else None
        if norm not in LABELS:
            raise GemvizError(
                f"label must be 'ID' or 'OOD', found {value!r}", file=file, row=i + 1, field=LABEL
            )
        labels.append(norm)
    front: dict[str, list] = {
        TASK: [_text(r.get(TASK)) for r in records],
        IMAGE: [_text(r.get(IMAGE)) for r in records],
        LABEL: labels,
    }
    if all(r.get(SCORE) is not None for r in records):
        front[SCORE] = np.asarray(
            [to_finite_float(r[SCORE], file, i + 1, SCORE) for i, r in enumerate(records)]
        )
    return _frame(records, ids, front)


def _plain_binary(records: Sequence[dict[str, Any]], aliases: Sequence[str]) -> np.ndarray | None:
    """The common case read at C speed: one spelling in every record, values 0/1 or bools.

    Returns None for anything else (two spellings, missing values, text, other numbers), which
    the record-by-record reader then checks and words exactly.
    """
    present = [a for a in aliases if any(a in rec for rec in records)]
    if len(present) != 1:
        return None
    raw = [rec.get(present[0]) for rec in records]
    if not {type(v) for v in raw} <= {int, bool} or not set(raw) <= {0, 1}:
        return None
    return np.asarray(raw, dtype=np.int8)


def result_metrics(records: Sequence[dict[str, Any]]) -> tuple[str, ...]:
    """The metrics a result file holds (see the module docstring).

    Raises:
        GemvizError: None is there; the message names the accepted fields.
    """
    if any(a in rec for rec in records for aliases in METRIC_ALIASES.values() for a in aliases):
        return METRICS
    found = tuple(m for m in OTHER_METRICS if any(m in rec for rec in records))
    if found:
        return found
    raise GemvizError(
        "required field is missing (accepted spellings: "
        f"{', '.join(METRIC_ALIASES[TYPE_MATCH])}; or a 0/1 metric: {', '.join(OTHER_METRICS)})",
        row=1,
        field=TYPE_MATCH,
    )


def _load_results_records(
    path: str | os.PathLike,
    ids: Sequence[str] | None = None,
    ids_from: str | None = None,
    notes: list[str] | None = None,
) -> pd.DataFrame:
    """:func:`load_results` record by record: the path every column that fails a check takes."""
    file = str(path)
    records = read_records(path)

    if bfcl.is_score_file(records):
        run = bfcl.read_score_file(path, ids, ids_from)
        frame = pd.DataFrame.from_records(run.records())
        frame[bfcl.ACCURACY] = frame[bfcl.ACCURACY].astype(np.int8)
        frame.attrs["metrics"] = [bfcl.ACCURACY]
        return frame
    try:
        metrics = result_metrics(records)
    except GemvizError as exc:
        raise GemvizError(exc.detail, file=file, row=exc.row, field=exc.field) from None
    if not any(RUN in rec for rec in records):
        frame = _results(records, file, metrics, 0, notes)
    else:
        runs: dict[str, list[dict[str, Any]]] = {}
        for i, rec in enumerate(records):
            value = rec.get(RUN)
            if value is None or value == "":
                raise GemvizError(
                    "the file has a 'run' field but this record has none; give every record "
                    "its run",
                    file=file,
                    row=i + 1,
                    field=RUN,
                )
            runs.setdefault(run_key(value, file, i + 1), []).append(rec)
        parts = []
        offset = 0
        for value, group in runs.items():
            part = _results(group, file, metrics, offset, notes)
            part.insert(1, RUN, value)
            parts.append(part)
            offset += len(group)
        frame = pd.concat(parts, ignore_index=True)
    frame.attrs["metrics"] = list(metrics)
    return frame


def _results(
    records: list[dict[str, Any]],
    file: str,
    metrics: Sequence[str],
    offset: int,
    notes: list[str] | None = None,
) -> pd.DataFrame:
    """The metric columns of one run's records (``offset``: rows before them in the file)."""
    ids = sample_ids(records, file)
    front: dict[str, list] = {
        TASK: [_text(r.get(TASK)) for r in records],
        IMAGE: [_text(r.get(IMAGE)) for r in records],
    }
    for metric in metrics:
        aliases = METRIC_ALIASES.get(metric, (metric,))
        if not any(a in rec for rec in records for a in aliases):
            raise GemvizError(
                f"required field is missing (accepted spellings: {', '.join(aliases)})",
                file=file,
                row=offset + 1,
                field=metric,
            )
        fast = _plain_binary(records, aliases)
        if fast is not None:
            front[metric] = fast
            continue
        values = []
        for i, rec in enumerate(records):
            row = offset + i + 1
            found = {a: rec[a] for a in aliases if a in rec and rec[a] is not None}
            if not found:
                raise GemvizError("required field is missing", file=file, row=row, field=metric)
            read = {a: to_binary(v, file, row, a) for a, v in found.items()}
            if len(set(read.values())) > 1:
                both = ", ".join(f"'{a}' = {v!r}" for a, v in found.items())
                raise GemvizError(
                    f"conflicting values under two spellings ({both}); keep one field",
                    file=file,
                    row=row,
                    field=metric,
                )
            values.append(next(iter(read.values())))
        front[metric] = np.asarray(values, dtype=np.int8)
    if EXACT_MATCH in front and TYPE_MATCH in front:
        message = frames.exact_without_type(file, front[TYPE_MATCH], front[EXACT_MATCH], offset)
        if message:
            note(notes, message)
    records = [dict(rec) for rec in records]
    for rec in records:
        rec.pop(RUN, None)
        for metric in metrics:
            for a in METRIC_ALIASES.get(metric, (metric,)):
                rec.pop(a, None)
    return _frame(records, ids, front)


def _table(path: str | os.PathLike, like: pd.DataFrame | None) -> pd.DataFrame:
    """The file as a table; its id columns shared with ``like`` where they are equal."""
    table = read_table_like(path, like)
    return table if table is not None else read_table(path)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def load_scores(path: str | os.PathLike) -> pd.DataFrame:
    """Load a score file (the GEM release's format): ``task``, ``image_path``, ``input_score``.

    Returns:
        DataFrame with ``id``, ``task``, ``image_path``, ``input_score`` (float) first.

    Raises:
        GemvizError: The file is unreadable, a sample has no id, or a score is missing or not
            a finite number within ±:data:`MAX_ABS_SCORE` (file, row and field named).
    """
    frame = frames.scores_frame(read_table(path))
    return frame if frame is not None else _load_scores_records(path)


def load_score_values(path: str | os.PathLike) -> np.ndarray:
    """The ``input_score`` values of a score file, in file order, for a fit that needs no ids
    (at a million steps, building and checking the ids is most of a read from the cache).

    Raises:
        GemvizError: As :func:`load_scores` for a score that is missing or not a finite
            number (file, row and field named).
    """
    values = frames.score_values(read_table(path))
    return values if values is not None else load_scores(path)[SCORE].to_numpy(dtype=float)


def load_labeled(path: str | os.PathLike, like: pd.DataFrame | None = None) -> pd.DataFrame:
    """Load a labeled dataset file: the test records with ``label`` of ``"ID"`` or ``"OOD"``.

    ``input_score`` is kept (as float) when every record has one; it is not required.

    Args:
        path: The labeled file.
        like: A frame loaded before from the same test set, whose ids are reused when this
            file lists the same samples in the same order (:func:`gemviz.data.frames.frame_ids`).

    Raises:
        GemvizError: The file is unreadable, a sample has no id, a label is missing or not
            ID/OOD, or a score is not a finite number (file, row and field named).
    """
    frame = frames.labeled_frame(_table(path, like), like)
    return frame if frame is not None else _load_labeled_records(path)


def load_results(
    path: str | os.PathLike,
    ids: Sequence[str] | None = None,
    ids_from: str | None = None,
    like: pd.DataFrame | None = None,
    notes: list[str] | None = None,
) -> pd.DataFrame:
    """Load a model's result file: the test records with their 0/1 metrics.

    Accepts 0/1 or true/false values and the spellings ``"type match"``/``"exact match"``.
    The metrics found are listed in ``frame.attrs["metrics"]``. A file with a ``run`` field
    keeps it as a column (its ids repeat once per run); a BFCL score file
    (:func:`gemviz.data.bfcl.read_score_file`) gives ``accuracy``, ``error_type`` and
    ``output`` per entry.

    Args:
        path: The result file.
        ids: Every sample id of the test set, for a BFCL score file (which lists only its
            failed entries) when no result file lies beside it.
        ids_from: Where ``ids`` come from, for messages.
        like: As for :func:`load_labeled`.
        notes: Collects the warnings of the load: ``exact_match`` is 1 where ``type_match``
            is 0 (an exact match implies a type match; the values are kept as given and the
            rows are named). Without a list each is issued as a
            :class:`~gemviz.data.errors.GemvizWarning`, which the command line prints as one
            ``warning:`` line.

    Raises:
        GemvizError: A metric is missing or not 0/1, or one record holds two
            spellings of a field with different values.
    """
    frame = frames.results_frame(_table(path, like), str(path), like, notes)
    return frame if frame is not None else _load_results_records(path, ids, ids_from, notes)
