"""``overlap``: Venn regions of 2 or 3 splitters, and with models the set-difference drill-down.

Without ``--model`` it prints the count of every region of the splitters' ID (or, with
``--label OOD``, OOD) sets. With models it adds, for every pair of splitters and both
directions, each model's mean on the steps one splitter calls ID and the other OOD, compared
with that model's mean on the first splitter's ID set: the difference, a task-level test (whole
clusters, ``--cluster-by``, permuted within that ID set, or the cluster-robust score t when
clusters straddle the region) and the 95% interval inverting it, the p-value adjusted within
its family (one pair of splitters and the metric; ``--adjust``), the ``small`` and
``too_small`` flags and a verdict in words (``--margin``). Monte Carlo draws are seeded from
each row's own data.

Markdown and CSV print the regions table, then the drill-down table after a blank line; JSON
prints one object ``{"label", "regions", "set_difference"}``.
"""

from __future__ import annotations

import argparse
import itertools
import json

import pandas as pd

from gemviz.analysis.overlap import set_difference, venn_regions
from gemviz.commands.common import (
    add_output_arguments,
    add_stats_arguments,
    add_study_arguments,
    emit,
    records,
    render,
    study_files,
    study_from_args,
)
from gemviz.data.errors import GemvizError
from gemviz.data.fields import LABELS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``overlap``."""
    add_study_arguments(
        parser,
        split_help="a splitter's labeled test file; give 2 or 3",
        model_help="a model's result file; adds the set-difference drill-down",
        models_required=False,
        samples_help="the test-set file (default: first --split)",
    )
    parser.add_argument(
        "--label", choices=LABELS, default="ID", type=str.upper, help="whose sets (default ID)"
    )
    parser.add_argument(
        "--metric",
        default=None,
        metavar="NAME",
        help="drill-down metric, as the result files name it (default exact_match, or the "
        "files' first metric when they have no exact_match)",
    )
    parser.add_argument(
        "--ids", action="store_true", help="also list the sample ids of every region"
    )
    parser.add_argument(
        "--n-perm",
        type=int,
        default=1999,
        help="random relabellings when there are too many to enumerate (default 1999)",
    )
    add_stats_arguments(parser, margin=True)
    add_output_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Load the study, compute regions (and drill-down) and print or write them."""
    files = study_files(args)
    splits = files.splits
    if not 2 <= len(splits) <= 3:
        raise GemvizError(f"overlap needs --split 2 or 3 times, got {len(splits)}")
    if args.n_perm < 1:
        raise GemvizError("--n-perm must be at least 1")
    study, out = study_from_args(args, files)
    regions = venn_regions(study, list(splits), label=args.label)
    if not args.ids:
        regions = regions.drop(columns="ids")
    drill = pd.DataFrame()
    if study.models:
        drill = pd.concat(
            [
                # One family per pair of splitters: the same rows as on the page and report.
                set_difference(
                    study,
                    a,
                    b,
                    metric=args.metric,
                    n_perm=args.n_perm,
                    adjust=args.adjust,
                    margin=args.margin,
                )
                for a, b in itertools.combinations(splits, 2)
            ],
            ignore_index=True,
        )
    if args.format == "json":
        payload = {
            "label": args.label,
            "regions": records(regions),
            "set_difference": records(drill),
        }
        text = json.dumps(payload, indent=1, allow_nan=False) + "\n"
    else:
        parts = [render(regions, args.format)]
        if len(drill):
            parts.append(render(drill, args.format))
        text = "\n".join(parts)
    emit(text, out)
    return 0
