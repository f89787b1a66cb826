"""Step page: why do the splitters disagree on this step? Nearest train steps, episode, notes."""

from __future__ import annotations

import streamlit as st

from gemviz.analysis import explain
from gemviz.analysis.conversation import is_text_only
from gemviz.analysis.neighbours import DEFAULT_K
from gemviz.analysis.outcomes import model_rows
from gemviz.analysis.paging import position
from gemviz.analysis.samples import suggest_examples
from gemviz.analysis.step import splitter_rows
from gemviz.analysis.training_sets import with_turns
from gemviz.data.errors import GemvizError
from gemviz.data.fields import ID, TASK
from gemviz.figures.step import annotate_step
from gemviz.ui.cache import test_neighbours, thumbnail, train_records, train_scores
from gemviz.ui.page import page_setup
from gemviz.ui.state import current_sample, open_sample
from gemviz.ui.text import code, md
from gemviz.ui.widgets import conversation_view, model_outputs
from gemviz.workspace import annotations as notes

ws, study = page_setup("Step")
current = current_sample()
if current is None:
    # No step asked for: open the first disputed one, so the page always shows something.
    current = suggest_examples(study, k=1)[0]
    open_sample(current)
pos = position(study.samples[ID], current)
if pos is None:
    st.warning(f"No step with id {code(current)} in this workspace.")
    st.stop()


head = st.columns([5, 1])
head[0].markdown(f"**Task:** {md(study.samples[TASK].iloc[pos])}  \nStep {code(current)}")
if head[1].button("Back to Samples", key="to_samples", icon=":material/arrow_back:"):
    st.switch_page("pages/5_samples.py", query_params={"workspace": ws.slug, "sample": current})

outputs, formats = model_outputs(ws, current)

entries = explain.splitters_with_embeddings(ws)
if len(entries) > 2:
    chosen = st.multiselect(
        "Splitters side by side",
        [e.name for e in entries],
        [e.name for e in entries][:2],
        max_selections=2,
        key="step_splitters_pick",
    )
    entries = [e for e in entries if e.name in chosen]

text_only = is_text_only(study)
left, right = st.columns([2, 3])
with left:
    if text_only:
        conversation_view(ws, study, pos)
    else:
        picture = annotate_step(study, pos, outputs, formats, ws.image_root, max_height=620)
        st.image(picture.png, caption="Ground truth and each model's action")
with right:
    # Each splitter's verdict on the step: its score and where that lies among train steps.
    shown_scores = [e.name for e in entries] or list(study.splitters[:2])
    for col, name in zip(st.columns(max(1, len(shown_scores))), shown_scores, strict=False):
        train_file = ws.splitter(name).train_scores
        values = train_scores(train_file, explain.file_stamp(train_file)) if train_file else None
        verdict = explain.score_verdict(study, name, pos, values)
        col.subheader(md(name))
        col.metric(
            f"Input score · {verdict.label}",
            f"{verdict.score:.3f}",
            help="Distance to the train centroid in this splitter's embedding space.",
        )
        if verdict.caption:
            col.caption(verdict.caption)
    st.dataframe(splitter_rows(study, pos), hide_index=True, key="step_splitters")
    st.dataframe(
        model_rows(study, pos, outputs),
        hide_index=True,
        key="step_models",
        column_order=["model", *study.metrics, "raw output"],
    )

st.subheader("Nearest train steps")
if not entries:
    st.info("No splitter of this workspace has saved embeddings: no nearest train steps.")
for col, entry in zip(st.columns(max(1, len(entries))), entries, strict=False):
    with col:
        try:
            found = test_neighbours(
                entry.train_embeddings, entry.test_embeddings, ws.fingerprint(), DEFAULT_K
            )
            # The splitter's own train records (a training set as embedded), else the workspace's.
            source = entry.train_scores or ws.train
            train = train_records(source, ws.fingerprint()) if source else None
            near = with_turns(explain.nearest_train(found, current, train), train)
        except GemvizError as exc:
            st.error(md(exc))
            continue
        st.markdown(f"**{md(entry.name)}**: the {len(near)} nearest train steps (exact search)")
        for pic, row in zip(st.columns(len(near)), near.itertuples(), strict=True):
            if text_only:
                break
            pic.image(
                thumbnail(row.image_path, ws.image_root),
                caption=f"{row.rank}. {row.distance:.3f}",
                width="stretch",
            )
        st.dataframe(
            near[
                ["rank", "distance", "task", "turns"] if text_only else ["rank", "distance", "task"]
            ],
            hide_index=True,
            key=f"near_{entry.name}",
            column_config={
                "rank": st.column_config.NumberColumn(width="small"),
                "distance": st.column_config.NumberColumn(format="%.3f", width="small"),
                "task": st.column_config.TextColumn(
                    "first user turn" if text_only else "task", width="large"
                ),
                "turns": st.column_config.NumberColumn("user turns", width="small"),
            },
        )

st.divider()
strip = explain.episode(study, pos)
st.subheader(f"The steps of its cluster ({md(study.cluster_by)}): {len(strip)}")
if len(strip) > 1:
    nav = st.columns([1, 1, 4])
    before, after = explain.strip_neighbours(strip)
    for col, target, label, step in (
        (nav[0], before, "Previous step", -1),
        (nav[1], after, "Next step", 1),
    ):
        if col.button(label, disabled=target is None, key=f"ep_{step}"):
            open_sample(target)
            st.rerun()
    shown = explain.window(strip, width=7)
    captions = explain.strip_captions(shown, study)
    for col, (_, row), text in zip(st.columns(len(shown)), shown.iterrows(), captions, strict=True):
        with col.container(border=bool(row["current"])):
            if not text_only:
                st.image(thumbnail(row["image_path"], ws.image_root), width="stretch")
            st.caption(text)
            if not row["current"] and st.button("Open", key=f"open_{row[ID]}"):
                open_sample(str(row[ID]))
                st.rerun()
else:
    st.caption(f"No other step shares this cluster (cluster by: {md(study.cluster_by)}).")

st.divider()
st.subheader("Notes")
try:
    saved = notes.load(ws.folder)
except GemvizError as exc:
    st.error(md(exc))
    st.stop()
mine = saved.get(current, notes.Annotation())
with st.form(f"notes_{current}"):
    tags = st.multiselect(
        "Tags",
        notes.all_tags(saved),
        default=mine.tags,
        accept_new_options=True,
        help="Pick fixed tags or type a new one.",
    )
    note = st.text_area("Note", mine.note)
    if st.form_submit_button("Save notes", icon=":material/save:"):
        try:
            notes.annotate(ws.folder, current, tags, note)
            st.success("Saved to the workspace (annotations.json).")
        except GemvizError as exc:
            st.error(md(exc))
