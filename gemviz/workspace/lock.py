"""One writer at a time per workspace, and no save from a stale copy.

``workspace.json`` carries a ``revision``, one more at every save. :func:`save_revision`
(what :meth:`gemviz.workspace.store.Workspace.save` calls) writes only when the file's
revision is still the one its copy was read at, under the workspace's lock (the one file
lock, :mod:`gemviz.data.locks`), so two saves can never both pass the comparison and none
drops another's edit. A command that reads, edits and saves holds the lock throughout
(:func:`workspace_lock` is re-entrant within a thread), so two edits from the command line
at once run one after the other and both are kept.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from gemviz.data.errors import GemvizError
from gemviz.data.files import loads_json, read_text
from gemviz.data.locks import file_lock
from gemviz.data.write import write_json_atomic
from gemviz.workspace.entries import check_revision

#: What a save from a stale copy says.
STALE = "this workspace changed since you opened it; reload"

#: The lock file inside a workspace's folder (:func:`gemviz.data.locks.file_lock`).
LOCK_FILE = ".workspace.lock"
# (thread, folder) of the workspace locks this process holds: a nested call passes through.
_HELD: set[tuple[int, str]] = set()


@contextlib.contextmanager
def workspace_lock(folder: str | os.PathLike) -> Iterator[None]:
    """Hold the workspace's lock (waits for another holder; re-entrant within a thread).

    A folder that does not exist yet needs no lock (nothing can be read from it, and the
    lock file must not create it).
    """
    path = os.path.realpath(Path(folder))
    key = (threading.get_ident(), path)
    if key in _HELD or not os.path.isdir(path):
        yield
        return
    with file_lock(Path(path) / LOCK_FILE):
        _HELD.add(key)
        try:
            yield
        finally:
            _HELD.discard(key)


def save_revision(folder: Path, path: Path, revision: int, data: dict[str, Any]) -> Path:
    """Write ``data`` to ``path`` as revision ``revision + 1``, if the file is still at ``revision``.

    Args:
        folder: The workspace's folder (locked while comparing and writing).
        path: Its ``workspace.json``.
        revision: The revision the caller's copy was read at (0 for a file without one).
        data: The definition to write.

    Raises:
        GemvizError: The file moved on since (someone else saved): :data:`STALE`.
    """
    with workspace_lock(folder):
        on_disk = _revision_on_disk(path)
        if on_disk is not None and on_disk != revision:
            raise GemvizError(STALE, file=str(path))
        return write_json_atomic(path, {**data, "revision": revision + 1})


def _revision_on_disk(path: Path) -> int | None:
    """The revision of ``workspace.json`` as it is now (None: no file yet)."""
    try:
        raw = loads_json(read_text(path, "workspace definition"), str(path))
    except GemvizError:
        if not path.exists():
            return None
        raise
    except ValueError:
        raise GemvizError(
            "not a valid workspace definition any more; reload", file=str(path)
        ) from None
    return check_revision(raw.get("revision") if isinstance(raw, dict) else None, str(path))
