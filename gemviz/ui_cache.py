"""The dashboard's one Streamlit module: cached wrappers and the current-workspace helper.

Every wrapper is a one-liner around a gemviz function. Study-level wrappers take the
workspace's ``workspace.json`` path plus its :meth:`~gemviz.workspace.Workspace.fingerprint`
rather than the study itself, so a cache key is a few bytes to hash and changes whenever a
file the workspace names changes. To add a wrapper, follow the same pattern.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from gemviz import data, venn
from gemviz.errors import GemvizError
from gemviz.export import figure_png, figure_svg
from gemviz.splitters.gem import GmmFit, fit_gmm_1d
from gemviz.study import Study
from gemviz.workspace import Workspace, find_workspace, list_workspaces

DEMO_SLUG = "demo"


# -- cached loaders and computations ---------------------------------------------------------


@st.cache_resource(max_entries=8, show_spinner=False)
def load_study(workspace_json: str, fingerprint: str) -> Study:
    """The workspace's study (shared, read-only: pages must not modify it)."""
    return Workspace.load(Path(workspace_json).parent).study()


@st.cache_data(max_entries=32, show_spinner=False)
def load_scores(path: str, fingerprint: str) -> pd.DataFrame:
    """A score file as loaded by :func:`gemviz.data.load_scores`."""
    return data.load_scores(path)


@st.cache_resource(max_entries=8, show_spinner=False)
def load_embeddings(path: str) -> np.ndarray:
    """The embedding matrix of an ``.npz`` file written by scoring (shared, read-only)."""
    from gemviz.scoring import load_embeddings as load

    return load(path)[1]


@st.cache_data(max_entries=64, show_spinner=False)
def gmm_fit(scores: np.ndarray, max_components: int, seed: int) -> GmmFit:
    """The BIC-selected Gaussian mixture of train scores (sigma is applied later, uncached)."""
    return fit_gmm_1d(scores, max_components=max_components, random_state=seed)


@st.cache_data(max_entries=32, show_spinner=False)
def id_ood_table(workspace_json: str, fingerprint: str, splitters: tuple, models: tuple):
    """:func:`gemviz.analysis.id_ood_table` of the workspace's study."""
    from gemviz import analysis

    study = load_study(workspace_json, fingerprint)
    return analysis.id_ood_table(study, list(splitters) or None, list(models) or None)


@st.cache_data(max_entries=32, show_spinner=False)
def paired_comparison(
    workspace_json: str, fingerprint: str, a: str, b: str, metric: str, splitter: str | None
) -> pd.DataFrame:
    """:func:`gemviz.analysis.paired_comparison` of the workspace's study."""
    from gemviz import analysis

    study = load_study(workspace_json, fingerprint)
    return analysis.paired_comparison(study, a, b, metric, splitter=splitter)


@st.cache_data(max_entries=32, show_spinner=False)
def venn_regions(workspace_json: str, fingerprint: str, splitters: tuple, label: str):
    """:func:`gemviz.overlap.venn_regions` of the workspace's study."""
    from gemviz import overlap

    return overlap.venn_regions(load_study(workspace_json, fingerprint), list(splitters), label)


@st.cache_data(max_entries=32, show_spinner=False)
def set_difference(workspace_json: str, fingerprint: str, a: str, b: str, metric: str):
    """:func:`gemviz.overlap.set_difference` of the workspace's study (bootstrap, cached)."""
    from gemviz import overlap

    return overlap.set_difference(load_study(workspace_json, fingerprint), a, b, metric=metric)


@st.cache_data(max_entries=32, show_spinner=False)
def venn_images(counts: tuple, names: tuple, title: str) -> tuple[bytes, bytes]:
    """PNG and SVG bytes of a Venn diagram; ``counts`` is a tuple of (members, count)."""
    import matplotlib.pyplot as plt

    fig = venn.venn_figure(dict(counts), list(names), title)
    try:
        return figure_png(fig), figure_svg(fig)
    finally:
        plt.close(fig)


# -- the current workspace -------------------------------------------------------------------


def current_workspace(notify: bool = True) -> Workspace | None:
    """The workspace picked in the sidebar (``st.session_state["workspace"]``).

    Falls back to the built-in demo, building it with a progress bar on first use, and to
    the first saved workspace if the demo cannot be built. Returns ``None`` when there is no
    workspace at all, after saying so unless ``notify`` is false.
    """
    slug = st.session_state.get("workspace")
    ws = find_workspace(slug) if slug else None
    if ws is None:
        ws = _demo_workspace()
    if ws is None:
        saved = list_workspaces()
        ws = saved[0] if saved else None
    if ws is None:
        if notify:
            st.info("No workspace yet: create one on the Workspace page.")
        return None
    st.session_state["workspace"] = ws.slug
    return ws


