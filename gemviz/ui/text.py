"""User text on a page: shown as typed, never as Markdown, HTML or LaTeX."""

from __future__ import annotations

import re

# Characters that start markup anywhere in a line (links need their '[', HTML its '<').
_MARKDOWN = set("\\`*_[]<>#|~$")
# Markup that only starts a line: lists, numbered lists, quotes, headings.
_LINE_START = re.compile(r"^(\s*)(?:([-+>])|(\d+)([.)]))", re.MULTILINE)


def md_escape(text: str) -> str:
    """``text`` with its Markdown and LaTeX characters escaped, for st.success/st.info & co.

    User text (model, splitter and step names, tasks) must read as typed, never as markup.
    """
    out = "".join("\\" + c if c in _MARKDOWN else c for c in str(text))
    return _LINE_START.sub(_line_start, out)


def _line_start(m: re.Match) -> str:
    if m.group(2):
        return m.group(1) + "\\" + m.group(2)
    return m.group(1) + m.group(3) + "\\" + m.group(4)
