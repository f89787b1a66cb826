"""A tiny Qwen2-VL checkpoint built offline, for tests and benchmarks.

:func:`make_tiny_qwen2vl` writes a folder that loads like a real Qwen2-VL checkpoint through
``Qwen2VLForConditionalGeneration.from_pretrained``:
random (seeded) weights in safetensors, a byte-level BPE tokenizer trained here on a few
sentences and carrying the Qwen2-VL special tokens and a chat template, and the image
processor settings. Nothing is downloaded and torchvision is not needed: the saved processor
processor is loaded with :func:`load_tiny_processor` (gemviz's own loader, which builds the
Qwen2-VL processor from the tokenizer and the PIL image processor, skipping the video
processor that needs torchvision).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

from gemviz.embed.qwen import load_vl_processor

SEED = 42

SPECIAL_TOKENS = (
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|vision_pad|>",
    "<|image_pad|>",
    "<|video_pad|>",
)

# The layout of Qwen2-VL's own template: a default system turn, then each message, with an
# image entry written as the vision markers around one image placeholder that the processor
# expands to the image's token count.
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if loop.first and message['role'] != 'system' %}"
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
    "{% endif %}"
    "<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}{% for content in message['content'] %}"
    "{% if content['type'] == 'image' or 'image' in content %}"
    "<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif content['type'] == 'text' %}{{ content['text'] }}"
    "{% endif %}{% endfor %}{% endif %}"
    "<|im_end|>\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)

_CORPUS = (
    "You are a GUI agent. Look at the screenshot and choose the next action for the task.",
    "CLICK <point>[[512, 300]]</point> TYPE [hello world] SCROLL [UP] SCROLL [DOWN]",
    "PRESS_BACK PRESS_HOME PRESS_ENTER COMPLETE IMPOSSIBLE LEFT RIGHT",
    "Open the settings app and turn on wifi. Search for a cheap flight to Paris.",
    "Add milk and eggs to the shopping list, then share it with Alice by email.",
    "0123456789 []<>(){},.;:!?'\"-_/ abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "Task: install the weather app. Previous actions: none. Answer with one action.",
)

# Small enough that a 1080x2400 screenshot gives at most 64 image tokens.
MIN_PIXELS = 4 * 28 * 28
MAX_PIXELS = 64 * 28 * 28

# The shapes of Qwen2-VL-7B-Instruct (and of its fine-tunes such as UI-TARS-7B), as keyword
# arguments of :func:`make_tiny_qwen2vl`: the text model, the 32-block vision tower and the
# image processor's pixel budget (a 1080x2400 screenshot becomes 3,354 image tokens).
QWEN2VL_7B = {
    "hidden_size": 3584,
    "intermediate_size": 18944,
    "num_layers": 28,
    "num_heads": 28,
    "num_kv_heads": 4,
    "vocab_size": 152064,
    "rope_theta": 1000000.0,
    "mrope_section": [16, 24, 24],
    "max_position_embeddings": 32768,
    "vision_embed_dim": 1280,
    "vision_depth": 32,
    "vision_heads": 16,
    "vision_mlp_ratio": 4,
    "min_pixels": 56 * 56,
    "max_pixels": 28 * 28 * 16384,
    "dtype": "bfloat16",
}


def _train_tokenizer(vocab_size: int = 400):
    """Train a byte-level BPE on the corpus; returns (vocab dict, merges list)."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(list(_CORPUS) * 4, trainer=trainer)
    data = json.loads(tok.to_str())
    vocab = data["model"]["vocab"]
    merges = [
        tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in data["model"]["merges"]
    ]
    return vocab, merges


