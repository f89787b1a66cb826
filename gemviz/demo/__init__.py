"""The built-in demo workspace: generated GUI steps, two splitters and three agents.

``streamlit run app.py`` on a fresh machine opens this workspace, built once from nothing
but the packages gemviz depends on (PIL draws the screenshots, the packaged MiniLM model
scores them) and then cached under ``<cache>/workspaces/demo/``.

Public API: :func:`demo_folder`, :func:`build_demo`, :func:`ensure_demo`; the tool-calling
demo (BFCL v4, :mod:`gemviz.demo.bfcl`): :func:`ensure_bfcl_demo`.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path

try:
    import fcntl
except ImportError:  # not a POSIX system
    fcntl = None

from gemviz.data.paths import cache_dir
from gemviz.demo import build
from gemviz.demo.bfcl import bfcl_folder, build_bfcl
from gemviz.demo.build import WORKSPACE_FILE

Progress = Callable[[int, int, str], None]

SLUG = "demo"


def demo_folder() -> Path:
    """Where the demo workspace lives: ``<cache>/workspaces/demo/``."""
    return cache_dir("workspaces", SLUG)


def build_demo(
    folder: str | os.PathLike | None = None,
    progress: Progress | None = None,
    n_train: int = 600,
    n_test: int = 400,
    seed: int = 42,
) -> Path:
    """Build (or rebuild) the demo workspace from scratch.

    Args:
        folder: Target folder; :func:`demo_folder` when None. Only the demo's own files in it
            are replaced.
        progress: Called as ``progress(done, total, stage)`` while building; ``stage`` is a
            short text for a progress bar.
        n_train: Number of train steps.
        n_test: Number of test steps.
        seed: Seed of the step generator.

    Returns:
        The workspace folder (holding ``workspace.json``).

    Raises:
        GemvizError: A stage failed (scoring, partitioning, matching).
        ValueError: ``n_train`` or ``n_test`` is below 1.
    """
    target = Path(folder) if folder is not None else demo_folder()
    with _locked(target):
        return build.build(target, progress, n_train=n_train, n_test=n_test, seed=seed)


def ensure_demo(
    progress: Progress | None = None,
    folder: str | os.PathLike | None = None,
    **options,
) -> Path:
    """The demo workspace folder, building it first if it has no ``workspace.json``.

    Safe to call from several processes at once: one builds, the others wait and reuse it.

    Args:
        progress: As for :func:`build_demo`; not called when nothing is built.
        folder: As for :func:`build_demo`.
        **options: ``n_train``, ``n_test``, ``seed`` for a build.

    Returns:
        The workspace folder.
    """
    target = Path(folder) if folder is not None else demo_folder()
    if (target / WORKSPACE_FILE).exists():
        return target
    with _locked(target):
        # Another process may have finished the build while this one waited for the lock.
        if not (target / WORKSPACE_FILE).exists():
            build.build(target, progress, **options)
    return target


def ensure_bfcl_demo(
    progress: Progress | None = None,
    folder: str | os.PathLike | None = None,
    force: bool = False,
) -> Path:
    """The tool-calling demo workspace folder, building it first when needed.

    Args:
        progress: Called as ``progress(done, total, stage)`` while building.
        folder: Target folder; ``<cache>/workspaces/demo-bfcl/`` when None.
        force: Rebuild even when it exists.

    Returns:
        The workspace folder.
    """
    target = Path(folder) if folder is not None else bfcl_folder()
    if not force and (target / "workspace.json").exists():
        return target
    with _locked(target):
        if force or not (target / "workspace.json").exists():
            build_bfcl(target, progress)
    return target


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``folder`` (no-op where ``fcntl`` is missing)."""
    folder.mkdir(parents=True, exist_ok=True)
    if fcntl is None:  # Windows: builds are rare enough to go unlocked
        yield
        return
    with open(folder / ".build.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
