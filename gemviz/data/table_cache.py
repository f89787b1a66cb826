"""A derived columnar copy of a JSON record file read as a table: the file is parsed once.

:func:`cached_table` gives what parsing gives, from a copy in Arrow's file format under the
cache folder (``tables/``) when the copy was made from the same file: the same absolute
path, size and modification time (nanoseconds), and the same versions of this format, pandas
and pyarrow. A missing, stale or unreadable copy is made again from the parse and written
atomically; the input is only ever read. A copy is made for files of at least
:data:`MIN_BYTES` whose table Arrow holds exactly (checked by reading it back before it is
kept): text, numbers and booleans; a table with a column of Python objects is not copied.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from gemviz.data.errors import GemvizError
from gemviz.data.paths import cache_dir
from gemviz.data.write import atomic_path

FOLDER = "tables"
#: Smaller files parse in well under a second; they are not copied.
MIN_BYTES = 1 << 20
_FORMAT = 1
_META = b"gemviz"
_TEXT = pd.StringDtype("pyarrow", na_value=np.nan)
_TYPES = {pa.string(): _TEXT, pa.large_string(): _TEXT}


def cached_table(path: Path, parse: Callable[[], pd.DataFrame]) -> pd.DataFrame:
    """``parse()``, or the same table read back from its copy (see the module docstring)."""
    key = _key(path)
    entry = _entry(path) if key is not None else None
    if entry is None:
        return parse()
    frame = _read(entry, key)
    if frame is None:
        frame = parse()
        _write(entry, key, frame)
    return frame


def _key(path: Path) -> dict | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    if stat.st_size < MIN_BYTES:
        return None
    return {
        "path": str(Path(path).resolve()),
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
        "format": _FORMAT,
        "pandas": pd.__version__,
        "pyarrow": pa.__version__,
    }


def _entry(path: Path) -> Path | None:
    try:
        folder = cache_dir(FOLDER)
    except GemvizError:
        return None  # no cache folder: every read parses
    name = hashlib.sha256(str(Path(path).resolve()).encode("utf-8", "surrogatepass"))
    return folder / f"{name.hexdigest()[:40]}.arrow"


def _frame(table: pa.Table) -> pd.DataFrame:
    return table.to_pandas(types_mapper=_TYPES.get)


def _read(entry: Path, key: dict) -> pd.DataFrame | None:
    """The copy's table when it was made from the file as it is now; None otherwise."""
    if not entry.is_file():
        return None
    try:
        with pa.OSFile(str(entry)) as source:
            table = pa.ipc.open_file(source).read_all()
        if json.loads((table.schema.metadata or {}).get(_META, b"null")) != key:
            return None  # stale: the file changed, or another version made the copy
        return _frame(table.replace_schema_metadata(_pandas_meta(table)))
    except (OSError, ValueError, pa.ArrowException):
        return None  # damaged or partial: made again


def _pandas_meta(table: pa.Table) -> dict:
    return {k: v for k, v in (table.schema.metadata or {}).items() if k != _META}


def _write(entry: Path, key: dict, frame: pd.DataFrame) -> None:
    """Keep a copy of ``frame`` when Arrow gives it back exactly; never fail the read."""
    if any(frame[c].dtype == object for c in frame.columns) or not frame.columns.is_unique:
        return
    try:
        table = pa.Table.from_pandas(frame, preserve_index=False)
        if not _same(frame, _frame(table)):
            return
        meta = {**(table.schema.metadata or {}), _META: json.dumps(key).encode()}
        table = table.replace_schema_metadata(meta)
        with atomic_path(entry) as tmp, pa.OSFile(str(tmp), "wb") as sink:
            options = pa.ipc.IpcWriteOptions(compression="zstd")
            with pa.ipc.new_file(sink, table.schema, options=options) as writer:
                writer.write_table(table)
    except (OSError, ValueError, TypeError, GemvizError, pa.ArrowException):
        return  # no copy: the next read parses again


def _same(frame: pd.DataFrame, back: pd.DataFrame) -> bool:
    return (
        list(back.columns) == list(frame.columns)
        and list(back.dtypes) == list(frame.dtypes)
        and back.index.equals(frame.index)
        and back.equals(frame)
    )
