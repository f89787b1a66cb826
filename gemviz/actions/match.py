"""Match a file of predictions against a file of ground-truth actions, record by record.

The result is the study's *result file*: the ground-truth records in their own order, every
field kept, with ``type_match`` and ``exact_match`` (0/1) added, and a summary (means, counts,
and how many predictions could not be parsed, per ground-truth action type). Predictions are
found by sample identity (:func:`gemviz.data.sample_ids`), so the two files may list the
samples in different orders but must hold the same ones.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gemviz.actions.record import Action
from gemviz.data import EXACT_MATCH, IMAGE, TYPE_MATCH, align, sample_ids
from gemviz.errors import GemvizError

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
    from gemviz.actions import parse_action, rule_set

    ruleset = rule_set(rules)
    gt_ids = sample_ids(gt_records, gt_file)
    pred_ids = sample_ids(pred_records, pred_file)
    order = align(gt_ids, pred_ids, gt_file or "ground truth", pred_file or "predictions")
    if coords == "pixel" and image_sizes is None:
        raise GemvizError("pixel coordinates need the screenshot size of every record")
    results: list[dict[str, Any]] = []
    gt_actions: list[Action] = []
    pred_actions: list[Action] = []
    for i, (record, j) in enumerate(zip(gt_records, order, strict=True)):
        if gt_field == ".":
            gt_value: Any = record
        elif gt_field in record and record[gt_field] is not None:
            gt_value = record[gt_field]
        else:
            raise GemvizError(
                "the ground-truth action is missing", file=gt_file, row=i + 1, field=gt_field
            )
        size = image_sizes[i] if image_sizes is not None else None
        # The size also lets an AITZ / AitW ground truth in pixels be normalized.
        gt = parse_action(gt_value, "auto", image_size=size, coords="relative")
        pred_value = pred_records[int(j)].get(pred_field)
        if coords == "pixel" and size is None:
            raise GemvizError(
                "the screenshot size is unknown, so pixel coordinates cannot be read",
                file=gt_file,
                row=i + 1,
            )
        pred = parse_action(pred_value, fmt, image_size=size, coords=coords)
        type_match, exact_match = ruleset.match(gt, pred)
        out = dict(record)
        out[TYPE_MATCH] = type_match
        out[EXACT_MATCH] = exact_match
        results.append(out)
        gt_actions.append(gt)
        pred_actions.append(pred)
    summary = summarize(gt_actions, pred_actions, results)
    summary.update({"rules": rules, "format": fmt, "gt_field": gt_field, "pred_field": pred_field})
    return results, summary


def summarize(
    gt_actions: Sequence[Action], pred_actions: Sequence[Action], results: Sequence[dict[str, Any]]
) -> dict[str, Any]:
    """Means and counts overall and per ground-truth action type.

    Returns:
        ``{"n", "type_match", "exact_match", "type_match_count", "exact_match_count",
        "invalid_predictions", "invalid_ground_truth", "prediction_types", "by_type"}``;
        ``by_type`` maps each ground-truth type to the same fields for its records
        (``invalid_predictions`` there is the count of unparseable predictions per type).
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
    type_count = sum(r[TYPE_MATCH] for r in results)
    exact_count = sum(r[EXACT_MATCH] for r in results)
    return {
        "n": n,
        "type_match": type_count / n if n else None,
        "exact_match": exact_count / n if n else None,
        "type_match_count": type_count,
        "exact_match_count": exact_count,
        "invalid_predictions": sum(not a.is_valid for a in pred_actions),
        "invalid_ground_truth": sum(not a.is_valid for a in gt_actions),
        "prediction_types": dict(Counter(a.type for a in pred_actions).most_common()),
        "by_type": dict(sorted(by_type.items())),
    }


def record_image_size(
    record: dict[str, Any], image_root: str | os.PathLike | None = None
) -> tuple[int, int] | None:
    """A record's screenshot (width, height): from width/height fields, else the image header.

    Args:
        record: A test record.
        image_root: Folder that relative ``image_path`` values are resolved against.

    Returns:
        (width, height), or ``None`` when neither the fields nor a readable image give it.
    """
    width = next((record[k] for k in _WIDTH_KEYS if record.get(k) is not None), None)
    height = next((record[k] for k in _HEIGHT_KEYS if record.get(k) is not None), None)
    if width is not None and height is not None:
        try:
            return int(width), int(height)
        except (TypeError, ValueError):
            return None
    image = record.get(IMAGE)
    if not image:
        return None
    path = Path(str(image))
    if image_root is not None and not path.is_absolute():
        path = Path(image_root) / path
    try:
        from PIL import Image

        with Image.open(path) as img:  # reads the header only
            return img.size
    except (OSError, ValueError):
        return None
