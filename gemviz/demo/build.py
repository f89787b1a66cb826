"""The demo pipeline: steps and screenshots -> scores and labels -> agents -> workspace.

Every stage uses gemviz's real code: :func:`gemviz.scoring.score.score_files` with the packaged
model for the ``sentence`` and ``gem-input`` splitters, GEM partitioning from
:mod:`gemviz.splitters`, and :func:`gemviz.actions.match_records` for the agents' type and
exact match. Each file is written atomically and ``workspace.json`` comes last, so a build
cut short leaves no workspace behind and is simply redone.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from gemviz.actions import match_records
from gemviz.data.errors import GemvizError
from gemviz.data.fields import LABEL
from gemviz.data.loaders import load_scores
from gemviz.data.read import read_records
from gemviz.data.write import write_json_atomic, write_records
from gemviz.demo.agents import AGENTS
from gemviz.demo.screens import Screen, Widget, save_png
from gemviz.demo.steps import generate_steps
from gemviz.scoring.score import score_files
from gemviz.scoring.store import load_embeddings
from gemviz.splitters import default_params, partition_frames

Progress = Callable[[int, int, str], None]

NAME = "Demo (generated data)"
WORKSPACE_FILE = "workspace.json"
# The scoring method of each demo splitter (splitter name -> embedding method).
SPLITTER_METHODS: dict[str, str] = {"sentence": "sentence", "gem-input": "gem-input"}
GEM_PARAMS: dict[str, Any] = default_params("gem")
# Everything a build writes; only these are removed before a rebuild, never the whole folder.
OUTPUTS = (
    "images",
    "splitters",
    "agents",
    "train.json",
    "test.json",
    "screens.json",
    WORKSPACE_FILE,
)

# Share of the progress bar each stage takes (scoring the sentence model dominates).
_STAGES: dict[str, float] = {
    "steps": 0.10,
    "sentence": 0.55,
    "gem-input": 0.15,
    "agents": 0.15,
    "workspace": 0.05,
}
_TICKS = 1000


class _Bar:
    """Turns per-stage progress into one ``progress(done, total, stage)`` stream."""

    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress
        self.start = 0.0

    def stage(self, name: str, frac: float = 0.0, text: str | None = None) -> None:
        if self.progress is None:
            return
        order = list(_STAGES)
        base = sum(_STAGES[k] for k in order[: order.index(name)])
        done = round(_TICKS * (base + _STAGES[name] * min(max(frac, 0.0), 1.0)))
        self.progress(done, _TICKS, text or name)

    def sub(self, name: str, text: str, share: float = 1.0) -> Progress:
        """A ``progress`` callback filling the first ``share`` of stage ``name``."""

        def report(done: int, total: int, stage: str) -> None:
            frac = done / total if total else 1.0
            self.stage(name, share * frac, f"{text} ({done}/{total})")

        return report


def clear_outputs(folder: Path) -> None:
    """Remove what an earlier (possibly interrupted) build left in ``folder``."""
    for name in OUTPUTS:
        path = folder / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


def write_steps(folder: Path, n_train: int, n_test: int, seed: int, bar: _Bar) -> dict[str, Screen]:
    """Generate the steps, draw every screen they use, write train/test/screens files."""
    bar.stage("steps", 0.0, "generating steps")
    train, test, screens = generate_steps(n_train, n_test, seed)
    images = {}
    for i, (key, screen) in enumerate(sorted(screens.items())):
        path = folder / "images" / f"{key}.png"
        save_png(screen, path)
        images[key] = str(path.resolve())
        if i % 10 == 0:
            bar.stage(
                "steps", (i + 1) / len(screens), f"drawing screenshots ({i + 1}/{len(screens)})"
            )
    write_records(folder / "train.json", [s.record(images[s.screen.key]) for s in train])
    write_records(
        folder / "test.json", add_episodes([s.record(images[s.screen.key]) for s in test])
    )
    write_json_atomic(folder / "screens.json", [screens[k].to_dict() for k in sorted(screens)])
    return screens


EPISODE_LENGTH = 4


def add_episodes(
    records: list[dict[str, Any]], length: int = EPISODE_LENGTH
) -> list[dict[str, Any]]:
    """Group test steps into short episodes: each app's steps, in file order, ``length`` at a time.

    The demo's steps are single-step tasks; numbering them into episodes (``episode_id``,
    ``step_index`` from 1) gives the Step page's episode strip something to show. Nothing
    that scores, labels or matches a step reads these fields.
    """
    seen: dict[str, int] = {}
    for rec in records:
        app = str(rec.get("app", "app"))
        i = seen.get(app, 0)
        seen[app] = i + 1
        slug = "".join(c if c.isalnum() else "-" for c in app.lower())
        rec["episode_id"] = f"{slug}-{i // length + 1:03d}"
        rec["step_index"] = i % length + 1
    return records


def score_and_partition(folder: Path, bar: _Bar) -> list[dict[str, Any]]:
    """Score train and test with each demo splitter's method and label the test steps by GEM.

    Returns:
        The splitter entries of ``workspace.json``.
    """
    entries = []
    for name, method in SPLITTER_METHODS.items():
        out = folder / "splitters" / name
        bar.stage(method, 0.0, f"scoring with {method}")
        score_files(
            model="default",
            method=method,
            train=folder / "train.json",
            test=folder / "test.json",
            out_dir=out,
            progress=bar.sub(method, f"scoring with {method}", share=0.9),
        )
        bar.stage(method, 0.95, f"GEM partition of {name}")
        train_scores, test_scores = out / "train_inputscore.json", out / "test_inputscore.json"
        labeled, _ = partition_frames(
            load_scores(train_scores), load_scores(test_scores), method="gem", **GEM_PARAMS
        )
        records = read_records(test_scores)
        for rec, label in zip(records, labeled[LABEL], strict=True):
            rec[LABEL] = label
        write_records(out / "test_labeled.json", records)
        entries.append(
            {
                "name": name,
                "labeled": _abs(out / "test_labeled.json"),
                "train_scores": _abs(train_scores),
                "test_scores": _abs(test_scores),
                "train_embeddings": _abs(out / "train_embeddings.npz"),
                "test_embeddings": _abs(out / "test_embeddings.npz"),
                "model": "default",
                "embed_method": method,
                "partition": "gem",
                "params": dict(GEM_PARAMS),
            }
        )
    return entries


def run_agents(folder: Path, screens: dict[str, Screen], bar: _Bar) -> list[dict[str, Any]]:
    """Run every demo agent on the test steps and score it with the GEM matcher.

    The agents retrieve neighbours in the sentence splitter's embedding space, so no model
    runs twice.

    Returns:
        The model entries of ``workspace.json``.
    """
    train = read_records(folder / "train.json")
    test = read_records(folder / "test.json")
    emb = folder / "splitters" / "sentence"
    train_emb = _rows(load_embeddings(emb / "train_embeddings.npz"), train)
    test_emb = _rows(load_embeddings(emb / "test_embeddings.npz"), test)
    widgets: dict[str, list[Widget]] = {k: s.widgets for k, s in screens.items()}
    entries = []
    for i, (name, cls) in enumerate(AGENTS.items()):
        bar.stage("agents", i / len(AGENTS), f"running {name}")
        agent = cls().fit(train, train_emb, widgets)
        predictions = agent.predict(test, test_emb, widgets)
        pred_records = [
            {"id": r["id"], "task": r["task"], "image_path": r["image_path"], "prediction": p}
            for r, p in zip(test, predictions, strict=True)
        ]
        out = folder / "agents" / name
        write_records(out / "predictions.json", pred_records)
        results, _ = match_records(
            test,
            pred_records,
            rules="gem",
            gt_file=str(folder / "test.json"),
            pred_file=str(out / "predictions.json"),
        )
        write_records(out / "results.json", results)
        entries.append(
            {
                "name": name,
                "results": _abs(out / "results.json"),
                "predictions": _abs(out / "predictions.json"),
                "pred_field": "prediction",
                "format": "auto",
            }
        )
    return entries


def _rows(loaded: tuple[list[str], np.ndarray], records: list[dict[str, Any]]) -> np.ndarray:
    """The embedding rows in the order of ``records`` (matched by sample id)."""
    ids, emb = loaded
    position = {sid: i for i, sid in enumerate(ids)}
    try:
        return emb[[position[str(r["id"])] for r in records]]
    except KeyError as exc:
        raise GemvizError(f"no sentence embedding for demo step {exc}") from None


def _abs(path: Path) -> str:
    return str(Path(path).resolve())


def build(
    folder: Path,
    progress: Progress | None = None,
    n_train: int = 600,
    n_test: int = 400,
    seed: int = 42,
) -> Path:
    """Build the demo workspace in ``folder`` (see :func:`gemviz.demo.build_demo`)."""
    folder.mkdir(parents=True, exist_ok=True)
    clear_outputs(folder)
    bar = _Bar(progress)
    screens = write_steps(folder, n_train, n_test, seed, bar)
    splitters = score_and_partition(folder, bar)
    models = run_agents(folder, screens, bar)
    bar.stage("workspace", 0.0, "saving the workspace")
    write_json_atomic(
        folder / WORKSPACE_FILE,
        {
            "name": NAME,
            "demo": True,
            "created": time.time(),
            "test": _abs(folder / "test.json"),
            "train": _abs(folder / "train.json"),
            "image_root": None,
            "splitters": splitters,
            "models": models,
        },
    )
    bar.stage("workspace", 1.0, "done")
    return folder
