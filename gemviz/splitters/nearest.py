"""Exact nearest neighbours of unit vectors: k nearest rows, k-th neighbour radii, ball counts.

Coverage asks three things of two sets of embeddings: each row's k nearest rows of the other
set, each row's distance to its own k-th neighbour (a *radius*), and which rows lie inside
which balls. All of them are answered here in one blocked scan per pair of sets.

Distances are Euclidean between L2-normalised embeddings, ``d = sqrt(2 - 2 cos)``: ranking by
distance is ranking by cosine similarity, and ``d <= r`` is ``cos >= 1 - r**2 / 2``. A block of
query rows times a block of reference rows is one float32 matrix product of similarities. A
pair becomes a *candidate* only when its float32 similarity is within :func:`tolerance` of what
could matter (the row's current k-th best, or a ball's edge); every candidate is then settled
in float64 from the vectors themselves. float32 rounding of a dot product of unit vectors is
smaller than the tolerance, so nothing that matters is missed, and the results are exact:
distances in float64, neighbours sorted by (distance, reference position), so ties go to the
earlier row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from gemviz.data.errors import GemvizError

#: Working memory of one similarity block (float32), in bytes.
BLOCK_BYTES = 128 * 2**20
#: Reference rows per block (a multiple of the BLAS tile; queries fill the rest of the budget).
REF_BLOCK = 16384
#: Columns of the first block whose k-th best sets a row's first bound.
SAMPLE_COLUMNS = 1024
#: Candidate pairs settled in float64 at a time.
PAIR_CHUNK = 8192


@dataclass(frozen=True)
class Scan:
    """What one scan of queries against reference rows found.

    Attributes:
        indices: ``(n_queries, k)`` reference positions, nearest first (ties: earlier row).
        distances: ``(n_queries, k)`` float64 distances, ascending.
        inside: ``(n_queries,)`` True where the query lies in some reference row's ball
            (``d <= ref_radii[j]``); None when no reference radii were given.
        holds: ``(n_reference,)`` how many query balls (``d <= query_radii[i]``) hold each
            reference row; None when no query radii were given.
    """

    indices: np.ndarray
    distances: np.ndarray
    inside: np.ndarray | None = None
    holds: np.ndarray | None = None


def unit_rows(values: Any, what: str = "embeddings") -> np.ndarray:
    """Rows scaled to unit length (float64), after checking they are finite and non-zero.

    Raises:
        GemvizError: Not a non-empty 2-D numeric array, non-finite values, or a zero row.
    """
    try:
        x = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise GemvizError(f"{what} must be numbers ({exc})") from None
    if x.ndim != 2 or x.shape[0] == 0 or x.shape[1] == 0:
        raise GemvizError(f"{what} must be a non-empty 2-D array (rows x dimensions)")
    if not np.isfinite(x).all():
        raise GemvizError(f"{what} hold NaN or infinite values")
    norms = np.linalg.norm(x, axis=1)
    if (norms == 0).any():
        row = int(np.argmax(norms == 0))
        raise GemvizError(f"{what}: row {row + 1} is all zeros and has no direction")
    return x / norms[:, None]


def tolerance(dim: int) -> float:
    """A bound on the float32 error of a similarity of two unit vectors of ``dim`` values.

    Each product and sum rounds by at most 2**-24 relative, and the products' magnitudes sum to
    at most 1 (Cauchy-Schwarz); rounding the inputs adds two more units. Doubled for margin.
    """
    return 2.0 * (dim + 2) * 2.0**-24


def similarity_threshold(radii: np.ndarray) -> np.ndarray:
    """The cosine similarity at distance ``radii`` between unit vectors (``1 - r**2 / 2``)."""
    return 1.0 - np.asarray(radii, dtype=np.float64) ** 2 / 2.0


def pair_distances(q: np.ndarray, r: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Exact float64 distances of the pairs ``(q[rows], r[cols])``, a chunk at a time."""
    out = np.empty(len(rows), dtype=np.float64)
    for s in range(0, len(rows), PAIR_CHUNK):
        diff = q[rows[s : s + PAIR_CHUNK]] - r[cols[s : s + PAIR_CHUNK]]
        out[s : s + PAIR_CHUNK] = np.sqrt(np.einsum("ij,ij->i", diff, diff))
    return out


