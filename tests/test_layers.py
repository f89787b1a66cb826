"""The backend's layers, as ARCHITECTURE.md draws them: imports point down, never around.

Every ``import`` counts, also those inside functions: an import placed in a function to dodge
a cycle is still a cycle.
"""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "gemviz"

# Lower rank = lower layer. A module may import its own subpackage and any lower rank.
RANK = {
    "data": 0,
    "stats": 1,
    "actions": 1,
    "embed": 1,
    "splitters": 1,
    "scoring": 2,
    "workspace": 3,
    "demo": 3,
    "analysis": 4,
    "figures": 5,
    "ui": 6,
    "report": 6,
    "commands": 7,
}
# gemviz/__init__.py holds only the version (below everything, importing nothing);
# gemviz/__main__.py starts the command line (above everything).
TOP = {"gemviz": -1, "__main__": 8}


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports() -> dict[str, set[str]]:
    modules = {_module(p): p for p in PACKAGE.rglob("*.py")}
    edges: dict[str, set[str]] = defaultdict(set)
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                if node.module.split(".")[0] != "gemviz":
                    continue
                for alias in node.names:
                    full = f"{node.module}.{alias.name}"
                    edges[name].add(full if full in modules else node.module)
            elif isinstance(node, ast.Import):
                edges[name].update(a.name for a in node.names if a.name.split(".")[0] == "gemviz")
            elif isinstance(node, ast.ImportFrom) and node.level:
                edges[name].add(f"<relative import in {name}>")
    return {m: edges.get(m, set()) for m in modules}


def _group(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def _rank(module: str) -> int:
    group = _group(module)
    return RANK.get(group, TOP.get(group, -1))


def test_every_subpackage_has_a_layer():
    groups = {_group(m) for m in _imports()}
    assert groups - set(RANK) - set(TOP) == set()


def test_imports_point_down():
    wrong = []
    for module, targets in _imports().items():
        for target in targets:
            assert not target.startswith("<relative"), target
            if _group(target) == _group(module):
                continue
            if _rank(target) >= _rank(module):
                wrong.append(f"{module} -> {target}")
    assert wrong == []


def test_no_import_cycle():
    edges = _imports()
    state: dict[str, int] = {}
    cycles = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges.get(node, ())):
            if nxt not in edges:
                continue
            if state.get(nxt) == 1:
                cycles.append(" -> ".join([*trail[trail.index(nxt) :], nxt]))
            elif nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = 2

    for module in sorted(edges):
        if module not in state:
            visit(module, [module])
    assert cycles == []


@pytest.mark.parametrize("folder", ["gemviz", "pages"])
def test_streamlit_only_in_the_ui_layer(folder):
    offenders = []
    for path in (ROOT / folder).rglob("*.py"):
        rel = path.relative_to(ROOT).as_posix()
        if folder == "pages" or rel.startswith("gemviz/ui/"):
            continue
        tree = ast.parse(path.read_text("utf-8"))
        for node in ast.walk(tree):
            names = (
                ([a.name for a in node.names] if isinstance(node, ast.Import) else [node.module])
                if isinstance(node, (ast.Import, ast.ImportFrom))
                else []
            )
            if any(n and n.split(".")[0] == "streamlit" for n in names):
                offenders.append(rel)
    assert offenders == []


MAX_MODULE_LINES = 480
MAX_PAGE_LINES = 200
MAX_FUNCTION_LINES = 80


def _lines(path: Path) -> int:
    return len(path.read_text("utf-8").splitlines())


def test_no_backend_module_is_too_long():
    long = {
        p.relative_to(ROOT).as_posix(): n
        for p in PACKAGE.rglob("*.py")
        if (n := _lines(p)) > MAX_MODULE_LINES
    }
    assert long == {}


def test_no_page_is_too_long():
    pages = [ROOT / "app.py", *(ROOT / "pages").glob("*.py")]
    long = {p.relative_to(ROOT).as_posix(): n for p in pages if (n := _lines(p)) > MAX_PAGE_LINES}
    assert long == {}


def _long_functions(folder: Path) -> dict[str, int]:
    """``module:function@line`` -> lines from ``def`` to the function's last line."""
    long = {}
    for path in folder.rglob("*.py"):
        tree = ast.parse(path.read_text("utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1
                if n > MAX_FUNCTION_LINES:
                    long[
                        f"{path.relative_to(folder.parent).as_posix()}:{node.name}@{node.lineno}"
                    ] = n
    return long


def test_no_function_is_too_long():
    """Long functions are split into named steps."""
    assert _long_functions(PACKAGE) == {}


def test_a_long_function_would_be_caught(tmp_path):
    pkg = tmp_path / "gemviz"
    pkg.mkdir()
    body = "".join(f"    x{i} = {i}\n" for i in range(MAX_FUNCTION_LINES))
    (pkg / "m.py").write_text(f"def ok():\n    pass\n\n\ndef f():\n{body}")
    assert _long_functions(pkg) == {"gemviz/m.py:f@5": MAX_FUNCTION_LINES + 1}


def test_the_known_cycle_would_be_caught(tmp_path, monkeypatch):
    """The cycle check sees an import hidden inside a function."""
    pkg = tmp_path / "gemviz"
    (pkg / "data").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "data" / "__init__.py").write_text("")
    (pkg / "data" / "a.py").write_text("from gemviz.data.b import f\n")
    (pkg / "data" / "b.py").write_text("def f():\n    from gemviz.data import a\n")
    this = sys.modules[__name__]
    monkeypatch.setattr(this, "ROOT", tmp_path)
    monkeypatch.setattr(this, "PACKAGE", pkg)
    with pytest.raises(AssertionError):
        test_no_import_cycle()
