"""Every workspace on disk: listing, finding by slug, and telling usable from broken."""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple

from gemviz.data.errors import GemvizError
from gemviz.workspace.entries import WORKSPACE_FILE, workspaces_root
from gemviz.workspace.staging import remove_stale_staging
from gemviz.workspace.store import Workspace


class BrokenWorkspace(NamedTuple):
    """A workspace folder that cannot be used as it is, and why."""

    slug: str
    folder: Path
    reason: str
    workspace: Workspace | None = None  # set when the definition loads but a file is missing


def scan_workspaces() -> tuple[list[Workspace], list[BrokenWorkspace]]:
    """Every workspace under the cache, split into usable and broken ones; never raises.

    A workspace is broken when its ``workspace.json`` cannot be read as a definition, or
    when a file it names is missing. One broken workspace never hides the others.

    Returns:
        ``(usable, broken)``: usable ones the demo first, then by creation time; broken ones
        by slug, each with its reason.
    """
    good, broken = [], []
    root = workspaces_root()
    remove_stale_staging(root)
    for sub in sorted(root.iterdir()) if root.is_dir() else []:
        # Hidden folders are workspaces being made (staged_workspace), not workspaces yet.
        if sub.name.startswith(".") or not (sub / WORKSPACE_FILE).exists():
            continue
        try:
            ws = Workspace.load(sub)
            missing = ws.missing_files()
        except GemvizError as exc:
            broken.append(BrokenWorkspace(sub.name, sub, str(exc)))
            continue
        if missing:
            reason = f"missing file: {missing[0]}" + (
                f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
            )
            broken.append(BrokenWorkspace(sub.name, sub, reason, ws))
        else:
            good.append(ws)
    return sorted(good, key=lambda w: (not w.demo, w.created, w.slug)), broken


def list_workspaces(usable_only: bool = False) -> list[Workspace]:
    """Every readable workspace under the cache, the demo first, then by creation time.

    Never raises: unreadable definitions are left out (:func:`scan_workspaces` lists them).

    Args:
        usable_only: Also leave out workspaces that name a missing file.
    """
    good, broken = scan_workspaces()
    if not usable_only:
        good = good + [b.workspace for b in broken if b.workspace is not None]
    return sorted(good, key=lambda w: (not w.demo, w.created, w.slug))


_SLUG = re.compile(r"[a-z0-9][a-z0-9._-]*")
#: Longest folder name a slug can be (file systems stop at 255 bytes).
MAX_SLUG = 255


def find_workspace(slug: str) -> Workspace | None:
    """The workspace whose folder is ``slug``, or ``None``.

    A slug from a URL is checked against the slug alphabet first, so it can never name a
    folder outside the workspaces root.

    Raises:
        GemvizError: The folder exists but its definition is broken.
    """
    if not slug or len(slug) > MAX_SLUG or not _SLUG.fullmatch(slug) or ".." in slug:
        return None
    folder = workspaces_root() / slug
    try:
        there = (folder / WORKSPACE_FILE).exists()
    except OSError:  # e.g. a name longer than the file system holds
        return None
    return Workspace.load(folder) if there else None
