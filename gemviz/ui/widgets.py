"""Widgets shared by several pages: stability refits, table formats and downloads, the
splitter form and its charts, the sample filters, a step's model outputs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from gemviz.analysis import conversation as conv
from gemviz.analysis.filters import SampleFilter, score_range
from gemviz.analysis.samples import group_fields, match_col, score_col
from gemviz.analysis.stability import RESAMPLES, mc_error, refittable, workspace_refits
from gemviz.data.errors import GemvizError
from gemviz.data.fields import ID
from gemviz.data.study import Study
from gemviz.figures.export import figure_html, table_csv, table_markdown
from gemviz.figures.partition import SplitterCharts
from gemviz.splitters import splitter_controls
from gemviz.stats import default_margin
from gemviz.ui.cache import cluster_choices, possible_answers, predictions, run_tables
from gemviz.ui.state import restore_widgets, save_widgets
from gemviz.ui.text import md
from gemviz.workspace import annotations as notes
from gemviz.workspace.store import Workspace


def stability_refits(ws: Workspace, study: Study) -> dict[str, np.ndarray]:
    """Bootstrap refits of the workspace's refittable splitters that are on disk.

    Splitters that a "Compute" button (:func:`stability_button`) asked for are refitted now
    (50 refits, with a progress bar) when not cached yet; the others are only read. Not cached
    with Streamlit: the disk cache is the cache (:func:`gemviz.analysis.stability.workspace_refits`).
    """
    compute = st.session_state.pop("_refit", ())
    out = {}
    for name in refittable(ws):
        bar = st.progress(0.0, f"Refitting {md(name)}...") if name in compute else None
        try:
            got = workspace_refits(
                ws,
                study,
                [name],
                compute=bar is not None,
                progress=(lambda n, d, t, b=bar: b.progress(d / t, f"Refitting {md(n)}: {d}/{t}"))
                if bar
                else None,
            )
        except GemvizError as exc:
            if bar is not None:  # reading what is cached stays silent; a refit asked for says why
                st.error(md(exc))
            got = None
        if bar is not None:
            bar.empty()
        if got:
            out.update(got)
    return out


def stability_button(ws: Workspace, have, key: str) -> None:
    """A button that asks :func:`stability_refits` to refit the splitters not in ``have``."""
    missing = [n for n in refittable(ws) if n not in have]
    if missing and st.button(
        f"Compute ID probability ({md(', '.join(missing))}; {RESAMPLES} refits each)",
        key=key,
        help=f"Refits each splitter on {RESAMPLES} bootstrap resamples of the train tasks and "
        "counts how often each test step is called ID (Monte Carlo error "
        f"{mc_error(RESAMPLES):.3f} near 0.9). Kept on disk; GEM takes about a second a refit.",
    ):
        st.session_state["_refit"] = tuple(missing)
        st.rerun()


def id_probability_filters(ws: Workspace, probs: dict) -> dict[str, tuple[float, float]]:
    """Range sliders on each splitter's ID probability (plus the compute button)."""
    ranges = {}
    for col, name in zip(st.columns(max(1, len(probs))), probs, strict=False):
        chosen = col.slider(
            f"{md(name)} ID probability", 0.0, 1.0, (0.0, 1.0), 0.02, key=f"f_prob_{name}"
        )
        if chosen != (0.0, 1.0):
            ranges[name] = chosen
    stability_button(ws, probs, "compute_id_probability")
    return ranges


def number_formats(frame: pd.DataFrame) -> dict:
    """Three decimals for means and differences, two significant digits for p-values."""
    return {
        c: st.column_config.NumberColumn(
            format="%.2g" if c.endswith(("_p", "_adjusted")) or c == "p_value" else "%.3f"
        )
        for c in frame.columns
        if frame[c].dtype.kind == "f"
    }


