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

RUNS = 5
BASELINE = "baseline_4bthinking"
PATTERN = r"(?P<method>sft|lora|grpo)_(?P<train_set>\d+k)"


def _ability(name: str) -> float:
    draw = int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "little") / 2**32
    return -1.5 + 0.8 * draw


def configurations() -> list[Configuration]:
    """The 18 simulated configurations: a baseline, then SFT/LoRA/GRPO on either set."""
    out = [Configuration(BASELINE, -1.1)]
    for method in ("sft", "lora", "grpo"):
        for train_set, covered in (("14k", SET_14K), ("5k", SET_5K)):
            for i in range(1, 3 if (method, train_set) == ("grpo", "5k") else 4):
                name = f"{method}_{train_set}_{i}"
                out.append(Configuration(name, _ability(name), covered))
    return out


def build(root: Path, name: str = "meeting") -> Workspace:
    """Write the runs and labeled files under ``root`` and create the workspace."""
    extract(root)
    entries = [json.loads(x) for x in (root / TEST).read_text().splitlines()]
    answers = {
        r["id"]: r["ground_truth"]
        for r in (json.loads(x) for x in (root / ANSWERS).read_text().splitlines())
    }
    splits = {}
    for set_name, covered in (("set-14k", SET_14K), ("set-5k", SET_5K)):
        rows = [
            {"id": e["id"], "label": "ID" if set(e["involved_classes"]) & covered else "OOD"}
            for e in entries
        ]
        path = root / f"{set_name}_labeled.json"
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
        splits[set_name] = str(path)
    models = {}
    for config in configurations():
        passed = simulate(entries, config, RUNS)
        models[config.name] = [
            str(write_run(root / "lab" / config.name / f"run{r + 1}", config.name, entries,
                          answers, passed[r], r)[0])
            for r in range(RUNS)
        ]  # fmt: skip
    ws = create_from_files(name, str(root / TEST), splits=splits, models=models)
    names = [m.name for m in ws.models]
    set_configs(ws, configs_from_pattern(names, PATTERN, baseline=BASELINE))
    return ws
