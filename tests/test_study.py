"""Tests for gemviz.data.study: loading and aligning a study's files."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from gemviz.data.errors import GemvizError
from gemviz.data.study import Study
from tests.conftest import SEED


def _records(n: int = 6) -> list[dict]:
    return [
        {"task": f"t{i // 2}", "image_path": f"img{i}.png", "app": f"app{i % 3}"} for i in range(n)
    ]


def _labeled(records: list[dict], ood: set[int], score: bool = True) -> list[dict]:
    out = []
    for i, r in enumerate(records):
        rec = dict(r, label="OOD" if i in ood else "ID")
        if score:
            rec["input_score"] = float(i) / 10
        out.append(rec)
    return out


def _results(records: list[dict], tm: list[int], em: list[int]) -> list[dict]:
    return [dict(r, type_match=t, exact_match=e) for r, t, e in zip(records, tm, em, strict=True)]


def _write(path, records) -> str:
    path.write_text(json.dumps(records))
    return str(path)


def test_from_files_aligns_shuffled_files(tmp_path):
    recs = _records()
    order = np.random.default_rng(SEED).permutation(len(recs))
    a = _write(tmp_path / "a.json", _labeled(recs, {1, 4}))
    b = _write(tmp_path / "b.json", [_labeled(recs, {0}, score=False)[k] for k in order])
    tm = [1, 0, 1, 1, 0, 1]
    em = [1, 0, 0, 1, 0, 0]
    res = [_results(recs, tm, em)[k] for k in order]
    m = tmp_path / "m.jsonl"
    m.write_text("\n".join(json.dumps(r) for r in res))
    study = Study.from_files({"a": a, "b": b}, {"m": m})

    assert study.splitters == ["a", "b"]
    assert study.models == ["m"]
    assert study.samples["image_path"].tolist() == [r["image_path"] for r in recs]
    assert list(study.samples.columns[:3]) == ["id", "task", "image_path"]
    assert "label" not in study.samples.columns and "app" in study.samples.columns
    assert study.labels["a"].tolist() == ["ID", "OOD", "ID", "ID", "OOD", "ID"]
    assert study.labels["b"].tolist() == ["OOD", "ID", "ID", "ID", "ID", "ID"]
    np.testing.assert_allclose(study.scores["a"], np.arange(6) / 10)
    assert study.scores["b"].isna().all()
    assert study.type_match["m"].tolist() == tm
    assert study.metric("exact_match")["m"].tolist() == em
    assert study.type_match["m"].dtype == np.int8
    np.testing.assert_array_equal(study.is_id("a"), [True, False, True, True, False, True])


def test_samples_file_sets_reference_order(tmp_path):
    recs = _records()
    rev = recs[::-1]
    s = _write(tmp_path / "test.json", rev)
    a = _write(tmp_path / "a.json", _labeled(recs, {0}))
    study = Study.from_files({"a": a}, samples=s)
    assert study.samples["image_path"].tolist() == [r["image_path"] for r in rev]
    assert study.labels["a"].iloc[-1] == "OOD"


def test_missing_samples_are_reported(tmp_path):
    recs = _records()
    a = _write(tmp_path / "a.json", _labeled(recs, set()))
    b = _write(tmp_path / "b.json", _labeled(recs[:4], set()))
    with pytest.raises(GemvizError, match="2 sample"):
        Study.from_files({"a": a, "b": b})


def test_from_frames_validates_labels_and_matches():
    recs = _records(4)
    frame = pd.DataFrame(_labeled(recs, {2}))
    frame.loc[1, "label"] = "maybe"
    with pytest.raises(GemvizError, match="row 2"):
        Study.from_frames({"a": frame})
    good = pd.DataFrame(_labeled(recs, {2}))
    bad = pd.DataFrame(_results(recs, [1, 0, 2, 1], [0, 0, 0, 0]))
    with pytest.raises(GemvizError, match="type_match"):
        Study.from_frames({"a": good}, {"m": bad})
    ok = pd.DataFrame(_results(recs, [True, False, True, True], [0, 0, 1, 0]))
    study = Study.from_frames({"a": good.assign(label=good["label"].str.lower())}, {"m": ok})
    assert study.labels["a"].tolist() == ["ID", "ID", "OOD", "ID"]
    assert study.type_match["m"].tolist() == [1, 0, 1, 1]


def test_unknown_names_and_empty_study():
    recs = _records(4)
    study = Study.from_frames({"a": pd.DataFrame(_labeled(recs, set()))})
    with pytest.raises(GemvizError, match="unknown metric"):
        study.metric("f1")
    with pytest.raises(GemvizError, match="unknown splitter 'zz'"):
        study.is_id("zz")
    with pytest.raises(GemvizError, match="at least one"):
        Study.from_frames({})


def test_real_aitz_file_with_repeated_keys(gem_public):
    path = gem_public / "AITZ_test_inputscore.json"
    records = json.loads(path.read_text())
    scores = np.array([r["input_score"] for r in records])
    cut = np.quantile(scores, 0.8)
    labeled = pd.DataFrame(records).assign(label=np.where(scores <= cut, "ID", "OOD"))
    shuffled = labeled.sample(frac=1.0, random_state=SEED)
    study = Study.from_frames({"q80": labeled, "shuffled": shuffled}, samples=pd.DataFrame(records))
    assert len(study) == 4724
    assert study.samples["id"].is_unique
    assert (study.labels["q80"] == study.labels["shuffled"]).all()
    np.testing.assert_allclose(study.scores["shuffled"], scores)
