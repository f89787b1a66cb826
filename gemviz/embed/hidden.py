"""``hidden``: the mean of one layer's hidden states over the input tokens.

Unlike ``gem-input`` this runs the whole model, vision encoder included, so the screenshot's
content counts. Layer 0 is the input embedding output, layer N the last decoder layer (the
default, also written -1). Batches are padded with an attention mask that excludes the padding
from the mean; :mod:`gemviz.scoring.store` orders samples by
:meth:`HiddenEmbedder.length_hint` so each batch holds prompts of similar length and little padding. On a GPU the model runs in
bfloat16.
"""

from __future__ import annotations

import numpy as np

from gemviz.data.errors import GemvizError
from gemviz.embed import qwen
from gemviz.embed.base import Embedder, Sample, auto_dtype, masked_mean
from gemviz.embed.gem_input import image_size


class HiddenEmbedder(Embedder):
    """Mean over input tokens of layer ``layer``'s hidden state from a full forward pass."""

    name = "hidden"
    uses_layer = True
    default_batch_size = 8

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.config = qwen.read_config(self.folder)
        self.vision = qwen.is_vision_language(self.config)
        self.needs_images = self.vision
        n_layers = int(qwen.text_config(self.config).get("num_hidden_layers", 0) or 0)
        layer = -1 if self.layer is None else int(self.layer)
        if n_layers and not -n_layers - 1 <= layer <= n_layers:
            raise GemvizError(
                f"--layer {layer} is out of range; this model has layers 0..{n_layers} "
                "(0 = input embeddings, -1 = last)"
            )
        # Normalise so that -1 and N share a cache entry.
        self.layer = layer % (n_layers + 1) if n_layers else layer
        if self.vision:
            self.geometry = qwen.ImageGeometry.from_folder(self.folder)

    def load(self) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer

        dtype = auto_dtype(self.device)
        if self.vision:
            self.processor = qwen.load_vl_processor(self.folder, self.trust_remote_code)
            self.net = qwen.load_vl_model(self.folder, self.device, dtype, self.trust_remote_code)
        else:
            self.tokenizer = AutoTokenizer.from_pretrained(
                self.folder, trust_remote_code=self.trust_remote_code
            )
            self.net = (
                AutoModel.from_pretrained(
                    self.folder, dtype=dtype, trust_remote_code=self.trust_remote_code
                )
                .to(self.device)
                .eval()
            )
        self._torch = torch

    def length_hint(self, sample: Sample) -> int:
        # Characters of the task plus the screenshot's image tokens, without loading pixels.
        hint = len(sample.task)
        if self.vision and sample.image is not None:
            try:
                width, height = image_size(sample.image)
                hint += 4 * qwen.image_token_count(width, height, self.geometry)
            except GemvizError:
                pass
        return hint

    def inputs(self, batch: list[Sample]):
        """The padded model inputs of a batch (on the model's device)."""
        prompts = [self.prompt(s.task) for s in batch]
        if not self.vision:
            enc = self.tokenizer(prompts, padding=True, truncation=True, return_tensors="pt")
            return enc.to(self.device)
        from gemviz.data.inputs import open_image

        texts = [qwen.chat_text(self.processor, p, with_image=True) for p in prompts]
        images = []
        for s in batch:
            try:
                with open_image(s.image) as img:
                    images.append(img.convert("RGB"))
            except GemvizError:
                raise
            except (OSError, ValueError) as exc:
                raise GemvizError(f"cannot read the screenshot ({exc})", file=str(s.image)) from exc
        enc = self.processor(text=texts, images=images, padding=True, return_tensors="pt")
        return enc.to(self.device)

    def embed(self, batch: list[Sample]) -> np.ndarray:
        torch = self._torch
        enc = self.inputs(batch)
        with torch.inference_mode():
            out = self.net(**enc, output_hidden_states=True)
        hidden = out.hidden_states[self.layer]
        return masked_mean(hidden, enc["attention_mask"]).cpu().numpy()
