"""Small pieces of wording the finding sentences share: intervals, "(n tasks)", the first
words of a verdict, a row as a mapping.

The sentences themselves are written in :mod:`gemviz.analysis.findings` (and, for the runs
view, :mod:`gemviz.analysis.findings_runs`); nothing here reads a table or says what a
result means.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

# A test resting on this many clusters or fewer says so in its sentence.
FEW_CLUSTERS = 5


def interval(lo: float, hi: float) -> str:
    """``[0.17, 0.61] (unadjusted 95% CI)`` (two decimals); empty when a bound is missing.

    The interval is the row's own 95% interval; beside a family-adjusted p-value it says so.
    """
    if lo is None or hi is None or math.isnan(lo) or math.isnan(hi):
        return ""
    return f"[{lo:.2f}, {hi:.2f}] (unadjusted 95% CI)"


def few(k: int, unit: str) -> str:
    """`` (3 tasks)`` when a test rests on 5 or fewer clusters, else empty."""
    return f" ({int(k)} {unit})" if unit != "steps" and 0 < int(k) <= FEW_CLUSTERS else ""


def within(verdict_text: str) -> bool:
    """True for a significant verdict whose interval lies within the margin."""
    return str(verdict_text or "").strip().lower().startswith("significant but within")


def within_words(verdict_text: str) -> str:
    """The verdict's first words (``significant but within ±0.05 on entries like these``)."""
    return str(verdict_text).split(" (", 1)[0]


def is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, (float, np.floating)) and math.isnan(value))


def row_of(row: Mapping[str, Any] | Any) -> Mapping[str, Any]:
    return row if isinstance(row, Mapping) else row._asdict()
