"""Sample identity, alignment and validated loaders for the study's files.

Sample identity
    A sample's id is its ``id`` field when the file has one (turned into a string). Otherwise
    it is built from ``image_path`` and ``task`` as ``"<image_path>|<task>"``, where each part
    has ``\\``, ``|`` and ``#`` escaped with a backslash (``\\\\``, ``\\|``, ``\\#``), so
    the first unescaped ``|`` is always the separator and no two pairs share an id. Real files
    repeat that pair (the GEM release's omniact-desktop file does so 53 times, Kairos 8), so a
    repeat is told apart by its order of occurrence: the first occurrence keeps the plain key,
    the second gets ``"#2"`` appended, the third ``"#3"`` and so on; an unescaped ``#`` is
    only ever this number, so a task that ends in ``#2`` cannot pass for a repeat. Parts
    without those three characters give the plain ``"<image_path>|<task>"``. Text is read in
    Unicode normal form NFC, so a task typed with combining accents and one with precomposed
    letters are the same task (ids, clusters).

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
    The loaders read the file as columns (:func:`gemviz.data.io.read_table`) and check each
    field on the whole column at once. A column that fails a check, or holds values of
    unusual types (ids as floats, scores as text, match values as ``"true"``), and files with
    runs or in BFCL's format go to the record-by-record reader, which accepts what it always
    accepted and names the file, row and field of the first bad value.
"""

from __future__ import annotations

import math
import os
import unicodedata
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from gemviz.data.errors import GemvizError, GemvizWarning
from gemviz.data.io import read_records, read_table

ID = "id"
TASK = "task"
IMAGE = "image_path"
SCORE = "input_score"
LABEL = "label"
TYPE_MATCH = "type_match"
EXACT_MATCH = "exact_match"
METRICS = (TYPE_MATCH, EXACT_MATCH)
#: 0/1 fields read as metrics when a result file has no type/exact match, in this order.
OTHER_METRICS = ("accuracy", "success", "correct", "passed")
#: The field telling repeated runs apart within one result file.
RUN = "run"
LABELS = ("ID", "OOD")
# Scores beyond this overflow the mixture fits (their squares and sums leave float range);
# real input scores (distances between embeddings) are many orders of magnitude smaller.
MAX_ABS_SCORE = 1e100

# Spellings of the match fields found in the study's result files.
METRIC_ALIASES = {
    TYPE_MATCH: ("type_match", "type match", "typematch", "type-match"),
    EXACT_MATCH: ("exact_match", "exact match", "exactmatch", "exact-match"),
}


def sample_ids(records: Sequence[dict[str, Any]], file: str | None = None) -> list[str]:
    """Give every record its sample id (see the module docstring for the rule).

    Args:
        records: Records as read by :func:`gemviz.data.io.read_records`.
        file: The file they came from, for error messages.

    Returns:
        One id string per record, unique within the list.

    Raises:
        GemvizError: A record has neither ``id`` nor both ``image_path`` and ``task``, or the
            explicit ids repeat.
    """
    has_id = any(ID in r and r[ID] is not None for r in records[:1]) or all(
        ID in r for r in records
    )
    ids: list[str] = []
    if has_id:
        seen: dict[str, int] = {}
        for i, rec in enumerate(records):
            value = rec.get(ID)
            if value is None or (isinstance(value, float) and math.isnan(value)) or value == "":
                raise GemvizError(
                    "missing sample id; give every record an 'id' or none at all",
                    file=file,
                    row=i + 1,
                    field=ID,
                )
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            key = nfc(str(value))
            if key in seen:
                raise GemvizError(
                    f"id '{key}' repeats row {seen[key]}; ids must be unique",
                    file=file,
                    row=i + 1,
                    field=ID,
                )
            seen[key] = i + 1
            ids.append(key)
        return ids
    counts: dict[str, int] = {}
    for i, rec in enumerate(records):
        for field in (IMAGE, TASK):
            if field not in rec or rec[field] is None:
                raise GemvizError(
                    f"missing; a record needs an 'id' or both '{IMAGE}' and '{TASK}'",
                    file=file,
                    row=i + 1,
                    field=field,
                )
        base = f"{id_part(rec[IMAGE])}|{id_part(rec[TASK])}"
        n = counts.get(base, 0) + 1
        counts[base] = n
        ids.append(base if n == 1 else f"{base}#{n}")
    return ids


