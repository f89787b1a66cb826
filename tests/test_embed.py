"""Embedding methods on the packaged model and on a tiny Qwen2-VL built offline."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch  # noqa: TID253 (these tests run a model)
from conftest import SEED
from PIL import Image
from tiny_qwen import load_tiny_processor, make_screenshot, make_tiny_qwen2vl

from gemviz.data.errors import GemvizError
from gemviz.embed import EMBEDDERS, Sample, make_embedder, qwen
from gemviz.embed.base import fill_template, load_template, resolve_model
from gemviz.embed.safetensors_table import read_input_embeddings

SIZES = [(1080, 2400), (300, 600), (800, 500), (57, 57)]
TASKS = [
    "Open the settings app",
    "Search for a cheap flight to Paris",
    "go",
    "Add milk to the list",
]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    return make_tiny_qwen2vl(tmp_path_factory.mktemp("tiny-qwen"))


@pytest.fixture(scope="module")
def screens(tmp_path_factory) -> list[Sample]:
    folder = tmp_path_factory.mktemp("screens")
    return [
        Sample(str(i), task, make_screenshot(folder / f"s{i}.png", size, seed=SEED + i))
        for i, (task, size) in enumerate(zip(TASKS, SIZES, strict=True))
    ]


@pytest.fixture(scope="module")
def full_model(tiny):
    from transformers import Qwen2VLForConditionalGeneration

    return Qwen2VLForConditionalGeneration.from_pretrained(tiny).eval()


def test_registry_names():
    assert set(EMBEDDERS) == {"gem-input", "hidden", "sentence"}
    with pytest.raises(GemvizError, match="unknown embedding method"):
        make_embedder("nope")


@pytest.mark.slow
def test_gem_input_fast_path_equals_full_model(tiny, screens, full_model):
    embedder = make_embedder("gem-input", str(tiny))
    fast = embedder(screens)
    processor = load_tiny_processor(tiny)
    for i, sample in enumerate(screens):
        text = qwen.chat_text(processor, embedder.prompt(sample.task), with_image=True)
        with Image.open(sample.image) as img:
            ids = processor(text=[text], images=[img.convert("RGB")], return_tensors="pt").input_ids
        with torch.no_grad():
            ref = full_model.get_input_embeddings()(ids).mean(dim=1)[0].numpy()
        np.testing.assert_allclose(fast[i], ref, rtol=1e-5, atol=1e-7)


def test_image_token_count_matches_processor(tiny):
    processor = load_tiny_processor(tiny)
    geometry = qwen.ImageGeometry.from_folder(tiny)
    for width, height in [*SIZES, (1, 150), (2400, 1080), (4000, 30)]:
        img = Image.new("RGB", (width, height))
        grid = processor.image_processor(images=[img], return_tensors="np")["image_grid_thw"][0]
        assert qwen.image_token_count(width, height, geometry) == int(grid.prod()) // 4


@pytest.mark.slow
def test_gem_input_ignores_pixels_but_not_size(tiny, tmp_path):
    a = make_screenshot(tmp_path / "a.png", (640, 1280), seed=1)
    b = make_screenshot(tmp_path / "b.png", (640, 1280), seed=2)
    c = make_screenshot(tmp_path / "c.png", (1280, 1280), seed=1)
    vecs = make_embedder("gem-input", str(tiny))(
        [Sample("a", "open mail", a), Sample("b", "open mail", b), Sample("c", "open mail", c)]
    )
    np.testing.assert_array_equal(vecs[0], vecs[1])
    assert not np.allclose(vecs[0], vecs[2])


@pytest.mark.slow
def test_hidden_batched_equals_one_at_a_time(tiny, screens):
    embedder = make_embedder("hidden", str(tiny))
    batched = embedder(screens)
    single = np.concatenate([embedder([s]) for s in screens])
    assert batched.shape == (len(screens), 64)
    np.testing.assert_allclose(batched, single, rtol=1e-4, atol=1e-5)


@pytest.mark.slow
def test_hidden_sees_pixels(tiny, tmp_path):
    a = make_screenshot(tmp_path / "a.png", (640, 1280), seed=1)
    b = make_screenshot(tmp_path / "b.png", (640, 1280), seed=2)
    vecs = make_embedder("hidden", str(tiny))(
        [Sample("a", "open mail", a), Sample("b", "open mail", b)]
    )
    assert not np.allclose(vecs[0], vecs[1])


@pytest.mark.slow
def test_hidden_layer_zero_differs_from_gem_input(tiny, screens):
    # Layer 0 holds the vision encoder's features where gem-input has the placeholder row.
    gem = make_embedder("gem-input", str(tiny))(screens[:1])
    layer0 = make_embedder("hidden", str(tiny), layer=0)(screens[:1])
    assert not np.allclose(layer0, gem, atol=1e-4)


def test_hidden_layer_out_of_range(tiny):
    with pytest.raises(GemvizError, match="out of range"):
        make_embedder("hidden", str(tiny), layer=7)
    assert (
        make_embedder("hidden", str(tiny), layer=-1).identity()
        == make_embedder("hidden", str(tiny), layer=2).identity()
    )


def test_sentence_packaged_model_known_answers():
    samples = [
        Sample("a", "open the settings app"),
        Sample("b", "launch settings"),
        Sample("c", "buy a cheap flight to Paris"),
    ]
    vecs = make_embedder("sentence")(samples)
    assert vecs.shape == (3, 384) and vecs.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, rtol=1e-5)
    sims = vecs @ vecs.T
    assert sims[0, 1] > sims[0, 2] + 0.2


@pytest.mark.slow
def test_sentence_batch_padding_does_not_change_vectors():
    embedder = make_embedder("sentence")
    samples = [Sample("a", "go"), Sample("b", "a much longer task with many words in it")]
    np.testing.assert_allclose(
        embedder(samples), np.concatenate([embedder([s]) for s in samples]), atol=1e-5
    )


@pytest.mark.slow
def test_gem_input_text_model_equals_full_model():
    from transformers import AutoModel, AutoTokenizer

    folder = resolve_model("default")
    embedder = make_embedder("gem-input")
    assert not embedder.needs_images
    vec = embedder([Sample("a", "Install the Weather app")])[0]
    tok = AutoTokenizer.from_pretrained(folder)
    model = AutoModel.from_pretrained(folder)
    ids = tok(fill_template(load_template(None), "Install the Weather app"), return_tensors="pt")
    with torch.no_grad():
        ref = model.get_input_embeddings()(ids.input_ids).mean(dim=1)[0].numpy()
    np.testing.assert_allclose(vec, ref, rtol=1e-5, atol=1e-7)


@pytest.mark.slow
def test_hidden_on_text_model_runs_without_images():
    vecs = make_embedder("hidden")([Sample("a", "open mail"), Sample("b", "close the app")])
    assert vecs.shape == (2, 384)
    assert not np.allclose(vecs[0], vecs[1])


def test_sentence_refuses_vision_model(tiny):
    with pytest.raises(GemvizError, match="text encoder"):
        make_embedder("sentence", str(tiny))


def test_read_embedding_table_from_sharded_checkpoint(tiny, full_model, tmp_path):
    full_model.save_pretrained(tmp_path, max_shard_size="100KB")
    assert (tmp_path / "model.safetensors.index.json").is_file()
    table = read_input_embeddings(tmp_path)
    np.testing.assert_array_equal(
        table.numpy(), full_model.get_input_embeddings().weight.detach().numpy()
    )


def test_template_must_have_task(tmp_path):
    bad = tmp_path / "t.txt"
    bad.write_text("no placeholder here")
    with pytest.raises(GemvizError, match=r"\{task\}"):
        load_template(bad)
    template = load_template(None)
    assert "{task}" in template and "PRESS_HOME" in template
    assert fill_template('{"json": 1} {task}', "x") == '{"json": 1} x'


def test_missing_model_folder(tmp_path):
    with pytest.raises(GemvizError, match="never downloads"):
        make_embedder("gem-input", str(tmp_path / "absent"))