def key_columns_first(frame: pd.DataFrame, first) -> list[str]:
    """A ``column_order`` putting the columns a reader needs first (those that exist).

    At 1440 px a wide table shows about ten columns; the verdict and p-values must be among
    them, the interval bounds and counts can follow (scroll, or the CSV download).
    """
    lead = [c for c in first if c in frame.columns]
    return lead + [c for c in frame.columns if c not in lead]


def table_view(
    frame: pd.DataFrame,
    key: str,
    stem: str | None = None,
    first: list[str] | None = None,
    config: dict | None = None,
) -> None:
    """A results table: numbers formatted, key columns first, CSV and Markdown downloads.

    Args:
        frame: The table.
        key: The dataframe widget's key.
        stem: File name stem of the downloads (none when None).
        first: Columns to show first (:func:`key_columns_first`).
        config: Column configs added to (or replacing) :func:`number_formats`.
    """
    st.dataframe(
        frame,
        hide_index=True,
        key=key,
        column_config={**number_formats(frame), **(config or {})},
        column_order=key_columns_first(frame, first) if first else None,
    )
    if stem:
        table_downloads(frame, stem)


def metric_select(study: Study, label: str, key: str, where: Any = st) -> str:
    """A selectbox over the study's metrics, its default metric chosen first."""
    metrics = study.metrics
    return where.selectbox(label, metrics, index=metrics.index(study.default_metric), key=key)


def cluster_setting(ws: Workspace, study: Study, where: Any = st) -> None:
    """The workspace's "cluster steps by" setting; a change is saved and the page reruns."""
    options = cluster_choices(str(ws.json_path), ws.fingerprint())
    chosen = where.selectbox(
        "Cluster steps by",
        options,
        index=options.index(ws.cluster_by) if ws.cluster_by in options else 0,
        key="cluster_by",
        help="Steps of one cluster (task or episode) are resampled together. auto = episode_id, "
        "else task; none = every step independent. Saved in the workspace.",
    )
    if chosen != ws.cluster_by:
        ws.cluster_by = chosen
        try:
            ws.save()
        except GemvizError as exc:  # saved elsewhere meanwhile: this run shows the new state
            where.error(md(exc))
            return
        st.rerun()


def stats_settings(ws: Workspace, study: Study) -> tuple[str, float]:
    """How the statistics treat the steps: clusters (saved), p-value adjustment, margin.

    Returns:
        ``(adjust, margin)``: ``"holm"`` or ``"bh"``, and the "no difference" margin.
    """
    c1, c2, c3 = st.columns(3)
    cluster_setting(ws, study, c1)
    adjust = c2.radio(
        "p-value adjustment",
        ["holm", "bh"],
        horizontal=True,
        key="adjust",
        format_func={"holm": "Holm (FWER)", "bh": "Benjamini-Hochberg (FDR)"}.get,
    )
    # The default follows the metric's scale: one point for benchmark accuracy, 0.05 else.
    margin = c3.number_input(
        "Margin of 'no difference'",
        0.0,
        0.5,
        default_margin(study.default_metric),
        0.005,
        key="margin",
        format="%.3f",
    )
    return adjust, float(margin)


def clicked_points(event: Any) -> list[dict]:
    """The points of a Plotly chart's selection event that carry ``customdata``."""
    points = ((event or {}).get("selection") or {}).get("points", [])
    return [p for p in points if p.get("customdata")]


def table_downloads(table: pd.DataFrame | Callable[[], pd.DataFrame], stem: str) -> None:
    """CSV and Markdown download buttons for ``table`` (bytes made only when clicked; a
    callable is called then too, so a long table the page shows a page of is built only for
    the download)."""

    def whole() -> pd.DataFrame:
        return table() if callable(table) else table

    left, right = st.columns(2)
    left.download_button(
        f"{stem}.csv",
        lambda: table_csv(whole()),
        f"{stem}.csv",
        "text/csv",
        key=f"dl_{stem}_csv",
        on_click="ignore",
        icon=":material/download:",
    )
    right.download_button(
        f"{stem}.md",
        lambda: table_markdown(whole()),
        f"{stem}.md",
        "text/markdown",
        key=f"dl_{stem}_md",
        on_click="ignore",
        icon=":material/download:",
    )


