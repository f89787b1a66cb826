"""Three demo agents that act by analogy with the nearest train steps.

Each agent sees what a GUI agent sees in the demo: the task, the screen's widgets (their
labels and boxes, as an accessibility tree or OCR would give them) and the train steps with
their ground-truth actions. It embeds the task in the packaged sentence-embedding space, finds
the nearest train tasks by cosine similarity and answers with an action, written in the GEM
string format (``CLICK <point>[[x, y]]</point>``, ``TYPE [text]`` ...).

* ``agent-strong`` votes the action type over the 5 nearest train steps (softmax weights), finds the target by
  fuzzy matching widget labels against the task, also reuses the targets of close neighbours
  (so a paraphrase seen in training resolves), types any quoted text of the task, reads
  scroll directions from it, and answers IMPOSSIBLE when no widget fits a click task.
* ``agent-medium`` copies the nearest step's action type and picks the widget sharing the
  most words with the task; without any shared word it clicks where the neighbour clicked.
* ``agent-weak`` copies the nearest train step's whole action, point and text included.

Because they only generalise through the train steps, all three do worse on steps unlike the
train set, which is the ID/OOD gap the demo is there to show.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from rapidfuzz import fuzz

from gemviz.demo.screens import CLICKABLE, TYPEABLE, Widget

_QUOTED = re.compile(r'"([^"]+)"')
_WORD = re.compile(r"[a-z0-9]+")


def gem_string(action: Mapping[str, Any]) -> str:
    """Write a canonical action dict in the GEM output format.

    Click points go out on the 0..1000 grid of Qwen2-VL-style agents.
    """
    kind = action["type"]
    if kind == "click":
        x, y = action["point"]
        return f"CLICK <point>[[{round(x * 1000)}, {round(y * 1000)}]]</point>"
    if kind == "type":
        return f"TYPE [{action.get('text', '')}]"
    if kind == "scroll":
        return f"SCROLL [{str(action.get('direction', 'down')).upper()}]"
    return kind.upper()


def _unit(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norms, 1e-12)


def _words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower()))


def _hit(widgets: Sequence[Widget], point: Sequence[float]) -> Widget | None:
    """The smallest widget whose box holds ``point``."""
    inside = [
        w for w in widgets if w.box[0] <= point[0] <= w.box[2] and w.box[1] <= point[1] <= w.box[3]
    ]
    return min(inside, key=lambda w: (w.box[2] - w.box[0]) * (w.box[3] - w.box[1]), default=None)


def _click(widget: Widget) -> dict[str, Any]:
    return {"type": "click", "point": list(widget.center)}


class RetrievalAgent:
    """Shared part: nearest train steps in embedding space and their target widgets.

    Subclasses implement :meth:`act` for one test step given its neighbours.
    """

    k = 1

    def fit(
        self,
        train: Sequence[Mapping[str, Any]],
        train_embeddings: np.ndarray,
        screens: Mapping[str, Sequence[Widget]],
    ) -> RetrievalAgent:
        """Remember the train steps, their embeddings and the label each one clicked.

        Args:
            train: Train records with ``task``, ``action`` and ``screen``.
            train_embeddings: One row per train record.
            screens: Widgets of every screen, by screen key.
        """
        self.train_ = list(train)
        self.embeddings_ = _unit(train_embeddings)
        self.targets_ = []
        for rec in self.train_:
            action = rec["action"]
            widget = None
            if action["type"] == "click":
                widget = _hit(screens[rec["screen"]], action["point"])
            self.targets_.append(widget.label if widget else None)
        return self

    def predict(
        self,
        test: Sequence[Mapping[str, Any]],
        test_embeddings: np.ndarray,
        screens: Mapping[str, Sequence[Widget]],
    ) -> list[str]:
        """Answer every test step; returns GEM-format action strings, one per record."""
        sims = _unit(test_embeddings) @ self.embeddings_.T
        k = min(self.k, sims.shape[1])
        top = np.argsort(-sims, axis=1)[:, :k]
        out = []
        for i, rec in enumerate(test):
            neighbours = [(int(j), float(sims[i, j])) for j in top[i]]
            action = self.act(rec["task"], list(screens[rec["screen"]]), neighbours)
            out.append(gem_string(action))
        return out

    def act(
        self, task: str, widgets: list[Widget], neighbours: list[tuple[int, float]]
    ) -> dict[str, Any]:
        raise NotImplementedError


class WeakAgent(RetrievalAgent):
    """Copies the nearest train step's action as it is."""

    def act(self, task, widgets, neighbours):
        return dict(self.train_[neighbours[0][0]]["action"])


