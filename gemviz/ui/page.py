"""The preamble every page shares: title, workspace, demo banner and study."""

from __future__ import annotations

import streamlit as st

from gemviz.data.errors import GemvizError
from gemviz.data.study import Study
from gemviz.ui.cache import load_study
from gemviz.ui.state import current_workspace
from gemviz.ui.text import md
from gemviz.workspace.store import Workspace


def page_setup(title: str, need_study: bool = True) -> tuple[Workspace, Study | None]:
    """Title the page and return the workspace in view and its study.

    Stops the page (``st.stop``) when there is no workspace, or when ``need_study`` and the
    study cannot be loaded (after saying why on the page).

    Args:
        title: The page's title.
        need_study: Load the workspace's study (pages that only manage files pass False).

    Returns:
        (workspace, study); ``study`` is None when ``need_study`` is False.
    """
    st.title(title)
    ws = current_workspace()
    if ws is None:
        st.stop()
    study = None
    if need_study:
        study = study_or_error(ws)
        if study is None:
            st.stop()
    demo_banner(ws)
    return ws, study


def demo_banner(ws: Workspace) -> None:
    """Say plainly that the numbers shown come from generated demo data."""
    if ws.demo and ws.slug == "demo-bfcl":
        st.info(
            "You are looking at the built-in **tool-calling demo workspace**: BFCL v4's real "
            "multi-turn-base entries, with made-up training sets and simulated evaluation runs, "
            "not real study data. Create your own workspace on the Workspace page."
        )
    elif ws.demo:
        st.info(
            "You are looking at the built-in **demo workspace**: generated screenshots, tasks "
            "and agents, not real study data. Create your own workspace on the Workspace page."
        )


def study_or_error(ws: Workspace) -> Study | None:
    """The workspace's study, or ``None`` after showing what is wrong with its files."""
    try:
        study = load_study(str(ws.json_path), ws.fingerprint())
    except GemvizError as exc:
        st.error(md(exc))
        return None
    for note in study.warnings:
        st.warning(md(note))
    return study
