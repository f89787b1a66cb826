"""A model-free embedder for scoring fault tests, usable in-process and as a command.

``python tests/fake_embedder.py score ...`` runs the gemviz command line with the ``fake``
method registered; ``GEMVIZ_FAKE_DELAY`` (seconds per batch) slows it down so a test can
kill it mid-run or start a second run beside it.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gemviz.embed import EMBEDDERS, Embedder


class FakeEmbedder(Embedder):
    """Deterministic 8-d vectors from a hash of the task; no model files are read."""

    name = "fake"
    uses_template = False
    default_batch_size = 4

    def load(self) -> None:
        pass

    def embed(self, batch):
        delay = float(os.environ.get("GEMVIZ_FAKE_DELAY") or 0)
        if delay:
            time.sleep(delay)
        rows = []
        for s in batch:
            digest = hashlib.sha256(s.task.encode()).digest()[:8]
            rows.append(np.frombuffer(digest, dtype=np.uint8).astype(np.float32) / 255.0)
        return np.stack(rows)


class WordsEmbedder(Embedder):
    """Deterministic bag-of-words vectors: each word hashed to one of 256 signed dimensions.

    Texts that share most words land close together (a lightly edited copy of a request sits
    next to it), unrelated texts far apart: enough structure for coverage tests, no model.
    """

    name = "words"
    uses_template = False
    default_batch_size = 64
    dim = 256

    def load(self) -> None:
        pass

    def embed(self, batch):
        rows = np.zeros((len(batch), self.dim), dtype=np.float32)
        for i, s in enumerate(batch):
            for word in re.findall(r"[a-z0-9_]+", s.task.lower()):
                digest = hashlib.sha256(word.encode()).digest()
                rows[i, digest[0]] += 1.0 if digest[1] % 2 else -1.0
            if not rows[i].any():
                rows[i, 0] = 1.0
        return rows


def register() -> None:
    """Add the ``fake`` and ``words`` methods to the embedder registry."""
    EMBEDDERS["fake"] = FakeEmbedder
    EMBEDDERS["words"] = WordsEmbedder


if __name__ == "__main__":
    register()
    from gemviz.commands.cli import main

    sys.exit(main(sys.argv[1:]))