class MediumAgent(RetrievalAgent):
    """Nearest step's action type; the widget sharing most words with the task."""

    def act(self, task, widgets, neighbours):
        near = self.train_[neighbours[0][0]]["action"]
        kind = near["type"]
        if kind == "click":
            words = _words(task)
            overlap = [len(words & _words(w.label)) for w in widgets if w.kind in CLICKABLE]
            clickable = [w for w in widgets if w.kind in CLICKABLE]
            if overlap and max(overlap) > 0:
                return _click(clickable[int(np.argmax(overlap))])
            return dict(near)
        if kind == "type":
            quoted = _QUOTED.search(task)
            return {"type": "type", "text": quoted.group(1) if quoted else near.get("text", "")}
        return dict(near)


class StrongAgent(RetrievalAgent):
    """Similarity-weighted vote over 5 neighbours, fuzzy label matching, reads the task."""

    k = 5
    temperature = 0.05
    # Below this label-match score (0..100) no widget is taken to be the one the task means.
    min_match = 80.0
    # Neighbours at least this similar lend their clicked label to the current step.
    analogy_sim = 0.8

    def act(self, task, widgets, neighbours):
        # Softmax weights: the closest steps decide, the others break near-ties.
        top = max(sim for _, sim in neighbours)
        votes: dict[str, float] = {}
        for j, sim in neighbours:
            kind = self.train_[j]["action"]["type"]
            votes[kind] = votes.get(kind, 0.0) + float(np.exp((sim - top) / self.temperature))
        kind = max(votes, key=votes.get)
        near = self.train_[neighbours[0][0]]["action"]
        quoted = _QUOTED.search(task)
        # Text in quotes is something to type, whatever the neighbours did.
        if quoted and any(w.kind in TYPEABLE for w in widgets):
            return {"type": "type", "text": quoted.group(1)}
        if kind == "click":
            return self._click(task, widgets, neighbours)
        if kind == "type":
            return {"type": "type", "text": near.get("text", "")}
        if kind == "scroll":
            words = _words(task)
            direction = next((d for d in ("up", "down") if d in words), None)
            return {"type": "scroll", "direction": direction or near.get("direction", "down")}
        return {"type": kind}

    def _click(self, task, widgets, neighbours):
        lowered = task.lower()
        borrowed = {
            self.targets_[j]: sim
            for j, sim in neighbours
            if sim >= self.analogy_sim and self.targets_[j] is not None
        }
        best, best_key = None, (-1.0, 0)
        for w in widgets:
            if w.kind not in CLICKABLE:
                continue
            label = w.label.lower()
            score = float(fuzz.partial_ratio(label, lowered)) if len(label) >= 3 else 0.0
            if label in _words(lowered):
                score = 100.0
            if w.label in borrowed:
                score = max(score, 100.0 * borrowed[w.label] + 5.0)
            # Among equal scores the longest label is the most specific match ("Files" holds
            # "File", but a task naming "Documents" means the Documents item).
            if (score, len(label)) > best_key:
                best, best_key = w, (score, len(label))
        if best is None or best_key[0] < self.min_match:
            return {"type": "impossible"}
        return _click(best)


AGENTS: dict[str, type[RetrievalAgent]] = {
    "agent-strong": StrongAgent,
    "agent-medium": MediumAgent,
    "agent-weak": WeakAgent,
}
