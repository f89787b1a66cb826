"""User text on a page stays text: the pages' names for :mod:`gemviz.data.markup`.

``md(value)`` escapes user text inside Markdown (titles, captions, alerts, widget labels),
``code(value)`` makes it an inline code span; every page imports them from here. The rule
itself lives in :mod:`gemviz.data.markup`, below every layer, so backend code that composes
Markdown for a page uses the same one.
"""

from __future__ import annotations

from gemviz.data.markup import code, md

# The name some callers know the same rule by.
md_escape = md

__all__ = ["code", "md", "md_escape"]
