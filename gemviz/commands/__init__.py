"""Command-line subcommands, one module each.

:data:`COMMANDS` names every command, its module under ``gemviz.commands`` and its one-line
help (the only place that help is written). Each module defines ``add_arguments(parser)`` and
``run(args) -> int``; the options several commands share are in :mod:`gemviz.commands.common`.
:mod:`gemviz.commands.cli` imports a module only when its command runs, so ``partition``
never pays for importing torch.
"""

from __future__ import annotations

from typing import NamedTuple


class Command(NamedTuple):
    """A command's module (under ``gemviz.commands``) and its one-line help."""

    module: str
    help: str


COMMANDS: dict[str, Command] = {
    "partition": Command(
        "partition",
        "label test samples ID/OOD from train and test input scores",
    ),
    "detect": Command("detect", "OOD detection metrics against known ID and OOD test files"),
    "table": Command("table", "splitter x model table of ID/OOD means with 95%% intervals"),
    "overlap": Command(
        "overlap",
        "Venn regions of 2-3 splitters' ID sets, with the set-difference drill-down",
    ),
    "score": Command(
        "score",
        "embed train and test samples with a model and write their input scores",
    ),
    "match": Command(
        "match",
        "type match and exact match of predicted actions against ground truth",
    ),
    "predict": Command("predict", "run a Qwen2-VL-family agent on every test step"),
    "demo": Command("demo", "build the built-in demo workspace"),
    "report": Command("report", "write a self-contained HTML meeting report of a workspace"),
    "compare": Command(
        "compare",
        "does model A gain more than model B on ID than on OOD? (difference in differences)",
    ),
    "stability": Command(
        "stability",
        "each test step's ID probability over bootstrap refits of a splitter",
    ),
    "slices": Command(
        "slices",
        "ID/OOD means broken down by a field of the test records or the action type",
    ),
    "neighbours": Command(
        "neighbours",
        "nearest train steps of test steps in an embedding space (exact search)",
    ),
    "coverage": Command(
        "coverage",
        "which test entries each training set covers, its profile, and where gains sit",
    ),
    "workspace": Command("workspace", "create, list and change workspaces from files on disk"),
    "runs": Command(
        "runs",
        "per-run ID/OOD means and gaps of every model (repeat a --model name to add a run)",
    ),
}
