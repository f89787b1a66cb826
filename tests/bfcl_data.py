"""BFCL v4 files carried by the repository (xz-compressed), written back out for tests.

``tests/data/bfcl/`` holds the 200 multi-turn-base test entries and their possible answers
from the ``bfcl-eval`` package (Apache-2.0), and simulated evaluation runs in the evaluator's
layout and format (``make_runs.py``); see ``README.md`` there. :func:`extract` writes every
``*.xz`` back out under ``dest`` with the same relative paths, so tests read the files as a
researcher's disk holds them.
"""

from __future__ import annotations

import lzma
from pathlib import Path

PACKED = Path(__file__).resolve().parent / "data" / "bfcl"
TEST = "BFCL_v4_multi_turn_base.json"
ANSWERS = "possible_answer/BFCL_v4_multi_turn_base.json"
CONFIGS = ("sft-14k", "lora-14k", "grpo-5k")
RUNS = 5


def extract(dest: Path) -> Path:
    """Decompress every ``*.xz`` of :data:`PACKED` into ``dest`` (made if missing).

    Returns:
        ``dest``.

    Raises:
        FileNotFoundError: Nothing is packed.
    """
    packed = sorted(PACKED.rglob("*.xz"))
    if not packed:
        raise FileNotFoundError(f"no BFCL files under {PACKED}")
    for src in packed:
        out = dest / src.relative_to(PACKED).with_suffix("")
        if not out.exists():
            out.parent.mkdir(parents=True, exist_ok=True)
            tmp = out.with_suffix(".part")
            tmp.write_bytes(lzma.decompress(src.read_bytes()))
            tmp.replace(out)
    return dest


def score_file(root: Path, config: str, run: int) -> Path:
    """The score file of run ``run`` (1-based) of ``config`` under an extracted ``root``."""
    return (
        root / "runs" / config / f"run{run}" / "score" / config / "multi_turn"
        / "BFCL_v4_multi_turn_base_score.json"
    )  # fmt: skip
