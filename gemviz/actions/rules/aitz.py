"""The ``aitz`` rule set: the evaluation of Android in the Zoo (AITZ).

Source: the single-step evaluation of "Android in the Zoo: Chain-of-Action-Thought for GUI
Agents" (Zhang et al., Findings of EMNLP 2024, arXiv 2403.02713; repository IMNearth/CoAT),
which judges a click by element boxes and typed text by fuzzy matching.

Type mapping (AITZ's action space: click, scroll, type, press, stop):

* ``long_press`` -> ``click``;
* ``press_back``, ``press_home``, ``press_enter`` -> ``press``, exact only for the same button;
* ``complete`` and ``impossible`` keep their own types; ``open_app`` and ``wait`` only match
  themselves.

Exact match:

* click, when the prediction has an element box: the ground-truth point lies in the predicted
  box enlarged 1.2 times about its centre, or in the ground-truth element box enlarged 1.2
  times whose IoU with the predicted box exceeds 0.5;
* click, when only the ground truth has an element box (a model that answers with a point):
  the predicted point lies in the ground-truth box enlarged 1.2 times (gemviz's reading of the
  rule for point-only predictions);
* click, when neither has a box: the distance rule (<= 0.14 of the screen);
* type: after trimming and lower-casing, one text contains the other, or their Levenshtein
  ratio (rapidfuzz's ``fuzz.ratio`` / 100, the normalized InDel similarity that
  ``Levenshtein.ratio`` computes) exceeds 0.8. An empty text matches only an empty text;
* scroll: same direction;
* press: same button; complete, impossible, open_app, wait: exact once the type matches.
"""

from __future__ import annotations

from collections.abc import Callable

from rapidfuzz import fuzz

from gemviz.actions.record import Action
from gemviz.actions.rules.base import RuleSet, enlarge, in_box, iou, within_distance

BOX_FACTOR = 1.2
IOU_THRESHOLD = 0.5
TEXT_RATIO = 0.8

TYPE_MAP = {
    "click": "click",
    "long_press": "click",
    "type": "type",
    "scroll": "scroll",
    "press_back": "press",
    "press_home": "press",
    "press_enter": "press",
    "open_app": "open_app",
    "complete": "complete",
    "impossible": "impossible",
    "wait": "wait",
}


def _click(gt: Action, pred: Action) -> bool:
    if gt.box is None and pred.box is None:
        return within_distance(gt.point, pred.point)
    if pred.box is None:
        return in_box(pred.point, enlarge(gt.box, BOX_FACTOR))  # type: ignore[arg-type]
    if in_box(gt.point, enlarge(pred.box, BOX_FACTOR)):
        return True
    if gt.box is None:
        return False
    gt_box = enlarge(gt.box, BOX_FACTOR)
    return in_box(gt.point, gt_box) and iou(gt_box, pred.box) > IOU_THRESHOLD


def text_match(a: str | None, b: str | None) -> bool:
    """AITZ's typed-text rule: containment either way, or Levenshtein ratio > 0.8."""
    a, b = (a or "").strip().lower(), (b or "").strip().lower()
    if not a or not b:
        return a == b
    return a in b or b in a or fuzz.ratio(a, b) / 100.0 > TEXT_RATIO


_EXACT: dict[str, Callable[[Action, Action], bool]] = {
    "click": _click,
    "type": lambda gt, pred: text_match(gt.text, pred.text),
    "scroll": lambda gt, pred: gt.direction == pred.direction,
    "press": lambda gt, pred: gt.type == pred.type,
}


def exact(gt: Action, pred: Action) -> bool:
    """Exact match of a type-matched pair under the AITZ rules."""
    check = _EXACT.get(TYPE_MAP[gt.type])
    return True if check is None else check(gt, pred)


RULES = RuleSet(name="aitz", type_map=TYPE_MAP, exact=exact)
