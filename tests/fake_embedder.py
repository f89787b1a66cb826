"""A model-free embedder for scoring fault tests, usable in-process and as a command.

``python tests/fake_embedder.py score ...`` runs the gemviz command line with the ``fake``
method registered; ``GEMVIZ_FAKE_DELAY`` (seconds per batch) slows it down so a test can
kill it mid-run or start a second run beside it.
"""

from __future__ import annotations

import hashlib
import os
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


def register() -> None:
    """Add the ``fake`` method to the embedder registry."""
    EMBEDDERS["fake"] = FakeEmbedder


if __name__ == "__main__":
    register()
    from gemviz.commands.cli import main

    sys.exit(main(sys.argv[1:]))
