"""Whole-column checks of record files read as tables: ids, text, scores, labels, matches.

Each check returns None when a value needs the record-by-record reader of
:mod:`gemviz.data.loaders` (an error to word with its row and field, or a type only that
reader converts); the loaders then run it, so every bad input ends in the same message.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from gemviz.data import arrow_text
from gemviz.data.errors import note
from gemviz.data.fields import (
    EXACT_MATCH,
    ID,
    IMAGE,
    LABEL,
    LABELS,
    MAX_ABS_SCORE,
    METRIC_ALIASES,
    METRICS,
    OTHER_METRICS,
    RUN,
    SCORE,
    TASK,
    TYPE_MATCH,
)

# How a file's ids were made: its ``id`` field, or ``image_path`` and ``task``.
ID_RULE, PAIR_RULE = "id", "pair"


def _kind(column: pd.Series) -> str:
    return pd.api.types.infer_dtype(column, skipna=False)


def frame_ids(frame: pd.DataFrame, like: pd.DataFrame | None = None) -> pd.Series | None:
    """The sample ids of a frame read by :func:`gemviz.data.read.read_table`, by the same
    rule as :func:`gemviz.data.ids.sample_ids`, computed on whole columns.

    Args:
        frame: The file's records as a table.
        like: A frame loaded earlier from the same test set (with ``id`` and the
            ``attrs["id_rule"]`` the loaders set). When ``frame``'s id columns (``id``, or
            ``image_path`` and ``task``) equal its own, its ids are reused: the rule gives
            equal ids for equal columns, and files of one test set usually list it in one order.

    Returns:
        One id string per row, or None when a value needs the record reader (a missing or
        repeated id, ids that are not text or integers, a missing ``image_path``/``task``).
    """
    n = len(frame)
    rule = ID_RULE if ID in frame.columns else PAIR_RULE
    if like is not None and len(like) == n and like.attrs.get("id_rule") == rule:
        keys = (ID,) if rule == ID_RULE else (IMAGE, TASK)
        if all(k in like.columns and _equal(frame[k], like[k]) for k in keys):
            return like[ID].reset_index(drop=True)
    if ID in frame.columns:
        return _explicit_ids(frame[ID])
    parts = []
    for field in (IMAGE, TASK):
        if field not in frame.columns:
            return None
        text = _text_array(frame[field])
        if text is None:
            return None
        parts.append(arrow_text.id_part_array(text))
    base = arrow_text.join_pair(*parts)
    if arrow_text.all_distinct(parts[0]) or arrow_text.all_distinct(base):
        return arrow_text.as_series(base)
    return _numbered(arrow_text.as_series(base))


def _text_array(column: pd.Series):
    """A column of text (or whole numbers, as text) with no missing value, as Arrow text."""
    if column.isna().any():
        return None
    kind = _kind(column)
    if kind not in ("string", "integer"):
        return None
    text = arrow_text.arrow_text(column)
    return text if text is not None else arrow_text.arrow_text(column.astype(str))


def _explicit_ids(column: pd.Series) -> pd.Series | None:
    """The ``id`` field as ids: text or whole numbers, none missing, empty or repeated."""
    if not len(column):
        return None  # a missing id is an error, or (in the first record) no ids at all
    text = _text_array(column)
    if text is None:
        return None
    text = arrow_text.nfc_array(text)
    if pc.any(pc.equal(text, "")).as_py() or not arrow_text.all_distinct(text):
        return None
    return arrow_text.as_series(text)


def _numbered(base: pd.Series) -> pd.Series:
    """Repeats of one id told apart by their order of occurrence: ``#2``, ``#3``, ..."""
    n = len(base)
    codes, _ = pd.factorize(base)
    order = np.argsort(codes, kind="stable")
    ranked = codes[order]
    starts = np.flatnonzero(np.r_[True, ranked[1:] != ranked[:-1]])
    occurrence = np.empty(n, dtype=np.int64)
    occurrence[order] = np.arange(n) - np.repeat(starts, np.diff(np.r_[starts, n]))
    repeats = np.flatnonzero(occurrence)
    base = base.astype(object)
    base.iloc[repeats] = base.iloc[repeats] + "#" + (occurrence[repeats] + 1).astype(str)
    return base.astype(str)


