"""``slices``: each model's ID and OOD means broken down by a field or the action type.

One row per splitter x model x metric x slice x label: ``splitter, model, metric, slice,
label, mean, lo, hi, n, n_clusters`` (plus ``small``: under 30 steps or 10 clusters), with
cluster-aware 95% intervals when the steps group into tasks or episodes (``--cluster-by``, default auto).
"""

from __future__ import annotations

import argparse

from gemviz.analysis.slices import slices_table
from gemviz.commands.common import (
    add_metric_argument,
    add_output_arguments,
    add_study_arguments,
    emit,
    render,
    study_from_args,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``slices``."""
    add_study_arguments(
        parser,
        split_help="a splitter's labeled test file; repeat for each splitter",
    )
    parser.add_argument(
        "--by",
        required=True,
        metavar="FIELD|action_type",
        help="a field of the test records (app, platform, dataset, ...) or action_type "
        "(the ground-truth action's type)",
    )
    parser.add_argument(
        "--cluster-by",
        default="auto",
        metavar="F",
        help="field grouping steps into clusters for the intervals (default auto: "
        "episode_id, else task; none for step level)",
    )
    parser.add_argument(
        "--gt-field", default="action", help="field of the ground-truth action (action_type)"
    )
    add_metric_argument(parser)
    add_output_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Load the study, build the slice table and print or write it."""
    study, out = study_from_args(args)
    table = slices_table(study, args.by, metrics=args.metric, gt_field=args.gt_field)
    emit(render(table, args.format), out)
    return 0
