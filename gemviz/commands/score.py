"""``python -m gemviz score``: embed train and test steps and write their input scores.

Methods (``--method``):

- ``gem-input`` (the GEM paper's): mean of the prompt's input token embeddings. Only the
  embedding table is read from the checkpoint's safetensors files; on a vision-language model
  the screenshot adds image placeholder tokens whose number follows from the image's width and
  height, so the pixels never enter the score (same size, same task: same score).
- ``hidden``: mean of one layer's hidden states (``--layer``, default last) from a full
  forward pass; the vision encoder sees the screenshot's pixels. Use a GPU.
- ``sentence`` (CPU default): sentence embedding of the task text alone.

Text-only runs (``--model default``, or ``sentence``) never open the screenshots.
Results are cached under ``cache/scores/``; a rerun with the same inputs does no model work
and an interrupted run resumes after its last finished batch. For several GPUs, start one
process per GPU with ``torchrun`` (``RANK``/``WORLD_SIZE`` are read) or pass ``--shard``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from tqdm import tqdm

from gemviz.data.errors import GemvizError
from gemviz.data.safety import check_output, check_output_dir
from gemviz.data.write import write_json_atomic
from gemviz.embed import EMBEDDERS
from gemviz.scoring.score import DISTANCES, OUTPUT_NAMES, score_files


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the options of ``score``."""
    parser.description = (__doc__ or "").split("\n\n", 1)[-1]
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    _add_input_arguments(parser)
    _add_run_arguments(parser)


def _add_input_arguments(parser: argparse.ArgumentParser) -> None:
    """What is embedded, how, and where the scores go."""
    parser.add_argument(
        "--model",
        default="default",
        help="local checkpoint folder, or 'default' (packaged all-MiniLM-L6-v2)",
    )
    parser.add_argument(
        "--method",
        default="sentence",
        choices=list(EMBEDDERS),
        help="embedding method (default: sentence)",
    )
    parser.add_argument(
        "--train",
        required=True,
        help="train record file (JSON/JSONL/CSV/parquet with task, image_path; or a training "
        "set of conversations: chat JSONL with messages, parquet with a prompt or messages "
        "column)",
    )
    parser.add_argument(
        "--test", required=True, help="test record file (or BFCL test entries with question)"
    )
    parser.add_argument(
        "--text",
        choices=("first", "all"),
        default="first",
        help="for conversation records without task: embed the first user message (default) "
        "or every user message joined",
    )
    parser.add_argument(
        "--out-dir", required=True, help="folder for *_inputscore.json and *_embeddings.npz"
    )
    parser.add_argument(
        "--prompt-template",
        help="text file with a {task} placeholder (default: gemviz's GEM prompt)",
    )
    parser.add_argument(
        "--layer",
        type=int,
        help="hidden layer for --method hidden (0 = embeddings, -1 = last; default last)",
    )
    parser.add_argument(
        "--distance",
        default="euclidean",
        choices=list(DISTANCES),
        help="distance to the train centroid",
    )


def _add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """Where and how the run goes: device, batches, bad samples, progress, data parallelism."""
    parser.add_argument(
        "--device", help="auto (default: cuda when available, else cpu), cpu, cuda, cuda:1, ..."
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        help="samples per batch (halved automatically on CUDA out-of-memory)",
    )
    parser.add_argument(
        "--image-root", help="folder that relative image_path values are relative to"
    )
    parser.add_argument(
        "--skip-bad",
        action="store_true",
        help="leave out samples with an empty task or a missing/unreadable screenshot",
    )
    parser.add_argument(
        "--trust-remote-code",
        action="store_true",
        help="allow code shipped with the checkpoint to run",
    )
    parser.add_argument(
        "--progress-file", help="JSON file kept updated with done/total/stage (for dashboards)"
    )
    parser.add_argument(
        "--shard",
        help="RANK/WORLD for data-parallel runs (default: from RANK and WORLD_SIZE env vars)",
    )
    parser.add_argument(
        "--merge-timeout",
        type=float,
        default=6 * 3600.0,
        help="seconds rank 0 waits for other ranks (default 6 h)",
    )


