"""How much room a slide's text takes: an estimate of wrapped lines and height, to fit boxes.

python-pptx writes text but cannot measure it, and LibreOffice and PowerPoint wrap it when
the deck is opened. The estimate here wraps every paragraph at an average character width
(:data:`CHAR_EM` of the font size, on the wide side for Arial in mixed text) inside the text
box's insets, so a text judged to fit here fits when rendered. The deck uses it to pick a
title's size and to carry paragraphs that do not fit onto a continued slide; the tests use
it to check every text box of a built deck.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence

EMU_PER_PT = 12700
EMU_PER_INCH = 914400
#: Average character width in ems (Arial's mean over text with digits and capitals is ~0.5).
CHAR_EM = 0.55
#: Line height in ems (PowerPoint's single spacing).
LINE_EM = 1.2
#: Default text box insets: 0.1 in left and right, 0.05 in top and bottom.
INSET_X = int(0.1 * EMU_PER_INCH)
INSET_Y = int(0.05 * EMU_PER_INCH)


def wrapped_lines(text: str, width: int, size: float) -> int:
    """Lines ``text`` wraps to in a box ``width`` EMU wide at ``size`` points (at least 1)."""
    usable_pt = max(1.0, (width - 2 * INSET_X) / EMU_PER_PT)
    per_line = max(1, int(usable_pt / (CHAR_EM * size)))
    lines = 0
    for part in str(text).split("\n"):
        lines += max(1, len(textwrap.wrap(part, per_line, break_long_words=True)))
    return lines


def text_height(
    paragraphs: Sequence[str], width: int, size: float, space_after: float = 6.0
) -> int:
    """Height in EMU of ``paragraphs`` at ``size`` points in a box ``width`` EMU wide."""
    lines = sum(wrapped_lines(p, width, size) for p in paragraphs)
    points = lines * LINE_EM * size + space_after * max(0, len(paragraphs) - 1)
    return math.ceil(points * EMU_PER_PT) + 2 * INSET_Y


def fits(paragraphs: Sequence[str], width: int, height: int, size: float) -> bool:
    """Whether ``paragraphs`` fit a box of ``width`` x ``height`` EMU at ``size`` points."""
    return text_height(paragraphs, width, size) <= height


def title_size(
    text: str,
    width: int,
    height: int,
    sizes: Sequence[int] = (28, 26, 24, 22, 20),
    lines: int = 2,
) -> tuple[int, int]:
    """The largest of ``sizes`` at which ``text`` wraps to at most ``lines`` lines and fits
    ``height``, and the height it then needs.

    When none does, the largest size at which it fits ``height`` in more lines, else the
    smallest size and the (larger) height it needs: the caller moves the body down rather
    than letting the title run over it.
    """
    for size in sizes:
        needed = text_height([text], width, size, 0)
        if wrapped_lines(text, width, size) <= lines and needed <= height:
            return size, needed
    for size in sizes:
        needed = text_height([text], width, size, 0)
        if needed <= height:
            return size, needed
    return sizes[-1], text_height([text], width, sizes[-1], 0)


def paginate(paragraphs: Sequence[str], width: int, height: int, size: float) -> list[list[int]]:
    """Split paragraph indices into pages that each fit the box (a paragraph is never split;
    one taller than the box gets a page of its own)."""
    pages: list[list[int]] = [[]]
    for i, _ in enumerate(paragraphs):
        trial = [paragraphs[j] for j in (*pages[-1], i)]
        if pages[-1] and not fits(trial, width, height, size):
            pages.append([])
        pages[-1].append(i)
    return pages
