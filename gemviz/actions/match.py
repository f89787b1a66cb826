"""Match a file of predictions against a file of ground-truth actions, record by record.

The result is the study's *result file*: the ground-truth records in their own order, every
field kept, with ``type_match`` and ``exact_match`` (0/1) added, and a summary (means, counts,
and how many predictions could not be parsed, per ground-truth action type). Predictions are
found by sample identity (:func:`gemviz.data.ids.sample_ids`), so the two files may list the
samples in different orders but must hold the same ones.

Consistency rules (a wrong option must not pass for a bad model):

- a ``pred_field`` or ``gt_field`` that no record has is an error listing the fields that do
  exist (a typo would otherwise score every step invalid);
- a ground-truth action that no parser understands is *flagged*, not hidden: its result record
  keeps ``type_match = exact_match = 0`` (so every step stays in the result file) and gets
  ``gt_unreadable = 1``; the summary counts these steps in ``invalid_ground_truth`` (apart from
  ``invalid_predictions``), lists their rows, and leaves them out of its means
  (``n_scored`` steps). When no ground-truth action is readable at all, it is an error.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gemviz.actions.parse import parse_action, rule_set
from gemviz.actions.record import Action
from gemviz.data.errors import GemvizError
from gemviz.data.fields import EXACT_MATCH, IMAGE, TYPE_MATCH
from gemviz.data.files import open_image
from gemviz.data.ids import align, sample_ids

GT_UNREADABLE = "gt_unreadable"

_WIDTH_KEYS = ("image_width", "width", "screen_width")
_HEIGHT_KEYS = ("image_height", "height", "screen_height")


def match_records(
    gt_records: Sequence[dict[str, Any]],
    pred_records: Sequence[dict[str, Any]],
    rules: str = "gem",
    gt_field: str = "action",
    pred_field: str = "prediction",
    fmt: str = "auto",
    gt_file: str | None = None,
    pred_file: str | None = None,
    coords: str = "relative",
    image_sizes: Sequence[tuple[int, int] | None] | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Type match and exact match of every prediction against its ground truth.

    Args:
        gt_records: Ground-truth records; ``gt_field`` holds an action in any supported format
            (or, with ``gt_field="."``, the record itself is an AITZ / AitW record).
        pred_records: Prediction records for the same samples, in any order.
        rules: Rule-set name (a key of :data:`gemviz.actions.RULES`).
        gt_field: Field of the ground-truth action.
        pred_field: Field of the prediction (raw model text or any supported format).
        fmt: Format of the predictions (``"auto"`` or a parser name); the ground truth is
            always detected automatically.
        gt_file, pred_file: File names, for error messages.
        coords: ``"relative"`` or ``"pixel"`` for the predictions' coordinates.
        image_sizes: Per ground-truth record (width, height), needed with ``"pixel"``.

    Returns:
        ``(results, summary)``: the ground-truth records (copies) with ``type_match`` and
        ``exact_match`` added, and the summary of :func:`summarize`.

    Raises:
        GemvizError: A ground-truth record lacks ``gt_field``, the files do not hold the same
            samples, or an option is unknown.
    """
    ruleset = rule_set(rules)
    gt_ids = sample_ids(gt_records, gt_file)
    pred_ids = sample_ids(pred_records, pred_file)
    order = align(gt_ids, pred_ids, gt_file or "ground truth", pred_file or "predictions")
    if coords == "pixel" and image_sizes is None:
        raise GemvizError("pixel coordinates need the screenshot size of every record")
    if gt_field != ".":
        _require_somewhere(gt_records, gt_field, gt_file, "--gt-field")
    _require_somewhere(pred_records, pred_field, pred_file, "--pred-field")
    results: list[dict[str, Any]] = []
    gt_actions: list[Action] = []
    pred_actions: list[Action] = []
    for i, (record, j) in enumerate(zip(gt_records, order, strict=True)):
        size = image_sizes[i] if image_sizes is not None else None
        # The size also lets an AITZ / AitW ground truth in pixels be normalized.
        gt_value = _gt_value(record, gt_field, gt_file, i + 1)
        gt = parse_action(gt_value, "auto", image_size=size, coords="relative")
        pred_value = pred_records[int(j)].get(pred_field)
        if coords == "pixel" and size is None:
            raise GemvizError(
                "the screenshot size is unknown, so pixel coordinates cannot be read",
                file=gt_file,
                row=i + 1,
            )
        pred = parse_action(pred_value, fmt, image_size=size, coords=coords)
        results.append(_matched(record, gt, pred, ruleset))
        gt_actions.append(gt)
        pred_actions.append(pred)
    if gt_actions and not any(a.is_valid for a in gt_actions):
        raise GemvizError(
            f"no ground-truth action in field '{gt_field}' could be read (first: "
            f"{str(gt_actions[0].raw)[:80]!r}); check --gt-field and the file",
            file=gt_file,
        )
    summary = summarize(gt_actions, pred_actions, results)
    summary.update({"rules": rules, "format": fmt, "gt_field": gt_field, "pred_field": pred_field})
    return results, summary


def _gt_value(record: dict[str, Any], gt_field: str, gt_file: str | None, row: int) -> Any:
    """The ground-truth action of a record (the record itself with ``gt_field="."``)."""
    if gt_field == ".":
        return record
    if gt_field in record and record[gt_field] is not None:
        return record[gt_field]
    raise GemvizError("the ground-truth action is missing", file=gt_file, row=row, field=gt_field)


