"""The command line on BFCL runs: repeated --model names, ``table`` spread columns, ``runs``."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from gemviz.analysis.runs import run_summary
from gemviz.commands.cli import main
from gemviz.data.chat import with_text
from gemviz.data.read import read_records
from gemviz.data.study import Study
from gemviz.demo.bfcl import training_sets
from gemviz.demo.bfcl_runs import write_run
from gemviz.workspace.catalog import find_workspace
from tests.bfcl_data import ANSWERS, CONFIGS, RUNS, TEST, extract, score_file


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    root = extract(tmp_path_factory.mktemp("bfcl"))
    entries = [json.loads(x) for x in (root / TEST).read_text().splitlines()]
    # A splitter from the entries' API classes: ID when every class is a file/social one.
    social = {"GorillaFileSystem", "TwitterAPI", "MessageAPI", "MathAPI", "TicketAPI"}
    rows = [
        {"id": e["id"], "label": "ID" if set(e["involved_classes"]) <= social else "OOD"}
        for e in entries
    ]
    (root / "classes_labeled.json").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return root


def _models(root, configs=CONFIGS, runs=RUNS) -> list[str]:
    out = []
    for config in configs:
        for r in range(1, runs + 1):
            out += ["--model", f"{config}={score_file(root, config, r)}"]
    return out


def _json(capsys, argv) -> list[dict]:
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.slow
def test_table_rows_carry_the_spread_of_the_runs(root, capsys):
    argv = ["table", "--split", f"classes={root / 'classes_labeled.json'}",
            "--samples", str(root / TEST), *_models(root), "--format", "json"]  # fmt: skip
    rows = _json(capsys, argv)
    assert [r["model"] for r in rows] == list(CONFIGS)
    for row in rows:
        assert row["metric"] == "accuracy" and row["runs"] == RUNS
        files = [score_file(root, row["model"], r) for r in range(1, RUNS + 1)]
        acc = np.array([json.loads(f.read_text().splitlines()[0])["accuracy"] for f in files])
        assert row["run_sd"] == pytest.approx(acc.std(ddof=1))
        assert (row["run_min"], row["run_max"]) == (
            pytest.approx(acc.min()),
            pytest.approx(acc.max()),
        )
        n = row["id_n"] + row["ood_n"]
        overall = (row["id_mean"] * row["id_n"] + row["ood_mean"] * row["ood_n"]) / n
        assert overall == pytest.approx(acc.mean())
        for field in ("id_lo", "id_hi", "gap_lo", "gap_hi", "gap_p_adjusted", "small"):
            assert field in row


def test_runs_prints_one_row_per_run(root, capsys):
    argv = ["runs", "--split", f"classes={root / 'classes_labeled.json'}",
            "--samples", str(root / TEST), *_models(root, CONFIGS[:2]), "--format", "json",
            "--metric", "accuracy"]  # fmt: skip
    rows = _json(capsys, argv)
    assert len(rows) == 2 * RUNS
    assert list(rows[0]) == [
        "splitter", "model", "metric", "run", "id_mean", "ood_mean", "gap", "id_n", "ood_n"
    ]  # fmt: skip
    study = Study.from_files(
        {"classes": root / "classes_labeled.json"},
        {c: [score_file(root, c, r) for r in range(1, RUNS + 1)] for c in CONFIGS[:2]},
        samples=root / TEST,
    )
    is_id = study.is_id("classes")
    for row in rows:
        values = study.run_values("accuracy", row["model"])[:, row["run"] - 1]
        assert row["id_mean"] == pytest.approx(values[is_id].mean())
        assert row["gap"] == pytest.approx(values[is_id].mean() - values[~is_id].mean())
        assert row["id_n"] == int(is_id.sum())


def test_an_unknown_metric_is_one_line(root, capsys):
    argv = ["runs", "--split", f"classes={root / 'classes_labeled.json'}",
            "--samples", str(root / TEST), *_models(root, CONFIGS[:1], 2), "--metric", "exact_match"]  # fmt: skip
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "unknown metric 'exact_match'; use one of accuracy" in err and len(err.splitlines()) == 1


@pytest.mark.slow
def test_workspace_create_with_runs(root, capsys):
    argv = ["workspace", "create", "bfcl runs", "--test", str(root / TEST),
            "--split", f"classes={root / 'classes_labeled.json'}", *_models(root)]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert f"model sft-14k: results, {RUNS} runs" in out
    slug = out.strip().split()[-1]

    ws = find_workspace(slug)
    study = ws.study()
    assert study.runs("grpo-5k") == RUNS and study.metrics == ["accuracy"]
    # add-model with a name the workspace has adds a run.
    extra = score_file(root, "grpo-5k", 1)
    assert main(["workspace", "add-model", slug, "twice", str(extra)]) == 0
    assert main(["workspace", "add-model", slug, "twice", str(score_file(root, "grpo-5k", 2))]) == 0
    capsys.readouterr()
    assert find_workspace(slug).study().runs("twice") == 2


def _small_training_sets(folder):
    """The demo's two training sets (chat JSONL, parquet), every fourth prompt kept."""

    sets = training_sets(folder / "full")
    chat = folder / "set-14k.jsonl"
    lines = sets["set-14k"].read_text().splitlines()
    chat.write_text("\n".join(lines[::4]) + "\n")
    parquet = folder / "set-5k.parquet"
    pd.read_parquet(sets["set-5k"]).iloc[::4].to_parquet(parquet, index=False)
    return chat, parquet


