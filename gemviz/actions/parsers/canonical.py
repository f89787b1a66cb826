"""Parser for the canonical action record itself, as a dict or its JSON text.

The canonical form is what :meth:`gemviz.actions.record.Action.to_dict` writes, e.g.
``{"type": "click", "point": [0.512, 0.3]}``.
"""

from __future__ import annotations

import json
from typing import Any

from gemviz.actions.record import ACTION_TYPES, Action
from gemviz.data.errors import GemvizError


class CanonicalParser:
    """The ``canonical`` format: canonical action dicts and their JSON."""

    name = "canonical"

    def parse(
        self,
        value: str | dict[str, Any],
        *,
        image_size: tuple[int, int] | None = None,
        coords: str = "relative",
    ) -> Action | None:
        """Parse a canonical action dict or JSON object string.

        Args:
            value: The dict or JSON text.
            image_size, coords: Accepted for the common parser signature; canonical points are
                already normalized.

        Returns:
            The action; ``None`` when ``value`` is not an object with a known ``type``. A known
            type with malformed fields (a point of three numbers) gives an ``invalid`` action.
        """
        data = value
        if isinstance(value, str):
            text = value.strip()
            if not text.startswith("{"):
                return None
            try:
                data = json.loads(text)
            except json.JSONDecodeError:
                return None
        if not isinstance(data, dict) or not is_canonical(data):
            return None
        try:
            action = Action.from_dict(data)
        except GemvizError:
            return Action(
                type="invalid", raw=value if isinstance(value, str) else json.dumps(value)
            )
        if action.raw is None and isinstance(value, str):
            action = Action(**{**action.__dict__, "raw": value})
        return action


def is_canonical(data: dict[str, Any]) -> bool:
    """Whether ``data`` looks like a canonical action (a ``type`` naming an action type)."""
    kind = data.get("type")
    return isinstance(kind, str) and kind.strip().lower() in ACTION_TYPES
