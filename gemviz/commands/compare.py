"""``compare``: does model A gain more than model B in distribution than out of it?

For every splitter, metric and pair of models (every pair when more than two are given) it
prints the differences ``diff_id = mean_a - mean_b`` on the ID set and ``diff_ood`` on the OOD
set, and the difference in differences ``did = diff_id - diff_ood`` (the model x split
interaction), paired within steps and tested at task level (``--cluster-by``: whole clusters
permuted between ID and OOD, or the cluster-robust score t when clusters straddle them), with
the 95% interval inverting the test, the p-value adjusted within each splitter and metric
(``--adjust``), its verdict (``--margin``), and the same interaction on the log-odds scale
(``did_logodds``). With repeated runs (a name given again with ``--model``) each row also
answers the fixed-benchmark question (``*_fixed``: the models' per-run gaps compared), and
``family`` names the family of every row. With ``--baseline NAME`` the rows are each other
model against that one (``model_a`` the model, ``model_b`` the baseline), adjusted as that
family instead of every pair.
"""

from __future__ import annotations

import argparse

from gemviz.analysis.tables import interaction_table
from gemviz.commands.common import (
    add_metric_argument,
    add_output_arguments,
    add_stats_arguments,
    add_study_arguments,
    emit,
    render,
    study_files,
    study_from_args,
)
from gemviz.data.errors import GemvizError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``compare``."""
    add_study_arguments(
        parser,
        split_help=(
            "a splitter's labeled test file (records + label ID/OOD); repeat for each splitter"
        ),
        model_help="a model's result file; give at least two (every pair is compared)",
    )
    add_metric_argument(parser)
    add_stats_arguments(parser, margin=True)
    parser.add_argument(
        "--baseline",
        metavar="NAME",
        default=None,
        help="compare each other model against this one (one family of those comparisons)",
    )
    add_output_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Load the study, build the interaction table and print or write it."""
    files = study_files(args)
    if len(files.models) < 2:
        raise GemvizError(
            f"compare needs --model at least twice (two different names), got {len(files.models)}"
        )
    if args.baseline is not None and args.baseline not in files.models:
        raise GemvizError(f"--baseline '{args.baseline}' is not one of the --model names")
    study, out = study_from_args(args, files)
    table = interaction_table(
        study, metrics=args.metric, adjust=args.adjust, margin=args.margin, baseline=args.baseline
    )
    emit(render(table, args.format), out)
    return 0
