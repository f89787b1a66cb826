"""``python -m gemviz``: the command line, for GPU servers and scripts.

Each subcommand lives in :mod:`gemviz.commands`. A :class:`~gemviz.data.errors.GemvizError`
(bad input) ends the command with a one-line message on stderr and exit status 2; no
traceback is shown for it. A :class:`~gemviz.data.errors.GemvizWarning` prints one
``warning:`` line and the command goes on.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import warnings
from collections.abc import Sequence

from gemviz import __version__
from gemviz.commands import COMMANDS
from gemviz.data.errors import GemvizError, GemvizWarning


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The argument parser; only ``command``'s module is imported (all of them for None)."""
    parser = argparse.ArgumentParser(
        prog="python -m gemviz",
        description="Score, partition, evaluate and compare GUI-agent steps (GEM ID/OOD study).",
    )
    parser.add_argument("--version", action="version", version=f"gemviz {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (module, text) in COMMANDS.items():
        # help= goes through %-formatting, description= does not
        p = sub.add_parser(name, help=text, description=text.replace("%%", "%"))
        if command is None or command == name:
            mod = importlib.import_module(f"gemviz.commands.{module}")
            mod.add_arguments(p)
            p.set_defaults(_run=mod.run)
    return parser


def _one_line_warning(command: str, fallback):
    """A ``warnings.showwarning`` that prints gemviz's own warnings as one plain line."""

    def show(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, GemvizWarning):
            print(f"gemviz {command}: warning: {message}", file=sys.stderr)
        else:
            fallback(message, category, filename, lineno, file, line)

    return show


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    command = next((a for a in argv if a in COMMANDS), None)
    parser = build_parser(command)
    args = parser.parse_args(argv)
    run = args._run
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always", GemvizWarning)
            warnings.showwarning = _one_line_warning(args.command, warnings.showwarning)
            return int(run(args) or 0)
    except GemvizError as exc:
        print(f"gemviz {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"gemviz {args.command}: interrupted", file=sys.stderr)
        return 130
