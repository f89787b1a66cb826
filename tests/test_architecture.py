"""ARCHITECTURE.md's module map matches the package: every module named, none that is gone.

The map is one table per folder whose first column is a module's path under ``gemviz/``
(```data/errors.py```). Names the text points at as ``module.NAME`` (``data/fields.OTHER_METRICS``,
``app.PAGES``) must still be defined there, so "where to add" cannot point at a moved registry.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "gemviz"
MAP = ROOT / "ARCHITECTURE.md"

_ROW = re.compile(r"^\|\s*`([\w/]+\.py)`\s*\|(.*)\|\s*$")
_FOLDER = re.compile(r"^### `([\w/]+)/`")
# `data/fields.OTHER_METRICS`, `splitters/__init__.SPLITTERS`, `app.PAGES`
_NAME_REF = re.compile(r"`((?:[a-z_]+/)*[a-z_]+)\.([A-Za-z_]\w*)`")
# any path to a file, in the map or the prose: `gemviz/data/io.py`, `data/safety.py`, `app.py`
_PATH_REF = re.compile(r"`((?:[a-z_]+/)*[a-z_0-9]+\.py)`")


def _text() -> str:
    return MAP.read_text("utf-8")


def _modules() -> set[str]:
    return {p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*.py")}


def _rows() -> list[tuple[str, str, str | None]]:
    """(module, owns, folder heading it sits under) for each row of the module map."""
    rows, folder = [], None
    for line in _text().splitlines():
        heading = _FOLDER.match(line)
        if heading:
            folder = heading.group(1)
        elif line.startswith("### "):
            folder = None
        row = _ROW.match(line)
        if row:
            rows.append((row.group(1), row.group(2).strip(), folder))
    return rows


def _top_level_names(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.parse(path.read_text("utf-8")).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.ImportFrom | ast.Import):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names


def test_the_map_names_every_module():
    mapped = {module for module, _, _ in _rows()}
    missing = sorted(_modules() - mapped)
    assert not missing, f"modules missing from ARCHITECTURE.md's module map: {missing}"


def test_the_map_names_no_module_that_is_gone():
    gone = sorted({module for module, _, _ in _rows()} - _modules())
    assert not gone, f"ARCHITECTURE.md maps modules that do not exist: {gone}"


def test_each_module_has_one_row_saying_what_it_owns():
    rows = _rows()
    modules = [module for module, _, _ in rows]
    assert len(modules) == len(set(modules)), "a module has two rows"
    assert all(len(owns) >= 10 for _, owns, _ in rows), "a row says nothing"


def test_each_row_sits_under_its_folder():
    for module, _, folder in _rows():
        expected = module.split("/", 1)[0] if "/" in module else "gemviz"
        if folder is not None and folder.startswith("gemviz"):
            folder = "gemviz"
        assert folder == expected, f"{module} is listed under {folder}/"


def test_every_folder_is_in_the_layer_diagram():
    diagram = _text().split("## Layers", 1)[1].split("## ", 1)[0]
    folders = {p.parent.relative_to(PACKAGE).parts[0] for p in PACKAGE.glob("*/__init__.py")}
    absent = sorted(f for f in folders if f"{f}/" not in diagram)
    assert not absent, f"folders missing from the layer diagram: {absent}"


def test_paths_in_the_text_exist():
    stale = []
    for path in set(_PATH_REF.findall(_text())):
        # relative to the package (`data/io.py`) or to the repository (`tests/test_pages.py`)
        if not (PACKAGE / path).exists() and not (ROOT / path).exists():
            stale.append(path)
    assert not stale, f"ARCHITECTURE.md names files that do not exist: {sorted(stale)}"


def test_names_the_text_points_at_are_defined_there():
    refs = set(_NAME_REF.findall(_text()))
    assert any(name == "OTHER_METRICS" for _, name in refs), "no answer to where a metric goes"
    stale = []
    for module, name in sorted(refs):
        if name == "py" or ("/" not in module and module != "app"):
            continue  # a file name, or another library's name (`st.dataframe`)
        path = ROOT / f"{module}.py" if module == "app" else PACKAGE / f"{module}.py"
        if not path.exists() or name not in _top_level_names(path):
            stale.append(f"{module}.{name}")
    assert not stale, f"ARCHITECTURE.md points at names that are not there: {stale}"


@pytest.mark.parametrize(
    "thing",
    [
        "A splitter",
        "An embedder",
        "A parser",
        "A rule set",
        "A metric",
        "A page",
        "A command",
        "An analysis",
        "A chart",
        "A slide",
    ],
)
def test_where_to_add_answers(thing):
    where = _text().split("## Where to add", 1)[1]
    assert f"- **{thing}**" in where
