"""Tally of the bad-input suite (not a test): how every case ends, by class.

Runs ``tests/test_bad_input.py`` and ``tests/test_bad_input_new_surfaces.py`` (BFCL files,
runs, names, slides, URLs, lost edits) with ``GEMVIZ_TALLY`` set, so each case records its class and
outcome, and prints the Markdown table of the hardening report: per class the cases that end
in a clear one-line error (exit 2), a documented success, a traceback, a hang, a silent wrong
result (a success whose answer a check finds wrong), or with an input changed (the last four
must be 0; the suite fails otherwise).

    python bench/bad_input.py            # the table
    python bench/bad_input.py --cases    # and every case with its outcome
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUTCOMES = [
    ("error", "clear error (exit 2, one line)"),
    ("ok", "documented success"),
    ("traceback", "traceback"),
    ("hang", "hang"),
    ("silent wrong result", "silent wrong result"),
    ("inputs changed", "inputs changed"),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", action="store_true", help="also list every case")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tally = Path(tmp) / "tally.jsonl"
        env = {**os.environ, "GEMVIZ_TALLY": str(tally)}
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                "tests/test_bad_input.py",
                "tests/test_bad_input_new_surfaces.py",
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        rows = [json.loads(line) for line in tally.read_text().splitlines()]
    print(proc.stdout.strip().splitlines()[-1])
    by: dict[str, collections.Counter] = {}
    for row in rows:
        by.setdefault(row["class"], collections.Counter())[row["outcome"]] += 1
    total = collections.Counter(row["outcome"] for row in rows)
    print("\n| class | cases | " + " | ".join(label for _, label in OUTCOMES) + " |")
    print("|---|---:|" + "---:|" * len(OUTCOMES))
    for cls, counts in by.items():
        cells = " | ".join(str(counts[key]) for key, _ in OUTCOMES)
        print(f"| {cls} | {sum(counts.values())} | {cells} |")
    cells = " | ".join(f"**{total[key]}**" for key, _ in OUTCOMES)
    print(f"| **all** | **{len(rows)}** | {cells} |")
    other = {k: v for k, v in total.items() if k not in dict(OUTCOMES)}
    if other:
        print(f"\nother outcomes: {other}")
    if args.cases:
        print()
        for row in rows:
            print(f"- {row['class']}: {row['case']} -> {row['outcome']}")
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main())