def _equal(a: pd.Series, b: pd.Series) -> bool:
    if a.dtype != b.dtype or a.isna().any():
        return False
    same = arrow_text.same_text(a, b)
    if same is not None:
        return same
    return (
        bool((a.to_numpy() == b.to_numpy()).all())
        if a.dtype == object
        else bool((a.reset_index(drop=True) == b.reset_index(drop=True)).all())
    )


def _text_column(frame: pd.DataFrame, field: str) -> pd.Series | None:
    """A text field with missing values as "" (as :func:`_text` makes them), or None."""
    if field not in frame.columns:
        return pd.Series([""] * len(frame), dtype=str)
    column = frame[field].reset_index(drop=True)
    kind = pd.api.types.infer_dtype(column, skipna=True)
    if kind == "integer" and not column.isna().any():
        return column.astype(str)
    if kind != "string" and not (kind == "empty" or column.isna().all()):
        return None
    if kind == "string" and not column.isna().any():
        return column
    return column.astype(object).where(column.notna(), "").astype(str)


def _score_column(column: pd.Series) -> np.ndarray | None:
    """Finite numbers within ±MAX_ABS_SCORE, or None."""
    if column.dtype.kind not in "if":
        return None
    values = column.to_numpy(dtype=np.float64)
    if not (np.isfinite(values).all() and (np.abs(values) <= MAX_ABS_SCORE).all()):
        return None
    return values


def _binary_column(frame: pd.DataFrame, aliases: Sequence[str]) -> np.ndarray | None:
    """The match field under its one spelling, as int8, when every value is 0/1 or a bool."""
    present = [a for a in aliases if a in frame.columns]
    if len(present) != 1:
        return None
    column = frame[present[0]]
    if column.dtype == bool:
        return column.to_numpy(dtype=np.int8)
    if column.dtype.kind != "i":
        return None
    values = column.to_numpy()
    if not ((values == 0) | (values == 1)).all():
        return None
    return values.astype(np.int8)


def _assemble(frame: pd.DataFrame, ids: pd.Series, front: dict[str, Any], drop=()) -> pd.DataFrame:
    """``id`` and the fixed columns first, then every other field of the file unchanged."""
    cols: dict[str, Any] = {ID: ids.reset_index(drop=True)}
    cols.update(
        {k: (v.reset_index(drop=True) if isinstance(v, pd.Series) else v) for k, v in front.items()}
    )
    out = pd.DataFrame(cols)
    extra = frame.drop(columns=[c for c in frame.columns if c in cols or c in drop])
    if len(extra.columns):
        out = pd.concat([out, extra.reset_index(drop=True)], axis=1)
    out.attrs["id_rule"] = ID_RULE if ID in frame.columns else PAIR_RULE
    return out


def _front_text(frame: pd.DataFrame) -> dict[str, pd.Series] | None:
    task, image = _text_column(frame, TASK), _text_column(frame, IMAGE)
    if task is None or image is None:
        return None
    return {TASK: task, IMAGE: image}


def exact_without_type(
    file: str, type_match: np.ndarray, exact_match: np.ndarray, offset: int = 0
) -> str | None:
    """The warning for rows where ``exact_match`` is 1 but ``type_match`` is 0, or None.

    ``offset``: rows of the file before these (the rows are named 1-based in the file).
    """
    bad = np.flatnonzero((exact_match == 1) & (type_match == 0))
    if not len(bad):
        return None
    rows = ", ".join(str(int(i) + offset + 1) for i in bad[:5]) + (" ..." if len(bad) > 5 else "")
    return (
        f"{file}: exact_match is 1 but type_match is 0 in {len(bad)} row(s) ({rows}); an "
        "exact match implies a type match, so check how the file was made (values kept "
        "as given)"
    )


