"""Embeddings on disk: the ``.npz`` files ``score`` writes, and the resumable cache behind them.

Files
    :func:`save_embeddings` writes ``ids`` (str) and ``embeddings`` (float32) to an ``.npz``
    file atomically; :func:`load_embeddings` reads one back through :mod:`gemviz.data.files`
    (no pickle, shapes and values checked).

Cache and resume
    Each split's embeddings live in ``cache/scores/<key>/``, where ``key`` hashes the
    embedder's identity (model files, method, layer, prompt template) and the split's content
    (sample ids, tasks, screenshot paths and, where the method reads them, the screenshots'
    sizes and modification times). Every finished batch is saved at once as its own file
    (``part-*.npz``, temp file + rename), so an interrupted run (Ctrl-C, kill -9, CUDA
    out-of-memory) resumes after its last finished batch; when every sample is covered the
    parts are merged into ``embeddings.npz`` and a later run with the same inputs loads that
    file without loading any model.

Healing
    Cache files are fsynced before they are renamed into place. A cache file that cannot be
    loaded or does not fit (zero-length, truncated, corrupt, wrong shape, non-finite) is
    removed with a one-line notice on stderr and its samples are embedded again. A run holds
    ``<key>/.lock`` (``fcntl.flock``) while it works on an entry: a second run on the same
    inputs waits for the first, then loads its result; temporary files of killed runs are
    cleared under that lock.

Data parallel
    With ``shard=(rank, world)`` a process embeds only every ``world``-th sample (from
    ``rank``) of each split. All ranks write parts into the same cache folders; the process
    that finds all parts present merges them and writes the outputs (rank 0 waits for the
    others up to ``merge_timeout`` seconds). See the README for ``torchrun`` usage.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np

from gemviz.data.errors import GemvizError
from gemviz.data.files import load_embeddings_file, load_npz, notice
from gemviz.data.locks import file_lock
from gemviz.data.write import atomic_path
from gemviz.embed import Embedder, Sample
from gemviz.embed.base import release_cached_memory

Progress = Callable[[int, int, str], None]


def save_embeddings(path: str | os.PathLike, ids: Sequence[str], embeddings: np.ndarray) -> Path:
    """Write ``ids`` (str) and ``embeddings`` (float32) to an ``.npz`` file atomically."""
    with atomic_path(path, suffix=".npz") as tmp, open(tmp, "wb") as fh:
        np.savez(fh, ids=np.asarray(list(ids), dtype=str), embeddings=embeddings.astype(np.float32))
    return Path(path)


def load_embeddings(path: str | os.PathLike) -> tuple[list[str], np.ndarray]:
    """Read an embeddings file written by :func:`save_embeddings`.

    Returns:
        (sample ids, float32 array n x d).

    Raises:
        GemvizError: The file is missing or damaged, lacks ``ids``/``embeddings``, or they
            are not one row of finite numbers per id.
    """
    return load_embeddings_file(path)


def _dataset_digest(samples: Sequence[Sample], with_images: bool) -> str:
    digest = hashlib.sha256()
    for s in samples:
        digest.update(f"{s.id}\x00{s.task}\x00{s.image}\x00".encode())
        if with_images and s.image is not None:
            stat = s.image.stat()
            digest.update(f"{stat.st_size}:{stat.st_mtime_ns}\x00".encode())
    return digest.hexdigest()[:16]


def cache_key(embedder: Embedder, samples: Sequence[Sample]) -> str:
    """The cache folder name of a split embedded by ``embedder``."""
    text = json.dumps(
        {"embedder": embedder.identity(), "data": _dataset_digest(samples, embedder.needs_images)},
        sort_keys=True,
    )
    return hashlib.sha256(text.encode()).hexdigest()[:20]


# -- the cache entry of one split ------------------------------------------------------------


def _discard(path: Path, reason: str) -> None:
    """Remove a damaged cache file, saying so once."""
    path.unlink(missing_ok=True)
    notice(f"removed the damaged cache file {path} ({reason}); its samples are embedded again")


def _read_parts(folder: Path, n: int) -> tuple[np.ndarray | None, np.ndarray]:
    """Embeddings found in finished part files, and a mask of the positions they cover.

    A part that cannot be loaded, or whose arrays do not fit (positions out of range, row
    count or width not matching) is removed with a notice, so its samples are redone.
    """
    done = np.zeros(n, dtype=bool)
    out = None
    for part in sorted(folder.glob("part-*.npz")):
        try:
            data = load_npz(part, ("positions", "embeddings"), "cache part")
        except GemvizError as exc:
            if not part.exists():
                continue  # merged and removed by another process meanwhile
            _discard(part, exc.detail.split("; ")[-1])
            continue
        pos, emb = data["positions"], data["embeddings"]
        fits = (
            pos.ndim == 1
            and emb.ndim == 2
            and len(pos) == len(emb)
            and len(pos) > 0
            and np.issubdtype(pos.dtype, np.integer)
            and np.issubdtype(emb.dtype, np.floating)
            and pos.min() >= 0
            and pos.max() < n
            and (out is None or emb.shape[1] == out.shape[1])
        )
        if not fits:
            _discard(part, "its arrays do not fit this split")
            continue
        if out is None:
            out = np.zeros((n, emb.shape[1]), dtype=np.float32)
        out[pos] = emb
        done[pos] = True
    return out, done


def _load_final(final: Path, ids: list[str]) -> np.ndarray | None:
    """The merged embeddings of a cache entry, or None (a damaged file is removed)."""
    if not final.is_file():
        return None
    try:
        got, emb = load_embeddings(final)
    except GemvizError as exc:
        _discard(final, exc.detail.split("; ")[-1])
        return None
    if got != ids:
        _discard(final, "its sample ids do not match the split")
        return None
    return emb


@contextlib.contextmanager
def _entry_lock(folder: Path, shared: bool) -> Iterator[None]:
    """Hold ``folder/.lock`` while this process works on a cache entry.

    A single-process run takes the lock exclusively, so a second run on the same inputs waits
    (saying so), then finds the finished embeddings and loads them; data-parallel ranks share
    the lock with each other. Left-over temporary files of killed runs are cleared by whoever
    holds the lock exclusively.
    """
    lock = folder / ".lock"

    def waiting() -> None:
        notice(f"another gemviz run is embedding the same samples; waiting for it ({folder})")

    with file_lock(lock, shared=shared, on_wait=waiting):
        if not shared:
            for tmp in folder.glob(".*.tmp"):
                tmp.unlink(missing_ok=True)
        yield


def _write_part(folder: Path, positions: np.ndarray, emb: np.ndarray) -> None:
    name = f"part-{int(positions[0]):08d}-{len(positions):05d}.npz"
    with atomic_path(folder / name, suffix=".npz") as tmp, open(tmp, "wb") as fh:
        np.savez(fh, positions=positions.astype(np.int64), embeddings=emb.astype(np.float32))


def _is_oom(exc: BaseException) -> bool:
    import torch

    return isinstance(exc, torch.OutOfMemoryError) or "out of memory" in str(exc).lower()


def _embed_with_backoff(embedder: Embedder, batch: list[Sample]) -> tuple[np.ndarray, int]:
    """Embed ``batch``; on CUDA out-of-memory, split it in halves (down to one sample).

    Returns:
        The embeddings, and the size of the smallest piece that had to be run (``len(batch)``
        when nothing ran out of memory).
    """
    try:
        return embedder(batch), len(batch)
    except RuntimeError as exc:
        if not _is_oom(exc):
            raise
        if len(batch) == 1:
            raise GemvizError(
                f"out of memory on a single sample ('{batch[0].id}'); use a smaller model, fewer "
                "image pixels, or --device cpu"
            ) from exc
    # The halves run outside the ``except`` block: the exception's traceback holds the failed
    # pass's activations, which must be freed before the allocator can reuse their memory.
    release_cached_memory()
    half = len(batch) // 2
    first, fit_first = _embed_with_backoff(embedder, batch[:half])
    second, fit_second = _embed_with_backoff(embedder, batch[half:])
    return np.concatenate([first, second]), min(fit_first, fit_second)


class ProgressCounter:
    """Progress across both splits, and how many samples went through the model."""

    def __init__(self, total: int, progress: Progress | None) -> None:
        self.total, self.done, self.embedded, self.progress = total, 0, 0, progress

    def advance(self, n: int, stage: str) -> None:
        self.done += n
        if self.progress is not None:
            self.progress(self.done, self.total, stage)


def embed_split(
    embedder: Embedder,
    samples: Sequence[Sample],
    folder: Path,
    *,
    batch_size: int,
    counter: ProgressCounter,
    stage: str,
    shard: tuple[int, int] | None = None,
) -> np.ndarray | None:
    """Embed one split into ``folder`` with resume; returns the embeddings when complete.

    Returns:
        float32 array (len(samples), dim) in sample order, or None when other ranks' parts
        are still missing.
    """
    with _entry_lock(folder, shared=shard is not None):
        return _embed_split(
            embedder,
            samples,
            folder,
            batch_size=batch_size,
            counter=counter,
            stage=stage,
            shard=shard,
        )


def _embed_split(
    embedder: Embedder,
    samples: Sequence[Sample],
    folder: Path,
    *,
    batch_size: int,
    counter: ProgressCounter,
    stage: str,
    shard: tuple[int, int] | None,
) -> np.ndarray | None:
    final = folder / "embeddings.npz"
    ids = [s.id for s in samples]
    emb = _load_final(final, ids)
    if emb is not None:
        if shard is None:  # parts left by a run killed between merging and cleaning up
            for part in folder.glob("part-*.npz"):
                part.unlink(missing_ok=True)
        counter.advance(len(samples), stage)
        return emb
    n = len(samples)
    _, done = _read_parts(folder, n)
    # Similar lengths in one batch keep padding small; the order is fixed by the data alone,
    # so every rank and every resumed run sees the same one.
    order = np.asarray(
        sorted(range(n), key=lambda i: (embedder.length_hint(samples[i]), i)), dtype=np.int64
    )
    if shard is not None:
        order = order[shard[0] :: shard[1]]
    counter.advance(int(done.sum()) if shard is None else int(done[order].sum()), stage)
    todo = order[~done[order]]
    start = 0
    while start < len(todo):
        positions = todo[start : start + batch_size]
        upcoming = todo[start + batch_size : start + 2 * batch_size]
        if len(upcoming):
            embedder.prefetch([samples[i] for i in upcoming])
        emb, fitted = _embed_with_backoff(embedder, [samples[i] for i in positions])
        # Samples come shortest first, so a size that ran out of memory once would again:
        # the rest of the split runs at the size that fitted.
        batch_size = min(batch_size, fitted)
        _write_part(folder, positions, emb)
        counter.embedded += len(positions)
        counter.advance(len(positions), stage)
        start += len(positions)
    emb, done = _read_parts(folder, n)
    if not done.all():
        if shard is None:
            # Only a part that vanished or was damaged after it was written gets here.
            raise GemvizError(
                f"{int((~done).sum())} embedding(s) went missing from the cache while this run "
                f"wrote them ({folder}); run the command again"
            )
        # Another rank may have merged meanwhile.
        return _load_final(final, ids) if final.is_file() else None
    save_embeddings(final, ids, emb)
    for part in folder.glob("part-*.npz"):
        part.unlink(missing_ok=True)
    return emb
