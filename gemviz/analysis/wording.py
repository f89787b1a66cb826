"""Words shared by the finding sentences: verdict kinds, p-values, intervals, counts.

The sentences themselves are written in :mod:`gemviz.analysis.findings`, which re-exports
these; nothing here reads a table or says what a result means.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from gemviz.stats import format_p

#: Kinds of a verdict: a significant difference, a difference within the margin, neither.
SIGNIFICANT = "significant"
NO_DIFFERENCE = "no difference"
UNCERTAIN = "uncertain"
NO_DATA = "no data"

_ADJUST_NAMES = {"holm": "Holm", "bh": "BH"}
# A test resting on this many clusters or fewer says so in its sentence.
FEW_CLUSTERS = 5


def kind(verdict_text: str) -> str:
    """Which of :data:`SIGNIFICANT`, :data:`NO_DIFFERENCE`, :data:`UNCERTAIN`, :data:`NO_DATA`.

    Args:
        verdict_text: A verdict as an analysis table writes it (``verdict`` column).

    Returns:
        The kind; a verdict that names a direction is significant.
    """
    text = str(verdict_text or "").strip().lower()
    if not text or text.startswith(("no data", "no steps", "the region is all of")):
        return NO_DATA
    if text.startswith("no detectable"):
        return NO_DIFFERENCE
    if text.startswith(("too uncertain", "cannot be")):
        return UNCERTAIN
    return SIGNIFICANT


def metric_words(metric: str) -> str:
    """``exact_match`` -> ``exact match``."""
    return str(metric).replace("_", " ")


def adjusted_p(p: float, adjust: str = "holm") -> str:
    """``Holm p = 0.03``, ``Holm p < 0.001``; empty for a missing p-value."""
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return ""
    name = _ADJUST_NAMES.get(str(adjust).lower(), str(adjust))
    text = format_p(float(p))
    if text == "p=0.05" and p != 0.05:
        # Two digits would round 0.049 and 0.051 alike, on either side of the level.
        text = f"p={float(p):.3f}"
    return f"{name} p {text[1]} {text[2:]}" if text[1] == "<" else f"{name} p = {text[2:]}"


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


def counts(n: int, k: int, unit: str) -> str:
    """``34 steps, 5 tasks``, or ``34 steps`` when steps are their own clusters."""
    steps = f"{int(n):,} step{'s' if int(n) != 1 else ''}"
    return steps if unit == "steps" else f"{steps}, {int(k):,} {unit}"


def is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, (float, np.floating)) and math.isnan(value))


def row_of(row: Mapping[str, Any] | Any) -> Mapping[str, Any]:
    return row if isinstance(row, Mapping) else row._asdict()


def join_names(names: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    names = [str(n) for n in names]
    if len(names) <= 2:
        return " and ".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]