def _demo_workspace() -> Workspace | None:
    found = find_workspace(DEMO_SLUG)
    if found is not None:
        return found
    try:
        from gemviz.demo import ensure_demo
    except ImportError:
        return None
    bar = st.progress(0.0, text="Building the demo workspace (first start only)…")

    def report(*args) -> None:
        # Accept (done, total, stage) as the scorer reports it, or (fraction, text).
        if len(args) >= 2 and isinstance(args[1], (int, float)) and args[1]:
            frac, text = args[0] / args[1], str(args[2]) if len(args) > 2 else ""
        else:
            frac, text = float(args[0]) if args else 0.0, str(args[1]) if len(args) > 1 else ""
        bar.progress(min(max(frac, 0.0), 1.0), text=f"Building the demo workspace… {text}")

    try:
        folder = ensure_demo(progress=report)
    except GemvizError as exc:
        st.error(f"The demo could not be built: {exc}")
        return None
    bar.empty()
    return Workspace.load(folder)


def demo_banner(ws: Workspace) -> None:
    """Say plainly that the numbers shown come from generated demo data."""
    if ws.demo:
        st.info(
            "You are looking at the built-in **demo workspace**: generated screenshots, tasks "
            "and agents, not real study data. Create your own workspace on the Workspace page."
        )


def study_or_error(ws: Workspace) -> Study | None:
    """The workspace's study, or ``None`` after showing what is wrong with its files."""
    try:
        return load_study(str(ws.json_path), ws.fingerprint())
    except GemvizError as exc:
        st.error(str(exc))
        return None


def table_downloads(table: pd.DataFrame, stem: str) -> None:
    """CSV and Markdown download buttons for ``table`` (bytes made only when clicked)."""
    from gemviz.export import table_csv, table_markdown

    left, right = st.columns(2)
    left.download_button(
        f"{stem}.csv",
        lambda: table_csv(table),
        f"{stem}.csv",
        "text/csv",
        key=f"dl_{stem}_csv",
        on_click="ignore",
        icon=":material/download:",
    )
    right.download_button(
        f"{stem}.md",
        lambda: table_markdown(table),
        f"{stem}.md",
        "text/markdown",
        key=f"dl_{stem}_md",
        on_click="ignore",
        icon=":material/download:",
    )


# -- Samples, Embeddings and Report pages (issue 6) -------------------------------------------


@st.cache_resource(max_entries=8, show_spinner=False)
def sample_table(workspace_json: str, fingerprint: str) -> pd.DataFrame:
    """:func:`gemviz.samples.sample_table` of the workspace's study (shared, read-only)."""
    from gemviz import samples

    return samples.sample_table(load_study(workspace_json, fingerprint))


@st.cache_resource(max_entries=16, show_spinner=False)
def predictions(path: str, field: str, fingerprint: str) -> dict:
    """A model's raw predictions by sample id (:func:`gemviz.samples.load_predictions`)."""
    from gemviz import samples

    return samples.load_predictions(path, field)


@st.cache_resource(max_entries=8, show_spinner=False)
def embeddings(path: str, fingerprint: str) -> tuple[list[str], np.ndarray]:
    """Ids and matrix of an embeddings ``.npz`` (shared, read-only)."""
    from gemviz.scoring import load_embeddings as load

    return load(path)


@st.cache_resource(max_entries=8, show_spinner=False)
def cached_projection(test: str, train: str | None, fingerprint: str, params):
    """A projection already on disk for these embeddings and parameters, else None."""
    from gemviz.projection import project_files

    return project_files(test, params, train_embeddings=train, compute=False)


@st.cache_resource(max_entries=8, show_spinner=False)
def projection(test: str, train: str | None, fingerprint: str, params, _progress=None):
    """:func:`gemviz.projection.project_files`, computed once (then disk-cached)."""
    from gemviz.projection import project_files

    return project_files(test, params, train_embeddings=train, progress=_progress)


# -- Step page (issue 12) --------------------------------------------------------------------


@st.cache_resource(max_entries=8, show_spinner=False)
def test_neighbours(train: str, test: str, fingerprint: str, k: int = 5):
    """:func:`gemviz.neighbours.cached_neighbours` of a splitter's embeddings (shared)."""
    from gemviz.neighbours import cached_neighbours

    return cached_neighbours(train, test, k=k)


@st.cache_resource(max_entries=4, show_spinner=False)
def train_records(path: str, fingerprint: str) -> pd.DataFrame:
    """:func:`gemviz.explain.train_records` (shared, read-only)."""
    from gemviz.explain import train_records as load

    return load(path)


@st.cache_data(max_entries=1024, show_spinner=False)
def thumbnail(path: str, image_root: str | None) -> bytes:
    """:func:`gemviz.explain.thumbnail` of a screenshot."""
    from gemviz.explain import thumbnail as thumb

    return thumb(path, image_root)
