"""Reading record files and writing output files safely.

A *record file* is a list of samples, one mapping per sample, stored as a JSON array, JSON
lines, CSV or parquet (chosen by the file's suffix; ``.json`` files that hold JSON lines are
recognised too). Input files are only ever opened for reading. Every output is written to a
temporary file in the destination folder and renamed over the destination, so a reader never
sees a half-written file, whatever happens to the writing process.

:func:`gemviz.data.table.read_table` reads the same files as DataFrames at the format's speed.
"""

from __future__ import annotations

import contextlib
import csv
import json
import math
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from gemviz.data.errors import GemvizError
from gemviz.data.inputs import (
    check_input,
    loads_json,
    read_text,
)

RECORD_SUFFIXES = (".json", ".jsonl", ".ndjson", ".csv", ".parquet", ".pq")


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
    import io

    import pandas as pd

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
    import pandas as pd

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
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
    _fsync(dest.parent)


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
        import pandas as pd

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
