"""Score & Partition page: score train/test files in the background, then partition them."""

from __future__ import annotations

import numpy as np
import streamlit as st

from gemviz.data import clusters
from gemviz.data.errors import GemvizError
from gemviz.figures import charts as plots
from gemviz.figures.export import figure_html
from gemviz.scoring import jobs
from gemviz.splitters import SPLITTERS, make_splitter
from gemviz.splitters.gem import in_intervals, merge_intervals
from gemviz.ui.cache import gmm_fit, load_embeddings, load_scores
from gemviz.ui.page import page_setup
from gemviz.workspace.create import score_files_in
from gemviz.workspace.entries import LAST_JOB, ScoreSource

SEED = 42
FALLBACK_METHODS = ["sentence", "gem-input", "hidden"]

ws, _ = page_setup("Score & Partition", need_study=False)


def embed_methods() -> list[str]:
    try:
        from gemviz.embed import EMBEDDERS
    except ImportError:
        return FALLBACK_METHODS
    return list(EMBEDDERS)


# -- 1. scoring as a background job ----------------------------------------------------------
with st.expander("Score train and test files", expanded=not ws.splitters):
    c1, c2 = st.columns(2)
    train = c1.text_input("Train file", value=ws.train or "", key="score_train")
    test = c2.text_input("Test file", value=ws.test or "", key="score_test")
    c3, c4, c5 = st.columns(3)
    model = c3.text_input("Model (local folder, or 'default')", value="default", key="score_model")
    method = c4.selectbox("Method", embed_methods(), key="score_method")
    device = c5.selectbox("Device", ["auto", "cpu", "cuda", "mps"], key="score_device")
    command = jobs.score_command(
        train=train,
        test=test,
        model=model,
        method=method,
        device=None if device == "auto" else device,
        image_root=ws.image_root,
    )
    jid = jobs.job_id(command)
    b1, b2 = st.columns(2)
    if b1.button("Start scoring (or attach)", key="score_start", disabled=not (train and test)):
        jobs.start_job(command)
    if b2.button("Cancel", key="score_cancel") and jobs.status(jid).state == jobs.RUNNING:
        jobs.cancel(jid)

    polling = jobs.status(jid).state == jobs.RUNNING

    # Only a running job is polled; when it ends, the whole page reruns to list its scores.
    @st.fragment(run_every=2.0 if polling else None)
    def job_panel() -> None:
        job = jobs.status(jid)
        if polling and job.state != jobs.RUNNING:
            st.rerun(scope="app")
        if job.state == jobs.MISSING:
            st.caption("No job for these settings yet.")
            return
        text = f"{job.state}: {job.stage} {job.done}/{job.total}"
        if job.state == jobs.RUNNING:
            text += f" · ETA {jobs.format_eta(job.eta_s)}"
        st.progress(job.fraction, text=text)
        if job.state == jobs.FAILED:
            st.error(f"Scoring failed: {job.error}")
        if job.state == jobs.DONE:
            if st.session_state.get("scored_dir") != str(job.out_dir):
                st.session_state["scored_dir"] = str(job.out_dir)
                # Fresh scores: partition them below rather than what was shown before.
                st.session_state["partition_source"] = LAST_JOB
            st.success(f"Scores written to `{job.out_dir}`; partition them below.")

    job_panel()

# -- 2. partition from cached scores ---------------------------------------------------------
sources = ws.score_sources(st.session_state.get("scored_dir"))
# A test set that already holds GEM input scores can be partitioned as it is.
for label, (tr, te) in score_files_in(ws).items():
    sources.setdefault(label, ScoreSource(tr, te))
if not sources:
    st.info(
        "No score files yet: score train and test files above, or add a splitter from "
        "its train and test score files on the Workspace page."
    )
    st.stop()

