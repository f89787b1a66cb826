"""Interactive (plotly) figures for the dashboard: GEM fit, BIC curve, grouped bars.

Histograms are binned here with numpy and drawn as bars, so a 50,000-sample file sends a
hundred numbers to the browser rather than every score.
"""

from __future__ import annotations

import html
import textwrap
from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from gemviz.analysis import findings
from gemviz.figures import theme
from gemviz.figures.theme import COMPONENT_COLOR, ID_FILL, MIXTURE_COLOR, TEST_COLOR, TRAIN_COLOR


def gem_fit_figure(
    train_scores: np.ndarray,
    test_scores: np.ndarray | None,
    means: Sequence[float],
    stds: Sequence[float],
    weights: Sequence[float],
    intervals: Sequence[tuple[float, float]],
    bins: int = 60,
    title: str = "GEM fit",
) -> go.Figure:
    """Train/test score histograms with the fitted Gaussian components and ID intervals.

    Args:
        train_scores: Train input scores (the mixture was fitted on these).
        test_scores: Test input scores, or ``None``.
        means, stds, weights: The fitted components.
        intervals: Merged ID intervals ``(lo, hi)``, shaded.
        bins: Number of histogram bins over the joint range.
        title: Figure title.

    Returns:
        A plotly figure; histograms are densities so the component curves share their scale.
    """
    train = np.asarray(train_scores, dtype=float)
    arrays = [train] + ([np.asarray(test_scores, dtype=float)] if test_scores is not None else [])
    lo = min(float(a.min()) for a in arrays if a.size)
    hi = max(float(a.max()) for a in arrays if a.size)
    if hi <= lo:
        hi = lo + 1.0
    edges = np.linspace(lo, hi, bins + 1)
    centers = (edges[:-1] + edges[1:]) / 2
    width = edges[1] - edges[0]
    fig = go.Figure()
    for name, values, color in (("train", train, TRAIN_COLOR), ("test", arrays[-1], TEST_COLOR)):
        if name == "test" and test_scores is None:
            continue
        density, _ = np.histogram(values, bins=edges, density=True)
        fig.add_bar(
            x=centers,
            y=density,
            width=width,
            name=f"{name} (n={values.size})",
            marker_color=color,
            opacity=0.55,
        )
    grid = np.linspace(lo, hi, 400)
    total = np.zeros_like(grid)
    for k, (m, s, w) in enumerate(zip(means, stds, weights, strict=True)):
        s = max(float(s), 1e-12)
        curve = float(w) * np.exp(-0.5 * ((grid - m) / s) ** 2) / (s * np.sqrt(2 * np.pi))
        total += curve
        fig.add_scatter(
            x=grid,
            y=curve,
            mode="lines",
            name=f"component {k + 1}",
            line={"color": COMPONENT_COLOR, "width": 1, "dash": "dot"},
            showlegend=k == 0,
            legendgroup="components",
        )
    if len(means):
        fig.add_scatter(
            x=grid,
            y=total,
            mode="lines",
            name="mixture",
            line={"color": MIXTURE_COLOR, "width": 1.5},
        )
    for a, b in intervals:
        fig.add_vrect(x0=max(a, lo), x1=min(b, hi), fillcolor=ID_FILL, line_width=0, layer="below")
    theme.apply(
        fig,
        title=title,
        barmode="overlay",
        xaxis_title="input score",
        yaxis_title="density",
        legend={"orientation": "h", "y": -0.2},
        margin={"t": 50, "b": 40},
    )
    return fig


def bic_figure(bic: Sequence[float], chosen: int) -> go.Figure:
    """BIC against the number of components, with the chosen count marked.

    Args:
        bic: Entry ``k - 1`` is the BIC of ``k`` components (NaN entries are skipped).
        chosen: The selected number of components.
    """
    bic = np.asarray(bic, dtype=float)
    ks = np.arange(1, bic.size + 1)
    ok = np.isfinite(bic)
    fig = go.Figure()
    fig.add_scatter(
        x=ks[ok], y=bic[ok], mode="lines+markers", name="BIC", line={"color": theme.color(0)}
    )
    if 1 <= chosen <= bic.size and ok[chosen - 1]:
        fig.add_scatter(
            x=[chosen],
            y=[bic[chosen - 1]],
            mode="markers",
            name=f"chosen: {chosen}",
            marker={"size": 14, "color": theme.HIGHLIGHT_COLOR, "symbol": "star"},
        )
    theme.apply(
        fig,
        title="BIC by number of components",
        xaxis_title="components",
        yaxis_title="BIC (lower is better)",
        margin={"t": 50, "b": 40},
    )
    return fig


