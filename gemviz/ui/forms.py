"""Form helpers of the Workspace page: a file given by path or upload, refusals in the
user's words, a file's fields, and an action whose outcome is said after the rerun."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import streamlit as st

from gemviz.actions import FORMATS, RULES
from gemviz.analysis.findings_coverage import separation_note
from gemviz.data.errors import GemvizBatchError, GemvizError
from gemviz.data.read import read_records
from gemviz.splitters import default_params
from gemviz.ui.cache import splitter_counts
from gemviz.ui.state import flash
from gemviz.ui.text import code, md
from gemviz.workspace.configs import (
    configs_from_pattern,
    configs_from_table,
    configurations,
    read_configs,
    set_configs,
)
from gemviz.workspace.create import score_files_in
from gemviz.workspace.derive import fields_of
from gemviz.workspace.files import stage_upload
from gemviz.workspace.store import Workspace
from gemviz.workspace.summary import splitter_added


def file_input(label: str, key: str, default: str = "") -> str | None:
    """A path typed by the user, or an upload (kept aside until the file is accepted)."""
    left, right = st.columns(2)
    path = left.text_input(f"{label}: path on the server", default, key=f"{key}_path").strip()
    upload = right.file_uploader(f"… or upload {label}", key=f"{key}_upload")
    if upload is not None:
        staged = str(stage_upload(upload.name, upload))
        note_upload(staged, upload.name)
        return staged
    return path or None


def note_upload(staged: str, name: str) -> None:
    """Remember an upload's own name, so refusals name it as the user knows it."""
    shown = f"{name} (uploaded)" if name else "(uploaded folder)"
    st.session_state.setdefault("_upload_names", {})[staged] = shown


def refusal(exc: GemvizError) -> str:
    """The error's text with staged upload paths replaced by the uploaded files' names."""
    text = str(exc)
    # Longest first: a staged folder's path is the start of its files' paths.
    names = st.session_state.get("_upload_names", {})
    for staged in sorted(names, key=len, reverse=True):
        text = text.replace(staged, names[staged])
    return text


def show_refusal(exc: GemvizError) -> None:
    """Show a refusal; several refused files as a list under their summary line."""
    if isinstance(exc, GemvizBatchError):
        items = "\n".join(f"- {md(refusal(e))}" for e in exc.errors)
        st.error(f"{md(exc.summary)}\n\n{items}")
    else:
        st.error(md(refusal(exc)))


def fields_caption(path: str | None) -> None:
    """List a chosen file's fields, so the mapping can be typed without opening it."""
    if path and Path(path).is_file():
        try:
            st.caption(
                "Fields in this file: "
                + ", ".join(code(f) for f in fields_of(read_records(path)[:200]))
            )
        except GemvizError as exc:
            st.error(md(exc))


def attempt(action: Callable[[], Any], success: Any) -> None:
    """Run ``action``; on success keep ``success`` (text, or a callable of the result giving
    (kind, text) pairs) for the page's next run, which ``st.rerun`` starts."""
    try:
        result = action()
        said = success(result) if callable(success) else [("success", success)]
    except GemvizError as exc:
        show_refusal(exc)
    else:
        for kind, text in said:
            flash(kind, text)
        st.rerun()


def splitter_said(entry: Any) -> list[tuple[str, str]]:
    """What adding a splitter says: its counts, and a warning when a set is empty or holds
    nearly every step."""
    message, warning = splitter_added(entry)
    if warning is None:
        n_id, n_ood = splitter_counts(entry)
        warning = separation_note(entry.name, n_id, n_id + n_ood) or None
    return [("success", message)] + ([("warning", warning)] if warning else [])


