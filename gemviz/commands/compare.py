"""``compare``: does model A gain more than model B in distribution than out of it?

For every splitter, metric and pair of models (every pair when more than two are given) it
prints the differences ``diff_id = mean_a - mean_b`` on the ID set and ``diff_ood`` on the OOD
set, and the difference in differences ``did = diff_id - diff_ood`` (the model x split
interaction), paired within steps and clustered (``--cluster-by``), with a cluster-robust t
95% interval, p-value and the p-value adjusted over every row printed (``--adjust``).
"""

from __future__ import annotations

import argparse

from gemviz.commands.table import (
    add_output_arguments,
    add_stats_arguments,
    checked_out,
    emit,
    named_paths,
    render,
)
from gemviz.data.errors import GemvizError
from gemviz.data.records import METRICS

HELP = "does model A gain more than model B on ID than on OOD? (difference in differences)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``compare``."""
    parser.add_argument(
        "--split",
        action="append",
        required=True,
        metavar="NAME=LABELED",
        help="a splitter's labeled test file (records + label ID/OOD); repeat for each splitter",
    )
    parser.add_argument(
        "--model",
        action="append",
        required=True,
        metavar="NAME=RESULTS",
        help="a model's result file; give at least two (every pair is compared)",
    )
    parser.add_argument(
        "--samples", default=None, help="the test-set file (default: the first --split file)"
    )
    parser.add_argument(
        "--metric",
        action="append",
        choices=METRICS,
        default=None,
        help="metric to report; repeat for several (default: both)",
    )
    add_stats_arguments(parser)
    add_output_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Load the study, build the interaction table and print or write it."""
    from gemviz.analysis.tables import interaction_table
    from gemviz.data.study import Study

    splits, models = named_paths(args.split, "--split"), named_paths(args.model, "--model")
    if len(models) < 2:
        raise GemvizError(f"compare needs --model at least twice, got {len(models)}")
    out = checked_out(args.out, [*splits.values(), *models.values(), args.samples])
    study = Study.from_files(splits, models, args.samples, cluster_by=args.cluster_by)
    table = interaction_table(study, metrics=tuple(args.metric or METRICS), adjust=args.adjust)
    emit(render(table, args.format), out)
    return 0
