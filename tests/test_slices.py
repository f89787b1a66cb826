"""Slices against a pandas group-by, the action type, cluster-aware intervals and the command."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from gemviz.analysis import slices
from gemviz.analysis.means import model_means
from gemviz.commands.cli import main
from gemviz.data.errors import GemvizError
from gemviz.data.study import Study
from gemviz.data.write import write_records
from gemviz.stats import mean_estimate

SEED = 42
ACTIONS = [
    {"type": "click", "point": [0.5, 0.5]},
    {"type": "type", "text": "hi"},
    {"type": "scroll", "direction": "down"},
    "PRESS_BACK",
]


def _records(n: int = 400):
    rng = np.random.default_rng(SEED)
    apps = rng.choice(["mail", "maps", "notes", "rare"], size=n, p=[0.5, 0.3, 0.18, 0.02])
    base = [
        {
            "id": f"s{i}",
            "task": f"task {i // 4}",  # 4 steps per task: clusters
            "app": str(apps[i]),
            "action": ACTIONS[int(rng.integers(len(ACTIONS)))],
        }
        for i in range(n)
    ]
    labeled = [dict(r, label="ID" if rng.random() < 0.6 else "OOD") for r in base]
    results = [
        dict(r, type_match=int(t), exact_match=int(t and rng.random() < 0.7))
        for r, t in zip(base, rng.random(n) < 0.8, strict=True)
    ]
    return base, labeled, results


def test_means_and_counts_match_a_pandas_group_by():
    _, labeled, results = _records()
    study = Study.from_frames(
        {"g": pd.DataFrame(labeled)}, {"m": pd.DataFrame(results)}, cluster_by="none"
    )
    got = slices.slices_table(study, "app")
    assert got.columns.tolist() == slices.COLUMNS
    frame = pd.DataFrame(labeled).merge(pd.DataFrame(results)[["id", "exact_match"]], on="id")
    ref = frame.groupby(["app", "label"])["exact_match"].agg(["mean", "size"]).reset_index()
    mine = got[got["metric"] == "exact_match"].set_index(["slice", "label"])
    assert len(mine) == len(ref)
    for row in ref.itertuples(index=False):
        hit = mine.loc[(row.app, row.label)]
        assert hit["mean"] == pytest.approx(row.mean)
        assert hit["n"] == row.size and hit["n_clusters"] == row.size  # step level
        assert hit["small"] == (row.size < 30)
    # Largest slice first; the rare app is flagged small.
    assert got["slice"].iloc[0] == "mail"
    assert got.loc[got["slice"] == "rare", "small"].all()


def test_grouped_means_equal_one_mean_per_slice_and_label():
    # The table takes every slice and label in one pass; each row equals model_means on that
    # slice and label's steps alone (the mean every other table reports).
    _, labeled, results = _records()
    other = [dict(r, type_match=1 - r["type_match"]) for r in results]
    study = Study.from_frames(
        {"g": pd.DataFrame(labeled), "h": pd.DataFrame(labeled).assign(label="ID")},
        {"m": pd.DataFrame(results), "k": pd.DataFrame(other)},
    )
    for by in ("app", slices.ACTION_TYPE):
        got = slices.slices_table(study, by, models=["k", "m"])
        values = slices.slice_values(study, by)
        expected = []
        for splitter in ("g", "h"):
            labels = study.labels[splitter].to_numpy()
            for value in dict.fromkeys(got["slice"]):
                for label in ("ID", "OOD"):
                    mask = (values == value) & (labels == label)
                    if mask.any():
                        part = model_means(study, mask, ["k", "m"])
                        expected.append(part.assign(splitter=splitter, slice=value, label=label))
        want = pd.concat(expected, ignore_index=True)
        key = ["splitter", "model", "metric", "slice", "label"]
        want = want.set_index(key).loc[got.set_index(key).index].reset_index()[slices.COLUMNS]
        pd.testing.assert_frame_equal(got, want, rtol=1e-12, atol=1e-12)


def test_action_type_and_cluster_aware_intervals():
    _, labeled, results = _records()
    study = Study.from_frames({"g": pd.DataFrame(labeled)}, {"m": pd.DataFrame(results)})
    assert study.cluster_by == "task"
    got = slices.slices_table(study, slices.ACTION_TYPE, metrics=["type_match"])
    assert set(got["slice"]) == {"click", "type", "scroll", "press_back"}
    kinds = slices.action_types(study)
    row = got[(got["slice"] == "click") & (got["label"] == "ID")].iloc[0]
    mask = (kinds == "click") & (study.labels["g"].to_numpy() == "ID")
    est = mean_estimate(study.type_match["m"].to_numpy()[mask], clusters=study.clusters[mask])
    assert (row["lo"], row["hi"], row["n_clusters"]) == pytest.approx(
        (est.lo, est.hi, est.n_clusters)
    )
    assert row["n_clusters"] < row["n"]
    assert slices.ACTION_TYPE in slices.slice_fields(study) and "app" in slices.slice_fields(study)
    with pytest.raises(GemvizError, match="unknown slice field"):
        slices.slices_table(study, "nope")


def test_command_json_rows(tmp_path, capsys):
    _, labeled, results = _records()
    write_records(tmp_path / "lab.json", labeled)
    write_records(tmp_path / "res.json", results)
    argv = [
        "slices",
        "--split",
        f"g={tmp_path / 'lab.json'}",
        "--model",
        f"m={tmp_path / 'res.json'}",
        "--by",
        "action_type",
        "--format",
        "json",
    ]
    assert main(argv) == 0
    rows = json.loads(capsys.readouterr().out)
    assert list(rows[0])[:10] == [
        "splitter",
        "model",
        "metric",
        "slice",
        "label",
        "mean",
        "lo",
        "hi",
        "n",
        "n_clusters",
    ]
    assert {r["slice"] for r in rows} == {"click", "type", "scroll", "press_back"}
    assert main([*argv[:-4], "--by", "app", "--cluster-by", "none", "--format", "csv"]) == 0
    assert capsys.readouterr().out.startswith("splitter,model,metric,slice,label,mean")
    assert main([*argv[:-4], "--by", "nope"]) == 2
    assert "unknown slice field" in capsys.readouterr().err
