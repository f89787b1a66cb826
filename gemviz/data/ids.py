"""Sample identity: the id of every record, and two files' samples matched by id.

A sample's id is its ``id`` field when the file has one (turned into a string). Otherwise
it is built from ``image_path`` and ``task`` as ``"<image_path>|<task>"``, where each part
has ``\\``, ``|`` and ``#`` escaped with a backslash (``\\\\``, ``\\|``, ``\\#``), so
the first unescaped ``|`` is always the separator and no two pairs share an id. Real files
repeat that pair (the GEM release's omniact-desktop file does so 53 times, Kairos 8), so a
repeat is told apart by its order of occurrence: the first occurrence keeps the plain key,
the second gets ``"#2"`` appended, the third ``"#3"`` and so on; an unescaped ``#`` is
only ever this number, so a task that ends in ``#2`` cannot pass for a repeat. Parts
without those three characters give the plain ``"<image_path>|<task>"``. Text is read in
Unicode normal form NFC, so a task typed with combining accents and one with precomposed
letters are the same task (ids, clusters).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from gemviz.data.errors import GemvizError
from gemviz.data.fields import ID, IMAGE, TASK, id_part, nfc


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


def sample_ids(records: Sequence[dict[str, Any]], file: str | None = None) -> list[str]:
    """Give every record its sample id (see the module docstring for the rule).

    Args:
        records: Records as read by :func:`gemviz.data.read.read_records`.
        file: The file they came from, for error messages.

    Returns:
        One id string per record, unique within the list.

    Raises:
        GemvizError: A record has neither ``id`` nor both ``image_path`` and ``task``, or the
            explicit ids repeat.
    """
    has_id = any(ID in r and r[ID] is not None for r in records[:1]) or all(
        ID in r for r in records
    )
    ids: list[str] = []
    if has_id:
        seen: dict[str, int] = {}
        for i, rec in enumerate(records):
            value = rec.get(ID)
            if value is None or (isinstance(value, float) and math.isnan(value)) or value == "":
                raise GemvizError(
                    "missing sample id; give every record an 'id' or none at all",
                    file=file,
                    row=i + 1,
                    field=ID,
                )
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            key = nfc(str(value))
            if key in seen:
                raise GemvizError(
                    f"id '{key}' repeats row {seen[key]}; ids must be unique",
                    file=file,
                    row=i + 1,
                    field=ID,
                )
            seen[key] = i + 1
            ids.append(key)
        return ids
    counts: dict[str, int] = {}
    for i, rec in enumerate(records):
        for field in (IMAGE, TASK):
            if field not in rec or rec[field] is None:
                raise GemvizError(
                    f"missing; a record needs an 'id' or both '{IMAGE}' and '{TASK}'",
                    file=file,
                    row=i + 1,
                    field=field,
                )
        base = f"{id_part(rec[IMAGE])}|{id_part(rec[TASK])}"
        n = counts.get(base, 0) + 1
        counts[base] = n
        ids.append(base if n == 1 else f"{base}#{n}")
    return ids


def align(
    ref_ids: Sequence[str],
    other_ids: Sequence[str],
    ref_name: str = "reference",
    other_name: str = "other",
    examples: int = 3,
) -> np.ndarray:
    """Positions in ``other_ids`` of each id of ``ref_ids``.

    Args:
        ref_ids: The ids in the order wanted.
        other_ids: The same ids in any order.
        ref_name, other_name: Names (usually file paths) used in the error message.
        examples: How many missing ids to quote on each side.

    Returns:
        Integer array ``idx`` with ``other_ids[idx[k]] == ref_ids[k]``.

    Raises:
        GemvizError: The two lists do not hold the same samples; the message gives how many
            are missing on each side and a few examples.
    """
    position = {sid: i for i, sid in enumerate(other_ids)}
    idx = np.fromiter((position.get(s, -1) for s in ref_ids), dtype=np.int64, count=len(ref_ids))
    missing_in_other = [s for s, j in zip(ref_ids, idx, strict=True) if j < 0]
    if missing_in_other or len(other_ids) != len(ref_ids):
        ref_set = set(ref_ids)
        missing_in_ref = [s for s in other_ids if s not in ref_set]
        parts = []
        if missing_in_other:
            parts.append(
                f"{len(missing_in_other)} sample(s) of {ref_name} are missing from {other_name} "
                f"(e.g. {quote_ids(missing_in_other[:examples])})"
            )
        if missing_in_ref:
            parts.append(
                f"{len(missing_in_ref)} sample(s) of {other_name} are missing from {ref_name} "
                f"(e.g. {quote_ids(missing_in_ref[:examples])})"
            )
        raise GemvizError(
            "the files do not cover the same samples: "
            + "; ".join(parts)
            + ". Use files made from the same test set.",
            file=other_name,
        )
    return idx


def aligned(frame: pd.DataFrame, ref_ids: Sequence[str], ref_name: str, name: str) -> pd.DataFrame:
    """Reorder ``frame`` (with an ``id`` column) to follow ``ref_ids``; raise if they differ."""
    idx = align(ref_ids, frame[ID].tolist(), ref_name, name)
    return frame.iloc[idx].reset_index(drop=True)