@pytest.mark.slow
def test_evaluator_files_to_a_report_in_two_commands(root, tmp_path, capsys):
    chat, parquet = _small_training_sets(tmp_path)
    argv = ["workspace", "create", "verl runs", "--test", str(root / TEST),
            "--train-set", f"set-14k={chat}", "--train-set", f"set-5k={parquet}",
            *_models(root)]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "splitter set-14k: knn" in out and "splitter set-5k: knn" in out
    slug = out.strip().split()[-1]

    ws = find_workspace(slug)
    report = tmp_path / "report.html"
    assert main(["report", "--workspace", str(ws.folder), "--out", str(report)]) == 0
    text = report.read_text()
    assert '<section id="runs">' in text and "sft-14k" in text
    # Example steps are conversations, never screenshots.
    assert "Turn 1." in text and "no screenshot" not in text
    study = ws.study()
    assert study.splitters == ["set-14k", "set-5k"] and study.runs("sft-14k") == RUNS
    # The training set's text: the first user message (the system prompt is left out).
    scored = read_records(ws.splitter("set-14k").train_scores)
    first = json.loads(chat.read_text().splitlines()[0])["messages"][1]["content"]
    assert scored[0]["task"] == first and scored[0]["id"] == "row-1"


def test_text_all_joins_every_user_turn(root, tmp_path):

    entries = [json.loads(x) for x in (root / TEST).read_text().splitlines()][:3]
    first = with_text(entries, "t", "first")
    every = with_text(entries, "t", "all")
    assert every[0]["task"].startswith(first[0]["task"])
    assert every[0]["task"].count("\n\n") == len(entries[0]["question"]) - 1
    assert first[0]["id"] == entries[0]["id"]


@pytest.mark.slow
def test_overlap_compare_and_slices_take_runs(root, capsys, tmp_path):
    entries = [json.loads(x) for x in (root / TEST).read_text().splitlines()]
    half = tmp_path / "half.json"
    half.write_text("".join(json.dumps({"id": e["id"], "label": "ID" if i % 2 else "OOD"}) + "\n"
                            for i, e in enumerate(entries)))  # fmt: skip
    splits = ["--split", f"classes={root / 'classes_labeled.json'}", "--split", f"half={half}"]
    models = _models(root, CONFIGS[:2], 2)
    common = [*splits, "--samples", str(root / TEST), *models, "--format", "json"]
    out = _json(capsys, ["compare", *common])
    assert {r["metric"] for r in out} == {"accuracy"} and len(out) == 2
    study = Study.from_files(
        {"classes": root / "classes_labeled.json", "half": half},
        {c: [score_file(root, c, r) for r in (1, 2)] for c in CONFIGS[:2]},
        samples=root / TEST,
    )
    a, b = (study.metric("accuracy")[c].to_numpy() for c in CONFIGS[:2])
    is_id = study.is_id("classes")
    did = (a - b)[is_id].mean() - (a - b)[~is_id].mean()
    assert out[0]["did"] == pytest.approx(did)
    assert main(["overlap", *common, "--n-perm", "99"]) == 0
    drill = json.loads(capsys.readouterr().out)["set_difference"]
    assert {r["metric"] for r in drill} == {"accuracy"}
    rows = _json(capsys, ["slices", *common, "--by", "n_turns"])
    assert {r["metric"] for r in rows} == {"accuracy"} and {r["slice"] for r in rows} >= {"4"}


