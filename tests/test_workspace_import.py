"""Workspaces from a researcher's files: checked when added, mapped fields, nothing half made."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from conftest import SEED

from gemviz.data.errors import GemvizError
from gemviz.data.ids import sample_ids
from gemviz.data.read import read_records
from gemviz.data.write import write_records
from gemviz.scoring.store import save_embeddings
from gemviz.workspace.catalog import scan_workspaces
from gemviz.workspace.create import add_splitter, create_from_files, score_files_in
from gemviz.workspace.entries import workspaces_root
from gemviz.workspace.files import stage_upload
from gemviz.workspace.models import add_model
from gemviz.workspace.store import Workspace, create_workspace


@pytest.fixture
def files(gem_public, tmp_path):
    """AITZ scores split by task into train/test, results as JSONL and as CSV with spaces."""
    records = read_records(gem_public / "AITZ_test_inputscore.json")
    tasks = sorted({r["task"] for r in records})
    rng = np.random.default_rng(SEED)
    train_tasks = set(rng.choice(tasks, size=len(tasks) // 2, replace=False))
    train = [r for r in records if r["task"] in train_tasks]
    test = [r for r in records if r["task"] not in train_tasks][:600]
    test += read_records(gem_public / "screenspot-mobile_inputscore.json")[:200]  # OOD steps
    write_records(tmp_path / "train.json", train)
    write_records(tmp_path / "test.json", test)
    exact = rng.random(len(test)) < 0.4
    typ = exact | (rng.random(len(test)) < 0.5)
    write_records(
        tmp_path / "a.jsonl",
        [
            {**r, "type_match": int(t), "exact_match": int(e), "prediction": "CLICK(0.5, 0.5)"}
            for r, t, e in zip(test, typ, exact, strict=True)
        ],
    )
    with open(tmp_path / "b.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["task", "image_path", "type match", "exact match"])
        for r, t, e in list(zip(test, typ, exact, strict=True))[::-1]:
            w.writerow([r["task"], r["image_path"], int(t), int(e)])
    write_records(
        tmp_path / "c.json",
        [{**r, "tm": int(t), "em": int(e)} for r, t, e in zip(test, typ, exact, strict=True)],
    )
    write_records(tmp_path / "other.json", [dict(r, tm=1, em=0) for r in train[:50]])
    return tmp_path


@pytest.mark.slow
def test_create_from_score_pair_and_result_files(files):
    ws = create_from_files(
        "AITZ study",
        str(files / "test.json"),
        train=str(files / "train.json"),
        scores={"gem": (str(files / "train.json"), str(files / "test.json"))},
        models={"a": str(files / "a.jsonl"), "b": str(files / "b.csv")},
    )
    study = Workspace.load(ws.folder).study()
    assert study.splitters == ["gem"] and study.models == ["a", "b"]
    assert len(study) == 800
    assert 0 < (study.labels["gem"] == "ID").sum() < 800
    np.testing.assert_array_equal(study.exact_match["a"], study.exact_match["b"])
    entry = ws.splitter("gem")
    assert entry.partition == "gem" and entry.params["sigma"] == 2.0
    assert ws.models[0].predictions and ws.models[0].pred_field == "prediction"
    assert ws.models[1].predictions is None  # no prediction field in the CSV


def test_mismatched_file_is_refused_and_nothing_is_created(files):
    with pytest.raises(GemvizError) as err:
        create_from_files(
            "Bad",
            str(files / "test.json"),
            splits={},
            models={"a": str(files / "a.jsonl"), "x": str(files / "other.json")},
            model_mappings={"x": {"type_field": "tm", "exact_field": "em"}},
        )
    text = str(err.value)
    assert "800 sample(s) of the workspace's test set" in text
    assert "50 sample(s) of" in text and "e.g." in text
    assert not any(workspaces_root().iterdir())


def test_adding_a_mismatched_model_leaves_the_workspace_as_it_was(files):
    ws = create_from_files("S", str(files / "test.json"), models={"a": str(files / "a.jsonl")})
    before = ws.json_path.read_text()
    with pytest.raises(GemvizError, match="do not cover the same samples"):
        add_model(ws, "x", str(files / "other.json"), type_field="tm", exact_field="em")
    assert ws.json_path.read_text() == before
    assert not (ws.folder / "models").exists() or not any((ws.folder / "models").iterdir())


def test_field_mapping_is_stored_and_used(files):
    ws = create_workspace("S", test=files / "test.json")
    add_splitter(ws, "gem", train_scores=str(files / "train.json"), test_scores=ws.test)
    entry = add_model(ws, "c", str(files / "c.json"), type_field="tm", exact_field="em")
    raw = json.loads(ws.json_path.read_text())["models"][0]
    assert (raw["type_field"], raw["exact_field"]) == ("tm", "em")
    assert raw["source"] == str((files / "c.json").resolve())
    study = Workspace.load(ws.folder).study()
    expected = [r["em"] for r in read_records(files / "c.json")]
    assert study.exact_match["c"].tolist() == expected
    # The user's file changes: the mapped copy follows.
    rows = read_records(files / "c.json")
    rows[0]["em"], rows[0]["tm"] = 1 - rows[0]["em"], 1
    write_records(files / "c.json", rows)
    again = Workspace.load(ws.folder).study()
    assert again.exact_match["c"].iloc[0] == rows[0]["em"]
    assert entry.results != entry.source


def test_missing_prediction_field_and_missing_match_fields_are_refused(files):
    ws = create_workspace("S", test=files / "test.json")
    with pytest.raises(GemvizError, match="'osatlas_action' is not in this file"):
        add_model(ws, "a", str(files / "a.jsonl"), pred_field="osatlas_action")
    with pytest.raises(GemvizError, match="no type/exact match fields"):
        add_model(ws, "c", str(files / "c.json"))
    assert ws.models == []


def test_predictions_matched_on_the_fly_with_a_rule_set(files):
    test = read_records(files / "test.json")
    gt = [dict(r, action="CLICK(0.5, 0.5)" if i % 2 else "SCROLL(UP)") for i, r in enumerate(test)]
    write_records(files / "gt.json", gt)
    write_records(
        files / "preds.json", [dict(r, osatlas_action="CLICK(0.5, 0.5)") for r in test][::-1]
    )
    ws = create_workspace("S", test=files / "gt.json")
    add_splitter(ws, "gem", train_scores=str(files / "train.json"), test_scores=ws.test)
    entry = add_model(ws, "m", str(files / "preds.json"), pred_field="osatlas_action", rules="gem")
    assert entry.rules == "gem" and entry.pred_field == "osatlas_action"
    study = ws.study()
    assert study.type_match["m"].tolist() == [i % 2 for i in range(len(test))]
    with pytest.raises(GemvizError, match="choose a rule set"):
        add_model(ws, "n", str(files / "preds.json"), pred_field="osatlas_action")


def test_labeled_splitter_needs_a_file_and_matching_samples(files):
    ws = create_workspace("S", test=files / "test.json")
    with pytest.raises(GemvizError, match="give a labeled test file, or a train and a test"):
        add_splitter(ws, "x")
    write_records(
        files / "lab.json", [dict(r, label="ID") for r in read_records(files / "train.json")]
    )
    with pytest.raises(GemvizError, match="do not cover the same samples"):
        add_splitter(ws, "x", labeled=str(files / "lab.json"))
    assert ws.splitters == []


def test_embeddings_are_checked_against_the_test_set(files):
    test_ids = sample_ids(read_records(files / "test.json"))
    train_ids = sample_ids(read_records(files / "train.json"))
    rng = np.random.default_rng(SEED)
    save_embeddings(files / "test.npz", test_ids, rng.normal(size=(len(test_ids), 4)))
    save_embeddings(files / "train.npz", train_ids, rng.normal(size=(len(train_ids), 4)))
    save_embeddings(files / "short.npz", test_ids[:10], rng.normal(size=(10, 4)))
    ws = create_from_files(
        "E",
        str(files / "test.json"),
        scores={"gem": (str(files / "train.json"), None)},
        embeddings={"gem": (str(files / "train.npz"), str(files / "test.npz"))},
    )
    assert ws.splitter("gem").test_embeddings.endswith("test.npz")
    with pytest.raises(GemvizError, match="do not cover the same samples"):
        add_splitter(
            ws,
            "g2",
            train_scores=str(files / "train.json"),
            test_scores=ws.test,
            train_embeddings=str(files / "train.npz"),
            test_embeddings=str(files / "short.npz"),
        )


def test_uploads_are_staged_then_adopted(files):
    staged = stage_upload("results.jsonl", (files / "a.jsonl").read_bytes())
    ws = create_workspace("S", test=files / "test.json")
    entry = add_model(ws, "a", str(staged))
    assert ws.folder in __import__("pathlib").Path(entry.results).parents
    assert not staged.exists()
    bad = stage_upload("results.jsonl", (files / "other.json").read_bytes())
    with pytest.raises(GemvizError):
        add_model(ws, "b", str(bad), type_field="tm", exact_field="em")
    assert bad.exists() and len(list((ws.folder / "uploads").rglob("*.*"))) == 1


def test_scan_lists_broken_workspaces_beside_good_ones(files):
    good = create_workspace("Good", test=files / "test.json")
    bad = workspaces_root() / "bad"
    bad.mkdir()
    (bad / "workspace.json").write_text('{"name": "x", "splitters": [{"nope": 1}]}')
    gone = create_workspace("Gone", test=files / "train.json")
    gone.test = str(files / "deleted.json")
    gone.save()
    usable, broken = scan_workspaces()
    assert [w.slug for w in usable] == [good.slug]
    reasons = {b.slug: b.reason for b in broken}
    assert "not a valid workspace definition" in reasons["bad"]
    assert "deleted.json" in reasons[gone.slug]


def test_test_file_with_scores_is_offered_as_a_source(files):
    ws = create_workspace("S", test=files / "test.json")
    assert list(score_files_in(ws).values()) == [(ws.test, ws.test)]
    ws2 = create_workspace("T", test=files / "test.json", train=files / "train.json")
    assert list(score_files_in(ws2).values()) == [(ws2.train, ws2.test)]
