"""Metrics by name and repeated runs in the study: loading, averaging, refusals."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gemviz.analysis.tables import id_ood_table, paired_comparison
from gemviz.data.errors import GemvizError
from gemviz.data.loaders import load_results
from gemviz.data.study import Study

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
