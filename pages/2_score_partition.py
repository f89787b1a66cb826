"""Score & Partition page: score train/test files in the background, then partition them."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from gemviz.analysis.partition import needs_embeddings, partition, source_stamp
from gemviz.data.errors import GemvizError
from gemviz.data.fields import SCORE
from gemviz.embed import EMBEDDERS
from gemviz.figures.partition import splitter_charts
from gemviz.scoring import jobs
from gemviz.splitters import SPLITTERS, split_params
from gemviz.ui.cache import fitted_splitter, score_frame, splitter_inputs
from gemviz.ui.page import page_setup
from gemviz.ui.text import code, md
from gemviz.ui.widgets import chart_row, splitter_form
from gemviz.workspace.create import score_files_in
from gemviz.workspace.entries import LAST_JOB, ScoreSource

ws, _ = page_setup("Score & Partition", need_study=False)


# -- 1. scoring as a background job ----------------------------------------------------------
earlier = jobs.list_jobs(ws.slug)
if earlier and "score_train" not in st.session_state:
    # After a reload: show the workspace's latest job rather than "no job for these settings".
    last = earlier[0]["options"]
    st.session_state.update(
        score_train=last.get("--train", ""),
        score_test=last.get("--test", ""),
        score_model=last.get("--model", "default"),
        score_method=last.get("--method", next(iter(EMBEDDERS))),
        score_device=last.get("--device", "auto"),
    )
with st.expander("Score train and test files", expanded=not ws.splitters or bool(earlier)):
    c1, c2 = st.columns(2)
    st.session_state.setdefault("score_train", ws.train or "")
    st.session_state.setdefault("score_test", ws.test or "")
    train = c1.text_input("Train file", key="score_train")
    test = c2.text_input("Test file", key="score_test")
    c3, c4, c5 = st.columns(3)
    st.session_state.setdefault("score_model", "default")
    model = c3.text_input("Model (local folder, or 'default')", key="score_model")
    method = c4.selectbox("Method", list(EMBEDDERS), key="score_method")
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
        jobs.start_job(command, workspace=ws.slug)
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
        text = f"{job.state}: {md(job.stage)} {job.done}/{job.total}"
        if job.state == jobs.RUNNING:
            text += f" · ETA {jobs.format_eta(job.eta_s)}"
        st.progress(job.fraction, text=text)
        if job.state == jobs.FAILED:
            st.error(f"Scoring failed: {md(job.error)}")
        if job.state == jobs.DONE:
            if st.session_state.get("scored_dir") != str(job.out_dir):
                st.session_state["scored_dir"] = str(job.out_dir)
                # Fresh scores: partition them below rather than what was shown before.
                st.session_state["partition_source"] = LAST_JOB
            st.success(f"Scores written to {code(job.out_dir)}; partition them below.")

    job_panel()
    if earlier:
        st.caption(
            "Jobs of this workspace, newest first: "
            + md(
                "; ".join(
                    f"{j['state']} · {j['options'].get('--method', '?')} · "
                    f"{Path(j['options'].get('--test', '?')).name}"
                    for j in earlier[:5]
                )
            )
        )

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
c1, c2 = st.columns([1, 2])
method = c1.selectbox("Partition method", list(SPLITTERS), key="partition_method")
with c2:
    params = splitter_form(method)
if needs_embeddings(method, src):
    st.warning("This method needs embeddings; this score source has none.")
    st.stop()
fit_params, moved = split_params(method, params)
stamp = source_stamp(src)
try:
    train_df, test_df = score_frame(src.train_scores), score_frame(src.test_scores)
    splitter = fitted_splitter(method, tuple(sorted(fit_params.items())), src, stamp)
    splitter = splitter.with_params(**moved)
    part = partition(splitter, splitter_inputs(src, splitter.input, stamp)[1])
except GemvizError as exc:
    st.error(md(exc))
    st.stop()

in_clusters = part.cluster_text(test_df, ws.cluster_by) or (None, None)
m1, m2, m3 = st.columns(3)
m1.metric("ID steps", f"{part.n_id:,}", in_clusters[0], "off", delta_arrow="off")
m2.metric("OOD steps", f"{part.n_ood:,}", in_clusters[1], "off", delta_arrow="off")
m3.metric("ID share", f"{part.id_share:.1%}")
chart_row(splitter_charts(splitter, train_df[SCORE].to_numpy(), test_df[SCORE].to_numpy()))

with st.form("save_splitter"):
    name = st.text_input("Save as splitter named", key="save_name")
    replace = st.checkbox("Replace a splitter of that name (new settings)", key="save_replace")
    if st.form_submit_button("Save as splitter"):
        try:
            ws.save_partition(
                name.strip(),
                src.test_scores,
                part.is_id,
                train_scores=src.train_scores,
                train_embeddings=(src.embeddings() or (None, None))[0],
                test_embeddings=(src.embeddings() or (None, None))[1],
                partition=method,
                params={k: v for k, v in splitter.get_params().items() if v is not None},
                replace=replace,
            )
            st.success(f"Saved splitter '{md(name)}' in workspace '{md(ws.name)}'.")
        except GemvizError as exc:
            st.error(md(exc))
