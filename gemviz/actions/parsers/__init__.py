"""Parsers from the formats agents and datasets write actions in, one module per format.

Each is a :class:`~gemviz.actions.parsers.base.Parser`; :data:`PARSERS` maps its name to it,
and :data:`AUTO` picks the format of a value and tries them in turn.
"""

from __future__ import annotations

from gemviz.actions.parsers.aitz import AitzParser
from gemviz.actions.parsers.auto import AutoParser
from gemviz.actions.parsers.base import Parser
from gemviz.actions.parsers.canonical import CanonicalParser
from gemviz.actions.parsers.gem import GemParser
from gemviz.actions.parsers.uitars import UiTarsParser

#: Format name -> its parser.
PARSERS: dict[str, Parser] = {
    p.name: p for p in (GemParser(), UiTarsParser(), AitzParser(), CanonicalParser())
}
#: The ``auto`` format: detect, then parse with :data:`PARSERS`.
AUTO = AutoParser(PARSERS)

__all__ = ["AUTO", "PARSERS", "Parser"]
