"""Paging through a filtered list of steps, and the previous and next step around one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from gemviz.data.errors import GemvizError


@dataclass(frozen=True)
class Page:
    """One page of a filtered table: rows ``start:stop`` of ``n`` rows, page ``number`` of ``count``."""

    number: int
    count: int
    start: int
    stop: int
    n: int


def paginate(n: int, number: int, size: int = 100) -> Page:
    """Bounds of page ``number`` (0-based, clipped to the valid range) of ``n`` rows.

    Raises:
        GemvizError: ``size`` is not positive.
    """
    if size <= 0:
        raise GemvizError(f"page size must be positive, got {size}")
    count = max(1, -(-n // size))
    number = min(max(int(number), 0), count - 1)
    start = number * size
    return Page(number=number, count=count, start=start, stop=min(n, start + size), n=n)


def position(ids: Sequence[str] | np.ndarray | pd.Series, sample_id: str | None) -> int | None:
    """Index of ``sample_id`` in ``ids``, or None when absent."""
    if sample_id is None:
        return None
    if isinstance(ids, pd.Series):  # compared in place: no copy of a long column
        hits = np.flatnonzero(ids.eq(sample_id).to_numpy(dtype=bool, na_value=False))
    else:
        hits = np.flatnonzero(np.asarray(ids, dtype=object) == sample_id)
    return int(hits[0]) if len(hits) else None


def neighbours(
    ids: Sequence[str] | np.ndarray, sample_id: str | None
) -> tuple[str | None, str | None]:
    """The previous and next ids around ``sample_id`` in a filtered order.

    A step outside the filtered rows has the first filtered row as its "next", so the buttons
    lead back into the list.
    """
    pos = position(ids, sample_id)
    n = len(ids)
    if pos is None:
        return None, (str(ids[0]) if n else None)
    prev_id = str(ids[pos - 1]) if pos > 0 else None
    next_id = str(ids[pos + 1]) if pos + 1 < n else None
    return prev_id, next_id