def nfc(text: str) -> str:
    """``text`` in Unicode normal form NFC (precomposed letters), the form ids are built in."""
    return text if text.isascii() else unicodedata.normalize("NFC", text)


def id_part(value: Any) -> str:
    """One part of a built sample id: NFC text with ``\\``, ``|`` and ``#`` backslash-escaped.

    Args:
        value: An ``image_path`` or ``task`` value.

    Returns:
        The escaped text; unchanged when it holds none of the three characters.
    """
    text = nfc(str(value))
    if "\\" in text or "|" in text or "#" in text:
        text = text.replace("\\", "\\\\").replace("|", "\\|").replace("#", "\\#")
    return text


def align(
    ref_ids: Sequence[str],
    other_ids: Sequence[str],
    ref_name: str = "reference",
    other_name: str = "other",
    examples: int = 3,
) -> np.ndarray:
    """Positions in ``other_ids`` of each id of ``ref_ids``.

    Args:
        ref_ids: The ids in the order wanted.
        other_ids: The same ids in any order.
        ref_name, other_name: Names (usually file paths) used in the error message.
        examples: How many missing ids to quote on each side.

    Returns:
        Integer array ``idx`` with ``other_ids[idx[k]] == ref_ids[k]``.

    Raises:
        GemvizError: The two lists do not hold the same samples; the message gives how many
            are missing on each side and a few examples.
    """
    position = {sid: i for i, sid in enumerate(other_ids)}
    idx = np.fromiter((position.get(s, -1) for s in ref_ids), dtype=np.int64, count=len(ref_ids))
    missing_in_other = [s for s, j in zip(ref_ids, idx, strict=True) if j < 0]
    if missing_in_other or len(other_ids) != len(ref_ids):
        ref_set = set(ref_ids)
        missing_in_ref = [s for s in other_ids if s not in ref_set]
        parts = []
        if missing_in_other:
            parts.append(
                f"{len(missing_in_other)} sample(s) of {ref_name} are missing from {other_name} "
                f"(e.g. {_quote(missing_in_other[:examples])})"
            )
        if missing_in_ref:
            parts.append(
                f"{len(missing_in_ref)} sample(s) of {other_name} are missing from {ref_name} "
                f"(e.g. {_quote(missing_in_ref[:examples])})"
            )
        raise GemvizError(
            "the files do not cover the same samples: "
            + "; ".join(parts)
            + ". Use files made from the same test set.",
            file=other_name,
        )
    return idx


def _quote(items: Sequence[str]) -> str:
    # Ids built from image paths share long prefixes: keep both ends, elide the middle.
    return ", ".join(repr(s if len(s) <= 90 else s[:30] + "..." + s[-57:]) for s in items)


def to_finite_float(value: Any, file: str | None, row: int, field: str) -> float:
    """Convert ``value`` to a finite float or raise a :class:`GemvizError` naming the spot.

    Raises:
        GemvizError: Not a number, not finite, or beyond ±:data:`MAX_ABS_SCORE`.
    """
    if isinstance(value, bool) or value is None:
        raise GemvizError(f"expected a number, found {value!r}", file=file, row=row, field=field)
    try:
        number = float(value)
    except OverflowError:
        raise GemvizError(
            f"the number has {len(str(value))} digits, too large for a score; every score must "
            f"be a finite number within ±{MAX_ABS_SCORE:g}",
            file=file,
            row=row,
            field=field,
        ) from None
    except (TypeError, ValueError):
        shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
        raise GemvizError(
            f"expected a number, found {shown}", file=file, row=row, field=field
        ) from None
    if math.isfinite(number) and abs(number) > MAX_ABS_SCORE:
        raise GemvizError(
            f"the score {number:g} is out of range; every score must be a finite number within "
            f"±{MAX_ABS_SCORE:g} (check how the file was made)",
            file=file,
            row=row,
            field=field,
        )
    if not math.isfinite(number):
        raise GemvizError(
            f"the score is {value!r}; every score must be a finite number (re-run scoring for this "
            "sample or drop it)",
            file=file,
            row=row,
            field=field,
        )
    return number


