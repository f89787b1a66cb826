"""Loading on whole columns gives what loading record by record gives: ids, labels, outcomes.

The record-by-record readers of :mod:`gemviz.data.loaders` and :func:`gemviz.data.ids.sample_ids`
are the reference; the column readers (:mod:`gemviz.data.frames`, :mod:`gemviz.data.arrow_text`)
must agree with them on every id rule (escaped ``\\ | #``, NFC, repeats numbered ``#2``),
on the GEM release's files and on a generated study in JSON and parquet.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from gemviz.data import frames, read_like, study
from gemviz.data.frames import frame_ids
from gemviz.data.ids import sample_ids
from gemviz.data.read import read_records, read_table
from gemviz.data.read_like import READ_FROM, read_table_like
from gemviz.data.study import Study
from tests.conftest import OOD_FILES, SEED

# Text that needs each id rule: escapes, NFC (precomposed and combining forms), other scripts.
# A repeat's number: "#" and digits at the end, the "#" not escaped.
REPEAT = re.compile(r"(?<!\\)#[0-9]+$")
PARTS = [
    "plain",
    "a|b",
    "c#2",
    "back\\slash",
    "caf\u00e9",
    "cafe\u0301",
    "x\\|#y",
    "t#",
    "日本語",
    "",
]


def _test_set(n: int, repeats: bool = True) -> pd.DataFrame:
    rng = np.random.default_rng(SEED)
    task = [f"{PARTS[i % len(PARTS)]} task {i // 7}" for i in range(n)]
    image = [f"img/{PARTS[(i * 3) % len(PARTS)]}/{i // 3}.png" for i in range(n)]
    if repeats:  # the same (image, task) pair three times in a row, now and then
        for i in range(20, n - 2, 40):
            task[i + 1] = task[i + 2] = task[i]
            image[i + 1] = image[i + 2] = image[i]
    return pd.DataFrame(
        {"task": task, "image_path": image, "app": [f"app{i % 4}" for i in range(n)]}
    ).assign(input_score=rng.normal(size=n))


def _write(frame: pd.DataFrame, path) -> str:
    if str(path).endswith(".parquet"):
        frame.to_parquet(path, index=False)
    else:
        path.write_text(json.dumps(frame.to_dict("records")))
    return str(path)


@pytest.mark.parametrize("suffix", [".json", ".parquet"])
@pytest.mark.parametrize("repeats", [True, False])
def test_pair_ids_equal_the_record_rule(tmp_path, suffix, repeats):
    path = _write(_test_set(400, repeats), tmp_path / f"test{suffix}")
    got = frame_ids(read_table(path))
    assert got is not None  # read on whole columns, not handed to the record reader
    want = sample_ids(read_records(path), path)
    assert got.tolist() == want
    assert any(REPEAT.search(s) for s in want) == repeats
    assert len(set(want)) == len(want)


def test_plain_ascii_ids_are_the_joined_text(tmp_path):
    frame = pd.DataFrame({"task": ["open it", "close it"], "image_path": ["a/1.png", "a/2.png"]})
    path = _write(frame, tmp_path / "plain.parquet")
    assert frame_ids(read_table(path)).tolist() == ["a/1.png|open it", "a/2.png|close it"]


def test_explicit_ids_equal_the_record_rule(tmp_path):
    frame = pd.DataFrame({"id": ["cafe\u0301", "b|c", "d#2"], "x": [1, 2, 3]})
    path = _write(frame, tmp_path / "ids.parquet")
    assert (
        frame_ids(read_table(path)).tolist()
        == sample_ids(read_records(path))
        == [
            "caf\u00e9",
            "b|c",
            "d#2",
        ]
    )
    numbers = pd.DataFrame({"id": [3, 1, 2]})
    assert frame_ids(numbers).tolist() == ["3", "1", "2"]
    # Repeated, empty and missing ids go to the record reader, which words the error.
    assert frame_ids(pd.DataFrame({"id": ["a", "a"]})) is None
    assert frame_ids(pd.DataFrame({"id": ["a", ""]})) is None
    assert frame_ids(pd.DataFrame({"id": ["a", None]})) is None
    # "e" + combining acute and the precomposed letter are one id after NFC: a repeat.
    assert frame_ids(pd.DataFrame({"id": ["cafe\u0301", "caf\u00e9"]})) is None


def test_gem_release_ids_equal_the_record_rule(gem_public):
    for name in ["AITZ_test_inputscore.json", *OOD_FILES]:
        path = str(gem_public / name)
        got = frame_ids(read_table(path))
        assert got is not None, name
        assert got.tolist() == sample_ids(read_records(path), path), name


def _study_files(tmp_path, suffix: str) -> dict[str, str]:
    rng = np.random.default_rng(SEED + 1)
    test = _test_set(600)
    n = len(test)
    files = {"test": _write(test, tmp_path / f"test{suffix}")}
    for name, labels in (
        ("gem", np.where(test["input_score"] > 0, "ID", "OOD")),
        ("sigma", np.where(test["input_score"] > 0.5, " id", "ood ")),  # read as ID/OOD
    ):
        files[name] = _write(test.assign(label=labels), tmp_path / f"{name}{suffix}")
    for name, p in (("sft", 0.8), ("base", 0.3)):
        # Drawn apart, so some rows have an exact match without a type match (a warning).
        result = test[["task", "image_path"]].assign(
            type_match=(rng.random(n) < p).astype(int), exact_match=(rng.random(n) < p / 2)
        )
        if name == "base":  # another order than the test set's
            result = result.iloc[rng.permutation(n)].reset_index(drop=True)
        files[name] = _write(result, tmp_path / f"{name}{suffix}")
    return files


def _load(files: dict[str, str]) -> Study:
    return Study.from_files(
        {n: files[n] for n in ("gem", "sigma")},
        {n: files[n] for n in ("sft", "base")},
        samples=files["test"],
    )


@pytest.mark.parametrize("suffix", [".json", ".parquet"])
def test_study_equals_the_record_by_record_load(tmp_path, monkeypatch, suffix):
    files = _study_files(tmp_path, suffix)
    fast = _load(files)
    # The same files with every column check refused: the record readers load them all.
    for name in ("labeled_frame", "results_frame", "scores_frame"):
        monkeypatch.setattr(frames, name, lambda *a, **k: None)
    monkeypatch.setattr(study, "frame_ids", lambda *a, **k: None)
    slow = _load(files)
    pd.testing.assert_frame_equal(fast.samples, slow.samples, check_exact=True)
    pd.testing.assert_frame_equal(fast.labels, slow.labels, check_exact=True)
    pd.testing.assert_frame_equal(fast.scores, slow.scores, check_exact=True)
    assert fast.outcomes.keys() == slow.outcomes.keys()
    for metric in fast.outcomes:
        pd.testing.assert_frame_equal(fast.outcomes[metric], slow.outcomes[metric])
        for model, runs in fast.per_run[metric].items():
            np.testing.assert_array_equal(runs, slow.per_run[metric][model])
            assert runs.dtype == slow.per_run[metric][model].dtype
    np.testing.assert_array_equal(fast.clusters, slow.clusters)
    assert fast.warnings == slow.warnings and len(fast.warnings) == 2
    assert set(fast.labels.stack()) == {"ID", "OOD"}
    assert any(REPEAT.search(s) for s in fast.ids)


def test_read_like_gives_read_table_frame(tmp_path):
    test = _test_set(300)
    like = read_table(_write(test, tmp_path / "test.parquet"))
    # Columns in another order than the test set's file, and a field of its own.
    labeled = test.assign(label="ID")[["label", "image_path", "app", "task", "input_score"]]
    path = _write(labeled, tmp_path / "labeled.parquet")
    got = read_table_like(path, like)
    pd.testing.assert_frame_equal(got, read_table(path), check_exact=True)
    # Another order, another length, JSON: the file is read whole instead.
    shuffled = _write(labeled.iloc[::-1].reset_index(drop=True), tmp_path / "rev.parquet")
    assert read_table_like(shuffled, like) is None
    assert read_table_like(_write(labeled.iloc[:-1], tmp_path / "short.parquet"), like) is None
    assert read_table_like(_write(labeled, tmp_path / "labeled.json"), like) is None
    assert read_table_like(path, None) is None


@pytest.mark.parametrize(
    "records",
    [
        [{"a": 1, "b": "x"}, {"b": "y", "a": 2}],  # the same fields in another order
        [{"a": 1, "b": "x"}, {"a": 2}, {"a": 3, "c": True}],  # fields missing or added
        [{"a": 1, "b": None}, {"a": 2.5, "b": "y"}],  # numbers mixed, a missing text
        [{"a": [1, [2]], "b": {"c": "[["}}, {"a": [], "b": {}}],  # nested values
    ],
)
def test_json_table_equals_the_records_frame(tmp_path, records):
    path = tmp_path / "r.json"
    path.write_text(json.dumps(records))
    pd.testing.assert_frame_equal(
        read_table(path), pd.DataFrame.from_records(read_records(path)), check_exact=True
    )


def test_read_like_same_bytes_and_other_bytes(tmp_path, monkeypatch):
    test = _test_set(3000)
    source = _write(test, tmp_path / "test.parquet")
    like = read_table(source)
    like.attrs[READ_FROM] = source
    labeled = test.assign(label="OOD")
    same = _write(labeled, tmp_path / "same.parquet")  # one writer: the same column chunks
    with monkeypatch.context() as patch:  # found equal without decoding the columns
        patch.setattr(read_like, "_same_batches", lambda *a: pytest.fail("decoded"))
        pd.testing.assert_frame_equal(read_table_like(same, like), read_table(same))
    # The same values stored otherwise (other row groups, compression): compared decoded.
    other = tmp_path / "other.parquet"
    labeled.to_parquet(other, index=False, row_group_size=700, compression="gzip")
    pd.testing.assert_frame_equal(read_table_like(other, like), read_table(other))
    changed = labeled.assign(task=labeled["task"].str.replace("task 3", "task 4"))
    assert read_table_like(_write(changed, tmp_path / "changed.parquet"), like) is None
    # A source file that is gone: the columns are compared decoded instead.
    like.attrs[READ_FROM] = str(tmp_path / "gone.parquet")
    pd.testing.assert_frame_equal(read_table_like(same, like), read_table(same))
