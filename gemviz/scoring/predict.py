"""Run a Qwen2-VL-family agent on every test step and keep its raw answer.

Each step's screenshot and task go through the chat template with the prompt template
(``{task}`` filled in), and the model answers greedily. Batches are padded on the left, so
every row's answer starts right after its own prompt and a batch gives the same greedy tokens
as running the rows one by one.

Resuming
    Answers are saved batch by batch as small JSON shard files under
    ``cache/predictions/<key>/`` (each written atomically), where the key covers the model's
    files, the prompt template, ``max_new_tokens`` and the test steps. A run that is stopped
    for any reason picks up where it left off when run again with the same inputs; the final
    file is written (atomically) only once every step has an answer.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gemviz.data.errors import GemvizError
from gemviz.data.fields import IMAGE, TASK
from gemviz.data.ids import sample_ids
from gemviz.data.paths import cache_dir
from gemviz.data.read import read_records
from gemviz.data.write import write_json_atomic, write_records
from gemviz.embed.base import (
    auto_dtype,
    fill_template,
    load_template,
    model_fingerprint,
    release_cached_memory,
    resolve_device,
)
from gemviz.embed.qwen import chat_text, load_screenshots, load_vl_model, load_vl_processor

PREDICTION = "prediction"
Progress = Callable[[int, int, str], None]
_DEFAULT_BATCH = {"cuda": 8, "cpu": 2}


@dataclass(frozen=True)
class Step:
    """One test step to answer: its position in the file, id, task and screenshot."""

    position: int
    id: str
    task: str
    image: Path


@dataclass
class PredictResult:
    """What a prediction run did."""

    answers: list[str]  # one raw answer per record, in file order
    generated: int  # steps that went through the model in this run
    cached: int  # steps answered by an earlier, interrupted run
    cache_folder: Path  # where the shards are
    out: Path | None = None  # the file written by :func:`predict_file`


def steps_of(
    records: Sequence[dict[str, Any]], file: str | None = None, image_root: str | Path | None = None
) -> list[Step]:
    """The steps of a test file, with screenshots resolved and checked.

    Args:
        records: Test records with ``task`` and ``image_path``.
        file: The file name, for error messages.
        image_root: Folder that relative ``image_path`` values are resolved against.

    Returns:
        One :class:`Step` per record, in file order.

    Raises:
        GemvizError: A record lacks its task or screenshot, or the screenshot is missing; the
            message names the first such row and how many there are.
    """
    ids = sample_ids(records, file)
    root = Path(image_root).expanduser() if image_root is not None else None
    steps, problems = [], []
    for i, (rec, sid) in enumerate(zip(records, ids, strict=True)):
        task = rec.get(TASK)
        value = rec.get(IMAGE)
        image = Path(str(value)).expanduser() if value not in (None, "") else None
        if image is not None and root is not None and not image.is_absolute():
            image = root / image
        if task is None or not str(task).strip():
            problems.append((i + 1, TASK, "the task is empty"))
        elif image is None:
            problems.append((i + 1, IMAGE, "no screenshot path"))
        elif not image.is_file():
            problems.append((i + 1, IMAGE, f"screenshot not found: {image}"))
        else:
            steps.append(Step(i, sid, str(task), image))
    if problems:
        row, field, reason = problems[0]
        hint = "" if root is not None else " (use --image-root for relative paths)"
        raise GemvizError(
            f"{reason}; {len(problems)} step(s) cannot be run{hint}",
            file=file,
            row=row,
            field=field,
        )
    return steps


def cache_key(
    folder: Path, template: str, max_new_tokens: int, steps: Sequence[Step], dtype: str
) -> str:
    """The shard folder name for these inputs (model files, precision, template, length, steps).

    The precision is part of it because greedy answers in bfloat16 (GPU) and float32 (CPU) can
    part ways after a near-tie, so one run must not resume from the other's shards.
    """
    digest = hashlib.sha256()
    digest.update(
        json.dumps(
            {
                "model": str(folder),
                "fingerprint": model_fingerprint(folder),
                "dtype": dtype,
                "template": template,
                "max_new_tokens": max_new_tokens,
            },
            sort_keys=True,
        ).encode()
    )
    for s in steps:
        stat = s.image.stat()
        digest.update(
            f"{s.id}\x00{s.task}\x00{s.image}\x00{stat.st_size}:{stat.st_mtime_ns}".encode()
        )
    return digest.hexdigest()[:20]


def read_shards(folder: Path) -> dict[int, str]:
    """Answers saved by earlier runs: position -> text (unreadable shards are ignored)."""
    done: dict[int, str] = {}
    for path in sorted(folder.glob("part-*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            done.update(zip(data["positions"], data["predictions"], strict=True))
        except (OSError, ValueError, KeyError, TypeError):
            continue  # a shard is written atomically, so this is a foreign or damaged file
    return {int(k): str(v) for k, v in done.items()}


class Generator:
    """A loaded model + processor that answers batches of steps greedily.

    Args:
        folder: The checkpoint folder.
        device: "cpu", "cuda", ...; None picks CUDA when available.
        max_new_tokens: Longest answer, in tokens.
        trust_remote_code: Allow code shipped with the checkpoint to run.
    """

    def __init__(
        self,
        folder: Path,
        device: str | None = None,
        max_new_tokens: int = 128,
        trust_remote_code: bool = False,
    ) -> None:
        self.device = resolve_device(device)
        self.max_new_tokens = max_new_tokens
        self.processor = load_vl_processor(folder, trust_remote_code=trust_remote_code)
        # Left padding keeps each row's prompt flush against its first generated token.
        self.processor.tokenizer.padding_side = "left"
        if self.processor.tokenizer.pad_token is None:
            self.processor.tokenizer.pad_token = self.processor.tokenizer.eos_token
        self.model = load_vl_model(
            folder, self.device, auto_dtype(self.device), trust_remote_code=trust_remote_code
        )

    def __call__(self, prompts: Sequence[str], images: Sequence[Path]) -> list[str]:
        """Greedy answers for the prompts, each with its screenshot."""
        import torch

        texts = [chat_text(self.processor, p, with_image=True) for p in prompts]
        pictures = load_screenshots(list(images))
        inputs = self.processor(text=texts, images=pictures, padding=True, return_tensors="pt")
        inputs = inputs.to(self.device)
        with torch.inference_mode():
            out = self.model.generate(
                **inputs,
                max_new_tokens=self.max_new_tokens,
                do_sample=False,
                num_beams=1,
                pad_token_id=self.processor.tokenizer.pad_token_id,
            )
        new_tokens = out[:, inputs["input_ids"].shape[1] :]
        return [
            t.strip() for t in self.processor.batch_decode(new_tokens, skip_special_tokens=True)
        ]


def _generate_with_backoff(
    generator: Generator, prompts: list[str], images: list[Path]
) -> tuple[list[str], int]:
    """Answer a batch; on out-of-memory, split it in halves (down to one step).

    Returns:
        The answers, and the size of the smallest piece that had to be run.
    """
    try:
        return generator(prompts, images), len(prompts)
    except RuntimeError as exc:
        if "out of memory" not in str(exc).lower():
            raise
        if len(prompts) == 1:
            raise GemvizError(
                "out of memory on a single step; use a smaller model, --device cpu, or fewer "
                "image pixels"
            ) from exc
    # Outside the ``except`` block, so the failed batch's tensors (held by the traceback) are
    # freed before the halves run.
    release_cached_memory()
    half = len(prompts) // 2
    first, fit_first = _generate_with_backoff(generator, prompts[:half], images[:half])
    second, fit_second = _generate_with_backoff(generator, prompts[half:], images[half:])
    return first + second, min(fit_first, fit_second)


def predict_records(
    records: Sequence[dict[str, Any]],
    model: str | os.PathLike,
    *,
    prompt_template: str | os.PathLike | None = None,
    batch_size: int | None = None,
    max_new_tokens: int = 128,
    device: str | None = None,
    image_root: str | os.PathLike | None = None,
    progress: Progress | None = None,
    trust_remote_code: bool = False,
    file: str | None = None,
    generator: Generator | None = None,
) -> PredictResult:
    """The model's raw answer for every record, resuming from saved shards.

    Args:
        records: Test records (``task``, ``image_path``, optional ``id``).
        model: Local checkpoint folder of a Qwen2-VL-family model.
        prompt_template: Template file with ``{task}``; None for the packaged GEM prompt.
        batch_size: Steps per batch; None for 8 on a GPU, 2 on CPU.
        max_new_tokens: Longest answer.
        device: "cpu", "cuda", ...; None picks CUDA when available.
        image_root: Folder for relative screenshot paths.
        progress: ``progress(done, total, stage)`` after every batch (and once at the start).
        trust_remote_code: Allow code shipped with the checkpoint to run.
        file: The test file's name, for messages.
        generator: An already loaded :class:`Generator` to use instead of loading ``model``.

    Returns:
        A :class:`PredictResult`: one answer per record in file order, and how many went
        through the model in this run (the rest came from the shards of an earlier run).

    Raises:
        GemvizError: The model folder, template or a screenshot is missing, or ``batch_size``
            is below 1.
    """
    folder = _model_folder(model)
    template = load_template(prompt_template)
    if batch_size is not None and batch_size < 1:
        raise GemvizError(f"--batch-size must be at least 1, found {batch_size}")
    if max_new_tokens < 1:
        raise GemvizError(f"--max-new-tokens must be at least 1, found {max_new_tokens}")
    steps = steps_of(records, file, image_root)
    dtype = generator.model.dtype if generator is not None else auto_dtype(resolve_device(device))
    key = cache_key(folder, template, max_new_tokens, steps, str(dtype).replace("torch.", ""))
    shards = cache_dir("predictions", key)
    write_json_atomic(
        shards / "inputs.json",
        {
            "model": str(folder),
            "file": file,
            "max_new_tokens": max_new_tokens,
            "n": len(steps),
        },
    )
    done = read_shards(shards)
    todo = [s for s in steps if s.position not in done]
    total = len(steps)
    if progress is not None:
        progress(total - len(todo), total, "cached" if done else "start")
    generated = 0
    if todo:
        generator = generator or Generator(folder, device, max_new_tokens, trust_remote_code)
        default = _DEFAULT_BATCH["cuda" if generator.device.startswith("cuda") else "cpu"]
        generated = _predict_todo(
            generator, template, todo, batch_size or default, shards, done, total, progress
        )
    answers = [done[s.position] for s in steps]
    return PredictResult(answers, generated, total - generated, shards)


def _model_folder(model: str | os.PathLike) -> Path:
    """The checkpoint folder, resolved; refused without its ``config.json``."""
    folder = Path(model).expanduser()
    if not (folder / "config.json").is_file():
        raise GemvizError(
            "not a model folder (no config.json); pass a local Qwen2-VL-family checkpoint "
            "(gemviz never downloads models)",
            file=str(model),
        )
    return folder.resolve()


def _predict_todo(
    generator: Generator,
    template: str,
    todo: list[Step],
    size: int,
    shards: Path,
    done: dict[int, str],
    total: int,
    progress: Progress | None,
) -> int:
    """Generate the answers of ``todo`` batch by batch, each batch saved as a shard and added
    to ``done``; returns how many steps went through the model."""
    start = 0
    while start < len(todo):
        batch = todo[start : start + size]
        answers, fitted = _generate_with_backoff(
            generator,
            [fill_template(template, s.task) for s in batch],
            [s.image for s in batch],
        )
        # A size that ran out of memory once would again: later batches use what fitted.
        size = min(size, fitted)
        positions = [s.position for s in batch]
        write_json_atomic(
            shards / f"part-{positions[0]:07d}.json",
            {"positions": positions, "predictions": answers},
            indent=None,
        )
        done.update(zip(positions, answers, strict=True))
        if progress is not None:
            progress(total - len(todo) + start + len(batch), total, "predict")
        start += len(batch)
    return len(todo)


def predict_file(
    *,
    model: str | os.PathLike,
    test: str | os.PathLike,
    out: str | os.PathLike,
    prompt_template: str | os.PathLike | None = None,
    batch_size: int | None = None,
    max_new_tokens: int = 128,
    device: str | None = None,
    image_root: str | os.PathLike | None = None,
    progress: Progress | None = None,
    trust_remote_code: bool = False,
) -> PredictResult:
    """Answer every step of a test file and write the records with ``prediction`` added.

    Args:
        model, prompt_template, batch_size, max_new_tokens, device, image_root, progress,
        trust_remote_code: As for :func:`predict_records`.
        test: The test record file.
        out: The prediction file to write (every test field kept, plus ``prediction``).

    Returns:
        The :class:`PredictResult`, with ``out`` set.

    Raises:
        GemvizError: As for :func:`predict_records`.
    """
    records = read_records(test)
    result = predict_records(
        records,
        model,
        prompt_template=prompt_template,
        batch_size=batch_size,
        max_new_tokens=max_new_tokens,
        device=device,
        image_root=image_root,
        progress=progress,
        trust_remote_code=trust_remote_code,
        file=str(test),
    )
    rows = [{**rec, PREDICTION: a} for rec, a in zip(records, result.answers, strict=True)]
    result.out = write_records(out, rows)
    return result
