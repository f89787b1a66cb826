"""Qwen2-VL-family checkpoints: processors without torchvision, prompts, image-token counts.

transformers 5 builds a Qwen2-VL processor from three parts: tokenizer, image processor and
video processor. The video processor needs torchvision, which gemviz does not install, so
``AutoProcessor.from_pretrained`` fails on such a checkpoint. :func:`load_vl_processor` builds
the same processor class from the tokenizer and the PIL image processor only (video input is
the one thing it cannot do), and uses ``AutoProcessor`` as is where torchvision exists.

:func:`image_token_count` applies the image processor's own resize rule (``smart_resize``) to
an image size, so the number of ``<|image_pad|>`` tokens a screenshot gets is known without
decoding or resizing its pixels.
"""

from __future__ import annotations

import functools
import importlib
import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gemviz.data.errors import GemvizError
from gemviz.data.files import open_image

# model_type -> (module, processor class) of the families whose prompt layout gemviz knows.
VL_PROCESSORS: dict[str, tuple[str, str]] = {
    "qwen2_vl": ("transformers.models.qwen2_vl.processing_qwen2_vl", "Qwen2VLProcessor"),
    "qwen2_5_vl": ("transformers.models.qwen2_5_vl.processing_qwen2_5_vl", "Qwen2_5_VLProcessor"),
}


def read_config(folder: str | Path) -> dict[str, Any]:
    """The checkpoint's ``config.json`` as a dict.

    Raises:
        GemvizError: The folder or its config.json is missing or not valid JSON.
    """
    path = Path(folder) / "config.json"
    if not path.is_file():
        raise GemvizError(
            "not a model folder (no config.json); pass a local checkpoint folder or 'default'",
            file=str(folder),
        )
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise GemvizError(f"cannot read config.json: {exc}", file=str(path)) from exc


def is_vision_language(config: dict[str, Any]) -> bool:
    """True for a checkpoint with a vision tower (Qwen2-VL and its fine-tunes)."""
    return "vision_config" in config or config.get("model_type") in VL_PROCESSORS


def text_config(config: dict[str, Any]) -> dict[str, Any]:
    """The language-model part of a config (nested ``text_config`` or the flat legacy layout)."""
    nested = config.get("text_config")
    merged = dict(config)
    if isinstance(nested, dict):
        merged.update(nested)
    return merged


def _image_only_class(base: type) -> type:
    """A subclass of ``base`` whose parts are only the image processor and tokenizer."""
    from transformers.processing_utils import ProcessorMixin

    def __init__(self, image_processor=None, tokenizer=None, chat_template=None, **kwargs):  # noqa: N807
        self.image_token = getattr(tokenizer, "image_token", None) or "<|image_pad|>"
        self.video_token = getattr(tokenizer, "video_token", None) or "<|video_pad|>"
        self.image_token_id = getattr(tokenizer, "image_token_id", None) or (
            tokenizer.convert_tokens_to_ids(self.image_token)
        )
        self.video_token_id = getattr(tokenizer, "video_token_id", None) or (
            tokenizer.convert_tokens_to_ids(self.video_token)
        )
        ProcessorMixin.__init__(self, image_processor, tokenizer, chat_template=chat_template)

    def _process_images(self, images, **kwargs):
        # Screenshots are resized and cut into patches one per thread; the processor's own
        # loop does them one after another, which leaves a GPU waiting for the CPU.
        from transformers.image_utils import make_flat_list_of_images

        flat = make_flat_list_of_images(images)
        if len(flat) < 2:
            return base._process_images(self, images, **kwargs)
        parts = list(image_workers().map(lambda img: self.image_processor([img], **kwargs), flat))
        merged = type(parts[0])({key: _concat([p[key] for p in parts]) for key in parts[0]})
        replacements = [
            self.replace_image_token(merged, image_idx=i, **kwargs) for i in range(len(flat))
        ]
        return merged, replacements

    return type(
        f"ImageOnly{base.__name__}",
        (base,),
        {"__init__": __init__, "_process_images": _process_images},
    )


def _concat(values: list):
    """Join per-image processor outputs along the first axis (tensors, arrays or lists)."""
    first = values[0]
    if isinstance(first, np.ndarray):
        return np.concatenate(values)
    if isinstance(first, list):
        return [x for v in values for x in v]
    import torch

    return torch.cat(values)


@functools.cache
def image_workers() -> ThreadPoolExecutor:
    """Threads that decode and resize screenshots (Pillow and NumPy release the GIL there)."""
    return ThreadPoolExecutor(
        max_workers=max(1, min(8, os.cpu_count() or 1)), thread_name_prefix="gemviz-image"
    )


def load_screenshots(paths: list[str | Path]) -> list:
    """Decode screenshots to RGB ``PIL`` images, several at a time.

    Raises:
        GemvizError: A file is missing or cannot be decoded (the message names it).
    """
    return list(image_workers().map(_load_rgb, paths))


