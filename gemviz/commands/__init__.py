"""Command-line subcommands, one module each.

Every module here defines ``HELP`` (one line), ``add_arguments(parser)`` and
``run(args) -> int``. :mod:`gemviz.commands.cli` imports a module only when its command runs, so
``partition`` never pays for importing torch.
"""

from __future__ import annotations

# command name -> module under gemviz.commands
COMMANDS: dict[str, str] = {
    "partition": "partition",
    "detect": "detect",
    "table": "table",
    "overlap": "overlap",
    "score": "score",
    "match": "match",
    "predict": "predict",
    "demo": "demo",
    "report": "report",
    "compare": "compare",
    "stability": "stability",
    "slices": "slices",
    "neighbours": "neighbours",
    "workspace": "workspace",
    "runs": "runs",
}

HELPS: dict[str, str] = {
    "partition": "label test samples ID/OOD from train and test input scores",
    "detect": "OOD detection metrics against known ID and OOD test files",
    "table": "splitter x model table of ID/OOD means with 95%% intervals",
    "overlap": "Venn regions of 2-3 splitters' ID sets, with the set-difference drill-down",
    "score": "embed train and test samples with a model and write their input scores",
    "match": "type match and exact match of predicted actions against ground truth",
    "predict": "run a Qwen2-VL-family agent on every test step",
    "demo": "build the built-in demo workspace",
    "report": "write a self-contained HTML meeting report of a workspace",
    "compare": "does model A gain more than model B on ID than on OOD? (difference in differences)",
    "stability": "each test step's ID probability over bootstrap refits of a splitter",
    "slices": "ID/OOD means broken down by a field of the test records or the action type",
    "neighbours": "nearest train steps of test steps in an embedding space (exact search)",
    "workspace": "create, list and change workspaces from files on disk",
    "runs": "per-run ID/OOD means and gaps of every model (repeat a --model name to add a run)",
}
