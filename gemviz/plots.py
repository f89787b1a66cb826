"""Interactive (plotly) figures for the dashboard: GEM fit, BIC curve, grouped bars.

Histograms are binned here with numpy and drawn as bars, so a 50,000-sample file sends a
hundred numbers to the browser rather than every score.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

TRAIN_COLOR = "#4C78A8"
TEST_COLOR = "#F58518"
COMPONENT_COLOR = "#54A24B"
ID_FILL = "rgba(84, 162, 75, 0.12)"


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
            x=grid, y=total, mode="lines", name="mixture", line={"color": "black", "width": 1.5}
        )
    for a, b in intervals:
        fig.add_vrect(x0=max(a, lo), x1=min(b, hi), fillcolor=ID_FILL, line_width=0, layer="below")
    fig.update_layout(
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
    fig.add_scatter(x=ks[ok], y=bic[ok], mode="lines+markers", name="BIC")
    if 1 <= chosen <= bic.size and ok[chosen - 1]:
        fig.add_scatter(
            x=[chosen],
            y=[bic[chosen - 1]],
            mode="markers",
            name=f"chosen: {chosen}",
            marker={"size": 14, "color": "red", "symbol": "star"},
        )
    fig.update_layout(
        title="BIC by number of components",
        xaxis_title="components",
        yaxis_title="BIC (lower is better)",
        margin={"t": 50, "b": 40},
    )
    return fig


def grouped_bars(table: pd.DataFrame, metric: str) -> go.Figure:
    """Bars of ID and OOD means per model, grouped by splitter, with 95% interval error bars.

    Args:
        table: Output of :func:`gemviz.analysis.id_ood_table`.
        metric: The metric to draw (``"type_match"`` or ``"exact_match"``).
    """
    rows = table[table["metric"] == metric]
    fig = go.Figure()
    for splitter in rows["splitter"].unique():
        part = rows[rows["splitter"] == splitter]
        for subset in ("id", "ood"):
            mean = part[f"{subset}_mean"].to_numpy(dtype=float)
            fig.add_bar(
                x=part["model"],
                y=mean,
                name=f"{splitter} {subset.upper()}",
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": part[f"{subset}_hi"].to_numpy(dtype=float) - mean,
                    "arrayminus": mean - part[f"{subset}_lo"].to_numpy(dtype=float),
                },
            )
    fig.update_layout(
        barmode="group",
        title=f"{metric.replace('_', ' ')}: ID vs OOD",
        yaxis_title="mean (95% interval)",
        yaxis_range=[0, 1.05],
        margin={"t": 50, "b": 40},
    )
    return fig
