"""Read only the input-embedding table of a checkpoint from its safetensors files.

The ``gem-input`` embedding needs the rows of the embedding table and nothing else. Loading a
7B model to get them costs ~15 GB and tens of seconds; reading the one tensor from the
safetensors shard that holds it costs its own size (about 1 GB in bfloat16 for Qwen2-VL-7B)
and well under a second from a warm disk.
"""

from __future__ import annotations

import json
from pathlib import Path

from safetensors import safe_open

from gemviz.data.errors import GemvizError

# Tensor names of the input embedding in common layouts, most specific first.
EMBEDDING_NAMES = (
    "model.language_model.embed_tokens.weight",
    "model.embed_tokens.weight",
    "language_model.model.embed_tokens.weight",
    "transformer.wte.weight",
    "embeddings.word_embeddings.weight",
    "bert.embeddings.word_embeddings.weight",
    "embed_tokens.weight",
)


def weight_files(folder: str | Path) -> dict[str, Path]:
    """Map each tensor name to the safetensors file holding it.

    Raises:
        GemvizError: The folder has no ``model.safetensors`` nor a sharded index.
    """
    folder = Path(folder)
    index = folder / "model.safetensors.index.json"
    if index.is_file():
        try:
            weight_map = json.loads(index.read_text(encoding="utf-8"))["weight_map"]
        except (OSError, KeyError, json.JSONDecodeError) as exc:
            raise GemvizError(f"cannot read the shard index: {exc}", file=str(index)) from exc
        return {name: folder / file for name, file in weight_map.items()}
    single = folder / "model.safetensors"
    if single.is_file():
        with safe_open(str(single), framework="pt") as fh:
            return {name: single for name in fh.keys()}  # noqa: SIM118 (safe_open is not a dict)
    raise GemvizError(
        "no safetensors weights (model.safetensors or model.safetensors.index.json); "
        "gem-input reads the embedding table from them",
        file=str(folder),
    )


def find_embedding_name(
    names: dict[str, Path], vocab_size: int | None = None, hidden_size: int | None = None
) -> str:
    """Pick the input-embedding tensor among ``names``.

    Known names are tried first; otherwise a 2-D ``*embed*`` tensor of shape
    (vocab_size, hidden_size) outside any vision tower.

    Raises:
        GemvizError: No tensor fits.
    """
    for name in EMBEDDING_NAMES:
        if name in names:
            return name
    if vocab_size and hidden_size:
        for name, file in names.items():
            if "embed" not in name or "visual" in name or "vision" in name:
                continue
            with safe_open(str(file), framework="pt") as fh:
                if list(fh.get_slice(name).get_shape()) == [vocab_size, hidden_size]:
                    return name
    raise GemvizError(
        "cannot find the input-embedding tensor in the checkpoint "
        f"(looked for {', '.join(EMBEDDING_NAMES[:3])}, ...)"
    )


def read_input_embeddings(
    folder: str | Path, vocab_size: int | None = None, hidden_size: int | None = None
):
    """Load the input-embedding table of a checkpoint, and nothing else.

    Args:
        folder: A checkpoint folder with safetensors weights.
        vocab_size, hidden_size: Expected shape, used when the tensor name is unusual.

    Returns:
        A torch tensor (vocab, hidden) in the stored dtype.

    Raises:
        GemvizError: No safetensors weights or no embedding tensor found.
    """
    names = weight_files(folder)
    name = find_embedding_name(names, vocab_size, hidden_size)
    with safe_open(str(names[name]), framework="pt") as fh:
        return fh.get_tensor(name)
