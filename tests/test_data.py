"""Tests for reading and validating input files (gemviz.data.read, ids and loaders)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gemviz.data import loaders as rec
from gemviz.data.errors import GemvizError
from gemviz.data.frames import frame_ids
from gemviz.data.ids import align, aligned, sample_ids
from gemviz.data.loaders import load_labeled, load_results, load_score_values, load_scores
from gemviz.data.read import peek_fields, read_records, read_table
from gemviz.data.write import write_json_atomic, write_records

SEED = 42  # as in tests/conftest.py

README_COUNTS = {
    "AITZ_test_inputscore.json": 4724,
    "androidcontrol_inputscore.json": 8444,
    "Kairos_test_inputscore.json": 854,
    "metagui_inputscore.json": 1923,
    "screenspot-mobile_inputscore.json": 502,
    "screenspot-desktop_inputscore.json": 334,
    "screenspot-web_inputscore.json": 436,
    "omniact-desktop_inputscore.json": 1491,
    "omniact-web_inputscore.json": 530,
}


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _write(path: Path, records) -> Path:
    path.write_text(json.dumps(records))
    return path


def _rec(i: int, **extra) -> dict:
    return {
        "task": f"task {i // 3}",
        "image_path": f"img/{i}.png",
        "input_score": 0.01 * i,
        **extra,
    }


# --- real files --------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(README_COUNTS))
def test_every_published_score_file_loads_unchanged(gem_public, name):
    path = gem_public / name
    before = _digest(path)
    raw = json.loads(path.read_text())
    frame = load_scores(path)
    assert _digest(path) == before
    assert len(frame) == README_COUNTS[name] == len(raw)
    assert list(frame.columns[:4]) == ["id", "task", "image_path", "input_score"]
    assert frame["id"].is_unique
    np.testing.assert_array_equal(frame["input_score"], [r["input_score"] for r in raw])
    # Every other field is kept as a column.
    assert set(frame.columns) >= set().union(*(r.keys() for r in raw))


@pytest.mark.parametrize("name", ["omniact-desktop_inputscore.json", "Kairos_test_inputscore.json"])
def test_duplicated_keys_are_numbered_by_occurrence(gem_public, name):
    raw = json.loads((gem_public / name).read_text())
    ids = sample_ids(raw, name)
    pairs = [f"{r['image_path']}|{r['task']}" for r in raw]
    n_repeats = len(pairs) - len(set(pairs))
    assert n_repeats > 0  # the release really has repeated (image_path, task) pairs
    assert len(set(ids)) == len(ids)
    assert sum("#" in s for s in ids) == n_repeats
    for pair, sid, k in zip(pairs, ids, _occurrence(pairs), strict=True):
        assert sid == (pair if k == 1 else f"{pair}#{k}")


def _occurrence(items):
    seen: dict[str, int] = {}
    for item in items:
        seen[item] = seen.get(item, 0) + 1
        yield seen[item]


def test_files_in_another_order_align(gem_public, tmp_path):
    path = gem_public / "omniact-desktop_inputscore.json"
    raw = json.loads(path.read_text())
    # A shuffle that keeps repeated pairs in their relative order: sort by a random key per
    # pair, stable within the pair.
    rng = np.random.default_rng(SEED)
    keys = {}
    for r in raw:
        keys.setdefault((r["image_path"], r["task"]), rng.random())
    shuffled = sorted(raw, key=lambda r: keys[(r["image_path"], r["task"])])
    assert shuffled != raw
    ref = load_scores(path)
    other = load_scores(_write(tmp_path / "shuffled.json", shuffled))
    back = aligned(other, ref["id"].tolist(), str(path), "shuffled.json")
    pd.testing.assert_frame_equal(back, ref)


def test_files_with_different_samples_say_how_many_are_missing_on_each_side():
    ref = [f"s{i}" for i in range(10)]
    other = [f"s{i}" for i in range(3, 15)]
    with pytest.raises(GemvizError) as info:
        align(ref, other, "ref.json", "other.json")
    msg = str(info.value)
    assert "3 sample(s) of ref.json are missing from other.json" in msg
    assert "5 sample(s) of other.json are missing from ref.json" in msg
    assert "'s0'" in msg and "'s10'" in msg
    with pytest.raises(GemvizError, match="1 sample"):
        align(ref, ref[:-1], "a", "b")
    np.testing.assert_array_equal(align(ref, ref[::-1]), np.arange(9, -1, -1))


# --- formats -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(README_COUNTS))
def test_score_values_are_the_score_column_of_the_full_load(gem_public, name):
    # What a GEM fit in the report reads: the same numbers in file order, no ids built.
    path = gem_public / name
    np.testing.assert_array_equal(load_score_values(path), load_scores(path)["input_score"])


def test_score_values_refuse_a_bad_score_as_the_full_load_does(tmp_path):
    records = [_rec(i) for i in range(4)]
    records[2]["input_score"] = "high"
    path = _write(tmp_path / "bad.json", records)
    with pytest.raises(GemvizError) as full:
        load_scores(path)
    with pytest.raises(GemvizError) as alone:
        load_score_values(path)
    assert str(alone.value) == str(full.value)
    assert "row 3" in str(alone.value) and "input_score" in str(alone.value)


def test_jsonl_csv_parquet_read_the_same_records(tmp_path):
    records = [_rec(i) for i in range(5)]
    write_records(tmp_path / "r.jsonl", records)
    write_records(tmp_path / "r.csv", records)
    write_records(tmp_path / "r.parquet", records)
    (tmp_path / "lines.json").write_text("\n".join(json.dumps(r) for r in records))
    for name in ("r.jsonl", "r.csv", "r.parquet", "lines.json"):
        assert read_records(tmp_path / name) == records, name
        assert load_scores(tmp_path / name)["input_score"].tolist() == [
            r["input_score"] for r in records
        ]


def test_writers_are_atomic_and_leave_no_temp_file(tmp_path):
    out = tmp_path / "x.json"
    out.write_text("old")
    with pytest.raises(ValueError):
        write_json_atomic(out, {"bad": float("nan")})
    assert out.read_text() == "old"
    write_json_atomic(out, [1, 2])
    assert json.loads(out.read_text()) == [1, 2]
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]


# --- bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, text, match",
    [
        ("broken.json", '[{"task": "a", ', "not valid JSON"),
        ("broken.jsonl", '{"task": "a"}\n{"task": \n', "line 2 is not valid JSON"),
        ("empty.json", "", "empty"),
        ("blank.json", "  \n ", "empty"),
        ("none.json", "[]", "no records"),
        ("scalar.json", "[1, 2]", "row 1.*expected an object"),
        # One line, one object: JSON lines of one record (a BFCL score file's lone header).
        ("object.json", '{"a": 1}', "row 1.*image_path"),
        ("object2.json", '{\n "a": 1\n}', "JSON array"),
        ("notes.txt", "hello", "unknown file type"),
        ("empty.csv", "", "empty"),
    ],
)
def test_unparseable_or_empty_files(tmp_path, name, text, match):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(GemvizError, match=match) as info:
        load_scores(path)
    assert name in str(info.value)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(GemvizError, match="not found"):
        read_records(tmp_path / "nope.json")
    with pytest.raises(GemvizError, match="folder"):
        read_records(tmp_path)


def test_broken_parquet(tmp_path):
    path = tmp_path / "bad.parquet"
    path.write_bytes(b"not parquet at all")
    with pytest.raises(GemvizError, match=r"bad\.parquet"):
        read_records(path)


@pytest.mark.parametrize(
    "bad, field",
    [
        ({"input_score": None}, "input_score"),
        ({"task": None}, "task"),
        ({"image_path": None}, "image_path"),
    ],
)
def test_required_field_missing_names_file_row_field(tmp_path, bad, field):
    records = [_rec(i) for i in range(4)]
    records[2].update(bad)
    if bad[field] is None:
        del records[2][field]
    path = _write(tmp_path / "scores.json", records)
    with pytest.raises(GemvizError) as info:
        load_scores(path)
    assert (info.value.file, info.value.row, info.value.field) == (str(path), 3, field)
    assert "scores.json, row 3, field" in str(info.value)


@pytest.mark.parametrize(
    "value", ["NaN", "nan", "inf", "-Infinity", "abc", "", True, [0.1], {"a": 1}]
)
def test_bad_scores_are_refused(tmp_path, value):
    records = [_rec(i) for i in range(3)]
    records[1]["input_score"] = value
    path = _write(tmp_path / "s.json", records)
    with pytest.raises(GemvizError) as info:
        load_scores(path)
    assert (info.value.row, info.value.field) == (2, "input_score")


def test_json_nan_and_infinity_literals_are_refused(tmp_path):
    for literal in ("NaN", "Infinity"):
        path = tmp_path / f"{literal}.json"
        path.write_text(f'[{{"task": "a", "image_path": "b", "input_score": {literal}}}]')
        with pytest.raises(GemvizError, match="finite") as info:
            load_scores(path)
        assert info.value.row == 1


def test_numeric_text_scores_are_accepted(tmp_path):
    records = [_rec(0, input_score="0.25"), _rec(1, input_score=3)]
    frame = load_scores(_write(tmp_path / "s.json", records))
    assert frame["input_score"].tolist() == [0.25, 3.0]


@pytest.mark.parametrize("label", ["maybe", "", 1, None, True])
def test_bad_label(tmp_path, label):
    records = [_rec(i, label="ID") for i in range(3)]
    records[2]["label"] = label
    path = _write(tmp_path / "labeled.json", records)
    with pytest.raises(GemvizError) as info:
        load_labeled(path)
    assert (info.value.row, info.value.field) == (3, "label")


def test_labels_are_normalised(tmp_path):
    records = [_rec(0, label="id"), _rec(1, label=" OOD ")]
    assert load_labeled(_write(tmp_path / "l.json", records))["label"].tolist() == ["ID", "OOD"]


def test_results_accept_spellings_and_booleans(tmp_path):
    records = [
        _rec(0, **{"type match": True, "exact match": False}),
        _rec(1, **{"type match": 1, "exact match": "1"}),
    ]
    frame = load_results(_write(tmp_path / "r.json", records))
    assert frame["type_match"].tolist() == [1, 1] and frame["exact_match"].tolist() == [0, 1]
    assert "type match" not in frame.columns


@pytest.mark.parametrize("value", [2, "yes", 0.5, None])
def test_results_refuse_non_binary(tmp_path, value):
    records = [_rec(i, type_match=1, exact_match=0) for i in range(3)]
    records[1]["exact_match"] = value
    with pytest.raises(GemvizError) as info:
        load_results(_write(tmp_path / "r.json", records))
    assert (info.value.row, info.value.field) == (2, "exact_match")


def test_results_missing_metric(tmp_path):
    with pytest.raises(GemvizError, match="accepted spellings") as info:
        load_results(_write(tmp_path / "r.json", [_rec(0, type_match=1)]))
    assert info.value.field == "exact_match"


def test_explicit_ids(tmp_path):
    records = [{"id": 7, "input_score": 0.1}, {"id": "a", "input_score": 0.2}]
    assert load_scores(_write(tmp_path / "a.json", records))["id"].tolist() == ["7", "a"]
    with pytest.raises(GemvizError, match="repeats row 1") as info:
        load_scores(_write(tmp_path / "b.json", [{"id": 1, "input_score": 0.1}] * 2))
    assert info.value.row == 2
    with pytest.raises(GemvizError, match="missing sample id"):
        sample_ids([{"id": 1}, {"id": None}], "c.json")


def test_reading_never_changes_the_input(tmp_path):
    records = [_rec(i, label="ID", type_match=1, exact_match=True) for i in range(4)]
    path = _write(tmp_path / "all.json", records)
    before = _digest(path)
    load_scores(path)
    load_labeled(path)
    load_results(path)
    read_records(path)
    assert _digest(path) == before


@pytest.mark.parametrize("cell, match", [("", "missing"), ("nan", "finite"), ("x1", "number")])
def test_csv_bad_score_cells(tmp_path, cell, match):
    path = tmp_path / "s.csv"
    path.write_text(f"task,image_path,input_score\na,1.png,0.1\nb,2.png,{cell}\n")
    with pytest.raises(GemvizError, match=match) as info:
        load_scores(path)
    assert (info.value.row, info.value.field) == (2, "input_score")


@pytest.mark.parametrize("suffix", [".json", ".jsonl", ".csv", ".parquet"])
def test_column_loaders_equal_the_record_loaders(gem_public, tmp_path, suffix):
    # The column checks must give exactly the frame the record-by-record reader gives.

    for name in ("AITZ_test_inputscore.json", "omniact-desktop_inputscore.json"):
        rows = json.loads((gem_public / name).read_text())
        for i, r in enumerate(rows):
            r["label"] = " ood" if i % 3 else "ID"
            r["type_match"] = i % 2
            r["exact match"] = i % 4 == 1
        path = write_records(tmp_path / (Path(name).stem + suffix), rows)
        pairs = [
            (rec.load_scores, rec._load_scores_records),
            (rec.load_labeled, rec._load_labeled_records),
            (rec.load_results, rec._load_results_records),
        ]
        for fast, exact in pairs:
            pd.testing.assert_frame_equal(fast(path), exact(path))
        ids = frame_ids(read_table(path))
        assert ids is not None and ids.tolist() == sample_ids(read_records(path), str(path))


def test_frame_ids_leave_odd_ids_to_the_record_reader(tmp_path):
    def table(rows):
        return read_table(write_records(tmp_path / "t.json", rows))

    assert frame_ids(table([{"id": 7, "task": "t"}, {"id": 8, "task": "t"}])).tolist() == ["7", "8"]
    # repeats, a missing id, a first record without one, float ids: the record reader decides
    assert frame_ids(table([{"id": "a"}, {"id": "a"}])) is None
    assert frame_ids(table([{"id": "a"}, {"task": "t"}])) is None
    assert frame_ids(table([{"task": "t", "image_path": "i"}, {"id": "b"}])) is None
    assert frame_ids(table([{"id": 1.5}, {"id": 2.0}])) is None
    pairs = [{"task": "t", "image_path": "i"}] * 3 + [{"task": "u", "image_path": "i"}]
    assert frame_ids(table(pairs)).tolist() == ["i|t", "i|t#2", "i|t#3", "i|u"]


def test_deep_or_unbalanced_json_goes_to_the_exact_check(tmp_path):
    deep = tmp_path / "deep.json"
    deep.write_text('[{"task": "t", "x": ' + "[" * 70 + "]" * 70 + "}]")
    with pytest.raises(GemvizError, match="nested more than 64"):
        read_table(deep)
    odd = tmp_path / "odd.json"
    odd.write_text('[{"task": "a [b", "image_path": "i"}]')  # a bracket inside a string
    assert read_table(odd)["task"].tolist() == ["a [b"]


@pytest.mark.parametrize("suffix", [".json", ".jsonl", ".csv", ".parquet"])
def test_peek_fields_reads_the_start_only(tmp_path, suffix):
    rows = [
        {"task": f"t{i}", "image_path": "i", "input_score": 0.5, "note": "x" * 100}
        for i in range(3000)
    ]
    path = write_records(tmp_path / f"big{suffix}", rows)
    assert peek_fields(path, head=4096) == {"task", "image_path", "input_score", "note"}
    wrapped = tmp_path / "wrapped.json"
    wrapped.write_text(json.dumps({"records": rows[:2]}))
    assert peek_fields(wrapped) == {"task", "image_path", "input_score", "note"}


def test_refusal_examples_of_long_ids_read_apart():

    base = "/data/aitz/images/general/"
    task = "|Open the settings app, turn on the wifi, then go back to the home screen"
    ref = [
        f"{base}GENERAL-{n}/GENERAL-{n}_{k}.png{task}" for n, k in ((11234, 3), (11234, 4), (5, 0))
    ]
    with pytest.raises(GemvizError) as info:
        align(ref, ref[:1], "test.json", "results.csv")
    text = str(info.value)
    # Each quoted example keeps the part that tells it from the others.
    assert "GENERAL-11234_4.png" in text and "GENERAL-5_0.png" in text
