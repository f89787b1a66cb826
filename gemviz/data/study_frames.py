"""The steps that turn loaded frames into a :class:`gemviz.data.study.Study`'s columns.

Each helper takes one frame (a splitter's labeled file, one run of a model's results, the
samples) and gives what the study keeps of it in the reference order: the sample frame with
its text columns first, the row positions that align a file to the reference ids, the
``ID``/``OOD`` labels and the 0/1 outcome columns, each bad value named by file, row and
field.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Union

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from gemviz.data import arrow_text
from gemviz.data.errors import GemvizError
from gemviz.data.fields import (
    EXACT_MATCH,
    ID,
    IMAGE,
    LABEL,
    LABELS,
    METRICS,
    OTHER_METRICS,
    RUN,
    SCORE,
    TASK,
    TYPE_MATCH,
)
from gemviz.data.ids import align, sample_ids

PathLike = Union[str, "os.PathLike[str]"]
# The two labels as objects: a column of labels holds references to these two.
_LABEL_VALUES = np.array(LABELS, dtype=object)


def study_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """The columns a study takes from a labeled or result file that is not its reference:
    ids, label, score, run and the metrics (``attrs`` kept); the text and every other field
    come from the reference file only."""
    keep = {ID, LABEL, SCORE, RUN, *metrics_of(frame)}
    out = frame[[c for c in frame.columns if c in keep]]
    out.attrs = dict(frame.attrs)
    return out


def as_paths(value: PathLike | Sequence[PathLike]) -> list[PathLike]:
    if isinstance(value, (str, os.PathLike)):
        return [value]
    return list(value)


def as_frames(value: pd.DataFrame | Sequence[pd.DataFrame]) -> list[pd.DataFrame]:
    return [value] if isinstance(value, pd.DataFrame) else list(value)


def metrics_of(frame: pd.DataFrame) -> list[str]:
    """The metric columns of a result frame (``attrs["metrics"]``, else found by name)."""
    named = frame.attrs.get("metrics")
    if named:
        return list(named)
    if TYPE_MATCH in frame.columns or EXACT_MATCH in frame.columns:
        return list(METRICS)
    found = [m for m in OTHER_METRICS if m in frame.columns]
    return found or list(METRICS)


def split_runs(frame: pd.DataFrame) -> list[tuple[str | None, pd.DataFrame]]:
    """The runs a result frame holds: itself, or one part per value of its ``run`` column."""
    if RUN not in frame.columns:
        return [(None, frame)]
    keys = frame[RUN].astype(str)
    return [
        (value, frame[keys == value].reset_index(drop=True))
        for value in dict.fromkeys(keys.tolist())
    ]


def with_ids(frame: pd.DataFrame, source: str) -> pd.DataFrame:
    if ID in frame.columns:
        return frame
    records = frame[[c for c in (IMAGE, TASK) if c in frame.columns]].to_dict("records")
    out = frame.copy()
    out.insert(0, ID, sample_ids(records, source))
    return out


def reference_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Put ``id``, ``task``, ``image_path`` first (empty text where absent), on a RangeIndex."""
    out = frame.reset_index(drop=True).copy()
    out[ID] = out[ID].astype(str)
    for col in (TASK, IMAGE):
        if col not in out.columns:
            out[col] = ""
    front = [ID, TASK, IMAGE]
    return out[front + [c for c in out.columns if c not in front]]


def positions(ref_ids: pd.Series, frame: pd.DataFrame, ref_name: str, name: str) -> np.ndarray:
    other = frame[ID].astype(str).reset_index(drop=True)
    ref = ref_ids.astype(str).reset_index(drop=True)
    # Files written from the same test set usually share its order; skip the lookup then.
    if len(other) == len(ref) and bool((other == ref).all()):
        return np.arange(len(ref))
    index = pd.Index(other)
    idx = index.get_indexer(ref) if index.is_unique else None
    if idx is not None and len(other) == len(ref) and (idx >= 0).all():
        return idx.astype(np.int64)
    return align(ref.tolist(), other.tolist(), ref_name, name)


def id_ood_labels(column: pd.Series, source: str) -> np.ndarray:
    text = arrow_text.arrow_text(column)
    if text is not None and arrow_text.in_set(text, LABELS):  # the usual file: one pass
        return _LABEL_VALUES[pc.equal(text, LABELS[1]).to_numpy(zero_copy_only=False).view(np.int8)]
    values = column.astype(str).str.strip().str.upper().to_numpy(dtype=object)
    bad = ~np.isin(values, LABELS)
    if bad.any():
        row = int(np.argmax(bad))
        raise GemvizError(
            f"label must be 'ID' or 'OOD', found {column.iloc[row]!r}",
            file=source,
            row=row + 1,
            field=LABEL,
        )
    return values


def binary_column(column: pd.Series, source: str, metric: str) -> np.ndarray:
    values = column.to_numpy()
    if values.dtype == bool:
        return values.astype(np.int8)
    if values.dtype.kind in "iu" and ((values == 0) | (values == 1)).all():
        return values.astype(np.int8)
    numeric = pd.to_numeric(column, errors="coerce").to_numpy(float)
    bad = ~np.isin(numeric, (0.0, 1.0))
    if bad.any():
        row = int(np.argmax(bad))
        raise GemvizError(
            f"expected 0/1 or true/false, found {column.iloc[row]!r}",
            file=source,
            row=row + 1,
            field=metric,
        )
    return numeric.astype(np.int8)
