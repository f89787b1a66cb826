"""``python -m gemviz predict``: run a Qwen2-VL-family agent on every test step.

Writes the test records with the model's raw answer in ``prediction``; ``gemviz match`` then
scores them. An interrupted run resumes from its saved batches when run again.
"""

from __future__ import annotations

import argparse
import sys

from tqdm import tqdm

from gemviz.data.safety import check_output
from gemviz.scoring.predict import predict_file


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the command's options."""
    parser.add_argument("--model", required=True, help="local Qwen2-VL-family checkpoint folder")
    parser.add_argument("--test", required=True, help="test records (task, image_path)")
    parser.add_argument("--out", required=True, help="prediction file to write")
    parser.add_argument(
        "--prompt-template",
        default=None,
        help="text file with {task}; default: the packaged GEM prompt",
    )
    parser.add_argument(
        "--batch-size", type=int, default=None, help="steps per batch (default 8 on GPU, 2 on CPU)"
    )
    parser.add_argument("--max-new-tokens", type=int, default=128, help="longest answer in tokens")
    parser.add_argument("--device", default=None, help="auto (default), cpu, cuda, cuda:1, ...")
    parser.add_argument("--image-root", default=None, help="folder for relative image paths")
    parser.add_argument(
        "--trust-remote-code", action="store_true", help="allow code shipped with the model"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    """Predict, write the file and print a one-line digest."""
    out = check_output(args.out, (args.test, args.prompt_template))
    bar = None
    if not args.quiet:
        bar = tqdm(total=0, unit="step", desc="predict", file=sys.stderr)

    def progress(done: int, total: int, stage: str) -> None:
        if bar is not None:
            bar.total = total
            bar.n = done
            bar.set_postfix_str(stage, refresh=False)
            bar.refresh()

    try:
        result = predict_file(
            model=args.model,
            test=args.test,
            out=out,
            prompt_template=args.prompt_template,
            batch_size=args.batch_size,
            max_new_tokens=args.max_new_tokens,
            device=args.device,
            image_root=args.image_root,
            progress=progress,
            trust_remote_code=args.trust_remote_code,
        )
    finally:
        if bar is not None:
            bar.close()
    print(
        f"{len(result.answers)} steps ({result.generated} generated, {result.cached} from an "
        f"earlier run); wrote {result.out}"
    )
    return 0
