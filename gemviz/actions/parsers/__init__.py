"""Parsers from the formats agents and datasets write actions in, one module per format."""

from __future__ import annotations

from gemviz.actions.parsers import aitz, canonical, gem, uitars

# format name -> parser(value, *, image_size=None, coords="relative") -> Action | None
PARSERS = {
    "gem": gem.parse,
    "uitars": uitars.parse,
    "aitz": aitz.parse,
    "canonical": canonical.parse,
}

__all__ = ["PARSERS"]
