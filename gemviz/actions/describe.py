"""Actions in plain words, and the few fields of an action that pictures and captions read.

Actions may be :class:`gemviz.actions.Action` objects or their ``to_dict()`` form; only the
fields ``type``, ``point``, ``box``, ``text`` and ``direction`` are read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass
class ActionView:
    """The fields of an action that drawing needs."""

    type: str
    point: tuple[float, float] | None = None
    box: tuple[float, float, float, float] | None = None
    text: str | None = None
    direction: str | None = None


def as_view(action: Any) -> ActionView | None:
    """The drawable fields of an Action or its dict form (None stays None)."""
    if action is None:
        return None
    get = action.get if isinstance(action, Mapping) else lambda k: getattr(action, k, None)
    point, box = get("point"), get("box")
    return ActionView(
        type=str(get("type") or "invalid").lower(),
        point=tuple(float(v) for v in point) if point is not None else None,
        box=tuple(float(v) for v in box) if box is not None else None,
        text=get("text"),
        direction=(str(get("direction")).lower() if get("direction") else None),
    )


def describe(action: Any) -> str:
    """A short plain-words description of an action, for legends and captions.

    Args:
        action: An Action, its dict form, or None.

    Returns:
        E.g. ``"click (0.41, 0.22)"``, ``"type 'hello'"``, ``"scroll down"``, ``"no action"``.
    """
    act = as_view(action)
    if act is None:
        return "no action"
    parts = [act.type]
    if act.direction:
        parts.append(act.direction)
    if act.point is not None:
        parts.append(f"({act.point[0]:.2f}, {act.point[1]:.2f})")
    elif act.box is not None:
        parts.append("[" + ", ".join(f"{v:.2f}" for v in act.box) + "]")
    if act.text:
        text = str(act.text)
        parts.append(repr(text if len(text) <= 40 else text[:37] + "..."))
    return " ".join(parts)
