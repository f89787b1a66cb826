"""``hidden``: the mean of one layer's hidden states over the input tokens.

Unlike ``gem-input`` this runs the whole model, vision encoder included, so the screenshot's
content counts. Layer 0 is the input embedding output, layer N the last decoder layer (the
default, also written -1). Batches are padded with an attention mask that excludes the padding
from the mean; :mod:`gemviz.scoring.store` orders samples by :meth:`HiddenEmbedder.length_hint`
so each batch holds prompts of similar length and little padding. On a GPU the model runs in
bfloat16.

Only the wanted layer is kept: the forward pass runs the decoder without its output head (whose
logits, batch x tokens x vocabulary, would be the largest tensor of the pass), without a key/value
cache, and stops at the wanted layer instead of keeping every layer's hidden states.
"""

from __future__ import annotations

import inspect
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from gemviz.data.errors import GemvizError
from gemviz.embed import qwen
from gemviz.embed.base import Embedder, Sample, auto_dtype, masked_mean
from gemviz.embed.gem_input import image_size


class _LayerReachedError(Exception):
    """Raised by the layer hook once the wanted hidden state is captured, to skip the rest."""


def decoder_layers(net, n_layers: int):
    """The list of the language model's ``n_layers`` decoder layers, or None if not found."""
    import torch

    for name, module in net.named_modules():
        if (
            name.split(".")[-1] == "layers"
            and isinstance(module, torch.nn.ModuleList)
            and len(module) == n_layers
        ):
            return module
    return None


def _batch_key(batch: list[Sample]) -> tuple:
    return tuple((s.id, s.task, str(s.image)) for s in batch)


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
        # Prepare the next batch's inputs on a CPU thread while an accelerator runs this one
        # (on a CPU the two would only compete for the same cores).
        self.overlap_inputs = self.device != "cpu"
        self._ahead: dict[tuple, Any] = {}
        self._pool = None
        n_layers = int(qwen.text_config(self.config).get("num_hidden_layers", 0) or 0)
        self.n_layers = n_layers
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

    def identity(self) -> dict[str, Any]:
        # The forward pass's precision changes the vectors (bf16 on a GPU, float32 on a CPU:
        # about 0.5% apart), so a run on one never resumes from parts written on the other.
        return dict(super().identity(), dtype=str(auto_dtype(self.device)).replace("torch.", ""))

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
        # The decoder without the output head (a vision-language model keeps its vision tower
        # there); a bare text model has no head to begin with.
        self.base = self.net.model if hasattr(self.net, "lm_head") else self.net
        self.layers = decoder_layers(self.base, self.n_layers) if self.n_layers else None
        # A decoder would fill a key/value cache for generation that a single pass never reads.
        params = inspect.signature(self.base.forward).parameters
        self.forward_options = {"use_cache": False} if "use_cache" in params else {}
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

    def cpu_inputs(self, batch: list[Sample]):
        """The padded model inputs of a batch, on the CPU (screenshots decoded and resized)."""
        prompts = [self.prompt(s.task) for s in batch]
        if not self.vision:
            return self.tokenizer(prompts, padding=True, truncation=True, return_tensors="pt")
        texts = [qwen.chat_text(self.processor, p, with_image=True) for p in prompts]
        images = qwen.load_screenshots([s.image for s in batch])
        return self.processor(text=texts, images=images, padding=True, return_tensors="pt")

    def inputs(self, batch: list[Sample]):
        """The padded model inputs of a batch (on the model's device)."""
        return self._prepared(batch).to(self.device)

    def prefetch(self, batch: list[Sample]) -> None:
        """Start preparing ``batch`` on a CPU thread while the accelerator runs the current one.

        Decoding and resizing screenshots is CPU work that would otherwise leave the GPU idle
        between batches. Only one worker thread ever calls the processor: its tokenizer is not
        safe to use from two threads at once.
        """
        if not self.overlap_inputs:
            return
        self.ensure_loaded()
        key = _batch_key(batch)
        if key not in self._ahead:
            self._ahead[key] = self._worker().submit(self.cpu_inputs, batch)
        while len(self._ahead) > 2:  # batches that were never asked for (e.g. after OOM)
            self._ahead.pop(next(iter(self._ahead)))

    def _worker(self):
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gemviz-inputs")
        return self._pool

    def _prepared(self, batch: list[Sample]):
        future = self._ahead.pop(_batch_key(batch), None)
        if future is None:
            if not self.overlap_inputs:
                return self.cpu_inputs(batch)
            future = self._worker().submit(self.cpu_inputs, batch)
        return future.result()

    def embed(self, batch: list[Sample]) -> np.ndarray:
        torch = self._torch
        enc = self.inputs(batch)
        with torch.inference_mode():
            hidden = self.layer_output(enc)
            return masked_mean(hidden, enc["attention_mask"]).cpu().numpy()

    def layer_output(self, enc):
        """Hidden states of ``self.layer`` for a batch of model inputs (batch x tokens x width).

        Layer N is the decoder's output after its final norm; layer k < N is the input of
        decoder layer k, captured by a hook that then ends the pass.
        """
        if self.layers is None:
            out = self.base(**enc, **self.forward_options, output_hidden_states=True)
            return out.hidden_states[self.layer]
        if self.layer == len(self.layers):
            return self.base(**enc, **self.forward_options).last_hidden_state
        captured = []

        def grab(module, args, kwargs):
            captured.append(kwargs["hidden_states"] if "hidden_states" in kwargs else args[0])
            raise _LayerReachedError

        handle = self.layers[self.layer].register_forward_pre_hook(grab, with_kwargs=True)
        try:
            self.base(**enc, **self.forward_options)
        except _LayerReachedError:
            pass
        finally:
            handle.remove()
        return captured[0]
