"""``table``: each model's metrics on every splitter's ID and OOD sets.

Prints one row per splitter x model x metric with the ID and OOD means, their step and
cluster counts and 95% intervals, and the ID-OOD gap with its task-level test (``test``), its
interval, p-value and adjusted p-value (Holm within each splitter and metric, or ``--adjust
bh``) and the gap's verdict in words (``gap_verdict``, ``--margin``), as Markdown (default),
CSV or JSON (a list of row objects). Steps are clustered by ``--cluster-by`` (default: ``episode_id``, else ``task``; ``none`` for step level). A model
named again with ``--model`` adds a run: its per-step outcome is then the mean over its runs.
"""

from __future__ import annotations

import argparse

from gemviz.analysis.tables import id_ood_table
from gemviz.commands.common import (
    add_metric_argument,
    add_output_arguments,
    add_stats_arguments,
    add_study_arguments,
    emit,
    render,
    study_from_args,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``table``."""
    add_study_arguments(
        parser,
        split_help=(
            "a splitter's labeled test file (records + label ID/OOD); repeat for each splitter"
        ),
        model_help=(
            "a model's result file (records + 0/1 metrics such as type_match, exact_match or "
            "accuracy; a BFCL score file); repeat for each model, and repeat a name to add a "
            "run"
        ),
        samples_help=(
            "the test-set file whose order the rows follow (default: the first --split file)"
        ),
    )
    add_metric_argument(parser)
    add_stats_arguments(parser, margin=True)
    add_output_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Load the study, build the table and print or write it."""
    study, out = study_from_args(args)
    table = id_ood_table(study, metrics=args.metric, adjust=args.adjust, margin=args.margin)
    emit(render(table, args.format), out)
    return 0
