"""End-to-end tests of the ``partition`` and ``detect`` commands."""

from __future__ import annotations

import gc
import hashlib
import importlib
import json
import runpy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import gemviz.__main__ as entry
from gemviz.commands import COMMANDS
from gemviz.commands.cli import build_parser, main
from gemviz.commands.common import splitter_from_args
from gemviz.data.errors import GemvizError
from gemviz.splitters import GemSplitter, splitter_params

SEED = 42  # as in tests/conftest.py
ROOT = Path(__file__).resolve().parents[1]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def aitz_files(gem_public, tmp_path_factory):
    """AITZ test steps split by task into a train file and a held-out file."""
    records = json.loads((gem_public / "AITZ_test_inputscore.json").read_text())
    tasks = list(dict.fromkeys(r["task"] for r in records))
    perm = np.random.default_rng(SEED).permutation(len(tasks))
    train_tasks = {tasks[i] for i in perm[: len(tasks) // 2]}
    folder = tmp_path_factory.mktemp("aitz")
    train = folder / "train.json"
    held = folder / "held.jsonl"
    train.write_text(json.dumps([r for r in records if r["task"] in train_tasks]))
    held.write_text(
        "\n".join(json.dumps(r) for r in records if r["task"] not in train_tasks) + "\n"
    )
    return train, held


def test_partition_writes_test_records_with_labels(gem_public, aitz_files, tmp_path, capsys):
    train, _ = aitz_files
    test = gem_public / "Kairos_test_inputscore.json"  # carries extra fields
    before = _digest(test), _digest(train)
    out = tmp_path / "sub" / "kairos_labeled.json"

    rc = main(["partition", "--train", str(train), "--test", str(test), "--out", str(out)])

    assert rc == 0
    assert (_digest(test), _digest(train)) == before
    written = json.loads(out.read_text())
    original = json.loads(test.read_text())
    assert len(written) == len(original)
    for got, rec in zip(written, original, strict=True):
        assert got["label"] in ("ID", "OOD")
        assert {k: v for k, v in got.items() if k != "label"} == rec
        assert list(got)[:-1] == list(rec)
    train_scores = [r["input_score"] for r in json.loads(train.read_text())]
    gem = GemSplitter().fit(train_scores)
    want = gem.labels([r["input_score"] for r in original])
    assert [r["label"] for r in written] == list(want)
    text = capsys.readouterr().out
    assert f"{gem.n_components_} Gaussian component(s)" in text
    lo, hi = gem.intervals_[0]
    assert f"[{lo:.6g}, {hi:.6g}]" in text
    assert not list(out.parent.glob(".*tmp"))  # no temporary file left behind


def test_partition_percentile_on_jsonl_replaces_existing_label(aitz_files, tmp_path, capsys):
    train, held = aitz_files
    test = tmp_path / "held_labeled_before.json"
    records = [json.loads(line) for line in held.read_text().splitlines()]
    test.write_text(json.dumps([{**r, "label": "stale"} for r in records]))
    out = tmp_path / "out.json"
    args = ["partition", "--train", str(train), "--test", str(test), "--out", str(out)]
    assert main([*args, "--method", "percentile", "--percentile", "50"]) == 0
    written = json.loads(out.read_text())
    threshold = np.percentile([r["input_score"] for r in json.loads(train.read_text())], 50)
    assert [r["label"] for r in written] == [
        "ID" if r["input_score"] <= threshold else "OOD" for r in records
    ]
    assert "50th percentile" in capsys.readouterr().out


def test_partition_mahalanobis_aligns_embeddings_by_id(tmp_path):
    rng = np.random.default_rng(SEED)
    train = [{"id": f"t{i}", "input_score": 0.0} for i in range(60)]
    test = [{"id": f"s{i}", "input_score": 0.0} for i in range(6)]
    (tmp_path / "train.json").write_text(json.dumps(train))
    (tmp_path / "test.json").write_text(json.dumps(test))
    np.savez(
        tmp_path / "train.npz",
        ids=np.array([r["id"] for r in train]),
        embeddings=rng.normal(size=(60, 3)),
    )
    # Test embeddings stored in reverse order: s5..s0; s0-s2 are far away.
    emb = np.vstack([np.zeros((3, 3)), np.full((3, 3), 50.0)])
    np.savez(
        tmp_path / "test.npz", ids=np.array([f"s{i}" for i in range(5, -1, -1)]), embeddings=emb
    )
    out = tmp_path / "out.json"
    rc = main(
        ["partition", "--train", str(tmp_path / "train.json"), "--test",
         str(tmp_path / "test.json"), "--out", str(out), "--method", "mahalanobis",
         "--train-embeddings", str(tmp_path / "train.npz"),
         "--test-embeddings", str(tmp_path / "test.npz")]
    )  # fmt: skip
    assert rc == 0
    assert [r["label"] for r in json.loads(out.read_text())] == ["OOD"] * 3 + ["ID"] * 3


def test_detect_prints_metrics_json(gem_public, aitz_files, capsys):
    train, held = aitz_files
    ood = gem_public / "metagui_inputscore.json"
    rc = main(["detect", "--train", str(train), "--id", str(held), "--ood", str(ood)])
    assert rc == 0
    report = json.loads(capsys.readouterr().out)
    assert report["method"] == "gem"
    assert report["n_ood"] == len(json.loads(ood.read_text()))
    assert report["n_id"] == len(held.read_text().splitlines())
    assert report["accuracy"] >= 0.95 and report["auroc"] >= 0.95
    assert set(report["confusion"]) >= {"tp", "fp", "fn", "tn", "labels", "matrix"}


def test_bad_input_gives_one_line_error(aitz_files, tmp_path, capsys):
    train, _ = aitz_files
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"task": "a", "image_path": "x.png", "input_score": "NaN"}]))
    out = tmp_path / "out.json"
    cases = [
        (["--test", str(bad)], ["bad.json", "row 1", "input_score"]),
        (["--test", str(tmp_path / "missing.json")], ["file not found"]),
        (["--test", str(train), "--method", "mahalanobis"], ["--train-embeddings"]),
        (["--test", str(train), "--sigma", "-1"], ["sigma"]),
    ]
    for extra, words in cases:
        rc = main(["partition", "--train", str(train), "--out", str(out), *extra])
        err = capsys.readouterr().err
        assert rc == 2, extra
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
        for word in words:
            assert word in err, (word, err)
    assert not out.exists()


