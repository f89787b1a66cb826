"""Baseline splitter on embeddings: Mahalanobis distance to the train embeddings.

The train embeddings' mean and covariance are estimated, the covariance shrunk with
Ledoit-Wolf (embeddings have hundreds of dimensions and often fewer train samples, where the
plain sample covariance is singular). A test sample is ID iff its distance to the train mean
is ≤ the q-th percentile of the train samples' own distances (q = 95 by default).
"""

from __future__ import annotations

import numpy as np

from gemviz.errors import GemvizError
from gemviz.splitters.base import Splitter, as_embeddings, check_percentile


class MahalanobisSplitter(Splitter):
    """ID iff the Mahalanobis distance to the train mean is ≤ the train distances' q-th percentile.

    Args:
        percentile: q in (0, 100] (default 95).

    Attributes:
        mean_: Train embedding mean (d,).
        precision_: Inverse of the Ledoit-Wolf covariance (d, d).
        shrinkage_: The Ledoit-Wolf shrinkage used.
        threshold_: The distance threshold.
    """

    input = "embeddings"
    _fitted_attr = "threshold_"

    def __init__(self, percentile: float = 95.0) -> None:
        self.percentile = percentile

    def check_params(self) -> None:
        """Raise :class:`GemvizError` for a percentile outside (0, 100]."""
        check_percentile(self.percentile)

    def fit(self, values: np.ndarray) -> MahalanobisSplitter:
        """Estimate mean and shrunk covariance of the train embeddings ``values`` (n x d)."""
        from sklearn.covariance import LedoitWolf

        q = check_percentile(self.percentile)
        x = as_embeddings(values, "train embeddings")
        if x.shape[0] < 2:
            raise GemvizError("the Mahalanobis splitter needs at least 2 train embeddings")
        lw = LedoitWolf(assume_centered=False).fit(x)
        self.mean_ = lw.location_
        self.precision_ = lw.precision_
        self.shrinkage_ = float(lw.shrinkage_)
        self.threshold_ = float(np.percentile(self._distance(x), q))
        return self

    def distance(self, values: np.ndarray) -> np.ndarray:
        """Mahalanobis distance of each row of ``values`` to the train mean."""
        self._check_fitted()
        x = as_embeddings(values)
        if x.shape[1] != self.mean_.shape[0]:
            raise GemvizError(
                f"embeddings have {x.shape[1]} dimensions but the train embeddings had "
                f"{self.mean_.shape[0]}; use embeddings from the same model"
            )
        return self._distance(x)

    def _distance(self, x: np.ndarray) -> np.ndarray:
        centred = x - self.mean_
        # Row-wise quadratic form without building an n x n matrix.
        sq = np.sum((centred @ self.precision_) * centred, axis=1)
        return np.sqrt(np.maximum(sq, 0.0))

    def predict(self, values: np.ndarray) -> np.ndarray:
        """True (ID) where the distance is ≤ the threshold."""
        return self.distance(values) <= self.threshold_

    def id_score(self, values: np.ndarray) -> np.ndarray:
        """Minus the distance (higher = more ID-like)."""
        return -self.distance(values)

    def describe(self) -> str:
        """The threshold and shrinkage."""
        self._check_fitted()
        return (
            f"mahalanobis: ID iff distance to the train mean ≤ {self.threshold_:.6g} (the "
            f"{self.percentile:g}th percentile of train distances; {self.mean_.shape[0]} dims, "
            f"Ledoit-Wolf shrinkage {self.shrinkage_:.3g})"
        )
