"""Tests for gemviz.analysis.tables on hand-checkable studies."""

from __future__ import annotations

import itertools
import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

import gemviz.stats.randomization as rnd
from gemviz.analysis import slices
from gemviz.analysis.overlap import set_difference
from gemviz.analysis.tables import (
    INTERACTION_COLUMNS,
    PAIRED_COLUMNS,
    TABLE_COLUMNS,
    id_ood_table,
    interaction_table,
    paired_comparison,
    select_models,
)
from gemviz.data.errors import GemvizError
from gemviz.data.study import Study
from gemviz.report import analysis_sections
from gemviz.report.base import _pval
from gemviz.stats import PERMUTATION, SIGN_FLIP, adjust_pvalues, wilson_interval
from tests.conftest import SEED
from tests.stats_reference import holm


def _t(values, inside):
    """mean_a - mean_b over the robust standard error of single steps: each set's own
    variance, residuals about the pooled mean (the null)."""
    parts = []
    for mask in (inside, ~inside):
        k = mask.sum()
        resid = values[mask] - values.mean()
        parts.append((values[mask].mean(), k / (k - 1) * (resid**2).sum() / k**2))
    var = max(parts[0][1] + parts[1][1], 1e-12 * ((values - values.mean()) ** 2).sum())
    return (parts[0][0] - parts[1][0]) / np.sqrt(var)


def _exact_two_group_p(values, in_a) -> float:
    """Studentized permutation p over every relabelling of single steps."""

    values = np.asarray(values, dtype=float)
    observed = _t(values, in_a)
    stats = []
    for pick in itertools.combinations(range(values.size), int(in_a.sum())):
        stats.append(_t(values, np.isin(np.arange(values.size), pick)))
    return float(np.mean(np.abs(stats) >= abs(observed) * (1 - 1e-9)))


def _study(
    labels: dict[str, str],
    models: dict[str, tuple[list[int], list[int]]],
    cluster_by: str = "none",
    tasks: list[str] | str = "t",
) -> Study:
    """A hand-made study; step level by default (every step its own cluster)."""
    n = len(next(iter(labels.values())))
    base = pd.DataFrame({"id": [f"s{i}" for i in range(n)], "task": tasks, "image_path": "x"})
    splits = {
        k: base.assign(label=["ID" if c == "i" else "OOD" for c in v]) for k, v in labels.items()
    }
    results = {k: base.assign(type_match=tm, exact_match=em) for k, (tm, em) in models.items()}
    return Study.from_frames(splits, results, cluster_by=cluster_by)


def test_id_ood_table_by_hand():
    #        samples: 0 1 2 3 4 5 6 7 8 9
    study = _study(
        {"a": "iiiiiioooo", "b": "ioioioioio"},
        {"m1": ([1, 1, 1, 0, 1, 1, 0, 1, 0, 0], [1, 0, 1, 0, 1, 0, 0, 0, 0, 0])},
    )
    table = id_ood_table(study)
    assert list(table.columns) == TABLE_COLUMNS
    assert len(table) == 2 * 1 * 2
    row = table.set_index(["splitter", "metric"]).loc[("a", "type_match")]
    # a's ID = samples 0-5: type match 1,1,1,0,1,1 -> 5/6; OOD = 6-9: 0,1,0,0 -> 1/4.
    assert (row.id_n, row.ood_n) == (6, 4)
    assert row.id_mean == pytest.approx(5 / 6)
    assert row.ood_mean == pytest.approx(1 / 4)
    assert (row.id_lo, row.id_hi) == pytest.approx(wilson_interval(5, 6))
    assert (row.ood_lo, row.ood_hi) == pytest.approx(wilson_interval(1, 4))
    assert row.small
    assert (row.id_clusters, row.ood_clusters) == (6, 4)
    # Gap: the exact permutation test over all C(10, 4) relabellings of the steps.
    assert row.gap == pytest.approx(5 / 6 - 1 / 4)
    tm = np.array([1, 1, 1, 0, 1, 1, 0, 1, 0, 0])
    assert row.gap_p == pytest.approx(_exact_two_group_p(tm, np.arange(10) < 6))
    assert row.test == PERMUTATION
    assert row.gap_lo < row.gap < row.gap_hi
    # Holm within each splitter and metric (one model here: adjusting changes nothing).
    np.testing.assert_allclose(table.gap_p_adjusted, table.gap_p)
    row = table.set_index(["splitter", "metric"]).loc[("b", "exact_match")]
    # b's ID = even samples: exact 1,1,1,0,0 -> 3/5; OOD = odd: 0,0,0,0,0 -> 0/5.
    assert (row.id_mean, row.ood_mean) == (pytest.approx(0.6), 0.0)
    assert row.ood_lo == 0.0


