"""Simulated evaluation runs written exactly as BFCL's evaluator writes them.

A configuration (a fine-tuned model) passes an entry with a probability that falls with the
entry's difficulty (its number of turns and a fixed per-entry draw) and rises when its
training set covers the entry (:func:`covers`: every API class the entry needs is among the
set's). Each run adds a little noise per entry, so reruns of one configuration differ by a
point or so, as temperature-sampled reruns do. The configurations show two patterns: the
``14k`` ones gain over the untrained ``base`` only where their set covers (coverage-limited);
``sft-5k`` falls below ``base`` even on the entries its set covers (quality-limited).

For each run, :func:`write_run` writes the evaluator's two files under one root:

* ``result/<model>/multi_turn/BFCL_v4_multi_turn_base_result.json``: ``id``, ``result`` (per
  turn, per step, the model's text output), token counts and latencies per step;
* ``score/<model>/multi_turn/BFCL_v4_multi_turn_base_score.json``: the header
  (``accuracy``, ``correct_count``, ``total_count``), then one line per failed entry with the
  evaluator's fields (``id``, ``model_name``, ``test_category``, ``valid``, ``error``,
  ``prompt``, ``model_result_raw``, ``model_result_decoded``, ``possible_answer``,
  ``inference_log``).

The outputs are made up from the ground truth (a passed entry repeats it; a failed one drops
or changes a call, or stops early); nothing here ran a model.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gemviz.data.write import write_text_atomic

CATEGORY = "multi_turn_base"
GROUP = "multi_turn"
#: API classes covered by the two made-up training sets (see :mod:`gemviz.demo.bfcl`): the
#: large set covers five classes, the small one only vehicle control.
SET_14K = frozenset({"GorillaFileSystem", "TwitterAPI", "MessageAPI", "MathAPI", "TicketAPI"})
SET_5K = frozenset({"VehicleControlAPI"})


def covers(entry: Mapping[str, Any], classes: frozenset[str]) -> bool:
    """True when every API class the entry needs is in ``classes``."""
    needed = set(entry.get("involved_classes") or [])
    return bool(needed) and needed <= classes


@dataclass(frozen=True)
class Configuration:
    """A simulated fine-tuned model.

    Attributes:
        name: The model name the evaluator would use (a folder name).
        ability: Log-odds shift of passing (higher passes more).
        covered: API classes its training data covers; entries needing only these
            (:func:`covers`) gain ``coverage_gain`` log-odds.
        coverage_gain: See ``covered``.
        run_noise: Standard deviation of the per-run, per-entry log-odds noise.
    """

    name: str
    ability: float
    covered: frozenset[str] = frozenset()
    coverage_gain: float = 0.8
    run_noise: float = 0.25


#: The simulated configurations: fine-tuning method and training set, as in a lab log, and
#: the untrained baseline.
CONFIGURATIONS = (
    Configuration("base", -1.0),
    Configuration("sft-14k", -1.0, SET_14K, coverage_gain=2.2),
    Configuration("lora-14k", -1.1, SET_14K, coverage_gain=1.8),
    Configuration("grpo-5k", -1.0, SET_5K, coverage_gain=1.0),
    Configuration("sft-5k", -3.2, SET_5K, coverage_gain=0.3),
)


def _seed(*parts: object) -> int:
    text = "|".join(map(str, parts)).encode()
    return int.from_bytes(hashlib.sha256(text).digest()[:8], "little")


def entry_difficulty(entries: Sequence[Mapping[str, Any]]) -> np.ndarray:
    """A fixed difficulty per entry: more turns is harder, plus a draw seeded by its id."""
    out = np.empty(len(entries))
    for i, e in enumerate(entries):
        rng = np.random.default_rng(_seed("difficulty", e["id"]))
        out[i] = 0.35 * (len(e["question"]) - 4) + rng.normal(0.0, 1.3)
    return out


def simulate(entries: Sequence[Mapping[str, Any]], config: Configuration, runs: int) -> np.ndarray:
    """Each run's pass (1) or fail (0) of every entry.

    Returns:
        ``(runs, len(entries))`` int8 array; the same inputs always give the same array.
    """
    difficulty = entry_difficulty(entries)
    cover = np.array([covers(e, config.covered) for e in entries], dtype=float)
    # The per-entry draw is shared by every configuration: an entry hard for one is hard for all.
    rng = np.random.default_rng(_seed("entries"))
    latent = (
        config.ability
        + config.coverage_gain * cover
        - difficulty
        + rng.normal(0, 0.6, len(entries))
    )
    out = np.empty((runs, len(entries)), dtype=np.int8)
    for r in range(runs):
        noise = np.random.default_rng(_seed("run", config.name, r)).normal(
            0.0, config.run_noise, len(entries)
        )
        out[r] = (latent + noise > 0).astype(np.int8)
    return out


_FAILURES = (
    ("multi_turn:instance_state_mismatch", "state"),
    ("multi_turn:execution_response_mismatch", "response"),
    ("multi_turn:empty_turn_model_response", "empty"),
    ("multi_turn:force_terminated", "terminated"),
)


def _turn_output(calls: Sequence[str]) -> list[str]:
    # A prompting model answers a turn with one step of calls, then a closing message.
    return ([f"[{', '.join(calls)}]"] if calls else []) + ["Done; anything else?"]


def _failure(entry_id: str, model: str, run: int, truth: Sequence[Sequence[str]]):
    rng = np.random.default_rng(_seed("failure", model, run, entry_id))
    kind, short = _FAILURES[int(rng.integers(len(_FAILURES)))]
    turn = int(rng.integers(len(truth)))
    outputs = [_turn_output(calls) for calls in truth]
    if short == "terminated":
        outputs = outputs[:turn]
    elif short == "empty":
        outputs[turn] = ["I am not able to do that with the tools I have."]
    elif truth[turn]:
        calls = list(truth[turn])
        calls.pop(int(rng.integers(len(calls))))
        outputs[turn] = _turn_output(calls)
    return kind, turn, outputs


def _decoded(outputs: Sequence[Sequence[str]]) -> list[list[list[str]]]:
    decoded = []
    for turn in outputs:
        steps = []
        for step in turn:
            if step.startswith("[") and step.endswith("]"):
                inner = step[1:-1]
                steps.append([c.strip() for c in _split_calls(inner)])
        decoded.append(steps)
    return decoded


def _split_calls(text: str) -> list[str]:
    calls, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            calls.append(text[start:i])
            start = i + 1
    calls.append(text[start:])
    return [c for c in calls if c.strip()]


def _lines(rows: Sequence[Mapping[str, Any]]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def _score_row(
    entry: Mapping[str, Any],
    model: str,
    kind: str,
    turn: int,
    outputs: list,
    truth: list,
) -> dict[str, Any]:
    """The score file's line for a failed entry, worded as the evaluator words ``kind``."""
    eid = str(entry["id"])
    prompt = {k: v for k, v in entry.items() if k != "function"}
    row: dict[str, Any] = {
        "id": eid,
        "model_name": model,
        "test_category": CATEGORY,
        "valid": False,
    }
    if kind == "multi_turn:force_terminated":
        row["error"] = {
            "error_message": [
                "Model was force-terminated during inference phase. The length of the "
                f"model result turns ({len(outputs)}) does not match the length of the "
                f"ground truth turns ({len(truth)})."
            ],
            "error_type": kind,
        }
        row.update(prompt=prompt, model_result=outputs, possible_answer=truth)
    else:
        message = {
            "multi_turn:instance_state_mismatch": "Model instance for "
            f"{(entry.get('involved_classes') or ['API'])[0]} does not match the state with "
            "ground truth instance.",
            "multi_turn:execution_response_mismatch": "Model response execution results so "
            "far does not contain all the ground truth response execution results for turn "
            f"{turn}.",
            "multi_turn:empty_turn_model_response": f"Model response list is empty for turn {turn}",
        }[kind]
        row["error"] = {"error_message": message, "error_type": kind, "details": {}}
        row.update(
            prompt=prompt,
            model_result_raw=outputs,
            model_result_decoded=_decoded(outputs),
            possible_answer=truth,
        )
    row["inference_log"] = ""
    return row


