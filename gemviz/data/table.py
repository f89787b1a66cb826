"""Record files as DataFrames, read at the file format's speed, with the record reader's checks.

:func:`read_table` reads parquet through pyarrow, JSON through orjson and CSV through pandas,
for files that pass :func:`gemviz.data.io.read_records`' checks in bulk (the bracket depth is
counted over the bytes in blocks). Any file that does not, or that only the record reader
accepts (JSON with ``NaN``, integers of thousands of digits, lone surrogate escapes), is
handed to :func:`~gemviz.data.io.read_records`, so bad input ends in the same one-line error
either way. :func:`peek_fields` reads only a file's start to list its fields.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Any

from gemviz.data.errors import GemvizError
from gemviz.data.inputs import MAX_JSON_DEPTH, check_input, read_bytes, read_text
from gemviz.data.io import RECORD_SUFFIXES, read_records


def read_table(path: str | os.PathLike):
    """Read a record file into a DataFrame, column by column where the format allows.

    Args:
        path: As for :func:`read_records`.

    Returns:
        A pandas DataFrame, one row per record in file order, one column per field (in order
        of first appearance). A field a record lacks is missing (NaN/None) in its row.

    Raises:
        GemvizError: As for :func:`read_records` (the same message for the same file).
    """
    import pandas as pd

    p = Path(path)
    frame = _fast_table(p)
    if frame is None:
        frame = pd.DataFrame.from_records(read_records(p))
    return frame


def _fast_table(p: Path):
    """The file as a DataFrame, or None when it needs :func:`read_records` (to be checked)."""
    import pandas as pd

    suffix = p.suffix.lower()
    if suffix not in RECORD_SUFFIXES:
        return None
    if suffix in (".parquet", ".pq"):
        try:
            frame = pd.read_parquet(check_input(p, "record file"))
        except GemvizError:
            raise
        except Exception as exc:
            if isinstance(exc, MemoryError):
                raise
            return None  # read_records words why
        return frame if len(frame) else None
    if suffix == ".csv":
        return _fast_csv(p)
    data = read_bytes(p, "record file")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if not _shallow(data):
        return None  # too deep, or brackets unbalanced: the exact check words it
    records = _fast_json(data, lines=suffix in (".jsonl", ".ndjson"))
    if not records or set(map(type, records)) != {dict}:
        return None
    return pd.DataFrame(records)


def _fast_csv(p: Path):
    # CSV is decoded and parsed as read_records does; only the list of dicts is skipped.
    import io

    import pandas as pd

    text = read_text(p, "record file")
    if not text.strip():
        return None
    try:
        header = next(csv.reader(io.StringIO(text)), [])
    except csv.Error:
        return None
    if len(set(header)) != len(header):
        return None  # pandas would rename a repeated column; read_records refuses it
    try:
        frame = pd.read_csv(io.StringIO(text), keep_default_na=False, na_values=[""])
    except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError, OverflowError, csv.Error):
        return None
    return frame if len(frame) else None


def _shallow(data: bytes, chunk: int = 1 << 24) -> bool:
    """True when every bracket, strings included, balances and nests at most MAX_JSON_DEPTH.

    That is what a usual record file gives, and it proves the file is not too deep. The scan
    runs over the bytes in blocks, so it needs a few megabytes whatever the file's size.
    """
    import numpy as np

    codes = np.frombuffer(data, dtype=np.uint8)
    depth = 0
    for start in range(0, codes.size, chunk):
        block = codes[start : start + chunk] & 0xDF  # folds { } onto [ ]
        where = np.flatnonzero((block == 0x5B) | (block == 0x5D))
        if not where.size:
            continue
        steps = np.where(block[where] == 0x5B, 1, -1)
        running = depth + np.cumsum(steps)
        if running.min() < 0 or running.max() > MAX_JSON_DEPTH:
            return False
        depth = int(running[-1])
    return depth == 0


def _fast_json(data: bytes, lines: bool) -> list[Any] | None:
    """Records parsed by orjson, or None where the standard reader must decide."""
    try:
        import orjson
    except ImportError:
        return None
    stripped = data.lstrip()
    try:
        if not lines and stripped.startswith(b"["):
            records = orjson.loads(data)
            return records if isinstance(records, list) else None
        if not lines and stripped.startswith(b"{"):
            try:
                whole = orjson.loads(data)
            except orjson.JSONDecodeError:
                whole = None  # JSON lines under a .json name
            if isinstance(whole, dict):
                for key in ("records", "data", "samples"):
                    if isinstance(whole.get(key), list):
                        return whole[key]
                return None
        return [orjson.loads(line) for line in data.splitlines() if line.strip()]
    except orjson.JSONDecodeError:
        return None


def peek_fields(path: str | os.PathLike, limit: int = 50, head: int = 1 << 20) -> set[str]:
    """The fields of a record file's first ``limit`` records, reading only its start.

    Parquet gives its schema; CSV its header; JSON and JSON lines the records that fit in the
    first ``head`` bytes (at least one). A file whose start gives no complete record is read
    whole.

    Raises:
        GemvizError: As for :func:`read_records`, when the file has to be read whole.
    """
    p = check_input(path, "record file")
    suffix = p.suffix.lower()
    fields: set[str] | None = None
    try:
        if suffix in (".parquet", ".pq"):
            import pyarrow.parquet as pq

            fields = set(pq.read_schema(p).names)
        else:
            with open(p, "rb") as fh:
                start = fh.read(head)
            text = start.decode("utf-8-sig", errors="ignore")
            if suffix == ".csv":
                rows = text.splitlines()
                fields = set(next(csv.reader(rows[:1]), [])) if len(rows) > 1 else None
            else:
                fields = _peek_json(text, limit)
    except (OSError, ValueError, csv.Error):
        fields = None
    if not fields:
        fields = {k for r in read_records(p)[:limit] for k in r}
    return fields


def _peek_json(text: str, limit: int) -> set[str] | None:
    """Keys of the complete JSON objects at the start of ``text`` (an array or JSON lines)."""
    decoder = json.JSONDecoder()
    stripped = text.lstrip()
    pos = len(text) - len(stripped) + (1 if stripped.startswith("[") else 0)
    fields: set[str] = set()
    found = 0
    while found < limit:
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
        try:
            value, pos = decoder.raw_decode(text, pos)
        except ValueError:
            break  # the end of what was read, or not JSON: the whole read decides
        if not isinstance(value, dict):
            return None
        if not found and any(
            isinstance(value.get(k), list) for k in ("records", "data", "samples")
        ):
            return None  # records wrapped in an object: read_records unwraps them
        fields.update(value)
        found += 1
    return fields or None