def _matched(record: dict[str, Any], gt: Action, pred: Action, ruleset) -> dict[str, Any]:
    """A copy of the record with its type and exact match (0 and flagged when the ground
    truth cannot be read)."""
    type_match, exact_match = ruleset.match(gt, pred)
    out = dict(record)
    if not gt.is_valid:
        type_match = exact_match = 0
        out[GT_UNREADABLE] = 1
    out[TYPE_MATCH] = type_match
    out[EXACT_MATCH] = exact_match
    return out


def _require_somewhere(
    records: Sequence[dict[str, Any]], field: str, file: str | None, option: str
) -> None:
    """Raise when no record has ``field``, listing the fields that exist."""
    if any(field in r for r in records):
        return
    seen: dict[str, None] = {}
    for r in records[:200]:
        seen.update(dict.fromkeys(map(str, r)))
    listed = ", ".join(list(seen)[:15]) + (" ..." if len(seen) > 15 else "")
    raise GemvizError(
        f"no record has the field '{field}' ({option}); the records have: {listed}",
        file=file,
        field=field,
    )


def summarize(
    gt_actions: Sequence[Action], pred_actions: Sequence[Action], results: Sequence[dict[str, Any]]
) -> dict[str, Any]:
    """Means and counts overall and per ground-truth action type.

    Returns:
        ``{"n", "n_scored", "type_match", "exact_match", "type_match_count",
        "exact_match_count", "invalid_predictions", "invalid_ground_truth",
        "invalid_ground_truth_rows", "prediction_types", "by_type"}``; ``by_type`` maps each
        ground-truth type to the same fields for its records (``invalid_predictions`` there is
        the count of unparseable predictions per type). ``n`` counts every step; the means
        are over the ``n_scored`` steps whose ground truth could be read.
    """
    by_type: dict[str, dict[str, Any]] = {}
    for gt, pred, rec in zip(gt_actions, pred_actions, results, strict=True):
        entry = by_type.setdefault(
            gt.type,
            {"n": 0, "type_match_count": 0, "exact_match_count": 0, "invalid_predictions": 0},
        )
        entry["n"] += 1
        entry["type_match_count"] += rec[TYPE_MATCH]
        entry["exact_match_count"] += rec[EXACT_MATCH]
        entry["invalid_predictions"] += int(not pred.is_valid)
    for entry in by_type.values():
        entry["type_match"] = entry["type_match_count"] / entry["n"]
        entry["exact_match"] = entry["exact_match_count"] / entry["n"]
    n = len(results)
    bad_rows = [i + 1 for i, a in enumerate(gt_actions) if not a.is_valid]
    scored = n - len(bad_rows)
    type_count = sum(r[TYPE_MATCH] for r in results)
    exact_count = sum(r[EXACT_MATCH] for r in results)
    return {
        "n": n,
        "n_scored": scored,
        "type_match": type_count / scored if scored else None,
        "exact_match": exact_count / scored if scored else None,
        "type_match_count": type_count,
        "exact_match_count": exact_count,
        "invalid_predictions": sum(
            not p.is_valid for g, p in zip(gt_actions, pred_actions, strict=True) if g.is_valid
        ),
        "invalid_ground_truth": len(bad_rows),
        "invalid_ground_truth_rows": bad_rows[:100],
        "prediction_types": dict(Counter(a.type for a in pred_actions).most_common()),
        "by_type": dict(sorted(by_type.items())),
    }


# Larger than any screen (and than Pillow's decompression-bomb limit allows per side).
MAX_PIXELS = 1_000_000


def _pixels(value: Any, file: str | None, row: int | None, field: str) -> int:
    """A screenshot side in pixels: a whole number from 1 to :data:`MAX_PIXELS`."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value, ok = int(value.strip()), True
    if not ok or not (1 <= value <= MAX_PIXELS) or float(value) != int(value):
        raise GemvizError(
            f"a screenshot side must be a whole number of pixels from 1 to {MAX_PIXELS:,}, "
            f"found {value!r}",
            file=file,
            row=row,
            field=field,
        )
    return int(value)


def record_image_size(
    record: dict[str, Any],
    image_root: str | os.PathLike | None = None,
    file: str | None = None,
    row: int | None = None,
) -> tuple[int, int] | None:
    """A record's screenshot (width, height): from width/height fields, else the image header.

    Args:
        record: A test record.
        image_root: Folder that relative ``image_path`` values are resolved against.
        file, row: Where the record comes from, for messages.

    Returns:
        (width, height), or ``None`` when neither the fields nor a readable image give it.

    Raises:
        GemvizError: A width or height field holds something other than a positive whole
            number of pixels (0, -100, Infinity, text).
    """
    found = {}
    for keys in (_WIDTH_KEYS, _HEIGHT_KEYS):
        key = next((k for k in keys if record.get(k) is not None), None)
        if key is not None:
            found[key] = _pixels(record[key], file, row, key)
    if len(found) == 2:
        width, height = found.values()
        return width, height
    image = record.get(IMAGE)
    if not image:
        return None
    path = Path(str(image))
    if image_root is not None and not path.is_absolute():
        path = Path(image_root) / path

    try:
        with open_image(path) as img:  # reads the header only
            return img.size
    except (OSError, ValueError):  # GemvizError is a ValueError
        return None