def test_id_ood_table_selection_and_empty_side():
    study = _study(
        {"a": "iiii", "b": "iooo"}, {"m1": ([1, 0, 1, 1], [0] * 4), "m2": ([1] * 4, [1] * 4)}
    )
    table = id_ood_table(study, splitters=["a"], models=["m2"], metrics=["exact_match"])
    assert len(table) == 1
    assert table.loc[0, "ood_n"] == 0 and np.isnan(table.loc[0, "ood_mean"])
    assert table.loc[0, "id_mean"] == 1.0
    with pytest.raises(GemvizError, match="unknown model"):
        id_ood_table(study, models=["nope"])
    with pytest.raises(GemvizError, match="unknown metric"):
        id_ood_table(study, metrics=["f1"])


def test_paired_comparison_by_hand():
    # a right / b wrong on samples 0,1,2,3; the reverse on sample 9.
    a = [1, 1, 1, 1, 1, 0, 0, 1, 0, 0]
    b = [0, 0, 0, 0, 1, 0, 0, 1, 0, 1]
    study = _study({"s": "iiiiiooooo"}, {"A": (a, a), "B": (b, b)})
    out = paired_comparison(study, "A", "B", "exact_match", splitter="s")
    assert list(out.columns) == PAIRED_COLUMNS
    assert out["subset"].tolist() == ["all", "ID", "OOD"]
    row = out.iloc[0]
    assert (row.n, row.a_only, row.b_only) == (10, 4, 1)
    assert row["diff"] == pytest.approx(0.6 - 0.3)
    assert row.diff_lo <= row["diff"] <= row.diff_hi
    # The exact sign-flip test over the 2**10 swaps of the two models, step by step.
    d = np.array(a) - np.array(b)
    signs = 1 - 2 * ((np.arange(1024)[:, None] >> np.arange(10)) & 1)
    assert row.diff_p == pytest.approx(np.mean(np.abs(signs @ d) >= abs(d.sum()) - 1e-9))
    assert row.test == SIGN_FLIP and row.small
    assert row.mcnemar_p == pytest.approx(sps.binomtest(4, 5, 0.5).pvalue)
    ident = out.iloc[1]  # ID = samples 0-4: A 1,1,1,1,1; B 0,0,0,0,1
    assert (ident.n, ident.a_only, ident.b_only) == (5, 4, 0)
    assert (ident.mean_a, ident.mean_b) == (1.0, pytest.approx(0.2))
    assert ident.mcnemar_p == pytest.approx(2 / 16)
    assert paired_comparison(study, "A", "B", "type_match")["subset"].tolist() == ["all"]
    with pytest.raises(GemvizError, match="two different"):
        paired_comparison(study, "A", "A", "exact_match")


