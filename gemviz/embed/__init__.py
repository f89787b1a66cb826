"""Embedding methods: each turns a batch of samples into one vector per sample.

``EMBEDDERS`` maps a method name to its class; :func:`make_embedder` builds one.

- ``gem-input``: the GEM paper's embedding, the mean input token embedding of the prompt
  (with image placeholder tokens on a vision-language model; pixels never enter).
- ``hidden``: the mean hidden state of one layer from a full forward pass (screenshot content
  counts on a vision-language model).
- ``sentence``: the CPU default, a normalised sentence embedding of the task text.
"""

from __future__ import annotations

from gemviz.data.errors import GemvizError
from gemviz.embed.base import DEFAULT_MODEL, Embedder, Sample
from gemviz.embed.gem_input import GemInputEmbedder
from gemviz.embed.hidden import HiddenEmbedder
from gemviz.embed.sentence import SentenceEmbedder

EMBEDDERS: dict[str, type[Embedder]] = {
    "gem-input": GemInputEmbedder,
    "hidden": HiddenEmbedder,
    "sentence": SentenceEmbedder,
}


def make_embedder(method: str, model: str = DEFAULT_MODEL, **options) -> Embedder:
    """Build the embedder of ``method`` for ``model`` (see :class:`Embedder` for options).

    Raises:
        GemvizError: Unknown method, or a model folder that does not fit it.
    """
    if method not in EMBEDDERS:
        raise GemvizError(f"unknown embedding method '{method}'; use one of {', '.join(EMBEDDERS)}")
    return EMBEDDERS[method](model, **options)


__all__ = ["DEFAULT_MODEL", "EMBEDDERS", "Embedder", "Sample", "make_embedder"]