def scan(
    queries: np.ndarray,
    reference: np.ndarray,
    k: int,
    *,
    query_radii: np.ndarray | None = None,
    ref_radii: np.ndarray | None = None,
    exclude_self: bool = False,
) -> Scan:
    """The exact ``k`` nearest reference rows of every query, and optionally ball memberships.

    Args:
        queries, reference: Unit rows (from :func:`unit_rows`), same width.
        k: Neighbours per query (at most the reference rows available).
        query_radii: One radius per query: count, for every reference row, the query balls
            that hold it (:attr:`Scan.holds`).
        ref_radii: One radius per reference row: flag the queries inside some reference ball
            (:attr:`Scan.inside`).
        exclude_self: ``queries`` is ``reference``; a row is never its own neighbour (nor in
            its own ball).

    Raises:
        GemvizError: Mismatched widths, or fewer reference rows than ``k``.
    """
    if queries.shape[1] != reference.shape[1]:
        raise GemvizError(
            f"embeddings of {queries.shape[1]} and {reference.shape[1]} dimensions; use "
            "embeddings from the same model"
        )
    available = min(len(reference) - (1 if exclude_self else 0), REF_BLOCK - 1)
    if k < 1 or k > available:
        raise GemvizError(f"k = {k} neighbours asked of {available} rows; use 1 to {available}")
    state = _State(queries, reference, k, query_radii, ref_radii, exclude_self)
    q_block = max(1, min(len(queries), BLOCK_BYTES // 4 // min(REF_BLOCK, len(reference))))
    for q0 in range(0, len(queries), q_block):
        state.run_block(q0, min(len(queries), q0 + q_block))
    return state.result()


class _State:
    """The scan's inputs in float32 and what it has found so far."""

    def __init__(self, queries, reference, k, query_radii, ref_radii, exclude_self) -> None:
        self.q, self.r, self.k, self.same = queries, reference, k, exclude_self
        self.q32 = np.ascontiguousarray(queries, dtype=np.float32)
        self.r32 = self.q32 if exclude_self else np.ascontiguousarray(reference, dtype=np.float32)
        self.tol = np.float32(tolerance(queries.shape[1]))
        self.q_radii = None if query_radii is None else np.asarray(query_radii, dtype=np.float64)
        self.r_radii = None if ref_radii is None else np.asarray(ref_radii, dtype=np.float64)
        self.q_thr = None if query_radii is None else _lowered(query_radii, self.tol)
        self.r_thr = None if ref_radii is None else _lowered(ref_radii, self.tol)
        n = len(queries)
        self.indices = np.empty((n, k), dtype=np.int64)
        self.distances = np.empty((n, k), dtype=np.float64)
        self.inside = None if ref_radii is None else np.zeros(n, dtype=bool)
        self.holds = None if query_radii is None else np.zeros(len(reference), dtype=np.int64)

    def run_block(self, q0: int, q1: int) -> None:
        """Scan queries ``q0:q1`` against every reference block; settle their neighbours."""
        rows = np.empty(0, dtype=np.int64)
        cols = np.empty(0, dtype=np.int64)
        sims = np.empty(0, dtype=np.float32)
        bound = None
        for t0 in range(0, len(self.r32), REF_BLOCK):
            t1 = min(len(self.r32), t0 + REF_BLOCK)
            s = self.q32[q0:q1] @ self.r32[t0:t1].T
            if self.same:
                _mask_self(s, q0, t0)
            if bound is None:  # the first block has more than k columns besides the row itself
                bound = _kth_largest(s, self.k)
            r_, c_ = _at_least(s, bound - self.tol)
            rows = np.concatenate([rows, r_])
            cols = np.concatenate([cols, c_ + t0])
            sims = np.concatenate([sims, s[r_, c_]])
            rows, cols, sims, bound = _prune(rows, cols, sims, self.k, q1 - q0, self.tol)
            self._balls(s, q0, t0)
        self._settle(q0, q1 - q0, rows, cols)

    def _balls(self, s: np.ndarray, q0: int, t0: int) -> None:
        if self.q_thr is not None:
            r_, c_ = np.nonzero(s >= self.q_thr[q0 : q0 + len(s), None])
            if r_.size:
                d = pair_distances(self.q, self.r, r_ + q0, c_ + t0)
                ok = d <= self.q_radii[r_ + q0]
                self.holds += np.bincount(c_[ok] + t0, minlength=len(self.holds))
        if self.r_thr is not None:
            r_, c_ = np.nonzero(s >= self.r_thr[None, t0 : t0 + s.shape[1]])
            if r_.size:
                d = pair_distances(self.q, self.r, r_ + q0, c_ + t0)
                self.inside[r_[d <= self.r_radii[c_ + t0]] + q0] = True

    def _settle(self, q0: int, n: int, rows: np.ndarray, cols: np.ndarray) -> None:
        """Exact distances of the candidates; the k smallest per row, ties to the earlier."""
        d = pair_distances(self.q, self.r, rows + q0, cols)
        order = np.lexsort((cols, d, rows))
        rows, cols, d = rows[order], cols[order], d[order]
        starts = np.searchsorted(rows, np.arange(n))
        take = (starts[:, None] + np.arange(self.k)[None, :]).ravel()
        self.indices[q0 : q0 + n] = cols[take].reshape(n, self.k)
        self.distances[q0 : q0 + n] = d[take].reshape(n, self.k)

    def result(self) -> Scan:
        return Scan(self.indices, self.distances, self.inside, self.holds)


def _at_least(s: np.ndarray, threshold: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row and column positions where ``s`` reaches its row's ``threshold``.

    Rows whose maximum falls short are skipped first (one cheap reduction), so a block that
    holds no candidate for most rows costs little more than its matrix product.
    """
    hit = np.flatnonzero(s.max(axis=1) >= threshold)
    if hit.size == len(s):
        return np.nonzero(s >= threshold[:, None])
    r_, c_ = np.nonzero(s[hit] >= threshold[hit, None])
    return hit[r_], c_


def _lowered(radii: np.ndarray, tol: np.float32) -> np.ndarray:
    """float32 similarity thresholds of ``radii``, lowered by the tolerance."""
    return (similarity_threshold(radii) - float(tol)).astype(np.float32)


def _mask_self(s: np.ndarray, q0: int, t0: int) -> None:
    """Set the similarity of each row with itself to -inf (queries are the reference)."""
    lo, hi = max(q0, t0), min(q0 + s.shape[0], t0 + s.shape[1])
    if lo < hi:
        idx = np.arange(lo, hi)
        s[idx - q0, idx - t0] = -np.inf


def _kth_largest(s: np.ndarray, k: int) -> np.ndarray:
    """A first bound per row: the k-th largest of its first :data:`SAMPLE_COLUMNS` values.

    The true k-th largest of the whole row can only be higher, so nothing is missed; a few
    hundred columns already make the bound tight enough that few candidates pass it.
    """
    if k == 1:
        return s.max(axis=1)
    m = min(s.shape[1], max(SAMPLE_COLUMNS, 4 * k))
    return np.partition(s[:, :m], m - k, axis=1)[:, m - k]


def _prune(rows, cols, sims, k: int, n_rows: int, tol: np.float32):
    """Keep each row's candidates within ``tol`` of its k-th best; the new per-row bounds.

    Every row holds at least ``k`` candidates (all those of the first block at or above its
    k-th best, and every later one that could replace them).
    """
    order = np.lexsort((cols, -sims, rows))
    rows, cols, sims = rows[order], cols[order], sims[order]
    counts = np.bincount(rows, minlength=n_rows)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    bound = sims[starts + k - 1]
    keep = sims >= (bound - tol)[rows]
    return rows[keep], cols[keep], sims[keep], bound


def kth_radii(x: np.ndarray, k: int) -> np.ndarray:
    """Each row's distance to its k-th nearest *other* row of ``x`` (leave-one-out).

    A duplicate counts as a neighbour at distance 0, as in the definitions of Naeem et al. and
    Kynkäänniemi et al. (their code takes the (k+1)-th smallest distance, the row itself first).

    Raises:
        GemvizError: ``x`` has ``k`` rows or fewer.
    """
    if len(x) <= k:
        raise GemvizError(f"a k-th neighbour radius with k = {k} needs more than {k} rows")
    return scan(x, x, k, exclude_self=True).distances[:, -1]
