"""``runs``: each run of each model, one row per splitter, model, metric and run.

A model named again with ``--model`` adds a run (``--model sft=run1.json --model
sft=run2.json``), as does a ``run`` field inside one file; a BFCL score file is one run. Each
row gives that run's ID and OOD means, their gap and the set sizes, the numbers a lab log
records per run; ``table`` gives the run-averaged analysis with intervals.
"""

from __future__ import annotations

import argparse

from gemviz.analysis.runs import runs_table
from gemviz.commands.common import (
    add_metric_argument,
    add_output_arguments,
    add_study_arguments,
    emit,
    render,
    study_from_args,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``runs``."""
    add_study_arguments(
        parser,
        split_help=(
            "a splitter's labeled test file (records + label ID/OOD); repeat for each splitter"
        ),
        model_help="one run's result file (or a BFCL score file); repeat the name for each run",
    )
    add_metric_argument(parser)
    add_output_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Load the study, list every run and print or write the rows."""
    study, out = study_from_args(args)
    emit(render(runs_table(study, metrics=args.metric), args.format), out)
    return 0
