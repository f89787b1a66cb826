"""Workspace page: create a workspace from your files, add splitters and models, rename or delete.

Every file is checked against the workspace's test set when it is added (gemviz.workspace.create);
a refused file leaves nothing behind.
"""

from __future__ import annotations

import streamlit as st

from gemviz.data.errors import GemvizError
from gemviz.ui.create_form import create_form
from gemviz.ui.forms import (
    attempt,
    config_editor,
    separation_notes,
    splitter_files,
    splitter_said,
)
from gemviz.ui.ingest import add_model_tab
from gemviz.ui.page import demo_banner
from gemviz.ui.state import current_workspace, kept_tabs, open_workspace, show_flashes
from gemviz.ui.text import code, md
from gemviz.workspace.create import add_splitter, entry_tables
from gemviz.workspace.rename import rename_entry

st.title("Workspace")


show_flashes()
ws = current_workspace()
if ws is not None:
    demo_banner(ws)
    st.subheader(md(ws.name))
    st.caption(
        f"Folder: {code(ws.folder)} · test set: {code(ws.test or '—')} · "
        f"train set: {code(ws.train or '—')} · clusters: {code(ws.cluster_by)}"
    )
    missing = ws.missing_files()
    if missing:
        st.error(
            "This workspace names files that are missing: " + ", ".join(code(p) for p in missing)
        )
    splitters, models = entry_tables(ws)
    st.markdown("**Splitters**")
    st.dataframe(splitters, hide_index=True, key="splitters_table")
    for note in separation_notes(ws):
        st.warning(md(note), icon=":material/warning:")
    st.markdown("**Models**")
    st.dataframe(models, hide_index=True, key="models_table")
    if ws.models:
        # Keyed, so it stays open when a flash message above comes or goes.
        with st.expander(
            "Configurations: method, training set, base model, baseline", key="configs_open"
        ):
            config_editor(ws)

    tab_s, tab_m, tab_remove, tab_manage = kept_tabs(
        ["Add splitter", "Add model", "Remove", "Rename / delete"], "workspace_tab"
    )
    with tab_s:
        name = st.text_input("Splitter name", key="new_splitter_name").strip()
        files = splitter_files(ws)
        if st.button("Add splitter", key="add_splitter"):
            attempt(lambda: add_splitter(ws, name, **files), splitter_said)
    with tab_m:
        add_model_tab(ws)
    with tab_remove:
        choices = [f"splitter: {s.name}" for s in ws.splitters] + [
            f"model: {m.name}" for m in ws.models
        ]
        target = st.selectbox("Entry to remove", choices, key="remove_entry")
        if target and st.button("Remove from workspace", key="remove_button"):
            kind, _, entry = target.partition(": ")
            attempt(lambda: ws.remove(kind, entry), f"Removed {kind} '{entry}'.")
        st.caption("Removing an entry never deletes the file it points to.")
    with tab_manage:
        entries = [("splitter", e.name) for e in ws.splitters] + [
            ("model", e.name) for e in ws.models
        ]
        if entries:
            c1, c2 = st.columns(2)
            entry = c1.selectbox(
                "Splitter or model", entries, format_func=": ".join, key="rename_entry"
            )
            entry_name = c2.text_input("Its new name", entry[1], key=f"rename_entry_{entry}")
            if st.button("Rename entry", key="rename_entry_button"):
                attempt(
                    lambda: rename_entry(ws, *entry, entry_name),
                    f"Renamed {entry[0]} '{entry[1]}' to '{entry_name.strip()}'.",
                )
        new_name = st.text_input("New workspace name", value=ws.name, key="rename_value")
        if st.button("Rename", key="rename_button"):
            try:
                ws.rename(new_name)
                st.rerun()
            except GemvizError as exc:
                st.error(md(exc))
        sure = st.checkbox("Yes, delete this workspace's folder", key="delete_confirm")
        if st.button("Delete workspace", key="delete_button", disabled=not sure):
            ws.delete()
            open_workspace(None)
            st.rerun()

st.divider()
st.subheader("New workspace")
st.caption(
    "Start from your test set, with its training sets and the models' runs (a BFCL results "
    "folder, or many run files) if you have them; more can be added above once it exists. "
    "The command line does the same: `python -m gemviz workspace create`."
)
create_form()
