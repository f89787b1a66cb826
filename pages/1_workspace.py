"""Workspace page: create a workspace from your files, add splitters and models, rename or delete.

Every file is checked against the workspace's test set when it is added (gemviz.workspace.create);
a refused file leaves nothing behind.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from gemviz.actions import FORMATS, RULES
from gemviz.data.errors import GemvizError
from gemviz.splitters import default_params
from gemviz.ui.page import demo_banner
from gemviz.ui.state import current_workspace, flash, open_workspace, show_flashes
from gemviz.ui.text import code, md
from gemviz.workspace.catalog import find_workspace
from gemviz.workspace.create import add_splitter, create_from_files, entry_tables, score_files_in
from gemviz.workspace.files import stage_upload
from gemviz.workspace.models import add_model
from gemviz.workspace.rename import rename_entry
from gemviz.workspace.summary import splitter_added, workspace_created

st.title("Workspace")
NONE = "(none)"


def file_input(label: str, key: str, default: str = "") -> str | None:
    """A path typed by the user, or an upload (kept aside until the file is accepted)."""
    left, right = st.columns(2)
    path = left.text_input(f"{label}: path on the server", default, key=f"{key}_path").strip()
    upload = right.file_uploader(f"… or upload {label}", key=f"{key}_upload")
    if upload is not None:
        staged = str(stage_upload(upload.name, upload))
        # Refusals name the file as the user knows it, not the staging copy.
        st.session_state.setdefault("_upload_names", {})[staged] = f"{upload.name} (uploaded)"
        return staged
    return path or None


def refusal(exc: GemvizError) -> str:
    """The error's text with staged upload paths replaced by the uploaded files' names."""
    text = str(exc)
    for staged, shown in st.session_state.get("_upload_names", {}).items():
        text = text.replace(staged, shown)
    return text


def fields_caption(path: str | None) -> None:
    """List a chosen file's fields, so the mapping can be typed without opening it."""
    if path and Path(path).is_file():
        from gemviz.data.io import read_records
        from gemviz.workspace.derive import fields_of

        try:
            st.caption(
                "Fields in this file: "
                + ", ".join(code(f) for f in fields_of(read_records(path)[:200]))
            )
        except GemvizError as exc:
            st.error(md(exc))


def attempt(action, success) -> None:
    """Run ``action``; on success keep ``success`` (text, or a callable of the result giving
    (kind, text) pairs) for the page's next run, which ``st.rerun`` starts."""
    try:
        result = action()
        said = success(result) if callable(success) else [("success", success)]
    except GemvizError as exc:
        st.error(md(refusal(exc)))
    else:
        for kind, text in said:
            flash(kind, text)
        st.rerun()


