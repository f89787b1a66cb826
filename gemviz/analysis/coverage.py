"""Which test entries a training set covers, and how well the set covers the test set.

Everything is measured on embeddings of one model (the packaged sentence model for text), with
Euclidean distances between unit-length embeddings and exact k-nearest-neighbour search
(:mod:`gemviz.splitters.nearest`).

Per entry, ``covered`` is the :class:`~gemviz.splitters.knn.KnnSplitter`'s call: by default
(``naeem``) the entry lies within the k-th neighbour radius of some training example; with
``sun`` its k-th nearest training example is closer than the training set's own 95th
percentile of k-th neighbour distances.

Per set, the four measures of generative-model evaluation, reading the **test set as the real
samples and the training set as the generated ones**: the test set is the distribution a
training set is meant to reach, the training set the sample that tries to reach it (as a
generator's output tries to reach the real data). With ``r(x_i)`` a test entry's distance to
its k-th nearest other test entry and ``r(y_j)`` a training example's to its k-th nearest
other training example:

* ``coverage`` (Naeem et al. 2020): the share of test entries that hold a training example
  within ``r(x_i)``; balls around test entries, so an outlying training example cannot
  inflate it. Its 95% interval treats test entries as clusters (:func:`gemviz.stats.mean_estimate`).
* ``density`` (Naeem et al.): the mean number of test balls holding a training example,
  divided by k (about 1 when the training set is distributed like the test set; above 1 when
  it crowds where test entries are dense).
* ``precision`` (Kynkäänniemi et al. 2019): the share of training examples inside some test
  ball, i.e. how much of the training set looks like the test set.
* ``recall`` (Kynkäänniemi et al.): the share of test entries inside some training ball,
  which is the share ``naeem`` calls covered.

Balls include their boundary (``d <= r``), so an exact duplicate is inside.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from gemviz.analysis.functions_coverage import covered_share, missing_functions, seen_functions
from gemviz.data.tool_calls import user_turns
from gemviz.scoring.training import EmbeddedFile
from gemviz.splitters.knn import KnnSplitter
from gemviz.splitters.nearest import kth_radii, scan, unit_rows
from gemviz.stats import mean_estimate

SET_COLUMNS = [
    "train_set", "n_train", "n_test", "k", "covered", "coverage", "coverage_lo", "coverage_hi",
    "density", "precision", "recall", "median_nn_distance", "functions_covered",
]  # fmt: skip
ENTRY_COLUMNS = [
    "train_set", "id", "nn_distance", "covered", "nearest_id", "nearest_text",
    "functions_needed", "functions_missing",
]  # fmt: skip
NEAREST_COLUMNS = ["rank", "train_id", "distance", "text", "turns"]
DEFAULT_K = 5


@dataclass(frozen=True)
class SetMeasures:
    """One training set measured against the test set (arrays in test or training order).

    Attributes:
        k: Neighbours.
        rule: The splitter rule behind ``covered``.
        covered: Per test entry, the splitter's call.
        nn_index, nn_distance: Per test entry, its k nearest training examples (nearest first).
        in_test_ball: Per test entry, a training example lies within its test radius
            (Naeem's coverage).
        in_train_ball: Per test entry, it lies within some training example's radius.
        holds: Per training example, how many test balls hold it.
    """

    k: int
    rule: str
    covered: np.ndarray
    nn_index: np.ndarray
    nn_distance: np.ndarray
    in_test_ball: np.ndarray
    in_train_ball: np.ndarray
    holds: np.ndarray

    @property
    def coverage(self) -> float:
        """Naeem et al.'s coverage."""
        return float(self.in_test_ball.mean())

    @property
    def density(self) -> float:
        """Naeem et al.'s density."""
        return float(self.holds.sum() / (self.k * len(self.holds)))

    @property
    def precision(self) -> float:
        """Kynkäänniemi et al.'s precision."""
        return float((self.holds > 0).mean())

    @property
    def recall(self) -> float:
        """Kynkäänniemi et al.'s recall."""
        return float(self.in_train_ball.mean())


def measure(
    test_embeddings: np.ndarray,
    train_embeddings: np.ndarray,
    k: int = DEFAULT_K,
    rule: str = "naeem",
    percentile: float = 95.0,
) -> SetMeasures:
    """Measure a training set against the test set (see the module notes).

    Args:
        test_embeddings, train_embeddings: Embeddings of one model (rows x dims).
        k: Neighbours (each set needs more than k rows).
        rule: The splitter rule behind ``covered``: ``"naeem"`` or ``"sun"``.
        percentile: Sun's threshold percentile.

    Raises:
        GemvizError: Bad embeddings, a set of k rows or fewer, or a bad rule.
    """
    splitter = KnnSplitter(k=k, rule=rule, percentile=percentile).fit(train_embeddings)
    test = unit_rows(test_embeddings, "test embeddings")
    test_radii = kth_radii(test, k)
    found = scan(test, splitter.train_, k, query_radii=test_radii, ref_radii=splitter.radii_)
    inside = np.asarray(found.inside, dtype=bool)
    covered = found.distances[:, -1] <= splitter.threshold_ if rule == "sun" else inside
    return SetMeasures(
        k=k,
        rule=rule,
        covered=covered,
        nn_index=found.indices,
        nn_distance=found.distances,
        in_test_ball=found.distances[:, 0] <= test_radii,
        in_train_ball=inside,
        holds=np.asarray(found.holds),
    )


def set_rows(
    test: EmbeddedFile,
    sets: Mapping[str, EmbeddedFile],
    measures: Mapping[str, SetMeasures],
    needs: Sequence[set[str]] | None = None,
    clusters: np.ndarray | None = None,
) -> pd.DataFrame:
    """One row per training set: sizes, covered count, the four measures, function coverage.

    Args:
        test: The test entries.
        sets: Set name -> its training examples.
        measures: Set name -> :func:`measure`.
        needs: Per test entry, the functions it needs (None: no function coverage).
        clusters: Per test entry, its cluster code (None: each entry its own).

    Returns:
        Columns :data:`SET_COLUMNS`.
    """
    rows = []
    for name, m in measures.items():
        est = mean_estimate(m.in_test_ball.astype(float), clusters)
        seen = seen_functions(sets[name].records)
        rows.append(
            {
                "train_set": name,
                "n_train": len(sets[name].ids),
                "n_test": len(test.ids),
                "k": m.k,
                "covered": int(m.covered.sum()),
                "coverage": m.coverage,
                "coverage_lo": est.lo,
                "coverage_hi": est.hi,
                "density": m.density,
                "precision": m.precision,
                "recall": m.recall,
                "median_nn_distance": float(np.median(m.nn_distance[:, 0])),
                "functions_covered": covered_share(needs, seen) if needs else float("nan"),
            }
        )
    return pd.DataFrame(rows, columns=SET_COLUMNS)


def entry_rows(
    test: EmbeddedFile,
    sets: Mapping[str, EmbeddedFile],
    measures: Mapping[str, SetMeasures],
    needs: Sequence[set[str]] | None = None,
) -> pd.DataFrame:
    """One row per training set and test entry: nearest example, covered, functions missing.

    ``functions_needed`` and ``functions_missing`` are sorted lists (empty without answers).

    Returns:
        Columns :data:`ENTRY_COLUMNS`.
    """
    frames = []
    for name, m in measures.items():
        train = sets[name]
        seen = seen_functions(train.records)
        nearest = m.nn_index[:, 0]
        need = list(needs) if needs else [set()] * len(test.ids)
        frames.append(
            pd.DataFrame(
                {
                    "train_set": name,
                    "id": test.ids,
                    "nn_distance": m.nn_distance[:, 0],
                    "covered": m.covered.astype(bool),
                    "nearest_id": [train.ids[j] for j in nearest],
                    "nearest_text": [train.texts[j] for j in nearest],
                    "functions_needed": [sorted(n) for n in need],
                    "functions_missing": [missing_functions(n, seen) for n in need],
                },
                columns=ENTRY_COLUMNS,
            )
        )
    if not frames:
        return pd.DataFrame(columns=ENTRY_COLUMNS)
    return pd.concat(frames, ignore_index=True)


def nearest_training(query: np.ndarray, train: EmbeddedFile, k: int = DEFAULT_K) -> pd.DataFrame:
    """The ``k`` nearest training examples of one test entry's embedding.

    Args:
        query: The entry's embedding (d,) or (1, d).
        train: The training set.
        k: How many (at most the set's size).

    Returns:
        Columns :data:`NEAREST_COLUMNS`: rank 1..k, the example's id, its distance, its text
        (the first user turn, or as embedded) and its number of user turns.
    """
    x = unit_rows(np.atleast_2d(query), "test embedding")
    y = unit_rows(train.embeddings, "train embeddings")
    found = scan(x, y, min(k, len(y)))
    idx, dist = found.indices[0], found.distances[0]
    return pd.DataFrame(
        {
            "rank": np.arange(1, len(idx) + 1),
            "train_id": [train.ids[j] for j in idx],
            "distance": dist,
            "text": [train.texts[j] for j in idx],
            "turns": [user_turns(train.records[j]) for j in idx],
        },
        columns=NEAREST_COLUMNS,
    )


def measure_all(
    test: EmbeddedFile,
    sets: Mapping[str, EmbeddedFile],
    k: int = DEFAULT_K,
    rule: str = "naeem",
) -> dict[str, SetMeasures]:
    """:func:`measure` of every training set against the test set."""
    return {name: measure(test.embeddings, s.embeddings, k, rule) for name, s in sets.items()}
