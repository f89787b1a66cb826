"""``python -m gemviz``: the command line, for GPU servers and scripts.

Each subcommand lives in :mod:`gemviz.commands`. A :class:`~gemviz.data.errors.GemvizError`
(bad input) ends the command with a one-line message on stderr and exit status 2; no
traceback is shown for it; several problems found together (every bad file of one submission)
print a one-line summary and one indented line per problem. A :class:`~gemviz.data.errors.GemvizWarning` prints one
``warning:`` line and the command goes on.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib
import io
import math
import os
import sys
import warnings
from collections.abc import Sequence
from typing import NoReturn

from gemviz import __version__
from gemviz.commands import COMMANDS
from gemviz.data.errors import GemvizBatchError, GemvizError, GemvizWarning
from gemviz.data.markup import visible

# How the command line is run, as its usage lines show it.
RUN_AS = "python -m gemviz"


class _OneLineParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (no usage block), exit status 2.

    The line starts ``gemviz COMMAND: error:``, as every other error of a command does.
    """

    def error(self, message: str) -> NoReturn:
        name = (
            "gemviz" + self.prog.removeprefix(RUN_AS) if self.prog.startswith(RUN_AS) else self.prog
        )
        self.exit(2, f"{name}: error: {_one_line(message)} (see --help)\n")


# Options that seed a generator: numpy takes 0 .. 2**32 - 1 (and 2**32 - 1 is the most a
# mixture's random_state accepts).
SEED_OPTIONS = ("seed", "resample_seed", "random_state")


def _check_numbers(args: argparse.Namespace) -> None:
    """Refuse a NaN or infinite number, a seed out of range, and an image root that is no folder."""
    for key, value in vars(args).items():
        option = "--" + key.replace("_", "-")
        problem = None
        if isinstance(value, float) and not math.isfinite(value):
            problem = f"must be a finite number, got {value}"
        elif key == "margin" and isinstance(value, float) and value < 0:
            problem = f"must be 0 or more, got {value:g}"
        if key in SEED_OPTIONS and isinstance(value, int) and not 0 <= value < 2**32:
            problem = "a seed is a whole number from 0 to 4294967295"
        if key == "image_root" and value and not os.path.isdir(os.path.expanduser(value)):
            # Every screenshot would be missing; said now rather than as a placeholder later.
            problem = f"'{value}' is not an existing folder"
        if problem:
            print(
                f"gemviz {args.command}: error: argument {option}: {_one_line(problem)}",
                file=sys.stderr,
            )
            raise SystemExit(2)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The argument parser; only ``command``'s module is imported (all of them for None, none
    for a name that is no command)."""
    parser = _OneLineParser(
        prog=RUN_AS,
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
            print(f"gemviz {command}: warning: {_one_line(str(message))}", file=sys.stderr)
        else:
            fallback(message, category, filename, lineno, file, line)

    return show


def _one_line(text: str) -> str:
    """``text`` on one line: line breaks (a file name may hold one) written as ``\\n``, other
    control characters shown as their pictures (:func:`gemviz.data.markup.visible`)."""
    return visible(text.replace("\r", "\\r").replace("\n", "\\n"))


class _Visible(io.TextIOBase):
    """A terminal stream that shows every control character instead of acting on it.

    Names, tasks and paths that a command prints may hold ESC (colour codes), backspaces or
    other controls; written through this they appear as ``␛``, ``␈``... (tabs and line
    breaks stay). Files written with ``--out`` keep the exact text.
    """

    def __init__(self, stream) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(visible(text, keep="\t\n"))
        return len(text)

    def flush(self) -> None:
        self._stream.flush()

    def fileno(self) -> int:
        return self._stream.fileno()

    def isatty(self) -> bool:
        return self._stream.isatty()


def main(argv: Sequence[str] | None = None, own_process: bool = False) -> int:
    """Run the command line; returns the exit status.

    ``own_process``: this process runs this one command (``python -m gemviz``). The garbage
    collector then waits while the command's modules are imported, and the objects those
    imports made are frozen out of its later passes: they live until the process ends, and
    walking them again and again cost about a sixth of a report's time at 200,000 steps.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    # Without a command (``--help``, ``--version``, a typo) no command's module is imported.
    command = next((a for a in argv if a in COMMANDS), "")
    if own_process:
        gc.disable()
    try:
        parser = build_parser(command)
        args = parser.parse_args(argv)
        _check_numbers(args)
        if own_process:
            gc.freeze()
    finally:  # also after --help, --version or a refused argument
        if own_process:
            gc.enable()
    run = args._run
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always", GemvizWarning)
            warnings.showwarning = _one_line_warning(args.command, warnings.showwarning)
            with contextlib.redirect_stdout(_Visible(sys.stdout)):
                return int(run(args) or 0)
    except GemvizBatchError as exc:
        # A one-line summary, then one line per problem (each bad file).
        print(f"gemviz {args.command}: error: {_one_line(exc.summary)}", file=sys.stderr)
        for error in exc.errors:
            print(f"  {_one_line(str(error))}", file=sys.stderr)
        return 2
    except GemvizError as exc:
        print(f"gemviz {args.command}: error: {_one_line(str(exc))}", file=sys.stderr)
        return 2
    except MemoryError:
        print(
            f"gemviz {args.command}: error: not enough memory for this run; use smaller inputs "
            "or fewer resamples/points",
            file=sys.stderr,
        )
        return 2
    except OSError as exc:
        if exc.errno is None:
            raise
        # The machine, not the input: a full disk (ENOSPC), a quota, a read-only mount...
        where = f" ({exc.filename})" if exc.filename else ""
        print(
            f"gemviz {args.command}: error: {_one_line(exc.strerror or str(exc))}"
            f"{_one_line(where)}; nothing was left half written (outputs are written to a "
            "temporary file first); free space or choose another place and run again",
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt:
        print(f"gemviz {args.command}: interrupted", file=sys.stderr)
        return 130
