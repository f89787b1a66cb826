"""The files a workspace is made of: checked against its test set, uploads kept apart.

Every file added to a workspace must hold exactly the samples of the workspace's test set
(:func:`reference`, :func:`check_ids`); an uploaded file waits outside the workspace until it is
accepted (:func:`stage_upload`, :func:`adopt`), so a refused file leaves nothing behind.
:mod:`gemviz.workspace.create` (splitters, whole workspaces) and :mod:`gemviz.workspace.models`
(models) build on these. A submission's files are all checked before any of them is used
(:class:`Checks`), and every refused file is named in one message.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from gemviz.data.errors import GemvizBatchError, GemvizError
from gemviz.data.fields import ID
from gemviz.data.ids import align, sample_ids
from gemviz.data.loaders import load_labeled
from gemviz.data.paths import cache_dir
from gemviz.data.read import read_records
from gemviz.data.write import write_bytes_atomic
from gemviz.workspace.entries import store_upload, upload_name
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


T = TypeVar("T")


class Checks:
    """Every file of one submission checked, the refusals kept until all have been seen.

    Args:
        files: How many files the submission holds (for the summary line).
    """

    def __init__(self, files: int) -> None:
        self.files = files
        self.errors: list[GemvizError] = []

    def run(self, check: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
        """``check(*args, **kwargs)``, or None when it refused (the refusal is kept)."""
        try:
            return check(*args, **kwargs)
        except GemvizError as exc:
            self.add(exc)
            return None

    def add(self, exc: GemvizError) -> None:
        """Keep a refusal (each problem of a :class:`GemvizBatchError` on its own)."""
        self.errors.extend(exc.errors if isinstance(exc, GemvizBatchError) else [exc])

    def done(self) -> None:
        """Raise what was refused: one error as it is, several as one :class:`GemvizBatchError`.

        Raises:
            GemvizError: One file refused.
            GemvizBatchError: Several, each with its file, row and field.
        """
        if len(self.errors) == 1:
            raise self.errors[0]
        if self.errors:
            bad = len({e.file or str(e) for e in self.errors})
            raise GemvizBatchError(
                f"{bad} of {max(self.files, bad)} files refused, each listed below; nothing "
                "was written (fix them and submit again)",
                self.errors,
            )


# -- uploads ----------------------------------------------------------------------------------


def stage_upload(filename: str, data: bytes | BinaryIO) -> Path:
    """Keep an uploaded file outside any workspace until it has been checked.

    Returns:
        Its path under ``<cache>/uploads/<hash>/<name>``; :func:`adopt` moves it into the
        workspace once it is accepted, so a refused upload leaves nothing in the workspace.
    """
    return store_upload(cache_dir("uploads"), filename, data)


def stage_folder(files: Iterable[tuple[str, bytes]]) -> Path:
    """Keep an uploaded folder (each file's path inside it, and its bytes) outside any workspace.

    Each part of a path is made safe (:func:`gemviz.workspace.entries.upload_name`: no
    ``..``, no leading dot), so the folder's layout is kept but nothing lands outside it.

    Returns:
        ``<cache>/uploads/folder-<hash>/``, named by a hash of every path and its bytes;
        :func:`adopt` moves its files into a workspace once they are accepted.
    """
    items = sorted((str(name), bytes(data)) for name, data in files)
    digest = hashlib.sha256()
    for name, data in items:
        digest.update(name.encode("utf-8", "replace") + b"\0" + hashlib.sha256(data).digest())
    root = cache_dir("uploads") / f"folder-{digest.hexdigest()[:12]}"
    for name, data in items:
        parts = [upload_name(p) for p in name.replace("\\", "/").split("/") if p not in ("", ".")]
        dest = root.joinpath(*parts)
        if parts and not dest.is_file():
            dest.parent.mkdir(parents=True, exist_ok=True)
            write_bytes_atomic(dest, data)
    return root


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
