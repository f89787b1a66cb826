"""A study of a lab meeting's shape: 18 configurations x 5 runs on BFCL, two training sets.

Built from the BFCL entries carried in ``tests/data/bfcl/`` and the simulated runs of
:mod:`gemviz.demo.bfcl_runs` (the evaluator's own file layout), with two splitters read off
the entries' API classes (one per made-up training set) and a configuration table read off
the names (method, training set) with ``baseline_4bthinking`` as the baseline.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from gemviz.demo.bfcl_runs import SET_5K, SET_14K, Configuration, simulate, write_run
from gemviz.workspace.configs import configs_from_pattern, set_configs
from gemviz.workspace.create import create_from_files
from gemviz.workspace.store import Workspace
from tests.bfcl_data import ANSWERS, TEST, extract
from tests.coverage_sets import chats, edited_copy

RUNS = 5
BASELINE = "baseline_4bthinking"
PATTERN = r"(?P<method>sft|lora|grpo)_(?P<train_set>\d+k)"
#: The methods of the larger study (30 configurations) and the pattern naming them.
METHODS_30 = ("sft", "lora", "grpo", "dpo", "ppo")
PATTERN_30 = r"(?P<method>sft|lora|grpo|dpo|ppo)_(?P<train_set>\d+k)"


def _ability(name: str) -> float:
    draw = int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "little") / 2**32
    return -1.5 + 0.8 * draw


def configurations(count: int = 18) -> list[Configuration]:
    """``count`` simulated configurations: a baseline, then three of each method on either
    set (SFT/LoRA/GRPO for 18, as the lab's; DPO and PPO added beyond), cut at ``count``."""
    out = [Configuration(BASELINE, -1.1)]
    for method in ("sft", "lora", "grpo") if count <= 18 else METHODS_30:
        for train_set, covered in (("14k", SET_14K), ("5k", SET_5K)):
            for i in range(1, 4):
                name = f"{method}_{train_set}_{i}"
                out.append(Configuration(name, _ability(name), covered))
    return out[:count]


def _entries(root: Path) -> tuple[list[dict], dict[str, list]]:
    entries = [json.loads(x) for x in (root / TEST).read_text().splitlines()]
    answers = {
        r["id"]: r["ground_truth"]
        for r in (json.loads(x) for x in (root / ANSWERS).read_text().splitlines())
    }
    return entries, answers


def write_runs(root: Path, count: int = 18) -> dict[str, list[str]]:
    """Extract the BFCL files under ``root`` and write every configuration's runs as the
    evaluator leaves them, one folder per run: ``root/lab/<config>/run<r>/score/<config>/…``.

    Returns:
        Configuration -> its score files, runs in order.
    """
    extract(root)
    entries, answers = _entries(root)
    models = {}
    for config in configurations(count):
        passed = simulate(entries, config, RUNS)
        models[config.name] = [
            str(write_run(root / "lab" / config.name / f"run{r + 1}", config.name, entries,
                          answers, passed[r], r)[0])
            for r in range(RUNS)
        ]  # fmt: skip
    return models


def write_training_sets(root: Path, copies: int = 40, n_chats: int = 10) -> dict[str, Path]:
    """Two small chat JSONL training sets under ``root/training``, one per made-up set: an
    edited copy of the first ``copies`` entries touching the set's API classes, and
    ``n_chats`` unrelated chats. Small, so embedding them with the packaged model is quick.
    """
    entries, answers = _entries(root)
    folder = root / "training"
    folder.mkdir(exist_ok=True)
    out = {}
    for set_name, covered in (("set-14k", SET_14K), ("set-5k", SET_5K)):
        touched = [e for e in entries if set(e["involved_classes"]) & covered][:copies]
        records = [edited_copy(e, answers[e["id"]]) for e in touched] + chats()[:n_chats]
        out[set_name] = folder / f"{set_name}.jsonl"
        out[set_name].write_text("".join(json.dumps(r) + "\n" for r in records))
    return out


def build(root: Path, name: str = "meeting", count: int = 18) -> Workspace:
    """Write the runs of ``count`` configurations and labeled files under ``root`` and create
    the workspace."""
    models = write_runs(root, count)
    entries, _ = _entries(root)
    splits = {}
    for set_name, covered in (("set-14k", SET_14K), ("set-5k", SET_5K)):
        rows = [
            {"id": e["id"], "label": "ID" if set(e["involved_classes"]) & covered else "OOD"}
            for e in entries
        ]
        path = root / f"{set_name}_labeled.json"
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
        splits[set_name] = str(path)
    ws = create_from_files(name, str(root / TEST), splits=splits, models=models)
    names = [m.name for m in ws.models]
    pattern = PATTERN if count <= 18 else PATTERN_30
    set_configs(ws, configs_from_pattern(names, pattern, baseline=BASELINE))
    return ws
