"""Workspaces: create, persist, register files, rename, delete, and load a study."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from conftest import SEED

from gemviz.data.errors import GemvizError
from gemviz.data.read import read_records
from gemviz.data.write import write_records
from gemviz.workspace.catalog import find_workspace, list_workspaces
from gemviz.workspace.entries import ModelEntry, SplitterEntry, slugify, store_upload
from gemviz.workspace.store import Workspace, create_workspace


@pytest.fixture
def aitz_files(gem_public, tmp_path):
    """A labeled file and a result file over the real AITZ test records."""
    records = read_records(gem_public / "AITZ_test_inputscore.json")[:600]
    rng = np.random.default_rng(SEED)
    scores = np.array([r["input_score"] for r in records])
    cut = np.quantile(scores, 0.8)
    labeled = [{**r, "label": "ID" if r["input_score"] <= cut else "OOD"} for r in records]
    results = [
        {
            "task": r["task"],
            "image_path": r["image_path"],
            "type_match": int(t),
            "exact_match": int(t and e),  # an exact match is also a type match
        }
        for r, t, e in zip(records, rng.random(600) < 0.8, rng.random(600) < 0.5, strict=True)
    ]
    write_records(tmp_path / "test.json", records)
    write_records(tmp_path / "labeled.json", labeled)
    write_records(tmp_path / "results.jsonl", results[::-1])  # other order: must be aligned
    return tmp_path


def test_create_save_load_roundtrip(aitz_files):
    ws = create_workspace("My study", test=aitz_files / "test.json")
    assert ws.slug == "my-study"
    again = Workspace.load(ws.folder)
    assert again.name == "My study"
    assert again.test == str((aitz_files / "test.json").resolve())
    assert json.loads(ws.json_path.read_text())["splitters"] == []
    # A second workspace of the same name gets its own folder.
    assert create_workspace("My study").slug == "my-study-2"
    assert [w.slug for w in list_workspaces()] == ["my-study", "my-study-2"]


def test_add_entries_and_study(aitz_files):
    before = (aitz_files / "labeled.json").read_bytes()
    ws = create_workspace("s", test=aitz_files / "test.json")
    ws.add_splitter(SplitterEntry(name="gem", labeled=str(aitz_files / "labeled.json")))
    ws.add_model(ModelEntry(name="agent", results=str(aitz_files / "results.jsonl")))
    study = Workspace.load(ws.folder).study()
    assert study.splitters == ["gem"] and study.models == ["agent"]
    assert len(study) == 600
    expected = sum(r["label"] == "OOD" for r in read_records(aitz_files / "labeled.json"))
    assert 0 < expected < 600
    assert (study.labels["gem"] == "OOD").sum() == expected
    # The user's file is referenced, not rewritten.
    assert (aitz_files / "labeled.json").read_bytes() == before
    with pytest.raises(GemvizError, match="already has a splitter"):
        ws.add_splitter(SplitterEntry(name="gem", labeled=str(aitz_files / "labeled.json")))


def test_bad_file_is_refused_with_message(aitz_files, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('[{"task": "t", "image_path": "a.png", "label": "maybe"}]')
    ws = create_workspace("s")
    with pytest.raises(GemvizError, match="label must be"):
        ws.add_splitter(SplitterEntry(name="x", labeled=str(bad)))
    assert Workspace.load(ws.folder).splitters == []
    with pytest.raises(GemvizError, match="no splitter"):
        ws.study()


def test_fingerprint_follows_files(aitz_files):
    ws = create_workspace("s", test=aitz_files / "test.json")
    ws.add_splitter(SplitterEntry(name="gem", labeled=str(aitz_files / "labeled.json")))
    first = ws.fingerprint()
    assert ws.fingerprint() == first
    path = aitz_files / "labeled.json"
    path.write_text(path.read_text() + "\n")
    assert ws.fingerprint() != first


def test_save_partition_writes_inside_workspace(aitz_files):
    ws = create_workspace("s")
    n = len(read_records(aitz_files / "test.json"))
    flags = np.arange(n) % 3 != 0
    entry = ws.save_partition(
        "gem-2", aitz_files / "test.json", flags, partition="gem", params={"sigma": 2.0}
    )
    assert ws.folder in Path(entry.labeled).parents
    labels = [r["label"] for r in read_records(entry.labeled)]
    assert labels.count("ID") == int(flags.sum())
    with pytest.raises(GemvizError, match="labels for"):
        ws.save_partition("short", aitz_files / "test.json", flags[:10])


def test_rename_delete_and_store_upload(aitz_files):
    ws = create_workspace("old")
    ws.rename("new name")
    assert find_workspace(ws.slug).name == "new name"
    uploads = ws.folder / "uploads"
    saved = store_upload(uploads, "../../evil name.json", b"[]")
    assert saved.parent.parent == ws.folder / "uploads" and saved.name == "evil_name.json"
    other = store_upload(uploads, "evil name.json", b"[1]")
    assert other != saved and saved.read_bytes() == b"[]"  # same name, no overwrite
    assert store_upload(uploads, "evil name.json", b"[]") == saved  # same content, stored once

    streamed = store_upload(uploads, "x" * 300 + ".json", io.BytesIO(b"[2]"))
    assert streamed.read_bytes() == b"[2]" and len(streamed.name) <= 120
    assert streamed.name.endswith(".json")
    ws.delete()
    assert find_workspace(ws.slug) is None
    with pytest.raises(GemvizError):
        ws.rename("  ")


def test_slugify():
    assert slugify("Demo (generated data)") == "demo-generated-data"
    assert slugify("???") == "workspace"


def test_score_sources_lists_splitters_with_scores_and_job_output(aitz_files, tmp_path):
    ws = create_workspace("s")
    test = aitz_files / "test.json"
    ws.save_partition("scored", test, [True] * 600, train_scores=str(test))
    ws.add_splitter(SplitterEntry(name="labels-only", labeled=str(aitz_files / "labeled.json")))
    job = tmp_path / "job_out"
    job.mkdir()
    assert list(ws.score_sources(job)) == ["splitter: scored"]  # no job output yet
    write_records(job / "train_inputscore.json", read_records(test))
    write_records(job / "test_inputscore.json", read_records(test))
    sources = ws.score_sources(job)
    assert list(sources) == ["splitter: scored", "last scoring job"]
    assert sources["last scoring job"].test_scores == str(job / "test_inputscore.json")
    assert sources["last scoring job"].embeddings() is None
    with pytest.raises(GemvizError, match="file not found"):
        ws.add_splitter(
            SplitterEntry(
                name="x",
                labeled=str(aitz_files / "labeled.json"),
                train_scores=str(tmp_path / "nope.json"),
            )
        )
