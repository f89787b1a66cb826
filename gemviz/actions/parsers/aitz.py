"""Parser for AITZ / AndroidInTheWild (AitW) ground-truth records.

Field names understood (the first one present wins):

* action type: ``result_action_type`` (AITZ), ``results/action_type`` (AitW), ``action_type``,
  ``action_type_id``; an AitW id or a name (``DUAL_POINT``, ``TYPE``, ``PRESS_BACK``…, also
  ``click``/``scroll``). AitW ids: 3 type, 4 dual point (tap or swipe), 5 back, 6 home,
  7 enter, 10 task complete, 11 task impossible (0–2, 8, 9 are unused placeholders).
* touch and lift points: ``result_touch_yx``/``result_lift_yx`` (AITZ),
  ``results/yx_touch``/``results/yx_lift`` (AitW), ``touch_yx``/``lift_yx``, and
  ``touch_xy``/``lift_xy``/``touch_point``/``lift_point``; a list or its JSON text
  (AITZ writes ``"[0.52, 0.31]"``).
* typed text: ``result_action_text``, ``results/type_action``, ``type_text``, ``action_text``,
  ``typed_text``, ``text``.
* element boxes: ``ui_positions`` (AITZ: JSON list of [top, left, height, width]).

Coordinate order
    AITZ and AitW store points as **(y, x)**. The order is taken from the field name: a name
    ending in ``_yx`` or starting with ``yx_`` is (y, x); one ending in ``_xy`` is (x, y);
    ``touch_point``/``lift_point`` are read as (y, x) too, the convention of both datasets.
    Values up to 1 are already normalized; larger values are pixels and need ``image_size``
    (otherwise the action is invalid).

Gestures
    A dual-point action whose touch and lift lie within 0.04 of the screen of each other is a
    tap (AitW's ``_SWIPE_DISTANCE_THRESHOLD``), else a scroll whose direction comes from the
    larger axis of the finger's movement, turned into gemviz's view direction (finger up =
    ``down``; see :mod:`gemviz.actions.record`). A tap's element box is the smallest
    ``ui_positions`` box containing the touch point, when the record has them.
"""

from __future__ import annotations

import json
import math
from typing import Any

from gemviz.actions.parsers.base import check_coords
from gemviz.actions.record import Action

TAP_THRESHOLD = 0.04

TYPE_KEYS = ("result_action_type", "results/action_type", "action_type", "action_type_id")
TOUCH_KEYS = (
    "result_touch_yx",
    "results/yx_touch",
    "touch_yx",
    "yx_touch",
    "touch_xy",
    "touch_point",
)
LIFT_KEYS = ("result_lift_yx", "results/yx_lift", "lift_yx", "yx_lift", "lift_xy", "lift_point")
TEXT_KEYS = (
    "result_action_text",
    "results/type_action",
    "type_text",
    "action_text",
    "typed_text",
    "text",
)
BOX_KEYS = ("ui_positions",)

# AitW's ActionType ids.
AITW_IDS: dict[int, str] = {
    3: "type",
    4: "dual_point",
    5: "press_back",
    6: "press_home",
    7: "press_enter",
    10: "complete",
    11: "impossible",
}
_NAMES: dict[str, str] = {
    "dual_point": "dual_point",
    "click": "click",
    "tap": "click",
    "long_press": "long_press",
    "scroll": "dual_point",
    "swipe": "dual_point",
    "type": "type",
    "press_back": "press_back",
    "back": "press_back",
    "press_home": "press_home",
    "home": "press_home",
    "press_enter": "press_enter",
    "enter": "press_enter",
    "status_task_complete": "complete",
    "complete": "complete",
    "stop": "complete",
    "status_task_impossible": "impossible",
    "impossible": "impossible",
    "open_app": "open_app",
    "wait": "wait",
}


