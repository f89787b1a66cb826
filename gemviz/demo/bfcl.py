"""The tool-calling demo: BFCL v4 multi-turn-base, two training sets, five configurations.

Built from files carried in ``gemviz/demo/bfcl_data/`` (BFCL's own entries, answers,
and function docs, Apache-2.0) through the same
code a researcher's files go through (``workspace create``):

* two **training sets** made up for the demo (no lab's real data) that differ in coverage:
  ``set-14k`` (chat JSONL, OpenAI ``messages`` with the assistant's ``tool_calls``) holds
  requests written from templates over the function docs of the file-system, posting,
  messaging, maths and ticket APIs, reworded copies of the test entries that need only those
  classes (50); ``set-5k`` (parquet with a ``prompt``
  column and the declared ``tools``, as RL frameworks write it) holds template requests over
  the vehicle API and reworded copies of the 19 entries that need only it;
* each set gives a **splitter**: the 200 entries embedded with its prompts by the packaged
  sentence model (first user turn) and partitioned by coverage (``knn``);
* five **configurations** x five runs (:mod:`gemviz.demo.bfcl_runs`), each run a result and
  a score file in the evaluator's format: an untrained ``base``; configurations trained on
  ``set-14k`` gain where it covers; ``sft-5k`` falls below ``base`` even where its set covers.
"""

from __future__ import annotations

import json
import lzma
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gemviz.data.fields import LABEL
from gemviz.data.loaders import load_scores
from gemviz.data.paths import cache_dir
from gemviz.data.read import read_records
from gemviz.data.write import write_json_atomic, write_records, write_text_atomic
from gemviz.demo.bfcl_runs import CONFIGURATIONS, SET_5K, SET_14K, covers, simulate, write_run
from gemviz.scoring.store import load_embeddings
from gemviz.scoring.training import score_training_set
from gemviz.splitters import default_params, partition_frames

Progress = Callable[[int, int, str], None]

SLUG = "demo-bfcl"
NAME = "Demo: tool calling (BFCL v4 multi-turn base)"
DATA = Path(__file__).resolve().parent / "bfcl_data"
TEST = "BFCL_v4_multi_turn_base.json"
ANSWERS = "possible_answer/BFCL_v4_multi_turn_base.json"
RUNS = 5
SEED = 42
WORKSPACE_FILE = "workspace.json"
# Everything a build writes; only these are removed before a rebuild.
OUTPUTS = ("data", "training", "splitters", "runs")
METHOD = "knn"
PARAMS: dict[str, Any] = default_params(METHOD)
#: Openings of the reworded copies of a covered entry (more copies than the knn splitter's k).
OPENINGS = ("Please", "Could you", "Hey,", "Quick request:", "I need this:", "Kindly")
SYSTEM = "You are an assistant that calls the tools it is given to do what the user asks."
# Function-doc file of each API class (multi_turn_func_doc/<file>.json).
DOC_FILES = {
    "GorillaFileSystem": "gorilla_file_system",
    "MathAPI": "math_api",
    "MessageAPI": "message_api",
    "TwitterAPI": "posting_api",
    "TicketAPI": "ticket_api",
    "TradingBot": "trading_bot",
    "TravelAPI": "travel_booking",
    "VehicleControlAPI": "vehicle_control",
}
_PHRASES = (
    "{d}",
    "Please {l}",
    "Could you {l}?",
    "I need you to {l}",
    "Can you help me {l}",
    "{d} Use {p} {v}.",
    "Go ahead and {l} ({p}: {v}).",
    "First {l}, then tell me what happened.",
)
_VALUES = (
    "'report.txt'", "'alex'", "42", "'San Francisco'", "'AAPL'", "'notes'", "3",
    "'LAX'", "'urgent'", "'budget.csv'", "'eve'", "100",
)  # fmt: skip


def bfcl_folder() -> Path:
    """Where the tool-calling demo lives: ``<cache>/workspaces/demo-bfcl/``."""
    return cache_dir("workspaces", SLUG)


