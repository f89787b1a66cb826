"""The sidebar every page shares: the workspace picker, the tool-calling demo button and the
list of broken workspaces."""

from __future__ import annotations

import streamlit as st

from gemviz.ui.state import open_bfcl_demo, open_workspace
from gemviz.ui.text import md
from gemviz.workspace.catalog import scan_workspaces
from gemviz.workspace.store import Workspace


def workspace_sidebar(ws: Workspace | None) -> None:
    """Draw the workspace picker (showing ``ws``, the open workspace) in the sidebar."""
    with st.sidebar:
        spaces, broken = scan_workspaces()
        # A workspace missing a file can still be opened (its pages say what is missing).
        spaces += [b.workspace for b in broken if b.workspace is not None]
        reasons = {b.slug: b.reason for b in broken}
        if spaces:
            _picker(spaces, reasons, ws)
        # The tool-calling demo sits beside the GUI demo; it is built on first use.
        if "demo-bfcl" not in [w.slug for w in spaces] and st.button(
            "Tool-calling demo (BFCL)", key="open_bfcl_demo", icon=":material/build:"
        ):
            open_bfcl_demo()
            st.rerun()
        if broken:
            with st.expander(f"Broken workspaces ({len(broken)})", icon=":material/warning:"):
                for b in broken:
                    st.markdown(f"**{md(b.slug)}**: {md(b.reason)}")


def _picker(spaces: list[Workspace], reasons: dict[str, str], ws: Workspace | None) -> None:
    """The select box of workspaces; choosing one opens it."""
    slugs = [w.slug for w in spaces]
    titles = [w.name for w in spaces]
    # Two workspaces of one title are told apart by their folder (slug).
    names = {
        w.slug: w.name
        + (f" ({w.slug})" if titles.count(w.name) > 1 else "")
        + (" ⚠ broken" if w.slug in reasons else "")
        for w in spaces
    }
    # The page may have switched workspace (created or deleted one): follow it.
    st.session_state["workspace_picker"] = (
        ws.slug if ws is not None and ws.slug in slugs else slugs[0]
    )
    st.selectbox(
        "Workspace",
        slugs,
        format_func=names.get,
        key="workspace_picker",
        on_change=lambda: open_workspace(st.session_state.workspace_picker),
    )
