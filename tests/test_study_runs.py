"""Metrics by name and repeated runs in the study: loading, averaging, refusals."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats as sps

from gemviz.analysis.runs import PAIR_COLUMNS, run_pairs
from gemviz.analysis.tables import id_ood_table, paired_comparison
from gemviz.data.errors import GemvizError
from gemviz.data.loaders import load_results
from gemviz.data.study import Study
from gemviz.stats import SINGLE_RUN, adjust_pvalues

SEED = 42
N = 40


def _write(path, rows):
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


def _labeled(tmp_path):
    rows = [{"id": f"e{i}", "label": "ID" if i % 3 else "OOD"} for i in range(N)]
    return _write(tmp_path / "labeled.json", rows)


def _runs(seed: int, runs: int, p: float) -> np.ndarray:
    return (np.random.default_rng(seed).random((runs, N)) < p).astype(int)


def test_a_result_file_with_accuracy_gives_that_metric(tmp_path):
    values = _runs(SEED, 1, 0.3)[0]
    res = _write(
        tmp_path / "r.json", [{"id": f"e{i}", "accuracy": int(v)} for i, v in enumerate(values)]
    )
    frame = load_results(res)
    assert frame.attrs["metrics"] == ["accuracy"]
    study = Study.from_files({"s": _labeled(tmp_path)}, {"m": res})
    assert study.metrics == ["accuracy"]
    assert study.default_metric == "accuracy"
    table = id_ood_table(study)
    assert table["metric"].tolist() == ["accuracy"]
    is_id = np.array([i % 3 != 0 for i in range(N)])
    assert table["id_mean"].iloc[0] == pytest.approx(values[is_id].mean())
    with pytest.raises(GemvizError, match="unknown metric 'exact_match'; use one of accuracy"):
        id_ood_table(study, metrics=["exact_match"])


def test_gui_studies_keep_type_and_exact_match(tmp_path):
    rows = [{"id": f"e{i}", "type_match": 1, "exact_match": i % 2} for i in range(N)]
    study = Study.from_files({"s": _labeled(tmp_path)}, {"m": _write(tmp_path / "r.json", rows)})
    assert study.metrics == ["type_match", "exact_match"]
    assert study.default_metric == "exact_match"
    assert study.exact_match["m"].dtype == np.int8
    assert study.runs("m") == 1
    empty = Study.from_files({"s": _labeled(tmp_path)})
    assert empty.metrics == ["type_match", "exact_match"] and empty.models == []


def test_models_with_other_metrics_are_refused(tmp_path):
    gui = _write(
        tmp_path / "g.json", [{"id": f"e{i}", "type_match": 1, "exact_match": 0} for i in range(N)]
    )
    acc = _write(tmp_path / "a.json", [{"id": f"e{i}", "accuracy": 1} for i in range(N)])
    with pytest.raises(GemvizError, match="every model needs the same metrics") as info:
        Study.from_files({"s": _labeled(tmp_path)}, {"gui": gui, "bfcl": acc})
    assert str(acc) in str(info.value)


def test_repeated_runs_average_per_step(tmp_path):
    runs = _runs(SEED, 5, 0.28)
    files = []
    for r, values in enumerate(runs):
        rows = [{"id": f"e{i}", "accuracy": int(v)} for i, v in enumerate(values)]
        # Each run in its own order: files align by id, not by position.
        rows = rows[r:] + rows[:r]
        files.append(_write(tmp_path / f"run{r}.json", rows))
    study = Study.from_files({"s": _labeled(tmp_path)}, {"cfg": files})
    assert study.runs("cfg") == 5
    np.testing.assert_array_equal(study.run_values("accuracy", "cfg"), runs.T)
    np.testing.assert_allclose(study.metric("accuracy")["cfg"], runs.mean(axis=0))
    # The mean over runs of the per-step average is the mean of the runs' accuracies.
    assert study.metric("accuracy")["cfg"].mean() == pytest.approx(runs.mean(axis=1).mean())
    is_id = np.array([i % 3 != 0 for i in range(N)])
    table = id_ood_table(study)
    assert table["id_mean"].iloc[0] == pytest.approx(runs[:, is_id].mean())
    assert table["ood_mean"].iloc[0] == pytest.approx(runs[:, ~is_id].mean())


def test_a_run_field_holds_several_runs(tmp_path):
    runs = _runs(SEED + 1, 3, 0.5)
    rows = [
        {"id": f"e{i}", "run": r + 1, "accuracy": int(v)}
        for r, values in enumerate(runs)
        for i, v in enumerate(values)
    ]
    study = Study.from_files({"s": _labeled(tmp_path)}, {"m": _write(tmp_path / "all.json", rows)})
    assert study.runs("m") == 3
    np.testing.assert_allclose(study.metric("accuracy")["m"], runs.mean(axis=0))


def test_a_run_missing_steps_is_refused_with_counts(tmp_path):
    full = [{"id": f"e{i}", "accuracy": 1} for i in range(N)]
    short = _write(tmp_path / "short.json", full[:-3])
    with pytest.raises(GemvizError, match="3 sample"):
        Study.from_files(
            {"s": _labeled(tmp_path)}, {"m": [_write(tmp_path / "full.json", full), short]}
        )
    rows = [dict(r, run=1) for r in full] + [dict(r, run=2) for r in full[:-2]]
    with pytest.raises(GemvizError, match=r"\(run 2\).*|2 sample") as info:
        Study.from_files({"s": _labeled(tmp_path)}, {"m": _write(tmp_path / "runs.json", rows)})
    assert "run 2" in str(info.value)


def test_paired_differences_use_the_run_average(tmp_path):
    a, b = _runs(SEED + 2, 4, 0.6), _runs(SEED + 3, 4, 0.3)
    files = {}
    for name, runs in (("a", a), ("b", b)):
        files[name] = [
            _write(
                tmp_path / f"{name}{r}.json",
                [{"id": f"e{i}", "accuracy": int(v)} for i, v in enumerate(vals)],
            )
            for r, vals in enumerate(runs)
        ]
    study = Study.from_files({"s": _labeled(tmp_path)}, files)
    pair = paired_comparison(study, "a", "b", "accuracy")
    assert pair["diff"].iloc[0] == pytest.approx(a.mean() - b.mean())
    assert pair["a_only"].iloc[0] == int((a.mean(axis=0) > b.mean(axis=0)).sum())


def _configs(tmp_path, probs: dict[str, float], runs: int = 5, seed: int = SEED) -> Study:
    rng = np.random.default_rng(seed)
    files = {}
    for name, p in probs.items():
        files[name] = [
            _write(
                tmp_path / f"{name}{r}.json",
                [{"id": f"e{i}", "accuracy": int(v)} for i, v in enumerate(rng.random(N) < p)],
            )
            for r in range(runs)
        ]
    return Study.from_files({"s": _labeled(tmp_path)}, files)


def test_every_comparison_shown_is_one_family(tmp_path):

    study = _configs(tmp_path, {"a": 0.3, "b": 0.35, "c": 0.4, "d": 0.6})
    pairs = run_pairs(study, "accuracy", splitter="s")
    assert list(pairs.columns) == PAIR_COLUMNS
    assert len(pairs) == 6 * 3 and set(pairs["family"]) == {
        "6 pairs (18 tests over all, ID and OOD), Holm"
    }
    # Holm over all 18 rows (pairs and subsets), not within each pair.
    np.testing.assert_allclose(pairs["diff_p_adjusted"], adjust_pvalues(pairs["diff_p"]))
    np.testing.assert_allclose(
        pairs["diff_p_fixed_adjusted"], adjust_pvalues(pairs["diff_p_fixed"])
    )
    assert (pairs["question"] == "entries").all()
    assert all("on entries like these" in v for v in pairs["verdict"])
    assert all("on this benchmark as it is" in v for v in pairs["verdict_fixed"])
    # Many-to-one: each configuration against the baseline, one family of three.
    base = run_pairs(study, "accuracy", baseline="a")
    assert list(zip(base.model_a, base.model_b, strict=True)) == [
        ("b", "a"),
        ("c", "a"),
        ("d", "a"),
    ]
    assert set(base["family"]) == {"3 configurations against a, Holm"}
    np.testing.assert_allclose(base["diff_p_adjusted"], adjust_pvalues(base["diff_p"]))
    with pytest.raises(GemvizError, match="unknown model 'z'"):
        run_pairs(study, "accuracy", baseline="z")
    with pytest.raises(GemvizError, match="0 or more"):
        run_pairs(study, "accuracy", margin=-0.1)


def test_the_fixed_benchmark_question_reads_the_run_accuracies(tmp_path):

    study = _configs(tmp_path, {"a": 0.3, "b": 0.5})
    row = run_pairs(study, "accuracy").iloc[0]
    acc = [study.run_values("accuracy", m).mean(axis=0) for m in ("a", "b")]
    assert row["diff_p_fixed"] == pytest.approx(sps.ttest_ind(*acc, equal_var=False).pvalue)
    assert row["diff_lo_fixed"] < row["diff"] < row["diff_hi_fixed"]
    (tmp_path / "one").mkdir()
    one = _configs(tmp_path / "one", {"a": 0.3, "b": 0.5}, runs=1)
    row = run_pairs(one, "accuracy").iloc[0]
    assert np.isnan(row["diff_p_fixed"]) and row["verdict_fixed"] == SINGLE_RUN
