"""Parser for the GEM / OS-Atlas prompt format.

The format the GEM authors' agent prompt asks for (``Code/qwen_agent.py`` of
Wuzheng02/GEM-OODforGUIagents) and OS-Atlas answers in::

    CLICK <point>[[512, 300]]</point>    TYPE [hello]    SCROLL [UP]
    PRESS_BACK    PRESS_HOME    COMPLETE    IMPOSSIBLE

plus ``ENTER`` / ``PRESS_ENTER`` (found in the Kairos release), ``LONG_PRESS <point>…``,
``OPEN_APP [name]`` and ``WAIT``. Coordinates are on the 0–1000 scale; a click may also carry
a 4-number box (its centre becomes the point).

Tolerated: any case, extra spaces or underscores (``press back``), missing ``<point>`` tags or
brackets, an ``action:`` prefix, and prose around the action. When several keywords appear, the
text after the last ``action:`` is searched first, then upper-case keywords are preferred over
lower-case words, because prose such as "to complete the task, CLICK …" should give the click.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from gemviz.actions.parsers.base import NUMBER, check_coords, numbers_in, plain, point_or_box
from gemviz.actions.record import Action

_PREFIX = re.compile(r"action\s*:", re.IGNORECASE)
# Keyword spellings; the order matters where one is a prefix of another (PRESS_ENTER vs ENTER).
_KEYWORDS = {
    "long_press": r"LONG[\s_-]*PRESS",
    "click": r"CLICK|TAP",
    "type": r"TYPE",
    "scroll": r"SCROLL|SWIPE",
    "press_back": r"PRESS[\s_-]*BACK|BACK",
    "press_home": r"PRESS[\s_-]*HOME|HOME",
    "press_enter": r"PRESS[\s_-]*ENTER|ENTER",
    "open_app": r"OPEN[\s_-]*APP",
    "complete": r"COMPLETE|STATUS[\s_-]*TASK[\s_-]*COMPLETE|FINISHED|DONE",
    "impossible": r"IMPOSSIBLE|STATUS[\s_-]*TASK[\s_-]*IMPOSSIBLE",
    "wait": r"WAIT",
}
# Short aliases (BACK, HOME, ENTER, TAP, DONE…) are common English words, so they count only
# in upper case; the lower-case pass knows the full keyword spellings alone.
_LOOSE = {k: v.split("|")[0] for k, v in _KEYWORDS.items()}
_LOOSE["complete"] = r"COMPLETE"


def _keyword_regex(keywords: dict[str, str], flags: int) -> re.Pattern[str]:
    names = "|".join(f"(?P<{k}>{v})" for k, v in keywords.items())
    return re.compile(r"(?<![A-Za-z_])(?:" + names + r")(?![A-Za-z_])", flags)


_KEYWORD_RE = (_keyword_regex(_KEYWORDS, 0), _keyword_regex(_LOOSE, re.IGNORECASE))
_COORDS_RE = re.compile(
    r"^\s*:?\s*(?:<\s*(?:point|box)\s*>)?\s*[\[\(]*\s*"
    rf"({NUMBER}(?:\s*,\s*{NUMBER}){{1,3}})"
    r"\s*[\]\)]*\s*(?:<\s*/\s*(?:point|box)\s*>)?"
)
_BRACKETED = re.compile(r"^\s*:?\s*\[(.*)\]", re.DOTALL)
_BARE = re.compile(r"^\s*:?\s*(.+)")
_DIRECTION = re.compile(r"^\s*:?\s*[\[\(]?\s*[\"']?(up|down|left|right)\b", re.IGNORECASE)


class GemParser:
    """The ``gem`` format: the GEM prompt's action strings."""

    name = "gem"

    def parse(
        self,
        value: str | dict[str, Any],
        *,
        image_size: tuple[int, int] | None = None,
        coords: str = "relative",
    ) -> Action | None:
        """Parse one GEM-format action string.

        Args:
            value: The model's text (a dict is not this format and gives ``None``).
            image_size: (width, height), needed only with ``coords="pixel"``.
            coords: ``"relative"`` (0–1000, the format's own) or ``"pixel"``.

        Returns:
            The action, or ``None`` when no GEM action can be read from the text.

        Raises:
            GemvizError: ``coords="pixel"`` without ``image_size`` (a caller's mistake).
        """
        check_coords(coords, image_size)
        if not isinstance(value, str):
            return None
        text = value.strip()
        candidates = []
        prefixes = list(_PREFIX.finditer(text))
        if prefixes:
            candidates.append(text[prefixes[-1].end() :])
        candidates.append(text)
        for candidate in candidates:
            for regex in _KEYWORD_RE:
                for match in regex.finditer(candidate):
                    kind = match.lastgroup or ""
                    rest = candidate[match.end() :]
                    action = _ARGUMENTS[kind](rest, value, coords, image_size)
                    if action is not None:
                        return action
        return None


