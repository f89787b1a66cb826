"""Input scores end to end: outputs, cache hits, resume, OOM back-off, bad samples, shards."""

from __future__ import annotations

import json
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest
import torch  # noqa: TID253 (these tests run a model)
from conftest import SEED
from tiny_qwen import make_screenshot, make_tiny_qwen2vl

from gemviz.data.errors import GemvizError
from gemviz.data.loaders import load_scores
from gemviz.data.read import read_records
from gemviz.embed import EMBEDDERS, Embedder
from gemviz.scoring import score as scoring
from gemviz.scoring import store as embedding_store


@pytest.fixture
def split_files(gem_public, tmp_path) -> tuple[Path, Path]:
    """30 train and 14 test steps of the GEM release's AITZ file (screenshots not included)."""
    records = json.loads((gem_public / "AITZ_test_inputscore.json").read_text())
    train, test = tmp_path / "train.json", tmp_path / "test.jsonl"
    train.write_text(json.dumps(records[:30]))
    test.write_text("\n".join(json.dumps(r) for r in records[1000:1014]))
    return train, test


class Counting:
    """Wraps Embedder.embed and Embedder.load to count the model work done."""

    def __init__(self, monkeypatch) -> None:
        self.batches, self.samples, self.loads = 0, 0, 0
        embed, load = Embedder.__call__, Embedder.ensure_loaded

        def counted_call(inner, batch):
            self.batches += 1
            self.samples += len(batch)
            return embed(inner, batch)

        def counted_load(inner):
            if not inner._loaded:
                self.loads += 1
            return load(inner)

        monkeypatch.setattr(Embedder, "__call__", counted_call)
        monkeypatch.setattr(Embedder, "ensure_loaded", counted_load)


def test_distances_known_answers():
    x = np.array([[0.0, 0.0], [2.0, 0.0], [1.0, 3.0]])
    center = scoring.centroid(x)
    np.testing.assert_allclose(center, [1.0, 1.0])
    np.testing.assert_allclose(scoring.euclidean(x, center), [np.sqrt(2), np.sqrt(2), 2.0])
    np.testing.assert_allclose(
        scoring.cosine(np.array([[1.0, 1.0], [-1.0, -1.0], [1.0, -1.0]]), center),
        [0.0, 2.0, 1.0],
        atol=1e-12,
    )
    with pytest.raises(GemvizError):
        scoring.centroid(np.zeros((0, 3)))
    with pytest.raises(GemvizError, match="unknown distance"):
        scoring.input_scores(x, x, "manhattan")


def test_embeddings_file_round_trip(tmp_path):
    ids = ["a", "b|c#2"]
    emb = np.arange(6, dtype=np.float64).reshape(2, 3)
    embedding_store.save_embeddings(tmp_path / "e.npz", ids, emb)
    got_ids, got = embedding_store.load_embeddings(tmp_path / "e.npz")
    assert got_ids == ids and got.dtype == np.float32
    np.testing.assert_array_equal(got, emb)
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(GemvizError, match="embeddings file"):
        embedding_store.load_embeddings(tmp_path / "bad.npz")


@pytest.mark.slow
@pytest.mark.parametrize("method", ["sentence", "gem-input", "hidden"])
def test_score_files_packaged_model_end_to_end(method, split_files, tmp_path):
    train, test = split_files
    out = scoring.score_files(method=method, train=train, test=test, out_dir=tmp_path / "out")
    assert out.complete and out.embedded == 44
    test_in = read_records(test)
    test_out = read_records(out.test_scores)
    # Every input field is kept; input_score is replaced by the new score.
    assert [r["task"] for r in test_out] == [r["task"] for r in test_in]
    assert all(set(r) == {"task", "image_path", "input_score"} for r in test_out)
    frame = load_scores(out.train_scores)
    assert len(frame) == 30 and np.isfinite(frame["input_score"]).all()
    ids, emb = embedding_store.load_embeddings(out.test_embeddings)
    assert ids == load_scores(out.test_scores)["id"].tolist()
    assert emb.shape[0] == 14 and emb.dtype == np.float32
    _train_ids, train_emb = embedding_store.load_embeddings(out.train_embeddings)
    # The score is the distance to the train centroid.
    center = train_emb.astype(np.float64).mean(0)
    np.testing.assert_allclose(
        [r["input_score"] for r in test_out], np.linalg.norm(emb - center, axis=1), rtol=1e-5
    )


