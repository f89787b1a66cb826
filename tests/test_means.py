"""gemviz.analysis.means: the one per-model mean behind the ID/OOD table, the Samples
summary and the slices, checked against hand counts and the textbook intervals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gemviz.analysis.means import MEAN_COLUMNS, model_means
from gemviz.analysis.samples import summary
from gemviz.analysis.slices import slices_table
from gemviz.analysis.tables import id_ood_table
from gemviz.data.errors import GemvizError
from gemviz.data.study import Study
from gemviz.stats import mean_estimate, wilson_interval


def _study(cluster_by: str) -> Study:
    # 12 steps in 4 tasks; model "a" right on 7 of them, "b" on 3.
    ids = [f"s{i}" for i in range(12)]
    test = pd.DataFrame(
        {"id": ids, "task": [f"t{i // 3}" for i in range(12)], "app": ["x", "y"] * 6}
    )
    label = ["ID"] * 6 + ["OOD"] * 6
    a = [1, 1, 1, 0, 1, 0, 1, 0, 0, 1, 1, 0]
    b = [0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0]
    models = {
        "a": test[["id"]].assign(type_match=1, exact_match=a),
        "b": test[["id"]].assign(type_match=1, exact_match=b),
    }
    study = Study.from_frames({"g": test.assign(label=label)}, models, samples=test)
    return study.with_clusters(cluster_by)


def test_step_level_means_are_counts_with_wilson_intervals():
    study = _study("none")
    mask = np.zeros(12, dtype=bool)
    mask[[0, 1, 2, 3, 4]] = True
    out = model_means(study, mask, metrics=["exact_match"])
    assert list(out.columns) == MEAN_COLUMNS
    assert out["model"].tolist() == ["a", "b"]
    assert out["mean"].tolist() == [4 / 5, 1 / 5]
    assert out["n"].tolist() == [5, 5] and out["n_clusters"].tolist() == [5, 5]
    np.testing.assert_allclose(out.loc[0, ["lo", "hi"]].to_numpy(float), wilson_interval(4, 5))
    np.testing.assert_allclose(out.loc[1, ["lo", "hi"]].to_numpy(float), wilson_interval(1, 5))
    assert out["small"].all()  # 5 steps


def test_clustered_means_match_the_estimate_of_the_subset():
    study = _study("task")
    mask = np.array([True] * 9 + [False] * 3)  # tasks t0, t1, t2
    out = model_means(study, mask, models=["a"], metrics=["exact_match"]).iloc[0]
    est = mean_estimate([1, 1, 1, 0, 1, 0, 1, 0, 0], clusters=[0, 0, 0, 1, 1, 1, 2, 2, 2])
    assert (out["mean"], out["n"], out["n_clusters"]) == (5 / 9, 9, 3)
    assert (out["lo"], out["hi"]) == pytest.approx((est.lo, est.hi), rel=1e-12)


def test_empty_set_and_unknown_model():
    study = _study("task")
    out = model_means(study, np.zeros(12, dtype=bool), metrics=["exact_match"])
    assert out["n"].tolist() == [0, 0] and out["mean"].isna().all() and out["small"].all()
    with pytest.raises(GemvizError, match="nope"):
        model_means(study, np.ones(12, dtype=bool), models=["nope"])


def test_table_summary_and_slices_report_the_same_means():
    study = _study("task")
    is_id = study.is_id("g")
    ref = model_means(study, is_id, metrics=["exact_match"]).set_index("model")
    table = id_ood_table(study, metrics=["exact_match"]).set_index("model")
    np.testing.assert_allclose(table["id_mean"], ref["mean"])
    np.testing.assert_allclose(table["id_lo"], ref["lo"])
    np.testing.assert_allclose(table["id_hi"], ref["hi"])
    shown = summary(study, np.flatnonzero(is_id))
    shown = shown[shown["metric"] == "exact_match"].set_index("model")
    pd.testing.assert_frame_equal(shown[["mean", "lo", "hi", "n"]], ref[["mean", "lo", "hi", "n"]])
    # A slice covering every step of one app on the ID side is that subset's mean.
    sliced = slices_table(study, "app", metrics=["exact_match"])
    row = sliced[(sliced["slice"] == "x") & (sliced["label"] == "ID") & (sliced["model"] == "a")]
    x_id = is_id & (study.samples["app"] == "x").to_numpy()
    expect = model_means(study, x_id, models=["a"], metrics=["exact_match"]).iloc[0]
    assert row["mean"].item() == expect["mean"] == 1.0  # steps 0, 2, 4: all right
    assert (row["n"].item(), row["n_clusters"].item()) == (3, 2)
