"""The files a workspace is made of: checked against its test set, uploads kept apart.

Every file added to a workspace must hold exactly the samples of the workspace's test set
(:func:`reference`, :func:`check_ids`); an uploaded file waits outside the workspace until it is
accepted (:func:`stage_upload`, :func:`adopt`), so a refused file leaves nothing behind.
:mod:`gemviz.workspace.create` (splitters, whole workspaces) and :mod:`gemviz.workspace.models`
(models) build on these.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

from gemviz.data.fields import ID
from gemviz.data.ids import align, sample_ids
from gemviz.data.loaders import load_labeled
from gemviz.data.paths import cache_dir
from gemviz.data.read import read_records
from gemviz.workspace.entries import store_upload
from gemviz.workspace.store import Workspace

# -- the reference: the workspace's test set --------------------------------------------------


def reference(ws: Workspace) -> tuple[list[str], str] | None:
    """The sample ids every file must match and the name of the file they come from.

    The workspace's test file when it has one, else its first splitter's labeled file, else
    None (the first file added becomes the reference).
    """
    if ws.test and Path(ws.test).is_file():
        return sample_ids(read_records(ws.test), ws.test), ws.test
    if ws.splitters:
        first = ws.splitters[0].labeled
        return load_labeled(first)[ID].tolist(), first
    return None


def check_ids(ids: Sequence[str], ref: tuple[list[str], str] | None, file: str) -> None:
    """Refuse ``file`` unless its sample ids are the reference's (any order).

    Raises:
        GemvizError: Counts missing on each side and a few examples of each.
    """
    if ref is not None:
        align(ref[0], list(ids), f"the workspace's test set ({ref[1]})", file)


# -- uploads ----------------------------------------------------------------------------------


def stage_upload(filename: str, data: bytes | BinaryIO) -> Path:
    """Keep an uploaded file outside any workspace until it has been checked.

    Returns:
        Its path under ``<cache>/uploads/<hash>/<name>``; :func:`adopt` moves it into the
        workspace once it is accepted, so a refused upload leaves nothing in the workspace.
    """
    return store_upload(cache_dir("uploads"), filename, data)


def adopt(ws: Workspace, path: str | None) -> str | None:
    """Move a staged upload into the workspace folder (other paths are returned as they are)."""
    if not path:
        return path
    src = Path(path).resolve()
    staging = cache_dir("uploads").resolve()
    if staging not in src.parents:
        return path
    dest = ws.folder / "uploads" / src.relative_to(staging)
    if src.is_file():  # a file named twice (test set and test scores) moves once
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(src, dest)
    return str(dest)