@pytest.mark.slow
def test_same_task_same_sentence_score(split_files, tmp_path):
    train, test = split_files
    out = scoring.score_files(train=train, test=test, out_dir=tmp_path / "o", distance="cosine")
    by_task: dict[str, set[float]] = {}
    for rec in read_records(out.train_scores):
        by_task.setdefault(rec["task"], set()).add(round(rec["input_score"], 6))
    assert all(len(v) == 1 for v in by_task.values())
    # The score is the cosine distance to the train centroid: 1 - cos(embedding, centroid).
    _ids, emb = embedding_store.load_embeddings(out.train_embeddings)
    x = emb.astype(np.float64)
    center = x.mean(0)
    expected = 1.0 - x @ center / (np.linalg.norm(x, axis=1) * np.linalg.norm(center))
    got = [r["input_score"] for r in read_records(out.train_scores)]
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-7)


@pytest.mark.slow
def test_second_run_is_a_cache_hit(split_files, tmp_path, monkeypatch):
    train, test = split_files
    counter = Counting(monkeypatch)
    scoring.score_files(train=train, test=test, out_dir=tmp_path / "a", batch_size=8)
    assert counter.samples == 44 and counter.loads == 1
    second = scoring.score_files(train=train, test=test, out_dir=tmp_path / "b", batch_size=8)
    assert counter.samples == 44 and counter.loads == 1  # no model work at all
    assert second.embedded == 0 and second.cached == 44
    assert (tmp_path / "a" / "test_inputscore.json").read_text() == (
        tmp_path / "b" / "test_inputscore.json"
    ).read_text()
    # A different distance reuses the embeddings; a different template does not.
    scoring.score_files(train=train, test=test, out_dir=tmp_path / "c", distance="cosine")
    assert counter.samples == 44
    template = tmp_path / "t.txt"
    template.write_text("Task: {task}")
    scoring.score_files(
        method="gem-input", train=train, test=test, out_dir=tmp_path / "d", prompt_template=template
    )
    assert counter.samples == 88


@pytest.mark.slow
def test_resume_after_interruption(split_files, tmp_path, monkeypatch):
    train, test = split_files
    reference = scoring.score_files(train=train, test=test, out_dir=tmp_path / "ref", batch_size=4)
    monkeypatch.setenv("GEMVIZ_CACHE", str(tmp_path / "fresh-cache"))
    counter = Counting(monkeypatch)

    def interrupt(done, total, stage):
        if done == 8:  # after two batches of four
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        scoring.score_files(
            train=train, test=test, out_dir=tmp_path / "out", batch_size=4, progress=interrupt
        )
    assert counter.samples == 8 and not (tmp_path / "out").exists()
    resumed = scoring.score_files(train=train, test=test, out_dir=tmp_path / "out", batch_size=4)
    assert counter.samples == 44 and resumed.embedded == 36 and resumed.cached == 8
    for name in ("train_inputscore.json", "test_inputscore.json"):
        assert (tmp_path / "out" / name).read_text() == (
            reference.train_scores.parent / name
        ).read_text()


class _Fake(Embedder):
    """A model-free embedder that runs out of 'memory' on batches above two samples."""

    name = "fake"
    uses_template = False
    default_batch_size = 8
    seen: ClassVar[list[int]] = []

    def load(self) -> None:
        pass

    def embed(self, batch):
        type(self).seen.append(len(batch))
        if len(batch) > 2:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2 GiB")
        return np.array([[len(s.task), s.task.count(" ")] for s in batch], dtype=np.float32)


@pytest.mark.slow
def test_out_of_memory_halves_the_batch(split_files, tmp_path, monkeypatch):
    train, test = split_files
    monkeypatch.setitem(EMBEDDERS, "fake", _Fake)
    _Fake.seen = []
    out = scoring.score_files(method="fake", train=train, test=test, out_dir=tmp_path / "o")
    # 8 fails, its halves of 4 fail, their halves of 2 succeed; the other 22 train samples then
    # run in batches of 2 instead of failing at 8 and 4 again; the test split starts afresh.
    assert _Fake.seen == [8, 4, 2, 2, 4, 2, 2] + [2] * 11 + [8, 4, 2, 2, 4, 2, 2] + [2] * 3
    _, emb = embedding_store.load_embeddings(out.train_embeddings)
    tasks = [r["task"] for r in read_records(train)]
    np.testing.assert_array_equal(emb[:, 0], [len(t) for t in tasks])


