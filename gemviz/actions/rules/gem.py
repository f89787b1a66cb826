"""The ``gem`` rule set: the GEM authors' own evaluation.

Source: the single-step evaluation of "GEM: Gaussian Embedding Modeling for Out-of-Distribution
Detection in GUI Agents" (arXiv 2505.12842, Wuzheng02/GEM-OODforGUIagents), which scores
OS-Atlas-format actions (``CLICK <point>[[x, y]]</point>``, ``TYPE [text]``, ``SCROLL [UP]``…).

Exact match:

* click: Euclidean distance <= 0.14 of the screen in normalized coordinates (140 on the
  0–1000 scale; exactly 140 counts, see :mod:`.base` for the tolerance);
* type: the texts are equal after trimming surrounding white space (case kept);
* scroll: same direction;
* every other action: exact once the type matches.

Type mapping (the OS-Atlas action space has CLICK, TYPE, SCROLL, PRESS_BACK, PRESS_HOME,
COMPLETE, IMPOSSIBLE, and ENTER in the Kairos data):

* ``long_press`` -> ``click`` (no long press in the space; a long press on the target lands on
  the same element), compared by distance like a click;
* ``press_enter`` -> its own type (the Kairos ``ENTER``);
* ``open_app`` and ``wait`` -> their own types: they only match themselves.
"""

from __future__ import annotations

from collections.abc import Callable

from gemviz.actions.record import Action
from gemviz.actions.rules.base import RuleSet, within_distance

TYPE_MAP = {
    "click": "click",
    "long_press": "click",
    "type": "type",
    "scroll": "scroll",
    "press_back": "press_back",
    "press_home": "press_home",
    "press_enter": "press_enter",
    "open_app": "open_app",
    "complete": "complete",
    "impossible": "impossible",
    "wait": "wait",
}


def _text(gt: Action, pred: Action) -> bool:
    return (gt.text or "").strip() == (pred.text or "").strip()


_EXACT: dict[str, Callable[[Action, Action], bool]] = {
    "click": lambda gt, pred: within_distance(gt.point, pred.point),
    "type": _text,
    "scroll": lambda gt, pred: gt.direction == pred.direction,
}


def exact(gt: Action, pred: Action) -> bool:
    """Exact match of a type-matched pair under the GEM rules."""
    check = _EXACT.get(TYPE_MAP[gt.type])
    return True if check is None else check(gt, pred)


RULES = RuleSet(name="gem", type_map=TYPE_MAP, exact=exact)
