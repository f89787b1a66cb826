"""Tests for gemviz.analysis.projection: the UMAP projector, its parameters and the disk cache."""

from __future__ import annotations

import numpy as np
import pytest

from gemviz.analysis.projection import (
    TEST,
    TRAIN,
    ProjectionParams,
    Projector,
    cache_key,
    load_projection,
    project,
)
from gemviz.data.errors import GemvizError, NotFittedError
from gemviz.data.paths import cache_dir
from tests.conftest import SEED


def _clusters(n_per: int = 100, dim: int = 64, seed: int = SEED):
    """Three well-separated Gaussian clusters; returns (ids, X, cluster labels)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=10.0, size=(3, dim))
    y = np.repeat(np.arange(3), n_per)
    X = (centres[y] + rng.normal(size=(len(y), dim))).astype(np.float32)
    ids = [f"s{i}" for i in range(len(y))]
    return ids, X, y


@pytest.fixture(scope="module")
def data():
    return _clusters()


@pytest.fixture(scope="module")
def fitted(data):
    _, X, _ = data
    proj = Projector(n_neighbors=10, pca_components=16, random_state=SEED)
    return proj, proj.fit_transform(X)


@pytest.mark.slow
def test_projector_keeps_clusters_apart(data, fitted):
    _, X, y = data
    proj, xy = fitted
    assert xy.shape == (len(X), 2) and xy.dtype == np.float32
    # every point's nearest 2-D neighbour belongs to its own cluster
    d = np.linalg.norm(xy[:, None] - xy[None], axis=-1)
    np.fill_diagonal(d, np.inf)
    assert (y[d.argmin(axis=1)] == y).mean() > 0.98
    assert proj.pca_ is not None and proj.pca_.n_components_ == 16
    assert proj.n_features_in_ == 64


@pytest.mark.slow
def test_projector_is_reproducible_with_a_seed(data, fitted):
    _, X, _ = data
    again = Projector(n_neighbors=10, pca_components=16, random_state=SEED).fit_transform(X)
    np.testing.assert_allclose(again, fitted[1], atol=1e-4)


@pytest.mark.slow
def test_sample_cap_takes_a_seeded_subsample(data):
    _, X, _ = data
    proj = Projector(n_neighbors=5, pca_components=None, max_samples=60, random_state=SEED)
    xy = proj.fit_transform(X)
    assert xy.shape == (60, 2)
    assert proj.pca_ is None
    idx = proj.sample_index_
    assert len(np.unique(idx)) == 60 and (np.diff(idx) > 0).all()
    other = Projector(n_neighbors=5, pca_components=None, max_samples=60, random_state=SEED + 1)
    other.fit_transform(X)
    assert not np.array_equal(other.sample_index_, idx)


def test_transform_before_fit_raises():
    with pytest.raises(NotFittedError):
        Projector().transform(np.zeros((3, 4)))


def test_bad_inputs_raise():
    with pytest.raises(GemvizError, match="2-D"):
        Projector().fit_transform(np.zeros(10))
    with pytest.raises(GemvizError, match="NaN"):
        Projector().fit_transform(np.full((10, 3), np.nan))
    with pytest.raises(GemvizError, match="metric"):
        ProjectionParams(metric="hamming-ish")
    with pytest.raises(GemvizError, match="ids"):
        project(["a"], np.zeros((2, 3)))


@pytest.mark.slow
def test_project_caches_on_disk_and_reloads(data):
    ids, X, _ = data
    params = ProjectionParams(n_neighbors=8, pca_components=16)
    stages = []
    first = project(ids, X, params, progress=lambda d, t, s: stages.append(s))
    assert not first.from_cache
    assert first.path.parent == cache_dir("projections") and first.path.exists()
    assert "umap" in stages
    again = project(ids, X, params)
    assert again.from_cache
    np.testing.assert_array_equal(again.xy, first.xy)
    assert again.ids.tolist() == ids and set(again.split) == {TEST}
    # other parameters or other embeddings give another cache entry
    assert cache_key(ids, X, params) != cache_key(ids, X, ProjectionParams(n_neighbors=9))
    assert cache_key(ids, X, params) != cache_key(ids, X + 1, params)
    # a damaged cache file is ignored and recomputed
    first.path.write_bytes(b"broken")
    assert load_projection(first.path) is None
    assert not project(ids, X, params).from_cache


@pytest.mark.slow
def test_project_places_train_and_test_in_one_map(data):
    ids, X, _ = data
    params = ProjectionParams(n_neighbors=8, pca_components=None, max_samples=200)
    train_ids = [f"t{i}" for i in range(100)]
    out = project(ids[:150], X[:150], params, train_ids=train_ids, train_x=X[150:250])
    assert len(out.ids) == 200 == len(out.xy)
    assert set(out.split) == {TEST, TRAIN}
    frame = out.frame()
    assert (frame.loc[frame["split"] == TRAIN, "id"].str.startswith("t")).all()
    with pytest.raises(GemvizError, match="wide"):
        project(ids, X, params, train_ids=train_ids, train_x=X[:100, :10])
