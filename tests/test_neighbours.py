"""Exact nearest neighbours against scipy's brute-force distances, the command and its cache."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from gemviz.analysis import neighbours as nb
from gemviz.commands.cli import main
from gemviz.data.errors import GemvizError
from gemviz.scoring.store import save_embeddings

SEED = 42


def _reference(train, test, k, metric):
    d = cdist(test.astype(np.float64), train.astype(np.float64), metric=metric)
    # Sort by (distance, train position): ties go to the earlier train row.
    order = np.lexsort((np.broadcast_to(np.arange(len(train)), d.shape), d), axis=1)[:, :k]
    return order, np.take_along_axis(d, order, axis=1)


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
@pytest.mark.parametrize("budget", [nb.DEFAULT_BUDGET, 20_000])  # one block / many blocks
def test_search_matches_brute_force(metric, budget):
    rng = np.random.default_rng(SEED)
    train = rng.normal(size=(700, 24)).astype(np.float32)
    test = rng.normal(size=(130, 24)).astype(np.float32)
    found = nb.search(train, test, k=7, metric=metric, budget=budget)
    idx, dist = _reference(train, test, 7, metric)
    np.testing.assert_array_equal(found.indices, idx)
    np.testing.assert_allclose(found.distances, dist, rtol=1e-9, atol=1e-12)


def test_blocks_cover_many_train_and_query_blocks():
    qb, tb = nb.block_sizes(1_000_000, 5000, 4096, 2 * 2**30)
    # Working arrays: a train block and a distance block (+ partition indices) within 2 GB.
    assert tb * 4096 * 4 + qb * tb * 16 <= 2 * 2**30
    qb, tb = nb.block_sizes(700, 130, 24, 20_000)
    assert tb < 700 and qb < 130


def test_ties_go_to_the_earlier_train_row_and_precision_is_exact():
    rng = np.random.default_rng(SEED)
    base = rng.normal(size=(50, 8)).astype(np.float32) * 1000  # large norms: float32 cancels
    train = np.concatenate([base, base[:5], base[:5]])  # rows 50..59 repeat rows 0..4
    test = base[:5] + np.float32(1e-3)
    found = nb.search(train, test, k=3)
    np.testing.assert_array_equal(found.indices[:, 0], np.arange(5))
    np.testing.assert_array_equal(found.indices[:, 1], np.arange(5) + 50)
    np.testing.assert_array_equal(found.indices[:, 2], np.arange(5) + 55)
    _, dist = _reference(train, test, 3, "euclidean")
    np.testing.assert_allclose(found.distances, dist, rtol=1e-9)


def _per_query(train, test, k):
    """The plain loop: one full distance vector per query, then a stable sort."""
    out_i, out_d = [], []
    for q in test.astype(np.float64):
        d = np.linalg.norm(train.astype(np.float64) - q, axis=1)
        order = np.argsort(d, kind="stable")[:k]
        out_i.append(order)
        out_d.append(d[order])
    return np.array(out_i), np.array(out_d)


def test_per_query_loop_agrees_and_k_is_clamped():
    rng = np.random.default_rng(SEED)
    train = rng.normal(size=(6, 5)).astype(np.float32)
    test = rng.normal(size=(4, 5)).astype(np.float32)
    a = nb.search(train, test, k=10)
    idx, dist = _per_query(train, test, 10)
    assert a.indices.shape == (4, 6)
    np.testing.assert_array_equal(a.indices, idx)
    np.testing.assert_allclose(a.distances, dist, rtol=1e-9)


def test_bad_input_is_refused():
    x = np.zeros((3, 4), np.float32)
    with pytest.raises(GemvizError, match="dimensions"):
        nb.search(x, np.zeros((2, 5), np.float32))
    with pytest.raises(GemvizError, match="metric"):
        nb.search(x, x, metric="manhattan")
    with pytest.raises(GemvizError, match="k must"):
        nb.search(x, x, k=0)


@pytest.fixture()
def npz_pair(tmp_path):
    rng = np.random.default_rng(SEED)
    train = rng.normal(size=(40, 6)).astype(np.float32)
    test = rng.normal(size=(9, 6)).astype(np.float32)
    tr = save_embeddings(tmp_path / "train_embeddings.npz", [f"tr{i}" for i in range(40)], train)
    te = save_embeddings(tmp_path / "test_embeddings.npz", [f"te{i}" for i in range(9)], test)
    return tr, te, train, test


def test_command_json_rows_and_cache(npz_pair, capsys, monkeypatch):
    tr, te, train, test = npz_pair
    argv = ["neighbours", "--train-embeddings", str(tr), "--test-embeddings", str(te)]
    assert main([*argv, "--id", "te3", "--id", "te0", "-k", "3"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [list(r) for r in rows[:1]] == [["id", "rank", "neighbour", "distance"]]
    expected = [(i, r) for i in ("te3", "te0") for r in (1, 2, 3)]
    assert [(r["id"], r["rank"]) for r in rows] == expected
    idx, dist = _reference(train, test, 3, "euclidean")
    assert [r["neighbour"] for r in rows[:3]] == [f"tr{j}" for j in idx[3]]
    np.testing.assert_allclose([r["distance"] for r in rows[:3]], dist[3], rtol=1e-9)

    # The second call reads the cache: the search is not run again.
    monkeypatch.setattr(nb, "search", lambda *a, **k: pytest.fail("cache not used"))
    assert main([*argv, "-k", "3"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 9 * 3


def test_command_formats_metric_and_unknown_id(npz_pair, capsys, tmp_path):
    tr, te, train, test = npz_pair
    argv = ["neighbours", "--train-embeddings", str(tr), "--test-embeddings", str(te)]
    out = tmp_path / "n.csv"
    assert main([*argv, "--metric", "cosine", "--format", "csv", "--out", str(out)]) == 0
    lines = out.read_text().splitlines()
    assert lines[0] == "id,rank,neighbour,distance" and len(lines) == 1 + 9 * 5
    idx, _ = _reference(train, test, 5, "cosine")
    assert lines[1].split(",")[2] == f"tr{idx[0, 0]}"
    assert main([*argv, "--format", "markdown", "--id", "te1"]) == 0
    assert capsys.readouterr().out.count("te1") == 5
    assert main([*argv, "--id", "nope"]) == 2
    assert "unknown id 'nope'" in capsys.readouterr().err


@pytest.mark.parametrize("budget", [512 * 2**20, 20_000])
def test_more_ties_than_candidates_return_the_earliest_rows(budget):
    # 300 identical train rows (text-only embeddings repeat within a task): far more ties
    # than the k + MARGIN candidates kept per block, in one block or in many.
    rng = np.random.default_rng(1)
    base = rng.normal(size=(1, 16)).astype(np.float32)
    train = np.concatenate(
        [rng.normal(size=(50, 16)).astype(np.float32) + 5, np.repeat(base, 300, axis=0)]
    )
    got = nb.search(train, base, k=3, budget=budget)
    assert got.indices.tolist() == [[50, 51, 52]]
    exact = np.argsort(cdist(base.astype(np.float64), train.astype(np.float64))[0], kind="stable")
    assert got.indices.tolist() == [exact[:3].tolist()]
