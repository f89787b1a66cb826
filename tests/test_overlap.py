"""Tests for gemviz.analysis.overlap: Venn regions counted by hand and the set-difference drill-down."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gemviz.analysis.overlap import DRILL_COLUMNS, VENN_COLUMNS, judge, set_difference, venn_regions
from gemviz.data.errors import GemvizError
from gemviz.data.study import Study
from gemviz.stats import adjust_pvalues, wilson_interval
from tests.conftest import SEED
from tests.stats_reference import permutation_pvalue


def _study(
    labels: dict[str, str | list[str]],
    models: dict[str, list[int]] | None = None,
    tasks: list[str] | None = None,
) -> Study:
    """A hand-made study; step level unless ``tasks`` are given (then clustered by task)."""
    n = len(next(iter(labels.values())))
    base = pd.DataFrame(
        {"id": [f"s{i}" for i in range(n)], "task": tasks or "t", "image_path": "x"}
    )
    splits = {
        k: base.assign(label=["ID" if c == "i" else "OOD" for c in v]) for k, v in labels.items()
    }
    results = {k: base.assign(type_match=1, exact_match=v) for k, v in (models or {}).items()}
    return Study.from_frames(splits, results, cluster_by="task" if tasks else "none")


def test_three_splitters_over_ten_samples():
    #   samples:      0 1 2 3 4 5 6 7 8 9
    study = _study({"q": "iiiiiioooo", "u": "iiioooiiio", "g": "ioioioioio"})
    # ID sets: q={0..5}, u={0,1,2,6,7,8}, g={0,2,4,6,8}.
    expected = {
        "q only": ["s3", "s5"],
        "u only": ["s7"],
        "g only": [],
        "q & u": ["s1"],
        "q & g": ["s4"],
        "u & g": ["s6", "s8"],
        "q & u & g": ["s0", "s2"],
    }
    regions = venn_regions(study, ["q", "u", "g"])
    assert list(regions.columns) == VENN_COLUMNS
    assert regions["region"].tolist() == list(expected)
    assert dict(zip(regions["region"], regions["ids"], strict=True)) == expected
    assert regions["count"].tolist() == [len(v) for v in expected.values()]
    assert regions.loc[6, "members"] == ("q", "u", "g")
    # Sample 9 is OOD for all three: the only sample outside every ID region.
    assert regions["count"].sum() == 9

    ood = venn_regions(study, ["q", "u", "g"], label="ood").set_index("region")
    # OOD sets: q={6..9}, u={3,4,5,9}, g={1,3,5,7,9}.
    assert ood.loc["q & u & g", "ids"] == ["s9"]
    assert ood.loc["u & g", "ids"] == ["s3", "s5"]
    assert ood.loc["q only", "ids"] == ["s6", "s8"]
    assert ood.loc["q & g", "ids"] == ["s7"]


def test_two_splitters_and_bad_requests():
    study = _study({"a": "iioo", "b": "ioio"})
    regions = venn_regions(study, ["a", "b"])
    assert regions["region"].tolist() == ["a only", "b only", "a & b"]
    assert regions["count"].tolist() == [1, 1, 1]
    for bad in (["a"], ["a", "a"]):
        with pytest.raises(GemvizError, match="2 or 3"):
            venn_regions(study, bad)
    with pytest.raises(GemvizError, match="unknown splitter"):
        venn_regions(study, ["a", "zz"])
    with pytest.raises(GemvizError, match="label"):
        venn_regions(study, ["a", "b"], label="maybe")


def _drill_study(seed: int = SEED) -> tuple[Study, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n = 400
    a_id = np.arange(n) < 300  # a: 0..299 ID
    b_id = np.arange(n) >= 220  # b: 220..399 ID -> region "a ID, b OOD" = 0..219
    em = (rng.random(n) < np.where(np.arange(n) < 100, 0.2, 0.7)).astype(int)
    labels = {
        "a": ["i" if x else "o" for x in a_id],
        "b": ["i" if x else "o" for x in b_id],
    }
    return _study(labels, {"m": em.tolist()}), a_id, b_id, em


def test_set_difference_numbers():
    study, a_id, b_id, em = _drill_study()
    out = set_difference(study, "a", "b", models=["m"])
    assert list(out.columns) == DRILL_COLUMNS
    assert out["region"].tolist() == ["a ID, b OOD", "b ID, a OOD"]
    row = out.iloc[0]
    region = a_id & ~b_id
    assert row.n == region.sum() == 220
    assert (row.n_clusters, row.ref_clusters) == (220, 300)  # step level: one step, one cluster
    assert row["mean"] == pytest.approx(em[region].mean())
    assert (row.lo, row.hi) == pytest.approx(wilson_interval(int(em[region].sum()), 220))
    assert (row.ref_name, row.ref_n) == ("a ID", 300)
    assert row.ref_mean == pytest.approx(em[a_id].mean())
    assert row["diff"] == pytest.approx(row["mean"] - row.ref_mean)
    assert row.diff_lo < row["diff"] < row.diff_hi
    # Step level, the permutation is the classical one (same null distribution, drawn by
    # counts; a different stream than permutation_pvalue, so equal up to Monte Carlo error).
    assert row.p_value == pytest.approx(
        permutation_pvalue(em[a_id], region[a_id], seed=SEED), abs=0.01
    )
    # The first 100 steps are much weaker, so the region (0..219) is lower than a's ID set.
    assert row["diff"] < 0 and row.p_value < 0.01 and not row.too_small
    np.testing.assert_allclose(out.p_adjusted, adjust_pvalues(out.p_value))
    assert row.verdict.startswith("lower than on a ID set")
    assert "Holm-adjusted" in row.verdict
    back = out.iloc[1]
    assert back.n == 100 and back.ref_name == "b ID"  # 300..399


def test_small_region_is_flagged():
    study, *_ = _drill_study()
    labels = study.labels.copy()
    labels["b"] = "ID"
    labels.loc[150:161, "b"] = "OOD"  # a ID, b OOD = samples 150..161
    study.labels = labels
    row = set_difference(study, "a", "b").iloc[0]
    assert row.n == 12 and row.too_small
    assert row.verdict.startswith("too uncertain to tell")
    assert f"{row.diff_lo:+.2f} to {row.diff_hi:+.2f}" in row.verdict


def test_judge_rules():
    assert judge(0, np.nan, np.nan, np.nan, np.nan, "x") == (True, "no steps in this region")
    small, text = judge(40, 0.05, -0.12, 0.2, 0.4, "x")
    assert not small
    assert text.startswith("too uncertain to tell (+0.05, unadjusted 95% CI -0.12 to +0.20")
    # "No detectable difference" only when the whole interval lies within the margin.
    small, text = judge(40, 0.01, -0.03, 0.04, 0.41, "x")
    assert not small and text.startswith("no detectable difference (interval within ±0.05")
    assert judge(40, 0.01, -0.03, 0.04, 0.41, "x", margin=0.02)[1].startswith("too uncertain")
    assert judge(40, -0.2, -0.3, -0.1, 0.003, "qwen ID set", method="bh") == (
        False,
        "lower than on qwen ID set (-0.20, unadjusted 95% CI -0.30 to -0.10; BH-adjusted p=0.003)",
    )
    # The margin is read together with significance.
    assert judge(400, 0.02, 0.01, 0.03, 0.001, "x")[1].startswith("significant but within ±0.05")
    # The one small rule: steps and clusters.
    assert judge(40, 0.2, 0.1, 0.3, 0.001, "x", clusters=6)[0]
    assert judge(40, np.nan, np.nan, np.nan, np.nan, "x", clusters=3, unit="tasks")[1] == (
        "no data"
    )
    small, text = judge(12, 0.1, np.nan, np.nan, np.nan, "x", clusters=3, unit="tasks")
    assert small and text == "cannot be tested (+0.10; 3 tasks)"


def test_drill_down_permutes_whole_tasks():
    # 60 tasks of 6 steps; the region is 8 whole tasks. A task's steps share their result, so
    # at step level the region looks like 48 independent steps and a small difference passes
    # for significant; permuting whole tasks does not.
    rng = np.random.default_rng(SEED)
    tasks = [f"t{i // 6}" for i in range(360)]
    em = np.repeat((rng.random(60) < 0.5).astype(int), 6)
    region_tasks = np.argsort(em[::6], kind="stable")[::-1][:8]  # 8 tasks, mostly successes
    in_region = np.isin(np.arange(360) // 6, region_tasks)
    labels = {"a": "i" * 360, "b": ["o" if r else "i" for r in in_region]}
    flat = set_difference(_study(labels, {"m": em.tolist()}), "a", "b").iloc[0]
    clustered = set_difference(_study(labels, {"m": em.tolist()}, tasks), "a", "b").iloc[0]
    assert (clustered.n, clustered.n_clusters, clustered.ref_clusters) == (48, 8, 60)
    assert flat.n_clusters == 48
    assert clustered.p_value > flat.p_value
    assert clustered.diff_hi - clustered.diff_lo > flat.diff_hi - flat.diff_lo
    assert (clustered.hi - clustered.lo) > (flat.hi - flat.lo)


def test_drill_down_p_agrees_with_interval():
    rng = np.random.default_rng(SEED)
    for trial in range(20):
        tasks = [f"t{i // 5}" for i in range(200)]
        em = (rng.random(200) < np.repeat(rng.uniform(0.2, 0.8, 40), 5)).astype(int)
        b = np.repeat(rng.random(40) < 0.3, 5)
        labels = {"a": "i" * 200, "b": ["o" if x else "i" for x in b]}
        for row in set_difference(_study(labels, {"m": em.tolist()}, tasks), "a", "b").itertuples():
            if row.n and row.n < 200:
                excludes = row.diff_lo > 0 or row.diff_hi < 0
                assert (row.p_value < 0.05) == excludes, trial


def test_set_difference_on_real_aitz_scores(gem_public):
    frame = pd.read_json(gem_public / "AITZ_test_inputscore.json")
    score = frame["input_score"].to_numpy()
    rng = np.random.default_rng(SEED)
    # Two threshold splitters that disagree on the steps between their cut-offs.
    splits = {
        "tight": frame.assign(label=np.where(score <= np.quantile(score, 0.8), "ID", "OOD")),
        "loose": frame.assign(label=np.where(score <= np.quantile(score, 0.95), "ID", "OOD")),
    }
    em = (rng.random(len(frame)) < 0.5).astype(int)
    study = Study.from_frames(splits, {"coin": frame.assign(type_match=1, exact_match=em)})
    out = set_difference(study, "tight", "loose")
    assert out.loc[0, "n"] == 0 and out.loc[0, "verdict"] == "no steps in this region"
    row = out.iloc[1]
    assert row.n == (study.is_id("loose") & ~study.is_id("tight")).sum() > 30
    # A coin-flip model: any "difference" must not be called significant here.
    assert row.p_value > 0.05 and row.verdict.startswith(("no detectable", "too uncertain"))


def test_venn_regions_count_clusters():
    tasks = ["t0", "t0", "t1", "t1", "t2", "t3"]
    study = _study({"a": "iiiioo", "b": "iiooio"}, tasks=tasks)
    regions = venn_regions(study, ["a", "b"]).set_index("region")
    # a only = steps 2, 3 (task t1); b only = step 4 (t2); a & b = steps 0, 1 (t0).
    assert regions.loc["a only", ["count", "clusters"]].tolist() == [2, 1]
    assert regions.loc["b only", ["count", "clusters"]].tolist() == [1, 1]
    assert regions.loc["a & b", ["count", "clusters"]].tolist() == [2, 1]