def _pointed(kind: str) -> Callable[..., Action | None]:
    def read(rest: str, raw: str, coords: str, image_size) -> Action | None:
        found = _COORDS_RE.match(rest)
        if not found:
            return None
        located = point_or_box(numbers_in(found.group(1)), coords, image_size)
        if located is None:
            return None
        return Action(type=kind, point=located[0], box=located[1], raw=raw)

    return read


def _texted(kind: str) -> Callable[..., Action | None]:
    def read(rest: str, raw: str, coords: str, image_size) -> Action | None:
        line = rest.split("\n", 1)[0]
        found = _BRACKETED.match(line) or _BARE.match(line)
        if not found:
            return None
        return Action(type=kind, text=found.group(1).strip(), raw=raw)

    return read


def _scroll(rest: str, raw: str, coords: str, image_size) -> Action | None:
    found = _DIRECTION.match(rest)
    if not found:
        return None
    return Action(type="scroll", direction=found.group(1).lower(), raw=raw)


# keyword group -> reader of the argument that follows it
_ARGUMENTS: dict[str, Callable[..., Action | None]] = {
    "click": _pointed("click"),
    "long_press": _pointed("long_press"),
    "type": _texted("type"),
    "open_app": _texted("open_app"),
    "scroll": _scroll,
    "press_back": plain("press_back"),
    "press_home": plain("press_home"),
    "press_enter": plain("press_enter"),
    "complete": plain("complete"),
    "impossible": plain("impossible"),
    "wait": plain("wait"),
}


def format_gem(action: Action) -> str:
    """Write an action in the GEM prompt format (0–1000 integer coordinates).

    ``long_press``, ``open_app`` and ``wait`` have no GEM spelling of their own in the prompt;
    they are written as ``LONG_PRESS <point>…``, ``OPEN_APP [name]`` and ``WAIT``, which this
    parser reads back. An invalid action is written as its raw text.
    """
    return _WRITERS[action.type](action)


def _scaled(point: tuple[float, float] | None) -> str:
    x, y = point or (0.0, 0.0)
    return f"<point>[[{round(x * 1000)}, {round(y * 1000)}]]</point>"


_WRITERS: dict[str, Callable[[Action], str]] = {
    "click": lambda a: f"CLICK {_scaled(a.point)}",
    "long_press": lambda a: f"LONG_PRESS {_scaled(a.point)}",
    "type": lambda a: f"TYPE [{a.text or ''}]",
    "scroll": lambda a: f"SCROLL [{(a.direction or 'down').upper()}]",
    "press_back": lambda a: "PRESS_BACK",
    "press_home": lambda a: "PRESS_HOME",
    "press_enter": lambda a: "PRESS_ENTER",
    "open_app": lambda a: f"OPEN_APP [{a.text or ''}]",
    "complete": lambda a: "COMPLETE",
    "impossible": lambda a: "IMPOSSIBLE",
    "wait": lambda a: "WAIT",
    "invalid": lambda a: a.raw or "",
}
