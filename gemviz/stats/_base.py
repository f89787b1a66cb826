"""Seed, chunk size and small helpers shared by the statistics modules."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Sequence

import numpy as np
from threadpoolctl import ThreadpoolController

from gemviz.stats import _dist

# Default seed of the stability refits when the caller gives none. The task-level tests
# never use it: they seed every column from its own content (:func:`content_seed`).
SEED = 42
# Cap on the elements of one chunk of an index matrix (about 32 MB of int64).
_CHUNK_ELEMENTS = 4_000_000

ArrayLike = Sequence[float] | np.ndarray


#: The BLAS libraries loaded with numpy (OpenBLAS or MKL), to run the resampling on one thread.
_BLAS = ThreadpoolController()


def one_blas_thread(fn: Callable) -> Callable:
    """Run ``fn`` with numpy's BLAS on one thread. The resampling tests multiply thousands of
    draws by a few columns: threads make those products no faster, while their spinning
    adds CPU time (a third of a report's, measured on two cores)."""

    @functools.wraps(fn)
    def run(*args, **kwargs):
        with _BLAS.limit(limits=1, user_api="blas"):
            return fn(*args, **kwargs)

    return run


def _z(confidence: float) -> float:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie strictly between 0 and 1, got {confidence}")
    return float(_dist.norm_ppf(0.5 + confidence / 2.0))


def content_seed(kind: str, *arrays: np.ndarray | float | int) -> int:
    """A seed that is a pure function of a test's own inputs.

    Monte Carlo draws seeded this way give the same numbers for the same data whatever else
    is computed, in whatever order, and under whatever names: a model's row does not change
    when another model is loaded, and one result file under two names gives identical rows.

    Args:
        kind: The test (so two tests on one column draw different streams).
        arrays: The numbers the test sees (per-cluster totals, group flags, sizes).

    Returns:
        A 63-bit seed for ``numpy.random.default_rng``.
    """
    digest = hashlib.blake2b(kind.encode(), digest_size=8)
    for arr in arrays:
        # Rounded so that sums computed in another order hash alike.
        flat = np.round(np.asarray(arr, dtype=float).ravel(), 9) + 0.0
        digest.update(np.int64(flat.size).tobytes())
        digest.update(np.ascontiguousarray(flat).tobytes())
    return int.from_bytes(digest.digest(), "little") >> 1


def cluster_codes(clusters: np.ndarray | None, used: np.ndarray) -> np.ndarray:
    """Dense cluster codes ``0..k-1`` of the used steps (every step its own without clusters)."""
    if clusters is None:
        return np.arange(int(used.sum()))
    codes = np.asarray(clusters)[used]
    if (
        codes.dtype.kind in "iu"
        and codes.size
        and codes.min() >= 0
        and codes.max() < 2 * codes.size
    ):
        # Small non-negative integers (a study's cluster codes): each code's rank among the
        # codes present, by a count instead of a sort (np.unique's inverse, in linear time).
        present = np.zeros(int(codes.max()) + 1, dtype=bool)
        present[codes] = True
        return (np.cumsum(present) - 1)[codes]
    return np.unique(codes, return_inverse=True)[1].reshape(-1)


def column_sums(inv: np.ndarray, x: np.ndarray, k: int) -> np.ndarray:
    """Per-cluster sums ``(k, m)`` of the columns of ``x``."""
    return np.column_stack(
        [np.bincount(inv, weights=x[:, j], minlength=k) for j in range(x.shape[1])]
    ).reshape(k, x.shape[1])
