"""Parser for UI-TARS output.

UI-TARS answers with an optional ``Thought: …`` followed by ``Action: name(arg='…', …)``::

    Thought: The search box is at the top.
    Action: click(start_box='<|box_start|>(512,300)<|box_end|>')

Calls understood (mobile and desktop action spaces): ``click``/``left_single``/``left_double``
/``right_single`` -> click, ``long_press`` -> long_press, ``type(content=…)``,
``scroll(start_box=…, direction=…)``, ``drag``/``swipe(start_box=…, end_box=…)`` -> scroll
(direction from the gesture, see :mod:`gemviz.actions.record`), ``open_app(app_name=…)``,
``press_back()``, ``press_home()``, ``press_enter()`` and ``hotkey(key='enter'|'back'|'home')``,
``finished(content=…)`` -> complete, ``call_user()`` -> impossible, ``wait()``.

A box argument holds two numbers (a point) or four (x1, y1, x2, y2: the centre becomes the point
and the box is kept), with or without ``<|box_start|>``/``<|box_end|>`` or brackets. Qwen2-VL-based
UI-TARS models write 0–1000 relative coordinates (``coords="relative"``, the default); models
that write absolute pixels need ``coords="pixel"`` and the screenshot's ``image_size``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from gemviz.actions.parsers.base import check_coords, numbers_in, plain, point_or_box
from gemviz.actions.record import DIRECTIONS, Action

_ACTION = re.compile(r"action\s*:", re.IGNORECASE)
_CALL = re.compile(r"([A-Za-z_]+)\s*\(")
_ARG = re.compile(
    r"""(\w+)\s*=\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"|([^,)\s]+))""", re.DOTALL
)
_ESCAPES = {"n": "\n", "t": "\t", "'": "'", '"': '"', "\\": "\\"}


class UiTarsParser:
    """The ``uitars`` format: UI-TARS responses."""

    name = "uitars"

    def parse(
        self,
        value: str | dict[str, Any],
        *,
        image_size: tuple[int, int] | None = None,
        coords: str = "relative",
    ) -> Action | None:
        """Parse one UI-TARS response.

        Args:
            value: The model's text (``Thought``/``Action`` or the bare call).
            image_size: (width, height), needed only with ``coords="pixel"``.
            coords: ``"relative"`` (0–1000) or ``"pixel"``.

        Returns:
            The action of the first known call after the last ``Action:`` (or anywhere when there
            is no ``Action:``), or ``None`` when there is no known call.

        Raises:
            GemvizError: ``coords="pixel"`` without ``image_size`` (a caller's mistake).
        """
        check_coords(coords, image_size)
        if not isinstance(value, str):
            return None
        text = value.strip()
        marks = list(_ACTION.finditer(text))
        body = text[marks[-1].end() :] if marks else text
        for call in _CALL.finditer(body):
            handler = _CALLS.get(call.group(1).lower())
            if handler is None:
                continue
            args = _arguments(body[call.end() :])
            action = handler(args, value, coords, image_size)
            if action is not None:
                return action
        return None


def _arguments(rest: str) -> dict[str, str]:
    """Keyword arguments up to the call's closing parenthesis (quotes respected)."""
    args: dict[str, str] = {}
    pos = 0
    while True:
        skip = re.match(r"\s*,?\s*", rest[pos:])
        pos += skip.end() if skip else 0
        if pos >= len(rest) or rest[pos] == ")":
            return args
        found = _ARG.match(rest, pos)
        if not found:
            return args
        raw = next(g for g in found.groups()[1:] if g is not None)
        quoted = found.group(2) is not None or found.group(3) is not None
        args[found.group(1).lower()] = _unescape(raw) if quoted else raw
        pos = found.end()


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(0)), text)


def _located(args: dict[str, str], coords: str, image_size, *keys: str):
    for key in keys:
        if key in args:
            return point_or_box(numbers_in(args[key]), coords, image_size)
    return None


def _pointed(kind: str) -> Callable[..., Action | None]:
    def read(args: dict[str, str], raw: str, coords: str, image_size) -> Action | None:
        located = _located(args, coords, image_size, "start_box", "point", "box", "start_point")
        if located is None:
            return None
        return Action(type=kind, point=located[0], box=located[1], raw=raw)

    return read


def _texted(kind: str, *keys: str) -> Callable[..., Action | None]:
    def read(args: dict[str, str], raw: str, coords: str, image_size) -> Action | None:
        text = next((args[k] for k in keys if k in args), None)
        if text is None and kind != "complete":
            return None
        return Action(type=kind, text=text, raw=raw)

    return read


def _scroll(args: dict[str, str], raw: str, coords: str, image_size) -> Action | None:
    direction = args.get("direction", "").strip().lower()
    located = _located(args, coords, image_size, "start_box", "point", "start_point")
    point = located[0] if located else None
    if direction in DIRECTIONS:
        return Action(type="scroll", point=point, direction=direction, raw=raw)
    return None


def _drag(args: dict[str, str], raw: str, coords: str, image_size) -> Action | None:
    start = _located(args, coords, image_size, "start_box", "start_point")
    end = _located(args, coords, image_size, "end_box", "end_point")
    if start is None or end is None:
        return None
    dx = end[0][0] - start[0][0]
    dy = end[0][1] - start[0][1]
    if dx == 0 and dy == 0:
        return Action(type="click", point=start[0], raw=raw)
    # The finger moving up reveals content below: view direction is opposite to the finger.
    if abs(dy) >= abs(dx):
        direction = "down" if dy < 0 else "up"
    else:
        direction = "right" if dx < 0 else "left"
    return Action(type="scroll", point=start[0], direction=direction, raw=raw)


def _hotkey(args: dict[str, str], raw: str, coords: str, image_size) -> Action | None:
    key = args.get("key", "").strip().lower()
    kind = {
        "enter": "press_enter",
        "return": "press_enter",
        "back": "press_back",
        "home": "press_home",
    }.get(key)
    return None if kind is None else Action(type=kind, raw=raw)


# call name (lower case) -> reader of its arguments
_CALLS: dict[str, Callable[..., Action | None]] = {
    "click": _pointed("click"),
    "left_single": _pointed("click"),
    "left_double": _pointed("click"),
    "right_single": _pointed("click"),
    "tap": _pointed("click"),
    "long_press": _pointed("long_press"),
    "type": _texted("type", "content", "text"),
    "scroll": _scroll,
    "drag": _drag,
    "swipe": _drag,
    "open_app": _texted("open_app", "app_name", "name", "app"),
    "press_back": plain("press_back"),
    "press_home": plain("press_home"),
    "press_enter": plain("press_enter"),
    "hotkey": _hotkey,
    "finished": _texted("complete", "content"),
    "call_user": plain("impossible"),
    "wait": plain("wait"),
}
