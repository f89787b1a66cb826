"""Test results kept on a study, so that each is computed once whoever asks for it.

A study is read-only once built, so a result computed from it stays right for its lifetime.
The tables keep here the part of a row that no adjustment, margin or choice of models
changes (the test of one splitter, metric and set of columns): the report and the deck ask
for the same tables with different margins, and every paired table of two models repeats
their test on all steps, once per splitter. A study built anew (other clusters, other files)
starts with nothing kept.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

import numpy as np

from gemviz.data.study import Study

T = TypeVar("T")

_KEPT = "_kept_results"


def kept(study: Study, key: Hashable, compute: Callable[[], T]) -> T:
    """``compute()``, computed once per study and ``key``; each caller gets its own copy.

    Args:
        study: The study the result is computed from.
        key: Names the result: the function and every argument it depends on besides the
            study.
        compute: Computes the result (a pure function of the study and ``key``).
    """
    memo: dict[Hashable, Any] = study.__dict__.setdefault(_KEPT, {})
    if key not in memo:
        memo[key] = compute()
    return _copy(memo[key])


def id_mask(study: Study, splitter: str) -> np.ndarray:
    """``study.is_id(splitter)`` (a comparison of every step's label), made once per study.

    Raises:
        GemvizError: ``splitter`` is not in the study.
    """
    return kept(study, ("is_id", splitter), lambda: study.is_id(splitter))


def _copy(value: Any) -> Any:
    """A copy the caller may change: arrays, lists and dicts of numbers and strings by layer,
    anything else deeply."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, list):
        return [_copy(v) for v in value]
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, (str, int, float, bool, np.generic)) or value is None:
        return value
    return copy.deepcopy(value)
