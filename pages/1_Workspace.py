"""Workspace page: create a workspace, register splitters and models, rename or delete it."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from gemviz.errors import GemvizError
from gemviz.ui_cache import current_workspace, demo_banner, open_workspace
from gemviz.workspace import ModelEntry, SplitterEntry, Workspace, create_workspace

st.title("Workspace")


def file_input(label: str, key: str, ws: Workspace | None) -> str | None:
    """A path typed by the user or a file uploaded (saved under the workspace folder)."""
    left, right = st.columns(2)
    path = left.text_input(f"{label}: path on the server", key=f"{key}_path").strip()
    upload = right.file_uploader(f"… or upload {label}", key=f"{key}_upload")
    if upload is not None and ws is not None:
        return str(ws.save_upload(upload.name, upload))
    return path or None


ws = current_workspace()
if ws is not None:
    demo_banner(ws)
    st.subheader(ws.name)
    st.caption(
        f"Folder: `{ws.folder}` · test set: `{ws.test or '—'}` · train set: `{ws.train or '—'}`"
    )
    splitters = pd.DataFrame(
        [
            {
                "splitter": s.name,
                "labeled file": s.labeled,
                "scoring model": s.model,
                "method": s.embed_method,
                "partition": s.partition,
            }
            for s in ws.splitters
        ],
        columns=["splitter", "labeled file", "scoring model", "method", "partition"],
    )
    models = pd.DataFrame(
        [{"model": m.name, "results": m.results, "predictions": m.predictions} for m in ws.models],
        columns=["model", "results", "predictions"],
    )
    st.markdown("**Splitters**")
    st.dataframe(splitters, hide_index=True, key="splitters_table")
    st.markdown("**Models**")
    st.dataframe(models, hide_index=True, key="models_table")

    tab_add_s, tab_add_m, tab_remove, tab_manage = st.tabs(
        ["Add splitter", "Add model", "Remove", "Rename / delete"]
    )
    with tab_add_s:
        name = st.text_input("Splitter name", key="new_splitter_name")
        labeled = file_input("labeled test file (label = ID/OOD)", "new_splitter_file", ws)
        c1, c2 = st.columns(2)
        train_scores = c1.text_input(
            "Train score file (optional, for re-partitioning)", key="new_splitter_train_scores"
        ).strip()
        test_scores = c2.text_input(
            "Test score file (optional)", key="new_splitter_test_scores"
        ).strip()
        if st.button("Add splitter", key="add_splitter"):
            try:
                ws.add_splitter(
                    SplitterEntry(
                        name=name.strip(),
                        labeled=labeled or "",
                        train_scores=train_scores or None,
                        test_scores=test_scores or None,
                    )
                )
                st.success(f"Added splitter '{name}'.")
                st.rerun()
            except GemvizError as exc:
                st.error(str(exc))
    with tab_add_m:
        name = st.text_input("Model name", key="new_model_name")
        results = file_input("result file (type_match, exact_match)", "new_model_file", ws)
        predictions = st.text_input(
            "Raw predictions file (optional)", key="new_model_predictions"
        ).strip()
        if st.button("Add model", key="add_model"):
            try:
                ws.add_model(
                    ModelEntry(
                        name=name.strip(), results=results or "", predictions=predictions or None
                    )
                )
                st.success(f"Added model '{name}'.")
                st.rerun()
            except GemvizError as exc:
                st.error(str(exc))
    with tab_remove:
        choices = [f"splitter: {s.name}" for s in ws.splitters] + [
            f"model: {m.name}" for m in ws.models
        ]
        target = st.selectbox("Entry to remove", choices, key="remove_entry")
        if target and st.button("Remove from workspace", key="remove_button"):
            kind, _, entry = target.partition(": ")
            ws.remove(kind, entry)
            st.rerun()
        st.caption("Removing an entry never deletes the file it points to.")
    with tab_manage:
        new_name = st.text_input("New name", value=ws.name, key="rename_value")
        if st.button("Rename", key="rename_button"):
            try:
                ws.rename(new_name)
                st.rerun()
            except GemvizError as exc:
                st.error(str(exc))
        sure = st.checkbox("Yes, delete this workspace's folder", key="delete_confirm")
        if st.button("Delete workspace", key="delete_button", disabled=not sure):
            ws.delete()
            open_workspace(None)
            st.rerun()

st.divider()
st.subheader("New workspace")
with st.form("create_workspace"):
    name = st.text_input("Name", key="create_name")
    test = st.text_input("Test-set file (path on the server, optional)", key="create_test")
    train = st.text_input("Train-set file (path on the server, optional)", key="create_train")
    image_root = st.text_input("Screenshot folder (optional)", key="create_image_root")
    test_upload = st.file_uploader("… or upload the test-set file", key="create_test_upload")
    submitted = st.form_submit_button("Create workspace")
if submitted:
    try:
        new = create_workspace(
            name,
            test=test.strip() or None,
            train=train.strip() or None,
            image_root=image_root.strip() or None,
        )
        if test_upload is not None:
            new.test = str(new.save_upload(test_upload.name, test_upload))
            new.save()
        open_workspace(new.slug)
        st.rerun()
    except GemvizError as exc:
        st.error(str(exc))
