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
from typing import Any, NamedTuple

import numpy as np

from gemviz.data.chat import with_text
from gemviz.data.errors import GemvizError
from gemviz.data.ids import align, sample_ids
from gemviz.data.paths import cache_dir
from gemviz.data.read import read_records
from gemviz.embed import make_embedder
from gemviz.embed.base import Sample
from gemviz.scoring.score import score_files
from gemviz.scoring.store import (
    Progress,
    ProgressCounter,
    cache_key,
    embed_split,
    load_embeddings,
)


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


class EmbeddedFile(NamedTuple):
    """A file's records, their ids and texts as embedded, and the embeddings (rows aligned)."""

    ids: list[str]
    records: list[dict[str, Any]]
    texts: list[str]
    embeddings: np.ndarray


def embed_file(
    path: str | os.PathLike,
    text: str = "first",
    *,
    method: str = "sentence",
    model: str = "default",
    progress: Progress | None = None,
) -> EmbeddedFile:
    """Embed every record of a file (test entries or a training set) through the cache.

    The text of a record is its ``task``, else its conversation's first user message
    (``"first"``) or every user message (``"all"``), as ``score`` embeds it; the embeddings
    are the ones ``score`` caches, so a file embedded once costs nothing the next time.

    Raises:
        GemvizError: The file is unreadable, or a record has no text to embed.
    """
    file = str(path)
    records = read_records(path)
    texted = with_text(records, file, text)
    ids = sample_ids(texted, file)
    texts = ["" if r.get("task") is None else str(r["task"]) for r in texted]
    for row, (sid, task) in enumerate(zip(ids, texts, strict=True), start=1):
        if not task.strip():
            raise GemvizError(f"record '{sid}' has no text to embed", file=file, row=row)
    embedder = make_embedder(method, model)
    samples = [Sample(sid, task) for sid, task in zip(ids, texts, strict=True)]
    counter = ProgressCounter(len(samples), progress)
    emb = embed_split(
        embedder,
        samples,
        cache_dir("scores", cache_key(embedder, samples)),
        batch_size=embedder.default_batch_size,
        counter=counter,
        stage=f"embedding {os.path.basename(file)}",
    )
    return EmbeddedFile(ids, records, texts, np.asarray(emb, dtype=np.float32))


def embedded_from_files(
    records_path: str | os.PathLike, embeddings_path: str | os.PathLike
) -> EmbeddedFile:
    """An :class:`EmbeddedFile` from files already written: a score file and its ``.npz``.

    A training-set splitter of a workspace keeps both (``train_scores``: the set's records with
    the text embedded as ``task``; ``train_embeddings``), so coverage needs no model work.

    Raises:
        GemvizError: Unreadable files, or files of different samples.
    """
    records = read_records(records_path)
    ids = sample_ids(records, str(records_path))
    emb_ids, emb = load_embeddings(embeddings_path)
    order = align(ids, emb_ids, str(records_path), str(embeddings_path))
    texts = ["" if r.get("task") is None else str(r["task"]) for r in records]
    return EmbeddedFile(ids, records, texts, np.asarray(emb, dtype=np.float32)[order])
