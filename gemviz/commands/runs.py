"""``runs``: each run of each model, or the configurations compared over their runs.

A model named again with ``--model`` adds a run (``--model sft=run1.json --model
sft=run2.json``), as does a ``run`` field inside one file; a BFCL score file is one run. By
default each row gives one run's ID and OOD means, their gap and the set sizes, the numbers a
lab log records per run; ``table`` gives the run-averaged analysis with intervals. Without
``--split`` each row gives one run's mean over all entries and their number (``--samples``
names the test set, which BFCL score files need to know the passed entries).

``--pairs`` prints the comparisons instead (:func:`gemviz.analysis.runs.run_pairs`): every
pair of configurations, or with ``--baseline NAME`` each configuration against that one, on
all steps and, with ``--splitter``, on its ID and OOD sets. Each row answers two questions,
on entries like these (the main columns) and on this benchmark as it is (``*_fixed``), and
every row shown is one family of adjusted p-values (``family``); ``--margin`` sets the
"no detectable difference" margin (default: 1 point for accuracy).
"""

from __future__ import annotations

import argparse

import pandas as pd

from gemviz.analysis.runs import run_means, run_pairs, runs_table
from gemviz.commands.common import (
    add_margin_argument,
    add_metric_argument,
    add_output_arguments,
    add_study_arguments,
    emit,
    render,
    study_from_args,
)
from gemviz.data.errors import GemvizError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``runs``."""
    add_study_arguments(
        parser,
        split_help=(
            "a splitter's labeled test file (records + label ID/OOD); repeat for each splitter; "
            "left out, each run's mean over all entries"
        ),
        model_help="one run's result file (or a BFCL score file); repeat the name for each run",
        samples_help="the test-set file (default: the first --split file; BFCL score files "
        "without their result files need it)",
        splits_required=False,
    )
    add_metric_argument(parser)
    parser.add_argument(
        "--pairs",
        action="store_true",
        help="print the configurations compared over their runs (every pair) instead of the runs",
    )
    parser.add_argument(
        "--baseline",
        metavar="NAME",
        default=None,
        help="compare each configuration against this one (implies --pairs)",
    )
    parser.add_argument(
        "--splitter",
        metavar="NAME",
        default=None,
        help="with --pairs: also compare on this splitter's ID and OOD sets",
    )
    parser.add_argument(
        "--adjust",
        choices=("holm", "bh"),
        default="holm",
        type=str.lower,
        help="p-value adjustment over the comparisons shown (default holm)",
    )
    add_margin_argument(parser)
    add_output_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Load the study, list every run (or compare the configurations) and print the rows."""
    study, out = study_from_args(args)
    if not (args.pairs or args.baseline):
        if args.splitter or args.margin is not None:
            raise GemvizError("--splitter and --margin go with --pairs or --baseline")
        rows = (
            runs_table(study, metrics=args.metric) if args.split else run_means(study, args.metric)
        )
        emit(render(rows, args.format), out)
        return 0
    metrics = args.metric or study.metrics
    frames = [
        run_pairs(
            study,
            metric,
            splitter=args.splitter,
            adjust=args.adjust,
            margin=args.margin,
            baseline=args.baseline,
        )
        for metric in metrics
    ]
    emit(render(pd.concat(frames, ignore_index=True), args.format), out)
    return 0