def write_run(
    root: str | Path,
    model: str,
    entries: Sequence[Mapping[str, Any]],
    answers: Mapping[str, Any],
    passed: Sequence[int],
    run: int,
) -> tuple[Path, Path]:
    """Write one run's result and score files in the evaluator's layout under ``root``.

    Args:
        root: The run's folder (``result/`` and ``score/`` go inside).
        model: The model name (a folder name under ``result/`` and ``score/``).
        entries: The test entries, in file order.
        answers: Entry id -> ground truth (one list of call strings per turn).
        passed: One 0/1 per entry.
        run: The run number (seeds the made-up failures).

    Returns:
        ``(score_file, result_file)``.
    """
    root = Path(root)
    results, failed = [], []
    for entry, ok in zip(entries, passed, strict=True):
        eid = str(entry["id"])
        truth = answers[eid]
        rng = np.random.default_rng(_seed("tokens", model, run, eid))
        if ok:
            outputs = [_turn_output(calls) for calls in truth]
        else:
            kind, turn, outputs = _failure(eid, model, run, truth)
        counts = [[int(rng.integers(900, 2400)) for _ in t] for t in outputs]
        results.append(
            {
                "id": eid,
                "result": outputs,
                "input_token_count": counts,
                "output_token_count": [[int(c // 40) for c in t] for t in counts],
                "latency": [[round(float(rng.uniform(0.4, 3.0)), 3) for _ in t] for t in outputs],
            }
        )
        if not ok:
            failed.append(_score_row(entry, model, kind, turn, outputs, truth))
    total = len(results)
    correct = total - len(failed)
    header = {"accuracy": correct / total, "correct_count": correct, "total_count": total}
    result_file = root / "result" / model / GROUP / f"BFCL_v4_{CATEGORY}_result.json"
    score_file = root / "score" / model / GROUP / f"BFCL_v4_{CATEGORY}_score.json"
    result_file.parent.mkdir(parents=True, exist_ok=True)
    score_file.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(result_file, _lines(results))
    write_text_atomic(score_file, _lines([header, *failed]))
    return score_file, result_file
