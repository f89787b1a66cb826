"""Identity that cannot collide: sample ids, the files saved under a name, workspaces made whole.

Sample ids built from (image_path, task) must be injective, the repeat numbers included; names
that differ only in case or in non-ASCII letters get files of their own; ``workspace.json``
and ``annotations.json`` are checked field by field; a workspace appears complete or not at all.
"""

from __future__ import annotations

import itertools
import json
import os
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gemviz.data.clusters import resolve
from gemviz.data.errors import GemvizError
from gemviz.data.ids import sample_ids
from gemviz.data.loaders import load_labeled
from gemviz.data.read import read_records
from gemviz.data.write import write_records
from gemviz.workspace import annotations
from gemviz.workspace.catalog import scan_workspaces
from gemviz.workspace.create import create_from_files
from gemviz.workspace.entries import file_stem, workspaces_root
from gemviz.workspace.models import add_model
from gemviz.workspace.staging import STAGING_PREFIX
from gemviz.workspace.store import Workspace, create_workspace

# -- sample ids -----------------------------------------------------------------------------


def _old_rule(records: list[dict]) -> list[str]:
    """The id rule before escaping, for parts with none of the three special characters."""
    counts: dict[str, int] = {}
    out = []
    for r in records:
        base = f"{r['image_path']}|{r['task']}"
        counts[base] = counts.get(base, 0) + 1
        out.append(base if counts[base] == 1 else f"{base}#{counts[base]}")
    return out


def test_ids_are_injective_over_every_short_pair_and_repeat():
    # Every (image_path, task) over an alphabet of the separator, the escape, the repeat mark
    # and a digit, up to 3 characters each, each pair given three times.
    alphabet = ["a", "|", "#", "\\", "2"]
    words = [""] + ["".join(w) for n in (1, 2, 3) for w in itertools.product(alphabet, repeat=n)]
    records = [{"image_path": i, "task": t} for i in words for t in words for _ in range(3)]
    ids = sample_ids(records)
    assert len(set(ids)) == len(records) == len(words) ** 2 * 3


def test_separators_and_repeats_inside_fields_do_not_collide():
    split = sample_ids([{"image_path": "a|b", "task": "c"}, {"image_path": "a", "task": "b|c"}])
    assert split[0] != split[1]
    repeat = sample_ids(
        [
            {"image_path": "x", "task": "t"},
            {"image_path": "x", "task": "t"},
            {"image_path": "x", "task": "t#2"},
        ]
    )
    assert len(set(repeat)) == 3 and repeat[1] == "x|t#2" and repeat[2] == "x|t\\#2"


@pytest.mark.parametrize(
    "name",
    ["AITZ_test_inputscore.json", "androidcontrol_inputscore.json", "Kairos_test_inputscore.json"],
)
def test_published_ids_are_unique_and_plain_ones_unchanged(gem_public, name):
    records = read_records(gem_public / name)
    ids = sample_ids(records)
    assert len(set(ids)) == len(ids)
    old = _old_rule(records)
    plain = [
        not any(c in str(r[k]) for k in ("image_path", "task") for c in "|#\\") for r in records
    ]
    assert sum(plain) > 0.99 * len(records)
    assert [i for i, p in zip(ids, plain, strict=True) if p] == [
        o for o, p in zip(old, plain, strict=True) if p
    ]


def test_nfc_and_nfd_tasks_are_one_task():
    nfc = "Öffne die Café-App"
    nfd = unicodedata.normalize("NFD", nfc)
    assert nfc != nfd
    ids = sample_ids([{"image_path": "s.png", "task": nfc}, {"image_path": "s.png", "task": nfd}])
    assert ids == ["s.png|Öffne die Café-App", "s.png|Öffne die Café-App#2"]

    field, codes = resolve(pd.DataFrame({"task": [nfc, nfd, "other"]}))
    assert field == "task" and codes.tolist() == [0, 0, 1]


# -- names and the files saved under them ----------------------------------------------------


@pytest.mark.parametrize("pair", [("G", "g"), ("日本", "中文"), ("SFT", "sft"), ("a b", "a-b")])
def test_names_that_slug_alike_get_distinct_stems(pair):
    a, b = pair
    assert file_stem(a) != file_stem(b)
    assert file_stem("gem") == "gem"  # a plain slug keeps its own name


def _study(folder: Path) -> dict[str, Path]:
    rng = np.random.default_rng(3)
    test = [
        {"id": f"t{i}", "task": f"task {i % 5}", "image_path": f"{i}.png",
         "input_score": float(rng.normal())}
        for i in range(40)
    ]  # fmt: skip
    write_records(folder / "test.json", test)
    return {"test": folder / "test.json"}


def test_splitters_g_and_G_keep_their_own_labels(tmp_path):
    p = _study(tmp_path)
    ws = create_workspace("w", test=p["test"])
    flags_a = [i % 2 == 0 for i in range(40)]
    flags_b = [i < 10 for i in range(40)]
    ws.save_partition("G", p["test"], flags_a)
    ws.save_partition("g", p["test"], flags_b)
    ws = Workspace.load(ws.folder)
    paths = {s.name: s.labeled for s in ws.splitters}
    assert paths["G"] != paths["g"]
    assert (load_labeled(paths["G"])["label"] == "ID").tolist() == flags_a
    assert (load_labeled(paths["g"])["label"] == "ID").tolist() == flags_b


