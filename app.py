"""gemviz dashboard: routes to the pages and keeps the workspace picker in the sidebar.

Run with ``streamlit run app.py``. Pages are listed in ``PAGES`` (adding a page is a
one-line change here); a listed page file that does not exist is shown as an error. The
sidebar is :func:`gemviz.ui.sidebar.workspace_sidebar`.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st
from PIL import Image

from gemviz.figures import theme
from gemviz.ui.sidebar import workspace_sidebar
from gemviz.ui.state import current_workspace
from gemviz.ui.text import code

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
    ("pages/9_training_sets.py", "Training sets", ":material/dataset:"),
]

# The tab's icon is drawn here: a Material icon as page_icon makes every viewer's browser
# fetch it from fonts.gstatic.com, and the dashboard sends no request off the machine.
ICON = Image.new("RGB", (32, 32), theme.ID_COLOR)
ICON.paste(theme.OOD_COLOR, (16, 0, 32, 32))
st.set_page_config(page_title="gemviz", page_icon=ICON, layout="wide")


def _path(file: str) -> str:
    return Path(file).stem.split("_", 1)[1].lower()


missing = [f for f, _, _ in PAGES if not (HERE / f).is_file()]
if missing:
    st.error(f"app.py lists page files that do not exist: {', '.join(map(code, missing))}")
    st.stop()

pages = [
    # The first page is the default, served at the root: its own path goes to the hidden
    # alias below, so it takes another internal name (a page's id is its path's hash).
    st.Page(str(HERE / f), title=t, icon=i, url_path=_path(f) + ("-root" if k == 0 else ""))
    for k, (f, t, i) in enumerate(PAGES)
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
workspace_sidebar(ws)

nav.run()