def _label_column(column: pd.Series) -> pd.Series | None:
    """``ID``/``OOD`` labels in any case and spacing, as ``ID``/``OOD``; None otherwise."""
    text = arrow_text.arrow_text(column)
    if text is not None and arrow_text.in_set(text, LABELS):
        return column  # already as the study keeps them
    if column.isna().any() or _kind(column) != "string":
        return None
    text = column.astype(str)
    if not text.str.isascii().all():  # "ıd" (dotless i) upper-cases to "ID": the reader words it
        return None
    labels = text.str.strip().str.upper()
    return labels if labels.isin(LABELS).all() else None


def score_values(frame: pd.DataFrame) -> np.ndarray | None:
    """A score file's ``input_score`` column alone (every value finite, within
    ±MAX_ABS_SCORE), or None; its ids are not built."""
    return _score_column(frame[SCORE]) if SCORE in frame.columns else None


def scores_frame(frame: pd.DataFrame, like: pd.DataFrame | None = None) -> pd.DataFrame | None:
    """A score file's frame (``id``, ``task``, ``image_path``, ``input_score`` first), or None."""
    ids = frame_ids(frame, like)
    front = _front_text(frame)
    scores = _score_column(frame[SCORE]) if SCORE in frame.columns else None
    if ids is None or front is None or scores is None:
        return None
    return _assemble(frame, ids, {**front, SCORE: scores})


def labeled_frame(frame: pd.DataFrame, like: pd.DataFrame | None = None) -> pd.DataFrame | None:
    """A labeled file's frame (``label`` normalised; ``input_score`` when all have one), or None."""
    ids = frame_ids(frame, like)
    front = _front_text(frame)
    if ids is None or front is None or LABEL not in frame.columns:
        return None
    labels = _label_column(frame[LABEL])
    if labels is None:
        return None
    front[LABEL] = labels.reset_index(drop=True)
    if SCORE in frame.columns and frame[SCORE].notna().all():
        scores = _score_column(frame[SCORE])
        if scores is None:
            return None
        front[SCORE] = scores
    return _assemble(frame, ids, front)


def results_frame(
    frame: pd.DataFrame,
    file: str,
    like: pd.DataFrame | None = None,
    notes: list[str] | None = None,
) -> pd.DataFrame | None:
    """A result file's frame with its 0/1 metrics (``attrs["metrics"]``), or None.

    Files with runs and BFCL score files give None: the record reader splits and reads them.
    Rows where ``exact_match`` is 1 but ``type_match`` is 0 are flagged through
    :func:`gemviz.data.errors.note` (into ``notes`` when given).
    """
    if RUN in frame.columns or {"correct_count", "total_count"} <= set(frame.columns):
        return None
    if any(a in frame.columns for aliases in METRIC_ALIASES.values() for a in aliases):
        metrics: tuple[str, ...] = METRICS
    else:
        metrics = tuple(m for m in OTHER_METRICS if m in frame.columns)
    ids = frame_ids(frame, like)
    front: dict[str, Any] | None = _front_text(frame)
    if not metrics or ids is None or front is None:
        return None
    spellings: list[str] = []
    for metric in metrics:
        aliases = METRIC_ALIASES.get(metric, (metric,))
        values = _binary_column(frame, aliases)
        if values is None:
            return None
        front[metric] = values
        spellings += aliases
    if EXACT_MATCH in front and TYPE_MATCH in front:
        message = exact_without_type(file, front[TYPE_MATCH], front[EXACT_MATCH])
        if message:
            note(notes, message)
    out = _assemble(frame, ids, front, drop=spellings)
    out.attrs["metrics"] = list(metrics)
    return out
