"""A registered splitter fitted on a score source and applied to its test samples.

The Score & Partition page, the report and ``partition`` all label test samples the same
way: :func:`gemviz.splitters.make_splitter` with the registry's defaults, ``fit`` on the train
inputs, ``predict`` on the test inputs. This module adds what the page shows around that:
the inputs a method reads from a :class:`~gemviz.workspace.entries.ScoreSource`, and the ID
and OOD counts with the clusters they come from.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import pandas as pd

from gemviz.data import clusters
from gemviz.data.errors import GemvizError
from gemviz.data.fields import SCORE
from gemviz.data.loaders import load_scores
from gemviz.scoring.store import load_embeddings
from gemviz.splitters import SPLITTERS, Splitter
from gemviz.workspace.entries import ScoreSource


def source_inputs(source: ScoreSource, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """The train and test inputs a splitter reads from ``source``.

    Args:
        source: Score files, and embedding files when scoring wrote them.
        kind: A splitter's ``input``: ``"scores"`` or ``"embeddings"``.

    Returns:
        ``(train, test)``: input scores (1-D) or embedding matrices (n x d).

    Raises:
        GemvizError: Unreadable files, or embeddings asked of a source that has none.
    """
    if kind == "embeddings":
        pair = source.embeddings()
        if pair is None:
            raise GemvizError("this method needs embeddings; this score source has none")

        return load_embeddings(pair[0])[1], load_embeddings(pair[1])[1]
    return score_values(load_scores(source.train_scores)), score_values(
        load_scores(source.test_scores)
    )


def score_values(frame: pd.DataFrame) -> np.ndarray:
    """A score frame's input scores, the 1-D input of a score splitter."""
    return frame[SCORE].to_numpy(dtype=np.float64)


def source_stamp(source: ScoreSource) -> tuple:
    """Size and modification time of every file of ``source``: a cache key that changes when
    one of them is rewritten."""
    stamp = []
    for path in source:
        if path:
            try:
                st = os.stat(path)
            except OSError:
                stamp.append((path, None))
            else:
                stamp.append((path, st.st_size, st.st_mtime_ns))
    return tuple(stamp)


def needs_embeddings(method: str, source: ScoreSource) -> bool:
    """True when ``method`` reads embeddings and ``source`` has none."""
    return SPLITTERS[method].input == "embeddings" and source.embeddings() is None


@dataclass(frozen=True)
class Partition:
    """A fitted splitter's labels of the test samples.

    Attributes:
        splitter: The fitted splitter.
        is_id: True (ID) per test sample, in the test file's order.
    """

    splitter: Splitter
    is_id: np.ndarray

    @property
    def n_id(self) -> int:
        """How many test samples are ID."""
        return int(np.count_nonzero(self.is_id))

    @property
    def n_ood(self) -> int:
        """How many test samples are OOD."""
        return int(self.is_id.size) - self.n_id

    @property
    def id_share(self) -> float:
        """The ID fraction of the test samples (0 when there are none)."""
        return self.n_id / max(int(self.is_id.size), 1)

    def cluster_text(self, test: pd.DataFrame, cluster_by: str | None) -> tuple[str, str] | None:
        """How many clusters the ID and the OOD samples come from, as text.

        Args:
            test: The test samples, row-aligned with :attr:`is_id`.
            cluster_by: The workspace's setting (:func:`gemviz.data.clusters.resolve`).

        Returns:
            ``("in 12 clusters (task)", ...)`` for ID and OOD, or None at step level or when
            the setting does not apply to these records.
        """
        try:
            field, codes = clusters.resolve(test, cluster_by)
        except GemvizError:
            return None
        if field == clusters.NONE:
            return None
        return (
            f"in {clusters.count(codes, self.is_id):,} clusters ({field})",
            f"in {clusters.count(codes, ~self.is_id):,} clusters ({field})",
        )


def partition(splitter: Splitter, test: np.ndarray) -> Partition:
    """Label ``test`` with a fitted ``splitter``.

    Args:
        splitter: A fitted splitter (e.g. :func:`gemviz.splitters.make_splitter` + ``fit``).
        test: The test inputs the splitter reads (see :func:`source_inputs`).

    Returns:
        The :class:`Partition`.

    Raises:
        GemvizError: Inputs the splitter refuses.
        NotFittedError: ``splitter`` is not fitted.
    """
    return Partition(splitter, np.asarray(splitter.predict(test), dtype=bool))
