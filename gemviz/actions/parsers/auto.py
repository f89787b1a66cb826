"""Pick the format of a value and parse it; the ``auto`` choice of the parser registry.

Detection:

* a dict (or JSON object text) with a ``type`` naming an action type -> ``canonical``;
  one with an AITZ / AitW action-type field -> ``aitz``;
* text with a function call that UI-TARS uses (``click(``, ``type(``, ``finished(``…) or an
  ``Action:`` line -> ``uitars``;
* any other text -> ``gem``.

When the detected parser reads nothing, the other text parsers are tried in turn, so a stray
GEM action inside UI-TARS-looking prose is still found.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from gemviz.actions.parsers.aitz import TYPE_KEYS
from gemviz.actions.parsers.base import Parser
from gemviz.actions.parsers.canonical import is_canonical
from gemviz.actions.record import Action

_UITARS_CALL = re.compile(
    r"\b(click|left_single|left_double|right_single|long_press|type|scroll|drag|open_app|"
    r"press_back|press_home|press_enter|hotkey|finished|call_user|wait)\s*\(",
)


def detect_format(value: Any) -> str | None:
    """The name of the format ``value`` appears to be in, or ``None`` for nothing known."""
    data = value
    if isinstance(value, str) and value.strip().startswith("{"):
        try:
            data = json.loads(value)
        except json.JSONDecodeError:
            data = value
    if isinstance(data, dict):
        if is_canonical(data):
            return "canonical"
        if any(data.get(k) is not None for k in TYPE_KEYS):
            return "aitz"
        return None
    if not isinstance(data, str):
        return None
    if _UITARS_CALL.search(data):
        return "uitars"
    return "gem"


class AutoParser:
    """The ``auto`` format: detect a value's format, then read it with that parser.

    Args:
        parsers: The parser registry (format name -> :class:`~gemviz.actions.parsers.base.Parser`).
    """

    name = "auto"

    def __init__(self, parsers: Mapping[str, Parser]) -> None:
        self.parsers = parsers

    def parse(
        self,
        value: str | dict[str, Any],
        *,
        image_size: tuple[int, int] | None = None,
        coords: str = "relative",
    ) -> Action | None:
        """Detect the format and parse; the other text parsers are tried when it reads nothing.

        Args:
            value: Model text, a canonical dict/JSON or an AITZ record.
            image_size, coords: Passed to the parser.

        Returns:
            The action, or ``None`` when no parser reads ``value``.
        """
        fmt = detect_format(value)
        if fmt is None:
            return None
        order = [fmt] + [f for f in ("uitars", "gem") if f != fmt and isinstance(value, str)]
        for name in order:
            action = self.parsers[name].parse(value, image_size=image_size, coords=coords)
            if action is not None:
                return action
        return None
