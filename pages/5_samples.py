"""Samples page: filter the test steps, open one, and see every actor's action on its screenshot."""

from __future__ import annotations

import streamlit as st

from gemviz.analysis import samples as smp
from gemviz.analysis.conversation import is_text_only
from gemviz.analysis.filters import filter_table
from gemviz.analysis.outcomes import model_rows
from gemviz.analysis.paging import neighbours, paginate, position
from gemviz.analysis.step import splitter_rows
from gemviz.data.errors import GemvizError
from gemviz.data.fields import ID
from gemviz.figures.step import annotate_step
from gemviz.ui.cache import sample_table
from gemviz.ui.page import page_setup
from gemviz.ui.state import clear_samples_selection, current_sample, open_sample, samples_selection
from gemviz.ui.text import code, md
from gemviz.ui.widgets import (
    conversation_view,
    model_outputs,
    number_formats,
    sample_filters,
    stability_refits,
)
from gemviz.workspace import annotations as notes

ws, study = page_setup("Samples")
try:
    annotated = notes.load(ws.folder)
except GemvizError as exc:
    st.error(md(exc))
    annotated = {}
base = sample_table(str(ws.json_path), ws.fingerprint())
table, probs = smp.browse_table(base, annotated, stability_refits(ws, study))

selection = samples_selection(ws, study)
if selection is not None:
    box = st.columns([4, 1])
    box[0].info(f"Showing the {len(selection['ids']):,} steps of **{md(selection['label'])}**.")
    if box[1].button("Clear selection", key="clear_selection", icon=":material/close:"):
        clear_samples_selection()
        st.rerun()
picked_ids = None if selection is None else selection["ids"]
flt = sample_filters(ws, study, table, probs, annotated, picked_ids)
try:
    shown = filter_table(table, flt)
except GemvizError as exc:
    st.error(md(exc))
    st.stop()
ids = shown[ID].to_numpy()

top = st.columns([2, 1, 1, 1])
top[0].metric(
    "Steps shown",
    f"{len(shown):,} of {len(table):,}",
    delta=smp.clusters_text(study, shown.index.to_numpy()) or None,
    delta_color="off",
    delta_arrow="off",
)
size = top[1].selectbox("Rows per page", [50, 100, 500], index=1, key="page_size")
page = paginate(len(shown), 0, size)
number = top[2].number_input("Page", 1, page.count, 1, key="page_number") - 1
page = paginate(len(shown), number, size)
top[3].download_button(
    "Filtered ids (CSV)",
    lambda: smp.ids_csv(shown),
    "sample_ids.csv",
    "text/csv",
    key="dl_ids",
    on_click="ignore",
    icon=":material/download:",
)
rows = smp.visible(shown.iloc[page.start : page.stop])
event = st.dataframe(
    rows,
    hide_index=True,
    on_select="rerun",
    selection_mode="single-row",
    key="samples_table",
    # Ids built from image paths are long: keep the column narrow so the labels stay in view.
    column_config={"image_path": None, ID: st.column_config.TextColumn(width="small")},
)
st.caption(f"Page {page.number + 1} of {page.count}. Select a row to open the step.")
with st.expander("Model means on the steps shown"):
    means = smp.summary(study, shown.index.to_numpy())
    st.dataframe(means, hide_index=True, key="samples_summary", column_config=number_formats(means))
    st.caption(
        f"95% intervals resample whole clusters ({md(study.cluster_by)}); `small` = fewer than "
        "30 steps or 10 clusters."
    )

# A new table selection opens that step; otherwise the URL (or prev/next) decides.
picked = event.selection.rows if event is not None else []
if picked and st.session_state.get("_samples_last_pick") != (page.number, picked[0]):
    st.session_state["_samples_last_pick"] = (page.number, picked[0])
    open_sample(str(rows[ID].iloc[picked[0]]))
current = current_sample()
if current is None:
    st.stop()
pos = position(table[ID], current)
if pos is None:
    st.warning(f"No step with id {code(current)} in this workspace.")
    st.stop()

st.divider()
prev_id, next_id = neighbours(ids, current)
nav = st.columns([1, 1, 1, 3])
if nav[0].button("Previous", disabled=prev_id is None, key="prev_sample"):
    open_sample(prev_id)
    st.rerun()
if nav[1].button("Next", disabled=next_id is None, key="next_sample"):
    open_sample(next_id)
    st.rerun()
if nav[2].button("Explain this step", key="explain_sample", icon=":material/travel_explore:"):
    st.switch_page("pages/8_step.py", query_params={"workspace": ws.slug, "sample": current})
nav[3].caption(f"Step {code(current)} — share this page's URL to reopen it.")

outputs, formats = model_outputs(ws, current)
left, right = st.columns([3, 2])
with left:
    if is_text_only(study):
        conversation_view(ws, study, pos)
    else:
        picture = annotate_step(study, pos, outputs, formats, image_root=ws.image_root)
        st.image(picture.png, caption="Ground truth and each model's action")
        if not picture.found:
            st.warning("The screenshot is missing or unreadable; a placeholder is shown.")
        st.download_button(
            "Annotated screenshot (PNG)",
            picture.png,
            f"step_{pos}.png",
            "image/png",
            key="dl_step_png",
            on_click="ignore",
            icon=":material/download:",
        )
with right:
    st.markdown(f"**Task:** {md(study.samples['task'].iloc[pos])}")
    for f in smp.group_fields(study):
        st.markdown(f"**{md(f)}:** {md(study.samples[f].iloc[pos])}")
    st.dataframe(splitter_rows(study, pos), hide_index=True, key="step_splitters")
    st.dataframe(
        model_rows(study, pos, outputs),
        hide_index=True,
        key="step_models",
        # The match columns first: a long raw output must not push them out of view.
        column_order=["model", *study.metrics, "raw output"],
    )
