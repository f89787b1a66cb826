"""User text stays text: escaping for the Markdown that pages render.

Titles, captions, alerts, widget labels and expander labels are rendered as Markdown, so a
task, a field value, a splitter's name, a file path, a URL parameter or an error message that
quotes one of them could draw an image (and make every viewer's browser fetch its URL), a
link, a heading or coloured text. Every piece of user text goes through :func:`md` (inside
Markdown) or :func:`code` (as an inline code span) before it reaches such an element; the
helpers live here, below every layer, so pages (through :mod:`gemviz.ui.text`) and backend
code that composes Markdown for a page use one rule.
"""

from __future__ import annotations

import functools
import re
from typing import Any

# The characters that can start markup anywhere in a line: emphasis, code, links and images
# ([ ] !), raw HTML and autolinks (<), tables (|), strikethrough, maths ($), entities (&),
# and Streamlit's directives (:red[...] needs a bracket). A backslash-escaped ASCII punctuation
# character is always literal in CommonMark. Everything else (dots, dashes, colons, slashes,
# parentheses) stays as typed, so paths and messages read unchanged in the Markdown source.
_ANYWHERE = re.compile(r"([\\`*\[\]<>#!|~$&{}])")
# An underscore inside a word never opens emphasis; one at a word's edge may.
_EDGE_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
_BREAKS = re.compile(r"[\r\n\u2028\u2029\x0b\x0c\x85]+")


def md(value: Any, max_chars: int | None = None) -> str:
    """``value`` as literal text inside Markdown (punctuation escaped, line breaks as spaces).

    Args:
        value: Any user-supplied value (converted with ``str``; an exception gives its
            message).
        max_chars: Cut longer text to this many characters (plus an ellipsis) before escaping.

    Returns:
        Markdown that renders exactly as the text reads, on one line.
    """
    text = str(value)
    if max_chars is not None and len(text) > max_chars:
        text = text[:max_chars] + "…"
    text = _BREAKS.sub(" ", text)
    # Leading spaces would make an indented code block; a lone surrogate cannot be sent.
    text = text.strip().encode("utf-8", "backslashreplace").decode("utf-8")
    text = _ANYWHERE.sub(r"\\\1", text)
    text = _EDGE_UNDERSCORE.sub(r"\\_", text)
    text = re.sub(r"^(\d+)([.)])", r"\1\\\2", text)  # "1." or "1)" would start a list
    return re.sub(r"^([-+=])", r"\\\1", text)


def code(value: Any, max_chars: int | None = 300) -> str:
    """``value`` as a Markdown inline code span that no backtick inside it can close.

    Args:
        value: Any user-supplied value (a path, an id, a slug).
        max_chars: Cut longer text to this many characters (plus an ellipsis).

    Returns:
        The code span, fenced by one more backtick than the longest run inside.
    """
    text = str(value)
    if max_chars is not None and len(text) > max_chars:
        text = text[:max_chars] + "…"
    text = _BREAKS.sub(" ", text).encode("utf-8", "backslashreplace").decode("utf-8")
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}"


# Characters XML 1.0 cannot hold and a terminal would act on instead of showing: C0 controls
# (tab and line feed kept where asked), DEL, C1 controls (ESC starts colour codes), lone
# surrogates and the two non-characters XML refuses.
_INVISIBLE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def _shown_as(match: re.Match) -> str:
    char = match.group()
    code_point = ord(char)
    if code_point < 0x20:
        return chr(0x2400 + code_point)  # the Control Pictures block: \x01 -> ␁, ESC -> ␛
    if code_point == 0x7F:
        return "\u2421"  # ␡
    return f"\\x{code_point:02x}" if code_point <= 0xFF else f"\\u{code_point:04x}"


def visible(value: Any, keep: str = "") -> str:
    """``value`` as text that XML can hold and a terminal shows as is, every character visible.

    Control characters become their pictures (``\\x01`` -> ``␁``, ESC -> ``␛``), so a name
    holding them reads as typed instead of being dropped, breaking a slide's XML or recolouring
    a terminal; C1 controls, lone surrogates and XML's non-characters become ``\\x..``/``\\u....``.

    Args:
        value: Any user text (converted with ``str``).
        keep: Characters left as they are (e.g. ``"\\t\\n"`` for multi-line output).
    """
    text = str(value)
    if text.isprintable():
        return text
    pattern = _INVISIBLE if not keep else _invisible_but(keep)
    return pattern.sub(_shown_as, text)


@functools.cache
def _invisible_but(keep: str) -> re.Pattern:
    kept = "".join(re.escape(c) for c in keep)
    return re.compile(f"(?![{kept}])[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