def _load_rgb(path: str | Path):
    try:
        with open_image(path) as img:
            return img.convert("RGB")
    except GemvizError:
        raise
    except (OSError, ValueError) as exc:  # e.g. a truncated file found only when decoding
        raise GemvizError(f"cannot read the screenshot ({exc})", file=str(path)) from exc


@functools.cache
def _processor_class(model_type: str) -> type:
    module, name = VL_PROCESSORS.get(model_type, VL_PROCESSORS["qwen2_vl"])
    return _image_only_class(getattr(importlib.import_module(module), name))


def load_vl_processor(folder: str | Path, trust_remote_code: bool = False):
    """Load a Qwen2-VL-family processor from a local folder, with the PIL image backend.

    Args:
        folder: The checkpoint folder (tokenizer files, preprocessor_config.json).
        trust_remote_code: Passed to transformers; off unless the user asks.

    Returns:
        A processor that takes ``text=`` and ``images=`` like the model's own.

    Raises:
        GemvizError: The folder lacks the tokenizer or image processor files.
    """
    from transformers import AutoImageProcessor, AutoTokenizer

    folder = Path(folder)
    config = read_config(folder)
    try:
        tokenizer = AutoTokenizer.from_pretrained(folder, trust_remote_code=trust_remote_code)
        image_processor = AutoImageProcessor.from_pretrained(
            folder, backend="pil", trust_remote_code=trust_remote_code
        )
    except (OSError, ValueError) as exc:
        raise GemvizError(f"cannot load the processor: {exc}", file=str(folder)) from exc
    template = getattr(tokenizer, "chat_template", None)
    jinja = folder / "chat_template.jinja"
    if jinja.is_file():
        template = jinja.read_text(encoding="utf-8")
    elif (folder / "chat_template.json").is_file():
        template = json.loads((folder / "chat_template.json").read_text(encoding="utf-8")).get(
            "chat_template", template
        )
    cls = _processor_class(str(config.get("model_type", "qwen2_vl")))
    return cls(image_processor=image_processor, tokenizer=tokenizer, chat_template=template)


@dataclass(frozen=True)
class ImageGeometry:
    """The image processor's settings that decide how many tokens an image becomes."""

    patch_size: int = 14
    merge_size: int = 2
    min_pixels: int = 56 * 56
    max_pixels: int = 28 * 28 * 1280

    @classmethod
    def from_folder(cls, folder: str | Path) -> ImageGeometry:
        """Read ``preprocessor_config.json`` of a checkpoint (defaults where a key is absent)."""
        path = Path(folder) / "preprocessor_config.json"
        if not path.is_file():
            raise GemvizError(
                "no preprocessor_config.json; a vision-language checkpoint needs one",
                file=str(folder),
            )
        cfg = json.loads(path.read_text(encoding="utf-8"))
        size = cfg.get("size") or {}
        return cls(
            patch_size=int(cfg.get("patch_size", cls.patch_size)),
            merge_size=int(cfg.get("merge_size", cls.merge_size)),
            min_pixels=int(cfg.get("min_pixels") or size.get("shortest_edge") or cls.min_pixels),
            max_pixels=int(cfg.get("max_pixels") or size.get("longest_edge") or cls.max_pixels),
        )


def image_token_count(width: int, height: int, geometry: ImageGeometry) -> int:
    """Number of image placeholder tokens for an image of ``width`` x ``height`` pixels.

    The image processor resizes each side to a multiple of ``patch_size * merge_size`` within
    the pixel budget, cuts ``patch_size`` patches and merges ``merge_size**2`` of them into one
    token; this repeats that arithmetic.

    Raises:
        GemvizError: The aspect ratio is beyond what the processor accepts (over 200:1).
    """
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import smart_resize

    factor = geometry.patch_size * geometry.merge_size
    try:
        h, w = smart_resize(
            height, width, factor, min_pixels=geometry.min_pixels, max_pixels=geometry.max_pixels
        )
    except ValueError as exc:
        raise GemvizError(f"the image of {width}x{height} pixels cannot be used: {exc}") from exc
    return (h // geometry.patch_size) * (w // geometry.patch_size) // geometry.merge_size**2


def chat_text(processor_or_tokenizer, prompt: str, with_image: bool) -> str:
    """The model's chat-formatted text for one user turn, ready for generation.

    With ``with_image`` the user turn starts with the image entry, which the template writes
    as one image placeholder between the vision markers.
    """
    content: list[dict[str, str]] = [{"type": "image"}] if with_image else []
    content.append({"type": "text", "text": prompt})
    return processor_or_tokenizer.apply_chat_template(
        [{"role": "user", "content": content}], tokenize=False, add_generation_prompt=True
    )


def load_vl_model(folder: str | Path, device: str, dtype, trust_remote_code: bool = False):
    """Load the full vision-language model for inference (``eval`` mode, on ``device``)."""
    from transformers import AutoModelForImageTextToText

    model = AutoModelForImageTextToText.from_pretrained(
        folder, dtype=dtype, trust_remote_code=trust_remote_code
    )
    return model.to(device).eval()
