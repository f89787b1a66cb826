"""Charts of many rows split over consecutive slides when the body cannot hold them.

A chart picture keeps the deck's one chart font (:meth:`gemviz.report.deck.Deck.chart_font`,
never under 11 pt); when its rows need more height than the body has at that font, the rows
go in contiguous parts, one slide each. :func:`split_rows` decides the parts (fewest, cut
between groups when the rows are grouped, as even as possible); :func:`chart_slides` adds
the slides, each titled with the finding and its part (" (1 of 2)"), with notes saying where
the chart goes on. Each part is drawn by the caller with the whole chart's value range and
legend, so the parts compare.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from gemviz.report.deck import (
    BODY_BOTTOM,
    BODY_TOP,
    EMU_PER_PT,
    FRAME_EM,
    ROW_EM,
    Deck,
    part_title,
)


def rows_fit(font: float, height: int = BODY_BOTTOM - BODY_TOP) -> int:
    """How many rows (headings included) a chart ``height`` EMU tall holds at ``font`` pt,
    with the room :meth:`gemviz.report.deck.Deck.chart_font` gives each row."""
    return max(2, int((height / EMU_PER_PT / font - FRAME_EM) / ROW_EM + 1e-6))


def _rows(groups: Sequence[str], start: int, stop: int) -> int:
    """Rows a part takes: its entries plus a heading for each named group in it."""
    return (stop - start) + len({g for g in groups[start:stop] if g})


def split_rows(groups: Sequence[str], capacity: int) -> list[tuple[int, int]]:
    """Contiguous parts ``(start, stop)`` of the entries, each within ``capacity`` rows.

    Args:
        groups: Each entry's group, top first (``""``: not grouped). A part repeats the
            heading of every group it holds, so a heading always has its entries under it.
        capacity: Most rows a part may take (see :func:`rows_fit`).

    Returns:
        The fewest parts; among those, the fewest cuts inside a group, then the smallest
        largest part. One part ``(0, n)`` when everything fits.
    """
    n, capacity = len(groups), max(2, capacity)
    if n == 0 or _rows(groups, 0, n) <= capacity:
        return [(0, n)]
    # best[b]: (parts, cuts inside a group, largest part) of the best split of entries [0, b).
    best: list[tuple[int, int, int] | None] = [(0, 0, 0)] + [None] * n
    back = [0] * (n + 1)
    for stop in range(1, n + 1):
        for start in range(stop - 1, -1, -1):
            size = _rows(groups, start, stop)
            if size > capacity and stop - start > 1:
                break
            prev = best[start]
            if prev is None:
                continue
            inside = int(0 < start < n and groups[start - 1] == groups[start] != "")
            cost = (prev[0] + 1, prev[1] + inside, max(prev[2], size))
            if best[stop] is None or cost < best[stop]:
                best[stop], back[stop] = cost, start
    parts, stop = [], n
    while stop:
        parts.append((back[stop], stop))
        stop = back[stop]
    return parts[::-1]


def part_note(k: int, parts: int, start: int, stop: int, total: int) -> str:
    """The notes' sentence on which rows a part shows and where the chart goes on."""
    where = "it continues on the next slide" if k + 1 < parts else "it began on the previous slides"
    return (
        f" The chart is split over {parts} slides to keep its text legible: this is part "
        f"{k + 1} of {parts} (rows {start + 1}–{stop} of {total}, same axis range); {where}."
    )


def chart_slides(
    deck: Deck,
    title: str,
    notes: str,
    groups: Sequence[str],
    draw: Callable[[int, int], object],
    subtitle: str = "",
) -> None:
    """One slide per part of a chart whose entries have ``groups`` (top first); ``draw(start,
    stop)`` returns the figure of entries ``start`` to ``stop``, drawn at the body's size
    (call it after the slide exists: its body depends on the title). ``subtitle``: a line
    under each part's title. The parts hold what the body under the longest part title
    holds (at most the body planned for the deck's chart font)."""
    top = max(BODY_TOP, deck.body_top_for(part_title(title, 0, 9), subtitle))
    parts = split_rows(groups, rows_fit(deck.chart_font(), BODY_BOTTOM - top))
    for k, (start, stop) in enumerate(parts):
        note = "" if len(parts) == 1 else part_note(k, len(parts), start, stop, len(groups))
        slide = deck.slide(part_title(title, k, len(parts)), notes + note, subtitle)
        deck.chart(slide, draw(start, stop))
