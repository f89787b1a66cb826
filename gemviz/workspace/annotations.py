"""Notes on test steps: tags and a free note per step, kept in the workspace.

A researcher who looks at a disputed step records what they concluded: a few fixed tags
(:data:`FIXED_TAGS`), any free tags, and a note. They live in the workspace folder as
``annotations.json`` (``{"version": 1, "steps": {id: {"tags": [...], "note": "...",
"updated": unix time}}}``), written atomically, and are read again on every change, so two
browser tabs editing different steps do not undo each other. The Samples page filters on the
tags, the filtered-ids CSV carries them, the report lists the annotated steps and the
``workspace annotations`` command prints them.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from gemviz.data.errors import GemvizError
from gemviz.data.files import loads_json, read_text
from gemviz.data.write import write_json_atomic
from gemviz.workspace.entries import check_text, check_time

FILE = "annotations.json"
FIXED_TAGS = (
    "truly OOD",
    "truly ID",
    "GT wrong",
    "ambiguous task",
    "model right, matcher wrong",
)
COLUMNS = ["id", "tags", "note", "updated"]
TAG_SEPARATOR = "; "
VERSION = 1


@dataclass
class Annotation:
    """The tags and note of one step."""

    tags: list[str] = field(default_factory=list)
    note: str = ""
    updated: float = 0.0

    @property
    def empty(self) -> bool:
        """True when there is nothing to keep."""
        return not self.tags and not self.note.strip()


def clean_tags(tags: list[str] | tuple[str, ...]) -> list[str]:
    """Tags stripped, without empties and repeats; fixed tags first, in their order.

    Raises:
        GemvizError: A tag contains ``;`` (the separator in CSV output) or a line break.
    """
    out: list[str] = []
    for tag in tags:
        tag = str(tag).strip()
        if not tag or tag in out:
            continue
        if ";" in tag or "\n" in tag:
            raise GemvizError(f"a tag may not contain ';' or a line break: {tag!r}")
        out.append(tag)
    fixed = [t for t in FIXED_TAGS if t in out]
    return fixed + [t for t in out if t not in FIXED_TAGS]


def path_in(folder: str | os.PathLike) -> Path:
    """Where a workspace folder keeps its annotations."""
    return Path(folder) / FILE


def load(folder: str | os.PathLike) -> dict[str, Annotation]:
    """Every annotation of a workspace folder (empty when there is no file yet).

    Raises:
        GemvizError: The file exists but is not an annotations file.
    """
    path = path_in(folder)
    if not path.is_file():
        return {}
    file = str(path)
    try:
        raw = loads_json(read_text(path, "annotations file"), file)
    except ValueError as exc:
        if isinstance(exc, GemvizError):
            raise
        raise GemvizError(f"not a gemviz annotations file ({exc})", file=file) from None
    if not isinstance(raw, dict) or not isinstance(raw.get("steps"), dict):
        raise GemvizError(
            'not a gemviz annotations file (expected {"version": 1, "steps": {...}})', file=file
        )
    out = {}
    for sid, entry in raw["steps"].items():
        where = ["steps", sid]
        check_text(sid, file, where)
        if not isinstance(entry, dict):
            raise GemvizError(
                f"expected an object with tags and note, found {entry!r:.40}",
                file=file,
                field=f"steps[{sid!r}]",
            )
        tags = entry.get("tags", [])
        if not isinstance(tags, list):
            raise GemvizError(
                f"expected a list of tags, found {tags!r:.40}",
                file=file,
                field=f"steps[{sid!r}].tags",
            )
        for tag in tags:
            if isinstance(tag, str) and (";" in tag or "\n" in tag):
                raise GemvizError(
                    f"the tag {tag!r:.40} holds ';' or a line break, which separate tags in "
                    "the CSV export; split it into tags of its own",
                    file=file,
                    field=f"steps[{sid!r}].tags",
                )
        out[sid] = Annotation(
            tags=[check_text(t, file, [*where, "tags"]) for t in tags],
            note=check_text(entry.get("note", ""), file, [*where, "note"], optional=True) or "",
            updated=check_time(entry.get("updated"), file, [*where, "updated"]),
        )
    return out


def save(folder: str | os.PathLike, notes: dict[str, Annotation]) -> Path:
    """Write every annotation (empty ones dropped) atomically."""
    steps = {
        sid: {"tags": a.tags, "note": a.note, "updated": a.updated}
        for sid, a in notes.items()
        if not a.empty
    }
    return write_json_atomic(path_in(folder), {"version": VERSION, "steps": steps})


def annotate(
    folder: str | os.PathLike, sample_id: str, tags: list[str] | tuple[str, ...], note: str = ""
) -> Annotation:
    """Set the tags and note of one step and save (empty tags and note remove it).

    The file is read again first, so notes saved meanwhile on other steps are kept.

    Returns:
        The step's annotation as saved.

    Raises:
        GemvizError: A bad tag, or an unreadable annotations file.
    """
    notes = load(folder)
    entry = Annotation(tags=clean_tags(tags), note=note.strip(), updated=time.time())
    if entry.empty:
        notes.pop(sample_id, None)
    else:
        notes[sample_id] = entry
    save(folder, notes)
    return entry


def all_tags(notes: dict[str, Annotation]) -> list[str]:
    """The fixed tags, then every free tag in use (sorted)."""
    free = sorted({t for a in notes.values() for t in a.tags} - set(FIXED_TAGS))
    return [*FIXED_TAGS, *free]


def to_frame(notes: dict[str, Annotation], order: list[str] | None = None) -> pd.DataFrame:
    """Annotations as rows ``id, tags, note, updated`` (tags joined by ``"; "``).

    Args:
        notes: Sample id -> annotation.
        order: Sample ids in the order to list them (ids not in it come last, sorted);
            default: by id.
    """
    rank = {sid: i for i, sid in enumerate(order or [])}
    ids = sorted(notes, key=lambda s: (rank.get(s, len(rank)), s))
    return pd.DataFrame(
        {
            "id": ids,
            "tags": [TAG_SEPARATOR.join(notes[s].tags) for s in ids],
            "note": [notes[s].note for s in ids],
            "updated": [
                time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(notes[s].updated)) for s in ids
            ],
        },
        columns=COLUMNS,
    )


def with_annotations(table: pd.DataFrame, notes: dict[str, Annotation]) -> pd.DataFrame:
    """A sample table with ``tags`` and ``note`` columns added (empty text where none)."""
    out = table.copy()
    ids = out["id"].astype(str)
    # Look the few annotated ids up by hash over the whole column (no per-row Python loop).
    tags = {s: TAG_SEPARATOR.join(a.tags) for s, a in notes.items()}
    out["tags"] = ids.map(tags).fillna("").astype(str) if notes else ""
    out["note"] = (
        ids.map({s: a.note for s, a in notes.items()}).fillna("").astype(str) if notes else ""
    )
    return out


ANY_TAG = "(any tag)"


def tag_mask(table: pd.DataFrame, wanted: list[str] | tuple[str, ...]) -> pd.Series:
    """Rows of a :func:`with_annotations` table carrying any of ``wanted`` tags.

    :data:`ANY_TAG` matches every annotated step (a tag or a note).
    """
    if not wanted:
        return pd.Series(True, index=table.index)
    tags = table["tags"].map(lambda s: set(s.split(TAG_SEPARATOR)) if s else set())
    mask = tags.map(lambda have: bool(have & set(wanted)))
    if ANY_TAG in wanted:
        mask |= (table["tags"] != "") | (table["note"] != "")
    return mask
