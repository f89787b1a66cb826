"""Write the simulated evaluation runs under ``runs/`` (the outputs are committed).

Three configurations x five runs, each run a score file in the layout and format BFCL's
evaluator writes (``gemviz.demo.bfcl_runs.write_run``), xz-compressed:
``runs/<config>/run<k>/score/<config>/multi_turn/BFCL_v4_multi_turn_base_score.json.xz``.
Run 1 of each configuration also keeps its result file (``result/`` beside ``score/``), so
both ways of knowing the passed entries are exercised: from the result file, or from the
test file.

Which entries pass is drawn here, not by the demo's :func:`gemviz.demo.bfcl_runs.simulate`:
the test data keeps the draw it was made with (a configuration's own per-entry draw, and a
coverage term of ``2 * share - 1`` for the share of an entry's API classes its set covers),
whatever the demo's simulation becomes. Running the script again gives the same bytes
(``tests/test_bfcl.py`` checks it into a temporary folder).

    python tests/data/bfcl/make_runs.py [OUT]    # OUT: default tests/data/bfcl/runs
"""

from __future__ import annotations

import hashlib
import json
import lzma
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))

from gemviz.demo.bfcl_runs import entry_difficulty, write_run  # noqa: E402

RUNS = 5
SET_14K = frozenset({"GorillaFileSystem", "TwitterAPI", "MessageAPI", "MathAPI", "TicketAPI"})
SET_5K = frozenset({"TradingBot", "TravelAPI", "VehicleControlAPI"})
#: Name, ability (log-odds), the API classes its training set covers.
CONFIGURATIONS = (("sft-14k", -0.85, SET_14K), ("lora-14k", -1.0, SET_14K),
                  ("grpo-5k", -0.9, SET_5K))  # fmt: skip
COVERAGE_GAIN, ENTRY_SD, RUN_SD = 0.8, 0.6, 0.25


def _seed(*parts: object) -> int:
    text = "|".join(map(str, parts)).encode()
    return int.from_bytes(hashlib.sha256(text).digest()[:8], "little")


def _coverage(entry: dict, covered: frozenset[str]) -> float:
    classes = set(entry.get("involved_classes") or [])
    if not classes or not covered:
        return 0.0
    return 2.0 * len(classes & covered) / len(classes) - 1.0


def simulate(entries: list[dict], name: str, ability: float, covered: frozenset[str]):
    """Each run's pass (1) or fail (0) of every entry, ``(RUNS, len(entries))``."""
    cover = np.array([_coverage(e, covered) for e in entries])
    draw = np.random.default_rng(_seed("config", name)).normal(0.0, ENTRY_SD, len(entries))
    latent = ability + COVERAGE_GAIN * cover - entry_difficulty(entries) + draw
    out = np.empty((RUNS, len(entries)), dtype=np.int8)
    for r in range(RUNS):
        noise = np.random.default_rng(_seed("run", name, r)).normal(0.0, RUN_SD, len(entries))
        out[r] = (latent + noise > 0).astype(np.int8)
    return out


def _read(path: Path) -> list[dict]:
    return [json.loads(x) for x in lzma.decompress(path.read_bytes()).decode().splitlines()]


def main(out: Path = HERE / "runs") -> None:
    """Write every run's files, xz-compressed, under ``out``."""
    entries = _read(HERE / "BFCL_v4_multi_turn_base.json.xz")
    answers = {
        r["id"]: r["ground_truth"]
        for r in _read(HERE / "possible_answer" / "BFCL_v4_multi_turn_base.json.xz")
    }
    with tempfile.TemporaryDirectory() as tmp:
        for name, ability, covered in CONFIGURATIONS:
            passed = simulate(entries, name, ability, covered)
            for r in range(RUNS):
                root = Path(tmp) / name / f"run{r + 1}"
                score, result = write_run(root, name, entries, answers, passed[r], r)
                for path in (score, result) if r == 0 else (score,):
                    dest = out / path.relative_to(tmp)
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    dest.with_name(dest.name + ".xz").write_bytes(
                        lzma.compress(path.read_bytes(), preset=9)
                    )
            print(name, [round(float(x), 3) for x in passed.mean(axis=1)])


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "runs")
