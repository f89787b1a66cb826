"""The dashboard's one Streamlit module: cached wrappers and the current-workspace helper.

Every wrapper is a one-liner around a gemviz function. Study-level wrappers take the
workspace's ``workspace.json`` path plus its :meth:`~gemviz.workspace.Workspace.fingerprint`
rather than the study itself, so a cache key is a few bytes to hash and changes whenever a
file the workspace names changes. To add a wrapper, follow the same pattern.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from gemviz import data, venn
from gemviz.errors import GemvizError, GemvizWarning
from gemviz.export import figure_png, figure_svg
from gemviz.splitters.gem import GmmFit, fit_gmm_1d
from gemviz.study import Study
from gemviz.workspace import Workspace, find_workspace, list_workspaces, scan_workspaces

DEMO_SLUG = "demo"


# -- cached loaders and computations ---------------------------------------------------------


@st.cache_resource(max_entries=8, show_spinner=False)
def load_study(workspace_json: str, fingerprint: str) -> Study:
    """The workspace's study (shared, read-only: pages must not modify it).

    What the loaders flag without refusing (a :class:`~gemviz.errors.GemvizWarning`, e.g.
    ``exact_match`` = 1 where ``type_match`` = 0) is kept as ``study.input_warnings`` for
    :func:`study_or_error` to show.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", GemvizWarning)
        study = Workspace.load(Path(workspace_json).parent).study()
    study.input_warnings = [str(w.message) for w in caught if issubclass(w.category, GemvizWarning)]
    return study


@st.cache_data(max_entries=32, show_spinner=False)
def load_scores(path: str, fingerprint: str) -> pd.DataFrame:
    """A score file as loaded by :func:`gemviz.data.load_scores`."""
    return data.load_scores(path)


@st.cache_resource(max_entries=8, show_spinner=False)
def load_embeddings(path: str) -> np.ndarray:
    """The embedding matrix of an ``.npz`` file written by scoring (shared, read-only)."""
    from gemviz.embedding_store import load_embeddings as load

    return load(path)[1]


@st.cache_data(max_entries=64, show_spinner=False)
def gmm_fit(scores: np.ndarray, max_components: int, seed: int) -> GmmFit:
    """The BIC-selected Gaussian mixture of train scores (sigma is applied later, uncached)."""
    return fit_gmm_1d(scores, max_components=max_components, random_state=seed)


@st.cache_data(max_entries=32, show_spinner=False)
def id_ood_table(
    workspace_json: str, fingerprint: str, splitters: tuple, models: tuple, adjust: str = "holm"
):
    """:func:`gemviz.analysis.id_ood_table` of the workspace's study."""
    from gemviz import analysis

    study = load_study(workspace_json, fingerprint)
    return analysis.id_ood_table(
        study, list(splitters) or None, list(models) or None, adjust=adjust
    )


@st.cache_data(max_entries=32, show_spinner=False)
def interaction_table(
    workspace_json: str,
    fingerprint: str,
    splitters: tuple,
    models: tuple,
    adjust: str = "holm",
    margin: float = 0.05,
):
    """:func:`gemviz.analysis.interaction_table` of the workspace's study."""
    from gemviz import analysis

    study = load_study(workspace_json, fingerprint)
    return analysis.interaction_table(
        study, list(splitters) or None, list(models) or None, adjust=adjust, margin=margin
    )


@st.cache_data(max_entries=32, show_spinner=False)
def paired_comparison(
    workspace_json: str,
    fingerprint: str,
    a: str,
    b: str,
    metric: str,
    splitter: str | None,
    adjust: str = "holm",
) -> pd.DataFrame:
    """:func:`gemviz.analysis.paired_comparison` of the workspace's study."""
    from gemviz import analysis

    study = load_study(workspace_json, fingerprint)
    return analysis.paired_comparison(study, a, b, metric, splitter=splitter, adjust=adjust)


@st.cache_data(max_entries=32, show_spinner=False)
def venn_regions(workspace_json: str, fingerprint: str, splitters: tuple, label: str):
    """:func:`gemviz.overlap.venn_regions` of the workspace's study."""
    from gemviz import overlap

    return overlap.venn_regions(load_study(workspace_json, fingerprint), list(splitters), label)


