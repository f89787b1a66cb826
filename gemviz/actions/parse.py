"""Parse one action in any supported format, and look up a matching rule set by name."""

from __future__ import annotations

import math
from typing import Any

from gemviz.actions.parsers import AUTO, PARSERS
from gemviz.actions.parsers.base import check_coords
from gemviz.actions.record import Action, invalid
from gemviz.actions.rules import RULES, RuleSet
from gemviz.data.errors import GemvizError

FORMATS = ("auto", *PARSERS)

# What can go wrong inside a parser on strange text; anything else is a bug and propagates.
_PARSE_ERRORS = (ValueError, TypeError, LookupError, ArithmeticError)


def parse_action(
    value: str | dict[str, Any] | None,
    fmt: str = "auto",
    image_size: tuple[int, int] | None = None,
    coords: str | None = None,
) -> Action:
    """Parse one action in any supported format.

    Args:
        value: Model text, a GEM-format string, a canonical dict or its JSON, or an AITZ / AitW
            record.
        fmt: ``"auto"`` or a key of :data:`PARSERS`.
        image_size: Screenshot (width, height), for pixel coordinates.
        coords: ``"relative"`` (0–1000) or ``"pixel"``; by default ``"pixel"`` when
            ``image_size`` is given, else ``"relative"``.

    Returns:
        The action; text that the parser cannot read gives ``Action(type="invalid", raw=…)``.
        Model output never raises.

    Raises:
        GemvizError: ``fmt`` or ``coords`` is unknown, or pixel coordinates lack the image size
            (mistakes of the caller, not of the model).
    """
    if fmt not in FORMATS:
        raise GemvizError(f"unknown action format {fmt!r}; use one of {', '.join(FORMATS)}")
    mode = coords or ("pixel" if image_size is not None else "relative")
    check_coords(mode, image_size)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return invalid(value)
    if not isinstance(value, (str, dict)):
        value = str(value)
    try:
        parser = AUTO if fmt == "auto" else PARSERS[fmt]
        action = parser.parse(value, image_size=image_size, coords=mode)
    except _PARSE_ERRORS:
        action = None
    return action if action is not None else invalid(value)


def match_action(gt: Action, pred: Action, rules: str = "gem") -> tuple[int, int]:
    """Type match and exact match (each 0 or 1) of ``pred`` against ``gt``.

    Args:
        gt: The ground-truth action.
        pred: The predicted action.
        rules: A key of :data:`RULES`.

    Returns:
        ``(type_match, exact_match)``; an invalid action on either side gives ``(0, 0)``.

    Raises:
        GemvizError: ``rules`` is unknown.
    """
    return rule_set(rules).match(gt, pred)


def rule_set(name: str) -> RuleSet:
    """The rule set called ``name``; raises :class:`GemvizError` listing the known ones."""
    try:
        return RULES[name]
    except KeyError:
        raise GemvizError(f"unknown rule set {name!r}; use one of {', '.join(RULES)}") from None
