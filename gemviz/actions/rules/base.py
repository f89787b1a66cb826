"""What a matching rule set is, and the geometry the rule sets share.

A :class:`RuleSet` maps every action type onto the types of its source's action space (its
*type mapping*); two actions *type-match* when their mapped types are equal. Only then is the
rule set's exact check consulted. An ``invalid`` action (text no parser read) never matches,
not even another invalid action.

Distances are compared on the 0–1000 scale with a tolerance of 1e-6 (a millionth of a
thousandth of the screen): GEM coordinates are integers on that scale, so a distance of
exactly 140 units must count as 0.14 even when its float lands at 140.00000000000003.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from gemviz.actions.record import ACTION_TYPES, Action

CLICK_THRESHOLD = 0.14  # fraction of the screen (AitW's _TAP_DISTANCE_THRESHOLD)
_SCALE = 1000.0
_EPS = 1e-6  # on the 0–1000 scale
_BOX_EPS = 1e-9  # on the 0–1 scale: box edges are inclusive

Box = tuple[float, float, float, float]
Point = tuple[float, float]


@dataclass(frozen=True)
class RuleSet:
    """One matching rule set.

    Attributes:
        name: Registry key.
        type_map: gemviz action type -> the rule set's own type (every type but ``invalid``).
        exact: ``exact(gt, pred) -> bool``, called only for type-matched pairs.
    """

    name: str
    type_map: Mapping[str, str]
    exact: Callable[[Action, Action], bool]

    def __post_init__(self) -> None:
        missing = set(ACTION_TYPES) - {"invalid"} - set(self.type_map)
        if missing:
            raise ValueError(f"rule set {self.name} maps no type for {sorted(missing)}")

    def match(self, gt: Action, pred: Action) -> tuple[int, int]:
        """``(type_match, exact_match)`` of ``pred`` against ``gt``, each 0 or 1."""
        if not gt.is_valid or not pred.is_valid:
            return 0, 0
        if self.type_map[gt.type] != self.type_map[pred.type]:
            return 0, 0
        return 1, int(bool(self.exact(gt, pred)))


def within_distance(a: Point | None, b: Point | None, threshold: float = CLICK_THRESHOLD) -> bool:
    """Euclidean distance of two normalized points <= ``threshold`` (inclusive, see module)."""
    if a is None or b is None:
        return False
    distance = math.hypot((a[0] - b[0]) * _SCALE, (a[1] - b[1]) * _SCALE)
    return distance <= threshold * _SCALE + _EPS


def enlarge(box: Box, factor: float) -> Box:
    """``box`` scaled by ``factor`` about its centre, clipped to the screen."""
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    half_w, half_h = (box[2] - box[0]) * factor / 2, (box[3] - box[1]) * factor / 2
    return (
        max(0.0, cx - half_w),
        max(0.0, cy - half_h),
        min(1.0, cx + half_w),
        min(1.0, cy + half_h),
    )


def in_box(point: Point | None, box: Box | None) -> bool:
    """Whether ``point`` lies in ``box``, edges included."""
    if point is None or box is None:
        return False
    x, y = point
    return (box[0] - _BOX_EPS <= x <= box[2] + _BOX_EPS) and (
        box[1] - _BOX_EPS <= y <= box[3] + _BOX_EPS
    )


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two boxes (0 when both are empty)."""
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def axis(direction: str | None) -> str | None:
    """``"vertical"`` for up/down, ``"horizontal"`` for left/right."""
    return {"up": "vertical", "down": "vertical", "left": "horizontal", "right": "horizontal"}.get(
        direction or ""
    )
