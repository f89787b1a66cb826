"""Tests for gemviz.analysis.stability and the ``stability`` command: cluster bootstrap refits."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from gemviz.analysis.stability import (
    RESAMPLES,
    bootstrap_rows,
    id_probability,
    id_probability_se,
    mc_error,
    refit_labels,
    region_stability,
    workspace_refits,
)
from gemviz.commands.cli import main
from gemviz.data.errors import GemvizError
from gemviz.splitters import make_splitter
from tests.conftest import SEED


def test_bootstrap_rows_draw_whole_clusters():
    codes = np.array([5, 5, 5, 9, 9, 2, 7, 7, 7, 7])
    rows = bootstrap_rows(codes, np.random.default_rng(SEED))
    drawn = codes[rows]
    for c in np.unique(drawn):
        # A drawn cluster comes with all its rows, as many times as it was drawn.
        assert (drawn == c).sum() % (codes == c).sum() == 0
    assert sum((drawn == c).sum() // (codes == c).sum() for c in np.unique(drawn)) == 4


def test_refit_labels_and_id_probability():
    rng = np.random.default_rng(SEED)
    train = rng.normal(0, 1, 400)
    codes = np.repeat(np.arange(50), 8)
    test = np.array([0.0, 1.645, 5.0])  # deep inside, at the 95th percentile, far outside
    refits = refit_labels(make_splitter("percentile"), train, codes, test, resamples=40)
    assert refits.shape == (40, 3) and refits.dtype == bool
    prob = id_probability(refits)
    assert prob[0] == 1.0 and prob[2] == 0.0 and 0.05 < prob[1] < 0.95
    again = refit_labels(make_splitter("percentile"), train, codes, test, resamples=40)
    np.testing.assert_array_equal(refits, again)  # seeded
    with pytest.raises(GemvizError):
        refit_labels(make_splitter("percentile"), train, codes, test, resamples=0)


def test_region_stability_by_hand():
    original = {"a": np.array([1, 1, 1, 0, 0], bool), "b": np.array([0, 0, 1, 1, 0], bool)}
    # 10 refits: step 0 always stays "a only"; step 1 leaves it in 2 of 10 (stays 80%);
    # step 2 ("a & b") always stays; step 3 ("b only") always stays; step 4 is in no region.
    a = np.tile(original["a"], (10, 1))
    b = np.tile(original["b"], (10, 1))
    b[:2, 1] = True
    out = region_stability(original, {"a": a, "b": b}).set_index("region")
    assert out.loc["a only", ["count", "stable"]].tolist() == [2, 1]
    assert out.loc["a only", "stable_share"] == 0.5
    assert out.loc["b only", "stable_share"] == 1.0
    assert out.loc["a & b", "stable_share"] == 1.0
    with pytest.raises(GemvizError):
        region_stability({"a": original["a"]}, {"a": a})


def test_workspace_refits_are_cached_on_disk(tmp_path, monkeypatch):
    monkeypatch.setenv("GEMVIZ_CACHE", str(tmp_path / "cache"))
    rng = np.random.default_rng(SEED)
    train = tmp_path / "train.json"
    train.write_text(
        json.dumps(
            [{"id": f"t{i}", "task": f"k{i // 5}", "input_score": float(x)}
             for i, x in enumerate(rng.normal(0, 1, 200))]
        )
    )  # fmt: skip
    labeled = tmp_path / "labeled.json"
    labeled.write_text("[]")
    entry = SimpleNamespace(
        name="p", partition="percentile", params={"percentile": 90.0, "sigma": 2.0},
        train_scores=str(train), labeled=str(labeled),
    )  # fmt: skip
    ws = SimpleNamespace(splitters=[entry], cluster_by="auto")
    study = SimpleNamespace(scores=pd.DataFrame({"p": [0.0, 1.3, 4.0]}))
    assert workspace_refits(ws, study, ["p"], resamples=8, compute=False) is None
    first = workspace_refits(ws, study, ["p"], resamples=8)["p"]
    assert first.shape == (8, 3)
    assert len(list((tmp_path / "cache" / "stability").glob("*.npz"))) == 1
    cached = workspace_refits(ws, study, ["p"], resamples=8, compute=False)["p"]
    np.testing.assert_array_equal(first, cached)


def test_stability_command_writes_id_probability(tmp_path, capsys):
    rng = np.random.default_rng(SEED)
    rows = [
        {"id": f"s{i}", "task": f"k{i // 6}", "input_score": float(x)}
        for i, x in enumerate(rng.normal(0, 1, 300))
    ]
    train, test, out = tmp_path / "train.json", tmp_path / "test.json", tmp_path / "out.json"
    train.write_text(json.dumps(rows))
    # Two steps whose answer is known: far below every train score (ID in every refit) and
    # far above (OOD in every refit).
    extremes = [
        {"id": "low", "task": "x", "input_score": -100.0},
        {"id": "high", "task": "y", "input_score": 100.0},
    ]
    test.write_text(json.dumps([dict(r, extra=1) for r in rows[:30] + extremes]))
    argv = ["stability", "--train", str(train), "--test", str(test), "--out", str(out)]
    rc = main([*argv, "--method", "percentile", "--resamples", "12"])
    assert rc == 0
    written = json.loads(out.read_text())
    assert len(written) == 32 and written[0]["extra"] == 1
    probs = np.array([r["id_probability"] for r in written])
    assert (probs[-2], probs[-1]) == (1.0, 0.0)
    # A share of 12 refits, and a larger score is never more often ID (one threshold a refit).
    np.testing.assert_allclose(probs * 12, np.round(probs * 12), atol=1e-9)
    scores = np.array([r["input_score"] for r in written])
    order = np.argsort(scores, kind="stable")
    assert (np.diff(probs[order]) <= 1e-12).all()
    assert {r["label"] for r in written} <= {"ID", "OOD"}
    # The Monte Carlo error of each ID probability: sqrt(q (1 - q) / B), q = (k + 0.5) / (B + 1).
    se = np.array([r["id_probability_se"] for r in written])
    q = (probs * 12 + 0.5) / 13
    np.testing.assert_allclose(se, np.sqrt(q * (1 - q) / 12))
    printed = capsys.readouterr().out
    assert "12 refits on 50 train clusters (task)" in printed
    assert f"near 0.9: {np.sqrt(0.09 / 12):.3f}" in printed


def test_default_refits_keep_the_monte_carlo_error_under_two_points():
    assert mc_error(RESAMPLES) <= 0.02
    # A step called ID in 90% of the default refits.
    refits = np.zeros((RESAMPLES, 1), dtype=bool)
    refits[: int(0.9 * RESAMPLES)] = True
    assert id_probability_se(refits)[0] <= 0.02
