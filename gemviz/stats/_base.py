"""Seed, chunk size and small helpers shared by the statistics modules."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import stats as _sps

SEED = 42
# Cap on the elements of one chunk of an index matrix (about 32 MB of int64).
_CHUNK_ELEMENTS = 4_000_000

ArrayLike = Sequence[float] | np.ndarray


def _z(confidence: float) -> float:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie strictly between 0 and 1, got {confidence}")
    return float(_sps.norm.ppf(0.5 + confidence / 2.0))
