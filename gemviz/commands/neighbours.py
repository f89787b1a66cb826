"""``neighbours``: the nearest train steps of test steps in an embedding space.

Reads the ``train_embeddings.npz`` / ``test_embeddings.npz`` pair that ``score`` writes and
prints one row per test step and rank: ``id, rank, neighbour, distance`` (rank 1..k, the
nearest first). The search is exact (:mod:`gemviz.analysis.neighbours`); the whole test set's result
is cached, so asking again for other ids costs nothing.
"""

from __future__ import annotations

import argparse

import pandas as pd

from gemviz.analysis.neighbours import DEFAULT_K, METRICS, cached_neighbours, rows
from gemviz.commands.common import FORMATS, emit, render
from gemviz.data.fields import nfc
from gemviz.data.safety import check_output

COLUMNS = ["id", "rank", "neighbour", "distance"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``neighbours``."""
    parser.add_argument("--train-embeddings", required=True, metavar="TRAIN.npz")
    parser.add_argument("--test-embeddings", required=True, metavar="TEST.npz")
    parser.add_argument(
        "--id",
        action="append",
        default=None,
        metavar="ID",
        help="a test step's id; repeat for several (default: every test step)",
    )
    parser.add_argument("-k", type=int, default=DEFAULT_K, help="neighbours per step (default 5)")
    parser.add_argument("--metric", choices=METRICS, default="euclidean")
    parser.add_argument("--format", choices=FORMATS, default="json")
    parser.add_argument("--out", default=None, help="write to this file instead of printing")
    parser.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")


def run(args: argparse.Namespace) -> int:
    """Search (or read the cache) and print or write the rows."""
    out = args.out
    if out:
        out = str(check_output(out, inputs=(args.train_embeddings, args.test_embeddings)))
    result = cached_neighbours(
        args.train_embeddings,
        args.test_embeddings,
        k=args.k,
        metric=args.metric,
        cache=not args.no_cache,
    )
    wanted = [nfc(i) for i in args.id] if args.id else args.id
    frame = pd.DataFrame(rows(result, wanted), columns=COLUMNS)
    emit(render(frame, args.format, digits=6), out)
    return 0
