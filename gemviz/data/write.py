"""Writing output files safely.

Every output is written to a temporary file in the destination folder and renamed over the
destination, so a reader never sees a half-written file, whatever happens to the writing
process. Record files are written in the format their suffix names (JSON array by default,
JSON lines, CSV or parquet), the formats :mod:`gemviz.data.read` reads.
"""

from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from gemviz.data.errors import GemvizError


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it over ``path`` on success.

    On an exception the temporary file is removed and ``path`` is left as it was. The
    temporary file is fsynced before the rename and the folder after it, so a crash leaves
    either the old file or the complete new one. A symlink at ``path`` is written through
    (its target is replaced, the link stays); a folder or special file there (FIFO, device
    such as ``/dev/null``, socket) is refused, never replaced.

    Args:
        path: The final destination. Its folder is created if missing.
        suffix: Suffix for the temporary file (defaults to that of ``path``, which keeps
            libraries that pick a format from the name happy).

    Raises:
        GemvizError: ``path`` is a folder or a special file, or its folder cannot be written.
    """
    dest = Path(path)
    if dest.is_symlink():
        dest = Path(os.path.realpath(dest))
    if dest.exists() and not dest.is_file():
        raise GemvizError(
            "is a folder or special file; gemviz writes only regular files", file=str(path)
        )
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(
            prefix=f".{dest.name[:80]}.",
            suffix=(suffix if suffix is not None else dest.suffix) + ".tmp",
            dir=dest.parent,
        )
    except OSError as exc:
        raise GemvizError(
            f"cannot write in the folder '{dest.parent}' ({exc.strerror or exc}); choose a "
            "folder you can write to (for the cache: set GEMVIZ_CACHE)",
            file=str(path),
        ) from None
    os.close(fd)
    tmp_path = Path(tmp)
    # mkstemp makes the file private (0600); give the result the permissions a plain open()
    # would have, so outputs are as readable as any other file the user writes.
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp_path, 0o666 & ~umask)
    try:
        yield tmp_path
        _fsync(tmp_path)
        os.replace(tmp_path, dest)
    except BaseException as exc:
        tmp_path.unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.errno in _RESOURCE_ERRORS:
            raise GemvizError(
                f"{exc.strerror or exc} while writing this output; nothing was left half "
                "written (the old file, if any, is as it was); free space or choose another "
                "place and run again",
                file=str(path),
            ) from None
        raise
    _fsync(dest.parent)


# The machine, not the input: a full disk, a quota, a file too large, a read-only mount, I/O.
_RESOURCE_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EIO}


def _fsync(path: Path) -> None:
    """Flush ``path`` (a file, or a folder's entries) to disk; best effort where unsupported."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems cannot fsync a folder
    finally:
        os.close(fd)


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` to ``path`` atomically (temp file + rename)."""
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    return Path(path)


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temp file + rename)."""
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    return Path(path)


def write_json_atomic(path: str | os.PathLike, obj: Any, indent: int | None = 1) -> Path:
    """Write ``obj`` as JSON to ``path`` atomically; NaN and infinities are refused."""
    text = json.dumps(
        obj, ensure_ascii=False, indent=indent, allow_nan=False, default=_json_default
    )
    return write_text_atomic(path, text + "\n")


def write_records(path: str | os.PathLike, records: list[dict[str, Any]]) -> Path:
    """Write records in the format given by the suffix of ``path`` (JSON array by default).

    In JSON and JSON lines, NaN and infinite values (which JSON cannot hold) become null.
    """
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in (".csv", ".parquet", ".pq"):
        # JSON has no NaN or infinity; an input may carry them in fields gemviz passes through
        # (Python's reader accepts them): they are written as null.
        records = [_finite_only(r) for r in records]
    if suffix in (".jsonl", ".ndjson"):
        lines = [
            json.dumps(r, ensure_ascii=False, allow_nan=False, default=_json_default)
            for r in records
        ]
        return write_text_atomic(p, "\n".join(lines) + "\n")
    if suffix in (".csv", ".parquet", ".pq"):
        frame = pd.DataFrame.from_records(records)
        if suffix != ".csv":
            _check_parquet_columns(frame, p)
        with atomic_path(p) as tmp:
            if suffix == ".csv":
                frame.to_csv(tmp, index=False)
            else:
                frame.to_parquet(tmp, index=False)
        return p
    return write_json_atomic(p, records)


def _check_parquet_columns(frame: Any, path: Path) -> None:
    """Refuse, before writing, a field parquet cannot store: numbers and text mixed.

    Parquet keeps one type per column; JSON and CSV outputs keep such a field as it is.

    Raises:
        GemvizError: Naming the field and the types found in it.
    """
    for column in frame.columns:
        if frame[column].dtype != object:
            continue
        kinds = {
            "number"
            if isinstance(v, (int, float)) and not isinstance(v, bool)
            else type(v).__name__
            for v in frame[column]
            if v is not None and not (isinstance(v, float) and math.isnan(v))
        }
        if "str" in kinds and len(kinds) > 1:
            raise GemvizError(
                f"the field mixes {' and '.join(sorted(kinds))} values, which a parquet column "
                "cannot hold; write .json, .jsonl or .csv instead",
                file=str(path),
                field=str(column),
            )


def _finite_only(value: Any) -> Any:
    """``value`` with every NaN or infinite float (at any depth) replaced by None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite_only(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite_only(v) for v in value]
    return value


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")
