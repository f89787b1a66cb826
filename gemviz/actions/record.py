"""The one action record that every parser produces and every rule set compares.

Coordinates are normalized to the screen: ``point`` is (x, y) with 0..1 running left to right
and top to bottom, ``box`` is (x1, y1, x2, y2) on the same scale. Values slightly outside 0..1
(a model pointing past the edge) are kept as they are rather than clipped, so a distance is
never shortened by the record itself.

Scroll direction convention
    ``direction`` names where the view moves: ``"down"`` reveals content further down the
    page, which on a touch screen is a swipe with the finger moving *up*. The GEM prompt
    (``SCROLL [DOWN]``) and UI-TARS (``scroll(direction='down')``) are taken at their word;
    the AITZ / AitW parser turns a finger swipe into this convention (see
    :mod:`gemviz.actions.parsers.aitz`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from gemviz.data.errors import GemvizError

ACTION_TYPES = (
    "click",
    "long_press",
    "type",
    "scroll",
    "press_back",
    "press_home",
    "press_enter",
    "open_app",
    "complete",
    "impossible",
    "wait",
    "invalid",
)
DIRECTIONS = ("up", "down", "left", "right")


@dataclass(frozen=True)
class Action:
    """One agent action.

    Attributes:
        type: One of :data:`ACTION_TYPES`.
        point: (x, y) normalized to the screen, for clicks, long presses and scroll starts.
        text: Typed text, the app name of ``open_app``, or the message of ``complete``.
        direction: ``up``/``down``/``left``/``right`` for scrolls.
        box: (x1, y1, x2, y2) normalized element box, when the source gives one.
        raw: The text the action was parsed from (kept for invalid actions and display).
    """

    type: str
    point: tuple[float, float] | None = None
    text: str | None = None
    direction: str | None = None
    box: tuple[float, float, float, float] | None = None
    raw: str | None = None

    def __post_init__(self) -> None:
        if self.type not in ACTION_TYPES:
            raise GemvizError(
                f"unknown action type {self.type!r}; use one of {', '.join(ACTION_TYPES)}"
            )
        if self.direction is not None and self.direction not in DIRECTIONS:
            raise GemvizError(
                f"unknown scroll direction {self.direction!r}; use one of {', '.join(DIRECTIONS)}"
            )
        # Normalize sequences to float tuples so equality and hashing behave.
        if self.point is not None:
            object.__setattr__(self, "point", _floats(self.point, 2, "point"))
        if self.box is not None:
            object.__setattr__(self, "box", _floats(self.box, 4, "box"))

    @property
    def is_valid(self) -> bool:
        """False for the ``invalid`` type (text no parser understood)."""
        return self.type != "invalid"

    def to_dict(self) -> dict[str, Any]:
        """The canonical JSON form: ``type`` always, other keys only when set."""
        out: dict[str, Any] = {"type": self.type}
        if self.point is not None:
            out["point"] = [self.point[0], self.point[1]]
        if self.text is not None:
            out["text"] = self.text
        if self.direction is not None:
            out["direction"] = self.direction
        if self.box is not None:
            out["box"] = list(self.box)
        if self.raw is not None:
            out["raw"] = self.raw
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Action:
        """Build an action from its canonical dict (the inverse of :meth:`to_dict`).

        The type is read case-insensitively; unknown keys are ignored.

        Args:
            d: A mapping with at least ``type``.

        Returns:
            The action.

        Raises:
            GemvizError: ``type`` is missing or unknown, or a coordinate is malformed.
        """
        if not isinstance(d, dict) or "type" not in d:
            raise GemvizError("an action needs a 'type' field")
        kind = str(d["type"]).strip().lower()
        direction = d.get("direction")
        return cls(
            type=kind,
            point=d.get("point"),
            text=None if d.get("text") is None else str(d["text"]),
            direction=None if direction is None else str(direction).strip().lower(),
            box=d.get("box"),
            raw=d.get("raw"),
        )


def invalid(raw: Any) -> Action:
    """The action for text that no parser understood."""
    return Action(type="invalid", raw=None if raw is None else str(raw))


def _floats(values: Any, n: int, name: str) -> tuple[float, ...]:
    try:
        out = tuple(float(v) for v in values)
    except (TypeError, ValueError):
        raise GemvizError(f"{name} must be {n} numbers, found {values!r}") from None
    if len(out) != n or not all(math.isfinite(v) for v in out):
        raise GemvizError(f"{name} must be {n} finite numbers, found {values!r}")
    return out
