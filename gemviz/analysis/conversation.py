"""A text-only step shown as its conversation: turns, ground-truth calls, each run's output.

Tool-calling test sets (BFCL) have no screenshot: a step is a conversation. :func:`turns`
gives its user turns with the ground-truth calls of each (from BFCL's ``possible_answer``
file beside the test file, when it is there); :func:`run_outputs` gives each model's result
and output in every run (from BFCL score and result files, or an ``output``/``prediction``/
``result`` field of a plain result file).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from gemviz.data.bfcl import answers_file_for
from gemviz.data.chat import user_messages
from gemviz.data.errors import GemvizError
from gemviz.data.fields import ID, IMAGE, RUN
from gemviz.data.loaders import load_results
from gemviz.data.study import Study

#: Fields of a plain result file that hold the model's output, tried in order.
OUTPUT_FIELDS = ("output", "prediction", "result", "model_result_raw")
TURN_COLUMNS = ["turn", "user", "ground_truth"]
RUN_COLUMNS = ["model", "run", "passed", "error_type", "output"]


def is_text_only(study: Study) -> bool:
    """True when no step names a screenshot (tool-calling and other text-only test sets)."""
    if IMAGE not in study.samples.columns:
        return True
    return not study.samples[IMAGE].astype(str).str.strip().ne("").any()


def answers_file(test: str | os.PathLike | None) -> Path | None:
    """BFCL's ``possible_answer/<name>`` beside a test file, when it is there."""
    return answers_file_for(test)


def turns(study: Study, pos: int, answers: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """The user turns of the step at ``pos`` with each turn's ground-truth calls.

    Args:
        study: The study (its samples hold BFCL's ``question``, chat ``messages`` or ``task``).
        pos: The step's row.
        answers: Entry id -> ground truth (one list of calls per turn), e.g. from
            :func:`gemviz.data.bfcl.possible_answers`.

    Returns:
        Columns :data:`TURN_COLUMNS`: turn number from 1, the user's text, the calls (text,
        one per line; empty when unknown).
    """
    row = study.samples.iloc[pos]
    value = None
    for field in ("question", "messages", "prompt"):
        if field in study.samples.columns and _present(row[field]):
            value = row[field]
            break
    texts = user_messages(value) if value is not None else [str(row.get("task", ""))]
    truth = (answers or {}).get(str(row[ID]))
    rows = []
    for i, text in enumerate(texts):
        calls = truth[i] if isinstance(truth, list) and i < len(truth) else None
        rows.append(
            {
                "turn": i + 1,
                "user": text,
                "ground_truth": "\n".join(map(str, calls)) if isinstance(calls, list) else "",
            }
        )
    return pd.DataFrame(rows, columns=TURN_COLUMNS)


def _present(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, float):
        return value == value
    return True


def run_table(path: str | os.PathLike, ids: Sequence[str] | None, ids_from: str | None) -> dict:
    """One run's result per entry: ``{id: (passed, error_type, output text)}``.

    The first metric of the file counts as "passed"; a file with a ``run`` field gives the
    entries of its first run only (use one file per run to see each).
    """
    frame = load_results(path, ids, ids_from)
    metric = frame.attrs.get("metrics", ["accuracy"])[0]
    if RUN in frame.columns:
        frame = frame[frame[RUN] == frame[RUN].iloc[0]]
    field = next((f for f in OUTPUT_FIELDS if f in frame.columns), None)
    errors = frame["error_type"] if "error_type" in frame.columns else None
    out = {}
    for i, (sid, passed) in enumerate(zip(frame[ID].astype(str), frame[metric], strict=True)):
        output = frame[field].iloc[i] if field else ""
        out[sid] = (
            int(passed),
            "" if errors is None else str(errors.iloc[i] or ""),
            output if isinstance(output, str) else json.dumps(output, ensure_ascii=False),
        )
    return out


def run_outputs(tables: Mapping[str, Sequence[dict]], sample_id: str) -> pd.DataFrame:
    """Each model's result and output on one step, run by run.

    Args:
        tables: Model name -> one :func:`run_table` per run.
        sample_id: The step.

    Returns:
        Columns :data:`RUN_COLUMNS` (``passed`` 1/0, the evaluator's error type when known).

    Raises:
        GemvizError: A run does not hold the step.
    """
    rows = []
    for model, runs in tables.items():
        for r, table in enumerate(runs, start=1):
            if sample_id not in table:
                raise GemvizError(f"run {r} of model '{model}' has no step '{sample_id}'")
            passed, error, output = table[sample_id]
            rows.append(
                {"model": model, "run": r, "passed": passed, "error_type": error, "output": output}
            )
    return pd.DataFrame(rows, columns=RUN_COLUMNS)