def parse_shard(value: str | None, env: dict[str, str] | None = None) -> tuple[int, int] | None:
    """``"RANK/WORLD"`` (or the ``RANK``/``WORLD_SIZE`` env vars) as a pair; None for one process.

    Raises:
        GemvizError: The value is not two integers with 0 <= RANK < WORLD.
    """
    env = os.environ if env is None else env
    if value is None:
        if "WORLD_SIZE" not in env:
            return None
        value = f"{env.get('RANK', '0')}/{env['WORLD_SIZE']}"
    try:
        rank, world = (int(x) for x in value.split("/"))
    except ValueError:
        raise GemvizError(f"--shard must look like RANK/WORLD (e.g. 0/4), got '{value}'") from None
    if not 0 <= rank < world:
        raise GemvizError(f"--shard {value}: need 0 <= RANK < WORLD")
    return None if world == 1 else (rank, world)


class ProgressFile:
    """Keeps a JSON progress file up to date (atomic writes, at most every half second)."""

    def __init__(self, path: str | None) -> None:
        self.path = Path(path) if path else None
        self.state = {
            "done": 0,
            "total": 0,
            "stage": "starting",
            "started": time.time(),
            "updated": time.time(),
            "finished": False,
            "error": None,
        }
        self._last = 0.0
        self.write(force=True)

    def write(self, force: bool = False) -> None:
        if self.path is None:
            return
        now = time.time()
        if force or now - self._last >= 0.5:
            self.state["updated"] = now
            write_json_atomic(self.path, self.state)
            self._last = now

    def __call__(self, done: int, total: int, stage: str) -> None:
        self.state.update(done=done, total=total, stage=stage)
        self.write(force=stage == "done")

    def finish(self, error: str | None = None) -> None:
        self.state.update(finished=True, error=error, stage="failed" if error else "done")
        self.write(force=True)


def run(args: argparse.Namespace) -> int:
    """Score the files; prints where the outputs went."""

    if args.layer is not None and args.method != "hidden":
        raise GemvizError(
            f"--layer applies to --method hidden only; the {args.method} method has no layers "
            "to choose from, so leave it out"
        )
    inputs = (args.train, args.test, args.prompt_template)
    check_output_dir(args.out_dir, OUTPUT_NAMES, inputs)
    if args.progress_file:
        # The progress file is rewritten all along: it may be neither an input nor an output.
        outputs = [os.path.join(args.out_dir, name) for name in OUTPUT_NAMES]
        check_output(args.progress_file, [*inputs, *outputs], option="--progress-file")
    shard = parse_shard(args.shard)
    tracker = ProgressFile(args.progress_file)
    bar = tqdm(total=0, unit="sample", disable=None, file=sys.stderr)

    def progress(done: int, total: int, stage: str) -> None:
        bar.total = total
        bar.set_description(stage)
        bar.update(done - bar.n)
        tracker(done, total, stage)

    try:
        out = score_files(
            model=args.model,
            method=args.method,
            train=args.train,
            test=args.test,
            out_dir=args.out_dir,
            prompt_template=args.prompt_template,
            layer=args.layer,
            distance=args.distance,
            device=args.device,
            batch_size=args.batch_size,
            image_root=args.image_root,
            skip_bad=args.skip_bad,
            trust_remote_code=args.trust_remote_code,
            progress=progress,
            shard=shard,
            merge_timeout=args.merge_timeout if shard and shard[0] == 0 else 0.0,
            text=args.text,
        )
    except BaseException as exc:
        tracker.finish(error=str(exc) or type(exc).__name__)
        raise
    finally:
        bar.close()
    tracker.finish()
    if not out.complete:
        print(f"rank {shard[0]}/{shard[1]}: my part is done; rank 0 merges and writes the outputs")
        return 0
    if out.skipped:
        print(
            f"skipped {len(out.skipped)} sample(s) (listed in {Path(args.out_dir) / 'skipped.json'}):"
        )
        for p in out.skipped[:10]:
            print(f"  {p['file']} row {p['row']}: {p['reason']}")
    print(f"embedded {out.embedded} sample(s), {out.cached} from the cache")
    for path in (out.train_scores, out.test_scores, out.train_embeddings, out.test_embeddings):
        print(f"wrote {path}")
    return 0
