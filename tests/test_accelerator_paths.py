"""What a GPU run changes, checked on the CPU: the hidden-state forward that keeps one layer,
inputs prepared ahead on a thread, screenshots processed in parallel, the device and precision
choices, and the processor on a machine that has torchvision."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch  # noqa: TID253 (these tests run a model)
from conftest import SEED
from tiny_qwen import make_screenshot, make_tiny_qwen2vl

from gemviz.data.errors import GemvizError
from gemviz.embed import Sample, make_embedder, qwen
from gemviz.embed.base import resolve_device
from gemviz.scoring import predict
from gemviz.scoring.store import ProgressCounter, embed_split

# Slow: a tiny Qwen2-VL run through every accelerator path (outside `-m "not slow"`).
pytestmark = pytest.mark.slow

SIZES = [(1080, 2400), (300, 600), (800, 500), (720, 1600), (57, 57)]
TASKS = ["Open the settings app", "Search for a flight to Paris", "go", "Add milk", "Call Bob"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    return make_tiny_qwen2vl(tmp_path_factory.mktemp("tiny-qwen"), num_layers=3)


@pytest.fixture(scope="module")
def screens(tmp_path_factory) -> list[Sample]:
    folder = tmp_path_factory.mktemp("screens")
    return [
        Sample(f"s{i}", task, make_screenshot(folder / f"s{i}.png", size, seed=SEED + i))
        for i, (task, size) in enumerate(zip(TASKS, SIZES, strict=True))
    ]


@pytest.mark.parametrize("layer", [0, 1, 2, 3])
def test_hidden_layer_equals_the_whole_models_hidden_states(tiny, screens, layer):
    # The forward without output head, cache or later layers gives exactly the vectors of the
    # whole model's ``output_hidden_states`` (so cached vectors stay valid).
    embedder = make_embedder("hidden", str(tiny), layer=layer)
    got = embedder(screens)
    enc = embedder.inputs(screens)
    with torch.inference_mode():
        hidden = embedder.net(**enc, output_hidden_states=True).hidden_states[layer]
    mask = enc["attention_mask"].unsqueeze(-1).float()
    want = ((hidden.float() * mask).sum(1) / mask.sum(1)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_hidden_forward_never_computes_the_output_head(tiny, screens):
    embedder = make_embedder("hidden", str(tiny))
    embedder.ensure_loaded()
    calls = []
    head = embedder.net.get_output_embeddings()
    handle = head.register_forward_hook(lambda *a: calls.append(1))
    try:
        embedder(screens[:2])
    finally:
        handle.remove()
    assert calls == []


def test_inputs_prepared_ahead_give_the_same_vectors(tiny, screens, tmp_path):
    plain = make_embedder("hidden", str(tiny))
    assert plain.overlap_inputs is False  # on a CPU nothing is prepared ahead by default
    ahead = make_embedder("hidden", str(tiny))
    ahead.overlap_inputs = True
    prepared = []
    cpu_inputs = ahead.cpu_inputs

    def counted(batch):
        prepared.append([s.id for s in batch])
        return cpu_inputs(batch)

    ahead.cpu_inputs = counted
    runs = {}
    for name, embedder in (("plain", plain), ("ahead", ahead)):
        (tmp_path / name).mkdir()
        runs[name] = embed_split(
            embedder,
            screens,
            tmp_path / name,
            batch_size=2,
            counter=ProgressCounter(len(screens), None),
            stage="test",
        )
    np.testing.assert_array_equal(runs["ahead"], runs["plain"])
    # Every batch was prepared once (none twice, none thrown away), and none is left waiting.
    assert sorted(i for b in prepared for i in b) == sorted(s.id for s in screens)
    assert len(prepared) == 3 and ahead._ahead == {}


def test_screenshots_processed_in_parallel_equal_the_processors_own_loop(tiny, screens):
    processor = qwen.load_vl_processor(tiny)
    images = qwen.load_screenshots([s.image for s in screens])
    texts = [qwen.chat_text(processor, s.task, with_image=True) for s in screens]
    got = processor(text=texts, images=images, padding=True, return_tensors="pt")
    own_loop = type(processor).__mro__[1]._process_images
    want_images, want_text = own_loop(processor, images, return_tensors="pt")
    for key in ("pixel_values", "image_grid_thw"):
        assert torch.equal(got[key], torch.as_tensor(want_images[key]))
    # Each text got its own image's number of placeholder tokens.
    counts = (got["input_ids"] == processor.image_token_id).sum(1).tolist()
    merge = processor.image_processor.merge_size**2
    assert counts == [int(g.prod()) // merge for g in got["image_grid_thw"]]
    assert len(want_text) == len(screens)


def test_unreadable_screenshot_is_named(tmp_path, screens):
    bad = tmp_path / "broken.png"
    bad.write_bytes(screens[0].image.read_bytes()[:200])
    with pytest.raises(GemvizError, match=r"broken\.png"):
        qwen.load_screenshots([screens[1].image, bad])


def test_processor_loads_where_torchvision_is_installed(tiny, monkeypatch):
    # GPU servers usually have torchvision; the PIL image processor is used there as well, so
    # vectors do not depend on whether it is installed.
    import transformers.utils

    monkeypatch.setattr(transformers.utils, "is_torchvision_available", lambda: True)
    processor = qwen.load_vl_processor(tiny)
    assert type(processor.image_processor).__name__.endswith("Pil")


@pytest.mark.parametrize("name", [None, "", "auto", "AUTO"])
def test_auto_device_picks_cuda_when_there_is_one(name, monkeypatch):
    assert resolve_device(name) == "cpu"  # this machine has no GPU
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device(name) == "cuda"


def test_hidden_cache_identity_names_the_precision(tiny):
    embedder = make_embedder("hidden", str(tiny))
    assert embedder.identity()["dtype"] == "float32"
    # gem-input computes in float64 from the stored table on any device: no precision entry.
    assert "dtype" not in make_embedder("gem-input", str(tiny)).identity()


def test_prediction_shards_of_bf16_and_float32_runs_are_apart(tiny, screens):
    steps = [predict.Step(i, s.id, s.task, s.image) for i, s in enumerate(screens)]
    keys = {
        dtype: predict.cache_key(tiny, "{task}", 16, steps, dtype)
        for dtype in ("bfloat16", "float32")
    }
    assert keys["bfloat16"] != keys["float32"]
