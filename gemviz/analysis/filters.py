"""The Samples page's filters: which test steps to show, as one boolean mask over the table.

Every field of :class:`SampleFilter` is a vectorised condition on the columns of
:func:`gemviz.analysis.samples.sample_table`, so filtering 50,000 steps costs milliseconds.
:func:`score_range` gives a score slider's range, step and format.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from gemviz.analysis.samples import (
    DISPUTED,
    SEARCH,
    label_col,
    match_col,
    prob_col,
    score_col,
)
from gemviz.data.errors import GemvizError
from gemviz.data.fields import EXACT_MATCH, ID
from gemviz.workspace.annotations import tag_mask


@dataclass
class SampleFilter:
    """What the Samples page shows; an empty filter keeps every step.

    Attributes:
        labels: Splitter -> required label ("ID" or "OOD").
        disputed: True keeps only steps the splitters disagree on, False only agreed ones.
        matches: ``(model, metric)`` -> required 0/1 value.
        only_correct: Keep steps that this model got right and every other model got wrong.
        only_metric: The metric ``only_correct`` looks at.
        score_ranges: Splitter -> (low, high) inclusive input-score range.
        prob_ranges: Splitter -> (low, high) inclusive ID-probability range (needs the
            :func:`prob_col` columns of :func:`with_id_probability`).
        values: Field (e.g. ``"dataset"``) -> allowed values.
        search: Case-insensitive text that must occur in the task.
        tags: Keep steps annotated with any of these tags (needs the ``tags`` column of
            :func:`gemviz.workspace.annotations.with_annotations`; ``"(any tag)"``: any annotated step).
        ids: Keep only these sample ids (a selection sent from another page), or None.
    """

    labels: Mapping[str, str] = field(default_factory=dict)
    disputed: bool | None = None
    matches: Mapping[tuple[str, str], int] = field(default_factory=dict)
    only_correct: str | None = None
    only_metric: str = EXACT_MATCH
    score_ranges: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    prob_ranges: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    values: Mapping[str, Sequence[str]] = field(default_factory=dict)
    search: str = ""
    tags: Sequence[str] = ()
    ids: Sequence[str] | None = None


def filter_mask(table: pd.DataFrame, flt: SampleFilter) -> np.ndarray:
    """Boolean mask of the rows of ``table`` that pass ``flt``.

    Raises:
        GemvizError: The filter names a splitter, model or field the table does not have.
    """
    mask = np.ones(len(table), dtype=bool)
    if flt.ids is not None:
        mask &= table[ID].isin(set(flt.ids)).to_numpy()
    for splitter, label in flt.labels.items():
        mask &= _column(table, label_col(splitter), "splitter", splitter) == label
    if flt.disputed is not None:
        mask &= table[DISPUTED].to_numpy() == flt.disputed
    for (model, metric), value in flt.matches.items():
        mask &= _column(table, match_col(model, metric), "model", model) == int(value)
    if flt.only_correct is not None:
        mask &= only_correct(table, flt.only_correct, flt.only_metric)
    for splitter, (lo, hi) in flt.score_ranges.items():
        score = _column(table, score_col(splitter), "splitter", splitter)
        mask &= (score >= lo) & (score <= hi)
    for splitter, (lo, hi) in flt.prob_ranges.items():
        prob = _column(table, prob_col(splitter), "ID probability of splitter", splitter)
        mask &= (prob >= lo) & (prob <= hi)
    for name, allowed in flt.values.items():
        if allowed:
            mask &= np.isin(
                _column(table, name, "field", name), np.asarray(list(allowed), dtype=object)
            )
    if flt.search.strip():
        mask &= (
            table[SEARCH].str.contains(flt.search.strip().lower(), regex=False).to_numpy(dtype=bool)
        )
    if flt.tags:
        if "tags" not in table.columns:
            raise GemvizError("the sample table carries no annotations to filter by tag")
        mask &= tag_mask(table, list(flt.tags)).to_numpy(dtype=bool)
    return mask


def only_correct(
    table: pd.DataFrame, model: str, metric: str = EXACT_MATCH, models: Sequence[str] | None = None
) -> np.ndarray:
    """True where ``model`` is right on ``metric`` and every other model is wrong.

    Args:
        table: A :func:`sample_table` frame.
        model: The model that alone must be right.
        metric: ``"type_match"`` or ``"exact_match"``.
        models: All models to compare with; default: those recorded in ``table.attrs``.
    """
    models = list(models if models is not None else table.attrs.get("models", [model]))
    mask = _column(table, match_col(model, metric), "model", model) == 1
    for other in models:
        if other != model:
            mask &= _column(table, match_col(other, metric), "model", other) == 0
    return mask


def _column(table: pd.DataFrame, col: str, kind: str, name: str) -> np.ndarray:
    if col not in table.columns:
        raise GemvizError(f"unknown {kind} '{name}' in the sample filter")
    return table[col].to_numpy()


@dataclass(frozen=True)
class ScoreRange:
    """A score filter's slider over the observed scores: bounds, step and display format."""

    lo: float
    hi: float
    step: float
    format: str

    def is_full(self, chosen: tuple[float, float]) -> bool:
        """True when ``chosen`` covers the whole observed range (within half a step)."""
        return chosen[0] <= self.lo + self.step / 2 and chosen[1] >= self.hi - self.step / 2

    def bounds(self, chosen: tuple[float, float]) -> tuple[float, float]:
        """``chosen`` with an end at the slider's end widened to the observed extreme.

        Slider positions are ``lo + k * step`` in floating point: the last one can fall a
        hair short of the largest score, which would then drop out of the filter.
        """
        a, b = chosen
        return (
            -np.inf if a <= self.lo + self.step / 2 else a,
            np.inf if b >= self.hi - self.step / 2 else b,
        )


def score_range(scores: Sequence[float] | np.ndarray, positions: int = 200) -> ScoreRange | None:
    """A slider over the observed scores with ``positions`` steps (GEM scores span 0.004-0.08).

    Args:
        scores: The scores (NaN ignored).
        positions: Number of steps between the smallest and largest score (at least 100).

    Returns:
        The slider's spec, or None when fewer than two distinct scores exist.
    """
    values = np.asarray(scores, dtype=float)
    values = values[np.isfinite(values)]
    if values.size == 0 or values.min() >= values.max():
        return None
    lo, hi = float(values.min()), float(values.max())
    step = (hi - lo) / max(100, positions)
    digits = min(10, max(2, int(np.ceil(-np.log10(step))) + 1))
    return ScoreRange(lo, hi, step, f"%.{digits}f")


def filter_table(table: pd.DataFrame, flt: SampleFilter) -> pd.DataFrame:
    """The rows of ``table`` passing ``flt``, in table order (index kept = study position)."""
    return table[filter_mask(table, flt)]