@st.cache_data(max_entries=32, show_spinner=False)
def set_difference(
    workspace_json: str,
    fingerprint: str,
    a: str,
    b: str,
    metric: str,
    adjust: str = "holm",
    margin: float = 0.05,
):
    """:func:`gemviz.overlap.set_difference` of the workspace's study (permutations, cached)."""
    from gemviz import overlap

    study = load_study(workspace_json, fingerprint)
    return overlap.set_difference(study, a, b, metric=metric, adjust=adjust, margin=margin)


def stability_refits(ws: Workspace, study: Study) -> dict[str, np.ndarray]:
    """Bootstrap refits of the workspace's refittable splitters that are on disk.

    Splitters that a "Compute" button (:func:`stability_button`) asked for are refitted now
    (50 refits, with a progress bar) when not cached yet; the others are only read. Not cached
    with Streamlit: the disk cache is the cache (:func:`gemviz.stability.workspace_refits`).
    """
    from gemviz.stability import refittable, workspace_refits

    compute = st.session_state.pop("_refit", ())
    out = {}
    for name in refittable(ws):
        bar = st.progress(0.0, f"Refitting {name}...") if name in compute else None
        try:
            got = workspace_refits(
                ws,
                study,
                [name],
                compute=bar is not None,
                progress=(lambda n, d, t, b=bar: b.progress(d / t, f"Refitting {n}: {d}/{t}"))
                if bar
                else None,
            )
        except GemvizError as exc:
            if bar is not None:  # reading what is cached stays silent; a refit asked for says why
                st.error(str(exc))
            got = None
        if bar is not None:
            bar.empty()
        if got:
            out.update(got)
    return out


def stability_button(ws: Workspace, have, key: str) -> None:
    """A button that asks :func:`stability_refits` to refit the splitters not in ``have``."""
    from gemviz.stability import refittable

    missing = [n for n in refittable(ws) if n not in have]
    if missing and st.button(
        f"Compute ID probability ({', '.join(missing)}; 50 refits each)",
        key=key,
        help="Refits each splitter on 50 bootstrap resamples of the train tasks and counts how "
        "often each test step is called ID. Kept on disk; GEM takes about a second a refit.",
    ):
        st.session_state["_refit"] = tuple(missing)
        st.rerun()


def id_probability_filters(ws: Workspace, probs: dict) -> dict[str, tuple[float, float]]:
    """Range sliders on each splitter's ID probability (plus the compute button)."""
    ranges = {}
    for col, name in zip(st.columns(max(1, len(probs))), probs, strict=False):
        chosen = col.slider(
            f"{name} ID probability", 0.0, 1.0, (0.0, 1.0), 0.02, key=f"f_prob_{name}"
        )
        if chosen != (0.0, 1.0):
            ranges[name] = chosen
    stability_button(ws, probs, "compute_id_probability")
    return ranges


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


# URL keys: the view a reload, a new tab or a shared link opens again.
WORKSPACE_PARAM = "workspace"
SAMPLE_PARAM = "sample"
_SAMPLE_KEY = "_url_sample"  # the open step, kept while the URL loses it on a page switch
_PROBLEM_KEY = "_url_problem"  # why the URL's workspace could not be opened


