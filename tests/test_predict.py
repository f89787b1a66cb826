"""predict with a tiny Qwen2-VL built in the test: an answer for every step, resume after an
interruption, and batched (left-padded) greedy answers equal to one-by-one answers."""

from __future__ import annotations

import json

import pytest

from gemviz.data.errors import GemvizError
from gemviz.data.read import read_records
from gemviz.data.write import write_records
from gemviz.embed.base import default_template, fill_template
from gemviz.scoring.predict import Generator, predict_file, predict_records
from tests.tiny_qwen import make_screenshot, make_tiny_qwen2vl

# Screens of different shapes give different image-token counts, so batches need padding.
SIZES = [(1080, 2400), (200, 300), (640, 480), (1920, 1080), (300, 300)]
TASKS = [
    "Open the settings app and turn on wifi",
    "Search for a cheap flight to Paris",
    "Add milk",
    "Install the weather app",
    "Share the shopping list with Alice by email, then go back to the home screen",
]
NEW_TOKENS = 6


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    return make_tiny_qwen2vl(tmp_path_factory.mktemp("tiny-qwen2vl"))


@pytest.fixture(scope="module")
def generator(tiny_model):
    return Generator(tiny_model, device="cpu", max_new_tokens=NEW_TOKENS)


@pytest.fixture
def test_file(tmp_path):
    records = []
    for i, (size, task) in enumerate(zip(SIZES, TASKS, strict=True)):
        make_screenshot(tmp_path / "shots" / f"s{i}.png", size, seed=i)
        records.append({"task": task, "image_path": f"shots/s{i}.png", "app": f"app{i}"})
    path = tmp_path / "test.json"
    write_records(path, records)
    return path


@pytest.mark.slow
def test_predict_file_answers_every_step(tiny_model, test_file, tmp_path):
    calls = []
    out = tmp_path / "pred.json"
    result = predict_file(
        model=tiny_model,
        test=test_file,
        out=out,
        batch_size=2,
        max_new_tokens=NEW_TOKENS,
        device="cpu",
        image_root=tmp_path,
        progress=lambda d, t, s: calls.append((d, t, s)),
    )
    rows = read_records(out)
    assert len(rows) == len(TASKS)
    assert [r["task"] for r in rows] == TASKS and rows[2]["app"] == "app2"  # fields kept
    assert all(isinstance(r["prediction"], str) for r in rows)
    assert result.generated == 5 and result.cached == 0
    assert calls[0] == (0, 5, "start")
    assert [c[0] for c in calls[1:]] == [2, 4, 5]
    assert json.loads(test_file.read_text())[0].keys() == {"task", "image_path", "app"}


@pytest.mark.slow
def test_batched_left_padding_matches_one_by_one(
    tiny_model, generator, test_file, tmp_path, monkeypatch
):
    records = read_records(test_file)
    common = dict(max_new_tokens=NEW_TOKENS, image_root=tmp_path, generator=generator)
    single = predict_records(records, tiny_model, batch_size=1, **common)
    assert single.generated == 5
    assert len(set(single.answers)) > 1  # the steps really get different answers
    for batch_size in (5, 3):
        # a fresh cache, so that the batched run generates instead of reading the shards
        monkeypatch.setenv("GEMVIZ_CACHE", str(tmp_path / f"cache-{batch_size}"))
        batched = predict_records(records, tiny_model, batch_size=batch_size, **common)
        assert batched.generated == 5
        assert batched.answers == single.answers


@pytest.mark.slow
def test_resume_after_interruption(tiny_model, generator, test_file, tmp_path):
    records = read_records(test_file)
    common = dict(max_new_tokens=NEW_TOKENS, image_root=tmp_path, batch_size=2)

    def stop_after_first_batch(done, total, stage):
        if stage == "predict" and done >= 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        predict_records(
            records, tiny_model, generator=generator, progress=stop_after_first_batch, **common
        )
    seen = []
    resumed = predict_records(
        records, tiny_model, generator=generator, progress=lambda *a: seen.append(a), **common
    )
    assert seen[0] == (2, 5, "cached")
    assert resumed.generated == 3 and resumed.cached == 2
    fresh = [generator([p], [i])[0] for p, i in _inputs(records, tmp_path)]
    assert resumed.answers == fresh
    # everything cached now: no model needed at all
    again = predict_records(records, tiny_model, generator=None, **common)
    assert again.generated == 0 and again.answers == fresh


def _inputs(records, root):
    template = default_template()
    return [(fill_template(template, r["task"]), root / r["image_path"]) for r in records]


def test_a_folder_without_a_model_is_refused_before_loading(test_file, tmp_path):
    # The quick loop's test of this module: no model is built or loaded.
    records = read_records(test_file)
    with pytest.raises(GemvizError, match=r"config\.json"):
        predict_records(records, tmp_path / "no-model", image_root=test_file.parent)


@pytest.mark.slow
def test_missing_screenshot_is_reported_before_loading(tiny_model, test_file, tmp_path):
    records = read_records(test_file)
    with pytest.raises(GemvizError, match=r"row 1, field 'image_path'.*--image-root"):
        predict_records(records, tiny_model, image_root=None, file="test.json")
    with pytest.raises(GemvizError, match=r"config\.json"):
        predict_records(records, tmp_path, image_root=tmp_path)
    with pytest.raises(GemvizError, match="batch-size"):
        predict_records(records, tiny_model, image_root=tmp_path, batch_size=0)


class _Cramped:
    """A generator stand-in that runs out of memory on batches above two steps."""

    def __init__(self, generator) -> None:
        self.generator, self.device, self.model = generator, generator.device, generator.model
        self.seen: list[int] = []

    def __call__(self, prompts, images):
        self.seen.append(len(prompts))
        if len(prompts) > 2:
            raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return self.generator(prompts, images)


@pytest.mark.slow
def test_out_of_memory_halves_and_later_batches_keep_the_size_that_fitted(
    tiny_model, generator, test_file, tmp_path, monkeypatch
):
    records = read_records(test_file)
    cramped = _Cramped(generator)
    common = dict(max_new_tokens=NEW_TOKENS, image_root=tmp_path)
    result = predict_records(records, tiny_model, batch_size=4, generator=cramped, **common)
    # 4 fails, its halves of 2 answer; the fifth step then runs alone instead of failing at 4.
    assert cramped.seen == [4, 2, 2, 1]
    assert result.generated == 5
    monkeypatch.setenv("GEMVIZ_CACHE", str(tmp_path / "fresh-cache"))  # answer everything again
    plain = predict_records(records, tiny_model, batch_size=1, generator=generator, **common)
    assert plain.generated == 5 and result.answers == plain.answers
