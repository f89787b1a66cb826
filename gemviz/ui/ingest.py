"""The Workspace page's "Add model" tab: one result file, many run files, or a BFCL folder.

Runs come in three ways, in any mix: files uploaded together (each one run of the model
named in the tab), a BFCL results folder uploaded as a folder or named by its path on the
server (its configurations named by their folders, :mod:`gemviz.workspace.bfcl_runs`), or a
single file's path. Every file is checked before any is added, and all refused files are
listed together.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import streamlit as st

from gemviz.data.errors import GemvizError
from gemviz.ui.forms import attempt, fields_caption, model_mapping, note_upload
from gemviz.workspace.bfcl_runs import folder_runs, merge_runs
from gemviz.workspace.files import stage_folder, stage_upload
from gemviz.workspace.models import add_model, add_models
from gemviz.workspace.store import Workspace

# Files of an uploaded folder that are read: the evaluator's score and result files.
_KEPT = ("_score.json", "_result.json")


def uploaded_runs(key: str, label: str) -> list[str]:
    """Each uploaded run file, staged (one run of the named model per file)."""
    out = []
    for upload in st.file_uploader(label, accept_multiple_files=True, key=key) or []:
        staged = str(stage_upload(upload.name, upload))
        note_upload(staged, upload.name)
        out.append(staged)
    return out


def uploaded_folder(key: str) -> str | None:
    """An uploaded BFCL results folder, staged with its layout (its score and result files)."""
    uploads = st.file_uploader(
        "… or upload a BFCL results folder (configurations named by their folders)",
        accept_multiple_files="directory",
        key=key,
    )
    files = [u for u in uploads or [] if u.name.endswith(_KEPT)]
    if not files:
        return None
    ids = tuple(u.file_id for u in files)
    staged = st.session_state.setdefault("_staged_folders", {})
    if ids not in staged or not Path(staged[ids]).is_dir():
        root = stage_folder((u.name, u.getvalue()) for u in files).resolve()
        note_upload(str(root), "")
        # The browser names each file by its path from the chosen folder, that folder first.
        tops = {Path(u.name).parts[0] for u in files if len(Path(u.name).parts) > 1}
        children = [p for p in root.iterdir()]
        staged[ids] = str(children[0] if len(tops) == 1 and len(children) == 1 else root)
    return staged[ids]


def gathered_models(
    test: str | None, name: str, path: str, runs: list[str], folder: str | None
) -> dict[str, list[str]]:
    """Model name -> its files, from a form's inputs: the configurations of the uploaded
    folder and of ``path`` when it is a folder, and the named model's files (the uploaded
    runs, and ``path`` when it is a file). Empty when nothing is given.

    Raises:
        GemvizError: Files without a model name, a folder :func:`folder_runs` refuses, or a
            configuration given twice.
    """
    folders = [f for f in (folder, path if path and Path(path).is_dir() else None) if f]
    found = folder_runs(folders, test)
    files = runs + ([path] if path and not Path(path).is_dir() else [])
    if files and not name:
        raise GemvizError("name the model these result files belong to")
    return merge_runs({name: files} if files else {}, found)


def _add(ws: Workspace, models: dict[str, list[str]], mapping: dict[str, Any]):
    """Add one model with its field mapping, or many models' runs as their files are."""
    (first, files), *more = models.items()
    if not more and len(files) == 1:
        return [add_model(ws, first, files[0], add_run=True, **mapping)]
    if any(mapping.get(k) for k in ("pred_field", "type_field", "exact_field", "rules")):
        raise GemvizError(
            "field mappings and rule sets apply to a single result file; give run files with "
            "the metrics named as gemviz reads them, or BFCL score files"
        )
    return add_models(ws, models)


def _said(entries) -> list[tuple[str, str]]:
    runs = sum(len(e.run_files()) for e in entries)
    names = ", ".join(f"'{e.name}'" for e in entries[:6]) + (" …" if len(entries) > 6 else "")
    word = "model" if len(entries) == 1 else "models"
    return [("success", f"Added {len(entries)} {word} ({runs} run files): {names}.")]


def add_model_tab(ws: Workspace) -> None:
    """The tab's widgets and its button."""
    name = st.text_input("Model name (not needed for a BFCL folder)", key="new_model_name")
    left, right = st.columns(2)
    path = left.text_input(
        "Result file or BFCL results folder: path on the server", key="new_model_file_path"
    ).strip()
    with right:
        runs = uploaded_runs(
            "new_model_runs_upload",
            "… or upload run files (one or many; each is one run of this model)",
        )
    folder = uploaded_folder("new_model_folder_upload")
    fields_caption(path if path and Path(path).is_file() else (runs[0] if runs else None))
    with st.expander("Field mapping (a single result file)"):
        mapping = model_mapping()
    st.caption(
        "A BFCL results folder holds one folder per run: DIR/<config>/<run>/score/<model>/…"
        "/BFCL_v4_<category>_score.json or DIR/<run>/score/<config>/…. Every file is checked "
        "before any is added; the refused ones are listed together."
    )
    if st.button("Add model", key="add_model"):
        attempt(
            lambda: _add(ws, _models(ws.test, name.strip(), path, runs, folder), mapping), _said
        )


def _models(test: str | None, name: str, path: str, runs: list[str], folder: str | None):
    models = gathered_models(test, name, path, runs, folder)
    if not models:
        raise GemvizError("give a result file, run files or a BFCL results folder")
    return models
