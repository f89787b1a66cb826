"""One test step in detail: each splitter's verdict, each model's raw output, parsed actions.

The Samples and Step pages and the report's example steps show a step through these.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from gemviz.actions import parse_action
from gemviz.data.errors import GemvizError
from gemviz.data.ids import sample_ids
from gemviz.data.read import read_records
from gemviz.data.study import Study


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
