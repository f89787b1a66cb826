"""Baseline splitter on embeddings: Mahalanobis distance to the train embeddings.

The train embeddings' mean and covariance are estimated, the covariance shrunk with
Ledoit-Wolf (embeddings have hundreds of dimensions and often fewer train samples, where the
plain sample covariance is singular). A test sample is ID iff its distance to the train mean
is ≤ the q-th percentile of *held-out* train distances (q = 95 by default).

The threshold is cross-fitted: the train set is cut into ``n_folds`` random folds, each fold's
distances are measured under the mean and covariance fitted on the other folds, and the
threshold is the q-th percentile of those out-of-fold distances. Distances of the very
samples a covariance was fitted on are much smaller than those of fresh samples in high
dimension (a thresholded in-sample percentile kept about 20% of fresh ID samples at 384
dimensions, none at 1,536); out-of-fold ones are not, so fresh ID samples are kept at about
the nominal rate (slightly above: each fold model sees (k-1)/k of the data).
"""

from __future__ import annotations

import numpy as np

from gemviz.data.errors import GemvizError
from gemviz.splitters.base import Control, Splitter, as_embeddings, check_percentile


class MahalanobisSplitter(Splitter):
    """ID iff the Mahalanobis distance to the train mean is ≤ the held-out q-th percentile.

    Args:
        percentile: q in (0, 100] (default 95).
        n_folds: Folds of the cross-fitted threshold (at least 2; capped at the train size).
        random_state: Seed of the fold assignment.

    Attributes:
        mean_: Train embedding mean (d,).
        precision_: Inverse of the Ledoit-Wolf covariance (d, d).
        shrinkage_: The Ledoit-Wolf shrinkage used.
        threshold_: The distance threshold.
    """

    input = "embeddings"
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

    def __init__(self, percentile: float = 95.0, n_folds: int = 5, random_state: int = 42) -> None:
        self.percentile = percentile
        self.n_folds = n_folds
        self.random_state = random_state

    def check_params(self) -> None:
        """Raise :class:`GemvizError` for a percentile outside (0, 100] or under 2 folds."""
        check_percentile(self.percentile)
        if isinstance(self.n_folds, bool) or not isinstance(self.n_folds, int) or self.n_folds < 2:
            raise GemvizError(f"n_folds must be an integer of at least 2, got {self.n_folds!r}")

    def fit(self, values: np.ndarray) -> MahalanobisSplitter:
        """Estimate mean and shrunk covariance of the train embeddings ``values`` (n x d)."""
        self.check_params()
        from sklearn.covariance import LedoitWolf  # heavy: only this fit needs it

        q = check_percentile(self.percentile)
        x = as_embeddings(values, "train embeddings")
        n = x.shape[0]
        if n < 4:
            raise GemvizError("the Mahalanobis splitter needs at least 4 train embeddings")
        folds = min(self.n_folds, n // 2)
        fold = np.random.default_rng(self.random_state).permutation(n) % folds
        held_out = np.empty(n)
        for k in range(folds):
            part = LedoitWolf(assume_centered=False).fit(x[fold != k])
            held_out[fold == k] = _mahalanobis(x[fold == k], part.location_, part.precision_)
        lw = LedoitWolf(assume_centered=False).fit(x)
        self.mean_ = lw.location_
        self.precision_ = lw.precision_
        self.shrinkage_ = float(lw.shrinkage_)
        self.threshold_ = float(np.percentile(held_out, q))
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
        return _mahalanobis(x, self.mean_, self.precision_)

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
            f"{self.percentile:g}th percentile of held-out train distances, {self.n_folds}-fold; "
            f"{self.mean_.shape[0]} dims, "
            f"Ledoit-Wolf shrinkage {self.shrinkage_:.3g})"
        )


def _mahalanobis(x: np.ndarray, mean: np.ndarray, precision: np.ndarray) -> np.ndarray:
    centred = x - mean
    # Row-wise quadratic form without building an n x n matrix.
    sq = np.sum((centred @ precision) * centred, axis=1)
    return np.sqrt(np.maximum(sq, 0.0))
