"""The tool-calling demo's parts, each on its own: entries, training sets, simulated runs.

The whole build (both training sets scored against all 200 entries) runs in
``tests/test_pages_bfcl.py``, which is slow; these check each step it is made of.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from gemviz.data import bfcl
from gemviz.demo import bfcl as demo
from gemviz.demo.bfcl_runs import CONFIGURATIONS, simulate, write_run
from gemviz.scoring.training import score_training_set


def _entries_and_answers(n: int):
    entries = demo.read_packed(demo.TEST)[:n]
    answers = {r["id"]: r["ground_truth"] for r in demo.read_packed(demo.ANSWERS)}
    return entries, answers


def test_simulated_runs_read_back_as_the_evaluator_wrote_them(tmp_path):
    entries, answers = _entries_and_answers(12)
    config = CONFIGURATIONS[0]
    passed = simulate(entries, config, runs=2)
    assert passed.shape == (2, 12) and passed.dtype == np.int8
    np.testing.assert_array_equal(passed, simulate(entries, config, runs=2))
    assert 0 < passed.sum() < passed.size  # some entries pass, some fail

    score_file, result_file = write_run(
        tmp_path / "run1", config.name, entries, answers, passed[0], 0
    )
    assert bfcl.result_file_for(score_file) == result_file
    run = bfcl.read_score_file(score_file)
    assert run.ids == [e["id"] for e in entries]
    assert run.passed == passed[0].tolist()
    assert run.accuracy == passed[0].mean()
    failed = [t for t, p in zip(run.error_types, run.passed, strict=True) if not p]
    assert all(t.startswith("multi_turn:") for t in failed)


def test_the_demo_inputs_and_its_two_training_sets(tmp_path):
    test, answers = demo.write_inputs(tmp_path)
    entries = bfcl.test_records(test)
    assert len(entries) == 200 and len(bfcl.possible_answers(answers)) == 200
    sets = demo.training_sets(tmp_path / "training")
    assert sorted(sets) == ["set-14k", "set-5k"]
    first = json.loads(sets["set-14k"].read_text().splitlines()[0])
    assert [m["role"] for m in first["messages"]] == ["system", "user", "assistant"]
    assert first["messages"][-1]["tool_calls"], "a training conversation shows its tool call"
    assert sets["set-5k"].suffix == ".parquet"
    # the templated requests are the same for the same seed, and differ for another
    classes = frozenset({"TradingBot"})
    assert demo.template_requests(classes) == demo.template_requests(classes)
    assert demo.template_requests(classes) != demo.template_requests(classes, seed=7)


def test_a_training_set_scores_the_test_entries(tmp_path):
    train = tmp_path / "train.jsonl"
    prompts = ["book a flight to Paris", "buy ten shares", "check my car's tyres", "sell all"]
    train.write_text(
        "".join(json.dumps({"messages": [{"role": "user", "content": p}]}) + "\n" for p in prompts)
    )
    test = tmp_path / "test.json"
    test.write_text(json.dumps([{"id": f"t{i}", "task": p} for i, p in enumerate(prompts[:3])]))
    found = score_training_set(train, test, out_dir=tmp_path / "out")
    train_scores = json.loads(Path(found.train_scores).read_text())
    test_scores = json.loads(Path(found.test_scores).read_text())
    assert len(train_scores) == 4 and len(test_scores) == 3
    assert [r["id"] for r in test_scores] == ["t0", "t1", "t2"]
    assert all(np.isfinite(r["input_score"]) and r["input_score"] >= 0 for r in test_scores)
