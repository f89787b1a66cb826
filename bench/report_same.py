"""Check: two checkouts write the same report, deck and tables for one workspace.

Speed work on the report must not change what it says. This runs ``python -m gemviz report
--out --slides`` from this checkout and from another one (e.g. ``git worktree add /tmp/old
COMMIT``) on the same workspace, and compares:

- the HTML, byte for byte, once the time it was written and plotly's random element ids are
  blanked;
- the decks, part by part (every slide, note, chart and picture; each chart's embedded
  workbook part by part too), leaving out only the files' creation times;
- every table the two build from the study (ID/OOD, interaction with the metric's margin and
  with 0.05, each pair's paired table per splitter, each drill-down), numbers equal to 1e-12
  and text exactly; each checkout computes its tables in a process of its own.

Usage: ``python bench/report_same.py OTHER_CHECKOUT WORKSPACE_FOLDER [--keep DIR]``; prints
one line per check and exits 1 when any differs.
"""

from __future__ import annotations

import argparse
import io
import os
import pickle
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]

# Run in each checkout's own process (its gemviz on the path): every table, pickled.
_TABLES = """
import itertools, pickle, sys
from gemviz.analysis.overlap import set_difference
from gemviz.analysis.tables import id_ood_table, interaction_table, paired_comparison
from gemviz.workspace.store import Workspace
study = Workspace.load(sys.argv[1]).study()
out = {("gap",): id_ood_table(study)}
for margin in (None, 0.05):
    out[("interaction", margin)] = interaction_table(study, margin=margin)
for (a, b), m in itertools.product(itertools.combinations(study.models, 2), study.metrics):
    for s in (None, *study.splitters):
        out[("paired", a, b, m, s)] = paired_comparison(study, a, b, m, splitter=s)
for (a, b), m in itertools.product(itertools.combinations(study.splitters, 2), study.metrics):
    out[("drill", a, b, m)] = set_difference(study, a, b, metric=m)
pickle.dump(out, open(sys.argv[2], "wb"))
"""


def _run(checkout: Path, args: list[str]) -> None:
    env = {**os.environ, "PYTHONPATH": str(checkout), "PYTHONWARNINGS": "ignore"}
    subprocess.run([sys.executable, *args], cwd=checkout, env=env, check=True)


def _html(path: Path) -> str:
    text = path.read_text("utf-8")
    text = re.sub(r"written \d{4}-\d\d-\d\d \d\d:\d\d", "written …", text)
    return re.sub(r"[0-9a-f]{8}-(?:[0-9a-f]{4}-){3}[0-9a-f]{12}", "…", text)


def _parts(data: bytes, prefix: str = "") -> dict[str, bytes]:
    out = {}
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for name in zf.namelist():
            part = zf.read(name)
            if name.endswith(".xlsx"):
                out.update(_parts(part, f"{prefix}{name}!"))
            elif not name.endswith("docProps/core.xml"):  # the file's creation time
                out[prefix + name] = part
    return out


def _tables_differ(ours: dict, theirs: dict) -> list[str]:
    if ours.keys() != theirs.keys():
        return ["the two checkouts build different tables"]
    bad = []
    for key, x in ours.items():
        y = theirs[key]
        if list(x.columns) != list(y.columns) or len(x) != len(y):
            bad.append(f"{key}: columns or rows")
            continue
        for col in x.columns:
            if pd.api.types.is_numeric_dtype(x[col]) and pd.api.types.is_numeric_dtype(y[col]):
                u, v = x[col].to_numpy(float), y[col].to_numpy(float)
                same = np.array_equal(np.isnan(u), np.isnan(v)) and bool(
                    np.all(np.abs(np.nan_to_num(u) - np.nan_to_num(v)) <= 1e-12)
                )
            else:
                same = list(map(str, x[col])) == list(map(str, y[col]))
            if not same:
                bad.append(f"{key}: {col}")
    return bad


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("other", type=Path, help="the other checkout")
    parser.add_argument("workspace", type=Path, help="the workspace folder")
    parser.add_argument("--keep", type=Path, help="write the outputs here (default: a temp dir)")
    args = parser.parse_args(argv)
    folder = args.keep or Path(tempfile.mkdtemp(prefix="report-same-"))
    folder.mkdir(parents=True, exist_ok=True)
    for tag, checkout in (("ours", ROOT), ("theirs", args.other.resolve())):
        out, deck = folder / f"{tag}.html", folder / f"{tag}.pptx"
        report = ["-m", "gemviz", "report", "--workspace", str(args.workspace)]
        _run(checkout, [*report, "--out", str(out), "--slides", str(deck)])
        _run(checkout, ["-c", _TABLES, str(args.workspace), str(folder / f"{tag}.pkl")])
    failed = 0
    same_html = _html(folder / "ours.html") == _html(folder / "theirs.html")
    print(f"HTML: {'same' if same_html else 'DIFFERENT'}")
    ours, theirs = (_parts((folder / f"{t}.pptx").read_bytes()) for t in ("ours", "theirs"))
    differ = sorted(k for k in ours.keys() | theirs.keys() if ours.get(k) != theirs.get(k))
    print(f"deck: {'same' if not differ else 'DIFFERENT in ' + ', '.join(differ)}")
    tables = [pickle.loads((folder / f"{t}.pkl").read_bytes()) for t in ("ours", "theirs")]
    bad = _tables_differ(*tables)
    print(f"tables: {len(tables[0])} compared, " + ("all equal" if not bad else "; ".join(bad)))
    failed = (not same_html) + bool(differ) + bool(bad)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
