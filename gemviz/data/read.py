"""Reading a record file: a list of samples, one mapping per sample.

A *record file* is stored as a JSON array, JSON lines, CSV or parquet (chosen by the file's
suffix; ``.json`` files that hold JSON lines are recognised too). Input files are only ever
opened for reading, through :mod:`gemviz.data.files`.

:func:`read_records` gives the records as dicts, checked one by one. :func:`read_table` reads
the same files as DataFrames at the format's speed: parquet through pyarrow, JSON through
orjson and CSV through pandas, for files that pass :func:`read_records`' checks in bulk
(records of plain values are two deep; where a value is an object or a list, the bracket
depth is counted over the bytes in blocks). Any file that does not, or that only the
record reader accepts (JSON with ``NaN``, integers of thousands of digits, lone surrogate
escapes), is handed to :func:`read_records`, so bad input ends in the same one-line error
either way. :func:`peek_fields` reads only a file's start to list its fields.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from gemviz.data.errors import GemvizError
from gemviz.data.files import MAX_JSON_DEPTH, check_input, loads_json, read_bytes, read_text
from gemviz.data.table_cache import cached_table

try:
    import orjson
except ImportError:  # the standard reader then reads every JSON file
    orjson = None


RECORD_SUFFIXES = (".json", ".jsonl", ".ndjson", ".csv", ".parquet", ".pq")
_JSON_SUFFIXES = (".json", ".jsonl", ".ndjson")


def read_records(path: str | os.PathLike) -> list[dict[str, Any]]:
    """Read a record file into a list of dicts.

    Args:
        path: A ``.json`` (array or JSON lines), ``.jsonl``/``.ndjson``, ``.csv`` or
            ``.parquet`` file.

    Returns:
        The records in file order. CSV and parquet missing values become ``None``.

    Raises:
        GemvizError: The file is missing, unreadable, not parseable, empty, or not a list of
            objects. The message names the file and, where it applies, the row.
    """
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in RECORD_SUFFIXES:
        check_input(p, "record file")
        raise GemvizError(
            f"unknown file type '{suffix}'; use one of {', '.join(RECORD_SUFFIXES)}",
            file=str(p),
        )
    if suffix in (".parquet", ".pq"):
        records = _read_parquet(check_input(p, "record file"))
    else:
        text = read_text(p, "record file")
        if suffix == ".csv":
            records = _read_csv(p, text)
        else:
            records = _read_json(p, text, lines=suffix in (".jsonl", ".ndjson"))
            if _SURROGATE.search(text):
                _refuse_lone_surrogates(p, records)
    if not records:
        raise GemvizError("the file holds no records", file=str(p))
    for i, rec in enumerate(records):
        if not isinstance(rec, dict):
            raise GemvizError(
                f"expected an object with fields, found {type(rec).__name__}",
                file=str(p),
                row=i + 1,
            )
    return records


# A JSON escape of a UTF-16 surrogate: the only way a lone surrogate enters a decoded file.
_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")


def _refuse_lone_surrogates(p: Path, records: list[Any]) -> None:
    """Refuse text holding an unpaired surrogate (``"\\ud800"``): it is not a character.

    Such text cannot be written as UTF-8, shown on a page, or compared reliably.

    Raises:
        GemvizError: Naming the row and field of the first one.
    """

    def bad(value: Any) -> bool:
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return True
            return False
        if isinstance(value, dict):
            return any(bad(k) or bad(v) for k, v in value.items())
        if isinstance(value, list):
            return any(bad(v) for v in value)
        return False

    for i, rec in enumerate(records):
        fields = rec.items() if isinstance(rec, dict) else [("", rec)]
        for key, value in fields:
            if bad(key) or bad(value):
                raise GemvizError(
                    "holds an unpaired UTF-16 surrogate escape (\\ud800-\\udfff), which is not "
                    "a character; fix how the file was made",
                    file=str(p),
                    row=i + 1,
                    field=str(key).encode("utf-8", "backslashreplace").decode() or None,
                )


def _read_json(p: Path, text: str, lines: bool) -> list[Any]:
    stripped = text.lstrip()
    if not stripped:
        raise GemvizError("the file is empty", file=str(p))
    if not lines and stripped.startswith("["):
        try:
            data = loads_json(text, str(p))
        except json.JSONDecodeError as exc:
            raise GemvizError(
                f"not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}", file=str(p)
            ) from exc
        if not isinstance(data, list):
            raise GemvizError("expected a JSON array of records", file=str(p))
        return data
    if not lines and stripped.startswith("{"):
        # A single object, or JSON lines stored under a .json name.
        try:
            data = loads_json(text, str(p))
        except json.JSONDecodeError:
            data = None
        if isinstance(data, dict):
            for key in ("records", "data", "samples"):
                if isinstance(data.get(key), list):
                    return data[key]
            if "\n" not in stripped.rstrip():
                return [data]  # one line: JSON lines holding one record (a BFCL score header)
            raise GemvizError(
                "expected a JSON array of records (or an object with a 'records' list)", file=str(p)
            )
    records = []
    # Split on line feeds only: str.splitlines would also cut at U+2028 inside a string.
    for lineno, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            records.append(loads_json(line, str(p), row=len(records) + 1))
        except json.JSONDecodeError as exc:
            raise GemvizError(
                f"line {lineno} is not valid JSON ({exc.msg})", file=str(p), row=len(records) + 1
            ) from exc
    return records


def _read_csv(p: Path, text: str) -> list[dict[str, Any]]:

    if not text.strip():
        raise GemvizError("the file is empty", file=str(p))
    try:
        header = next(csv.reader(io.StringIO(text)), [])
    except csv.Error as exc:
        raise GemvizError(f"cannot parse the CSV header: {exc}", file=str(p)) from None
    seen: set[str] = set()
    for name in header:
        if name in seen:
            raise GemvizError(
                "the column appears twice in the header; rename or remove one (gemviz will "
                "not pick one of them silently)",
                file=str(p),
                field=name,
            )
        seen.add(name)
    try:
        frame = pd.read_csv(io.StringIO(text), keep_default_na=False, na_values=[""])
    except pd.errors.EmptyDataError as exc:
        raise GemvizError("the file is empty", file=str(p)) from exc
    except (ValueError, pd.errors.ParserError, OverflowError, csv.Error) as exc:
        raise GemvizError(f"cannot parse the CSV table: {exc}", file=str(p)) from exc
    return _plain_records(frame)


def _read_parquet(p: Path) -> list[dict[str, Any]]:
    try:
        frame = pd.read_parquet(p)
    except ImportError as exc:
        raise GemvizError(f"cannot read parquet files here ({exc})", file=str(p)) from exc
    except Exception as exc:
        # pyarrow raises many exception types for a damaged or foreign file
        if isinstance(exc, MemoryError):
            raise
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise GemvizError(f"not a readable parquet file ({reason})", file=str(p)) from exc
    return _plain_records(frame)


def _plain_records(frame) -> list[dict[str, Any]]:
    records = frame.to_dict(orient="records")
    for rec in records:
        for key, value in rec.items():
            if isinstance(value, float) and math.isnan(value):
                rec[key] = None
            elif hasattr(value, "item") and not isinstance(value, (str, bytes)):
                try:
                    rec[key] = value.item()
                except (ValueError, AttributeError):
                    rec[key] = value.tolist() if hasattr(value, "tolist") else value
    return records


def read_table(path: str | os.PathLike):
    """Read a record file into a DataFrame, column by column where the format allows.

    Args:
        path: As for :func:`read_records`.

    Returns:
        A pandas DataFrame, one row per record in file order, one column per field (in order
        of first appearance). A field a record lacks is missing (NaN/None) in its row. A JSON
        file read before is read back from its copy in the cache
        (:mod:`gemviz.data.table_cache`).

    Raises:
        GemvizError: As for :func:`read_records` (the same message for the same file).
    """
    p = Path(path)
    if p.suffix.lower() in _JSON_SUFFIXES:  # parsed once, then read back from a copy
        return cached_table(check_input(p, "record file"), lambda: _parsed_table(p))
    return _parsed_table(p)


def _parsed_table(p: Path) -> pd.DataFrame:
    frame = _fast_table(p)
    if frame is None:
        frame = pd.DataFrame.from_records(read_records(p))
    return frame


def _fast_table(p: Path):
    """The file as a DataFrame, or None when it needs :func:`read_records` (to be checked)."""
    suffix = p.suffix.lower()
    if suffix not in RECORD_SUFFIXES:
        return None
    if suffix in (".parquet", ".pq"):
        try:
            # One thread: the same table for less CPU time and memory on a small machine.
            frame = pd.read_parquet(check_input(p, "record file"), use_threads=False)
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
    records = _fast_json(data, lines=suffix in (".jsonl", ".ndjson"))
    if not records or set(map(type, records)) != {dict}:
        return None
    frame = _records_frame(records)
    # Records of plain values nest two deep; only nested values need the depth counted.
    if _nested(frame) and not _shallow(data):
        return None  # too deep, or brackets unbalanced: the exact check words it
    return frame


def _records_frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    """``pd.DataFrame(records)``; when every record holds the fields of the first, pandas is
    given them instead of collecting them over every record (the same frame, sooner)."""
    fields = records[0].keys()
    if fields and all(map(fields.__eq__, map(dict.keys, records))):
        return pd.DataFrame(records, columns=list(fields))
    return pd.DataFrame(records)


def _nested(frame: pd.DataFrame) -> bool:
    """True when a value is an object or a list (only columns of Python objects hold one)."""
    return any(
        any(isinstance(v, (dict, list)) for v in frame[c])
        for c in frame.columns
        if frame[c].dtype == object
    )


def _fast_csv(p: Path):
    # CSV is decoded and parsed as read_records does; only the list of dicts is skipped.

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
    if orjson is None:
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