def read_packed(name: str) -> list[dict[str, Any]]:
    """JSON lines of a packed data file (``name`` without ``.xz``)."""
    text = lzma.decompress((DATA / f"{name}.xz").read_bytes()).decode("utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _description(doc: dict[str, Any]) -> str:
    text = str(doc.get("description", ""))
    return text.split("Tool description:", 1)[-1].strip().rstrip(".") + "."


def template_requests(classes: frozenset[str], seed: int = SEED) -> list[tuple[str, str]]:
    """User requests written from templates over the function docs of ``classes``.

    Each function's description is phrased several ways, some with a parameter and a value
    drawn from a small list; the result reads like a synthetic SFT set built from API docs.

    Returns:
        ``(request, function name)`` pairs.
    """
    rng = np.random.default_rng(seed)
    out = []
    for cls in sorted(classes):
        for doc in read_packed(f"multi_turn_func_doc/{DOC_FILES[cls]}.json"):
            d = _description(doc)
            params = list((doc.get("parameters") or {}).get("properties") or {}) or ["it"]
            for phrase in _PHRASES:
                text = phrase.format(
                    d=d,
                    l=d[0].lower() + d[1:-1],
                    p=params[int(rng.integers(len(params)))].replace("_", " "),
                    v=_VALUES[int(rng.integers(len(_VALUES)))],
                )
                out.append((text, str(doc["name"])))
    return out


def reworded_entries(classes: frozenset[str]) -> list[tuple[str, list[str]]]:
    """Reworded copies of the first turn of every test entry that needs only ``classes``.

    Returns:
        ``(request, functions of the first turn's answer)``, :data:`OPENINGS` copies each.
    """
    answers = {r["id"]: r["ground_truth"] for r in read_packed(ANSWERS)}
    out = []
    for entry in read_packed(TEST):
        if not covers(entry, classes):
            continue
        first = entry["question"][0][0]["content"]
        calls = [c.split("(")[0] for c in answers[entry["id"]][0]]
        out.extend((f"{o} {first[0].lower()}{first[1:]}", calls) for o in OPENINGS)
    return out


def _chat(request: str, calls: list[str]) -> dict[str, Any]:
    tool_calls = [{"type": "function", "function": {"name": c, "arguments": "{}"}} for c in calls]
    assistant = {"role": "assistant", "content": "", "tool_calls": tool_calls}
    user = {"role": "user", "content": request}
    return {"messages": [{"role": "system", "content": SYSTEM}, user, assistant]}


def _declared(classes: frozenset[str]) -> str:
    docs = [
        doc
        for cls in sorted(classes)
        for doc in read_packed(f"multi_turn_func_doc/{DOC_FILES[cls]}.json")
    ]
    return json.dumps([{"type": "function", "function": {"name": d["name"]}} for d in docs])


def training_sets(folder: Path) -> dict[str, Path]:
    """Write the two made-up training sets (see the module docstring) into ``folder``.

    Returns:
        Set name -> file: ``set-14k`` as chat JSONL, ``set-5k`` as parquet.
    """
    big = [_chat(q, [fn]) for q, fn in template_requests(SET_14K)]
    big += [_chat(q, calls) for q, calls in reworded_entries(SET_14K)]
    small = [q for q, _ in template_requests(SET_5K, SEED + 1)]
    small += [q for q, _ in reworded_entries(SET_5K)]
    folder.mkdir(parents=True, exist_ok=True)
    chat = folder / "set-14k.jsonl"
    lines = [json.dumps(r) for r in big]
    write_text_atomic(chat, "\n".join(lines) + "\n")
    parquet = folder / "set-5k.parquet"
    frame = pd.DataFrame(
        {
            "prompt": [[{"role": "user", "content": q}] for q in small],
            "tools": _declared(SET_5K),
            "data_source": "demo-templates",
        }
    )
    frame.to_parquet(parquet, index=False)
    return {"set-14k": chat, "set-5k": parquet}


def write_inputs(folder: Path) -> tuple[Path, Path]:
    """The test entries and their possible answers, unpacked in BFCL's layout."""
    test, answers = folder / "data" / TEST, folder / "data" / ANSWERS
    for name, path in ((TEST, test), (ANSWERS, answers)):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(lzma.decompress((DATA / f"{name}.xz").read_bytes()))
    return test, answers


def build_bfcl(folder: Path, progress: Progress | None = None) -> Path:
    """Build the tool-calling demo workspace in ``folder`` (files first, ``workspace.json`` last).

    Only the demo's own outputs in ``folder`` are replaced.

    Returns:
        ``folder``.

    Raises:
        GemvizError: A stage failed.
    """

    def tick(done: int, stage: str) -> None:
        if progress is not None:
            progress(done, 10, stage)

    _clear_outputs(folder)
    tick(0, "unpacking the BFCL entries")
    test, _ = write_inputs(folder)
    entries = read_packed(TEST)
    answers = {r["id"]: r["ground_truth"] for r in read_packed(ANSWERS)}
    tick(1, "writing the training sets")
    splitters = []
    for i, (name, path) in enumerate(training_sets(folder / "training").items()):
        tick(2 + 2 * i, f"scoring the entries against {name}")
        out = folder / "splitters" / name
        found = score_training_set(path, test, out_dir=out)
        labeled, _ = partition_frames(
            load_scores(found.train_scores),
            load_scores(found.test_scores),
            METHOD,
            train_embeddings=load_embeddings(found.train_embeddings)[1],
            test_embeddings=load_embeddings(found.test_embeddings)[1],
            **PARAMS,
        )
        records = read_records(found.test_scores)
        for rec, label in zip(records, labeled[LABEL], strict=True):
            rec[LABEL] = label
        write_records(out / "test_labeled.json", records)
        splitters.append(
            {
                "name": name,
                "labeled": _abs(out / "test_labeled.json"),
                **{k: _abs(v) for k, v in found._asdict().items()},
                "model": "default",
                "embed_method": "sentence",
                "partition": METHOD,
                "params": dict(PARAMS),
            }
        )
    tick(6, "writing the configurations' runs")
    models = []
    for config in CONFIGURATIONS:
        passed = simulate(entries, config, RUNS)
        files = [
            _abs(write_run(folder / "runs" / config.name / f"run{r + 1}", config.name,
                           entries, answers, passed[r], r)[0])
            for r in range(RUNS)
        ]  # fmt: skip
        models.append({"name": config.name, "results": files[0], "runs": files[1:]})
    tick(9, "saving the workspace")
    write_json_atomic(
        folder / WORKSPACE_FILE,
        {
            "name": NAME,
            "demo": True,
            "created": time.time(),
            "test": _abs(test),
            "train": None,
            "image_root": None,
            "cluster_by": "auto",
            "splitters": splitters,
            "models": models,
        },
    )
    tick(10, "done")
    return folder


def _clear_outputs(folder: Path) -> None:
    """Remove the demo's own outputs from ``folder`` (created when missing), nothing else."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in (WORKSPACE_FILE, *OUTPUTS):
        target = folder / name
        if target.is_dir():
            shutil.rmtree(target)
        else:
            target.unlink(missing_ok=True)


def _abs(path: str | os.PathLike) -> str:
    return str(Path(path).resolve())