def test_table_counts_clusters_and_widens_intervals():
    # 8 tasks of 5 steps; a task's steps share their label and (mostly) their result.
    tasks = [f"t{i // 5}" for i in range(40)]
    labels = "".join("i" if i // 5 < 4 else "o" for i in range(40))
    em = [1 if (i // 5) % 2 == 0 else 0 for i in range(40)]
    models = {"m": (em, em)}
    clustered = _study({"a": labels}, models, cluster_by="task", tasks=tasks)
    flat = _study({"a": labels}, models, cluster_by="none", tasks=tasks)
    row = id_ood_table(clustered, metrics=["exact_match"]).iloc[0]
    ref = id_ood_table(flat, metrics=["exact_match"]).iloc[0]
    assert (row.id_n, row.id_clusters, row.ood_n, row.ood_clusters) == (20, 4, 20, 4)
    assert (ref.id_clusters, ref.ood_clusters) == (20, 20)
    assert row.id_mean == ref.id_mean == 0.5
    assert row.id_hi - row.id_lo > 1.5 * (ref.id_hi - ref.id_lo)
    assert row.gap_hi - row.gap_lo > 1.5 * (ref.gap_hi - ref.gap_lo)


def test_interaction_table_by_hand(monkeypatch):

    # The permutation alone (the guard for unequal spreads is tested in test_stats).
    monkeypatch.setattr(rnd._studentized, "welch_guard", lambda *a: (math.nan,) * 3)
    a = [1, 1, 1, 1, 0, 1, 0, 1, 0, 0, 1, 1]
    b = [0, 1, 0, 1, 0, 1, 1, 1, 0, 1, 1, 1]
    c = [1] * 12
    study = _study({"s": "iiiiiioooooo"}, {"A": (a, a), "B": (b, b), "C": (c, c)})
    out = interaction_table(study, metrics=["exact_match"])
    assert list(out.columns) == INTERACTION_COLUMNS
    assert list(zip(out.model_a, out.model_b, strict=True)) == [
        ("A", "B"),
        ("A", "C"),
        ("B", "C"),
    ]
    row = out.iloc[0]
    # ID: A 5/6, B 3/6 -> +2/6; OOD: A 2/6, B 4/6 -> -2/6; did = 4/6.
    assert (row.diff_id, row.diff_ood) == (pytest.approx(2 / 6), pytest.approx(-2 / 6))
    assert row.did == pytest.approx(4 / 6)
    d = np.array(a) - np.array(b)
    assert row.did_p == pytest.approx(_exact_two_group_p(d, np.arange(12) < 6))
    assert row.did_lo < row.did < row.did_hi and row.test == PERMUTATION
    assert row.verdict.startswith(("A − B is larger on ID than on OOD", "too uncertain"))
    assert (row.id_n, row.id_clusters) == (6, 6)
    np.testing.assert_allclose(out.did_p_adjusted, adjust_pvalues(out.did_p))
    # Choosing two of the three models keeps the family (every pair of the study's models).
    only = interaction_table(study, models=["A", "B"], metrics=["exact_match"])
    assert len(only) == 1 and only.did_p_adjusted[0] == row.did_p_adjusted
    with pytest.raises(GemvizError, match="two different models"):
        interaction_table(study, models=["A"])


def test_every_row_p_agrees_with_its_interval():
    # One method per number: p < 0.05 exactly when the 95% interval excludes 0.
    rng = np.random.default_rng(SEED)
    n = 90
    tasks = [f"t{i // 6}" for i in range(n)]
    labels = "".join(rng.choice(["i", "o"], 15).repeat(6))
    models = {m: (list(rng.integers(0, 2, n)), list(rng.integers(0, 2, n))) for m in "ABC"}
    study = _study({"s": labels, "r": labels[::-1]}, models, cluster_by="task", tasks=tasks)
    for frame, p, lo, hi in (
        (id_ood_table(study), "gap_p", "gap_lo", "gap_hi"),
        (interaction_table(study), "did_p", "did_lo", "did_hi"),
        (paired_comparison(study, "A", "B", "exact_match", "s"), "diff_p", "diff_lo", "diff_hi"),
    ):
        excludes = (frame[lo] > 0) | (frame[hi] < 0)
        assert ((frame[p] < 0.05) == excludes).all()


def test_rows_depend_only_on_their_own_data():
    # 80 tasks of 5 steps: enough for Monte Carlo draws (not exact enumeration). The same
    # results under two names give identical rows, and a row does not change when another
    # model is loaded or removed.

    rng = np.random.default_rng(SEED)
    n = 400
    tasks = [f"t{i // 5}" for i in range(n)]
    labels = {
        "s": "".join(rng.choice(["i", "o"], 80, p=[0.7, 0.3]).repeat(5)),
        "r": "".join(rng.choice(["i", "o"], 80, p=[0.6, 0.4]).repeat(5)),
    }
    em = list((rng.random(n) < np.repeat(rng.uniform(0.1, 0.9, 80), 5)).astype(int))
    other = list(rng.integers(0, 2, n))
    both = _study(labels, {"x": (em, em), "y": (em, em), "z": (other, other)}, "task", tasks)
    alone = _study(labels, {"x": (em, em)}, "task", tasks)
    cols = ["gap", "gap_lo", "gap_hi", "gap_p", "test"]
    table = id_ood_table(both).set_index(["splitter", "model", "metric"])
    single = id_ood_table(alone).set_index(["splitter", "model", "metric"])
    assert (table["test"] == "permutation of whole clusters").all()
    for splitter in labels:
        for metric in ("type_match", "exact_match"):
            x = table.loc[(splitter, "x", metric), cols]
            assert x.equals(table.loc[(splitter, "y", metric), cols])
            assert x.equals(single.loc[(splitter, "x", metric), cols])
    drill = set_difference(both, "s", "r").set_index(["region", "model"])
    drill_alone = set_difference(alone, "s", "r").set_index(["region", "model"])
    for region in drill.index.levels[0]:
        x = drill.loc[(region, "x"), ["diff", "diff_lo", "diff_hi", "p_value"]]
        assert x.equals(drill.loc[(region, "y"), ["diff", "diff_lo", "diff_hi", "p_value"]])
        assert x.equals(drill_alone.loc[(region, "x"), ["diff", "diff_lo", "diff_hi", "p_value"]])


def test_a_model_choice_is_picked_from_the_tables_of_every_model():
    # The Metrics page computes each splitter's tables once for every model and picks rows
    # for the models chosen: the same tables as computing them for the choice.
    rng = np.random.default_rng(SEED)
    n = 300
    tasks = [f"t{i // 3}" for i in range(n)]
    labels = {
        "s": "".join(rng.choice(["i", "o"], 100, p=[0.7, 0.3]).repeat(3)),
        "r": "".join(rng.choice(["i", "o"], 100, p=[0.5, 0.5]).repeat(3)),
    }
    models = {
        m: (list(rng.integers(0, 2, n)), list((rng.random(n) < p).astype(int)))
        for m, p in (("a", 0.8), ("b", 0.5), ("c", 0.3), ("d", 0.6))
    }
    study = _study(labels, models, "task", tasks)
    study.samples["app"] = rng.choice(["mail", "maps", "notes"], n)
    splitters = ["r", "s"]
    id_parts = [id_ood_table(study, [s]) for s in splitters]
    pair_parts = [interaction_table(study, [s]) for s in splitters]
    slice_parts = [slices.slices_table(study, "app", [s], None, ["exact_match"]) for s in splitters]
    for chosen in (["a", "b"], ["c", "a"], ["d", "b", "a", "c"], ["b", "d", "c"]):
        pd.testing.assert_frame_equal(
            select_models(id_parts, chosen, study), id_ood_table(study, splitters, chosen)
        )
        pd.testing.assert_frame_equal(
            select_models(pair_parts, chosen, study), interaction_table(study, splitters, chosen)
        )
        pd.testing.assert_frame_equal(
            select_models(slice_parts, chosen, study),
            slices.slices_table(study, "app", splitters, chosen, ["exact_match"]),
            rtol=1e-12,
            atol=1e-12,
        )
    with pytest.raises(GemvizError, match="model"):
        select_models(id_parts, ["a", "nope"], study)


def test_interaction_against_a_baseline_is_its_own_family():
    rng = np.random.default_rng(SEED)
    n = 80
    labels = "i" * 40 + "o" * 40
    base = rng.integers(0, 2, n)
    # A gains on ID only (a strong interaction), B and C are noise around the baseline.
    gain = np.r_[np.ones(40, int), base[40:]]
    models = {
        "A": (list(gain), list(gain)),
        "base": (list(base), list(base)),
        "B": (list(rng.integers(0, 2, n)),) * 2,
        "C": (list(rng.integers(0, 2, n)),) * 2,
    }
    study = _study({"s": labels}, models)
    out = interaction_table(study, metrics=["exact_match"], baseline="base")
    assert list(out.columns) == INTERACTION_COLUMNS
    # Each configuration against the baseline, the configuration as A (as run_pairs pairs them).
    assert list(zip(out.model_a, out.model_b, strict=True)) == [
        ("A", "base"),
        ("B", "base"),
        ("C", "base"),
    ]
    np.testing.assert_allclose(out.did_p_adjusted, holm(out.did_p))
    np.testing.assert_allclose(out.did_logodds_p_adjusted, holm(out.did_logodds_p))
    assert set(out.family) == {"3 configurations against base under s, exact_match, Holm"}
    # Not the all-pairs family's number: there the same test is adjusted over 6 pairs.
    every = interaction_table(study, metrics=["exact_match"])
    same = every[(every.model_a == "A") & (every.model_b == "base")].iloc[0]
    assert same.did_p == pytest.approx(out.did_p[0])
    assert out.did_p_adjusted[0] < 0.05 and out.did_p_adjusted[0] < same.did_p_adjusted
    np.testing.assert_allclose(every.did_p_adjusted, holm(every.did_p))
    # A subset of configurations is a smaller family; the baseline need not be among them.
    two = interaction_table(study, models=["A", "B"], metrics=["exact_match"], baseline="base")
    assert list(two.model_a) == ["A", "B"]
    np.testing.assert_allclose(two.did_p_adjusted, holm(two.did_p))
    with pytest.raises(GemvizError, match="two different models"):
        interaction_table(study, models=["base"], baseline="base")
    with pytest.raises(GemvizError, match="nope"):
        interaction_table(study, baseline="nope")


def test_report_pairs_against_a_baseline_are_one_family():
    # The report's table of many configurations' pairs adjusts every test it shows together.
    rng = np.random.default_rng(SEED)
    n = 60
    labels = "i" * 30 + "o" * 30
    base = rng.integers(0, 2, n)
    models = {"base": (list(base), list(base))}
    for k in range(7):
        flip = rng.random(n) < 0.1 + 0.1 * k
        models[f"m{k}"] = (list(np.where(flip, 1, base)),) * 2
    study = _study({"s": labels}, models)
    ctx = SimpleNamespace(inputs=SimpleNamespace(study=study, baseline="base"))
    page, _ = analysis_sections._paired_wide(ctx)
    # 7 pairs x (all steps, s ID, s OOD) tests on each metric.
    assert "Holm-adjusted over the 21 comparisons shown for each metric" in page
    raw = {
        (m, r.subset): r.diff_p
        for m in models
        if m != "base"
        for r in paired_comparison(study, m, "base", "exact_match", splitter="s").itertuples()
    }
    adjusted = dict(zip(raw, holm(list(raw.values())), strict=True))
    for (m, subset), p in adjusted.items():
        alone = paired_comparison(study, m, "base", "exact_match", splitter="s")
        assert p >= alone.set_index("subset").loc[subset, "diff_p_adjusted"] - 1e-12
    best = min(adjusted.values())
    assert f" {_pval(best)} " in page or f" {_pval(best)}<" in page
    # Not each pair's own three rows' adjustment (the Metrics page's, one pair at a time).
    alone = min(
        paired_comparison(study, m, "base", "exact_match", splitter="s").diff_p_adjusted.min()
        for m in models
        if m != "base"
    )
    assert _pval(alone) != _pval(best) and f" {_pval(alone)}<" not in page


def test_tests_are_kept_on_the_study_and_give_the_numbers_of_a_fresh_study(monkeypatch):
    # The report asks for the interaction and the drill-down with the metric's margin, the
    # deck with 0.05, and every paired table repeats its all-steps row: each test runs once
    # per study, and what comes back is what a study that never ran it computes.
    rng = np.random.default_rng(SEED)
    n = 120
    tasks = [f"t{i // 4}" for i in range(n)]
    labels = {"s": "".join(rng.choice(list("io"), n)), "r": "".join(rng.choice(list("io"), n))}
    models = {m: (rng.integers(0, 2, n).tolist(),) * 2 for m in ("A", "B", "C")}
    study = _study(labels, models, cluster_by="task", tasks=tasks)
    calls = {"sets": 0, "paired": 0}
    compare, paired = rnd.compare_sets, rnd.paired_test

    def counted(name, fn):
        def run(*args, **kwargs):
            calls[name] += 1
            return fn(*args, **kwargs)

        return run

    monkeypatch.setattr("gemviz.analysis.tables.compare_sets", counted("sets", compare))
    monkeypatch.setattr("gemviz.analysis.tables.paired_test", counted("paired", paired))
    first = interaction_table(study)
    again = interaction_table(study, margin=0.05)
    assert calls["sets"] == 2 * 2  # splitters x metrics, once
    pd.testing.assert_frame_equal(first.drop(columns="verdict"), again.drop(columns="verdict"))
    rows = [paired_comparison(study, "A", "B", "exact_match", splitter=s) for s in ("s", "r")]
    assert calls["paired"] == 1 + 2 * 2  # all steps once, then ID and OOD of each splitter
    drill = set_difference(study, "s", "r", metric="exact_match")
    fresh = _study(labels, models, cluster_by="task", tasks=tasks)
    pd.testing.assert_frame_equal(first, interaction_table(fresh))
    for s, got in zip(("s", "r"), rows, strict=True):
        pd.testing.assert_frame_equal(got, paired_comparison(fresh, "A", "B", "exact_match", s))
    pd.testing.assert_frame_equal(drill, set_difference(fresh, "s", "r", metric="exact_match"))
    rows[0].loc[0, "diff"] = 99.0  # a caller's change stays its own
    assert paired_comparison(study, "A", "B", "exact_match", "s").loc[0, "diff"] != 99.0
