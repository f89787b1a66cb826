"""``sentence``: the CPU default, a sentence embedding of the task text.

The packaged all-MiniLM-L6-v2 (or any local text encoder) reads the task text alone, not the
prompt template; its last layer is averaged over the real tokens (attention mask) and the
vector scaled to unit length, which is how sentence-transformers uses that model.
"""

from __future__ import annotations

import numpy as np

from gemviz.data.errors import GemvizError
from gemviz.embed import qwen
from gemviz.embed.base import Embedder, Sample, masked_mean


class SentenceEmbedder(Embedder):
    """Mean-pooled, L2-normalised last layer of a text encoder over the task text."""

    name = "sentence"
    uses_template = False
    default_batch_size = 64

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if qwen.is_vision_language(qwen.read_config(self.folder)):
            raise GemvizError(
                "the sentence method needs a text encoder; use --model default, or gem-input / "
                "hidden with a vision-language model",
                file=str(self.folder),
            )

    def load(self) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(
            self.folder, trust_remote_code=self.trust_remote_code
        )
        self.net = (
            AutoModel.from_pretrained(self.folder, trust_remote_code=self.trust_remote_code)
            .to(self.device)
            .eval()
        )
        self._torch = torch

    def embed(self, batch: list[Sample]) -> np.ndarray:
        torch = self._torch
        enc = self.tokenizer(
            [s.task for s in batch], padding=True, truncation=True, return_tensors="pt"
        ).to(self.device)
        with torch.inference_mode():
            hidden = self.net(**enc).last_hidden_state
        vec = torch.nn.functional.normalize(masked_mean(hidden, enc["attention_mask"]), dim=1)
        return vec.cpu().numpy()
