"""Embeddings page: a UMAP map of a splitter's embeddings, coloured and box/lasso-selectable."""

from __future__ import annotations

from urllib.parse import quote

import streamlit as st

from gemviz.analysis import projection as proj
from gemviz.analysis import samples as smp
from gemviz.data.errors import GemvizError
from gemviz.figures import embedding_map as eplot
from gemviz.ui.cache import cached_projection, projection, sample_table, thumbnail, train_records
from gemviz.ui.page import page_setup
from gemviz.ui.state import open_in_samples, open_sample
from gemviz.ui.text import code, md

ws, study = page_setup("Embeddings")
with_emb = [s for s in ws.splitters if s.test_embeddings]
if not with_emb:
    st.info(
        "No splitter of this workspace has saved embeddings. Score the train and test sets "
        "with a method that saves them, e.g.\n\n"
        "`python -m gemviz score --method sentence --train train.json --test test.json "
        "--out scores/`\n\nor on the Score & Partition page, then register the splitter with "
        "its `test_embeddings.npz` (and `train_embeddings.npz`) on the Workspace page."
    )
    st.stop()

entry = next(
    s
    for s in with_emb
    if s.name == st.selectbox("Splitter", [s.name for s in with_emb], key="emb_splitter")
)
with st.form("umap_form"):
    c = st.columns(4)
    n_neighbors = c[0].slider("n_neighbors", 2, 100, 15, key="umap_neighbors")
    min_dist = c[1].slider("min_dist", 0.0, 1.0, 0.1, 0.05, key="umap_min_dist")
    metric = c[2].selectbox("metric", proj.METRICS, key="umap_metric")
    seed = c[3].number_input("seed", 0, 2**31 - 1, 42, key="umap_seed")
    c = st.columns(3)
    pca = c[0].number_input("PCA first to (0 = off)", 0, 1024, 50, key="umap_pca")
    cap = c[1].number_input(
        "At most this many points (0 = all)", 0, 10**7, 50_000, 1000, key="umap_cap"
    )
    with_train = c[2].checkbox(
        "Include train embeddings",
        bool(entry.train_embeddings),
        key="umap_train",
        disabled=not entry.train_embeddings,
    )
    run = st.form_submit_button("Run UMAP", type="primary")

try:
    params = proj.ProjectionParams(
        n_neighbors=n_neighbors,
        min_dist=min_dist,
        metric=metric,
        seed=int(seed),
        pca_components=int(pca) or None,
        max_samples=int(cap) or None,
    )
except GemvizError as exc:
    st.error(md(exc))
    st.stop()
args = (
    entry.test_embeddings,
    entry.train_embeddings if with_train else None,
    ws.fingerprint(),
    params,
)
try:
    result = cached_projection(*args)
    if result is None and run:
        bar = st.progress(0.0, text="Projecting…")
        result = projection(
            *args, _progress=lambda d, t, s: bar.progress(d / t, text=f"UMAP: {md(s)}")
        )
        bar.empty()
        cached_projection.clear()
except GemvizError as exc:
    st.error(md(exc))
    st.stop()
if result is None:
    st.info("Set the UMAP parameters and press **Run UMAP** (the result is cached on disk).")
    st.stop()

table = sample_table(str(ws.json_path), ws.fingerprint())
points = eplot.points_frame(result, table)
options = eplot.colour_options(points, study)
colour = st.selectbox("Colour by", list(options), key="emb_colour")
column, kind = options[colour]
shown = eplot.display_points(points)
fig = eplot.embedding_figure(shown, column, kind, title=f"{entry.name}: UMAP coloured by {colour}")
map_col, thumb_col = st.columns([4, 1])
event = map_col.plotly_chart(
    fig,
    key="emb_chart",
    on_select="rerun",
    selection_mode=("points", "box", "lasso"),
    width="stretch",
    theme=None,
)
map_col.caption(
    f"{len(points):,} points{' (cached)' if result.from_cache else ''}"
    + (
        f", {len(shown):,} of them drawn (a fixed sample); a box or lasso selects among all"
        if len(shown) < len(points)
        else ""
    )
    + ". "
    "Click a point to see its screenshot; draw a box or lasso to list the steps inside."
)

selection = (event or {}).get("selection") or {}
chosen = eplot.selection_ids(points, selection)
with thumb_col:
    first = points[points["id"] == chosen[0]].head(1) if chosen else points.head(0)
    if len(first):
        image = first["image_path"].iloc[0] if "image_path" in first else None
        if (image is None or image != image) and ws.train:
            train = train_records(ws.train, ws.fingerprint())
            image = train["image_path"].get(chosen[0]) if chosen[0] in train.index else None
        st.image(thumbnail(image, ws.image_root), width="stretch")
        task = first["task"].iloc[0] if "task" in first else None
        st.caption(
            f"{code(chosen[0])} ({first['split'].iloc[0]}) {'' if task != task else md(task)}"
        )
    else:
        st.caption("Plotly's hover cannot show images: click a point to see its screenshot here.")
if chosen:
    rows = smp.visible(table[table["id"].isin(chosen)]).copy()
    rows.insert(
        1,
        "open",
        [f"samples?workspace={ws.slug}&sample=" + quote(i, safe="") for i in rows["id"]],
    )
    st.subheader(f"{len(rows):,} selected test steps")
    st.dataframe(
        rows,
        hide_index=True,
        key="emb_selected",
        column_config={
            "open": st.column_config.LinkColumn("open", display_text="open"),
            "image_path": None,
        },
    )
    c1, c2 = st.columns([3, 1])
    pick = c1.selectbox("Open a selected step", rows["id"].tolist(), key="emb_open_pick")
    if c2.button("Open in Samples", key="emb_open"):
        open_sample(pick)
        open_in_samples(ws, rows["id"].tolist(), f"a UMAP selection of {entry.name}")
