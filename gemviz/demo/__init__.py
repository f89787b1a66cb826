"""The built-in demo workspace: generated GUI steps, two splitters and three agents.

``streamlit run app.py`` on a fresh machine opens this workspace, built once from nothing
but the packages gemviz depends on (PIL draws the screenshots, the packaged MiniLM model
scores them) and then cached under ``<cache>/workspaces/demo/``.

Public API: :func:`demo_folder`, :func:`build_demo`, :func:`ensure_demo`; the tool-calling
demo (BFCL v4, :mod:`gemviz.demo.bfcl`): :func:`ensure_bfcl_demo`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from gemviz.data.locks import file_lock
from gemviz.data.paths import cache_dir
from gemviz.demo import build
from gemviz.demo.bfcl import bfcl_folder, build_bfcl
from gemviz.demo.build import WORKSPACE_FILE

#: The file a demo build holds locked, so that one process builds and the others wait.
BUILD_LOCK = ".build.lock"

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
    with file_lock(target / BUILD_LOCK):
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
    with file_lock(target / BUILD_LOCK):
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
    with file_lock(target / BUILD_LOCK):
        if force or not (target / "workspace.json").exists():
            build_bfcl(target, progress)
    return target
