"""The ``workspace`` command: create (slug last), list, add-split, add-model, remove."""

from __future__ import annotations

import csv
import io
import json

import pytest
from test_workspace_import import files  # noqa: F401  (the same researcher's files)

from gemviz.commands.cli import main
from gemviz.data.write import write_records
from gemviz.workspace import annotations
from gemviz.workspace.catalog import find_workspace
from gemviz.workspace.entries import ModelEntry, workspaces_root
from gemviz.workspace.store import Workspace, create_workspace


def _create(files, capsys, *extra) -> str:  # noqa: F811
    code = main(
        [
            "workspace",
            "create",
            "My AITZ study",
            "--test",
            str(files / "test.json"),
            "--train",
            str(files / "train.json"),
            "--scores",
            f"gem={files / 'train.json'}",
            "--model",
            f"a={files / 'a.jsonl'}",
            "--model",
            f"b={files / 'b.csv'}",
            *extra,
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    return out.strip().splitlines()[-1].split()[-1]


def test_create_prints_the_slug_last_and_list_shows_it(files, capsys):  # noqa: F811
    slug = _create(files, capsys, "--cluster-by", "task")
    assert slug == "my-aitz-study"
    ws = find_workspace(slug)
    assert ws.cluster_by == "task"
    assert [s.name for s in ws.splitters] == ["gem"] and [m.name for m in ws.models] == ["a", "b"]
    assert len(ws.study()) == 800
    assert main(["workspace", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["slug"] == slug and rows[0]["models"] == ["a", "b"]


def test_create_refuses_a_mismatched_file_and_leaves_nothing(files, capsys):  # noqa: F811
    code = main(
        [
            "workspace",
            "create",
            "Bad",
            "--test",
            str(files / "test.json"),
            "--model",
            f"x={files / 'other.json'}",
            "--type-field",
            "tm",
            "--exact-field",
            "em",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert "do not cover the same samples" in err and "800 sample(s)" in err
    assert not any(workspaces_root().iterdir())


def test_add_split_add_model_and_remove(files, capsys):  # noqa: F811
    slug = _create(files, capsys)
    assert (
        main(
            [
                "workspace",
                "add-split",
                slug,
                "wide",
                "--train-scores",
                str(files / "train.json"),
                "--sigma",
                "3",
            ]
        )
        == 0
    )
    args = ["workspace", "add-model", slug, "c", str(files / "c.json")]
    assert main([*args, "--type-field", "tm", "--exact-field", "em"]) == 0
    assert main([*args, "--replace", "--pred-field", "nope"]) == 2
    assert "'nope' is not in this file" in capsys.readouterr().err
    ws = Workspace.load(find_workspace(slug).folder)
    assert ws.splitter("wide").params["sigma"] == 3.0
    assert ws.models[-1].type_field == "tm"
    assert main(["workspace", "remove", slug, "--model", "c", "--splitter", "wide"]) == 0
    ws = find_workspace(slug)
    assert [m.name for m in ws.models] == ["a", "b"] and [s.name for s in ws.splitters] == ["gem"]
    assert main(["workspace", "remove", slug, "--model", "zzz"]) == 2
    assert main(["workspace", "remove", slug, "--delete"]) == 0
    assert find_workspace(slug) is None


def test_list_marks_broken_workspaces(files, capsys):  # noqa: F811
    slug = _create(files, capsys)
    bad = workspaces_root() / "broken"
    bad.mkdir()
    (bad / "workspace.json").write_text("{oops")
    assert main(["workspace", "list"]) == 0
    out = capsys.readouterr().out
    assert slug in out and "broken\tbroken\tBROKEN: " in out


@pytest.mark.parametrize("bad", ["gem", "gem=", "=x"])
def test_malformed_options_are_refused(files, capsys, bad):  # noqa: F811
    code = main(["workspace", "create", "X", "--test", str(files / "test.json"), "--split", bad])
    assert code == 2
    assert "--split takes NAME=FILE" in capsys.readouterr().err


def test_annotations_print_as_csv_in_test_order(files, capsys):  # noqa: F811

    slug = _create(files, capsys)
    ws = find_workspace(slug)
    ids = ws.study().ids
    annotations.annotate(ws.folder, ids[5], ["GT wrong", "zoomed"], "box is off")
    annotations.annotate(ws.folder, ids[1], ["truly OOD"])
    assert main(["workspace", "annotations", slug, "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["id"] for r in rows] == [ids[1], ids[5]]
    assert rows[1]["tags"] == "GT wrong; zoomed" and rows[1]["note"] == "box is off"
    assert main(["workspace", "annotations", "no-such-space"]) == 2
    assert "no workspace 'no-such-space'" in capsys.readouterr().err


def test_rename_model_and_split_commands(tmp_path, capsys):
    rows = [{"id": f"s{i}", "task": f"t{i % 3}", "input_score": float(i)} for i in range(9)]
    write_records(tmp_path / "test.json", rows)
    write_records(
        tmp_path / "m.json", [{"id": r["id"], "type_match": 1, "exact_match": 0} for r in rows]
    )
    ws = create_workspace("Renames", test=tmp_path / "test.json")
    ws.save_partition("gme", tmp_path / "test.json", [i < 6 for i in range(9)])
    ws.add_model(ModelEntry(name="sfft", results=str(tmp_path / "m.json")))
    assert main(["workspace", "rename-split", ws.slug, "gme", "gem"]) == 0
    assert main(["workspace", "rename-model", ws.slug, "sfft", " sft "]) == 0
    assert "renamed model 'sfft' to 'sft'" in capsys.readouterr().out
    study = find_workspace(ws.slug).study()
    assert study.splitters == ["gem"] and study.models == ["sft"]
    assert int(study.is_id("gem").sum()) == 6
    assert main(["workspace", "rename-model", ws.slug, "nope", "x"]) == 2
    assert "has no model 'nope'" in capsys.readouterr().err
    assert main(["workspace", "rename-split", ws.slug, "gem", ""]) == 2
