"""Step page: why do the splitters disagree on this step? Nearest train steps, episode, notes."""

from __future__ import annotations

import base64

import streamlit as st

from gemviz import annotations as notes
from gemviz import explain
from gemviz import samples as smp
from gemviz.data import ID, TASK
from gemviz.errors import GemvizError
from gemviz.neighbours import DEFAULT_K
from gemviz.report import suggest_examples
from gemviz.ui_cache import (
    current_sample,
    current_workspace,
    demo_banner,
    load_scores,
    open_sample,
    predictions,
    study_or_error,
    test_neighbours,
    thumbnail,
    train_records,
)

st.title("Step")
ws = current_workspace()
study = study_or_error(ws) if ws is not None else None
if study is None:
    st.stop()
demo_banner(ws)
ids = study.ids
current = current_sample()
if current is None:
    # No step asked for: open the first disputed one, so the page always shows something.
    current = suggest_examples(study, k=1)[0]
    open_sample(current)
positions = {sid: i for i, sid in enumerate(ids)}
if current not in positions:
    st.warning(f"No step with id {current!r} in this workspace.")
    st.stop()
pos = positions[current]


def data_url(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


head = st.columns([5, 1])
head[0].markdown(f"**Task:** {study.samples[TASK].iloc[pos]}  \nStep `{current}`")
if head[1].button("Back to Samples", key="to_samples", icon=":material/arrow_back:"):
    st.switch_page("pages/5_Samples.py", query_params={"workspace": ws.slug, "sample": current})

outputs, formats = {}, {}
for m in ws.models:
    if m.predictions:
        try:
            found = predictions(m.predictions, m.pred_field, ws.fingerprint())
            outputs[m.name] = found.get(current)
        except GemvizError as exc:
            st.error(str(exc))
        formats[m.name] = m.format

left, right = st.columns([2, 3])
with left:
    picture = smp.annotate_step(study, pos, outputs, formats, ws.image_root, max_height=620)
    st.image(picture.png, caption="Ground truth and each model's action")
    st.dataframe(smp.splitter_rows(study, pos), hide_index=True, key="step_splitters")

with right:
    entries = explain.splitters_with_embeddings(ws)
    if not entries:
        st.info("No splitter of this workspace has saved embeddings: no nearest train steps.")
    if len(entries) > 2:
        chosen = st.multiselect(
            "Splitters side by side",
            [e.name for e in entries],
            [e.name for e in entries][:2],
            max_selections=2,
            key="step_splitters_pick",
        )
        entries = [e for e in entries if e.name in chosen]
    train = None
    if ws.train:
        try:
            train = train_records(ws.train, ws.fingerprint())
        except GemvizError as exc:
            st.error(str(exc))
    for col, entry in zip(st.columns(max(1, len(entries))), entries, strict=False):
        with col:
            st.subheader(entry.name)
            try:
                found = test_neighbours(
                    entry.train_embeddings, entry.test_embeddings, ws.fingerprint(), DEFAULT_K
                )
                near = explain.nearest_train(found, current, train)
            except GemvizError as exc:
                st.error(str(exc))
                continue
            score = float(study.scores[entry.name].iloc[pos])
            pct = float("nan")
            if entry.train_scores:
                train_scores = load_scores(entry.train_scores, ws.fingerprint())["input_score"]
                pct = explain.score_percentile(score, train_scores)
            st.metric(
                f"Input score · {study.labels[entry.name].iloc[pos]}",
                f"{score:.3f}",
                help="Distance to the train centroid in this splitter's embedding space.",
            )
            if pct == pct:
                st.caption(
                    f"Farther from the train centroid than {pct:.0f}% of train steps "
                    f"(percentile of the train score distribution)."
                )
            near["screenshot"] = [thumbnail(p, ws.image_root) for p in near["image_path"]]
            near["screenshot"] = near["screenshot"].map(data_url)
            st.dataframe(
                near[["screenshot", "distance", "task"]],
                hide_index=True,
                row_height=110,
                key=f"near_{entry.name}",
                column_config={
                    "screenshot": st.column_config.ImageColumn("train step", width="small"),
                    "task": st.column_config.TextColumn(width="large"),
                    "distance": st.column_config.NumberColumn(format="%.3f", width="small"),
                },
            )
            st.caption(f"The {len(near)} nearest train steps (exact search).")

st.divider()
strip = explain.episode(study, pos)
st.subheader(f"Its {study.cluster_by.replace('_', ' ')}: {len(strip)} step(s)")
if len(strip) > 1:
    at = int(strip["current"].to_numpy().nonzero()[0][0])
    nav = st.columns([1, 1, 4])
    for col, step, label in ((nav[0], -1, "Previous step"), (nav[1], 1, "Next step")):
        target = at + step
        if col.button(label, disabled=not 0 <= target < len(strip), key=f"ep_{step}"):
            open_sample(str(strip[ID].iloc[target]))
            st.rerun()
    shown = explain.window(strip, width=7)
    for col, (_, row) in zip(st.columns(len(shown)), shown.iterrows(), strict=True):
        with col.container(border=bool(row["current"])):
            st.image(thumbnail(row["image_path"], ws.image_root), width="stretch")
            marks = " ".join(
                f"{m} {'✓' if row[smp.match_col(m, 'exact_match')] else '✗'}" for m in study.models
            )
            head = "**▶ this step**" if row["current"] else f"step {row['order']:g}"
            st.caption(f"{head} · GT: {row['gt'] or '–'}  \nexact: {marks}")
            if not row["current"] and st.button("Open", key=f"open_{row[ID]}"):
                open_sample(str(row[ID]))
                st.rerun()
else:
    st.caption("No other step shares this cluster (cluster by: " + study.cluster_by + ").")

st.divider()
st.subheader("Notes")
try:
    saved = notes.load(ws.folder)
except GemvizError as exc:
    st.error(str(exc))
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
            st.error(str(exc))
