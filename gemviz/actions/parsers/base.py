"""The :class:`Parser` protocol every action format implements, and the helpers they share.

A parser has a ``name`` (its key in :data:`gemviz.actions.parsers.PARSERS`) and a method
``parse(value, *, image_size=None, coords="relative") -> Action | None``. It returns ``None``
when it does not recognise ``value`` at all (so the ``auto`` parser can try the next format)
and never raises on model output.

Coordinate modes
    ``"relative"``: numbers on the 0–1000 scale that Qwen2-VL-based agents (OS-Atlas, UI-TARS,
    the GEM prompt) emit; divided by 1000.
    ``"pixel"``: absolute pixels of a screenshot of ``image_size`` = (width, height).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

from gemviz.actions.record import Action
from gemviz.data.errors import GemvizError

COORDS = ("relative", "pixel")
RELATIVE_SCALE = 1000.0

NUMBER = r"-?\d+(?:\.\d+)?"
_NUMBER_RE = re.compile(NUMBER)


@runtime_checkable
class Parser(Protocol):
    """An action format: its registry name and a reader of one value."""

    name: str

    def parse(
        self,
        value: str | dict[str, Any],
        *,
        image_size: tuple[int, int] | None = None,
        coords: str = "relative",
    ) -> Action | None:
        """The action ``value`` holds, or None when it is not of this format."""
        ...


def check_coords(coords: str, image_size: tuple[int, int] | None) -> None:
    """Refuse a coordinate mode that cannot work (a caller's mistake, not model output).

    Raises:
        GemvizError: ``coords`` is unknown, or ``"pixel"`` without a usable ``image_size``.
    """
    if coords not in COORDS:
        raise GemvizError(f"unknown coordinate mode {coords!r}; use one of {', '.join(COORDS)}")
    if coords == "pixel" and (image_size is None or len(image_size) != 2 or min(image_size) <= 0):
        raise GemvizError(
            "pixel coordinates need the screenshot size (width, height); give the image size "
            "or use relative (0-1000) coordinates"
        )


def scale_xy(
    x: float, y: float, coords: str, image_size: tuple[int, int] | None
) -> tuple[float, float]:
    """Turn one (x, y) of the given mode into normalized screen coordinates."""
    if coords == "pixel":
        width, height = image_size  # type: ignore[misc]
        return x / width, y / height
    return x / RELATIVE_SCALE, y / RELATIVE_SCALE


def point_or_box(
    numbers: Sequence[float], coords: str, image_size: tuple[int, int] | None
) -> tuple[tuple[float, float], tuple[float, float, float, float] | None] | None:
    """Two numbers give a point; four give a box (x1, y1, x2, y2) and its centre as the point.

    Returns:
        ``(point, box)`` normalized, or ``None`` for any other count of numbers.
    """
    if len(numbers) == 2:
        return scale_xy(numbers[0], numbers[1], coords, image_size), None
    if len(numbers) == 4:
        x1, y1 = scale_xy(numbers[0], numbers[1], coords, image_size)
        x2, y2 = scale_xy(numbers[2], numbers[3], coords, image_size)
        box = (min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2))
        return ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2), box
    return None


def numbers_in(text: str) -> list[float]:
    """Every number written in ``text``, in order."""
    return [float(n) for n in _NUMBER_RE.findall(text)]


def plain(kind: str) -> Callable[..., Action]:
    """A reader for an action without arguments (press_back, complete, ...).

    The readers of the GEM and UI-TARS parsers share one call shape,
    ``read(arguments, raw, coords, image_size)``; this one ignores all but ``raw``.
    """

    def read(arguments: object, raw: str, coords: str, image_size: object) -> Action:
        return Action(type=kind, raw=raw)

    return read
