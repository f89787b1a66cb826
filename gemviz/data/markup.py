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
