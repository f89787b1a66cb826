"""Exact nearest train steps of test steps in an embedding space.

Brute force in float32 on the CPU, in blocks: a block of queries against a block of train
rows gives a distance block through ``||q||^2 - 2 q.t + ||t||^2`` (one matrix product), each
query keeps its best candidates so far, and the survivors are re-ranked with distances
computed directly in float64. Blocks are sized from a memory budget, so 1M train rows of
4,096 dimensions are searched with a few hundred MB of working memory besides the inputs
(the train array itself may be a ``np.memmap``, read block by block). The expansion loses
precision for near-equal distances; re-ranking a margin of extra candidates exactly, then
sorting by (distance, train position), makes the result exact and breaks ties by train order.

The neighbours of a whole test set are cached on disk (:func:`cached_neighbours`), keyed by
the two embedding files' fingerprints, ``k`` and the metric.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gemviz.data.errors import GemvizError
from gemviz.data.files import read_cache_npz
from gemviz.data.paths import cache_dir
from gemviz.data.write import atomic_path
from gemviz.scoring.store import load_embeddings

METRICS = ("euclidean", "cosine")
DEFAULT_K = 5
# Extra candidates kept per query for the exact float64 re-ranking: float32 rounding of the
# expanded form can swap distances that differ by less than its error, never by more.
MARGIN = 16
DEFAULT_BUDGET = 512 * 2**20  # bytes of working memory for the distance blocks


@dataclass(frozen=True)
class Neighbours:
    """The k nearest train rows of each query.

    Attributes:
        indices: (n_queries, k) int64 train positions, nearest first.
        distances: (n_queries, k) float64 distances, ascending.
    """

    indices: np.ndarray
    distances: np.ndarray


def _check(train: np.ndarray, queries: np.ndarray, k: int, metric: str) -> None:
    if metric not in METRICS:
        raise GemvizError(f"unknown metric '{metric}'; use one of {', '.join(METRICS)}")
    if train.ndim != 2 or queries.ndim != 2:
        raise GemvizError("embeddings must be 2-D arrays (rows x dimensions)")
    if train.shape[1] != queries.shape[1]:
        raise GemvizError(
            f"train embeddings have {train.shape[1]} dimensions, test embeddings "
            f"{queries.shape[1]}; they must come from the same model and method"
        )
    if len(train) == 0:
        raise GemvizError("there are no train embeddings to search")
    if k < 1:
        raise GemvizError(f"k must be at least 1, got {k}")


def _unit(x: np.ndarray) -> np.ndarray:
    # Cosine distance is half the squared Euclidean distance of unit vectors; zero vectors
    # stay zero (distance 1 to everything, as scoring.cosine has it).
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms > 0, norms, 1.0)


def block_sizes(n_train: int, n_queries: int, dim: int, budget: int) -> tuple[int, int]:
    """Query and train block lengths whose working arrays fit in ``budget`` bytes.

    A train block costs ``dim * 4`` bytes a row (its float32 copy); a distance block costs
    16 bytes an entry (float32 distances + int64 partition indices + slack).
    """
    train_block = int(max(1, min(n_train, budget // 4 // (4 * max(dim, 1)))))
    query_block = int(max(1, min(n_queries, budget // 2 // (16 * train_block))))
    return query_block, train_block


def search(
    train: np.ndarray,
    queries: np.ndarray,
    k: int = DEFAULT_K,
    metric: str = "euclidean",
    budget: int = DEFAULT_BUDGET,
) -> Neighbours:
    """The exact ``k`` nearest train rows of every query row.

    Args:
        train: (n_train, d) embeddings (any float dtype; a memmap is read block by block).
        queries: (n_queries, d) embeddings.
        k: Neighbours per query (at most ``n_train``).
        metric: ``"euclidean"`` or ``"cosine"`` (1 - cosine similarity).
        budget: Bytes of working memory for the blocks, besides the inputs.

    Returns:
        Train positions and distances, nearest first, ties broken by train position.

    Raises:
        GemvizError: Unknown metric, mismatched dimensions, no train rows or ``k < 1``.
    """
    _check(train, queries, k, metric)
    k = min(k, len(train))
    cand = min(len(train), k + MARGIN)
    q_all = np.asarray(queries, dtype=np.float32)
    if metric == "cosine":
        q_all = _unit(q_all)
    nq = len(q_all)
    qb, tb = block_sizes(len(train), nq, train.shape[1], budget)
    best_idx = np.zeros((nq, cand), dtype=np.int64)
    best_d = np.full((nq, cand), np.inf, dtype=np.float32)
    for t0 in range(0, len(train), tb):
        t = np.asarray(train[t0 : t0 + tb], dtype=np.float32)
        if metric == "cosine":
            t = _unit(t)
        t_sq = np.einsum("ij,ij->i", t, t)
        for q0 in range(0, nq, qb):
            q = q_all[q0 : q0 + qb]
            d = q @ t.T
            d *= -2.0
            d += np.einsum("ij,ij->i", q, q)[:, None]
            d += t_sq[None, :]
            np.maximum(d, 0.0, out=d)
            m = min(cand, d.shape[1])
            part = _smallest(d, m)
            pd_ = np.take_along_axis(d, part, axis=1)
            merged_d = np.concatenate([best_d[q0 : q0 + qb], pd_], axis=1)
            merged_i = np.concatenate([best_idx[q0 : q0 + qb], part + t0], axis=1)
            # Equal distances keep the earlier train row (empty slots hold inf).
            keep = np.lexsort((merged_i, merged_d), axis=1)[:, :cand]
            best_d[q0 : q0 + qb] = np.take_along_axis(merged_d, keep, axis=1)
            best_idx[q0 : q0 + qb] = np.take_along_axis(merged_i, keep, axis=1)
    return _rerank(train, queries, best_idx, k, metric)


def _smallest(d: np.ndarray, m: int) -> np.ndarray:
    """Column positions of the ``m`` smallest values of each row, ties to the earlier column.

    ``argpartition`` first; only the rows where it split a tie at the cut (more equal values
    than it kept) are redone by :func:`_earliest_smallest`, so the common case costs one
    comparison pass more.
    """
    if m >= d.shape[1]:
        return np.broadcast_to(np.arange(d.shape[1]), d.shape)
    part = np.argpartition(d, m - 1, axis=1)[:, :m]
    kept = np.take_along_axis(d, part, axis=1)
    cut = kept.max(axis=1, keepdims=True)
    split = (d == cut).sum(axis=1) > (kept == cut).sum(axis=1)
    if split.any():
        part[split] = _earliest_smallest(d[split], m)
    return part


def _earliest_smallest(d: np.ndarray, m: int) -> np.ndarray:
    """Column positions of the ``m`` smallest values of each row, ties to the earlier column.

    ``argpartition`` picks arbitrary members of a tie; when more rows tie than the candidates
    kept (text-only embeddings repeat within a task), the survivors must be the earliest
    train rows, so the exact re-ranking can return them as documented.

    Returns:
        An (rows, m) int64 array, each row's positions in increasing order.
    """
    if m >= d.shape[1]:
        return np.broadcast_to(np.arange(d.shape[1]), d.shape)
    threshold = np.partition(d, m - 1, axis=1)[:, m - 1 : m]
    below = d < threshold
    need = m - below.sum(axis=1, keepdims=True)
    tied = d == threshold
    chosen = below | (tied & (np.cumsum(tied, axis=1) <= need))
    return np.nonzero(chosen)[1].reshape(len(d), m)


def _rerank(
    train: np.ndarray, queries: np.ndarray, cand: np.ndarray, k: int, metric: str
) -> Neighbours:
    out_i = np.empty((len(queries), k), dtype=np.int64)
    out_d = np.empty((len(queries), k), dtype=np.float64)
    step = max(1, 4096 // cand.shape[1])
    for q0 in range(0, len(queries), step):
        idx = cand[q0 : q0 + step]
        flat = np.unique(idx)
        t = np.asarray(train[flat], dtype=np.float64)[np.searchsorted(flat, idx)]  # (b, c, d)
        q = np.asarray(queries[q0 : q0 + step], dtype=np.float64)[:, None, :]
        if metric == "cosine":
            norms = np.linalg.norm(t, axis=2) * np.linalg.norm(q, axis=2)
            dist = 1.0 - (t * q).sum(axis=2) / np.where(norms > 0, norms, 1.0)
        else:
            dist = np.sqrt(((t - q) ** 2).sum(axis=2))
        order = np.lexsort((idx, dist), axis=1)[:, :k]
        out_i[q0 : q0 + step] = np.take_along_axis(idx, order, axis=1)
        out_d[q0 : q0 + step] = np.take_along_axis(dist, order, axis=1)
    return Neighbours(out_i, out_d)


# ----------------------------------------------------------------------------- files


def file_fingerprint(path: str | os.PathLike) -> str:
    """Path, size and modification time of a file: changes whenever the file is rewritten."""
    p = Path(path).resolve()
    try:
        st = p.stat()
    except OSError as exc:
        raise GemvizError("file not found; check the path", file=str(path)) from exc
    return f"{p}:{st.st_size}:{st.st_mtime_ns}"


def cache_key(
    train_path: str | os.PathLike, test_path: str | os.PathLike, k: int, metric: str
) -> str:
    """The cache key of a whole-test-set search."""
    text = "\n".join([file_fingerprint(train_path), file_fingerprint(test_path), str(k), metric])
    return hashlib.sha1(text.encode()).hexdigest()[:20]


@dataclass(frozen=True)
class NeighbourTable:
    """Neighbours of every test step of an embedding pair, with the ids of both files."""

    test_ids: list[str]
    train_ids: list[str]
    indices: np.ndarray
    distances: np.ndarray
    metric: str

    def position(self, test_id: str) -> int:
        """Row of ``test_id``.

        Raises:
            GemvizError: The id is not in the test embeddings.
        """
        try:
            return self.test_ids.index(test_id)
        except ValueError:
            raise GemvizError(
                f"unknown id {test_id!r}: not in the test embeddings "
                f"({len(self.test_ids)} ids, e.g. {', '.join(map(repr, self.test_ids[:3]))})"
            ) from None


def cached_neighbours(
    train_path: str | os.PathLike,
    test_path: str | os.PathLike,
    k: int = DEFAULT_K,
    metric: str = "euclidean",
    cache: bool = True,
) -> NeighbourTable:
    """Neighbours of every test step, computed once per file pair, k and metric.

    Args:
        train_path: ``train_embeddings.npz`` (``ids``, ``embeddings``).
        test_path: ``test_embeddings.npz``.
        k: Neighbours per test step.
        metric: ``"euclidean"`` or ``"cosine"``.
        cache: Read and write ``<cache>/neighbours/<key>.npz``.

    Raises:
        GemvizError: A file is missing or not an embeddings file; see :func:`search`.
    """
    if metric not in METRICS:
        raise GemvizError(f"unknown metric '{metric}'; use one of {', '.join(METRICS)}")
    path = cache_dir("neighbours") / f"{cache_key(train_path, test_path, k, metric)}.npz"
    data = (
        read_cache_npz(path, ("test_ids", "train_ids", "indices", "distances")) if cache else None
    )
    if data is not None:  # a damaged cache file is removed by read_cache_npz and recomputed
        return NeighbourTable(
            [str(s) for s in data["test_ids"]],
            [str(s) for s in data["train_ids"]],
            data["indices"].astype(np.int64),
            data["distances"].astype(np.float64),
            metric,
        )
    train_ids, train = load_embeddings(train_path)
    test_ids, test = load_embeddings(test_path)
    found = search(train, test, k=k, metric=metric)
    result = NeighbourTable(test_ids, train_ids, found.indices, found.distances, metric)
    if cache:
        with atomic_path(path, suffix=".npz") as tmp, open(tmp, "wb") as fh:
            np.savez(
                fh,
                test_ids=np.asarray(test_ids, dtype=str),
                train_ids=np.asarray(train_ids, dtype=str),
                indices=found.indices,
                distances=found.distances,
            )
    return result


def rows(result: NeighbourTable, ids: list[str] | None = None) -> list[dict[str, object]]:
    """Rows ``id, rank, neighbour, distance`` (rank 1..k) for ``ids`` (default: every step).

    Raises:
        GemvizError: An id is not in the test embeddings.
    """
    positions = range(len(result.test_ids)) if not ids else [result.position(i) for i in ids]
    out: list[dict[str, object]] = []
    for pos in positions:
        for rank, (j, d) in enumerate(
            zip(result.indices[pos], result.distances[pos], strict=True), start=1
        ):
            out.append(
                {
                    "id": result.test_ids[pos],
                    "rank": rank,
                    "neighbour": result.train_ids[int(j)],
                    "distance": float(d),
                }
            )
    return out
