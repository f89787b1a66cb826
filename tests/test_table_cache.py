"""The derived copy of a JSON record file: read back equal, remade when stale or damaged."""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import pytest

from gemviz.data import read, table_cache
from gemviz.data.errors import GemvizError
from gemviz.data.read import read_table
from tests.conftest import SEED


@pytest.fixture(autouse=True)
def _small_files_copied(monkeypatch, tmp_path):
    monkeypatch.setenv("GEMVIZ_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(table_cache, "MIN_BYTES", 0)


def _records(n: int = 50, shift: int = 0) -> list[dict]:
    rng = np.random.default_rng(SEED + shift)
    return [
        {
            "task": f"tâche {i // 3}" if i % 7 else None,
            "image_path": f"img/{i}.png",
            "input_score": float(rng.normal()),
            "type_match": int(i % 2),
            "ok": bool(i % 3),
        }
        for i in range(n)
    ]


def _copies(tmp_path) -> list:
    folder = tmp_path / "cache" / table_cache.FOLDER
    return sorted(folder.iterdir()) if folder.exists() else []


def _no_parse(monkeypatch):
    monkeypatch.setattr(read, "_parsed_table", lambda p: pytest.fail("parsed again"))


def test_second_read_comes_from_the_copy(tmp_path, monkeypatch):
    path = tmp_path / "r.json"
    path.write_text(json.dumps(_records()))
    before = (path.read_bytes(), os.stat(path).st_mtime_ns)
    first = read_table(path)
    assert len(_copies(tmp_path)) == 1
    with monkeypatch.context() as patch:
        _no_parse(patch)
        again = read_table(path)
    pd.testing.assert_frame_equal(again, first, check_exact=True)
    pd.testing.assert_frame_equal(first, pd.DataFrame(_records()), check_exact=True)
    assert (path.read_bytes(), os.stat(path).st_mtime_ns) == before  # the input untouched


def test_changed_file_is_parsed_again(tmp_path):
    path = tmp_path / "r.json"
    path.write_text(json.dumps(_records()))
    read_table(path)
    path.write_text(json.dumps(_records(60, shift=1)))
    os.utime(path, ns=(1, 1))  # another modification time, whatever the clock
    pd.testing.assert_frame_equal(read_table(path), pd.DataFrame(_records(60, shift=1)))
    assert len(_copies(tmp_path)) == 1  # one copy per input, replaced


def test_damaged_copy_is_made_again(tmp_path, monkeypatch):
    path = tmp_path / "r.json"
    path.write_text(json.dumps(_records()))
    want = read_table(path)
    (copy,) = _copies(tmp_path)
    copy.write_bytes(b"not arrow")
    pd.testing.assert_frame_equal(read_table(path), want)
    with monkeypatch.context() as patch:
        _no_parse(patch)
        pd.testing.assert_frame_equal(read_table(path), want)


def test_objects_bad_files_and_small_files_get_no_copy(tmp_path, monkeypatch):
    nested = tmp_path / "nested.json"
    nested.write_text(json.dumps([{"a": [1, 2], "b": {"c": 1}}, {"a": [], "b": {}}]))
    read_table(nested)
    bad = tmp_path / "bad.json"
    bad.write_text('[{"a": 1}, {"a": ')
    with pytest.raises(GemvizError, match="not valid JSON"):
        read_table(bad)
    assert _copies(tmp_path) == []
    monkeypatch.setattr(table_cache, "MIN_BYTES", 1 << 20)
    small = tmp_path / "small.json"
    small.write_text(json.dumps(_records()))
    read_table(small)
    assert _copies(tmp_path) == []
