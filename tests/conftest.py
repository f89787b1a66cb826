"""Shared fixtures: the GEM release's score files and a fresh cache folder per test.

Also the quick loop's reach: after ``python -m pytest -m "not slow"`` over the whole of
``tests/``, every module of ``gemviz/`` must have been imported by some test that ran, or
the run fails naming the modules the quick loop never reached.
"""

from __future__ import annotations

import ast
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from gemviz.workspace.store import Workspace
from tests.gem_data import extract

SEED = 42
ROOT = Path(__file__).resolve().parents[1]
# The GEM release's out-of-distribution score files (AITZ test is the ID set).
OOD_FILES = [
    "androidcontrol_inputscore.json",
    "Kairos_test_inputscore.json",
    "metagui_inputscore.json",
    "screenspot-mobile_inputscore.json",
    "screenspot-desktop_inputscore.json",
    "screenspot-web_inputscore.json",
    "omniact-desktop_inputscore.json",
    "omniact-web_inputscore.json",
]


@pytest.fixture(scope="session")
def gem_public(tmp_path_factory) -> Path:
    """A folder of the GEM release's published score files (decompressed from tests/data/)."""
    return extract(tmp_path_factory.mktemp("gem-public"))


def build_in_cache(folder: Path, build: Callable[[], Path]) -> str:
    """Run a demo builder with ``GEMVIZ_CACHE`` pointed at ``folder``; the workspace's slug.

    For module-scoped fixtures, which cannot use ``monkeypatch``: the variable is restored
    whatever happens.
    """
    old = os.environ.get("GEMVIZ_CACHE")
    os.environ["GEMVIZ_CACHE"] = str(folder)
    try:
        return Workspace.load(build()).slug
    finally:
        if old is None:
            os.environ.pop("GEMVIZ_CACHE", None)
        else:
            os.environ["GEMVIZ_CACHE"] = old


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Point gemviz's cache at a temporary folder so tests never touch cache/."""
    monkeypatch.setenv("GEMVIZ_CACHE", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="session")
def aitz_split(gem_public) -> tuple[np.ndarray, np.ndarray]:
    """AITZ test scores split by task (seeded): half the tasks to fit on, the rest held out.

    The GEM release has no AITZ train scores; whole tasks go to one side because every step
    of a task has the same score.
    """
    records = json.loads((gem_public / "AITZ_test_inputscore.json").read_text())
    tasks = list(dict.fromkeys(r["task"] for r in records))
    perm = np.random.default_rng(SEED).permutation(len(tasks))
    train_tasks = {tasks[i] for i in perm[: len(tasks) // 2]}
    train = np.array([r["input_score"] for r in records if r["task"] in train_tasks])
    held = np.array([r["input_score"] for r in records if r["task"] not in train_tasks])
    return train, held


QUICK = "not slow"
# Set when collection ends: the test files with a test that will run, and the modules
# imported by then (collection imports every test file, its slow tests' included).
_quick_files: set[Path] = set()
_imported_at_collection: set[str] = set()


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _package_modules() -> dict[str, Path]:
    """Every module of ``gemviz/`` by its import name (``gemviz.data.errors``, ``gemviz.stats``)."""
    return {_module_name(p): p for p in (ROOT / "gemviz").rglob("*.py")}


def _imports_of(path: Path, modules: dict[str, Path]) -> set[str]:
    """The gemviz modules a file imports in its module body (packages on the way included)."""
    found: set[str] = set()
    for node in ast.parse(path.read_text("utf-8")).body:
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
    out = set()
    for name in found:
        parts = name.split(".")
        out.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
    return out & set(modules)


def _reached_statically(files: set[Path], modules: dict[str, Path]) -> set[str]:
    """The gemviz modules the files import, and everything those import in turn."""
    todo = set().union(*(_imports_of(f, modules) for f in files)) if files else set()
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        seen.add(name)
        todo |= _imports_of(modules[name], modules) - seen
    return seen


def _whole_quick_loop(session: pytest.Session) -> bool:
    """The run was ``-m "not slow"`` over all of tests/ (no -k, no file picked), and passed."""
    config = session.config
    here = config.invocation_params.dir
    picked = [a for a in config.args if (here / a.split("::")[0]).resolve() != ROOT / "tests"]
    return (
        config.option.markexpr.strip() == QUICK
        and not config.option.keyword
        and not config.option.collectonly
        and not picked
        and session.testsfailed == 0
        and not session.shouldstop
    )


def pytest_collection_finish(session: pytest.Session) -> None:
    _quick_files.update(Path(str(item.path)) for item in session.items)
    _imported_at_collection.update(sys.modules)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail a whole quick loop that reached no module of gemviz/ from one of its tests.

    A module is reached when a test file with a quick test imports it (or imports a module
    that imports it), or when a quick test's run imported it (a command the CLI loads by name).
    """
    if exitstatus != 0 or not _whole_quick_loop(session):
        return
    modules = _package_modules()
    reached = _reached_statically(_quick_files, modules)
    reached |= set(sys.modules) - _imported_at_collection
    unreached = sorted(set(modules) - reached)
    if unreached:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(
                "the quick loop has no test of these modules (keep one test of each outside "
                f"`slow`): {', '.join(unreached)}",
                red=True,
            )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