st.subheader("Partition")
source = st.selectbox("Scores", list(sources), key="partition_source")
src = sources[source]
train_path, test_path = src.train_scores, src.test_scores
c1, c2, c3 = st.columns(3)
method = c1.selectbox("Partition method", list(SPLITTERS), key="partition_method")
sigma = c2.slider("Sigma multiple", 0.5, 4.0, 2.0, 0.1, key="sigma")
cap = c3.number_input("Component cap", 1, 30, 19, key="max_components")
try:
    train_df = load_scores(train_path, ws.fingerprint())
    test_df = load_scores(test_path, ws.fingerprint())
except GemvizError as exc:
    st.error(str(exc))
    st.stop()
x_train = train_df["input_score"].to_numpy()
x_test = test_df["input_score"].to_numpy()

params: dict = {}
if method == "gem":
    fit = gmm_fit(x_train, int(cap), SEED)
    intervals = merge_intervals(fit.means, fit.stds, sigma)
    is_id = in_intervals(x_test, intervals)
    params = {"sigma": sigma, "max_components": int(cap), "random_state": SEED}
else:
    percentile = st.slider("Percentile of train kept as ID", 50.0, 99.9, 95.0, key="percentile")
    params = {"percentile": percentile}
    splitter = make_splitter(method, **params)
    try:
        if splitter.input == "embeddings":
            if src.embeddings() is None:
                st.warning("This method needs embeddings; this score source has none.")
                st.stop()
            emb_train, emb_test = (load_embeddings(p) for p in src.embeddings())
            is_id = splitter.fit(emb_train).predict(emb_test)
        else:
            is_id = splitter.fit(x_train).predict(x_test)
    except GemvizError as exc:
        st.error(str(exc))
        st.stop()

is_id = np.asarray(is_id, dtype=bool)
n_id = int(np.count_nonzero(is_id))
# Clusters of the test steps (the workspace's setting), shown beside each count.
try:
    cluster_field, codes = clusters.resolve(test_df, ws.cluster_by)
except GemvizError:
    cluster_field, codes = clusters.NONE, None


def in_clusters(mask: np.ndarray) -> str | None:
    if cluster_field == clusters.NONE:
        return None
    return f"in {clusters.count(codes, mask):,} clusters ({cluster_field})"


m1, m2, m3 = st.columns(3)
m1.metric("ID steps", f"{n_id:,}", in_clusters(is_id), "off", delta_arrow="off")
m2.metric("OOD steps", f"{len(is_id) - n_id:,}", in_clusters(~is_id), "off", delta_arrow="off")
m3.metric("ID share", f"{n_id / max(len(is_id), 1):.1%}")

if method == "gem":
    left, right = st.columns([3, 2])
    fig = plots.gem_fit_figure(x_train, x_test, fit.means, fit.stds, fit.weights, intervals)
    left.plotly_chart(fig, key="gem_fit_chart", theme=None)
    left.download_button(
        "GEM fit (HTML)",
        lambda: figure_html(fig),
        "gem_fit.html",
        "text/html",
        key="dl_gem_fit",
        on_click="ignore",
    )
    bic = plots.bic_figure(fit.bic, fit.n_components)
    right.plotly_chart(bic, key="bic_chart", theme=None)
    right.download_button(
        "BIC curve (HTML)",
        lambda: figure_html(bic),
        "bic.html",
        "text/html",
        key="dl_bic",
        on_click="ignore",
    )
    st.caption(
        f"{fit.n_components} component{'s' if fit.n_components != 1 else ''}; ID intervals: "
        + ", ".join(f"[{a:.3f}, {b:.3f}]" for a, b in intervals)
    )

with st.form("save_splitter"):
    name = st.text_input("Save as splitter named", key="save_name")
    replace = st.checkbox("Replace a splitter of that name (new settings)", key="save_replace")
    if st.form_submit_button("Save as splitter"):
        try:
            ws.save_partition(
                name.strip(),
                test_path,
                is_id,
                train_scores=train_path,
                train_embeddings=(src.embeddings() or (None, None))[0],
                test_embeddings=(src.embeddings() or (None, None))[1],
                partition=method,
                params=params,
                replace=replace,
            )
            st.success(f"Saved splitter '{name}' in workspace '{ws.name}'.")
        except GemvizError as exc:
            st.error(str(exc))
