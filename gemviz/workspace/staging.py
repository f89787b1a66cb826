"""New workspaces are built in a hidden folder and renamed into place, so none is half made.

:func:`staging_folder` makes ``<root>/.creating-<pid>-<time>/`` and removes it when the body
fails; :func:`publish` renames it to the first free name. A kill between the two leaves only
the hidden folder, which :func:`remove_stale_staging` removes once its process is gone (the
catalog never lists hidden folders).
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from gemviz.data.errors import GemvizError

STAGING_PREFIX = ".creating-"


@contextlib.contextmanager
def staging_folder(root: Path) -> Iterator[Path]:
    """A new hidden folder under ``root`` (resolved), removed if the body raises.

    Raises:
        GemvizError: ``root`` refuses a new folder.
    """
    root = root.resolve()
    staging = root / f"{STAGING_PREFIX}{os.getpid()}-{time.time_ns()}"
    try:
        staging.mkdir(parents=True)
    except OSError as exc:
        raise GemvizError(
            f"cannot make a workspace folder ({exc.strerror or exc}); set GEMVIZ_CACHE to a "
            "folder you can write to",
            file=str(root),
        ) from None
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def publish(staging: Path, base: str, finish: Callable[[Path], None]) -> Path:
    """Rename ``staging`` to ``base``, or ``base-2``, ``base-3``... whichever is free.

    Args:
        staging: The finished hidden folder.
        base: The wanted folder name.
        finish: Called with the chosen final path just before the rename (writes the
            definition that names it); called again if another process took the name first.

    Returns:
        The final folder.
    """
    root = staging.parent
    for n in itertools.count(1):
        target = root / (base if n == 1 else f"{base}-{n}")
        if target.exists() or target.is_symlink():
            continue
        finish(target)
        try:
            os.rename(staging, target)
        except OSError as exc:
            if exc.errno in (errno.EEXIST, errno.ENOTEMPTY):  # taken meanwhile: next name
                continue
            raise
        return target
    raise AssertionError("unreachable")


def remove_stale_staging(root: Path, min_age_s: float = 3600.0) -> None:
    """Remove hidden folders of workspace creates that were killed (their process is gone).

    Args:
        root: The workspaces root.
        min_age_s: A folder whose process cannot be told apart (a reused pid, another
            machine on a shared disk) is removed once it is this old.
    """
    for sub in root.glob(f"{STAGING_PREFIX}*") if root.is_dir() else []:
        try:
            pid = int(sub.name[len(STAGING_PREFIX) :].split("-")[0])
            age = time.time() - sub.stat().st_mtime
        except (ValueError, OSError):
            continue
        if pid == os.getpid():
            continue
        if not _pid_alive(pid) or age > min_age_s:
            shutil.rmtree(sub, ignore_errors=True)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True
    return True
