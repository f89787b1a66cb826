"""A splitter from a training set: the test entries scored against the set's prompts.

A tool-calling agent is fine-tuned on a training set of conversations (chat JSONL with
``messages``, or parquet with a ``prompt``/``messages`` column). Scoring the test entries
against those prompts with the packaged sentence model (``score --method sentence``) and
partitioning them with GEM says which entries lie inside what the set covers: the ID/OOD
question of the study, asked of the training data. Two training sets give two splitters and
their Venn.
"""

from __future__ import annotations

import os
import uuid
from typing import NamedTuple

from gemviz.data.paths import cache_dir
from gemviz.scoring.score import score_files


class TrainingScores(NamedTuple):
    """The score and embedding files of a test set scored against one training set."""

    train_scores: str
    test_scores: str
    train_embeddings: str
    test_embeddings: str


def score_training_set(
    train: str | os.PathLike,
    test: str | os.PathLike,
    text: str = "first",
    out_dir: str | os.PathLike | None = None,
) -> TrainingScores:
    """Embed the training prompts and the test entries; write both sides' input scores.

    The outputs go to ``out_dir``, by default a staging folder that
    :func:`gemviz.workspace.files.adopt` moves into the workspace; the embeddings themselves
    are cached, so a second workspace over the same files does no model work.

    Args:
        train: The training set (chat JSONL, JSON, CSV or parquet of conversations or tasks).
        test: The test entries (BFCL ``question`` turns, or records with ``task``).
        text: ``"first"`` (first user message, the default) or ``"all"`` (every user
            message joined); see :mod:`gemviz.data.chat`.
        out_dir: Where the files go (default: a new staging folder).

    Returns:
        The four files.

    Raises:
        GemvizError: A file is unreadable, or a record has no text to embed.
    """
    if out_dir is None:
        out_dir = cache_dir("uploads", "training-sets", uuid.uuid4().hex[:12])
    out = score_files(
        model="default", method="sentence", train=train, test=test, out_dir=out_dir, text=text
    )
    return TrainingScores(
        str(out.train_scores),
        str(out.test_scores),
        str(out.train_embeddings),
        str(out.test_embeddings),
    )
