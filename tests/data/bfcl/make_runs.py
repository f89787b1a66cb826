"""Write the simulated evaluation runs under ``runs/`` (run once; the outputs are committed).

Three configurations x five runs, each run a score file in the layout and format BFCL's
evaluator writes (``gemviz.demo.bfcl_runs``), xz-compressed:
``runs/<config>/run<k>/score/<config>/multi_turn/BFCL_v4_multi_turn_base_score.json.xz``.
Run 1 of each configuration also keeps its result file (``result/`` beside ``score/``), so
both ways of knowing the passed entries are exercised: from the result file, or from the
test file.

    python tests/data/bfcl/make_runs.py
"""

from __future__ import annotations

import json
import lzma
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))

from gemviz.demo.bfcl_runs import CONFIGURATIONS, simulate, write_run  # noqa: E402

RUNS = 5


def _read(path: Path) -> list[dict]:
    return [json.loads(x) for x in lzma.decompress(path.read_bytes()).decode().splitlines()]


def main() -> None:
    entries = _read(HERE / "BFCL_v4_multi_turn_base.json.xz")
    answers = {
        r["id"]: r["ground_truth"]
        for r in _read(HERE / "possible_answer" / "BFCL_v4_multi_turn_base.json.xz")
    }
    with tempfile.TemporaryDirectory() as tmp:
        for config in CONFIGURATIONS[:3]:
            passed = simulate(entries, config, RUNS)
            for r in range(RUNS):
                root = Path(tmp) / config.name / f"run{r + 1}"
                score, result = write_run(root, config.name, entries, answers, passed[r], r)
                for path in (score, result) if r == 0 else (score,):
                    dest = HERE / "runs" / path.relative_to(tmp)
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    dest.with_name(dest.name + ".xz").write_bytes(
                        lzma.compress(path.read_bytes(), preset=9)
                    )
            print(config.name, [round(float(x), 3) for x in passed.mean(axis=1)])


if __name__ == "__main__":
    main()
