"""Samples page: filter the test steps, open one, and see every actor's action on its screenshot."""

from __future__ import annotations

import streamlit as st

from gemviz.analysis import samples as smp
from gemviz.analysis.stability import id_probability
from gemviz.data.errors import GemvizError
from gemviz.data.records import ID
from gemviz.figures.step import annotate_step
from gemviz.ui.cache import predictions, sample_table
from gemviz.ui.page import page_setup
from gemviz.ui.state import (
    clear_samples_selection,
    current_sample,
    open_sample,
    restore_widgets,
    samples_selection,
    save_widgets,
)
from gemviz.ui.widgets import id_probability_filters, number_formats, stability_refits
from gemviz.workspace import annotations as notes

ws, study = page_setup("Samples")
try:
    annotated = notes.load(ws.folder)
except GemvizError as exc:
    st.error(str(exc))
    annotated = {}
table = notes.with_annotations(sample_table(str(ws.json_path), ws.fingerprint()), annotated)
probs = {n: id_probability(r) for n, r in stability_refits(ws, study).items()}
table = smp.with_id_probability(table, probs)
ANY = "any"
# Filters ("f_" keys) survive page switches, each workspace keeping its own.
restore_widgets(ws, "f_")

selection = samples_selection(ws)
if selection is not None:
    box = st.columns([4, 1])
    box[0].info(f"Showing the {len(selection['ids']):,} steps of **{selection['label']}**.")
    if box[1].button("Clear selection", key="clear_selection", icon=":material/close:"):
        clear_samples_selection()
        st.rerun()

with st.expander("Filters", expanded=True):
    cols = st.columns(4)
    labels = {}
    for i, s in enumerate(study.splitters):
        pick = cols[i % 4].selectbox(f"{s} label", [ANY, "ID", "OOD"], key=f"f_label_{s}")
        if pick != ANY:
            labels[s] = pick
    dispute = cols[len(study.splitters) % 4].selectbox(
        "Splitters", [ANY, "disputed", "agreed"], key="f_disputed"
    )
    matches = {}
    cols = st.columns(4)
    for i, (m, metric) in enumerate((m, k) for m in study.models for k in study.metrics):
        pick = cols[i % 4].selectbox(smp.match_col(m, metric), [ANY, 1, 0], key=f"f_{metric}_{m}")
        if pick != ANY:
            matches[(m, metric)] = pick
    cols = st.columns(4)
    only, only_metric = None, study.default_metric
    if len(study.models) > 1:
        pick_only = cols[0].selectbox(
            "Correct by this model only", [ANY, *study.models], key="f_only"
        )
        only = None if pick_only == ANY else pick_only
        only_metric = cols[1].selectbox(
            "... on", sorted(study.metrics, key=lambda k: k != only_metric), key="f_only_metric"
        )
    values = {
        f: cols[2 + j % 2].multiselect(f, sorted(set(table[f])), key=f"f_values_{f}")
        for j, f in enumerate(smp.group_fields(study))
    }
    ranges = {}
    cols = st.columns(max(1, len(study.splitters)))
    for col, s in zip(cols, study.splitters, strict=False):
        spec = smp.score_range(table[smp.score_col(s)])
        if spec is not None:
            k = f"f_score_{s}"
            # The value lives in the session (restored above), never also passed as a default:
            # both at once make Streamlit warn; a range the scores no longer cover is reset.
            kept = st.session_state.get(k)
            if not (kept and spec.lo <= kept[0] <= kept[1] <= spec.hi):
                st.session_state[k] = (spec.lo, spec.hi)
            chosen = col.slider(
                f"{s} score", spec.lo, spec.hi, step=spec.step, format=spec.format, key=k
            )
            if not spec.is_full(chosen):
                ranges[s] = spec.bounds(chosen)
    prob_ranges = id_probability_filters(ws, probs)
    cols = st.columns([3, 1])
    search = cols[0].text_input("Search in the task", key="f_search")
    tags = cols[1].multiselect("Tags", [notes.ANY_TAG, *notes.all_tags(annotated)], key="f_tags")
save_widgets(ws, "f_")

flt = smp.SampleFilter(
    labels=labels,
    disputed={ANY: None, "disputed": True, "agreed": False}[dispute],
    matches=matches,
    only_correct=only,
    only_metric=only_metric,
    score_ranges=ranges,
    prob_ranges=prob_ranges,
    values=values,
    search=search,
    tags=tags,
    ids=None if selection is None else selection["ids"],
)
try:
    shown = smp.filter_table(table, flt)
except GemvizError as exc:
    st.error(str(exc))
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
page = smp.paginate(len(shown), 0, size)
number = top[2].number_input("Page", 1, page.count, 1, key="page_number") - 1
page = smp.paginate(len(shown), number, size)
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
        f"95% intervals resample whole clusters ({study.cluster_by}); `small` = fewer than "
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
hits = (table[ID] == current).to_numpy().nonzero()[0]
if not len(hits):
    st.warning(f"No step with id {current!r} in this workspace.")
    st.stop()
pos = int(hits[0])

st.divider()
prev_id, next_id = smp.neighbours(ids, current)
nav = st.columns([1, 1, 1, 3])
if nav[0].button("Previous", disabled=prev_id is None, key="prev_sample"):
    open_sample(prev_id)
    st.rerun()
if nav[1].button("Next", disabled=next_id is None, key="next_sample"):
    open_sample(next_id)
    st.rerun()
if nav[2].button("Explain this step", key="explain_sample", icon=":material/travel_explore:"):
    st.switch_page("pages/8_step.py", query_params={"workspace": ws.slug, "sample": current})
nav[3].caption(f"Step `{current}` — share this page's URL to reopen it.")

outputs, formats = {}, {}
for m in ws.models:
    if m.predictions:
        try:
            outputs[m.name] = predictions(m.predictions, m.pred_field, ws.fingerprint()).get(
                current
            )
        except GemvizError as exc:
            st.error(str(exc))
        formats[m.name] = m.format
picture = annotate_step(study, pos, outputs, formats, image_root=ws.image_root)
left, right = st.columns([3, 2])
with left:
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
    st.markdown(f"**Task:** {study.samples['task'].iloc[pos]}")
    for f in smp.group_fields(study):
        st.markdown(f"**{f}:** {study.samples[f].iloc[pos]}")
    st.dataframe(smp.splitter_rows(study, pos), hide_index=True, key="step_splitters")
    st.dataframe(
        smp.model_rows(study, pos, outputs),
        hide_index=True,
        key="step_models",
        # The match columns first: a long raw output must not push them out of view.
        column_order=["model", *study.metrics, "raw output"],
    )
