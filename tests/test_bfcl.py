"""BFCL's files read as published: test entries, possible answers, score and result files."""

from __future__ import annotations

import importlib.util
import json
import lzma
import shutil

import numpy as np
import pytest

from gemviz.data import bfcl
from gemviz.data.chat import conversation_text
from gemviz.data.errors import GemvizError
from gemviz.data.loaders import load_results
from gemviz.data.study import Study
from tests.bfcl_data import ANSWERS, CONFIGS, RUNS, TEST, extract, score_file
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return extract(tmp_path_factory.mktemp("bfcl"))


def _lines(path):
    return [json.loads(x) for x in path.read_text().splitlines()]


def _test_ids(root):
    return [r["id"] for r in _lines(root / TEST)]


def test_the_vendored_entries_are_bfcls_multi_turn_base(root):
    entries = bfcl.test_records(root / TEST)
    assert len(entries) == 200
    assert entries[0]["id"] == "multi_turn_base_0"
    assert entries[0]["task"].startswith("Move 'final_report.pdf' within document directory")
    assert entries[0]["n_turns"] == 4 and entries[0]["conversation_id"] == "multi_turn_base_0"
    answers = bfcl.possible_answers(root / ANSWERS)
    assert len(answers) == 200
    assert answers["multi_turn_base_0"][0] == [
        "cd(folder='document')",
        "mkdir(dir_name='temp')",
        "mv(source='final_report.pdf', destination='temp')",
    ]


def test_entry_text_first_or_all_turns(root):
    question = _lines(root / TEST)[1]["question"]
    first = conversation_text(question, "first")
    assert first.startswith("I am alex. Check if the current directory is under my name")
    every = conversation_text(question, "all")
    assert every.startswith(first) and every.count("\n\n") == 3
    with pytest.raises(GemvizError, match="unknown text mode"):
        conversation_text(question, "last")


def test_a_score_file_with_its_result_file_beside_it(root):
    path = score_file(root, "sft-14k", 1)
    header = _lines(path)[0]
    run = bfcl.read_score_file(path)
    assert run.ids_from.endswith("result/sft-14k/multi_turn/BFCL_v4_multi_turn_base_result.json")
    assert len(run.ids) == header["total_count"] == 200
    assert sum(run.passed) == header["correct_count"]
    assert run.accuracy == pytest.approx(header["accuracy"])
    failed = {r["id"] for r in _lines(path)[1:]}
    assert {i for i, p in zip(run.ids, run.passed, strict=True) if not p} == failed
    assert all(run.error_types[run.ids.index(i)].startswith("multi_turn:") for i in failed)
    # Outputs come from the result file for every entry, passed ones included.
    assert set(run.outputs) == set(run.ids)


def test_a_score_file_alone_needs_the_test_ids(root):
    path = score_file(root, "sft-14k", 2)
    with pytest.raises(GemvizError, match="lists only the failed entries") as info:
        bfcl.read_score_file(path)
    assert str(path) in str(info.value)
    run = bfcl.read_score_file(path, _test_ids(root), "the test file")
    assert sum(run.passed) == _lines(path)[0]["correct_count"]


def _rewrite(path, dest, edit):
    rows = _lines(path)
    edit(rows)
    dest.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return dest


@pytest.mark.parametrize(
    "edit, field, words",
    [
        (lambda rows: rows[0].update(total_count=199), "total_count", "holds 200 entries"),
        (lambda rows: rows[0].update(correct_count=rows[0]["correct_count"] + 1), "correct_count",
         "listed as failed"),
        (lambda rows: rows[0].update(accuracy=0.9), "accuracy", "correct_count / total_count"),
        (lambda rows: rows[1].update(id="multi_turn_base_999"), "id", "is not in"),
        (lambda rows: rows.append(rows[1]), "id", "listed twice"),
        (lambda rows: rows[0].update(total_count="200"), "total_count", "expected a count"),
    ],
)  # fmt: skip
def test_inconsistent_score_files_are_refused(root, tmp_path, edit, field, words):
    bad = _rewrite(
        score_file(root, "grpo-5k", 3), tmp_path / "BFCL_v4_multi_turn_base_score.json", edit
    )
    with pytest.raises(GemvizError, match=words) as info:
        bfcl.read_score_file(bad, _test_ids(root))
    assert info.value.field == field and str(bad) in str(info.value)


def test_a_score_file_written_the_evaluators_way(tmp_path):
    # save_eval_results: the failed entries, then the header inserted first, one JSON per line.
    ids = [f"multi_turn_base_{i}" for i in range(5)]
    result = [
        {"id": ids[1], "valid": False, "error": {"error_type": "multi_turn:force_terminated"}}
    ]
    correct = 4
    result.insert(0, {"accuracy": correct / 5, "correct_count": correct, "total_count": 5})
    path = tmp_path / "BFCL_v4_multi_turn_base_score.json"
    with open(path, "w", encoding="utf-8") as f:
        for entry in result:
            f.write(json.dumps(entry, ensure_ascii=False) + "\n")
    frame = load_results(path, ids, "ids")
    assert frame.attrs["metrics"] == ["accuracy"]
    assert frame["accuracy"].tolist() == [1, 0, 1, 1, 1]
    assert frame["error_type"].tolist()[1] == "multi_turn:force_terminated"


def test_a_configurations_mean_over_runs_is_the_mean_of_its_accuracies(root):
    runs = {c: [score_file(root, c, r) for r in range(1, RUNS + 1)] for c in CONFIGS}
    labeled = root / "labeled.json"
    entries = _lines(root / TEST)
    labeled.write_text(
        "".join(json.dumps({"id": e["id"], "label": "ID" if i % 2 else "OOD"}) + "\n"
                for i, e in enumerate(entries))
    )  # fmt: skip
    study = Study.from_files({"half": labeled}, runs, samples=root / TEST)
    assert study.metrics == ["accuracy"] and study.models == list(CONFIGS)
    assert study.cluster_by == "conversation_id" and study.n_clusters == 200
    for config, files in runs.items():
        accuracies = [_lines(f)[0]["accuracy"] for f in files]
        assert study.runs(config) == RUNS
        assert study.metric("accuracy")[config].mean() == pytest.approx(np.mean(accuracies))
        np.testing.assert_allclose(study.run_values("accuracy", config).mean(axis=0), accuracies)


def test_a_run_of_another_test_set_is_refused_with_counts(root, tmp_path):
    files = [score_file(root, "lora-14k", r) for r in (1, 2)]
    short = tmp_path / "short" / "BFCL_v4_multi_turn_base_score.json"
    short.parent.mkdir()
    shutil.copy(files[1], short)
    ids = _test_ids(root)
    subset = tmp_path / "subset.json"
    subset.write_text("".join(json.dumps(r) + "\n" for r in _lines(root / TEST)[:150]))
    with pytest.raises(GemvizError, match=r"total_count 200, but .* holds 150 entries"):
        Study.from_files({}, {"lora": files}, samples=subset)
    assert len(ids) == 200


def test_make_runs_writes_the_carried_runs_again(tmp_path):
    # The script that wrote tests/data/bfcl/runs gives the same bytes (into a temporary folder).
    carried = ROOT / "tests" / "data" / "bfcl" / "runs"
    spec = importlib.util.spec_from_file_location("make_runs", carried.parent / "make_runs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(tmp_path)
    files = sorted(p.relative_to(carried) for p in carried.rglob("*.xz"))
    assert len(files) == 18
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.xz")) == files
    for path in files:
        want = lzma.decompress((carried / path).read_bytes())
        assert lzma.decompress((tmp_path / path).read_bytes()) == want, path
