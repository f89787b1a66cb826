"""Where gemviz keeps derived files.

Everything gemviz derives (scores, embeddings, projections, workspaces, the demo) lives under
one cache folder: ``cache/`` beside the package by default, or the folder named by the
``GEMVIZ_CACHE`` environment variable. Deleting it loses nothing that cannot be rebuilt,
except workspace definitions.
"""

from __future__ import annotations

import os
from pathlib import Path

from gemviz.data.errors import GemvizError

REPO_ROOT = Path(__file__).resolve().parents[2]


def cache_root() -> Path:
    """The cache folder (created on first use).

    Raises:
        GemvizError: The folder cannot be created.
    """
    root = Path(os.environ.get("GEMVIZ_CACHE") or REPO_ROOT / "cache")
    _make(root)
    return root


def cache_dir(*parts: str) -> Path:
    """A sub-folder of the cache (created on first use).

    Raises:
        GemvizError: The folder cannot be created.
    """
    path = cache_root().joinpath(*parts)
    _make(path)
    return path


def _make(path: Path) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise GemvizError(
            f"cannot use the cache folder ({exc.strerror or exc}); set GEMVIZ_CACHE to a "
            "folder you can write to",
            file=str(path),
        ) from None