def separation_notes(ws: Workspace) -> list[str]:
    """ "194 of 200 ID: gem-5k barely separates" for each splitter whose ID or OOD side holds
    95% of the steps or more (splitters whose labels cannot be read are left out)."""
    out = []
    for entry in ws.splitters:
        try:
            n_id, n_ood = splitter_counts(entry)
        except GemvizError:
            continue
        note = separation_note(entry.name, n_id, n_id + n_ood)
        if note:
            out.append(note)
    return out


NONE = "(none)"


def splitter_files(ws: Workspace) -> dict[str, Any]:
    """Where a new splitter comes from: a labeled file, score files, a training set or the
    score files the workspace already holds; returns :func:`add_splitter`'s file arguments."""
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
        files["train_method"] = st.radio(
            "Partition", ["knn", "gem"], key="new_splitter_train_method", horizontal=True,
            format_func={"knn": "covered or not (k nearest neighbours)",
                         "gem": "GEM on the distance to the set's centroid"}.get,
        )  # fmt: skip
    else:
        if source in own:
            files["train_scores"], files["test_scores"] = own[source]
        else:
            files["train_scores"] = file_input("train score file", "new_splitter_train")
            files["test_scores"] = file_input("test score file", "new_splitter_test", ws.test or "")
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
    if source == training:
        return {k: files.get(k) for k in ("training_set", "text", "train_method")}
    return files


def model_mapping() -> dict[str, Any]:
    """How a new model's result file maps to gemviz's fields (:func:`add_model`'s options)."""
    c1, c2, c3 = st.columns(3)
    pred = c1.text_input("Prediction field (optional)", key="new_model_pred").strip()
    type_field = c2.text_input("Type-match field (if not type_match)", key="new_model_type").strip()
    exact_field = c3.text_input(
        "Exact-match field (if not exact_match)", key="new_model_exact"
    ).strip()
    c1, c2, c3 = st.columns(3)
    rules = c1.selectbox("Match predictions with rule set", [NONE, *RULES], key="new_model_rules")
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
    return mapping


def config_editor(ws: Workspace) -> None:
    """The configuration table as an editable grid (method, training set, base model, notes,
    baseline), saved into the workspace on request; a file or a name pattern fills it too."""
    table = configurations(ws)
    edited = st.data_editor(
        table,
        hide_index=True,
        key="configs_editor",
        disabled=["model"],
        column_config={
            "model": st.column_config.TextColumn("configuration"),
            "train_set": st.column_config.TextColumn("training set"),
            "base_model": st.column_config.TextColumn("base model"),
            "notes": st.column_config.TextColumn(width="large"),
            "baseline": st.column_config.CheckboxColumn(
                help="the reference the others are read against"
            ),
        },
    )
    c1, c2 = st.columns([1, 2])
    if c1.button("Save configuration table", key="configs_save", icon=":material/save:"):
        attempt(
            lambda: set_configs(ws, configs_from_table(edited), replace=True),
            "Saved the configuration table.",
        )
    pattern = c2.text_input(
        "Fill from the names (a regular expression with named groups)",
        key="configs_pattern",
        placeholder="(?P<method>sft|lora|grpo)_(?P<train_set>.*)",
    ).strip()
    if pattern and c2.button("Fill from the names", key="configs_fill"):
        names = [m.name for m in ws.models]
        attempt(
            lambda: set_configs(ws, configs_from_pattern(names, pattern)), "Filled from the names."
        )
    upload = st.file_uploader(
        "…or a configuration file (CSV/JSON/YAML: model, method, train_set, base_model, notes, baseline)",
        type=["csv", "json", "yaml", "yml"],
        key="configs_file",
    )
    if upload is not None and st.button("Read the file", key="configs_read"):
        attempt(
            lambda: set_configs(ws, _uploaded_configs(ws, upload)), "Read the configuration file."
        )


def _uploaded_configs(ws: Workspace, upload) -> dict:
    staged = stage_upload(upload.name, upload)
    st.session_state.setdefault("_upload_names", {})[str(staged)] = f"{upload.name} (uploaded)"
    return read_configs(staged)
