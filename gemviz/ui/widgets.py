"""Widgets shared by several pages: stability refits, table formats and downloads, the
splitter form and its charts."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from gemviz.data.errors import GemvizError
from gemviz.data.study import Study
from gemviz.figures.export import figure_html
from gemviz.figures.partition import SplitterCharts
from gemviz.splitters import splitter_controls
from gemviz.workspace.store import Workspace


def stability_refits(ws: Workspace, study: Study) -> dict[str, np.ndarray]:
    """Bootstrap refits of the workspace's refittable splitters that are on disk.

    Splitters that a "Compute" button (:func:`stability_button`) asked for are refitted now
    (50 refits, with a progress bar) when not cached yet; the others are only read. Not cached
    with Streamlit: the disk cache is the cache (:func:`gemviz.analysis.stability.workspace_refits`).
    """
    from gemviz.analysis.stability import refittable, workspace_refits

    compute = st.session_state.pop("_refit", ())
    out = {}
    for name in refittable(ws):
        bar = st.progress(0.0, f"Refitting {name}...") if name in compute else None
        try:
            got = workspace_refits(
                ws,
                study,
                [name],
                compute=bar is not None,
                progress=(lambda n, d, t, b=bar: b.progress(d / t, f"Refitting {n}: {d}/{t}"))
                if bar
                else None,
            )
        except GemvizError as exc:
            if bar is not None:  # reading what is cached stays silent; a refit asked for says why
                st.error(str(exc))
            got = None
        if bar is not None:
            bar.empty()
        if got:
            out.update(got)
    return out


def stability_button(ws: Workspace, have, key: str) -> None:
    """A button that asks :func:`stability_refits` to refit the splitters not in ``have``."""
    from gemviz.analysis.stability import refittable

    missing = [n for n in refittable(ws) if n not in have]
    if missing and st.button(
        f"Compute ID probability ({', '.join(missing)}; 50 refits each)",
        key=key,
        help="Refits each splitter on 50 bootstrap resamples of the train tasks and counts how "
        "often each test step is called ID. Kept on disk; GEM takes about a second a refit.",
    ):
        st.session_state["_refit"] = tuple(missing)
        st.rerun()


def id_probability_filters(ws: Workspace, probs: dict) -> dict[str, tuple[float, float]]:
    """Range sliders on each splitter's ID probability (plus the compute button)."""
    ranges = {}
    for col, name in zip(st.columns(max(1, len(probs))), probs, strict=False):
        chosen = col.slider(
            f"{name} ID probability", 0.0, 1.0, (0.0, 1.0), 0.02, key=f"f_prob_{name}"
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


def table_downloads(table: pd.DataFrame, stem: str) -> None:
    """CSV and Markdown download buttons for ``table`` (bytes made only when clicked)."""
    from gemviz.figures.export import table_csv, table_markdown

    left, right = st.columns(2)
    left.download_button(
        f"{stem}.csv",
        lambda: table_csv(table),
        f"{stem}.csv",
        "text/csv",
        key=f"dl_{stem}_csv",
        on_click="ignore",
        icon=":material/download:",
    )
    right.download_button(
        f"{stem}.md",
        lambda: table_markdown(table),
        f"{stem}.md",
        "text/markdown",
        key=f"dl_{stem}_md",
        on_click="ignore",
        icon=":material/download:",
    )


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


def chart_row(charts: SplitterCharts) -> None:
    """A splitter's charts side by side, each with its HTML download, then their caption."""
    if not charts.charts:
        return
    cols = st.columns([c.width for c in charts.charts])
    for col, chart in zip(cols, charts.charts, strict=True):
        col.plotly_chart(chart.figure, key=f"{chart.key}_chart", theme=None)
        col.download_button(
            chart.label,
            lambda fig=chart.figure: figure_html(fig),
            chart.filename,
            "text/html",
            key=f"dl_{chart.key}",
            on_click="ignore",
        )
    if charts.caption:
        st.caption(charts.caption)


_MARKDOWN = set("\\`*_{}[]()<>#+-.!|~$")


def md_escape(text: str) -> str:
    """``text`` with every Markdown and LaTeX character escaped, for st.success/st.info & co.

    User text (model, splitter and step names, tasks) must read as typed, never as markup.
    """
    return "".join("\\" + c if c in _MARKDOWN else c for c in str(text))
