"""``python -m gemviz workspace annotations SLUG``: the tags and notes of a workspace's steps.

Prints the rows of ``annotations.json`` (``id, tags, note, updated``; tags joined by ``"; "``)
in the test set's order, as CSV, JSON or Markdown.
"""

from __future__ import annotations

import argparse

from gemviz.commands.common import (
    add_output_arguments,
    checked_out,
    emit,
    open_workspace,
    print_warnings,
    render,
)
from gemviz.data.errors import GemvizError
from gemviz.workspace import annotations


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``workspace annotations``."""
    parser.add_argument("slug", help="the workspace (see: python -m gemviz workspace list)")
    add_output_arguments(parser)
    parser.set_defaults(format="csv")


def run(args: argparse.Namespace) -> int:
    """Load the workspace's annotations and print or write them."""
    ws = open_workspace(args.slug)
    out = checked_out(args.out, [str(annotations.path_in(ws.folder)), str(ws.json_path)])
    notes = annotations.load(ws.folder)
    order = None
    if notes:
        try:
            study = ws.study()
            print_warnings(args.command, study.warnings)
            order = study.ids
        except GemvizError:
            order = None  # a file of the workspace is broken: list the notes by id
    emit(render(annotations.to_frame(notes, order), args.format), out)
    return 0