def grouped_bars(
    table: pd.DataFrame,
    metric: str,
    title: str | None = None,
    unit: str = "clusters",
    adjust: str = "holm",
) -> go.Figure:
    """Bars of ID and OOD means per model, grouped by splitter, with 95% interval error bars.

    Each splitter keeps its palette colour; its OOD bar is the lighter, hatched twin of its ID
    bar. Every bar is labelled with its n (the steps behind the mean), so a slide shows how
    much each bar rests on; the hover adds the number of clusters (tasks or episodes). An
    empty set has no bar but an explicit ``n=0`` mark at the axis.

    Args:
        table: Output of :func:`gemviz.analysis.tables.id_ood_table` (``id_n``/``ood_n`` optional).
        metric: The metric to draw (``"type_match"`` or ``"exact_match"``).
        title: The title; by default the strongest finding in words
            (:func:`gemviz.analysis.findings.bars_title`).
        unit: How clusters are named in the title (``tasks``, ``episodes``, ``steps``).
        adjust: The adjustment the table's ``gap_p_adjusted`` used.
    """
    rows = table[table["metric"] == metric]
    colors = theme.color_map(list(rows["splitter"].unique()))
    fig = go.Figure()
    for splitter in rows["splitter"].unique():
        part = rows[rows["splitter"] == splitter]
        for subset in ("id", "ood"):
            _add_set_bars(fig, part, splitter, subset, colors[splitter])
    if title is None:
        title = (
            findings.bars_title(table, metric, unit, adjust)
            if {"gap", "gap_lo", "gap_hi", "gap_p_adjusted"} <= set(table.columns)
            else f"{findings.metric_words(metric)}: ID vs OOD"
        )
    theme.apply(
        fig,
        barmode="group",
        title=wrap_title(title),
        margin={"t": 40 + 24 * wrap_title(title).count("<br>") + 30},
        yaxis_title="mean (95% interval)",
        yaxis_range=[0, 1.05],
        uniformtext={"minsize": 10, "mode": "show"},
        legend={"orientation": "h", "y": -0.15},
    )
    return fig


def _bar_labels(part: pd.DataFrame, subset: str, empty: np.ndarray) -> tuple[list | None, list]:
    """Each bar's label (``n=...``; ``n=0`` at the axis for an empty set) and its hover count
    (with the clusters when the table has them)."""
    n_col, k_col = f"{subset}_n", f"{subset}_clusters"
    text = [f"n={int(n):,}" for n in part[n_col]] if n_col in part else None
    if empty.any():
        # No bar for an empty set, but a mark that says so at the axis.
        text = ["n=0" if e else (text[i] if text else "") for i, e in enumerate(empty)]
    if n_col in part and k_col in part:
        counts = [
            f"n={int(n):,}, {int(k):,} clusters"
            for n, k in zip(part[n_col], part[k_col], strict=True)
        ]
    else:
        counts = text or [""] * len(part)
    return text, counts


def _add_set_bars(
    fig: go.Figure, part: pd.DataFrame, splitter: str, subset: str, base: str
) -> None:
    """One splitter's bars of one set (``"id"`` or ``"ood"``), one per model."""
    mean = part[f"{subset}_mean"].to_numpy(dtype=float)
    empty = np.isnan(mean)
    text, counts = _bar_labels(part, subset, empty)
    fig.add_bar(
        x=part["model"],
        y=np.where(empty, 0.0, mean),
        name=f"{splitter} {subset.upper()}",
        marker={
            "color": base if subset == "id" else theme.lighten(base),
            # White hatching over the lighter fill, as the matplotlib twin draws it.
            "pattern": {
                "shape": theme.OOD_PATTERN if subset == "ood" else "",
                "fillmode": "overlay",
                "fgcolor": "#FFFFFF",
                "solidity": 0.25,
            },
        },
        text=text,
        textposition=["outside" if e else "auto" for e in empty],
        insidetextanchor="start",
        textangle=0,
        textfont={"size": 11},
        # Splitter and set first: what a click on the bar opens in Samples.
        customdata=[
            [splitter, subset.upper(), "no steps" if e else c]
            for c, e in zip(counts, empty, strict=True)
        ],
        hovertemplate="%{x}<br>%{y:.3f} (%{customdata[2]})<extra>"
        + f"{splitter} {subset.upper()}</extra>",
        error_y={
            "type": "data",
            "symmetric": False,
            "array": part[f"{subset}_hi"].to_numpy(dtype=float) - mean,
            "arrayminus": mean - part[f"{subset}_lo"].to_numpy(dtype=float),
            "color": "#444444",
        },
    )


def wrap_title(title: str, width: int = 100) -> str:
    """A long title broken onto lines of at most ``width`` characters (plotly does not wrap).

    The text is HTML-escaped first: plotly renders a title's tags, and titles carry user
    names (models, splitters).
    """
    return "<br>".join(html.escape(line) for line in textwrap.wrap(title, width)) or html.escape(
        title
    )
