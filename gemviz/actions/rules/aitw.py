"""The ``aitw`` rule set: AndroidInTheWild's action matching.

Source: ``android_in_the_wild/action_matching.py`` in google-research/google-research
(``check_actions_match``), the rule behind AitW's "partial action matching" score.

Type mapping (AitW's ``ActionType``): ``click``, ``long_press`` and ``scroll`` are all
``DUAL_POINT`` gestures, so a tap and a scroll *type*-match (as in AitW), but a tap never
*exactly* matches a scroll. ``type``, ``press_back``, ``press_home``, ``press_enter``,
``complete`` and ``impossible`` are AitW's TYPE, PRESS_BACK, PRESS_HOME, PRESS_ENTER,
STATUS_TASK_COMPLETE and STATUS_TASK_IMPOSSIBLE. ``open_app`` and ``wait`` have no AitW
counterpart and only match themselves.

Exact match:

* tap vs tap (click/long press): the points are within 0.14 of the screen, or both lie in the
  same element box enlarged as AitW does it: each side grows by 1.4 times the box's size
  (``ANNOTATION_*_AUGMENT_FRACTION = 1.4``, i.e. a box 2.4 times as wide and as tall about its
  centre, clipped to the screen). The boxes used are the ground truth's and the prediction's
  element boxes, when given;
* scroll vs scroll: same main axis of the gesture (up/down vs left/right), as AitW compares the
  axis of largest movement only;
* tap vs scroll: never exact;
* every other action: exact once the type matches (AitW compares types only, so typed text is
  not compared).
"""

from __future__ import annotations

from gemviz.actions.record import Action
from gemviz.actions.rules.base import RuleSet, axis, enlarge, in_box, within_distance

AUGMENT_FRACTION = 1.4
_TAPS = ("click", "long_press")

TYPE_MAP = {
    "click": "dual_point",
    "long_press": "dual_point",
    "scroll": "dual_point",
    "type": "type",
    "press_back": "press_back",
    "press_home": "press_home",
    "press_enter": "press_enter",
    "open_app": "open_app",
    "complete": "complete",
    "impossible": "impossible",
    "wait": "wait",
}


def exact(gt: Action, pred: Action) -> bool:
    """Exact match of a type-matched pair under AitW's rules."""
    if TYPE_MAP[gt.type] != "dual_point":
        return True
    gt_tap, pred_tap = gt.type in _TAPS, pred.type in _TAPS
    if gt_tap != pred_tap:
        return False
    if not gt_tap:
        return axis(gt.direction) is not None and axis(gt.direction) == axis(pred.direction)
    for box in (gt.box, pred.box):
        if box is not None:
            grown = enlarge(box, 1.0 + AUGMENT_FRACTION)
            if in_box(gt.point, grown) and in_box(pred.point, grown):
                return True
    return within_distance(gt.point, pred.point)


RULES = RuleSet(name="aitw", type_map=TYPE_MAP, exact=exact)
