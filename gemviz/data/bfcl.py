"""The Berkeley Function Calling Leaderboard's files, read as its tools write them.

BFCL v4 ships its test entries as JSON lines (``BFCL_v4_<category>.json``: ``id``,
``question`` = a list of turns, each a list of chat messages, and ``function`` docs or
``involved_classes``), the ground truth beside them (``possible_answer/BFCL_v4_<category>.json``:
``id``, ``ground_truth`` = one list of call strings per turn), and its evaluator writes two
files per model and category:

* a result file ``result/<model>/<group>/BFCL_v4_<category>_result.json``: one line per entry,
  ``id`` and ``result`` (the model's output, per turn and step for multi-turn entries);
* a score file ``score/<model>/<group>/BFCL_v4_<category>_score.json``: a header line with
  ``accuracy``, ``correct_count`` and ``total_count``, then one line per **failed** entry
  (``id``, ``valid: false``, ``error`` with ``error_type``, the raw output). An entry absent
  from it passed.

One score file is one run of one configuration. Its passed entries are known only against the
full list of ids, taken from the result file beside it (the evaluator's folder layout) or from
the test file; the header's counts are checked against that list.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from gemviz.data.chat import user_messages
from gemviz.data.errors import GemvizError
from gemviz.data.fields import nfc
from gemviz.data.read import read_records

#: The metric a BFCL score file gives each entry: 1 when the evaluator passed it.
ACCURACY = "accuracy"
#: The header fields of a score file.
HEADER_FIELDS = ("accuracy", "correct_count", "total_count")
#: Field added to each step: the evaluator's error type of a failed entry ("" when passed).
ERROR_TYPE = "error_type"
#: Field holding a model's output for an entry (from the result file, else the score file).
OUTPUT = "output"


def is_score_file(records: Sequence[dict[str, Any]]) -> bool:
    """True when ``records`` look like a BFCL score file: a header line without ``id``."""
    head = records[0] if records else {}
    return "id" not in head and all(f in head for f in ("correct_count", "total_count"))


def is_test_file(records: Sequence[dict[str, Any]]) -> bool:
    """True when ``records`` look like BFCL test entries (``id`` and ``question`` turns)."""
    head = records[0] if records else {}
    return "id" in head and isinstance(head.get("question"), list)


#: Field naming the conversation an entry is: each BFCL entry is one conversation (cluster).
CONVERSATION = "conversation_id"


def with_text_fields(records: list[dict[str, Any]], file: str) -> list[dict[str, Any]]:
    """BFCL test entries with ``task`` (the first user turn), ``n_turns`` and ``conversation_id``.

    The entries keep every field of the file; ``task`` is what the pages show and search, and
    ``conversation_id`` (the entry's id) makes each conversation its own cluster.

    Raises:
        GemvizError: An entry has no ``id`` or ``question``.
    """
    out = []
    for i, rec in enumerate(records):
        for field in ("id", "question"):
            if rec.get(field) in (None, ""):
                raise GemvizError("required field is missing", file=file, row=i + 1, field=field)
        turns = user_messages(rec["question"])
        extra = {
            "task": next((t for t in turns if t), ""),
            "n_turns": len(turns),
            CONVERSATION: nfc(str(rec["id"])),
        }
        out.append({**extra, **rec})
    return out


def is_test_frame(frame: Any) -> bool:
    """True when a frame of test records holds BFCL entries (``id`` and ``question`` turns)."""
    return (
        "id" in frame.columns
        and "question" in frame.columns
        and len(frame) > 0
        and isinstance(frame["question"].iloc[0], list)
    )


def with_text_columns(frame: Any, file: str) -> Any:
    """:func:`with_text_fields` on a pandas frame of test entries (a new frame)."""
    records = with_text_fields(frame.to_dict("records"), file)
    return pd.DataFrame.from_records(records, columns=list(records[0]))


def test_records(path: str | os.PathLike) -> list[dict[str, Any]]:
    """Read a BFCL test file (:func:`with_text_fields` adds the text fields).

    Raises:
        GemvizError: The file is unreadable, or an entry has no ``id`` or ``question``.
    """
    return with_text_fields(read_records(path), str(path))


def possible_answers(path: str | os.PathLike) -> dict[str, Any]:
    """The ground truth of each entry (``possible_answer/BFCL_v4_<category>.json``).

    Returns:
        Entry id -> ``ground_truth`` (one list of call strings per turn for multi-turn).

    Raises:
        GemvizError: An entry lacks ``id`` or ``ground_truth``, or an id repeats.
    """
    return _field_by_id(path, "ground_truth")


def result_outputs(path: str | os.PathLike) -> dict[str, Any]:
    """A result file's output per entry (``id`` and ``result`` per line).

    Raises:
        GemvizError: A line lacks ``id`` or ``result``, or an id repeats.
    """
    return _field_by_id(path, "result")


def _field_by_id(path: str | os.PathLike, field: str) -> dict[str, Any]:
    """Entry id -> the value of ``field``, each line required to hold both, ids unique."""
    file = str(path)
    out: dict[str, Any] = {}
    for i, rec in enumerate(read_records(path)):
        for name in ("id", field):
            if name not in rec:
                raise GemvizError("required field is missing", file=file, row=i + 1, field=name)
        key = nfc(str(rec["id"]))
        if key in out:
            raise GemvizError(f"id '{key}' repeats", file=file, row=i + 1, field="id")
        out[key] = rec[field]
    return out


def result_file_for(score_file: str | os.PathLike) -> Path | None:
    """The result file the evaluator wrote beside a score file, if it is there.

    The evaluator keeps ``score/<model>/<group>/BFCL_v4_<cat>_score.json`` and
    ``result/<model>/<group>/BFCL_v4_<cat>_result.json`` under one root; a result file in the
    score file's own folder is accepted too.
    """
    p = Path(score_file)
    name = p.name.replace("_score.json", "_result.json")
    if name == p.name:
        return None
    candidates = [p.with_name(name)]
    parts = list(p.parent.parts)
    for i in range(len(parts) - 1, -1, -1):
        if parts[i] == "score":
            candidates.append(Path(*parts[:i], "result", *parts[i + 1 :]) / name)
            break
    return next((c for c in candidates if c.is_file()), None)


def answers_file_for(test: str | os.PathLike | None) -> Path | None:
    """BFCL's ``possible_answer/<name>`` beside a test file, when it is there."""
    if not test:
        return None
    path = Path(test).parent / "possible_answer" / Path(test).name
    return path if path.is_file() else None


def read_beside(path: str | os.PathLike) -> list[Path]:
    """The files gemviz reads because they lie beside ``path``: a score file's result file
    (:func:`result_file_for`) and a test file's ``possible_answer`` (:func:`answers_file_for`).

    Outputs are checked against these too, so no output option replaces them.
    """
    found = [result_file_for(path), answers_file_for(path)]
    return [p for p in found if p is not None]


@dataclass
class ScoreFile:
    """One run read from a score file: every entry's pass/fail and what explains it."""

    path: str
    ids: list[str]
    passed: list[int]
    error_types: list[str]
    outputs: dict[str, Any]
    accuracy: float
    ids_from: str

    def records(self) -> list[dict[str, Any]]:
        """One record per entry: ``id``, ``accuracy`` (0/1), ``error_type``, ``output``."""
        return [
            {"id": i, ACCURACY: p, ERROR_TYPE: e, OUTPUT: _output_text(self.outputs.get(i))}
            for i, p, e in zip(self.ids, self.passed, self.error_types, strict=True)
        ]


def read_score_file(
    path: str | os.PathLike,
    ids: Sequence[str] | None = None,
    ids_from: str | None = None,
) -> ScoreFile:
    """Read a BFCL score file into one pass/fail per entry.

    Args:
        path: ``BFCL_v4_<category>_score.json`` as the evaluator wrote it.
        ids: Every entry id of the category (from the test file); used when no result file
            lies beside the score file (:func:`result_file_for`).
        ids_from: Where ``ids`` come from, for messages.

    Returns:
        The run, entries in the order of the result file (or of ``ids``).

    Raises:
        GemvizError: The header is missing or malformed, a failed line has no ``id`` or names
            an entry outside the list, an id repeats, no ids are available, or the header's
            ``total_count``/``correct_count``/``accuracy`` disagree with the lines.
    """
    file = str(path)
    records = read_records(path)
    if not is_score_file(records):
        raise GemvizError(
            "not a BFCL score file: its first line must be the header with "
            f"{', '.join(HEADER_FIELDS)}",
            file=file,
            row=1,
        )
    header = records[0]
    total = _count(header, "total_count", file)
    correct = _count(header, "correct_count", file)
    outputs, all_ids, source = _entry_ids(path, ids, ids_from)
    if total != len(all_ids):
        raise GemvizError(
            f"the header says total_count {total}, but {source} holds {len(all_ids)} entries; "
            "use the score file of that test set",
            file=file,
            row=1,
            field="total_count",
        )
    failed = _failed_entries(records, file, set(all_ids), source, outputs)
    accuracy = _checked_accuracy(header, correct, total, len(failed), file)
    passed = [0 if i in failed else 1 for i in all_ids]
    errors = [failed.get(i, "") for i in all_ids]
    return ScoreFile(file, all_ids, passed, errors, outputs, accuracy, source)


def _entry_ids(
    path: str | os.PathLike, ids: Sequence[str] | None, ids_from: str | None
) -> tuple[dict[str, Any], list[str], str]:
    """Every entry id of a score file's run, with the outputs of the result file beside it
    (when there is one) and where the ids come from."""
    sibling = result_file_for(path)
    if sibling is not None:
        outputs = result_outputs(sibling)
        return outputs, list(outputs), str(sibling)
    if ids is not None:
        return {}, [nfc(str(i)) for i in ids], ids_from or "the test file"
    raise GemvizError(
        "a score file lists only the failed entries; give the test file (or keep the "
        "result file beside it, as the evaluator writes it) so the passed ones are known",
        file=str(path),
    )


def _failed_entries(
    records: list[dict[str, Any]], file: str, known: set[str], source: str, outputs: dict
) -> dict[str, str]:
    """Failed entry id -> its error type (``"failed"`` when none is given), from the lines
    after the header; the outputs of entries the result file lacks are added to ``outputs``."""
    failed: dict[str, str] = {}
    for row, rec in enumerate(records[1:], start=2):
        if rec.get("id") in (None, ""):
            raise GemvizError("a failed entry without its id", file=file, row=row, field="id")
        key = nfc(str(rec["id"]))
        if key not in known:
            raise GemvizError(
                f"entry '{key}' is not in {source}; use the score file of that test set",
                file=file,
                row=row,
                field="id",
            )
        if key in failed:
            raise GemvizError(f"entry '{key}' is listed twice", file=file, row=row, field="id")
        error = rec.get("error")
        failed[key] = str(error.get("error_type", "")) if isinstance(error, dict) else ""
        if key not in outputs:
            outputs[key] = rec.get("model_result_raw", rec.get("model_result"))
        failed[key] = failed[key] or "failed"
    return failed


def _checked_accuracy(
    header: dict[str, Any], correct: int, total: int, n_failed: int, file: str
) -> float:
    """The header's accuracy, after checking it and ``correct_count`` against the lines."""
    if correct != total - n_failed:
        raise GemvizError(
            f"the header says correct_count {correct}, but {n_failed} of {total} entries "
            f"are listed as failed ({total - n_failed} passed); fix the header or the lines",
            file=file,
            row=1,
            field="correct_count",
        )
    accuracy = header.get("accuracy")
    expected = correct / total if total else 0.0
    if not isinstance(accuracy, (int, float)) or isinstance(accuracy, bool):
        raise GemvizError(f"expected a number, found {accuracy!r}", file=file, row=1,
                          field="accuracy")  # fmt: skip
    if not math.isclose(float(accuracy), expected, abs_tol=1e-6):
        raise GemvizError(
            f"the header's accuracy {accuracy} is not correct_count / total_count: "
            f"{float(accuracy) * total:g} of {total}, where the counts say {correct} of "
            f"{total} ({expected:.4f}); fix the header or the lines",
            file=file,
            row=1,
            field="accuracy",
        )
    return float(accuracy)


def _count(header: dict[str, Any], field: str, file: str) -> int:
    value = header.get(field)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise GemvizError(
            f"expected a count (a whole number >= 0), found {value!r}", file=file, row=1,
            field=field,
        )  # fmt: skip
    return value


def _output_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)
