"""The one file lock: runs that work on the same folder take turns.

:func:`file_lock` holds an advisory ``flock`` on a lock file while a block runs: exclusive by
default, shared for processes that may work side by side (data-parallel ranks), released when
the block ends or the process dies. Where ``fcntl`` is missing (Windows) the block runs
without coordination.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path

try:
    import fcntl
except ImportError:  # not a POSIX system: runs are not coordinated
    fcntl = None  # type: ignore[assignment]


@contextlib.contextmanager
def file_lock(
    path: str | os.PathLike,
    shared: bool = False,
    on_wait: Callable[[], None] | None = None,
) -> Iterator[None]:
    """Hold a lock on the file ``path`` (it and its folder created when missing) while the
    block runs.

    Args:
        path: The lock file.
        shared: Take the lock shared instead of exclusive.
        on_wait: Called once when another process holds the lock and this one has to wait
            (e.g. to say so).
    """
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    if fcntl is None:
        yield
        return
    with open(path, "a+") as fh:
        mode = fcntl.LOCK_SH if shared else fcntl.LOCK_EX
        try:
            fcntl.flock(fh, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait is not None:
                on_wait()
            fcntl.flock(fh, mode)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
