"""The Workspace page's "New workspace" form: a test set, and optionally its training sets
and the models' runs (a BFCL results folder by path or upload, or many run files at once).

Every file is checked by :func:`gemviz.workspace.create.create_from_files` before any training
set is embedded, and all refused files are shown together. The form's values stay as typed
after a refusal, and a second press of the button opens the workspace this same form made.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import streamlit as st

from gemviz.data.errors import GemvizError
from gemviz.ui.forms import file_input, note_upload, show_refusal
from gemviz.ui.ingest import gathered_models, uploaded_folder, uploaded_runs
from gemviz.ui.state import flash, open_workspace
from gemviz.ui.text import code
from gemviz.workspace.catalog import find_workspace
from gemviz.workspace.configs import Config, set_configs
from gemviz.workspace.create import create_from_files
from gemviz.workspace.files import stage_upload
from gemviz.workspace.summary import workspace_created

NONE = "(none)"


def training_sets(lines: str, uploads: list[tuple[str, str]]) -> dict[str, str]:
    """Splitter name -> training set, from ``NAME=path`` lines (a bare path is named by its
    file) and uploaded files (named by theirs).

    Raises:
        GemvizError: A line without a path, or one name given twice.
    """
    named: list[tuple[str, str]] = []
    for number, line in enumerate(lines.splitlines(), 1):
        text = line.strip()
        if not text:
            continue
        name, sep, path = text.partition("=")
        name, path = (name.strip(), path.strip()) if sep else (Path(text).stem, text)
        if not name or not path:
            raise GemvizError(
                f"training sets, line {number}: expected NAME=path on the server, got {text!r}"
            )
        named.append((name, path))
    named += uploads
    out: dict[str, str] = {}
    for name, path in named:
        if name in out:
            raise GemvizError(
                f"two training sets are named '{name}'; give each splitter its own name"
            )
        out[name] = path
    return out


def _uploaded_sets() -> list[tuple[str, str]]:
    out = []
    for upload in (
        st.file_uploader(
            "… or upload training sets (each one splitter, named by its file)",
            accept_multiple_files=True,
            key="create_training_upload",
        )
        or []
    ):
        staged = str(stage_upload(upload.name, upload))
        note_upload(staged, upload.name)
        out.append((Path(upload.name).stem, staged))
    return out


def _sets_inputs() -> tuple[str, list[tuple[str, str]]]:
    st.markdown("**Splitters from training sets** (optional)")
    left, right = st.columns(2)
    lines = left.text_area(
        "Training sets: one per line, NAME=path on the server (a bare path is named by its file)",
        key="create_training_paths",
        height=90,
    )
    with right:
        uploads = _uploaded_sets()
    st.caption(
        "Each set's prompts and the test entries are embedded with the packaged sentence "
        "model; an entry is ID when it lies near some training example (k nearest neighbours)."
    )
    return lines, uploads


def _model_inputs(test: str | None) -> dict[str, list[str]]:
    """The configurations and runs the form gives, with a line saying what was found."""
    st.markdown("**Models** (optional)")
    left, right = st.columns(2)
    path = left.text_input(
        "BFCL results folder or result file: path on the server", key="create_runs_path"
    ).strip()
    name = left.text_input(
        "Model name of the run files (not needed for a BFCL folder)", key="create_model_name"
    ).strip()
    with right:
        runs = uploaded_runs(
            "create_runs_upload", "… or upload run files (one or many; each is one run)"
        )
    folder = uploaded_folder("create_folder_upload")
    models = gathered_models(test, name, path, runs, folder)
    if models:
        n_runs = sum(len(f) for f in models.values())
        names = ", ".join(code(m) for m in list(models)[:8]) + (" …" if len(models) > 8 else "")
        st.caption(f"Found {len(models)} model(s), {n_runs} run file(s): {names}")
    return models


def _create(request: dict[str, Any], baseline: str | None):
    """The workspace this request makes (or the one it already made) and whether it is new."""
    form = repr(sorted(request.items())) + repr(baseline)
    made = st.session_state.get("_created_from", {}).get(form)
    new = find_workspace(made) if made else None
    if new is not None:
        return new, False
    models = request.pop("models")
    new = create_from_files(
        **request, models={m: f[0] if len(f) == 1 else f for m, f in models.items()}
    )
    if baseline:
        set_configs(new, {baseline: Config(baseline=True)})
    st.session_state.setdefault("_created_from", {})[form] = new.slug
    return new, True


def create_form() -> None:
    """The form's widgets and its button."""
    name = st.text_input("Name", key="create_name")
    test = file_input("test-set file", "create_test")
    train = st.text_input(
        "Train-set file (path on the server, optional)", key="create_train"
    ).strip()
    c1, c2 = st.columns(2)
    image_root = c1.text_input("Screenshot folder (optional)", key="create_image_root").strip()
    cluster_by = c2.text_input(
        "Cluster steps by (auto, a field, or none)", "auto", key="create_cluster_by"
    ).strip()
    lines, set_uploads = _sets_inputs()
    try:
        models = _model_inputs(test)
    except GemvizError as exc:
        show_refusal(exc)
        models = None
    baseline = st.selectbox(
        "Baseline configuration (the reference the others are read against)",
        [NONE, *(models or {})],
        key="create_baseline",
    )
    if not st.button("Create workspace", key="create_button"):
        return
    try:
        if models is None:
            raise GemvizError("fix the models' files above first")
        request = {
            "name": name,
            "test": test or "",
            "train": train or None,
            "image_root": image_root or None,
            "cluster_by": cluster_by or "auto",
            "training_sets": training_sets(lines, set_uploads),
            "models": models,
        }
        new, fresh = _create(request, None if baseline == NONE else baseline)
    except GemvizError as exc:
        show_refusal(exc)
        return
    flash(
        "success" if fresh else "info",
        workspace_created(new)
        if fresh
        else f"Workspace '{new.name}' was already created from this form; opened it.",
    )
    open_workspace(new.slug)
    st.rerun()
