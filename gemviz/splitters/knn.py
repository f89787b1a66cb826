"""Coverage splitter on embeddings: is a test entry within reach of the training examples?

Fitted on a training set's embeddings, it calls a test entry ID (*covered*) by one of two
k-nearest-neighbour rules, both on Euclidean distances between L2-normalised embeddings
(:mod:`gemviz.splitters.nearest`; exact, ties to the earlier training row):

* ``naeem`` (default): covered when the entry lies within the k-NN radius of some training
  example, i.e. ``d(x, y_j) <= r_k(y_j)`` for some j, where ``r_k(y_j)`` is the distance from
  ``y_j`` to its own k-th nearest other training example. This is the k-NN ball estimate of a
  set's support used by Naeem et al. (2020) and Kynkäänniemi et al. (2019); with the test set
  as "real" and the training set as "fake" samples, the share of covered entries is their
  *recall*.
* ``sun``: covered when the entry's distance to its k-th nearest training example is at most
  the ``percentile``-th percentile of the training examples' own (leave-one-out) k-th
  neighbour distances, the threshold of Sun et al. (ICML 2022) that keeps 95% of the training
  data by default.

Each entry is judged alone against the fitted training set, so ``predict`` on one entry gives
the same answer as on the whole test set.
"""

from __future__ import annotations

import numpy as np

from gemviz.data.errors import GemvizError
from gemviz.splitters.base import Control, Splitter, check_percentile
from gemviz.splitters.nearest import kth_radii, scan, unit_rows

#: The rules a :class:`KnnSplitter` applies.
RULES = ("naeem", "sun")


class KnnSplitter(Splitter):
    """ID (covered) by the k-nearest-neighbour rule ``rule`` against the training embeddings.

    Args:
        k: Neighbours (default 5, as in Naeem et al. and Sun et al.).
        rule: ``"naeem"`` or ``"sun"`` (see the module notes).
        percentile: Sun's rule: the percentile of the training set's own k-th neighbour
            distances an entry must stay within (default 95).

    Attributes:
        train_: The training embeddings, unit length (n x d).
        radii_: Each training example's distance to its k-th nearest other one.
        threshold_: The ``percentile``-th percentile of ``radii_`` (used by ``sun``).
    """

    input = "embeddings"
    _fitted_attr = "radii_"
    controls = (
        Control(
            "k",
            "Neighbours k",
            1,
            50,
            1,
            widget="number",
            help="A test entry is covered when it lies within the k-th neighbour radius of a "
            "training example.",
        ),
    )
    refit_free = frozenset({"rule", "percentile"})

    def __init__(self, k: int = 5, rule: str = "naeem", percentile: float = 95.0) -> None:
        self.k = k
        self.rule = rule
        self.percentile = percentile

    def check_params(self) -> None:
        """Raise :class:`GemvizError` for k under 1, an unknown rule or a bad percentile."""
        if isinstance(self.k, bool) or not isinstance(self.k, (int, np.integer)) or self.k < 1:
            raise GemvizError(f"k must be a whole number of at least 1, got {self.k!r}")
        if self.rule not in RULES:
            raise GemvizError(f"unknown rule '{self.rule}'; use one of {', '.join(RULES)}")
        check_percentile(self.percentile)

    def fit(self, values: np.ndarray) -> KnnSplitter:
        """Learn each training example's k-th neighbour radius from the embeddings ``values``."""
        self.check_params()
        x = unit_rows(values, "train embeddings")
        if len(x) <= self.k:
            raise GemvizError(
                f"the knn splitter with k = {self.k} needs more than {self.k} training examples, "
                f"got {len(x)}"
            )
        self.train_ = x
        self.radii_ = kth_radii(x, int(self.k))
        self._apply_params()
        return self

    def _apply_params(self) -> None:
        self.threshold_ = float(np.percentile(self.radii_, check_percentile(self.percentile)))

    def _test(self, values: np.ndarray) -> np.ndarray:
        self._check_fitted()
        x = unit_rows(values, "test embeddings")
        if x.shape[1] != self.train_.shape[1]:
            raise GemvizError(
                f"embeddings have {x.shape[1]} dimensions but the training embeddings had "
                f"{self.train_.shape[1]}; use embeddings from the same model"
            )
        return x

    def kth_distance(self, values: np.ndarray) -> np.ndarray:
        """Each row's distance to its k-th nearest training example."""
        return scan(self._test(values), self.train_, int(self.k)).distances[:, -1]

    def predict(self, values: np.ndarray) -> np.ndarray:
        """True (covered) by the splitter's rule."""
        x = self._test(values)
        if self.rule == "sun":
            return scan(x, self.train_, int(self.k)).distances[:, -1] <= self.threshold_
        return scan(x, self.train_, 1, ref_radii=self.radii_).inside

    def id_score(self, values: np.ndarray) -> np.ndarray:
        """Minus the distance to the nearest (``naeem``) or k-th nearest (``sun``) example."""
        x = self._test(values)
        k = int(self.k) if self.rule == "sun" else 1
        return -scan(x, self.train_, k).distances[:, -1]

    def describe(self) -> str:
        """The rule and what was learned."""
        self._check_fitted()
        if self.rule == "sun":
            how = (
                f"k-th neighbour distance ≤ {self.threshold_:.4g} (the {self.percentile:g}th "
                "percentile of the training set's own)"
            )
        else:
            how = "within the k-th neighbour radius of some training example"
        return (
            f"knn ({self.rule}, k={self.k}): covered iff {how}; {len(self.train_)} training "
            f"examples, median radius {float(np.median(self.radii_)):.4g}, Euclidean distance "
            "on unit-length embeddings"
        )
