"""What the URL and the session remember: the open workspace and step, click-through
selections, and widget values that survive page switches."""

from __future__ import annotations

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from gemviz.analysis.selection import resolve
from gemviz.data.errors import GemvizError
from gemviz.demo import ensure_bfcl_demo, ensure_demo
from gemviz.ui.text import code, md
from gemviz.workspace.catalog import find_workspace, list_workspaces
from gemviz.workspace.store import Workspace

DEMO_SLUG = "demo"

# URL keys: the view a reload, a new tab or a shared link opens again.
WORKSPACE_PARAM = "workspace"
SAMPLE_PARAM = "sample"
SELECT_PARAM = "select"  # a click-through selection (gemviz.analysis.selection)
_SAMPLE_KEY = "_url_sample"  # the open step, kept while the URL loses it on a page switch
_PROBLEM_KEY = "_url_problem"  # why the URL's workspace could not be opened
#: The longest URL parameter read; a longer one is no id, slug or selection gemviz made.
MAX_PARAM = 2000


def url_param(name: str) -> str | None:
    """The URL's ``?name=`` value, or None; one longer than :data:`MAX_PARAM` is dropped.

    A dropped value is said on the page (the next page that shows messages shows it).
    """
    value = st.query_params.get(name)
    if value is None or len(value) <= MAX_PARAM:
        return value
    del st.query_params[name]
    st.session_state[_PROBLEM_KEY] = (
        "warning",
        f"The link's {code('?' + name + '=')} is {len(value):,} characters long, longer than "
        f"any gemviz makes ({MAX_PARAM:,} at most); it was ignored.",
    )
    return None


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
    url_slug = url_param(WORKSPACE_PARAM)
    url_param(SAMPLE_PARAM)
    url_param(SELECT_PARAM)
    slug = url_slug or st.session_state.get("workspace")
    ws = None
    if slug:
        try:
            ws = find_workspace(slug)
        except GemvizError as exc:
            # Kept until a page shows it: the router's call (notify=False) comes first.
            st.session_state[_PROBLEM_KEY] = (
                "error",
                f"Workspace {code(slug)} is broken and cannot be opened: {md(exc)}",
            )
        else:
            if ws is None and url_slug:
                st.session_state[_PROBLEM_KEY] = (
                    "warning",
                    f"There is no workspace {code(slug)}; showing another one.",
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
    if notify:
        _hold(ws)
    return ws


_HELD_KEY = "_held_workspace"


def _hold(ws: Workspace) -> None:
    """Make a save refused when ``workspace.json`` changed since this page last showed it.

    Each run reads the workspace afresh, but the user acted on what the previous run drew:
    when someone else (the command line, another tab) saved in between, an edit made now
    would be applied to entries the user has not seen. The page's copy then keeps the
    revision the user saw, so its save is refused ("changed since you opened it; reload");
    the page drawn this time shows the new state, and the next action goes through. Called
    once per run, by the page's own :func:`current_workspace` (the router's call does not).
    """
    held = st.session_state.get(_HELD_KEY)
    seen = None
    if held is not None and held[0] == ws.slug:
        _, obj, given, actual = held
        # A save during that run moved its copy on: the user's own edit, which is seen.
        seen = obj.revision if obj.revision != given else actual
    actual = ws.revision
    if seen is not None and seen != actual:
        ws.revision = seen
    st.session_state[_HELD_KEY] = (ws.slug, ws, ws.revision, actual)


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
    return url_param(SAMPLE_PARAM) or st.session_state.get(_SAMPLE_KEY)


# -- click-through: open Samples on exactly some steps ---------------------------------------

_SELECTION_KEY = "samples_selection"


def open_in_samples(ws: Workspace, ids, label: str, select: str | None = None) -> None:
    """Show exactly the steps ``ids`` on the Samples page (and go there).

    Args:
        ws: The workspace the ids belong to.
        ids: Sample ids (any iterable).
        label: What the selection is, shown above the table (e.g. "Venn region gem only").
        select: The selection as text (:mod:`gemviz.analysis.selection`), put in the URL as
            ``?select=`` so a reload or a shared link opens the same steps.
    """
    st.session_state[_SELECTION_KEY] = {
        "workspace": ws.slug,
        "ids": [str(i) for i in ids],
        "label": label,
        "select": select,
    }
    params = {WORKSPACE_PARAM: ws.slug}
    if current_sample():
        params[SAMPLE_PARAM] = current_sample()
    if select:
        params[SELECT_PARAM] = select
    st.switch_page("pages/5_samples.py", query_params=params)


def samples_selection(ws: Workspace, study=None) -> dict | None:
    """The selection sent to Samples for this workspace (``ids``, ``label``), or None.

    Without one in the session (a reload, a new tab, a shared link), the URL's ``?select=``
    is read against ``study``; a selection the study cannot resolve is said on the page.
    """
    sel = st.session_state.get(_SELECTION_KEY)
    if sel and sel.get("workspace") == ws.slug:
        if sel.get("select") and st.query_params.get(SELECT_PARAM) != sel["select"]:
            st.query_params[SELECT_PARAM] = sel["select"]
        return sel
    text = url_param(SELECT_PARAM)
    if not text or study is None:
        return None

    try:
        ids, label = resolve(study, text)
    except GemvizError as exc:
        st.warning(f"The link's selection cannot be opened: {md(exc)}")
        st.query_params.pop(SELECT_PARAM, None)
        return None
    st.session_state[_SELECTION_KEY] = {
        "workspace": ws.slug,
        "ids": ids,
        "label": label,
        "select": text,
    }
    return st.session_state[_SELECTION_KEY]


def clear_samples_selection() -> None:
    """Forget the selection sent to Samples (and drop it from the URL)."""
    st.session_state.pop(_SELECTION_KEY, None)
    st.query_params.pop(SELECT_PARAM, None)


# -- messages that survive the rerun after an action -----------------------------------------

_FLASH_KEY = "_flash"


def flash(kind: str, text: str) -> None:
    """Keep a message (``success``, ``info``, ``warning``, ``error``) for the next run.

    An action followed by ``st.rerun()`` would otherwise lose its message before it is seen.
    """
    st.session_state.setdefault(_FLASH_KEY, []).append((kind, str(text)))


def show_flashes() -> None:
    """Show the kept messages once (as plain text: they carry user names) and forget them."""
    for kind, text in st.session_state.pop(_FLASH_KEY, []):
        box = {"success": st.success, "info": st.info, "warning": st.warning}.get(kind, st.error)
        box(md(text))


# -- tabs and widget values that survive reruns and page switches ----------------------------


def kept_tabs(labels: list[str], key: str):
    """``st.tabs`` whose chosen tab stays chosen after a submit's rerun and in the URL.

    The choice lives in the session under ``key`` and in the URL as ``?<key>=<label>``, so a
    reload or a shared link opens the same tab.
    """
    return st.tabs(labels, key=key, bind="query-params", on_change="rerun")


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

    bar = st.progress(0.0, text="Building the demo workspace (first start only)…")

    def report(*args) -> None:
        # Accept (done, total, stage) as the scorer reports it, or (fraction, text).
        if len(args) >= 2 and isinstance(args[1], (int, float)) and args[1]:
            frac, text = args[0] / args[1], str(args[2]) if len(args) > 2 else ""
        else:
            frac, text = float(args[0]) if args else 0.0, str(args[1]) if len(args) > 1 else ""
        bar.progress(min(max(frac, 0.0), 1.0), text=f"Building the demo workspace… {md(text)}")

    try:
        folder = ensure_demo(progress=report)
    except GemvizError as exc:
        st.error(f"The demo could not be built: {md(exc)}")
        return None
    bar.empty()
    return Workspace.load(folder)


def open_bfcl_demo() -> None:
    """Build the tool-calling demo (BFCL v4) when it is missing, with a progress bar; open it."""
    bar = st.progress(0.0, text="Building the tool-calling demo (about a minute, once)…")

    def report(done: int, total: int, stage: str) -> None:
        bar.progress(min(max(done / max(total, 1), 0.0), 1.0), text=f"Tool-calling demo… {stage}")

    try:
        folder = ensure_bfcl_demo(progress=report)
    except GemvizError as exc:
        st.error(f"The tool-calling demo could not be built: {md(exc)}")
        return
    bar.empty()
    open_workspace(Workspace.load(folder).slug)