@pytest.mark.slow
def test_empty_task_is_an_error_listing_samples(split_files, tmp_path):
    train, test = split_files
    records = read_records(test)
    records[3]["task"] = "  "
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(records))
    with pytest.raises(GemvizError, match=r"1 sample\(s\).*row 4.*empty task"):
        scoring.score_files(train=train, test=bad, out_dir=tmp_path / "o")
    out = scoring.score_files(train=train, test=bad, out_dir=tmp_path / "o", skip_bad=True)
    assert len(read_records(out.test_scores)) == 13
    assert [p["row"] for p in out.skipped] == [4]
    assert json.loads((tmp_path / "o" / "skipped.json").read_text())[0]["reason"] == "empty task"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    return make_tiny_qwen2vl(tmp_path_factory.mktemp("tiny-qwen"))


@pytest.mark.slow
def test_vision_model_needs_screenshots_and_image_root(tiny, tmp_path):
    shots = tmp_path / "shots"
    rng = np.random.default_rng(SEED)
    rows = []
    for i in range(6):
        size = (int(rng.integers(200, 1200)), int(rng.integers(200, 2400)))
        make_screenshot(shots / f"{i}.png", size, seed=i)
        rows.append({"task": f"task number {i % 3}", "image_path": f"{i}.png", "step": i})
    train, test = tmp_path / "train.json", tmp_path / "test.json"
    train.write_text(json.dumps(rows[:4]))
    test.write_text(json.dumps([*rows[4:], {"task": "x", "image_path": "missing.png"}]))
    with pytest.raises(GemvizError, match="--image-root"):
        scoring.score_files(
            model=str(tiny), method="gem-input", train=train, test=test, out_dir=tmp_path / "o"
        )
    (shots / "broken.png").write_bytes(b"not a png")
    test.write_text(json.dumps([*rows[4:], {"task": "x", "image_path": "broken.png"}]))
    with pytest.raises(GemvizError, match="unreadable"):
        scoring.score_files(
            model=str(tiny),
            method="hidden",
            train=train,
            test=test,
            out_dir=tmp_path / "o",
            image_root=shots,
        )
    out = scoring.score_files(
        model=str(tiny),
        method="hidden",
        train=train,
        test=test,
        out_dir=tmp_path / "o",
        image_root=shots,
        skip_bad=True,
        batch_size=3,
    )
    assert [r["step"] for r in read_records(out.test_scores)] == [4, 5]
    _, emb = embedding_store.load_embeddings(out.train_embeddings)
    assert emb.shape == (4, 64)


@pytest.mark.slow
def test_data_parallel_shards_merge_to_the_same_result(split_files, tmp_path, monkeypatch):
    train, test = split_files
    whole = scoring.score_files(train=train, test=test, out_dir=tmp_path / "whole", batch_size=4)
    monkeypatch.setenv("GEMVIZ_CACHE", str(tmp_path / "shared-cache"))
    counter = Counting(monkeypatch)
    rank1 = scoring.score_files(
        train=train, test=test, out_dir=tmp_path / "dp", batch_size=4, shard=(1, 2)
    )
    assert not rank1.complete and not (tmp_path / "dp").exists()
    assert counter.samples == 22  # every other sample of each split
    rank0 = scoring.score_files(
        train=train,
        test=test,
        out_dir=tmp_path / "dp",
        batch_size=4,
        shard=(0, 2),
        merge_timeout=5.0,
    )
    assert rank0.complete and counter.samples == 44
    for name in ("train_embeddings.npz", "test_embeddings.npz"):
        ids_a, a = embedding_store.load_embeddings(tmp_path / "whole" / name)
        ids_b, b = embedding_store.load_embeddings(tmp_path / "dp" / name)
        assert ids_a == ids_b
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    with pytest.raises(GemvizError, match="bad shard"):
        scoring.score_files(train=train, test=test, out_dir=tmp_path / "x", shard=(2, 2))
    assert whole.complete
