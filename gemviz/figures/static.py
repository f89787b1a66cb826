"""Matplotlib twins of the dashboard's interactive figures, for PNG export.

The pages draw with plotly; a PNG of a plotly figure needs a browser (kaleido), which a lab
server may not have. The meeting report's ZIP of slide figures is drawn with these instead:
grouped ID/OOD bars with intervals, the GEM fit, and the embedding scatter.
"""

from __future__ import annotations

import math
import textwrap

import matplotlib

matplotlib.use("Agg")  # no display on servers; must precede pyplot

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from gemviz.analysis import findings
from gemviz.figures import theme
from gemviz.figures.export import figure_png


def png_bytes(fig, exact: bool = False) -> bytes:
    """Render a matplotlib figure to PNG (150 dpi) and close it; ``exact``: the figure's own
    size, not cropped to its content."""
    try:
        return figure_png(fig, dpi=150, tight=not exact)
    finally:
        plt.close(fig)


def bars(table: pd.DataFrame, metric: str, title: str | None = None, unit: str = "clusters"):
    """ID and OOD means per model and splitter for one metric, with 95% interval bars.

    Same look as :func:`gemviz.figures.charts.grouped_bars`: each splitter's colour, its OOD bar the
    lighter hatched twin, n written on every bar (``n=0`` at the axis for an empty set), and
    the finding as the title unless ``title`` is given.
    """
    rows = table[table["metric"] == metric]
    models = list(dict.fromkeys(rows["model"]))
    splitters = list(dict.fromkeys(rows["splitter"]))
    colors = theme.color_map(splitters)
    groups = [(s, sub) for s in splitters for sub in ("id", "ood")]
    with theme.mpl_style():
        fig, ax = plt.subplots(figsize=(max(5.0, 1.6 * len(models) + 2), 4.2))
        width = 0.8 / max(1, len(groups))
        x = np.arange(len(models))
        for i, (s, sub) in enumerate(groups):
            part = rows[rows["splitter"] == s].set_index("model").reindex(models)
            mean = part[f"{sub}_mean"].to_numpy(dtype=float)
            err = np.vstack([mean - part[f"{sub}_lo"], part[f"{sub}_hi"] - mean])
            base = colors[s]
            drawn = ax.bar(
                x + (i - (len(groups) - 1) / 2) * width,
                np.nan_to_num(mean),  # an empty set: no bar, its n=0 label at the axis
                width,
                yerr=np.nan_to_num(err),
                capsize=2,
                color=base if sub == "id" else theme.lighten(base),
                hatch=theme.OOD_HATCH if sub == "ood" else None,
                edgecolor="white",
                error_kw={"ecolor": "#444444", "lw": 1},
                label=f"{s} {sub.upper()}",
            )
            if f"{sub}_n" in part:
                labels = [
                    ("n=0" if n == 0 else f"n={int(n):,}") if np.isfinite(n) else ""
                    for n in part[f"{sub}_n"]
                ]
                ax.bar_label(drawn, labels=labels, label_type="edge", padding=2, fontsize=7)
        ax.set_xticks(x, models)
        ax.set_ylim(0, 1.12)
        ax.set_ylabel("mean (95% interval)")
        if title is None:
            title = (
                findings.bars_title(table, metric, unit)
                if {"gap", "gap_lo", "gap_hi", "gap_p_adjusted"} <= set(table.columns)
                else f"{findings.metric_words(metric)}: ID vs OOD"
            )
        ax.set_title("\n".join(textwrap.wrap(title, 80)), fontsize=10)
        ax.legend(
            fontsize=8, ncols=min(4, len(groups)), loc="upper center", bbox_to_anchor=(0.5, -0.1)
        )
        fig.tight_layout()
    return fig


def gem_fit(train, test, fit, intervals, title: str):
    """Train/test score histograms, the fitted mixture density and the shaded ID intervals."""
    with theme.mpl_style():
        fig, ax = plt.subplots(figsize=(7, 4))
        both = np.concatenate([np.asarray(train, float), np.asarray(test, float)])
        top = both.max() if both.max() > both.min() else both.min() + 1
        bins = np.linspace(both.min(), top, 61)
        ax.hist(
            train,
            bins=bins,
            density=True,
            alpha=0.55,
            color=theme.TRAIN_COLOR,
            label=f"train (n={len(train)})",
        )
        if len(test):
            ax.hist(
                test,
                bins=bins,
                density=True,
                alpha=0.55,
                color=theme.TEST_COLOR,
                label=f"test (n={len(test)})",
            )
        grid = np.linspace(bins[0], bins[-1], 400)
        total = np.zeros_like(grid)
        for m, s, w in zip(fit.means, fit.stds, fit.weights, strict=True):
            s = max(float(s), 1e-12)
            total += w * np.exp(-0.5 * ((grid - m) / s) ** 2) / (s * math.sqrt(2 * math.pi))
        ax.plot(grid, total, color=theme.MIXTURE_COLOR, lw=1.2, label="mixture")
        for lo, hi in intervals:
            ax.axvspan(max(lo, bins[0]), min(hi, bins[-1]), color=theme.COMPONENT_COLOR, alpha=0.14)
        ax.set_xlabel("input score")
        ax.set_ylabel("density")
        ax.set_title(title)
        ax.legend(fontsize=8)
        fig.tight_layout()
    return fig


def scatter(points: pd.DataFrame, column: str, title: str):
    """A 2-D projection coloured by the categories of ``column`` (train points included)."""
    values = points[column].astype("string").fillna("train")
    order = sorted(values.unique(), key=lambda v: (v != "train", v))
    colors = theme.category_colors(order)
    with theme.mpl_style():
        fig, ax = plt.subplots(figsize=(6, 5))
        for value in order:
            sel = (values == value).to_numpy()
            ax.scatter(
                points["x"][sel],
                points["y"][sel],
                s=4,
                color=colors[value],
                label=f"{value} ({int(sel.sum())})",
            )
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)
        ax.set_title(title)
        ax.legend(fontsize=8, markerscale=3)
        fig.tight_layout()
    return fig
