"""Example ids quoted in a refusal so that they read apart."""

from __future__ import annotations

from collections.abc import Sequence


def _shared(texts: Sequence[str]) -> int:
    """Length of the start all ``texts`` share (character by character, not by path)."""
    first, n = min(texts), 0
    last = max(texts)
    while n < min(len(first), len(last)) and first[n] == last[n]:
        n += 1
    return n


def quote_ids(items: Sequence[str], width: int = 90) -> str:
    """Quote a few ids so that they read apart.

    Ids built from ``image_path|task`` share long prefixes (the folder) and suffixes (the
    task), so cutting each at fixed places can leave examples that look identical. A long id
    keeps the part where the examples differ, with a little context, and elides the rest.
    """
    items = [str(s) for s in items]
    if not items or all(len(s) <= width for s in items):
        return ", ".join(repr(s) for s in items)
    lead = _shared(items) if len(items) > 1 else 0
    tail = _shared([s[::-1] for s in items]) if len(items) > 1 else 0
    shown = []
    for s in items:
        if len(s) <= width:
            shown.append(repr(s))
            continue
        start = max(0, min(lead, len(s) - width) - 12)
        end = min(len(s), max(len(s) - tail + 12, start + width))
        text = s[start:end]
        if len(text) > width:  # the differing part alone is long: its start and end
            text = text[: width // 2 - 2] + "..." + text[-(width // 2 - 1) :]
        shown.append(repr(("..." if start else "") + text + ("..." if end < len(s) else "")))
    return ", ".join(shown)
