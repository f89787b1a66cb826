"""Input scores: embed train and test samples, distance of each to the train centroid.

:func:`score_files` reads the train and test files, embeds every sample through the cache of
:mod:`gemviz.scoring.store` (resumable, self-healing, shared by data-parallel ranks), and
writes each split's input scores (distance to the train centroid, :func:`input_scores`) and
embeddings. Samples that cannot be embedded (empty task, missing screenshot) stop the run
with their rows named, or are left out with ``--skip-bad``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gemviz.data.chat import with_text
from gemviz.data.errors import GemvizError
from gemviz.data.fields import IMAGE, SCORE, TASK
from gemviz.data.files import open_image
from gemviz.data.ids import sample_ids
from gemviz.data.paths import cache_dir
from gemviz.data.read import read_records
from gemviz.data.safety import check_output_dir
from gemviz.data.write import write_json_atomic, write_records
from gemviz.embed import Embedder, Sample, make_embedder
from gemviz.embed.base import load_template
from gemviz.scoring.store import (
    Progress,
    ProgressCounter,
    cache_key,
    embed_split,
    save_embeddings,
)

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
    text: str = "first",
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
        text: For records without ``task`` that hold a conversation (BFCL entries' ``question``,
            chat ``messages``, a ``prompt`` column): ``"first"`` embeds the first user message,
            ``"all"`` every user message joined (:mod:`gemviz.data.chat`). The text is written
            as the records' ``task``; records without ids get ``row-N``.

    Returns:
        A :class:`ScoreOutput`; ``complete`` is False (and nothing is written) when a rank
        left the merge to rank 0.

    Raises:
        GemvizError: Unreadable inputs, bad samples (without ``skip_bad``), bad options.
    """
    _check_options(distance, batch_size, shard)
    check_output_dir(out_dir, OUTPUT_NAMES, (train, test, prompt_template))
    options = {"layer": layer, "device": device, "trust_remote_code": trust_remote_code}
    embedder = make_embedder(
        method, model, prompt_template=load_template(prompt_template), **options
    )
    root = Path(image_root).expanduser() if image_root is not None else None
    records, samples, problems = _read_splits(
        (train, test), text, embedder.needs_images, root, skip_bad, method
    )
    counter = ProgressCounter(sum(len(s) for s in samples.values()), progress)
    size = batch_size or embedder.default_batch_size
    keys, emb = _embed_splits(embedder, samples, size, counter, shard, merge_timeout)
    out = Path(out_dir)
    result = ScoreOutput(
        **{f"{split}_{kind}": out / f"{split}_{name}" for split in SPLITS for kind, name in _FILES},
        cache_keys=keys,
        embedded=counter.embedded,
        cached=counter.total - counter.embedded,
        skipped=problems,
        complete=all(e is not None for e in emb.values()),
    )
    if not result.complete:
        return result
    _write_outputs(result, records, samples, emb, distance)
    if progress is not None:
        progress(counter.total, counter.total, "done")
    return result


# ScoreOutput's path fields (``train_scores``, ...) and their file names.
_FILES = (("scores", "inputscore.json"), ("embeddings", "embeddings.npz"))


def _check_options(distance: str, batch_size: int | None, shard: tuple[int, int] | None) -> None:
    if distance not in DISTANCES:
        raise GemvizError(f"unknown distance '{distance}'; use one of {', '.join(DISTANCES)}")
    if batch_size is not None and batch_size < 1:
        raise GemvizError("--batch-size must be at least 1")
    if shard is not None and not (shard[1] >= 1 and 0 <= shard[0] < shard[1]):
        raise GemvizError(f"bad shard {shard[0]}/{shard[1]}; use RANK/WORLD with 0 <= RANK < WORLD")


def _read_splits(
    paths: tuple[str | os.PathLike, str | os.PathLike],
    text: str,
    needs_images: bool,
    root: Path | None,
    skip_bad: bool,
    method: str,
) -> tuple[dict[str, list[dict[str, Any]]], dict[str, list[Sample]], list[dict[str, Any]]]:
    """Each split's records and samples, less the bad ones (refused unless ``skip_bad``)."""
    records, samples, problems = {}, {}, []
    for split, path in zip(SPLITS, paths, strict=True):
        records[split] = with_text(read_records(path), str(path), text)
        samples[split], found = _samples(records[split], str(path), needs_images, root)
        problems.extend(dict(p, split=split) for p in found)
    _check(problems, skip_bad, method, needs_images)
    bad = {(p["split"], p["row"]) for p in problems}
    for split in SPLITS:
        keep = [i for i in range(len(samples[split])) if (split, i + 1) not in bad]
        if not keep:
            raise GemvizError(f"no {split} sample is left to embed after skipping bad ones")
        records[split] = [records[split][i] for i in keep]
        samples[split] = [samples[split][i] for i in keep]
    return records, samples, problems


def _embed_splits(
    embedder: Embedder,
    samples: dict[str, list[Sample]],
    size: int,
    counter: ProgressCounter,
    shard: tuple[int, int] | None,
    merge_timeout: float,
) -> tuple[dict[str, str], dict[str, np.ndarray | None]]:
    """Each split's cache key and embeddings (None where other ranks have parts to finish)."""
    keys, emb = {}, {}
    for split in SPLITS:
        keys[split] = cache_key(embedder, samples[split])
        emb[split] = embed_split(
            embedder,
            samples[split],
            cache_dir("scores", keys[split]),
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
                        counter=ProgressCounter(0, None),
                        stage="merge",
                        shard=shard,
                    )
    return keys, emb


def _write_outputs(
    result: ScoreOutput,
    records: dict[str, list[dict[str, Any]]],
    samples: dict[str, list[Sample]],
    emb: dict[str, np.ndarray],
    distance: str,
) -> None:
    """The input scores (the records with ``input_score``) and embeddings of both splits, and
    the samples left out (``skipped.json``)."""
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
    if result.skipped:
        write_json_atomic(result.train_scores.parent / "skipped.json", result.skipped)