def page_rows(n: int, size: int, key: str) -> slice:
    """The rows of one page of ``size`` out of ``n`` (a page number input when there are
    more pages than one; every row otherwise)."""
    if n <= size:
        return slice(None)
    count = -(-n // size)
    label = f"Page (of {count:,}, {size:,} steps each)"
    page = int(st.number_input(label, 1, count, 1, key=key)) - 1
    shown = f"{page * size + 1:,}–{min(n, (page + 1) * size):,}"
    st.caption(f"Steps {shown} of {n:,}; the downloads and Samples hold every step.")
    return slice(page * size, (page + 1) * size)


def splitter_form(method: str) -> dict[str, Any]:
    """One widget per control the splitter registry lists for ``method``, side by side.

    Each widget's key is the parameter's name and its default the constructor's, so the
    page offers what :data:`gemviz.splitters.SPLITTERS` declares and nothing else.

    Returns:
        Parameter name -> chosen value (int or float, as the default is).
    """
    items = splitter_controls(method)
    chosen: dict[str, Any] = {}
    for col, (control, default) in zip(st.columns(max(1, len(items))), items, strict=False):
        cast = int if isinstance(default, int) and float(control.step).is_integer() else float
        widget = col.slider if control.widget == "slider" else col.number_input
        value = widget(
            control.label,
            cast(control.lo),
            cast(control.hi),
            cast(default),
            cast(control.step),
            key=control.name,
            help=control.help or None,
        )
        chosen[control.name] = cast(value)
    return chosen


def html_download(figure: Any, label: str, filename: str, key: str, where: Any = st) -> None:
    """A download button of a Plotly figure as standalone HTML (made only when clicked)."""
    where.download_button(
        label, lambda: figure_html(figure), filename, "text/html", key=key, on_click="ignore"
    )


def chart_row(charts: SplitterCharts) -> None:
    """A splitter's charts side by side, each with its HTML download, then their caption."""
    if not charts.charts:
        return
    cols = st.columns([c.width for c in charts.charts])
    for col, chart in zip(cols, charts.charts, strict=True):
        col.plotly_chart(chart.figure, key=f"{chart.key}_chart", theme=None)
        html_download(chart.figure, chart.label, chart.filename, f"dl_{chart.key}", col)
    if charts.caption:
        st.caption(charts.caption)


ANY = "any"


def sample_filters(
    ws: Workspace,
    study: Study,
    table: pd.DataFrame,
    probs: dict[str, np.ndarray],
    annotated: dict,
    ids: list[str] | None = None,
) -> SampleFilter:
    """The Samples page's filter widgets, in an expander; their values survive page switches.

    Args:
        ws: The workspace (each keeps its own filter values).
        study: Its study (splitters, models, metrics, group fields).
        table: The sample table the filters apply to (for the fields' values and score ranges).
        probs: Splitter -> each step's ID probability, for the probability sliders.
        annotated: The workspace's annotations, for the tag choices.
        ids: A selection sent from another page, kept as a filter of its own.

    Returns:
        The :class:`~gemviz.analysis.filters.SampleFilter` the widgets describe.
    """
    restore_widgets(ws, "f_")
    with st.expander("Filters", expanded=True):
        labels, dispute = _label_filters(study)
        matches = _match_filters(study)
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
            f: cols[2 + j % 2].multiselect(
                md(f), sorted(set(table[f].unique().tolist())), key=f"f_values_{f}"
            )
            for j, f in enumerate(group_fields(study))
        }
        ranges = _score_filters(study, table)
        prob_ranges = id_probability_filters(ws, probs)
        cols = st.columns([3, 1])
        search = cols[0].text_input("Search in the task", key="f_search")
        tags = cols[1].multiselect(
            "Tags", [notes.ANY_TAG, *notes.all_tags(annotated)], key="f_tags"
        )
    save_widgets(ws, "f_")
    return SampleFilter(
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
        ids=ids,
    )


