"""``python -m gemviz demo``: build the built-in demo workspace and say where it is."""

from __future__ import annotations

import argparse
import sys
import time

from gemviz.data.errors import GemvizError
from gemviz.demo import build_demo, demo_folder, ensure_bfcl_demo, ensure_demo
from gemviz.demo.bfcl import bfcl_folder


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--force", action="store_true", help="rebuild even if the demo workspace already exists"
    )
    parser.add_argument(
        "--n-train",
        type=int,
        default=600,
        metavar="N",
        help="number of generated train steps (default: 600)",
    )
    parser.add_argument(
        "--n-test",
        type=int,
        default=400,
        metavar="N",
        help="number of generated test steps (default: 400)",
    )
    parser.add_argument("--seed", type=int, default=42, help="seed of the step generator")
    parser.add_argument(
        "--bfcl",
        action="store_true",
        help="build the tool-calling demo instead: BFCL v4 multi-turn base, two training-set "
        "splitters, five configurations x 5 runs",
    )


def run(args: argparse.Namespace) -> int:
    if args.bfcl:
        start = time.perf_counter()
        existed = (bfcl_folder() / "workspace.json").exists()
        folder = ensure_bfcl_demo(progress=_print_progress, force=args.force)
        if existed and not args.force:
            print(f"the tool-calling demo already exists (use --force to rebuild): {folder}")
        else:
            print(f"\nbuilt the tool-calling demo in {time.perf_counter() - start:.1f} s: {folder}")
        return 0
    if args.n_train < 1 or args.n_test < 1:
        raise GemvizError("--n-train and --n-test must be at least 1")
    options = {"n_train": args.n_train, "n_test": args.n_test, "seed": args.seed}
    start = time.perf_counter()
    existed = (demo_folder() / "workspace.json").exists()
    if args.force:
        folder = build_demo(progress=_print_progress, **options)
    else:
        folder = ensure_demo(progress=_print_progress, **options)
    if existed and not args.force:
        print(f"the demo workspace already exists (use --force to rebuild): {folder}")
    else:
        print(f"\nbuilt the demo workspace in {time.perf_counter() - start:.1f} s: {folder}")
    return 0


def _print_progress(done: int, total: int, stage: str) -> None:
    pct = 100 * done / total if total else 100
    print(f"\r{pct:5.1f}%  {stage[:60]:<60}", end="", file=sys.stderr, flush=True)
