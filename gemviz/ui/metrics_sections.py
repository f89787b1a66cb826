"""Sections of the Metrics page that stand on their own: the runs board and the paired
comparison of two models. Each draws its widgets, chart and table in place.

The runs board ranks the configurations by their mean over runs; colour and grouping come
from the configuration table (method, training set, base model); with a baseline the
comparisons are each configuration against it (one row each), without one the pairs with
the smallest adjusted p, the whole table behind an expander."""

from __future__ import annotations

import streamlit as st

from gemviz.analysis.runs import top_pairs
from gemviz.data.errors import GemvizError
from gemviz.data.study import Study
from gemviz.figures import runs as run_charts
from gemviz.ui.cache import paired_comparison, runs_board
from gemviz.ui.text import md
from gemviz.ui.widgets import metric_select, table_view
from gemviz.workspace.configs import GROUPING_FIELDS, baseline_of, configurations
from gemviz.workspace.store import Workspace

#: Pairs shown before the expander when no baseline is set.
TOP_PAIRS = 15
NONE = "(none)"
PAIR_FIRST = [
    "model_a", "model_b", "diff", "diff_lo", "diff_hi", "diff_p_adjusted", "verdict",
    "diff_p_fixed_adjusted", "verdict_fixed",
]  # fmt: skip


def _choices(configs) -> list[str]:
    return [NONE] + [f for f in GROUPING_FIELDS if configs[f].notna().any()]


def runs_section(
    ws: Workspace, study: Study, models: list[str], splitters: list[str], adjust: str
) -> None:
    """The runs board, its summary and its comparisons (shown only when a chosen model has
    more than one run)."""
    if not any(study.runs(m) > 1 for m in models):
        return
    key = (str(ws.json_path), ws.fingerprint())
    configs = configurations(ws)
    baseline = baseline_of(configs)
    st.subheader("Runs: configurations ranked by their mean over runs, each run a point")
    c1, c2, c3, c4, c5 = st.columns(5)
    metric = metric_select(study, "Metric", "runs_metric", c1)
    sets = ["all steps"] + [f"{s}: {part}" for s in splitters for part in ("ID", "OOD")]
    chosen_set = c2.selectbox("Steps", sets, key="runs_set")
    choices = _choices(configs)
    color_by = c3.selectbox("Colour by", choices, index=min(1, len(choices) - 1), key="runs_color")
    group_by = c4.selectbox("Group by", choices, key="runs_group")
    order = c5.selectbox("Order", ["by mean", "as the configuration table"], key="runs_order")
    splitter, _, part = chosen_set.rpartition(": ")
    splitter = splitter or None
    points, summary, pairs = runs_board(*key, metric, tuple(models), splitter, adjust, baseline)
    subset = part if splitter else "all"
    board = run_charts.runs_board(
        points, summary, subset, splitter, configs=configs,
        color_by=None if color_by == NONE else color_by,
        group_by=None if group_by == NONE else group_by,
        order="mean" if order == "by mean" else "table",
    )  # fmt: skip
    st.plotly_chart(board, key="runs_chart", theme=None)
    st.caption(
        "Dot: the mean over runs in percent with its 95% interval (clipped to [0, 100]); small "
        "points: each run's mean; dashed line: the baseline (mark one in the configuration table on the "
        "Workspace page). Values are on hover."
    )
    mine = summary[summary["subset"] == subset].sort_values("mean", ascending=False)
    table_view(mine, "runs_summary", "runs_summary")
    _pairs(pairs[pairs["subset"] == subset], baseline)


def _pairs(pairs, baseline: str | None) -> None:
    if not len(pairs):
        return
    if baseline is not None and set(pairs["model_b"]) == {baseline}:
        st.markdown(f"**Each configuration against the baseline** ({len(pairs)} comparisons)")
        table_view(pairs.sort_values("diff", ascending=False), "runs_pairs", "runs_pairs",
                   first=PAIR_FIRST)  # fmt: skip
        return
    top = top_pairs(pairs, TOP_PAIRS)
    st.markdown(f"**The {len(top)} of {len(pairs)} pairs with the smallest adjusted p**")
    table_view(top, "runs_pairs", first=PAIR_FIRST)
    if len(pairs) > len(top):
        with st.expander(f"All {len(pairs)} pairs"):
            table_view(pairs, "runs_pairs_all", "runs_pairs", first=PAIR_FIRST)


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
