"""A training set's profile: size, turns, tool calls, length, duplicates and diversity.

Per set, over its conversations (each record's every message, tool calls written as JSON,
:func:`gemviz.data.tool_calls.full_text`):

* ``conversations``; ``user_turns_mean`` and ``tool_calls_mean`` per conversation;
* ``chars_mean``/``chars_sd`` and ``tokens_mean``/``tokens_sd``: length in characters and in
  tokens of a local tokenizer (``tokenizer.json`` in a model folder; by default the packaged
  all-MiniLM-L6-v2's, named in ``tokenizer``), without truncation or special tokens;
* ``exact_duplicates``: conversations whose full text repeats an earlier one's;
* ``near_duplicates``: conversations whose nearest other conversation in the embedding space
  lies within :data:`NEAR_DISTANCE` (cosine similarity of at least 0.995), exact duplicates
  included;
* ``diversity``: the mean cosine distance between two different conversations' embeddings,
  ``1 - mean cos(y_i, y_j)`` over all pairs ``i != j`` (0: all alike; about 1: unrelated),
  computed exactly from the sum of the unit embeddings.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
from tokenizers import Tokenizer

from gemviz.data.errors import GemvizError
from gemviz.data.tool_calls import called_functions, full_text, user_turns
from gemviz.embed.base import DEFAULT_MODEL, resolve_model
from gemviz.scoring.training import EmbeddedFile
from gemviz.splitters.nearest import scan, unit_rows

PROFILE_COLUMNS = [
    "train_set", "conversations", "user_turns_mean", "tool_calls_mean", "chars_mean",
    "chars_sd", "tokens_mean", "tokens_sd", "tokenizer", "exact_duplicates", "near_duplicates",
    "diversity",
]  # fmt: skip
#: Embedding distance under which two conversations are near duplicates (cos >= 0.995).
NEAR_DISTANCE = 0.1
DEFAULT_TOKENIZER_LABEL = "all-MiniLM-L6-v2 (packaged model's tokenizer)"


def load_tokenizer(folder: str | os.PathLike | None = None):
    """A ``tokenizers.Tokenizer`` from ``folder/tokenizer.json`` (default: the packaged model's).

    Returns:
        ``(tokenizer, label)``; truncation and padding are switched off.

    Raises:
        GemvizError: No ``tokenizer.json`` in the folder, or an unreadable one.
    """
    if folder is None:
        path, label = resolve_model(DEFAULT_MODEL), DEFAULT_TOKENIZER_LABEL
    else:
        path, label = Path(folder).expanduser(), Path(folder).name
    file = path / "tokenizer.json"
    if not file.is_file():
        raise GemvizError("no tokenizer.json in this folder; give a local model folder",
                          file=str(folder or path))  # fmt: skip
    try:
        tok = Tokenizer.from_file(str(file))
    except Exception as exc:  # the Rust library raises its own exception type
        raise GemvizError(f"unreadable tokenizer ({exc})", file=str(file)) from None
    tok.no_truncation()
    tok.no_padding()
    return tok, label


def diversity(embeddings: np.ndarray) -> float:
    """Mean cosine distance over all pairs of different rows (NaN for fewer than 2 rows)."""
    y = unit_rows(embeddings, "embeddings")
    n = len(y)
    if n < 2:
        return float("nan")
    total = y.sum(axis=0)
    mean_cos = (float(total @ total) - n) / (n * (n - 1))
    return 1.0 - mean_cos


def near_duplicates(embeddings: np.ndarray, within: float = NEAR_DISTANCE) -> int:
    """How many rows have another row within distance ``within``."""
    y = unit_rows(embeddings, "embeddings")
    if len(y) < 2:
        return 0
    return int((scan(y, y, 1, exclude_self=True).distances[:, 0] <= within).sum())


def profile_row(name: str, train: EmbeddedFile, tokenizer, label: str) -> dict[str, object]:
    """The profile of one training set (see the module notes)."""
    texts = [full_text(r) for r in train.records]
    chars = np.array([len(t) for t in texts], dtype=float)
    tokens = np.array([len(e.ids) for e in tokenizer.encode_batch(texts, add_special_tokens=False)])
    seen: set[str] = set()
    dupes = 0
    for t in texts:
        dupes += t in seen
        seen.add(t)
    return {
        "train_set": name,
        "conversations": len(texts),
        "user_turns_mean": float(np.mean([user_turns(r) for r in train.records])),
        "tool_calls_mean": float(np.mean([len(called_functions(r)) for r in train.records])),
        "chars_mean": float(chars.mean()),
        "chars_sd": float(chars.std(ddof=1)) if len(chars) > 1 else float("nan"),
        "tokens_mean": float(tokens.mean()),
        "tokens_sd": float(tokens.std(ddof=1)) if len(tokens) > 1 else float("nan"),
        "tokenizer": label,
        "exact_duplicates": dupes,
        "near_duplicates": near_duplicates(train.embeddings),
        "diversity": diversity(train.embeddings),
    }


def profile_rows(
    sets: Mapping[str, EmbeddedFile], tokenizer_folder: str | os.PathLike | None = None
) -> pd.DataFrame:
    """One profile row per training set (columns :data:`PROFILE_COLUMNS`)."""
    tokenizer, label = load_tokenizer(tokenizer_folder)
    rows = [profile_row(name, s, tokenizer, label) for name, s in sets.items()]
    return pd.DataFrame(rows, columns=PROFILE_COLUMNS)
