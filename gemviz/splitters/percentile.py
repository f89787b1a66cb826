"""Baseline splitter: a percentile threshold on the input score.

The input score is a distance to the train centroid, so large means unusual. A test sample
is ID iff its score is ≤ the q-th percentile of the train scores (q = 95 by default, so about
5% of train samples would be called OOD).
"""

from __future__ import annotations

import numpy as np

from gemviz.splitters.base import Control, Splitter, as_scores, check_percentile


class PercentileSplitter(Splitter):
    """ID iff score ≤ the ``percentile``-th percentile of the train scores.

    Args:
        percentile: q in (0, 100] (default 95).

    Attributes:
        threshold_: The train scores' q-th percentile (numpy's linear interpolation).
    """

    input = "scores"
    _fitted_attr = "threshold_"
    controls = (
        Control(
            "percentile",
            "Percentile of train kept as ID",
            50.0,
            99.9,
            0.01,
            help="A test sample is ID when it is within this percentile of the train samples.",
        ),
    )

    def __init__(self, percentile: float = 95.0) -> None:
        self.percentile = percentile

    def check_params(self) -> None:
        """Raise :class:`GemvizError` for a percentile outside (0, 100]."""
        check_percentile(self.percentile)

    def fit(self, values: np.ndarray) -> PercentileSplitter:
        """Learn the threshold from the train input scores ``values``."""
        q = check_percentile(self.percentile)
        self.threshold_ = float(np.percentile(as_scores(values, "train scores"), q))
        return self

    def predict(self, values: np.ndarray) -> np.ndarray:
        """True (ID) where the score is ≤ the threshold."""
        self._check_fitted()
        return as_scores(values) <= self.threshold_

    def id_score(self, values: np.ndarray) -> np.ndarray:
        """Minus the score: smaller distances are more ID-like."""
        self._check_fitted()
        return -as_scores(values)

    def describe(self) -> str:
        """The threshold."""
        self._check_fitted()
        return (
            f"percentile: ID iff input score ≤ {self.threshold_:.6g} "
            f"(the {self.percentile:g}th percentile of the train scores)"
        )
