"""2-D UMAP projections of step embeddings, cached on disk.

:class:`Projector` follows the scikit-learn contract (parameters in ``__init__``,
``fit_transform`` sets attributes ending in ``_``): an optional seeded random subsample caps the
number of points, PCA first shrinks wide embeddings (UMAP's neighbour search is much faster on
50 dimensions than on 384 or 3584, and the 2-D picture barely changes), then umap-learn maps
them to 2-D.

Large inputs: above ``fit_limit`` points (:data:`FIT_LIMIT`, 100,000 by default) UMAP is
fitted on a seeded random subsample of ``fit_limit`` points and every other point is placed in
that map with UMAP's ``transform`` (its neighbours among the fitted points, then a short
layout of the new points alone), in blocks. Every point is kept and mapped; the layout, the
part that cannot use more than one core with a fixed seed, runs on ``fit_limit`` points
whatever the input's size, so a million points map in minutes rather than an hour.

:func:`project` runs a projector on a splitter's test embeddings (optionally with the train
embeddings, fitted together so both live in one map) and stores the result under
``cache/projections/<key>.npz``, where the key hashes the embeddings, their ids and the
parameters; asking again with the same inputs loads the file instead of recomputing.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from gemviz.data.errors import GemvizError, NotFittedError
from gemviz.data.paths import cache_dir
from gemviz.data.write import atomic_path
from gemviz.scoring.store import load_embeddings

Progress = Callable[[int, int, str], None]
METRICS = ("euclidean", "cosine", "manhattan", "correlation")
TEST, TRAIN = "test", "train"
# Bump when the stored layout or the computation changes, so old cache files are not reused.
_CACHE_VERSION = 2
# Above this many points, UMAP is fitted on a subsample of this size and the rest transformed.
FIT_LIMIT = 100_000
_TRANSFORM_BLOCK = 100_000


@dataclass(frozen=True)
class ProjectionParams:
    """Everything that decides a projection.

    Attributes:
        n_neighbors: UMAP's neighbourhood size (larger keeps more global structure).
        min_dist: UMAP's minimum distance between points in 2-D (smaller packs clusters).
        metric: Distance in embedding space, one of :data:`METRICS`.
        seed: Seed of the subsample, PCA and UMAP.
        pca_components: Reduce to this many dimensions with PCA first when the embeddings are
            wider; None or 0 skips PCA.
        max_samples: Project at most this many points (a seeded random subsample of the test
            and train points together); None keeps all.
        fit_limit: Fit UMAP on at most this many points (a seeded subsample) and place the
            others with ``transform``; None fits on all.
    """

    n_neighbors: int = 15
    min_dist: float = 0.1
    metric: str = "euclidean"
    seed: int = 42
    pca_components: int | None = 50
    max_samples: int | None = None
    fit_limit: int | None = FIT_LIMIT

    def __post_init__(self) -> None:
        if self.n_neighbors < 2:
            raise GemvizError(f"n_neighbors must be at least 2, got {self.n_neighbors}")
        if not 0.0 <= self.min_dist <= 1.0:
            raise GemvizError(f"min_dist must be between 0 and 1, got {self.min_dist}")
        if self.metric not in METRICS:
            raise GemvizError(f"unknown metric '{self.metric}'; use one of {', '.join(METRICS)}")
        if self.max_samples is not None and self.max_samples < 3:
            raise GemvizError(f"max_samples must be at least 3, got {self.max_samples}")
        if self.fit_limit is not None and self.fit_limit < 3:
            raise GemvizError(f"fit_limit must be at least 3, got {self.fit_limit}")


class Projector:
    """Subsample, PCA, UMAP to 2-D, in the scikit-learn style.

    Args:
        n_neighbors, min_dist, metric: UMAP parameters.
        random_state: Seed of the subsample, PCA and UMAP.
        pca_components: PCA target width for wider inputs (None/0: no PCA).
        max_samples: Cap on the number of rows projected (None: all).
        fit_limit: Fit UMAP on at most this many rows and transform the others (None: all).

    Attributes (after fit):
        sample_index_: Rows of ``x`` that were projected, increasing.
        embedding_: Their 2-D coordinates, float32 (len(sample_index_), 2).
        pca_: The fitted PCA, or None when it was not needed.
        umap_: The fitted ``umap.UMAP``.
        n_features_in_: Width of ``x``.
    """

    def __init__(
        self,
        n_neighbors: int = 15,
        min_dist: float = 0.1,
        metric: str = "euclidean",
        random_state: int = 42,
        pca_components: int | None = 50,
        max_samples: int | None = None,
        fit_limit: int | None = FIT_LIMIT,
    ) -> None:
        self.n_neighbors = n_neighbors
        self.min_dist = min_dist
        self.metric = metric
        self.random_state = random_state
        self.pca_components = pca_components
        self.max_samples = max_samples
        self.fit_limit = fit_limit

    @classmethod
    def from_params(cls, params: ProjectionParams) -> Projector:
        """A projector with the settings of ``params``."""
        return cls(
            n_neighbors=params.n_neighbors,
            min_dist=params.min_dist,
            metric=params.metric,
            random_state=params.seed,
            pca_components=params.pca_components,
            max_samples=params.max_samples,
            fit_limit=params.fit_limit,
        )

    def fit(self, x: np.ndarray, progress: Progress | None = None) -> Projector:
        """Fit on ``x`` (n x d); see :meth:`fit_transform`."""
        self.fit_transform(x, progress=progress)
        return self

    def fit_transform(self, x: np.ndarray, progress: Progress | None = None) -> np.ndarray:
        """Project the rows of ``x`` (or of its subsample) to 2-D.

        Args:
            x: Embeddings, n x d, finite.
            progress: Called as ``progress(done, total, stage)`` between stages.

        Returns:
            float32 array (len(sample_index_), 2).

        Raises:
            GemvizError: ``x`` is not 2-D, has too few rows, or holds NaN/inf.
        """
        report = progress or (lambda done, total, stage: None)
        x = np.asarray(x, dtype=np.float32)
        if x.ndim != 2:
            raise GemvizError(f"embeddings must be a 2-D array, got shape {x.shape}")
        if len(x) < 3:
            raise GemvizError(f"need at least 3 embeddings to project, got {len(x)}")
        if not np.isfinite(x).all():
            raise GemvizError("the embeddings hold NaN or infinite values; re-run scoring")
        total = 3
        report(0, total, "subsample")
        rng = np.random.default_rng(self.random_state)
        index = np.arange(len(x))
        if self.max_samples is not None and len(x) > self.max_samples:
            index = np.sort(rng.choice(len(x), size=self.max_samples, replace=False))
        z = x[index]
        self.pca_ = None
        if self.pca_components and z.shape[1] > self.pca_components:
            report(1, total, "pca")
            n_comp = min(self.pca_components, len(z))
            from sklearn.decomposition import PCA  # heavy: imported where a map is made

            self.pca_ = PCA(n_components=n_comp, random_state=self.random_state)
            z = self.pca_.fit_transform(z).astype(np.float32)
        report(2, total, "umap")
        import umap  # slow to import (numba); only when a projection actually runs

        n_neighbors = min(self.n_neighbors, len(z) - 1)
        self.umap_ = umap.UMAP(
            n_components=2,
            n_neighbors=n_neighbors,
            min_dist=self.min_dist,
            metric=self.metric,
            random_state=self.random_state,
            # A fixed seed makes umap-learn single-threaded anyway; low_memory keeps the
            # neighbour search within a laptop's memory for 50k+ points.
            low_memory=True,
            # Spectral initialisation needs a connected-enough graph; tiny inputs fall back.
            init="spectral" if len(z) > 2 * n_neighbors + 2 else "random",
        )
        fitted = np.arange(len(z))
        if self.fit_limit is not None and len(z) > self.fit_limit:
            pick = np.random.default_rng([self.random_state, 1])
            fitted = np.sort(pick.choice(len(z), size=self.fit_limit, replace=False))
        with warnings.catch_warnings():
            # umap-learn warns that a seed disables parallelism; reproducibility wins here.
            warnings.filterwarnings("ignore", message=".*random_state.*", category=UserWarning)
            layout = np.asarray(self.umap_.fit_transform(z[fitted]), dtype=np.float32)
            if len(fitted) == len(z):
                self.embedding_ = layout
            else:
                self.embedding_ = np.empty((len(z), 2), dtype=np.float32)
                self.embedding_[fitted] = layout
                rest = np.setdiff1d(np.arange(len(z)), fitted, assume_unique=True)
                blocks = np.array_split(rest, -(-len(rest) // _TRANSFORM_BLOCK))
                for i, block in enumerate(blocks):
                    report(2, total, f"umap: placing block {i + 1} of {len(blocks)}")
                    self.embedding_[block] = self.umap_.transform(z[block])
        self.sample_index_ = index
        self.n_features_in_ = x.shape[1]
        report(3, total, "done")
        return self.embedding_

    def transform(self, x: np.ndarray) -> np.ndarray:
        """Place new rows in the fitted 2-D map.

        Raises:
            NotFittedError: Called before :meth:`fit`.
        """
        if not hasattr(self, "umap_"):
            raise NotFittedError("this Projector is not fitted yet; call fit_transform first")
        z = np.asarray(x, dtype=np.float32)
        if self.pca_ is not None:
            z = self.pca_.transform(z).astype(np.float32)
        return np.asarray(self.umap_.transform(z), dtype=np.float32)


@dataclass
class Projection:
    """A computed (or cached) projection.

    Attributes:
        ids: Sample ids of the projected points (object array of str).
        xy: float32 (n, 2) coordinates.
        split: ``"test"`` or ``"train"`` for each point.
        params: The parameters used.
        path: The cache file.
        from_cache: True when it was loaded rather than computed.
    """

    ids: np.ndarray
    xy: np.ndarray
    split: np.ndarray
    params: ProjectionParams
    path: Path
    from_cache: bool = False
    extra: dict = field(default_factory=dict)

    def frame(self):
        """The points as a DataFrame with columns ``id``, ``x``, ``y``, ``split``."""

        return pd.DataFrame(
            {"id": self.ids, "x": self.xy[:, 0], "y": self.xy[:, 1], "split": self.split}
        )


def cache_key(
    test_ids: Sequence[str],
    test_x: np.ndarray,
    params: ProjectionParams,
    train_ids: Sequence[str] | None = None,
    train_x: np.ndarray | None = None,
) -> str:
    """Hex digest naming the projection of these embeddings with these parameters."""
    h = hashlib.blake2b(digest_size=20)
    h.update(json.dumps({"v": _CACHE_VERSION, **asdict(params)}, sort_keys=True).encode())
    for ids, x in ((test_ids, test_x), (train_ids, train_x)):
        if x is None:
            h.update(b"<none>")
            continue
        arr = np.ascontiguousarray(x, dtype=np.float32)
        h.update(str(arr.shape).encode())
        h.update(arr.data)
        h.update("\x1f".join(map(str, ids)).encode())
    return h.hexdigest()


def project(
    test_ids: Sequence[str],
    test_x: np.ndarray,
    params: ProjectionParams | None = None,
    *,
    train_ids: Sequence[str] | None = None,
    train_x: np.ndarray | None = None,
    progress: Progress | None = None,
    use_cache: bool = True,
    compute: bool = True,
) -> Projection | None:
    """Project test (and optionally train) embeddings to 2-D, using the disk cache.

    Args:
        test_ids: Sample ids of the rows of ``test_x``.
        test_x: Test embeddings, n x d.
        params: Projection parameters (defaults if None).
        train_ids, train_x: Train embeddings to place in the same map (same width d).
        progress: Called as ``progress(done, total, stage)``.
        use_cache: False recomputes (and overwrites the cache file).
        compute: False only looks in the cache and returns None on a miss.

    Returns:
        The :class:`Projection`; ``from_cache`` says whether it was loaded. None when
        ``compute`` is false and nothing is cached.

    Raises:
        GemvizError: Ids and rows differ in number, widths differ, or the embeddings are bad.
    """
    params = params or ProjectionParams()
    _check(test_ids, test_x, "test")
    if train_x is not None:
        _check(train_ids, train_x, "train")
        if train_x.shape[1] != test_x.shape[1]:
            raise GemvizError(
                f"train embeddings are {train_x.shape[1]} wide but test embeddings "
                f"{test_x.shape[1]}; they must come from the same model and method"
            )
    key = cache_key(test_ids, test_x, params, train_ids, train_x)
    path = cache_dir("projections") / f"{key}.npz"
    if use_cache and path.exists():
        cached = load_projection(path, params)
        if cached is not None:
            if progress:
                progress(3, 3, "cached")
            return cached
    if not compute:
        return None
    ids = np.asarray(list(map(str, test_ids)), dtype=object)
    split = np.full(len(ids), TEST, dtype=object)
    x = np.asarray(test_x, dtype=np.float32)
    if train_x is not None:
        ids = np.concatenate([ids, np.asarray(list(map(str, train_ids)), dtype=object)])
        split = np.concatenate([split, np.full(len(train_x), TRAIN, dtype=object)])
        x = np.concatenate([x, np.asarray(train_x, dtype=np.float32)])
    projector = Projector.from_params(params)
    xy = projector.fit_transform(x, progress=progress)
    keep = projector.sample_index_
    result = Projection(ids=ids[keep], xy=xy, split=split[keep], params=params, path=path)
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez(
            fh,
            ids=result.ids.astype(str),
            xy=result.xy,
            split=result.split.astype(str),
            params=np.asarray(json.dumps(asdict(params))),
        )
    return result


def load_projection(
    path: str | os.PathLike, params: ProjectionParams | None = None
) -> Projection | None:
    """Read a cached projection, or None when the file is unreadable (it is then recomputed)."""
    try:
        with np.load(path, allow_pickle=False) as data:
            stored = ProjectionParams(**json.loads(str(data["params"])))
            return Projection(
                ids=data["ids"].astype(object),
                xy=data["xy"].astype(np.float32),
                split=data["split"].astype(object),
                params=params or stored,
                path=Path(path),
                from_cache=True,
            )
    except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile):
        return None  # a damaged cache file (zero-length, truncated) is simply recomputed


def project_files(
    test_embeddings: str | os.PathLike,
    params: ProjectionParams | None = None,
    *,
    train_embeddings: str | os.PathLike | None = None,
    progress: Progress | None = None,
    compute: bool = True,
) -> Projection | None:
    """:func:`project` on embedding files written by scoring (``ids`` + ``embeddings``).

    Raises:
        GemvizError: A file is missing or not an embeddings file.
    """
    test_ids, test_x = load_embeddings(test_embeddings)
    train_ids = train_x = None
    if train_embeddings is not None:
        train_ids, train_x = load_embeddings(train_embeddings)
    return project(
        test_ids,
        test_x,
        params,
        train_ids=train_ids,
        train_x=train_x,
        progress=progress,
        compute=compute,
    )


def _check(ids: Sequence[str] | None, x: np.ndarray | None, name: str) -> None:
    if x is None or ids is None:
        raise GemvizError(f"{name} embeddings and their ids are both needed")
    if np.ndim(x) != 2:
        raise GemvizError(f"{name} embeddings must be a 2-D array, got shape {np.shape(x)}")
    if len(ids) != len(x):
        raise GemvizError(f"{len(ids)} {name} ids for {len(x)} {name} embeddings; they must match")