class AitzParser:
    """The ``aitz`` format: AITZ / AitW records."""

    name = "aitz"

    def parse(
        self,
        value: str | dict[str, Any],
        *,
        image_size: tuple[int, int] | None = None,
        coords: str = "relative",
    ) -> Action | None:
        """Parse one AITZ / AitW record (a dict or its JSON text).

        Args:
            value: The record, or a JSON object string.
            image_size: (width, height), used when the points are in pixels.
            coords: Accepted for the common parser signature; the record's own values decide
                (see the module docstring).

        Returns:
            The action, or ``None`` when ``value`` has no action-type field. A record with a type
            but unusable points gives an ``invalid`` action.
        """
        check_coords(coords, image_size if coords == "pixel" else None)
        record = _as_dict(value)
        if record is None:
            return None
        kind = _kind(_first(record, TYPE_KEYS))
        if kind is None:
            return None
        raw = (
            value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
        )
        if kind in ("dual_point", "click", "long_press"):
            return _gesture(record, kind, raw, image_size)
        if kind == "type":
            text = _first(record, TEXT_KEYS)
            return Action(type="type", text="" if text is None else str(text), raw=raw)
        return Action(type=kind, raw=raw)


def _as_dict(value: Any) -> dict[str, Any] | None:
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and value.strip().startswith("{"):
        try:
            data = json.loads(value)
        except json.JSONDecodeError:
            return None
        return data if isinstance(data, dict) else None
    return None


def _first(record: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        if record.get(key) is not None:
            return record[key]
    return None


def _first_key(record: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    return next((k for k in keys if record.get(k) is not None), None)


def _kind(value: Any) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)) or (isinstance(value, str) and value.strip().isdigit()):
        return AITW_IDS.get(int(float(value)), "invalid")
    name = str(value).strip().lower().replace(" ", "_")
    return _NAMES.get(name, "invalid")


def _point(record: dict[str, Any], keys: tuple[str, ...], image_size) -> tuple[float, float] | None:
    key = _first_key(record, keys)
    if key is None:
        return None
    value = record[key]
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return None
    try:
        a, b = (float(v) for v in value)
    except (TypeError, ValueError):
        return None
    x, y = (a, b) if key.endswith("_xy") else (b, a)
    if not (math.isfinite(x) and math.isfinite(y)):
        return None
    if max(abs(x), abs(y)) > 1:
        if image_size is None:
            return None
        x, y = x / image_size[0], y / image_size[1]
    return x, y


def _gesture(record: dict[str, Any], kind: str, raw: str, image_size) -> Action:
    touch = _point(record, TOUCH_KEYS, image_size)
    if touch is None:
        return Action(type="invalid", raw=raw)
    lift = _point(record, LIFT_KEYS, image_size) or touch
    dx, dy = lift[0] - touch[0], lift[1] - touch[1]
    if kind != "dual_point" or math.hypot(dx, dy) <= TAP_THRESHOLD:
        tap = "long_press" if kind == "long_press" else "click"
        return Action(type=tap, point=touch, box=_element_box(record, touch), raw=raw)
    if abs(dy) >= abs(dx):
        direction = "down" if dy < 0 else "up"
    else:
        direction = "right" if dx < 0 else "left"
    return Action(type="scroll", point=touch, direction=direction, raw=raw)


def _element_box(
    record: dict[str, Any], point: tuple[float, float]
) -> tuple[float, float, float, float] | None:
    """The smallest AITZ ``ui_positions`` box (top, left, height, width) holding ``point``."""
    value = _first(record, BOX_KEYS)
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return None
    if not isinstance(value, list):
        return None
    best = None
    x, y = point
    for item in value:
        try:
            top, left, height, width = (float(v) for v in item)
        except (TypeError, ValueError):
            continue
        if left <= x <= left + width and top <= y <= top + height:
            area = height * width
            if best is None or area < best[0]:
                best = (area, (left, top, left + width, top + height))
    return None if best is None else best[1]
