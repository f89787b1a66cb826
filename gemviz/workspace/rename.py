"""Renaming a workspace's splitters and models.

A splitter or model is known by its name everywhere (tables, charts, slides, URLs), so a
typo in a name used to mean removing the entry and adding it again. Renaming changes the
name only: the files the entry points at stay where they are.
"""

from __future__ import annotations

from gemviz.data.errors import GemvizError
from gemviz.workspace.entries import check_name, same_name
from gemviz.workspace.store import Workspace

KINDS = ("splitter", "model")


def rename_entry(ws: Workspace, kind: str, old: str, new: str) -> None:
    """Give the splitter or model ``old`` the name ``new`` and save the workspace.

    Args:
        ws: The workspace.
        kind: ``"splitter"`` or ``"model"``.
        old: The entry's current name.
        new: Its new name (surrounding spaces dropped).

    Raises:
        GemvizError: An unknown kind or entry, an empty new name, or a name another entry of
            the same kind already has.
    """
    if kind not in KINDS:
        raise GemvizError(f"rename a splitter or a model, not a {kind!r}")
    entries = ws.splitters if kind == "splitter" else ws.models
    names = [e.name for e in entries]
    if old not in names:
        raise GemvizError(f"workspace '{ws.slug}' has no {kind} '{old}'")
    new = check_name(new, kind)
    clash = next((n for n in names if n != old and same_name(n, new)), None)
    if clash is not None:
        also = "" if clash == new else " (the same name in another Unicode spelling)"
        raise GemvizError(
            f"this workspace already has a {kind} called '{clash}'{also}; pick another name"
        )
    for entry in entries:
        if entry.name == old:
            entry.name = new
    if kind == "model" and old in ws.configs:
        ws.configs[new] = ws.configs.pop(old)
    ws.save()