def test_a_bad_score_header_is_one_line(root, capsys, tmp_path):
    path = tmp_path / "BFCL_v4_multi_turn_base_score.json"
    lines = score_file(root, "grpo-5k", 2).read_text().splitlines()
    header = json.loads(lines[0])
    header["total_count"] = 150
    path.write_text("\n".join([json.dumps(header), *lines[1:]]) + "\n")
    argv = ["table", "--split", f"classes={root / 'classes_labeled.json'}",
            "--samples", str(root / TEST), "--model", f"m={path}"]  # fmt: skip
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "total_count 150" in err and str(path) in err


@pytest.mark.slow
def test_rare_successes_get_the_interval_the_data_allow(root, capsys, tmp_path):
    # Five runs passing 4 of 970 entry-runs on the 194 entries of the ID set, written as the
    # evaluator writes score files: the clustered interval is Clopper-Pearson's on the entries
    # (about 0.03), as close to the step-level interval as the frames give, never 0 to 0.55.

    entries = [json.loads(x) for x in (root / TEST).read_text().splitlines()]
    answers = {
        a["id"]: a["ground_truth"]
        for a in map(json.loads, (root / ANSWERS).read_text().splitlines())
    }
    passed = np.zeros((RUNS, len(entries)), dtype=int)
    passed[:2, 0] = passed[2:4, 1] = 1
    files = [
        write_run(tmp_path / f"run{r}", "rare", entries, answers, passed[r], r + 1)[0]
        for r in range(RUNS)
    ]
    split = tmp_path / "most.json"
    split.write_text(
        "".join(
            json.dumps({"id": e["id"], "label": "ID" if i < 194 else "OOD"}) + "\n"
            for i, e in enumerate(entries)
        )
    )
    models = [arg for f in files for arg in ("--model", f"rare={f}")]
    argv = ["table", "--split", f"most={split}", "--samples", str(root / TEST), *models,
            "--format", "json"]  # fmt: skip
    (row,) = _json(capsys, argv)
    assert row["id_mean"] == pytest.approx(4 / 970) and row["id_clusters"] == 194
    assert 0.02 < row["id_hi"] < 0.035 and row["id_lo"] >= 0
    study = Study.from_files({"most": split}, {"rare": files}, samples=root / TEST)
    board = run_summary(study, "accuracy", splitter="most")
    ide = board[board["subset"] == "ID"].iloc[0]
    assert ide["hi"] == pytest.approx(row["id_hi"])
    # Frames in memory (no conversation field: single steps) give Wilson's interval.
    frames = Study.from_frames(
        {"most": pd.DataFrame(read_records(split))},
        {"rare": [pd.DataFrame({"id": study.ids, "accuracy": v}) for v in passed]},
    )
    wilson = run_summary(frames, "accuracy", splitter="most")
    assert abs(wilson[wilson["subset"] == "ID"].iloc[0]["hi"] - row["id_hi"]) < 0.005


@pytest.mark.slow
def test_runs_compares_configurations_against_a_baseline(root, capsys):
    argv = ["runs", "--split", f"classes={root / 'classes_labeled.json'}",
            "--samples", str(root / TEST), *_models(root), "--format", "json",
            "--baseline", "grpo-5k", "--splitter", "classes"]  # fmt: skip
    rows = _json(capsys, argv)
    assert {(r["model_a"], r["model_b"]) for r in rows} == {
        ("sft-14k", "grpo-5k"),
        ("lora-14k", "grpo-5k"),
    }
    assert len(rows) == 2 * 3
    assert {r["family"] for r in rows} == {
        "2 configurations against grpo-5k (6 tests over all, ID and OOD), Holm"
    }
    for field in ("diff_p_fixed", "diff_lo_fixed", "diff_hi_fixed", "diff_p_fixed_adjusted"):
        assert all(isinstance(r[field], float) for r in rows)
    assert all("on this benchmark as it is" in r["verdict_fixed"] for r in rows)
    # The margin: per metric by default (1 point for accuracy), refused when negative.
    with pytest.raises(SystemExit) as info:
        main([*argv, "--margin", "-0.5"])
    assert info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--margin" in err and "from 0 to 1" in err
    compare = ["compare", "--split", f"classes={root / 'classes_labeled.json'}",
               "--samples", str(root / TEST), *_models(root, CONFIGS[:2]), "--format", "json"]  # fmt: skip
    (row,) = _json(capsys, compare)
    assert row["family"] == "1 pair under classes, accuracy, Holm"
    assert row["did_lo_fixed"] < row["did"] < row["did_hi_fixed"]
    assert "on this benchmark as it is" in row["verdict_fixed"]
