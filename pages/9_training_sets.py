"""Training sets page: which test entries each training set covers, the sets side by side,
the functions they show, and whether configurations gain where their data covers."""

from __future__ import annotations

import streamlit as st

from gemviz.analysis.coverage import DEFAULT_K
from gemviz.analysis.findings_coverage import coverage_line
from gemviz.analysis.training_sets import side_by_side, training_entries
from gemviz.data.errors import GemvizError
from gemviz.splitters.knn import RULES
from gemviz.ui.cache import training_sets
from gemviz.ui.page import page_setup
from gemviz.ui.text import md
from gemviz.ui.training_sets import decisive_section, functions_section, map_section
from gemviz.ui.widgets import table_downloads

ws, study = page_setup("Training sets")
if not training_entries(ws):
    st.info(
        "No splitter of this workspace keeps a training set's records and embeddings. Add one "
        "on the Workspace page (*training set*, scored against the test set), or create the "
        "workspace with `python -m gemviz workspace create --train-set NAME=FILE`; "
        "`python -m gemviz coverage` answers the same questions from files."
    )
    st.stop()

c1, c2, _ = st.columns([1, 3, 2])
k = int(c1.number_input("Neighbours k", 1, 50, DEFAULT_K, key="cov_k"))
rule = c2.selectbox(
    "Covered when",
    RULES,
    key="cov_rule",
    format_func={
        "naeem": "within some training example's k-NN radius (Naeem)",
        "sun": "k-th neighbour distance under the set's 95th percentile (Sun)",
    }.get,
)
try:
    found = training_sets(str(ws.json_path), ws.fingerprint(), k, rule)
except GemvizError as exc:
    st.error(md(exc))
    st.stop()

st.subheader("The sets side by side")
for row in found.sets.to_dict("records"):
    st.markdown(f"- {md(coverage_line(row))}")
table = side_by_side(found)
st.dataframe(table, hide_index=True, key="cov_side_by_side", height=35 * (len(table) + 1) + 3)
tokenizer = found.profiles["tokenizer"].iloc[0] if len(found.profiles) else ""
st.caption(
    f"Distances: Euclidean between unit-length embeddings, exact search, k={found.k}. "
    "Coverage (Naeem et al. 2020): share of test entries with a training example within "
    "their own k-NN radius, 95% interval over test entries as clusters; density the mean "
    "number of test balls holding an example, over k; precision and recall (Kynkäänniemi "
    "et al. 2019) with the test set as the real sample. Profiles over each conversation's "
    f"full text; tokens by {md(tokenizer)}; near duplicates within cosine 0.995; diversity "
    "the mean cosine distance between two conversations."
)
table_downloads(table, "training_sets")

st.subheader("Map: training examples and test entries")
map_section(ws, found)

st.subheader("Functions the test entries need, by set")
functions_section(found)

st.subheader("Do configurations gain where their training data covers?")
decisive_section(ws, study, found, k, rule)
