"""``python -m gemviz workspace add-configs SLUG FILE``: the configuration table from a file.

Also the options ``workspace create`` shares: ``--configs FILE`` (CSV/JSON/YAML with a
``model`` column and any of ``method``, ``train_set``, ``base_model``, ``notes``,
``baseline``), ``--config-pattern REGEX`` (named groups read off the model names) and
``--baseline NAME``. Files and patterns are checked before the workspace is touched.
"""

from __future__ import annotations

import argparse

from gemviz.commands.common import open_workspace
from gemviz.data.errors import GemvizError
from gemviz.workspace.configs import (
    Config,
    check_baseline,
    configs_from_pattern,
    configurations,
    merge_configs,
    read_configs,
    set_configs,
)


def add_config_options(p: argparse.ArgumentParser) -> None:
    """``--configs``, ``--config-pattern``, ``--baseline``."""
    p.add_argument(
        "--configs",
        metavar="FILE",
        help="configuration table (CSV/JSON/YAML): a 'model' column and any of method, "
        "train_set, base_model, notes, baseline (true for the reference)",
    )
    p.add_argument(
        "--config-pattern",
        metavar="REGEX",
        help="read attributes off the model names with named groups, e.g. "
        "'(?P<method>sft|lora|grpo)_(?P<train_set>.*)'",
    )
    p.add_argument(
        "--baseline", metavar="MODEL", help="the configuration the others are read against"
    )


def plan_configs(args: argparse.Namespace, names: list[str]) -> dict[str, Config]:
    """The attributes the options give the models ``names``: the pattern's, then the file's,
    then ``--baseline``'s; computed before anything is written.

    Raises:
        GemvizError: A bad file or pattern, a baseline that is not a model, or two baselines.
    """
    found: dict[str, Config] = {}
    if getattr(args, "config_pattern", None):
        found = configs_from_pattern(names, args.config_pattern)
    if getattr(args, "configs", None):
        found = merge_configs(found, read_configs(args.configs))
    if getattr(args, "baseline", None):
        if args.baseline not in names:
            raise GemvizError(f"--baseline '{args.baseline}' is not a model of this workspace")
        found = merge_configs(found, {args.baseline: Config(baseline=True)})
    check_baseline(found)
    return found


def print_configs(ws) -> None:
    """One line per configuration with its attributes."""
    table = configurations(ws)
    for row in table.to_dict("records"):
        attrs = [f"{k}={row[k]}" for k in ("method", "train_set", "base_model") if row[k]]
        mark = " (baseline)" if row["baseline"] else ""
        print(f"configuration {row['model']}{mark}: " + (", ".join(attrs) or "no attributes"))


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Options of ``workspace add-configs``."""
    p.add_argument("workspace", help="workspace slug")
    p.add_argument("file", nargs="?", help="configuration table (CSV/JSON/YAML)")
    p.add_argument("--config-pattern", metavar="REGEX", help="read attributes off the model names")
    p.add_argument("--baseline", metavar="MODEL", help="mark this configuration the baseline")
    p.add_argument(
        "--replace", action="store_true", help="drop the attributes the file does not give"
    )


def run(args: argparse.Namespace) -> int:
    """Read the file, merge it into the workspace's configuration table, print the table."""
    if not (args.file or args.config_pattern or args.baseline):
        raise GemvizError("give a configuration file, --config-pattern or --baseline")
    ws = open_workspace(args.workspace)
    args.configs = args.file
    found = plan_configs(args, [m.name for m in ws.models])
    set_configs(ws, found, replace=args.replace)
    print_configs(ws)
    return 0
