"""Check: two checkouts write the same report, deck and tables for one workspace.

Speed work on the report must not change what it says. This runs ``python -m gemviz report
--out --slides`` from this checkout and from another one (e.g. ``git worktree add /tmp/old
COMMIT``) on the same workspace, and compares:

- the HTML, byte for byte, once the time it was written and plotly's random element ids are
  blanked; where the bytes differ, the text with every number taken out must be the same and
  the numbers (decimals and figures' binary arrays) equal to 1e-12 (relative; absolute
  below 1);
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
import base64
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


_NUMBER = re.compile(r"-?\d+\.\d+(?:e[-+]?\d+)?")
_ARRAY = re.compile(r'"dtype":"(\w+)","bdata":"([^"]+)"')


def _html_numbers(text: str) -> tuple[str, list[np.ndarray]]:
    """The page with every decimal number and every binary array of a figure taken out, and
    those numbers (one array per figure array, one for the decimals in the text)."""
    arrays = []

    def array(match: re.Match) -> str:
        data = base64.b64decode(match.group(2).replace("\\u002f", "/"))
        arrays.append(np.frombuffer(data, dtype=match.group(1)).astype(float))
        return f'"dtype":"{match.group(1)}","bdata":"#"'

    text = _ARRAY.sub(array, text)
    decimals = [float(x) for x in _NUMBER.findall(text)]
    return _NUMBER.sub("#", text), [*arrays, np.array(decimals)]


def _html_differs(ours: str, theirs: str) -> str | None:
    """None when the pages are the same, or the same but for numbers equal to 1e-12 (a
    figure's curve drawn from parameters that agree to rounding); else what differs."""
    if ours == theirs:
        return None
    (text_a, nums_a), (text_b, nums_b) = _html_numbers(ours), _html_numbers(theirs)
    if text_a != text_b or len(nums_a) != len(nums_b):
        return "text differs"
    worst = 0.0
    for a, b in zip(nums_a, nums_b, strict=True):
        if a.shape != b.shape:
            return "a figure's data differs in length"
        if a.size:
            worst = max(worst, float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1.0))))
    return None if worst <= 1e-12 else f"numbers differ by up to {worst:.1e}"


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
    ours_html, theirs_html = _html(folder / "ours.html"), _html(folder / "theirs.html")
    html_problem = _html_differs(ours_html, theirs_html)
    same_html = html_problem is None
    exact = ours_html == theirs_html
    print(
        "HTML: "
        + ("same" if exact else "same text, numbers equal to 1e-12" if same_html else "")
        + ("" if same_html else f"DIFFERENT ({html_problem})")
    )
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
