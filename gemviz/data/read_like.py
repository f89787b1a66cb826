"""A parquet file of the test set read with its id columns taken from the test set's frame.

Files of one test set usually list its samples in the same order, so their ``image_path``
and ``task`` columns (or ``id``) repeat the test set's. :func:`read_table_like` decodes those
columns in batches and compares each batch with the test set's arrays; when all are equal it
reads the file's other columns and puts the test set's arrays in place of the compared ones.
The frame is the one :func:`gemviz.data.read.read_table` gives (the same values, columns and
types) without a second copy of the text in memory. When ``like``'s columns were decoded from
a parquet file (``attrs[READ_FROM]``) and this file stores them in the same bytes (the same
row groups, encodings and compressed pages, as one writer gives for one table), they are not
decoded at all. Anything else (another order, a missing value, JSON or CSV, a file pyarrow
cannot read) gives None, and the file is read whole.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from gemviz.data import arrow_text
from gemviz.data.fields import ID, IMAGE, TASK
from gemviz.data.files import check_input

# Rows decoded at a time while comparing (a few megabytes of text).
_BATCH = 1 << 16
#: ``attrs`` key of a frame whose id columns are a parquet file's, decoded and unchanged: the
#: file's path. Another file whose chunks of those columns are the same bytes holds the same
#: values, found without decoding them.
READ_FROM = "read_from"


def read_table_like(path: str | os.PathLike, like: pd.DataFrame | None) -> pd.DataFrame | None:
    """``read_table(path)`` with the id columns shared with ``like``, or None (see above)."""
    if like is None or Path(path).suffix.lower() not in (".parquet", ".pq"):
        return None
    try:
        return _parquet_like(check_input(path, "record file"), like)
    except Exception as exc:  # a damaged file: the whole read words the error
        if isinstance(exc, MemoryError):
            raise
        return None


def _shared_keys(schema: pa.Schema, like: pd.DataFrame) -> dict[str, pa.ChunkedArray] | None:
    """The id columns to compare and ``like``'s arrays of them, when both hold text."""
    keys = (ID,) if ID in schema.names else (IMAGE, TASK)
    shared = {}
    for key in keys:
        if schema.get_field_index(key) < 0 or key not in like.columns:
            return None
        kind = schema.field(key).type
        if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
            return None
        text = arrow_text.arrow_text(like[key])
        if text is None or text.null_count:
            return None
        shared[key] = text
    return shared


def _same_batches(file: pq.ParquetFile, shared: dict[str, pa.ChunkedArray]) -> bool:
    start = 0
    for batch in file.iter_batches(batch_size=_BATCH, columns=list(shared), use_threads=False):
        rows = batch.num_rows
        for key, text in shared.items():
            column = batch.column(key).cast(pa.large_string())
            if not text.slice(start, rows).equals(pa.chunked_array([column])):
                return False
        start += rows
    return start == file.metadata.num_rows


def _chunks(file: pq.ParquetFile, key: str) -> list | None:
    """Where each row group's column chunk of ``key`` lies, with what decoding it depends on."""
    column = file.schema_arrow.get_field_index(key)
    if column < 0 or file.metadata.num_columns != len(file.schema_arrow.names):
        return None  # nested columns: leaves and fields are not numbered alike
    found = []
    for group in range(file.metadata.num_row_groups):
        meta = file.metadata.row_group(group)
        chunk = meta.column(column)
        if chunk.path_in_schema != key:
            return None
        start = (
            chunk.dictionary_page_offset if chunk.has_dictionary_page else chunk.data_page_offset
        )
        shape = (meta.num_rows, chunk.physical_type, chunk.compression, chunk.encodings)
        found.append((shape, start, chunk.total_compressed_size))
    return found


def _same_chunks(path: Path, file: pq.ParquetFile, source: Path, keys) -> bool:
    """True when each key column's chunks are, byte for byte, those of the parquet file
    ``source`` (with the same column description): they then decode to the same values."""
    try:
        other = pq.ParquetFile(source)
        with open(path, "rb") as mine, open(source, "rb") as theirs:
            return all(_same_column(file, mine, other, theirs, key) for key in keys)
    except (OSError, ValueError, pa.ArrowException):
        return False


def _same_column(file: pq.ParquetFile, mine, other: pq.ParquetFile, theirs, key: str) -> bool:
    a, b = _chunks(file, key), _chunks(other, key)
    if a is None or b is None or len(a) != len(b):
        return False
    index = file.schema_arrow.get_field_index(key), other.schema_arrow.get_field_index(key)
    if not file.schema.column(index[0]).equals(other.schema.column(index[1])):
        return False
    for (shape, start, size), (shape_b, start_b, size_b) in zip(a, b, strict=True):
        if shape != shape_b or size != size_b:
            return False
        mine.seek(start)
        theirs.seek(start_b)
        if mine.read(size) != theirs.read(size_b):
            return False
    return True


def _parquet_like(path: Path, like: pd.DataFrame) -> pd.DataFrame | None:
    file = pq.ParquetFile(path)
    schema = file.schema_arrow
    names = schema.names
    index = (schema.pandas_metadata or {}).get("index_columns", [])
    if not len(like) or file.metadata.num_rows != len(like) or len(set(names)) != len(names):
        return None
    if any(not isinstance(i, dict) for i in index):  # an index stored as a column
        return None
    shared = _shared_keys(schema, like)
    if shared is None:
        return None
    source = like.attrs.get(READ_FROM)
    same = source is not None and _same_chunks(path, file, Path(source), shared)
    if not same and not _same_batches(file, shared):
        return None
    rest = [n for n in names if n not in shared]
    frame = pd.read_parquet(path, columns=rest, use_threads=False)
    if list(frame.columns) != rest or not frame.index.equals(pd.RangeIndex(len(like))):
        return None
    for key in sorted(shared, key=names.index):  # each at its place in the file's order
        frame.insert(names.index(key), key, like[key].reset_index(drop=True))
    return frame