def make_tiny_tokenizer():
    """A ``Qwen2Tokenizer`` with the Qwen2-VL special tokens and chat template."""
    from transformers import Qwen2Tokenizer

    vocab, merges = _train_tokenizer()
    tokenizer = Qwen2Tokenizer(
        vocab=vocab,
        merges=merges,
        unk_token=None,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        additional_special_tokens=[
            t for t in SPECIAL_TOKENS if t not in ("<|endoftext|>", "<|im_end|>")
        ],
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def make_tiny_qwen2vl(
    folder: Path,
    *,
    hidden_size: int = 64,
    num_layers: int = 2,
    vocab_size: int | None = None,
    vision_embed_dim: int = 32,
    vision_depth: int = 1,
    dtype: str = "float32",
    seed: int = SEED,
    num_heads: int = 4,
    tie_embeddings: bool = False,
    max_pixels: int = MAX_PIXELS,
    min_pixels: int = MIN_PIXELS,
    intermediate_size: int | None = None,
    num_kv_heads: int | None = None,
    rope_theta: float = 10000.0,
    mrope_section: list[int] | None = None,
    max_position_embeddings: int = 4096,
    vision_heads: int = 2,
    vision_mlp_ratio: int = 2,
    device: str = "cpu",
    plain_text_head: bool = False,
) -> Path:
    """Build and save a tiny random-weight Qwen2-VL checkpoint with its processor.

    Args:
        folder: Where to save (created if missing).
        hidden_size: Text hidden size (a multiple of 16: 4 heads of at least 4 dims).
        num_layers: Number of text decoder layers.
        vocab_size: Rows of the embedding table; defaults to the tokenizer's size. A larger
            value (e.g. 152,064) makes a realistic-size table for benchmarks.
        vision_embed_dim: Width of the vision tower.
        vision_depth: Number of vision blocks.
        dtype: Storage dtype of the weights ("float32", "bfloat16", "float16").
        seed: Seed of the random weights.
        num_heads: Attention heads of the text model.
        tie_embeddings: Share the input embedding with the output head (halves the file
            size of a large-vocabulary checkpoint).
        max_pixels: Pixel budget of the image processor (Qwen2-VL-7B's own is 28*28*16384).
        min_pixels: Smallest pixel count the image processor resizes to.
        intermediate_size: Width of the text MLP (default twice ``hidden_size``).
        num_kv_heads: Key/value heads of the text attention (default 2, or ``num_heads``
            when that is odd).
        rope_theta: Base of the rotary position embedding.
        mrope_section: Split of the rotary half-dimension into temporal/height/width parts
            (default: about a third each).
        max_position_embeddings: Longest sequence the config declares.
        vision_heads: Attention heads of the vision tower.
        vision_mlp_ratio: MLP width of the vision tower over its embedding width.
        device: Where the weights are drawn ("cuda" builds a 7B-size model in seconds).
        plain_text_head: Zero the output-head rows of the special tokens and of the ids the
            tokenizer does not have, so greedy answers are decodable text that never stops
            early (benchmarks then time exactly ``max_new_tokens`` tokens per answer).

    Returns:
        ``folder``, which then loads with :func:`load_tiny_processor` (or
        ``gemviz.embed.qwen.load_vl_processor``) and
        ``Qwen2VLForConditionalGeneration.from_pretrained(folder)``.
    """
    import torch
    from transformers import Qwen2VLConfig, Qwen2VLForConditionalGeneration
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import (
        Qwen2VLImageProcessorPil,
    )

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tokenizer = make_tiny_tokenizer()
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS}
    n_vocab = vocab_size or len(tokenizer)
    heads = num_heads
    head_dim = hidden_size // heads
    # mrope splits the rotary half-dimension into temporal/height/width sections.
    half = head_dim // 2
    section = mrope_section or [half - 2 * (half // 3), half // 3, half // 3]
    if num_kv_heads is None:
        num_kv_heads = 2 if num_heads % 2 == 0 else num_heads
    config = Qwen2VLConfig(
        text_config={
            "vocab_size": n_vocab,
            "hidden_size": hidden_size,
            "intermediate_size": intermediate_size or hidden_size * 2,
            "num_hidden_layers": num_layers,
            "num_attention_heads": heads,
            "num_key_value_heads": num_kv_heads,
            "max_position_embeddings": max_position_embeddings,
            "rope_parameters": {
                "rope_type": "default",
                "rope_theta": rope_theta,
                "mrope_section": section,
            },
            "bos_token_id": ids["<|endoftext|>"],
            "eos_token_id": ids["<|im_end|>"],
            "pad_token_id": ids["<|endoftext|>"],
        },
        vision_config={
            "depth": vision_depth,
            "embed_dim": vision_embed_dim,
            "hidden_size": hidden_size,
            "mlp_ratio": vision_mlp_ratio,
            "num_heads": vision_heads,
            "patch_size": 14,
            "spatial_merge_size": 2,
            "temporal_patch_size": 2,
        },
        image_token_id=ids["<|image_pad|>"],
        video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"],
        vision_end_token_id=ids["<|vision_end|>"],
        tie_word_embeddings=tie_embeddings,
    )
    torch.manual_seed(seed)
    # Build directly in the storage dtype: a 152k x 3584 table is 2 GB in float32.
    previous = torch.get_default_dtype()
    torch.set_default_dtype(getattr(torch, dtype))
    try:
        with torch.device(device):
            model = Qwen2VLForConditionalGeneration(config).eval()
    finally:
        torch.set_default_dtype(previous)
    if plain_text_head:
        with torch.no_grad():
            head = model.get_output_embeddings().weight
            head[len(tokenizer) :] = 0
            head[[tokenizer.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS]] = 0
    model.generation_config.eos_token_id = ids["<|im_end|>"]
    model.generation_config.pad_token_id = ids["<|endoftext|>"]
    model.to(getattr(torch, dtype))
    model.save_pretrained(folder, safe_serialization=True)

    image_processor = Qwen2VLImageProcessorPil(min_pixels=min_pixels, max_pixels=max_pixels)
    tokenizer.save_pretrained(folder)
    image_processor.save_pretrained(folder)
    (folder / "chat_template.jinja").write_text(CHAT_TEMPLATE, encoding="utf-8")
    return folder


def load_tiny_processor(folder: Path):
    """Load the processor the way gemviz does: PIL image backend, no torchvision.

    ``AutoProcessor.from_pretrained`` cannot build a Qwen2-VL processor without torchvision in
    transformers 5 (its video processor needs it), so use this, i.e.
    :func:`gemviz.embed.qwen.load_vl_processor`.
    """
    return load_vl_processor(folder)


def make_screenshot(path: Path, size: tuple[int, int], seed: int = SEED) -> Path:
    """Write a PNG of ``size`` (width, height) with random blocks, like a busy screen.

    Args:
        path: Destination PNG file.
        size: (width, height) in pixels.
        seed: Seed of the colours.

    Returns:
        ``path``.
    """
    width, height = size
    rng = np.random.default_rng(seed)
    # Blocks of 8x8 pixels, upsampled: cheap to draw and still compressible.
    blocks = rng.integers(0, 256, size=((height + 7) // 8, (width + 7) // 8, 3), dtype=np.uint8)
    pixels = np.repeat(np.repeat(blocks, 8, axis=0), 8, axis=1)[:height, :width]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path, format="PNG")
    return path
