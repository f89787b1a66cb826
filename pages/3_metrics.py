"""Metrics page: ID/OOD means and gaps, the model x split interaction, paired comparison,
set-difference; all cluster-aware, p-values adjusted per section."""

from __future__ import annotations

import streamlit as st

from gemviz.analysis import findings
from gemviz.analysis.methods import cluster_unit
from gemviz.analysis.selection import bar_selection, resolve
from gemviz.data.errors import GemvizError
from gemviz.figures import charts as plots
from gemviz.ui.cache import (
    id_ood_table,
    interaction_table,
    set_difference,
    slice_fields,
    slices_table,
)
from gemviz.ui.metrics_sections import paired_section, runs_section
from gemviz.ui.page import page_setup
from gemviz.ui.state import open_in_samples
from gemviz.ui.text import md
from gemviz.ui.widgets import (
    clicked_points,
    html_download,
    metric_select,
    stats_settings,
    table_downloads,
    table_view,
)
from gemviz.workspace.configs import baseline_of, configurations

ws, study = page_setup("Metrics")
if not study.models:
    st.info("This workspace has no evaluated model yet: add a result file on the Workspace page.")
    st.stop()
key = (str(ws.json_path), ws.fingerprint())

# -- how the statistics treat the steps ------------------------------------------------------
adjust, margin = stats_settings(ws, study)
unit = cluster_unit(study.cluster_by)
st.text(findings.method_note(study.cluster_by, study.n_clusters, len(study), unit, adjust))


# -- splitter x model table ------------------------------------------------------------------
st.subheader("ID vs OOD, per splitter and model")
c1, c2 = st.columns(2)
splitters = c1.multiselect(
    "Splitters", study.splitters, default=study.splitters, key="metrics_splitters"
)
models = c2.multiselect("Models", study.models, default=study.models, key="metrics_models")
if not splitters or not models:
    st.warning("Pick at least one splitter and one model.")
    st.stop()
try:
    table = id_ood_table(*key, tuple(splitters), tuple(models), adjust)
except GemvizError as exc:
    st.error(md(exc))
    st.stop()
table_view(
    table,
    "id_ood_table",
    first=["splitter", "model", "metric", "id_mean", "ood_mean", "gap", "gap_p_adjusted"],
)
if table["small"].any():
    st.caption("`small` = the ID or OOD set has under 30 steps or 10 clusters: read with care.")
table_downloads(table, "id_ood_table")

metric = st.radio(
    "Metric for the chart",
    study.metrics,
    horizontal=True,
    key="bar_metric",
    format_func=lambda m: md(m.replace("_", " ")),
)
bars = plots.grouped_bars(table, metric, unit=unit, adjust=adjust)
event = st.plotly_chart(
    bars, key="bars_chart", theme=None, on_select="rerun", selection_mode="points"
)
st.caption("Click a bar to open its steps in Samples.")
clicked = clicked_points(event)
if clicked:
    bar_splitter, bar_set = clicked[0]["customdata"][:2]
    chosen = bar_selection(bar_splitter, bar_set)
    bar_ids, _ = resolve(study, chosen)
    bar_label = f"{bar_splitter} {bar_set} steps (bar of {clicked[0].get('x')})"
    open_in_samples(ws, bar_ids, bar_label, chosen)
html_download(bars, "chart (HTML)", f"{metric}_bars.html", "dl_bars")

# -- runs board ------------------------------------------------------------------------------
runs_section(ws, study, models, splitters, adjust)

# -- interaction -----------------------------------------------------------------------------
st.subheader("Does A gain more on ID than B?")
if len(models) < 2:
    st.caption("Pick at least two models above.")
else:
    baseline = baseline_of(configurations(ws))
    inter = interaction_table(*key, tuple(splitters), tuple(models), adjust, margin, baseline)
    st.caption(
        "did = (A − B on ID) − (A − B on OOD), paired within steps; positive: A − B is "
        "larger on ID than on OOD. did_logodds is the same on the log-odds scale, where "
        "floor and ceiling effects do not pose as an interaction (scale_note). "
        + (
            f"Each configuration (A) against the baseline {md(baseline)} (B); "
            if baseline in models
            else "Every pair of the study's configurations; "
        )
        + f"p-values adjusted over that family, per splitter and metric (e.g. "
        f"{md(inter['family'].iloc[0])})."
    )
    table_view(
        inter,
        "interaction_table",
        first=["splitter", "metric", "model_a", "model_b", "did", "did_p_adjusted"],
    )
    for inter_metric in dict.fromkeys(inter["metric"]):
        st.text(findings.interaction_headline(inter, inter_metric, unit, adjust))
    table_downloads(inter, "interaction")

# -- paired comparison -----------------------------------------------------------------------
paired_section(ws, study, adjust)

# -- set-difference drill-down ---------------------------------------------------------------
st.subheader("Where two splitters disagree")
if len(study.splitters) < 2:
    st.caption("Needs two splitters.")
else:
    c1, c2, c3 = st.columns(3)
    sa = c1.selectbox("Splitter A", study.splitters, index=0, key="diff_a")
    sb = c2.selectbox("Splitter B", study.splitters, index=1, key="diff_b")
    diff_metric = metric_select(study, "Metric", "diff_metric", c3)
    if sa == sb:
        st.warning("Pick two different splitters.")
    else:
        try:
            diff = set_difference(*key, sa, sb, diff_metric, adjust, margin)
        except GemvizError as exc:
            st.error(md(exc))
            st.stop()
        table_view(
            diff,
            "diff_table",
            first=["region", "model", "n", "n_clusters", "diff", "p_adjusted", "verdict", "mean"],
            config={"verdict": st.column_config.TextColumn(width="large")},
        )
        for row in diff.to_dict("records"):
            if findings.kind(row["verdict"]) == findings.SIGNIFICANT:
                st.success(md(findings.drill_finding(row, unit, adjust)))
        if diff["too_small"].any():
            st.caption(
                f"{int(diff['too_small'].sum())} of {len(diff)} rows are too uncertain to tell "
                "(empty region, or not significant with an interval wider than the margin)."
            )
        table_downloads(diff, "set_difference")

# -- slices ----------------------------------------------------------------------------------
st.subheader("Slices: ID and OOD means by app, platform, action type, ...")
fields = slice_fields(*key)
if not fields:
    st.caption("The test records carry no categorical field (app, platform, action, ...).")
else:
    c1, c2 = st.columns(2)
    by = c1.selectbox("Slice by", fields, key="slice_by")
    slice_metric = metric_select(study, "Metric", "slice_metric", c2)
    try:
        sliced = slices_table(*key, by, tuple(splitters), tuple(models), slice_metric)
    except GemvizError as exc:
        st.error(md(exc))
    else:
        table_view(sliced, "slice_table")
        st.caption(
            f"Intervals are cluster-aware (clusters: {md(study.cluster_by)}); `small` = under 30 "
            f"steps or 10 clusters: {int(sliced['small'].sum())} of {len(sliced)} rows."
        )
        table_downloads(sliced, "slices")