def test_every_error_starts_with_gemviz_and_the_command(aitz_files, tmp_path, capsys):
    # Errors argparse finds and errors the command finds read the same way.
    train, _ = aitz_files
    cases = [
        (["table", "--split", "a=b.json"], "gemviz table: error: "),
        (["workspace", "create", "--bogus"], "gemviz workspace create: error: "),
        (["partition", "--train", str(train), "--test", str(tmp_path / "no.json"),
          "--out", str(tmp_path / "o.json")], "gemviz partition: error: "),
        (["no-such-command"], "gemviz: error: "),
    ]  # fmt: skip
    for argv, prefix in cases:
        try:
            rc = main(argv)
        except SystemExit as exc:
            rc = exc.code
        err = capsys.readouterr().err
        assert rc == 2 and err.startswith(prefix) and err.count("\n") == 1, (argv, err)


def test_out_may_not_overwrite_an_input(aitz_files, tmp_path, capsys):
    train, held = aitz_files
    copy = tmp_path / "held.jsonl"
    copy.write_text(held.read_text())
    before = _digest(copy)
    rc = main(["partition", "--train", str(train), "--test", str(copy), "--out", str(copy)])
    assert rc == 2 and "also an input" in capsys.readouterr().err
    assert _digest(copy) == before


@pytest.mark.slow
def test_partition_help_in_a_subprocess():
    proc = subprocess.run(
        [sys.executable, "-m", "gemviz", "partition", "--help"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    for option in ("--train", "--test", "--out", "--method", "--sigma", "--max-components"):
        assert option in proc.stdout


def test_python_dash_m_gemviz_is_the_command_line(monkeypatch, capsys):
    # In process, what `python -m gemviz partition --help` runs (the subprocess test is slow).
    assert entry.main is main
    monkeypatch.setattr(sys, "argv", ["gemviz", "partition", "--help"])
    with pytest.raises(SystemExit) as stop:
        runpy.run_path(entry.__file__, run_name="__main__")
    assert stop.value.code == 0
    assert "--train" in capsys.readouterr().out


def test_own_process_leaves_the_collector_on_after_a_refused_argument(capsys):
    # `python -m gemviz` pauses the garbage collector while a command's modules load; an
    # argument error (or --help) ends the parse early and must not leave it paused.
    assert gc.isenabled()
    with pytest.raises(SystemExit) as stop:
        main(["partition", "--no-such-option"], own_process=True)
    assert stop.value.code == 2
    assert gc.isenabled()


@pytest.mark.slow
def test_python_dash_m_gemviz_exits_with_its_status_and_keeps_its_output(tmp_path):
    # The process ends without tearing down its objects: what it printed must still arrive,
    # and an error's status must still be the exit status.
    bad = subprocess.run(
        [sys.executable, "-m", "gemviz", "report", "--workspace", str(tmp_path), "--out", "r.html"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert bad.returncode == 2
    assert bad.stderr.strip().startswith("gemviz report: error:")
    version = subprocess.run(
        [sys.executable, "-m", "gemviz", "--version"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert version.returncode == 0 and version.stdout.startswith("gemviz ")


def test_every_command_has_its_help_in_one_place(capsys):

    parser = build_parser()
    text = " ".join(parser.format_help().split())  # argparse wraps long lines
    for name, (module, help_text) in COMMANDS.items():
        assert help_text.replace("%%", "%") in text, name
        # The module holds no second copy of the help to drift from the listed one.
        assert not hasattr(importlib.import_module(f"gemviz.commands.{module}"), "HELP"), name


def test_splitter_options_default_to_the_registry(capsys):
    parser = build_parser("partition")
    args = parser.parse_args(["partition", "--train", "a", "--test", "b", "--out", "c"])
    assert splitter_from_args(args).get_params() == splitter_params("gem")
    args = parser.parse_args(
        ["partition", "--train", "a", "--test", "b", "--out", "c", "--sigma", "1.5", "--seed", "7"]
    )
    assert splitter_from_args(args).get_params() == {
        **splitter_params("gem"),
        "sigma": 1.5,
        "random_state": 7,
    }
    args.method = "percentile"
    # Options the method does not take are refused, not ignored.
    with pytest.raises(GemvizError, match="--seed, --sigma does not apply to --method percentile"):
        splitter_from_args(args)
    args.seed = args.sigma = None
    assert splitter_from_args(args).get_params() == splitter_params("percentile")
    help_text = parser._subparsers._group_actions[0].choices["partition"].format_help()
    assert f"(default {splitter_params('gem')['max_components']})" in help_text