def to_binary(value: Any, file: str | None, row: int, field: str) -> int:
    """Convert a 0/1 or true/false value (also as text) to 0 or 1, else raise."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, np.integer)) and value in (0, 1):
        return int(value)
    if isinstance(value, float) and value in (0.0, 1.0):
        return int(value)
    if isinstance(value, str) and value.strip().lower() in ("0", "1", "true", "false"):
        return int(value.strip().lower() in ("1", "true"))
    raise GemvizError(
        f"expected 0/1 or true/false, found {value!r}", file=file, row=row, field=field
    )


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
        norm = value.strip().upper() if isinstance(value, str) else None
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
    path: str | os.PathLike, ids: Sequence[str] | None = None, ids_from: str | None = None
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

    Raises:
        GemvizError: A metric is missing or not 0/1, or one record holds two
            spellings of a field with different values.

    Warns:
        GemvizWarning: ``exact_match`` is 1 where ``type_match`` is 0 (an exact match implies
            a type match); the values are kept as given and the rows are named. The command
            line prints it as one ``warning:`` line.
    """
    file = str(path)
    records = read_records(path)
    from gemviz.data import bfcl

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
        frame = _results(records, file, metrics, 0)
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
            runs.setdefault(str(value), []).append(rec)
        parts = []
        offset = 0
        for value, group in runs.items():
            part = _results(group, file, metrics, offset)
            part.insert(1, RUN, value)
            parts.append(part)
            offset += len(group)
        frame = pd.concat(parts, ignore_index=True)
    frame.attrs["metrics"] = list(metrics)
    return frame