def test_models_sft_and_SFT_keep_their_own_results(tmp_path):
    p = _study(tmp_path)
    ws = create_workspace("w", test=p["test"])
    for name, hit in (("SFT", 1), ("sft", 0)):
        path = tmp_path / f"{name}_raw.json"
        write_records(path, [{"id": f"t{i}", "tm": hit, "em": hit} for i in range(40)])
        add_model(ws, name, str(path), type_field="tm", exact_field="em")
    ws = Workspace.load(ws.folder)
    results = {m.name: m.results for m in ws.models}
    assert results["SFT"] != results["sft"]
    assert {r["type_match"] for r in read_records(results["SFT"])} == {1}
    assert {r["type_match"] for r in read_records(results["sft"])} == {0}


# -- workspace.json and annotations.json checked field by field -----------------------------

BROKEN = {
    "test is a number": {"test": 123},
    "labeled is a number": {"splitters": [{"name": "a", "labeled": 5}]},
    "results is a list": {"models": [{"name": "m", "results": ["x.json"]}]},
    "created has 400 digits": {"created": int("9" * 400)},
    "created is NaN": {"created": float("nan")},
    "params is text": {"splitters": [{"name": "a", "labeled": "x.json", "params": "str"}]},
    "two splitters, one name": {
        "splitters": [{"name": "a", "labeled": "x.json"}, {"name": "a", "labeled": "y.json"}]
    },
    "lone surrogate in name": {"name": "\ud800"},
    "demo is text": {"demo": "yes"},
    "splitters is an object": {"splitters": {"name": "a"}},
}


def _write_raw(folder: Path, spec: dict) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    # json.dumps writes NaN and the lone surrogate as escapes, as a hand edit would.
    (folder / "workspace.json").write_text(json.dumps(spec))


@pytest.mark.parametrize("what", list(BROKEN))
def test_a_hand_broken_field_lists_the_workspace_as_broken(tmp_path, what):
    p = _study(tmp_path)
    good = create_workspace("good", test=p["test"])
    _write_raw(workspaces_root() / "bad", {"name": "bad", **BROKEN[what]})
    usable, broken = scan_workspaces()
    assert [w.slug for w in usable] == [good.slug]
    (bad,) = broken
    assert bad.slug == "bad" and "workspace.json" in bad.reason and "\n" not in bad.reason
    with pytest.raises(GemvizError, match="not a valid workspace definition"):
        Workspace.load(workspaces_root() / "bad")


@pytest.mark.parametrize(
    "steps, field",
    [
        ('{"a": {"tags": [], "note": "x", "updated": 1e30}}', "updated"),
        ('{"a": {"tags": [], "note": "x", "updated": NaN}}', "updated"),
        ('{"a": {"tags": [], "note": "x", "updated": ' + "9" * 400 + "}}", "updated"),
        ('{"a": {"tags": "GT wrong", "note": "x"}}', "tags"),
        ('{"a": {"tags": [1], "note": "x"}}', "tags"),
        ('{"a": {"tags": [], "note": {"x": 1}}}', "note"),
        ('{"a": 5}', "steps"),
        ('{"\\ud800": {"tags": [], "note": "x"}}', "steps"),
    ],
)
def test_a_bad_annotations_field_is_one_clear_error(tmp_path, steps, field):
    (tmp_path / annotations.FILE).write_text('{"version": 1, "steps": ' + steps + "}")
    with pytest.raises(GemvizError) as err:
        annotations.load(tmp_path)
    assert "annotations.json" in str(err.value) and field in str(err.value)


# -- a workspace is made whole or not at all --------------------------------------------------


def test_a_failed_create_leaves_nothing(tmp_path):
    p = _study(tmp_path)
    bad = tmp_path / "bad.json"
    write_records(bad, [{"id": f"t{i}", "label": "maybe"} for i in range(40)])
    with pytest.raises(GemvizError):
        create_from_files("w", str(p["test"]), splits={"a": str(bad)})
    root = workspaces_root()
    assert not root.exists() or list(root.iterdir()) == []


def test_a_killed_create_leftover_is_removed_and_never_listed(tmp_path):
    p = _study(tmp_path)
    good = create_workspace("good", test=p["test"])
    # What a kill -9 between writing workspace.json and the rename leaves behind.
    dead_pid = 2**22 + 12345  # above the kernel's pid limit: no such process
    left = workspaces_root() / f"{STAGING_PREFIX}{dead_pid}-1"
    _write_raw(left, {"name": "half", "test": str(p["test"])})
    usable, broken = scan_workspaces()
    assert [w.slug for w in usable] == [good.slug] and broken == []
    assert not left.exists()
    # A create in progress (this process) is left alone.
    mine = workspaces_root() / f"{STAGING_PREFIX}{os.getpid()}-1"
    _write_raw(mine, {"name": "busy"})
    scan_workspaces()
    assert mine.exists()


@pytest.mark.slow
def test_paths_inside_the_new_workspace_point_at_its_final_folder(tmp_path):
    p = _study(tmp_path)
    ws = create_from_files("w", str(p["test"]), scores={"gem": (str(p["test"]), str(p["test"]))})
    again = Workspace.load(ws.folder)
    labeled = Path(again.splitters[0].labeled)
    assert labeled.is_file() and ws.folder.resolve() in labeled.parents
    assert not [x for x in workspaces_root().iterdir() if x.name.startswith(".")]


def test_image_root_that_is_no_folder_is_refused(tmp_path):
    p = _study(tmp_path)
    with pytest.raises(GemvizError, match="image root"):
        create_workspace("w", test=p["test"], image_root=tmp_path / "nowhere")
