"""The code base stays clean under the ruff settings in pyproject.toml."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _ruff(*args: str) -> subprocess.CompletedProcess:
    exe = shutil.which("ruff")
    cmd = [exe] if exe else [sys.executable, "-m", "ruff"]
    return subprocess.run([*cmd, *args], cwd=ROOT, capture_output=True, text=True, check=False)


@pytest.mark.parametrize("args", [("check", "."), ("format", "--check", ".")])
def test_ruff(args):
    result = _ruff(*args)
    assert result.returncode == 0, result.stdout + result.stderr


def test_imports_sit_at_the_top_except_heavy_optional_ones(tmp_path):
    # Checked with the project's settings: an import inside a function is refused, unless it is
    # one of the heavy optional libraries, which in turn may not be imported at the top.
    probe = tmp_path / "probe.py"
    probe.write_text(
        "import umap\n\n\ndef f():\n    import json\n\n    import torch\n\n"
        "    from gemviz.data import ids\n\n    return json, torch, ids\n"
    )
    result = _ruff(
        "check", "--no-cache", "--config", str(ROOT / "pyproject.toml"),
        "--select", "PLC0415,TID253", "--output-format", "concise", str(probe),
    )  # fmt: skip
    found = {
        (int(line.split(":")[1]), line.split()[1])
        for line in result.stdout.splitlines()
        if line.startswith(str(probe))
    }
    assert found == {(1, "TID253"), (5, "PLC0415"), (9, "PLC0415")}, result.stdout


def test_pictures_under_docs_stay_small():
    # Screenshots and rendered slides are read in the README; each stays under 300 KB (a
    # palette PNG keeps a slide grid legible well under that).
    large = {p.name: p.stat().st_size for p in (ROOT / "docs").glob("*.png")}
    large = {name: size for name, size in large.items() if size > 300_000}
    assert not large, large
