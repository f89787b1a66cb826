"""The score command: outputs, progress file, shard option, one-line errors."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from gemviz.commands.cli import main
from gemviz.commands.score import parse_shard
from gemviz.data.errors import GemvizError
from gemviz.data.read import read_records


@pytest.fixture
def files(gem_public, tmp_path):
    records = json.loads((gem_public / "screenspot-mobile_inputscore.json").read_text())
    train, test = tmp_path / "train.json", tmp_path / "test.csv"
    train.write_text(json.dumps(records[:20]))

    pd.DataFrame(records[20:30]).to_csv(test, index=False)
    return train, test


@pytest.mark.slow
def test_score_command_writes_outputs_and_progress(files, tmp_path, capsys):
    train, test = files
    progress = tmp_path / "progress.json"
    rc = main(
        [
            "score",
            "--train",
            str(train),
            "--test",
            str(test),
            "--out-dir",
            str(tmp_path / "out"),
            "--progress-file",
            str(progress),
            "--batch-size",
            "8",
        ]
    )
    assert rc == 0
    state = json.loads(progress.read_text())
    assert state["done"] == state["total"] == 30
    assert state["finished"] is True and state["error"] is None and state["stage"] == "done"
    assert state["updated"] >= state["started"]
    assert len(read_records(tmp_path / "out" / "test_inputscore.json")) == 10
    assert "embedded 30 sample(s), 0 from the cache" in capsys.readouterr().out
    rc = main(
        ["score", "--train", str(train), "--test", str(test), "--out-dir", str(tmp_path / "o2")]
    )
    assert rc == 0 and "embedded 0 sample(s), 30 from the cache" in capsys.readouterr().out


def test_score_command_error_is_one_line_and_recorded(files, tmp_path, capsys):
    train, _test = files
    progress = tmp_path / "progress.json"
    rc = main(
        [
            "score",
            "--train",
            str(train),
            "--test",
            str(tmp_path / "absent.json"),
            "--out-dir",
            str(tmp_path / "out"),
            "--progress-file",
            str(progress),
        ]
    )
    assert rc == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("gemviz score: error:") and "absent.json" in err and "\n" not in err
    state = json.loads(progress.read_text())
    assert state["finished"] is True and "absent.json" in state["error"]


def test_parse_shard():
    assert parse_shard("1/4", env={}) == (1, 4)
    assert parse_shard(None, env={}) is None
    assert parse_shard(None, env={"RANK": "2", "WORLD_SIZE": "3"}) == (2, 3)
    assert parse_shard("0/1", env={}) is None
    for bad in ("4/4", "x", "1-2"):
        with pytest.raises(GemvizError, match="RANK"):
            parse_shard(bad, env={})


def test_help_mentions_pixels(capsys):
    with pytest.raises(SystemExit):
        main(["score", "--help"])
    out = capsys.readouterr().out
    assert "pixels never enter" in out and "--skip-bad" in out