def _results(
    records: list[dict[str, Any]], file: str, metrics: Sequence[str], offset: int
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
        bad = np.flatnonzero((front[EXACT_MATCH] == 1) & (front[TYPE_MATCH] == 0))
        if len(bad):
            rows = ", ".join(str(int(i) + offset + 1) for i in bad[:5])
            rows += " ..." if len(bad) > 5 else ""
            warnings.warn(
                f"{file}: exact_match is 1 but type_match is 0 in {len(bad)} row(s) ({rows}); "
                "an exact match implies a type match, so check how the file was made (values "
                "kept as given)",
                GemvizWarning,
                stacklevel=3,
            )
    records = [dict(rec) for rec in records]
    for rec in records:
        rec.pop(RUN, None)
        for metric in metrics:
            for a in METRIC_ALIASES.get(metric, (metric,)):
                rec.pop(a, None)
    return _frame(records, ids, front)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def aligned(frame: pd.DataFrame, ref_ids: Sequence[str], ref_name: str, name: str) -> pd.DataFrame:
    """Reorder ``frame`` (with an ``id`` column) to follow ``ref_ids``; raise if they differ."""
    idx = align(ref_ids, frame[ID].tolist(), ref_name, name)
    return frame.iloc[idx].reset_index(drop=True)


# ----------------------------------------------------------------------------- column checks
# Each returns None when a value needs the record-by-record reader (an error to word, or a
# type only that reader converts); the callers then run it.


def _kind(column: pd.Series) -> str:
    return pd.api.types.infer_dtype(column, skipna=False)


def frame_ids(frame: pd.DataFrame) -> pd.Series | None:
    """The sample ids of a frame read by :func:`gemviz.data.io.read_table`, by the same rule
    as :func:`sample_ids`, computed on whole columns.

    Returns:
        One id string per row, or None when a value needs :func:`sample_ids` (a missing or
        repeated id, ids that are not text or integers, a missing ``image_path``/``task``).
    """
    n = len(frame)
    if ID in frame.columns:
        column = frame[ID]
        if not n or column.isna().any():
            return None  # a missing id is an error, or (in the first record) no ids at all
        kind = _kind(column)
        if kind == "string":
            ids = column
        elif kind == "integer":
            ids = column.astype(str)
        else:
            return None
        ids = _nfc_column(ids.astype(str))
        if (ids == "").any() or ids.duplicated().any():
            return None
        return ids.reset_index(drop=True)
    parts = []
    for field in (IMAGE, TASK):
        if field not in frame.columns:
            return None
        column = frame[field]
        if column.isna().any():
            return None
        kind = _kind(column)
        if kind == "integer":
            column = column.astype(str)
        elif kind != "string":
            return None
        parts.append(_id_part_column(column.astype(str).reset_index(drop=True)))
    base = parts[0] + "|" + parts[1]
    codes, _ = pd.factorize(base)
    order = np.argsort(codes, kind="stable")
    ranked = codes[order]
    starts = np.flatnonzero(np.r_[True, ranked[1:] != ranked[:-1]])
    occurrence = np.empty(n, dtype=np.int64)
    occurrence[order] = np.arange(n) - np.repeat(starts, np.diff(np.r_[starts, n]))
    repeats = np.flatnonzero(occurrence)
    if repeats.size:
        base = base.astype(object)
        base.iloc[repeats] = base.iloc[repeats] + "#" + (occurrence[repeats] + 1).astype(str)
        base = base.astype(str)
    return base


def _nfc_column(text: pd.Series) -> pd.Series:
    """:func:`nfc` of every value (only the values that are not ASCII need it)."""
    plain = text.str.isascii().to_numpy(dtype=bool)
    if plain.all():
        return text
    out = text.astype(object)
    out[~plain] = [nfc(v) for v in out[~plain]]
    return out.astype(str)


def _id_part_column(text: pd.Series) -> pd.Series:
    """:func:`id_part` of every value of a text column."""
    text = _nfc_column(text)
    if text.str.contains(r"[\\|#]", regex=True).any():
        for char in ("\\", "|", "#"):
            text = text.str.replace(char, "\\" + char, regex=False)
    return text


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
    if not np.isin(values, (0, 1)).all():
        return None
    return values.astype(np.int8)


def _assemble(frame: pd.DataFrame, ids: pd.Series, front: dict[str, Any], drop=()) -> pd.DataFrame:
    """``id`` and the fixed columns first, then every other field of the file unchanged."""
    cols: dict[str, Any] = {ID: ids.to_numpy()}
    cols.update({k: (v.to_numpy() if isinstance(v, pd.Series) else v) for k, v in front.items()})
    out = pd.DataFrame(cols)
    extra = frame.drop(columns=[c for c in frame.columns if c in cols or c in drop])
    if len(extra.columns):
        out = pd.concat([out, extra.reset_index(drop=True)], axis=1)
    return out


def _front_text(frame: pd.DataFrame) -> dict[str, pd.Series] | None:
    task, image = _text_column(frame, TASK), _text_column(frame, IMAGE)
    if task is None or image is None:
        return None
    return {TASK: task, IMAGE: image}


def load_scores(path: str | os.PathLike) -> pd.DataFrame:
    """Load a score file (the GEM release's format): ``task``, ``image_path``, ``input_score``.

    Returns:
        DataFrame with ``id``, ``task``, ``image_path``, ``input_score`` (float) first.

    Raises:
        GemvizError: The file is unreadable, a sample has no id, or a score is missing or not
            a finite number within ±:data:`MAX_ABS_SCORE` (file, row and field named).
    """
    frame = read_table(path)
    ids = frame_ids(frame)
    front = _front_text(frame)
    scores = _score_column(frame[SCORE]) if SCORE in frame.columns else None
    if ids is None or front is None or scores is None:
        return _load_scores_records(path)
    return _assemble(frame, ids, {**front, SCORE: scores})


def load_labeled(path: str | os.PathLike) -> pd.DataFrame:
    """Load a labeled dataset file: the test records with ``label`` of ``"ID"`` or ``"OOD"``.

    ``input_score`` is kept (as float) when every record has one; it is not required.

    Raises:
        GemvizError: The file is unreadable, a sample has no id, a label is missing or not
            ID/OOD, or a score is not a finite number (file, row and field named).
    """
    frame = read_table(path)
    ids = frame_ids(frame)
    front = _front_text(frame)
    labels = None
    if LABEL in frame.columns and not frame[LABEL].isna().any() and _kind(frame[LABEL]) == "string":
        labels = frame[LABEL].astype(str).str.strip().str.upper()
        if not labels.isin(LABELS).all():
            labels = None
    if ids is None or front is None or labels is None:
        return _load_labeled_records(path)
    front[LABEL] = labels.reset_index(drop=True)
    if SCORE in frame.columns and frame[SCORE].notna().all():
        scores = _score_column(frame[SCORE])
        if scores is None:
            return _load_labeled_records(path)
        front[SCORE] = scores
    return _assemble(frame, ids, front)


def load_results(
    path: str | os.PathLike, ids: Sequence[str] | None = None, ids_from: str | None = None
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

    Raises:
        GemvizError: A metric is missing or not 0/1, or one record holds two
            spellings of a field with different values.

    Warns:
        GemvizWarning: ``exact_match`` is 1 where ``type_match`` is 0 (an exact match implies
            a type match); the values are kept as given and the rows are named. The command
            line prints it as one ``warning:`` line.
    """
    frame = read_table(path)
    fast = _results_columns(frame, str(path))
    return fast if fast is not None else _load_results_records(path, ids, ids_from)


def _results_columns(frame: pd.DataFrame, file: str) -> pd.DataFrame | None:
    """:func:`load_results` on whole columns, or None (runs, BFCL, odd or bad values)."""
    if RUN in frame.columns or {"correct_count", "total_count"} <= set(frame.columns):
        return None  # runs and BFCL score files: the record reader splits and reads them
    if any(a in frame.columns for aliases in METRIC_ALIASES.values() for a in aliases):
        metrics: tuple[str, ...] = METRICS
    else:
        metrics = tuple(m for m in OTHER_METRICS if m in frame.columns)
    ids = frame_ids(frame)
    front: dict[str, Any] | None = _front_text(frame)
    if not metrics or ids is None or front is None:
        return None
    spellings = []
    for metric in metrics:
        aliases = METRIC_ALIASES.get(metric, (metric,))
        values = _binary_column(frame, aliases)
        if values is None:
            return None
        front[metric] = values
        spellings += aliases
    if EXACT_MATCH in front and TYPE_MATCH in front:
        _warn_exact_without_type(file, front[TYPE_MATCH], front[EXACT_MATCH])
    out = _assemble(frame, ids, front, drop=spellings)
    out.attrs["metrics"] = list(metrics)
    return out


def _warn_exact_without_type(file: str, type_match: np.ndarray, exact_match: np.ndarray) -> None:
    bad = np.flatnonzero((exact_match == 1) & (type_match == 0))
    if len(bad):
        rows = ", ".join(str(int(i) + 1) for i in bad[:5]) + (" ..." if len(bad) > 5 else "")
        warnings.warn(
            f"{file}: exact_match is 1 but type_match is 0 in {len(bad)} row(s) ({rows}); an "
            "exact match implies a type match, so check how the file was made (values kept "
            "as given)",
            GemvizWarning,
            stacklevel=4,
        )
