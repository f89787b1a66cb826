"""gemviz dashboard: routes to the pages and keeps the workspace picker in the sidebar.

Run with ``streamlit run app.py``. Pages are listed in ``PAGES``; a page file that does not
exist yet is skipped, so adding a page is a one-line change here.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from gemviz.ui.state import current_workspace, open_bfcl_demo, open_workspace
from gemviz.ui.text import md
from gemviz.workspace.catalog import scan_workspaces

HERE = Path(__file__).parent

# (file, title, icon)
PAGES = [
    ("pages/1_workspace.py", "Workspace", ":material/folder_open:"),
    ("pages/2_score_partition.py", "Score & Partition", ":material/tune:"),
    ("pages/3_metrics.py", "Metrics", ":material/bar_chart:"),
    ("pages/4_overlap.py", "Overlap", ":material/join_inner:"),
    ("pages/5_samples.py", "Samples", ":material/photo_library:"),
    ("pages/6_embeddings.py", "Embeddings", ":material/scatter_plot:"),
    ("pages/7_report.py", "Report", ":material/description:"),
    ("pages/8_step.py", "Step", ":material/travel_explore:"),
]

st.set_page_config(page_title="gemviz", page_icon=":material/hub:", layout="wide")


def _path(file: str) -> str:
    return Path(file).stem.split("_", 1)[1].lower()


pages = [
    # The first page is the default, served at the root: its own path goes to the hidden
    # alias below, so it takes another internal name (a page's id is its path's hash).
    st.Page(str(HERE / f), title=t, icon=i, url_path=_path(f) + ("-root" if k == 0 else ""))
    for k, (f, t, i) in enumerate(PAGES)
    if (HERE / f).exists()
]


def _open_default_page() -> None:
    # A link to the default page by name (/workspace?workspace=demo) would be "not found";
    # this hidden page at that path forwards to it, keeping the URL's parameters.
    st.switch_page(pages[0], query_params=st.query_params.to_dict())


alias = st.Page(
    _open_default_page, title=PAGES[0][1], url_path=_path(PAGES[0][0]), visibility="hidden"
)
nav = st.navigation([*pages, alias])

# Outside the sidebar so the demo's first-start progress bar shows in the main area; it also
# writes ?workspace= (and ?sample=) back to the URL, which a page switch clears.
ws = current_workspace(notify=False)
with st.sidebar:
    spaces, broken = scan_workspaces()
    # A workspace missing a file can still be opened (its pages say what is missing).
    spaces += [b.workspace for b in broken if b.workspace is not None]
    reasons = {b.slug: b.reason for b in broken}
    if spaces:
        slugs = [w.slug for w in spaces]
        titles = [w.name for w in spaces]
        # Two workspaces of one title are told apart by their folder (slug).
        names = {
            w.slug: w.name
            + (f" ({w.slug})" if titles.count(w.name) > 1 else "")
            + (" ⚠ broken" if w.slug in reasons else "")
            for w in spaces
        }
        # The page may have switched workspace (created or deleted one): follow it.
        st.session_state["workspace_picker"] = (
            ws.slug if ws is not None and ws.slug in slugs else slugs[0]
        )
        st.selectbox(
            "Workspace",
            slugs,
            format_func=names.get,
            key="workspace_picker",
            on_change=lambda: open_workspace(st.session_state.workspace_picker),
        )
    # The tool-calling demo sits beside the GUI demo; it is built on first use.
    if "demo-bfcl" not in [w.slug for w in spaces] and st.button(
        "Tool-calling demo (BFCL)", key="open_bfcl_demo", icon=":material/build:"
    ):
        open_bfcl_demo()
        st.rerun()
    if broken:
        with st.expander(f"Broken workspaces ({len(broken)})", icon=":material/warning:"):
            for b in broken:
                st.markdown(f"**{md(b.slug)}**: {md(b.reason)}")

nav.run()