def _label_filters(study: Study) -> tuple[dict[str, str], str]:
    """A label choice per splitter, and whether the splitters agree."""
    cols = st.columns(4)
    labels = {}
    for i, s in enumerate(study.splitters):
        pick = cols[i % 4].selectbox(f"{md(s)} label", [ANY, "ID", "OOD"], key=f"f_label_{s}")
        if pick != ANY:
            labels[s] = pick
    dispute = cols[len(study.splitters) % 4].selectbox(
        "Splitters", [ANY, "disputed", "agreed"], key="f_disputed"
    )
    return labels, dispute


def _match_filters(study: Study) -> dict[tuple[str, str], int]:
    """A 0/1 choice per model and metric."""
    matches = {}
    cols = st.columns(4)
    for i, (m, metric) in enumerate((m, k) for m in study.models for k in study.metrics):
        pick = cols[i % 4].selectbox(md(match_col(m, metric)), [ANY, 1, 0], key=f"f_{metric}_{m}")
        if pick != ANY:
            matches[(m, metric)] = pick
    return matches


def _score_filters(study: Study, table: pd.DataFrame) -> dict[str, tuple[float, float]]:
    """A score range slider per splitter with scores; only narrowed ranges are returned."""
    ranges = {}
    cols = st.columns(max(1, len(study.splitters)))
    for col, s in zip(cols, study.splitters, strict=False):
        spec = score_range(table[score_col(s)])
        if spec is None:
            continue
        k = f"f_score_{s}"
        # The value lives in the session (restored by the caller), never also passed as a
        # default: both at once make Streamlit warn; a range the scores no longer cover is
        # reset.
        kept = st.session_state.get(k)
        if not (kept and spec.lo <= kept[0] <= kept[1] <= spec.hi):
            st.session_state[k] = (spec.lo, spec.hi)
        chosen = col.slider(
            f"{md(s)} score", spec.lo, spec.hi, step=spec.step, format=spec.format, key=k
        )
        if not spec.is_full(chosen):
            ranges[s] = spec.bounds(chosen)
    return ranges


def model_outputs(ws: Workspace, sample_id: str) -> tuple[dict[str, Any], dict[str, str]]:
    """Each model's raw output for one step and its action format, from the prediction files.

    A prediction file that cannot be read is reported on the page and its model left out.

    Returns:
        ``(outputs, formats)``: model -> raw output (None when the file lacks the step) and
        model -> action format.
    """
    outputs, formats = {}, {}
    for m in ws.models:
        if m.predictions:
            try:
                found = predictions(m.predictions, m.pred_field, ws.fingerprint())
                outputs[m.name] = found.get(sample_id)
            except GemvizError as exc:
                st.error(md(exc))
            formats[m.name] = m.format
    return outputs, formats


def conversation_view(ws: Workspace, study: Study, pos: int) -> None:
    """A text-only step: its turns with the ground-truth calls, then every model's runs.

    Everything the files hold is shown as plain text (never rendered as Markdown).
    """
    answers = possible_answers(ws.test, ws.fingerprint())
    for turn in conv.turns(study, pos, answers).itertuples():
        with st.chat_message("user"):
            st.caption(f"Turn {turn.turn}")
            st.text(turn.user)
        if turn.ground_truth:
            st.caption("Ground-truth calls")
            st.code(turn.ground_truth, language=None)
    if not answers:
        st.caption("No possible_answer file beside the test file: ground-truth calls not shown.")
    if study.models:
        runs = conv.run_outputs(
            run_tables(str(ws.json_path), ws.fingerprint()), study.samples[ID].iloc[pos]
        )
        st.dataframe(
            runs,
            hide_index=True,
            key="step_runs",
            column_config={"output": st.column_config.TextColumn(width="large")},
        )
