"""The Training sets page's sections: the map with its click-through, functions, the decisive
comparison (Streamlit only; numbers from :mod:`gemviz.analysis.training_sets`)."""

from __future__ import annotations

from urllib.parse import quote

import pandas as pd
import streamlit as st

from gemviz.analysis import training_sets as cov
from gemviz.analysis.findings_coverage import coverage_headline
from gemviz.figures.coverage import coverage_map, gain_chart
from gemviz.figures.embedding_map import selection_ids
from gemviz.ui.cache import coverage_comparison
from gemviz.ui.state import open_sample
from gemviz.ui.text import code, md
from gemviz.ui.widgets import table_downloads
from gemviz.workspace.configs import configurations
from gemviz.workspace.store import Workspace

STEP_PAGE = "pages/8_step.py"


def step_link(ws: Workspace, sample_id: str) -> str:
    """The Step page's URL for one test entry of the workspace."""
    return f"step?workspace={quote(ws.slug, safe='')}&sample={quote(str(sample_id), safe='')}"


def map_section(ws: Workspace, found: cov.TrainingSets) -> None:
    """One set's examples and the test entries on a map; a click or a box lists entries, each
    with a link to the Step page."""
    name = st.selectbox("Training set on the map", found.names, key="cov_map_set")
    points = cov.map_points(found, name)
    fig = coverage_map(points, f"{name} and the test entries (PCA of the embeddings)")
    event = st.plotly_chart(fig, key="cov_map", on_select="rerun",
                            selection_mode=("points", "box", "lasso"), width="stretch",
                            theme=None)  # fmt: skip
    test = points[points["kind"] != cov.TRAINING]
    drawn, total = len(points) - len(test), len(found.train[name].ids)
    st.caption(
        f"{len(test)} test entries ({int((test['kind'] == cov.COVERED).sum())} covered by "
        f"{md(name)}, k={found.k}) and {drawn:,} of {total:,} training examples"
        + (" (an evenly spaced choice)" if drawn < total else "")
        + ". PCA keeps only the two widest directions: points close here may be far apart, "
        "the covered flags come from the full embeddings. Click a test entry or draw a box "
        "to list entries and open them on the Step page."
    )
    chosen = selection_ids(test, (event or {}).get("selection") or {})
    if not chosen:
        return
    rows = found.entries(name).set_index("id").loc[chosen].reset_index()
    rows.insert(1, "open", [step_link(ws, i) for i in rows["id"]])
    st.markdown(f"**{len(rows)} selected test entries**")
    st.dataframe(rows, hide_index=True, key="cov_selected", column_config={
        "open": st.column_config.LinkColumn("open", display_text="Step"),
        "nn_distance": st.column_config.NumberColumn("nearest distance", format="%.3f"),
    })  # fmt: skip
    left, right = st.columns([3, 1])
    pick = left.selectbox("Open a selected entry", rows["id"].tolist(), key="cov_open_pick")
    if right.button("Open in Step", key="cov_open", icon=":material/travel_explore:"):
        open_sample(pick)
        st.switch_page(STEP_PAGE, query_params={"workspace": ws.slug, "sample": pick})


def functions_section(found: cov.TrainingSets) -> None:
    """Test functions x sets, and each set's functions never shown."""
    table = cov.function_matrix(found)
    if table.empty:
        st.info(
            "No possible answers beside the test file: function coverage needs BFCL's "
            "`possible_answer/<test file>` (the functions each entry's answer calls)."
        )
        return
    st.dataframe(table, hide_index=True, key="cov_functions", height=360)
    for name, missing in found.missing.items():
        if missing:
            shown = ", ".join(code(f) for f in missing[:12])
            more = f" and {len(missing) - 12} more" if len(missing) > 12 else ""
            st.caption(f"{md(name)} never shows {len(missing)} needed functions: {shown}{more}")
    table_downloads(table, "function_coverage")


def decisive_section(
    ws: Workspace, study, found: cov.TrainingSets, k: int, rule: str
) -> pd.DataFrame | None:
    """The decisive comparison: a baseline and a metric to pick, the headline, the chart with
    intervals and the table; returns the rows (None without two configurations)."""
    if len(study.models) < 2:
        st.info("The decisive comparison needs a baseline and at least one other configuration.")
        return None
    left, right = st.columns(2)
    default = cov.default_baseline(study.models, ws)
    baseline = left.selectbox("Baseline", study.models, study.models.index(default),
                              key="cov_baseline")  # fmt: skip
    metric = right.selectbox("Metric", study.metrics, key="cov_metric")
    rows, gains = coverage_comparison(str(ws.json_path), ws.fingerprint(), k, rule, baseline,
                                      metric)  # fmt: skip
    st.markdown(f"**{md(coverage_headline(rows, baseline))}**")
    st.plotly_chart(gain_chart(gains, baseline, metric), key="cov_gain_chart", width="stretch",
                    theme=None)  # fmt: skip
    st.caption(
        "Each dot is a configuration's mean outcome minus the baseline's (runs averaged, paired "
        "over entries) on the entries a set covers (filled) or does not cover (hollow), with "
        "its 95% interval (cluster sign-flip); the line at 0 is the baseline. The difference "
        "of the two and its test are in the table (Holm over all rows). Observational: covered "
        "and uncovered entries may differ in other ways."
    )
    trained = cov.trained_on(found.names, configurations(ws))
    pairs = ", ".join(f"{md(m)} on {md(n)}" for m, n in trained.items() if m != baseline)
    if pairs:
        st.caption(
            "As the configuration table gives their training sets, these configurations are "
            f"compared on their own set only: {pairs}; any other on every set (set them on the "
            "Workspace page)."
        )
    shown = rows[["train_set", "model", "covered_n", "uncovered_n", "covered_gain",
                  "uncovered_gain", "did", "did_lo", "did_hi", "did_p_adjusted", "verdict"]]  # fmt: skip
    config = {c: st.column_config.NumberColumn(format="%+.3f")
              for c in ("covered_gain", "uncovered_gain", "did", "did_lo", "did_hi")}  # fmt: skip
    config["did_p_adjusted"] = st.column_config.NumberColumn(format="%.3f")
    config["verdict"] = st.column_config.TextColumn(width="large")
    st.dataframe(shown, hide_index=True, key="cov_decisive", column_config=config)
    table_downloads(rows, "decisive_comparison")
    return rows
