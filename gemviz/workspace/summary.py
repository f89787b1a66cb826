"""What a change to a workspace made, in one line: the pages and commands say it at once.

Adding a splitter that calls every step ID (σ too wide for the train scores) used to be
found out pages later; creating a workspace said nothing. These lines say what was made.
"""

from __future__ import annotations

from gemviz.data.fields import LABEL
from gemviz.data.loaders import load_labeled
from gemviz.workspace.entries import SplitterEntry
from gemviz.workspace.store import Workspace


def splitter_counts(entry: SplitterEntry) -> tuple[int, int]:
    """``(ID steps, OOD steps)`` of a splitter's labeled file.

    Raises:
        GemvizError: The labeled file cannot be read.
    """
    return label_counts(entry.labeled)


def label_counts(labeled: str) -> tuple[int, int]:
    """``(ID steps, OOD steps)`` of a labeled file.

    Raises:
        GemvizError: The labeled file cannot be read.
    """
    labels = load_labeled(labeled)[LABEL]
    n_id = int((labels == "ID").sum())
    return n_id, int(len(labels) - n_id)


def splitter_added(entry: SplitterEntry) -> tuple[str, str | None]:
    """The line to show after adding a splitter, and a warning when one set is empty.

    Returns:
        ``(message, warning)``, e.g. ``("Added splitter 'gem': 4,690 ID and 34 OOD of 4,724
        steps.", None)``; the warning reads "all steps ID: σ may be too wide" (or OOD and too
        narrow) when a set is empty.
    """
    n_id, n_ood = splitter_counts(entry)
    total = n_id + n_ood
    message = f"Added splitter '{entry.name}': {n_id:,} ID and {n_ood:,} OOD of {total:,} steps."
    warning = None
    if total and n_ood == 0:
        warning = "All steps ID: σ may be too wide (no OOD set to compare with)."
    elif total and n_id == 0:
        warning = "All steps OOD: σ may be too narrow (no ID set to compare with)."
    return message, warning


def workspace_created(ws: Workspace) -> str:
    """The line to show after creating a workspace: its name, folder and what it holds."""
    parts = [f"Created workspace '{ws.name}' (folder {ws.slug})"]
    held = []
    if ws.test:
        ids = ws.test_ids()
        held.append(f"{len(ids):,} test steps" if ids is not None else "a test set")
    if ws.splitters:
        held.append(f"{len(ws.splitters)} splitter(s)")
    if ws.models:
        held.append(f"{len(ws.models)} model(s)")
    return parts[0] + (": " + ", ".join(held) if held else "") + "."