def _route_through_app() -> None:
    """Rerun through ``app.py`` when Streamlit ran a page file on its own.

    Because a ``pages/`` folder sits beside ``app.py``, the first session after a server
    start is served the old way: pages found by file name, each run without ``app.py``.
    A link to ``/metrics`` then opens ``pages/3_metrics.py`` alone (no router, no workspace
    picker). Page files are named so that this old lookup finds the same URL path as the
    router (no "Page not found" dialog); once found, turning the old mode off and rerunning
    hands the same URL to ``app.py``'s ``st.navigation``, whose page of that path has the same
    page hash. Streamlit itself turns the old mode off at the first ``st.navigation`` call.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


def current_workspace(notify: bool = True) -> Workspace | None:
    """The workspace in view: the URL's ``?workspace=`` first, then the sidebar's choice.

    Falls back to the built-in demo (building it with a progress bar on first use) and then
    to the first saved workspace. Whatever is chosen is written back to the URL (with the
    open step, ``?sample=``), so a reload or a shared link opens the same view; Streamlit
    drops query parameters on a page switch, and this puts them back on every page.

    Args:
        notify: Say so on the page when there is no workspace at all, or when the URL names
            a workspace that cannot be opened.

    Returns:
        The workspace, or ``None`` when there is none.
    """
    _route_through_app()
    url_slug = st.query_params.get(WORKSPACE_PARAM)
    slug = url_slug or st.session_state.get("workspace")
    ws = None
    if slug:
        try:
            ws = find_workspace(slug)
        except GemvizError as exc:
            # Kept until a page shows it: the router's call (notify=False) comes first.
            st.session_state[_PROBLEM_KEY] = (
                "error",
                f"Workspace `{slug}` is broken and cannot be opened: {exc}",
            )
        else:
            if ws is None and url_slug:
                st.session_state[_PROBLEM_KEY] = (
                    "warning",
                    f"There is no workspace `{slug}`; showing another one.",
                )
    previous = st.session_state.get("workspace")
    if ws is None and previous and previous != slug:
        try:  # the workspace this session had open, rather than the demo
            ws = find_workspace(previous)
        except GemvizError:
            ws = None
    if notify and _PROBLEM_KEY in st.session_state:
        kind, text = st.session_state.pop(_PROBLEM_KEY)
        (st.error if kind == "error" else st.warning)(text)
    if ws is None:
        ws = _demo_workspace()
    if ws is None:
        saved = list_workspaces()
        ws = saved[0] if saved else None
    if ws is None:
        if notify:
            st.info("No workspace yet: create one on the Workspace page.")
        return None
    _remember(ws.slug, from_url=ws.slug == url_slug)
    return ws


def _remember(slug: str, from_url: bool) -> None:
    if st.session_state.get("workspace") != slug:
        # A step id belongs to its workspace: a new workspace opens none, unless the URL
        # named both (a shared link).
        st.session_state.pop(_SAMPLE_KEY, None)
        if (
            not from_url
            and st.session_state.get("workspace") is not None
            and SAMPLE_PARAM in st.query_params
        ):
            del st.query_params[SAMPLE_PARAM]
    st.session_state["workspace"] = slug
    if st.query_params.get(WORKSPACE_PARAM) != slug:
        st.query_params[WORKSPACE_PARAM] = slug
    sample = st.query_params.get(SAMPLE_PARAM)
    if sample:
        st.session_state[_SAMPLE_KEY] = sample
    elif st.session_state.get(_SAMPLE_KEY):
        st.query_params[SAMPLE_PARAM] = st.session_state[_SAMPLE_KEY]


def open_workspace(slug: str | None) -> None:
    """Make ``slug`` the workspace in view (URL and session); None forgets the choice."""
    st.session_state.pop(_SAMPLE_KEY, None)
    st.query_params.pop(SAMPLE_PARAM, None)
    if slug is None:
        st.session_state.pop("workspace", None)
        st.query_params.pop(WORKSPACE_PARAM, None)
    else:
        st.session_state["workspace"] = slug
        st.query_params[WORKSPACE_PARAM] = slug


def open_sample(sample_id: str | None) -> None:
    """Open step ``sample_id`` (URL ``?sample=``); None closes it."""
    if sample_id is None:
        st.session_state.pop(_SAMPLE_KEY, None)
        st.query_params.pop(SAMPLE_PARAM, None)
    else:
        st.session_state[_SAMPLE_KEY] = str(sample_id)
        st.query_params[SAMPLE_PARAM] = str(sample_id)


def current_sample() -> str | None:
    """The id of the open step (``?sample=``), or None."""
    return st.query_params.get(SAMPLE_PARAM) or st.session_state.get(_SAMPLE_KEY)


def broken_workspaces():
    """The workspaces that cannot be used as they are, each with its reason."""
    return scan_workspaces()[1]


# -- click-through: open Samples on exactly some steps ---------------------------------------

_SELECTION_KEY = "samples_selection"


def open_in_samples(ws: Workspace, ids, label: str) -> None:
    """Show exactly the steps ``ids`` on the Samples page (and go there).

    Args:
        ws: The workspace the ids belong to.
        ids: Sample ids (any iterable).
        label: What the selection is, shown above the table (e.g. "Venn region gem only").
    """
    st.session_state[_SELECTION_KEY] = {
        "workspace": ws.slug,
        "ids": [str(i) for i in ids],
        "label": label,
    }
    params = {WORKSPACE_PARAM: ws.slug}
    if current_sample():
        params[SAMPLE_PARAM] = current_sample()
    st.switch_page("pages/5_samples.py", query_params=params)


def samples_selection(ws: Workspace) -> dict | None:
    """The selection sent to Samples for this workspace (``ids``, ``label``), or None."""
    sel = st.session_state.get(_SELECTION_KEY)
    return sel if sel and sel.get("workspace") == ws.slug else None


def clear_samples_selection() -> None:
    """Forget the selection sent to Samples."""
    st.session_state.pop(_SELECTION_KEY, None)


# -- widget values that survive page switches ------------------------------------------------


def restore_widgets(ws: Workspace, prefix: str) -> None:
    """Put back this workspace's saved values of the widgets whose keys start with ``prefix``.

    Streamlit forgets a widget's value when its page is left; call this before the widgets
    are drawn and :func:`save_widgets` after, and the values survive page switches. Each
    workspace keeps its own values.
    """
    store = st.session_state.setdefault(f"_saved{prefix}", {})
    owner_key = f"_saved{prefix}_owner"
    if st.session_state.get(owner_key) != ws.slug:
        # Another workspace's values must not leak into this one's widgets.
        for k in [k for k in st.session_state if str(k).startswith(prefix)]:
            del st.session_state[k]
        st.session_state[owner_key] = ws.slug
    for k, v in store.get(ws.slug, {}).items():
        if k not in st.session_state:
            st.session_state[k] = v


def save_widgets(ws: Workspace, prefix: str) -> None:
    """Save the current values of the widgets whose keys start with ``prefix``."""
    store = st.session_state.setdefault(f"_saved{prefix}", {})
    store[ws.slug] = {k: st.session_state[k] for k in st.session_state if str(k).startswith(prefix)}


def _demo_workspace() -> Workspace | None:
    try:
        found = find_workspace(DEMO_SLUG)
    except GemvizError:
        return None
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
        study = load_study(str(ws.json_path), ws.fingerprint())
    except GemvizError as exc:
        st.error(str(exc))
        return None
    for note in getattr(study, "input_warnings", ()):
        st.warning(note)
    return study


def number_formats(frame: pd.DataFrame) -> dict:
    """Three decimals for means and differences, two significant digits for p-values."""
    return {
        c: st.column_config.NumberColumn(
            format="%.2g" if c.endswith(("_p", "_adjusted")) or c == "p_value" else "%.3f"
        )
        for c in frame.columns
        if frame[c].dtype.kind == "f"
    }


def key_columns_first(frame: pd.DataFrame, first) -> list[str]:
    """A ``column_order`` putting the columns a reader needs first (those that exist).

    At 1440 px a wide table shows about ten columns; the verdict and p-values must be among
    them, the interval bounds and counts can follow (scroll, or the CSV download).
    """
    lead = [c for c in first if c in frame.columns]
    return lead + [c for c in frame.columns if c not in lead]


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
    from gemviz.embedding_store import load_embeddings as load

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


@st.cache_data(max_entries=8, show_spinner=False)
def slice_fields(workspace_json: str, fingerprint: str) -> list[str]:
    """:func:`gemviz.slices.slice_fields` of the workspace's study."""
    from gemviz import slices

    return slices.slice_fields(load_study(workspace_json, fingerprint))


@st.cache_data(max_entries=32, show_spinner=False)
def slices_table(
    workspace_json: str, fingerprint: str, by: str, splitters: tuple, models: tuple, metric: str
) -> pd.DataFrame:
    """:func:`gemviz.slices.slices_table` of the workspace's study."""
    from gemviz import slices

    study = load_study(workspace_json, fingerprint)
    return slices.slices_table(study, by, list(splitters), list(models), (metric,))
