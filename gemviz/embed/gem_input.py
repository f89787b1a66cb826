"""``gem-input``: the GEM paper's embedding, the mean of the prompt's input token embeddings.

The vector is the average, over every token the model would read, of that token's row in the
input-embedding table (before any transformer layer). For a Qwen2-VL-family model the tokens
are the chat-formatted prompt with the screenshot's image placeholder tokens; every
placeholder is the same token, so the screenshot contributes only its *count*, which follows
from the image's width and height through the processor's resize rule. Pixels never enter:
two screenshots of the same size give the same vector for the same task.

Hence the fast path: read only the embedding table from the safetensors files, tokenize the
prompt once with a single placeholder, and weight the placeholder row by the token count. The
result equals ``model.get_input_embeddings()(processor(text, image).input_ids).mean(1)``.
"""

from __future__ import annotations

import numpy as np

from gemviz.data.errors import GemvizError
from gemviz.data.files import open_image
from gemviz.embed import qwen
from gemviz.embed.base import Embedder, Sample
from gemviz.embed.safetensors_table import read_input_embeddings


def image_size(path) -> tuple[int, int]:
    """(width, height) of an image, read from its header only.

    Raises:
        GemvizError: The file is missing or not an image.
    """
    try:
        with open_image(path) as img:
            return img.size
    except OSError as exc:
        raise GemvizError(f"cannot read the screenshot ({exc})", file=str(path)) from exc


class GemInputEmbedder(Embedder):
    """Mean input token embedding of the prompt (plus image placeholders on a VL model)."""

    name = "gem-input"
    default_batch_size = 256

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.config = qwen.read_config(self.folder)
        self.vision = qwen.is_vision_language(self.config)
        # Text models read only the task's prompt, so they need no screenshot.
        self.needs_images = self.vision

    def load(self) -> None:
        import torch
        from transformers import AutoTokenizer

        text = qwen.text_config(self.config)
        table = read_input_embeddings(self.folder, text.get("vocab_size"), text.get("hidden_size"))
        # Keep the table in its stored dtype (half the memory for bf16) and convert only the
        # rows a batch gathers.
        self.table = table.to(self.device)
        if self.vision:
            self.processor = qwen.load_vl_processor(self.folder, self.trust_remote_code)
            self.tokenizer = self.processor.tokenizer
            self.image_token_id = int(self.processor.image_token_id)
            self.geometry = qwen.ImageGeometry.from_folder(self.folder)
        else:
            self.tokenizer = AutoTokenizer.from_pretrained(
                self.folder, trust_remote_code=self.trust_remote_code
            )
        self._torch = torch

    def token_ids(self, sample: Sample) -> tuple[list[int], int]:
        """Token ids of the sample's prompt with one image placeholder, and the image token count.

        The processor would expand the single placeholder to ``count`` copies; callers weight
        it instead of materialising them. For a text model the count is 0.
        """
        prompt = self.prompt(sample.task)
        if not self.vision:
            return self.tokenizer(prompt)["input_ids"], 0
        if sample.image is None:
            raise GemvizError(
                f"sample '{sample.id}' has no screenshot; gem-input on a VL model needs it"
            )
        width, height = image_size(sample.image)
        count = qwen.image_token_count(width, height, self.geometry)
        ids = self.tokenizer(qwen.chat_text(self.processor, prompt, with_image=True))["input_ids"]
        return ids, count

    def embed(self, batch: list[Sample]) -> np.ndarray:
        torch = self._torch
        per_sample = [self.token_ids(s) for s in batch]
        # Prompts of one batch share most tokens (the template), so gather each distinct row
        # once and form every mean as a weighted sum of those rows.
        all_ids = np.concatenate([np.asarray(ids, dtype=np.int64) for ids, _ in per_sample])
        uniq, inverse = np.unique(all_ids, return_inverse=True)
        weights = np.zeros((len(batch), len(uniq)), dtype=np.float64)
        offset = 0
        for i, (ids, count) in enumerate(per_sample):
            w = np.ones(len(ids))
            if count:
                # The placeholder appears once in ``ids``; it stands for ``count`` tokens.
                w[np.asarray(ids) == self.image_token_id] = count
            np.add.at(weights[i], inverse[offset : offset + len(ids)], w)
            weights[i] /= w.sum()
            offset += len(ids)
        rows = self.table[torch.from_numpy(uniq).to(self.table.device)].double()
        means = torch.from_numpy(weights).to(rows.device) @ rows
        return means.float().cpu().numpy()
