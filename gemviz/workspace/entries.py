"""What ``workspace.json`` records: the splitter and model entries, names and upload paths."""

from __future__ import annotations

import hashlib
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

from gemviz.data.io import atomic_path, write_bytes_atomic
from gemviz.data.paths import cache_dir

WORKSPACE_FILE = "workspace.json"
UPLOADS = "uploads"
# Longest stored upload name: file systems refuse names over 255 bytes.
MAX_UPLOAD_NAME = 120


def upload_name(filename: str) -> str:
    """A safe file name for an upload (at most :data:`MAX_UPLOAD_NAME` characters)."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(str(filename)).name).lstrip(".") or "upload"
    if len(safe) > MAX_UPLOAD_NAME:
        stem, suffix = os.path.splitext(safe)
        suffix = suffix[:16]
        safe = stem[: MAX_UPLOAD_NAME - len(suffix)] + suffix
    return safe


def store_upload(folder: Path, filename: str, data: bytes | BinaryIO) -> Path:
    """Write an upload to ``folder/<content hash>/<safe name>`` and return that path.

    The hash keeps two different files of one name apart; the same file lands in one place.
    """
    safe = upload_name(filename)
    if isinstance(data, (bytes, bytearray, memoryview)):
        digest = hashlib.sha256(bytes(data)).hexdigest()[:12]
        return write_bytes_atomic(folder / digest / safe, bytes(data))
    if hasattr(data, "seek"):
        data.seek(0)
    sha = hashlib.sha256()
    staged = folder / ".incoming" / f"{os.getpid()}-{time.time_ns()}-{safe}"
    with atomic_path(staged) as tmp, open(tmp, "wb") as fh:
        while chunk := data.read(1 << 20):
            sha.update(chunk)
            fh.write(chunk)
    dest = folder / sha.hexdigest()[:12] / safe
    dest.parent.mkdir(parents=True, exist_ok=True)
    os.replace(staged, dest)
    return dest


def workspaces_root() -> Path:
    """The folder holding every workspace folder."""
    return cache_dir("workspaces")


def slugify(name: str) -> str:
    """A folder-safe version of ``name`` (lower case letters, digits and dashes)."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug[:48] or "workspace"


def _abs(path: str | os.PathLike | None) -> str | None:
    # Absolute paths keep the workspace valid whatever folder the app is started from.
    return None if path in (None, "") else str(Path(path).expanduser().resolve())


# Name under which the output of the last finished scoring job is offered for partitioning.
LAST_JOB = "last scoring job"


@dataclass
class SplitterEntry:
    """One splitter of a workspace: a labeled test file and where its labels came from."""

    name: str
    labeled: str
    train_scores: str | None = None
    test_scores: str | None = None
    train_embeddings: str | None = None
    test_embeddings: str | None = None
    model: str | None = None
    embed_method: str | None = None
    partition: str | None = "gem"
    params: dict[str, Any] = field(default_factory=dict)

    def files(self) -> list[str]:
        """Every file this entry names."""
        return [
            p
            for p in (
                self.labeled,
                self.train_scores,
                self.test_scores,
                self.train_embeddings,
                self.test_embeddings,
            )
            if p
        ]


@dataclass
class ModelEntry:
    """One evaluated model of a workspace: its per-sample result file and how to read it.

    When the user's file needs mapping (match fields under other names, or predictions to
    match on the fly with a rule set), ``source`` is the user's file and ``results`` a
    normalized copy that gemviz derives from it inside the workspace (re-derived when the
    source changes); see :mod:`gemviz.workspace.models`.
    """

    name: str
    results: str
    predictions: str | None = None
    pred_field: str = "prediction"
    format: str = "auto"
    source: str | None = None
    type_field: str | None = None
    exact_field: str | None = None
    rules: str | None = None
    gt_field: str = "action"

    def files(self) -> list[str]:
        """Every file this entry names."""
        return [p for p in (self.results, self.predictions, self.source) if p]


class ScoreSource(NamedTuple):
    """Score (and, when present, embedding) files of a train/test pair."""

    train_scores: str
    test_scores: str
    train_embeddings: str | None = None
    test_embeddings: str | None = None

    def embeddings(self) -> tuple[str, str] | None:
        """The two embedding files, or ``None`` unless both exist."""
        pair = (self.train_embeddings, self.test_embeddings)
        return pair if all(p and Path(p).is_file() for p in pair) else None
