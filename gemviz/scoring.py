"""Input scores: embed train and test samples, distance of each to the train centroid.

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
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gemviz.data import IMAGE, SCORE, TASK, sample_ids
from gemviz.embed import Embedder, Sample, make_embedder
from gemviz.errors import GemvizError
from gemviz.inputs import notice
from gemviz.io import atomic_path, read_records, write_json_atomic, write_records
from gemviz.paths import cache_dir

Progress = Callable[[int, int, str], None]

SPLITS = ("train", "test")
# The files score_files writes into its output folder.
OUTPUT_NAMES = (
    "train_inputscore.json",
    "test_inputscore.json",
    "train_embeddings.npz",
    "test_embeddings.npz",
    "skipped.json",
)


def euclidean(embeddings: np.ndarray, center: np.ndarray) -> np.ndarray:
    """Euclidean distance of each row to ``center``."""
    return np.linalg.norm(embeddings.astype(np.float64) - center, axis=1)


def cosine(embeddings: np.ndarray, center: np.ndarray) -> np.ndarray:
    """Cosine distance (1 - cosine similarity) of each row to ``center``."""
    x = embeddings.astype(np.float64)
    norms = np.linalg.norm(x, axis=1) * np.linalg.norm(center)
    return 1.0 - (x @ center) / np.where(norms > 0, norms, 1.0)


DISTANCES: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "euclidean": euclidean,
    "cosine": cosine,
}


def centroid(embeddings: np.ndarray) -> np.ndarray:
    """Mean of the rows (float64).

    Raises:
        GemvizError: There are no rows.
    """
    if len(embeddings) == 0:
        raise GemvizError("no train embeddings to take the centroid of")
    return embeddings.astype(np.float64).mean(axis=0)


def input_scores(
    train: np.ndarray, test: np.ndarray, distance: str = "euclidean"
) -> tuple[np.ndarray, np.ndarray]:
    """Distances of train and test embeddings to the train centroid.

    Raises:
        GemvizError: Unknown distance.
    """
    if distance not in DISTANCES:
        raise GemvizError(f"unknown distance '{distance}'; use one of {', '.join(DISTANCES)}")
    center = centroid(train)
    return DISTANCES[distance](train, center), DISTANCES[distance](test, center)


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
    from gemviz.inputs import load_embeddings_file

    return load_embeddings_file(path)


@dataclass
class ScoreOutput:
    """What :func:`score_files` wrote and how."""

    train_scores: Path
    test_scores: Path
    train_embeddings: Path
    test_embeddings: Path
    cache_keys: dict[str, str]
    embedded: int = 0  # samples that went through the model in this run
    cached: int = 0  # samples whose embeddings came from the cache
    skipped: list[dict[str, Any]] = field(default_factory=list)
    complete: bool = True  # False for a data-parallel rank that left the merge to another


# ----------------------------------------------------------------------------- samples


def _resolve_image(value: Any, image_root: Path | None) -> Path | None:
    if value is None or str(value).strip() == "":
        return None
    path = Path(str(value)).expanduser()
    if not path.is_absolute() and image_root is not None:
        path = image_root / path
    return path


def _problem(sample: Sample, needs_image: bool) -> str | None:
    if not sample.task.strip():
        return "empty task"
    if not needs_image:
        return None
    if sample.image is None:
        return "no image_path"
    if not sample.image.is_file():
        return f"screenshot not found: {sample.image}"
    from gemviz.inputs import open_image

    try:
        with open_image(sample.image) as img:
            img.size  # noqa: B018 (reads the header, which is the check)
    except (OSError, GemvizError) as exc:
        reason = exc.detail if isinstance(exc, GemvizError) else str(exc)
        return f"screenshot unreadable: {sample.image} ({reason})"
    return None


def _samples(
    records: list[dict[str, Any]], file: str, needs_image: bool, image_root: Path | None
) -> tuple[list[Sample], list[dict[str, Any]]]:
    """All samples of a file and the problems found (with row numbers)."""
    ids = sample_ids(records, file)
    samples, problems = [], []
    for row, (rec, sid) in enumerate(zip(records, ids, strict=True), start=1):
        task = rec.get(TASK)
        sample = Sample(
            sid, "" if task is None else str(task), _resolve_image(rec.get(IMAGE), image_root)
        )
        samples.append(sample)
        reason = _problem(sample, needs_image)
        if reason:
            problems.append({"file": file, "row": row, "id": sid, "reason": reason})
    return samples, problems


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


# ----------------------------------------------------------------------------- embedding


def _discard(path: Path, reason: str) -> None:
    """Remove a damaged cache file, saying so once."""
    path.unlink(missing_ok=True)
    notice(f"removed the damaged cache file {path} ({reason}); its samples are embedded again")


def _read_parts(folder: Path, n: int) -> tuple[np.ndarray | None, np.ndarray]:
    """Embeddings found in finished part files, and a mask of the positions they cover.

    A part that cannot be loaded, or whose arrays do not fit (positions out of range, row
    count or width not matching) is removed with a notice, so its samples are redone.
    """
    from gemviz.inputs import load_npz

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
    try:
        import fcntl
    except ImportError:  # not a POSIX system: runs are not coordinated
        yield
        return
    with open(folder / ".lock", "a+") as fh:
        mode = fcntl.LOCK_SH if shared else fcntl.LOCK_EX
        try:
            fcntl.flock(fh, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            notice(f"another gemviz run is embedding the same samples; waiting for it ({folder})")
            fcntl.flock(fh, mode)
        try:
            if not shared:
                for tmp in folder.glob(".*.tmp"):
                    tmp.unlink(missing_ok=True)
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _write_part(folder: Path, positions: np.ndarray, emb: np.ndarray) -> None:
    name = f"part-{int(positions[0]):08d}-{len(positions):05d}.npz"
    with atomic_path(folder / name, suffix=".npz") as tmp, open(tmp, "wb") as fh:
        np.savez(fh, positions=positions.astype(np.int64), embeddings=emb.astype(np.float32))


def _is_oom(exc: BaseException) -> bool:
    import torch

    return isinstance(exc, torch.OutOfMemoryError) or "out of memory" in str(exc).lower()


def _embed_with_backoff(embedder: Embedder, batch: list[Sample]) -> np.ndarray:
    """Embed ``batch``; on CUDA out-of-memory, split it in halves (down to one sample)."""
    try:
        return embedder(batch)
    except RuntimeError as exc:
        if not _is_oom(exc):
            raise
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()
        if len(batch) == 1:
            raise GemvizError(
                f"out of memory on a single sample ('{batch[0].id}'); use a smaller model, fewer "
                "image pixels, or --device cpu"
            ) from exc
        half = len(batch) // 2
        return np.concatenate(
            [
                _embed_with_backoff(embedder, batch[:half]),
                _embed_with_backoff(embedder, batch[half:]),
            ]
        )


class _Counter:
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
    counter: _Counter,
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
    counter: _Counter,
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
    for start in range(0, len(todo), batch_size):
        positions = todo[start : start + batch_size]
        emb = _embed_with_backoff(embedder, [samples[i] for i in positions])
        _write_part(folder, positions, emb)
        counter.embedded += len(positions)
        counter.advance(len(positions), stage)
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


# ----------------------------------------------------------------------------- files


def _check(problems: list[dict[str, Any]], skip_bad: bool, method: str, needs_images: bool) -> None:
    if not problems or skip_bad:
        return
    listed = "; ".join(
        f"{p['file']} row {p['row']} ('{p['id']}'): {p['reason']}" for p in problems[:5]
    )
    more = f" and {len(problems) - 5} more" if len(problems) > 5 else ""
    hint = " (use --image-root for relative image paths)" if needs_images else ""
    raise GemvizError(
        f"{len(problems)} sample(s) cannot be embedded with {method}{hint}: {listed}{more}. "
        "Fix them, or pass --skip-bad to leave them out."
    )


def score_files(
    *,
    model: str = "default",
    method: str = "sentence",
    train: str | os.PathLike,
    test: str | os.PathLike,
    out_dir: str | os.PathLike,
    prompt_template: str | os.PathLike | None = None,
    layer: int | None = None,
    distance: str = "euclidean",
    device: str | None = None,
    batch_size: int | None = None,
    image_root: str | os.PathLike | None = None,
    skip_bad: bool = False,
    trust_remote_code: bool = False,
    progress: Progress | None = None,
    shard: tuple[int, int] | None = None,
    merge_timeout: float = 0.0,
) -> ScoreOutput:
    """Embed the train and test records and write their input scores and embeddings.

    Args:
        model: ``"default"`` (packaged all-MiniLM-L6-v2) or a local checkpoint folder.
        method: A key of :data:`gemviz.embed.EMBEDDERS`.
        train, test: Record files with ``task`` and ``image_path`` (and optionally ``id``).
        out_dir: Receives ``train_inputscore.json``, ``test_inputscore.json``,
            ``train_embeddings.npz`` and ``test_embeddings.npz``.
        prompt_template: A template file with ``{task}``; None for the packaged one.
        layer: Layer for ``hidden`` (default: last).
        distance: ``"euclidean"`` or ``"cosine"``.
        device: "cpu"/"cuda"/...; None picks CUDA when available.
        batch_size: Samples per batch (None: the method's default); halved on CUDA OOM.
        image_root: Folder that relative ``image_path`` values are relative to.
        skip_bad: Leave out samples with an empty task or a missing/unreadable screenshot
            (listed in ``ScoreOutput.skipped`` and ``out_dir/skipped.json``) instead of failing.
        trust_remote_code: Allow code shipped with the checkpoint to run.
        progress: Called as ``progress(done, total, stage)`` after every batch.
        shard: ``(rank, world)`` for data-parallel runs; None embeds everything.
        merge_timeout: Seconds rank 0 waits for other ranks' parts before giving up.

    Returns:
        A :class:`ScoreOutput`; ``complete`` is False (and nothing is written) when a rank
        left the merge to rank 0.

    Raises:
        GemvizError: Unreadable inputs, bad samples (without ``skip_bad``), bad options.
    """
    if distance not in DISTANCES:
        raise GemvizError(f"unknown distance '{distance}'; use one of {', '.join(DISTANCES)}")
    if batch_size is not None and batch_size < 1:
        raise GemvizError("--batch-size must be at least 1")
    if shard is not None and not (shard[1] >= 1 and 0 <= shard[0] < shard[1]):
        raise GemvizError(f"bad shard {shard[0]}/{shard[1]}; use RANK/WORLD with 0 <= RANK < WORLD")
    from gemviz.embed.base import load_template
    from gemviz.safety import check_output_dir

    check_output_dir(out_dir, OUTPUT_NAMES, (train, test, prompt_template))
    template = load_template(prompt_template)
    embedder = make_embedder(
        method,
        model,
        prompt_template=template,
        layer=layer,
        device=device,
        trust_remote_code=trust_remote_code,
    )
    root = Path(image_root).expanduser() if image_root is not None else None
    records, samples, problems = {}, {}, []
    for split, path in zip(SPLITS, (train, test), strict=True):
        records[split] = read_records(path)
        samples[split], found = _samples(records[split], str(path), embedder.needs_images, root)
        problems.extend(dict(p, split=split) for p in found)
    _check(problems, skip_bad, method, embedder.needs_images)
    bad = {(p["split"], p["row"]) for p in problems}
    for split in SPLITS:
        keep = [i for i in range(len(samples[split])) if (split, i + 1) not in bad]
        if not keep:
            raise GemvizError(f"no {split} sample is left to embed after skipping bad ones")
        records[split] = [records[split][i] for i in keep]
        samples[split] = [samples[split][i] for i in keep]

    counter = _Counter(sum(len(s) for s in samples.values()), progress)
    size = batch_size or embedder.default_batch_size
    keys, emb = {}, {}
    for split in SPLITS:
        keys[split] = cache_key(embedder, samples[split])
        folder = cache_dir("scores", keys[split])
        emb[split] = embed_split(
            embedder,
            samples[split],
            folder,
            batch_size=size,
            counter=counter,
            stage=f"embedding {split}",
            shard=shard,
        )
    if shard is not None and shard[0] == 0:
        deadline = time.monotonic() + merge_timeout
        while any(e is None for e in emb.values()) and time.monotonic() < deadline:
            time.sleep(min(5.0, max(0.1, merge_timeout / 20)))
            for split in SPLITS:
                if emb[split] is None:
                    # No todo left for this rank: this only merges once the others finished.
                    emb[split] = embed_split(
                        embedder,
                        samples[split],
                        cache_dir("scores", keys[split]),
                        batch_size=size,
                        counter=_Counter(0, None),
                        stage="merge",
                        shard=shard,
                    )
    out = Path(out_dir)
    result = ScoreOutput(
        train_scores=out / "train_inputscore.json",
        test_scores=out / "test_inputscore.json",
        train_embeddings=out / "train_embeddings.npz",
        test_embeddings=out / "test_embeddings.npz",
        cache_keys=keys,
        embedded=counter.embedded,
        cached=counter.total - counter.embedded,
        skipped=problems,
        complete=all(e is not None for e in emb.values()),
    )
    if not result.complete:
        return result
    scores = dict(zip(SPLITS, input_scores(emb["train"], emb["test"], distance), strict=True))
    for split in SPLITS:
        rows = [
            dict(rec, **{SCORE: float(v)})
            for rec, v in zip(records[split], scores[split], strict=True)
        ]
        write_records(getattr(result, f"{split}_scores"), rows)
        save_embeddings(
            getattr(result, f"{split}_embeddings"), [s.id for s in samples[split]], emb[split]
        )
    if problems:
        write_json_atomic(out / "skipped.json", problems)
    if progress is not None:
        progress(counter.total, counter.total, "done")
    return result
