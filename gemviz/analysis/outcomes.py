"""A model's outcomes on one step, in words and rows, for one run or several.

GUI agents have ``type_match`` and ``exact_match`` (shown as ``type``/``exact``); other
results name their own 0/1 metrics (``accuracy``). With repeated runs a step's outcome is the
share of runs that passed, shown as runs passed over runs (``3/5``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from gemviz.data.fields import EXACT_MATCH, TYPE_MATCH
from gemviz.data.study import Study

_METRIC_SHORT = {TYPE_MATCH: "type", EXACT_MATCH: "exact"}


def metric_short(metric: str) -> str:
    """A metric's short name in column headers: ``type``, ``exact``, else the name itself."""
    return _METRIC_SHORT.get(metric, metric)


def outcome_text(study: Study, model: str, pos: int) -> str:
    """``model``'s results on the step at ``pos`` in words, e.g. ``"type 1, exact 0"``.

    With repeated runs each metric reads as runs passed over runs, e.g. ``"accuracy 3/5"``.
    """
    runs = study.runs(model)
    parts = []
    for metric in study.metrics:
        values = study.run_values(metric, model)[pos]
        shown = str(int(values[0])) if runs == 1 else f"{int(values.sum())}/{runs}"
        parts.append(f"{metric_short(metric)} {shown}")
    return ", ".join(parts)


def model_rows(study: Study, pos: int, outputs: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Each model's raw output (when known) and match results for the step at row ``pos``.

    Args:
        study: The study.
        pos: Row of the step.
        outputs: Model name -> that model's raw output for this step.
    """
    outputs = outputs or {}
    cols: dict[str, list[Any]] = {
        "model": study.models,
        "raw output": [_text(outputs.get(m)) for m in study.models],
    }
    for metric in study.metrics:
        values = study.metric(metric)
        cols[metric] = [
            int(values[m].iloc[pos]) if study.runs(m) == 1 else float(values[m].iloc[pos])
            for m in study.models
        ]
    if any(study.runs(m) > 1 for m in study.models):
        cols["runs"] = [study.runs(m) for m in study.models]
    return pd.DataFrame(cols)


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return value if isinstance(value, str) else repr(value)
