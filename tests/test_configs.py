"""The configuration table: files (CSV/JSON/YAML), name patterns, workspace.json, the CLI."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from gemviz.commands.cli import main
from gemviz.data.errors import GemvizError
from gemviz.workspace.catalog import find_workspace
from gemviz.workspace.configs import (
    COLUMNS,
    Config,
    configs_from_pattern,
    configs_from_table,
    configurations,
    read_configs,
    set_configs,
)
from gemviz.workspace.rename import rename_entry
from gemviz.workspace.store import Workspace
from tests.bfcl_data import CONFIGS, TEST, extract, score_file
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    root = extract(tmp_path_factory.mktemp("bfcl"))
    entries = [json.loads(x) for x in (root / TEST).read_text().splitlines()]
    rows = [{"id": e["id"], "label": "ID" if i % 3 else "OOD"} for i, e in enumerate(entries)]
    (root / "labeled.json").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return root


def _create(root, capsys, *extra) -> Workspace:
    argv = ["workspace", "create", "cfg", "--test", str(root / TEST),
            "--split", f"thirds={root / 'labeled.json'}"]  # fmt: skip
    for config in CONFIGS:
        argv += ["--model", f"{config}={score_file(root, config, 1)}"]
    assert main([*argv, *extra]) == 0
    slug = capsys.readouterr().out.strip().split()[-1]
    return find_workspace(slug)


def test_csv_json_and_yaml_give_the_same_table(tmp_path):
    (tmp_path / "c.csv").write_text(
        "model,method,train_set,baseline\nsft-14k,SFT,14k,true\nlora-14k,LoRA,14k,\n"
    )
    (tmp_path / "c.json").write_text(json.dumps({
        "sft-14k": {"method": "SFT", "train_set": "14k", "baseline": True},
        "lora-14k": {"method": "LoRA", "train_set": "14k"},
    }))  # fmt: skip
    (tmp_path / "c.yaml").write_text(
        "- model: sft-14k\n  method: SFT\n  train_set: 14k\n  baseline: true\n"
        "- model: lora-14k\n  method: LoRA\n  train_set: 14k\n"
    )
    tables = [read_configs(tmp_path / f"c.{ext}") for ext in ("csv", "json", "yaml")]
    assert tables[0] == tables[1] == tables[2]
    assert tables[0]["sft-14k"] == Config(method="SFT", train_set="14k", baseline=True)
    assert tables[0]["lora-14k"].baseline is False


@pytest.mark.parametrize(
    ("name", "text", "words"),
    [
        ("bad.csv", "model,method,baseline\na,SFT,maybe\n", ("row 1", "'baseline'", "maybe")),
        ("bad.csv", "model,method,colour\na,SFT,red\n", ("row 1", "'colour'", "unknown")),
        ("bad.csv", "model,method\na,SFT\na,LoRA\n", ("row 2", "'model'", "twice")),
        ("bad.csv", "method\nSFT\n", ("row 1", "'model'", "no 'model'")),
        ("bad.csv", "model,baseline\na,true\nb,yes\n", ("2 configurations", "baseline")),
        ("bad.yaml", "- model: a\n  method: [1, 2]\n", ("row 1", "'method'", "text")),
        ("bad.yaml", "- model: a\n  method: : :\n", ("bad.yaml", "YAML")),
        ("bad.txt", "model\n", ("CSV, JSON or YAML",)),
    ],
)
def test_a_bad_config_file_is_one_line_naming_file_row_and_field(tmp_path, name, text, words):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(GemvizError) as info:
        read_configs(path)
    message = str(info.value)
    assert "\n" not in message and message.startswith(str(path))
    for word in words:
        assert word in message


def test_pattern_reads_attributes_off_names():
    names = ["sft_14k", "grpo_5k", "baseline_4b"]
    found = configs_from_pattern(
        names, r"(?P<method>sft|lora|grpo)_(?P<train_set>.*)", "baseline_4b"
    )
    assert found["sft_14k"] == Config(method="sft", train_set="14k")
    assert found["grpo_5k"].train_set == "5k"
    assert found["baseline_4b"] == Config(baseline=True)
    with pytest.raises(GemvizError, match="named groups"):
        configs_from_pattern(names, r"(?P<colour>\w+)")
    with pytest.raises(GemvizError, match="not a regular expression"):
        configs_from_pattern(names, r"(?P<method>")


def test_edited_table_round_trips_and_refuses_two_baselines():
    table = configs_from_table(
        pd.DataFrame(
            [{"model": "a", "method": "SFT", "baseline": True}, {"model": "b", "notes": " x "}]
        )
    )
    assert table == {"a": Config(method="SFT", baseline=True), "b": Config(notes="x")}
    with pytest.raises(GemvizError, match="row 2"):
        configs_from_table(pd.DataFrame([{"model": "a"}, {"model": "b", "notes": [1]}]))


def test_workspace_keeps_configs_and_old_workspaces_load(root, capsys, tmp_path):
    (tmp_path / "c.csv").write_text("model,method,train_set\nsft-14k,SFT,14k\ngrpo-5k,GRPO,5k\n")
    ws = _create(root, capsys, "--configs", str(tmp_path / "c.csv"), "--baseline", "sft-14k")
    table = configurations(Workspace.load(ws.folder))
    assert list(table.columns) == COLUMNS
    assert table["model"].tolist() == list(CONFIGS)
    row = table.set_index("model").loc["sft-14k"]
    assert (row["method"], row["train_set"], bool(row["baseline"])) == ("SFT", "14k", True)
    assert pd.isna(table.set_index("model").loc["lora-14k", "method"])
    # A workspace.json written before the table existed has no "configs": it loads.
    raw = json.loads(ws.json_path.read_text())
    raw.pop("configs")
    ws.json_path.write_text(json.dumps(raw))
    old = Workspace.load(ws.folder)
    assert old.configs == {} and not configurations(old)["baseline"].any()
    # Renaming a model carries its attributes.
    set_configs(old, {"lora-14k": Config(method="LoRA")})
    rename_entry(old, "model", "lora-14k", "lora")
    assert Workspace.load(ws.folder).configs["lora"].method == "LoRA"


def test_cli_add_configs_pattern_and_bad_input(root, capsys, tmp_path):
    ws = _create(root, capsys)
    pattern = r"(?P<method>sft|lora|grpo)-(?P<train_set>\w+)"
    assert main(["workspace", "add-configs", ws.slug, "--config-pattern", pattern,
                 "--baseline", "sft-14k"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "configuration sft-14k (baseline): method=sft, train_set=14k" in out
    assert configurations(Workspace.load(ws.folder))["method"].tolist() == ["sft", "lora", "grpo"]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"model": "sft-14k", "baseline": "perhaps"}]))
    assert main(["workspace", "add-configs", ws.slug, str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(bad) in err[0] and "row 1" in err[0] and "baseline" in err[0]
    # The refused file changed nothing.
    assert Workspace.load(ws.folder).configs["sft-14k"].baseline is True
    assert main(["workspace", "add-configs", ws.slug, "--baseline", "nope"]) == 2
    assert "not a model" in capsys.readouterr().err


@pytest.mark.slow
def test_workspace_page_fills_and_saves_the_table(root, capsys):
    ws = _create(root, capsys)
    at = AppTest.from_file(str(ROOT / "pages" / "1_workspace.py"), default_timeout=60)
    at.session_state["workspace"] = ws.slug
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    at.text_input(key="configs_pattern").set_value(r"(?P<method>[a-z]+)-(?P<train_set>\w+)").run()
    at.button(key="configs_fill").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert configurations(Workspace.load(ws.folder))["train_set"].tolist() == ["14k", "14k", "5k"]
    at.button(key="configs_save").click().run()
    assert not at.exception and not at.error
    assert Workspace.load(ws.folder).configs["grpo-5k"].method == "grpo"
