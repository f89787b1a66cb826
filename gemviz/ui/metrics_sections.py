"""Sections of the Metrics page that stand on their own: the runs board and the paired
comparison of two models. Each draws its widgets, chart and table in place."""

from __future__ import annotations

import streamlit as st

from gemviz.data.errors import GemvizError
from gemviz.data.study import Study
from gemviz.figures import runs as run_charts
from gemviz.ui.cache import paired_comparison, runs_board
from gemviz.ui.text import md
from gemviz.ui.widgets import metric_select, table_view
from gemviz.workspace.store import Workspace


def runs_section(
    ws: Workspace, study: Study, models: list[str], splitters: list[str], adjust: str
) -> None:
    """Each configuration's runs, mean ± sd, and comparisons using all runs (shown only
    when a chosen model has more than one run)."""
    if not any(study.runs(m) > 1 for m in models):
        return
    key = (str(ws.json_path), ws.fingerprint())
    st.subheader("Runs: each configuration's runs, mean ± sd, and comparisons using all runs")
    c1, c2 = st.columns(2)
    runs_metric = metric_select(study, "Metric", "runs_metric", c1)
    sets = ["all steps"] + [f"{s}: {part}" for s in splitters for part in ("ID", "OOD")]
    chosen_set = c2.selectbox("Steps", sets, key="runs_set")
    runs_splitter, _, runs_subset = chosen_set.rpartition(": ")
    runs_splitter = runs_splitter or None
    points, summary, pairs = runs_board(*key, runs_metric, tuple(models), runs_splitter, adjust)
    subset = runs_subset if runs_splitter else "all"
    board = run_charts.runs_board(points, summary, subset, runs_splitter)
    st.plotly_chart(board, key="runs_chart", theme=None)
    st.caption(
        "Points: each run's mean with its 95% interval; diamond: the mean over runs ± one sd "
        "of the run means. The table below compares configurations on the per-step outcome "
        "averaged over all their runs (paired by step, clustered, adjusted over the pairs)."
    )
    table_view(summary[summary["subset"] == subset], "runs_summary", "runs_summary")
    if len(pairs):
        table_view(
            pairs[pairs["subset"] == subset],
            "runs_pairs",
            "runs_pairs",
            first=["model_a", "model_b", "diff", "diff_lo", "diff_hi", "diff_p_adjusted"],
        )


def paired_section(ws: Workspace, study: Study, adjust: str) -> None:
    """Two models compared step by step on one metric, ID and OOD of one splitter."""
    st.subheader("Paired comparison of two models")
    if len(study.models) < 2:
        st.caption("Needs two models.")
        return
    key = (str(ws.json_path), ws.fingerprint())
    c1, c2, c3, c4 = st.columns(4)
    a = c1.selectbox("Model A", study.models, index=0, key="pair_a")
    b = c2.selectbox("Model B", study.models, index=1, key="pair_b")
    pair_metric = c3.selectbox("Metric", study.metrics, key="pair_metric")
    pair_splitter = c4.selectbox("Splitter (defines ID/OOD)", study.splitters, key="pair_splitter")
    if a == b:
        st.warning("Pick two different models.")
        return
    try:
        pair = paired_comparison(*key, a, b, pair_metric, pair_splitter, adjust)
        table_view(pair, "pair_table", "paired_comparison")
    except GemvizError as exc:
        st.error(md(exc))
