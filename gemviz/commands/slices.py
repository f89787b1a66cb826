"""``slices``: each model's ID and OOD means broken down by a field or the action type.

One row per splitter x model x metric x slice x label: ``splitter, model, metric, slice,
label, mean, lo, hi, n, n_clusters`` (plus ``small``: n < 30), with cluster-aware 95%
intervals when the steps group into tasks or episodes (``--cluster-by``, default auto).
"""

from __future__ import annotations

import argparse

from gemviz.commands.table import add_output_arguments, emit, named_paths, render
from gemviz.data.records import METRICS

HELP = "ID/OOD means broken down by a field of the test records or the action type"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``slices``."""
    parser.add_argument(
        "--split",
        action="append",
        required=True,
        metavar="NAME=LABELED",
        help="a splitter's labeled test file; repeat for each splitter",
    )
    parser.add_argument(
        "--model",
        action="append",
        required=True,
        metavar="NAME=RESULTS",
        help="a model's result file; repeat for each model",
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
    parser.add_argument(
        "--samples", default=None, help="the test-set file (default: the first --split file)"
    )
    parser.add_argument("--metric", action="append", choices=METRICS, default=None)
    add_output_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Load the study, build the slice table and print or write it."""
    from gemviz.analysis.slices import slices_table
    from gemviz.data.study import Study

    splits, models = named_paths(args.split, "--split"), named_paths(args.model, "--model")
    out = args.out
    if out:
        from gemviz.data.safety import check_output

        out = str(check_output(out, inputs=[*splits.values(), *models.values(), args.samples]))
    study = Study.from_files(splits, models, args.samples, cluster_by=args.cluster_by)
    table = slices_table(
        study, args.by, metrics=tuple(args.metric or METRICS), gt_field=args.gt_field
    )
    emit(render(table, args.format), out)
    return 0