def splitter_said(entry) -> list[tuple[str, str]]:
    message, warning = splitter_added(entry)
    return [("success", message)] + ([("warning", warning)] if warning else [])


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
    st.markdown("**Models**")
    st.dataframe(models, hide_index=True, key="models_table")

    tab_s, tab_m, tab_remove, tab_manage = st.tabs(
        ["Add splitter", "Add model", "Remove", "Rename / delete"]
    )
    with tab_s:
        name = st.text_input("Splitter name", key="new_splitter_name").strip()
        own = score_files_in(ws)
        training = "training set (chat JSONL / parquet), scored against the test set"
        sources = [
            "labeled file (label = ID/OOD)",
            "train + test score files (GEM)",
            training,
            *own,
        ]
        source = st.radio("From", sources, key="new_splitter_source", horizontal=True)
        files: dict = {}
        if source == sources[0]:
            files["labeled"] = file_input("labeled test file", "new_splitter_file")
        elif source == training:
            files["training_set"] = file_input("training set", "new_splitter_training")
            files["text"] = st.radio(
                "Text of a conversation", ["first", "all"], key="new_splitter_text",
                format_func={"first": "first user turn", "all": "all user turns"}.get,
                horizontal=True,
            )  # fmt: skip
        else:
            if source in own:
                files["train_scores"], files["test_scores"] = own[source]
            else:
                files["train_scores"] = file_input("train score file", "new_splitter_train")
                files["test_scores"] = file_input(
                    "test score file", "new_splitter_test", ws.test or ""
                )
            gem = default_params("gem")
            st.caption(
                f"Partitioned with GEM now (sigma {gem['sigma']:g}, up to "
                f"{gem['max_components']} components); change the settings later on "
                "Score & Partition."
            )
        c1, c2 = st.columns(2)
        files["train_embeddings"] = (
            c1.text_input("Train embeddings .npz (optional)", key="new_splitter_train_emb").strip()
            or None
        )
        files["test_embeddings"] = (
            c2.text_input(
                "Test embeddings .npz (optional, for UMAP and neighbours)",
                key="new_splitter_test_emb",
            ).strip()
            or None
        )
        if st.button("Add splitter", key="add_splitter"):
            if source == training:
                files = {k: files.get(k) for k in ("training_set", "text")}
            attempt(lambda: add_splitter(ws, name, **files), splitter_said)
    with tab_m:
        name = st.text_input("Model name", key="new_model_name").strip()
        results = file_input("result file", "new_model_file")
        fields_caption(results)
        c1, c2, c3 = st.columns(3)
        pred = c1.text_input("Prediction field (optional)", key="new_model_pred").strip()
        type_field = c2.text_input(
            "Type-match field (if not type_match)", key="new_model_type"
        ).strip()
        exact_field = c3.text_input(
            "Exact-match field (if not exact_match)", key="new_model_exact"
        ).strip()
        c1, c2, c3 = st.columns(3)
        rules = c1.selectbox(
            "Match predictions with rule set", [NONE, *RULES], key="new_model_rules"
        )
        gt_field = c2.text_input(
            "Ground-truth field of the test set", "action", key="new_model_gt"
        ).strip()
        fmt = c3.selectbox("Prediction format", list(FORMATS), key="new_model_format")
        st.caption(
            "A rule set is needed when the file has predictions but no match fields. A model "
            "name the workspace has already gets the file as one more run (e.g. one BFCL score "
            "file per run)."
        )
        mapping = {
            "pred_field": pred or None,
            "type_field": type_field or None,
            "exact_field": exact_field or None,
            "rules": None if rules == NONE else rules,
            "gt_field": gt_field or "action",
            "fmt": fmt,
        }
        if st.button("Add model", key="add_model"):
            attempt(
                lambda: add_model(ws, name, results or "", add_run=True, **mapping),
                f"Added model '{md(name)}'.",
            )
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
    "Start from your test set; add splitters and models above once it exists, or all at once with `python -m gemviz workspace create`."
)
name = st.text_input("Name", key="create_name")
test = file_input("test-set file", "create_test")
train = st.text_input("Train-set file (path on the server, optional)", key="create_train").strip()
c1, c2 = st.columns(2)
image_root = c1.text_input("Screenshot folder (optional)", key="create_image_root").strip()
cluster_by = c2.text_input(
    "Cluster steps by (auto, a field, or none)", "auto", key="create_cluster_by"
).strip()
if st.button("Create workspace", key="create_button"):
    # One submission, one workspace: pressing again (a double click, or a rerun) opens the
    # workspace this same form already made rather than making name-2.
    form = (name, test, train, image_root, cluster_by)
    made = st.session_state.get("_created_from", {}).get(form)
    try:
        new = find_workspace(made) if made else None
        again = new is not None
        new = new or create_from_files(
            name,
            test or "",
            train=train or None,
            image_root=image_root or None,
            cluster_by=cluster_by or "auto",
        )
    except GemvizError as exc:
        st.error(md(refusal(exc)))
    else:
        st.session_state.setdefault("_created_from", {})[form] = new.slug
        flash(
            "info" if again else "success",
            f"Workspace '{new.name}' was already created from this form; opened it."
            if again
            else workspace_created(new),
        )
        open_workspace(new.slug)
        st.rerun()
