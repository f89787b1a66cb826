"""Text columns as Arrow arrays: the whole-column steps of sample ids and of the checks.

pandas holds the text columns it reads from parquet and JSON in Arrow's memory. The helpers
here work on that memory directly: the usual column (ASCII text without ``\\``, ``|`` or
``#``) is recognised by scanning its bytes once, ids are joined, compared and checked for
repeats by Arrow's kernels, and only values outside ASCII go through Python (their Unicode
normal form is taken with :func:`gemviz.data.fields.nfc`, the one definition of it).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from gemviz.data.fields import nfc

#: pandas' text dtype for text read from files (``"str"``, held by Arrow).
TEXT = pd.StringDtype("pyarrow", na_value=np.nan)
# Bytes scanned at a time (copied out of Arrow's buffer, so memory stays bounded).
_BLOCK = 1 << 22
_ESCAPED = ("\\", "|", "#")


def arrow_text(column: pd.Series) -> pa.ChunkedArray | None:
    """The Arrow array (``large_string``) of a text column held by Arrow, else None."""
    dtype = column.dtype
    if not (isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow"):
        return None
    array = column.array.__arrow_array__()
    if isinstance(array, pa.Array):
        array = pa.chunked_array([array])
    if not pa.types.is_large_string(array.type):
        array = array.cast(pa.large_string())
    return array


def as_series(array: pa.ChunkedArray | pa.Array) -> pd.Series:
    """A text Series (pandas' ``str`` dtype) over ``array``, without copying it."""
    return pd.Series(pd.array(array, dtype=TEXT))


def _value_bytes(chunk: pa.Array) -> pa.Buffer | None:
    """The part of a string chunk's data buffer its values use (a view, not a copy)."""
    data = chunk.buffers()[2]
    if data is None or not len(chunk):
        return None
    width = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
    offsets = np.frombuffer(chunk.buffers()[1], dtype=width)
    start, stop = int(offsets[chunk.offset]), int(offsets[chunk.offset + len(chunk)])
    return data.slice(start, stop - start)


def is_plain(array: pa.ChunkedArray) -> bool:
    """True when every value is ASCII and holds none of ``\\``, ``|`` and ``#``.

    Such a value is its own NFC form and its own id part (nothing to escape).
    """
    for chunk in array.chunks:
        data = _value_bytes(chunk)
        if data is None:
            continue
        for start in range(0, data.size, _BLOCK):
            block = data.slice(start, min(_BLOCK, data.size - start)).to_pybytes()
            if not block.isascii() or any(c.encode() in block for c in _ESCAPED):
                return False
    return True


def nfc_array(array: pa.ChunkedArray) -> pa.ChunkedArray:
    """Every value in Unicode normal form NFC (only values outside ASCII can change)."""
    wide = ~pc.string_is_ascii(array).to_numpy(zero_copy_only=False)
    if not wide.any():
        return array
    values = array.to_numpy(zero_copy_only=False).astype(object)
    values[wide] = [nfc(v) for v in values[wide]]
    return pa.chunked_array([pa.array(values, type=pa.large_string())])


def id_part_array(array: pa.ChunkedArray) -> pa.ChunkedArray:
    """:func:`gemviz.data.fields.id_part` of every value: NFC, then ``\\ | #`` escaped."""
    if is_plain(array):
        return array
    array = nfc_array(array)
    for char in _ESCAPED:  # the backslash first, so the escapes added after stay single
        array = pc.replace_substring(array, char, "\\" + char)
    return array


def join_pair(left: pa.ChunkedArray, right: pa.ChunkedArray) -> pa.ChunkedArray:
    """``left + "|" + right`` for every row."""
    return pc.binary_join_element_wise(left, right, pa.scalar("|", pa.large_string()))


def all_distinct(array: pa.ChunkedArray) -> bool:
    """True when no value repeats (a hash of each value, in Arrow)."""
    return len(pc.unique(array)) == len(array)


def same_text(a: pd.Series, b: pd.Series) -> bool | None:
    """Whether two text columns held by Arrow are equal value by value (None: not Arrow)."""
    left, right = arrow_text(a), arrow_text(b)
    if left is None or right is None:
        return None
    return left.equals(right)


def in_set(array: pa.ChunkedArray, values: tuple[str, ...]) -> bool:
    """True when every value is one of ``values`` exactly (no missing value)."""
    found = pc.is_in(array, value_set=pa.array(values, type=pa.large_string()))
    return bool(pc.all(found).as_py()) and array.null_count == 0
