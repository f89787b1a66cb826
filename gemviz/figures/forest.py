"""Dot-and-interval charts with one row per configuration, for studies of many configurations.

A column chart of 18 configurations x 2 sets prints its names and values over each other; a
row per configuration never does. :func:`forest_static` draws one or more series as dots with
95% intervals on shared rows (top first), a reference line (the baseline, or 0 for a
difference), and each row's numbers in a column right of the plot instead of over the dots.
:func:`forest` is the Plotly twin (values on hover). Both use the one theme; slides place
the static version as a picture sized to the slide's body (``size``, ``font``).
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import plotly.graph_objects as go
from matplotlib.ticker import MaxNLocator

from gemviz.figures import theme

REFERENCE_COLOR = "#555555"


@dataclass
class Series:
    """One series of dots: a value and 95% bounds per row (NaN: no dot).

    Attributes:
        name: Legend entry (says n once for the whole series, e.g. ``"ID (n=120)"``).
        values, lo, hi: One per row.
        color: Dot colour.
        marker: A :data:`gemviz.figures.theme.MARKERS` symbol.
        hollow: Draw open dots (the OOD twin of an ID series).
    """

    name: str
    values: Sequence[float]
    lo: Sequence[float]
    hi: Sequence[float]
    color: str = theme.ID_COLOR
    marker: str = "circle"
    hollow: bool = False


@dataclass
class Forest:
    """What a forest chart shows.

    Attributes:
        labels: Row labels, top first.
        series: The series drawn on every row (offset a little when several).
        title: The chart's title (may hold a line break).
        xlabel: The value axis's title.
        reference: x of the dashed reference line, or None.
        reference_label: Its label.
        clip: Bounds the intervals are clipped to (e.g. ``(0, 1)`` for a share), or None.
        table: Text per row for the column right of the plot (empty: no column).
        table_head: The column's heading.
        xlim: The value axis's range, or None to fit the rows (parts of one chart split over
            slides share the whole chart's range, :func:`forest_part`).
    """

    labels: Sequence[str]
    series: Sequence[Series]
    title: str = ""
    xlabel: str = ""
    reference: float | None = None
    reference_label: str = ""
    clip: tuple[float, float] | None = None
    table: Sequence[str] = field(default_factory=tuple)
    table_head: str = ""
    xlim: tuple[float, float] | None = None


def _bounds(s: Series, clip) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    v, lo, hi = (np.asarray(x, dtype=float) for x in (s.values, s.lo, s.hi))
    if clip is not None:
        lo, hi = np.clip(lo, *clip), np.clip(hi, *clip)
    return v, lo, hi


def _offsets(k: int) -> np.ndarray:
    # The first series on top of its row, as the legend lists it first.
    return np.linspace(0.17, -0.17, k) if k > 1 else np.zeros(1)


def padded(low: float, high: float) -> tuple[float, float]:
    """An axis range holding ``low`` to ``high`` with a little room on either side."""
    pad = 0.04 * (high - low) if high > low else 0.05
    return low - pad, high + pad


def forest_xlim(spec: Forest) -> tuple[float, float]:
    """The value range the whole chart draws: every interval (clipped) and the reference."""
    ends = [x for s in spec.series for x in _bounds(s, spec.clip)[1:]]
    values = np.concatenate([np.ravel(e) for e in ends]) if ends else np.zeros(0)
    values = values[np.isfinite(values)]
    if spec.reference is not None:
        values = np.append(values, spec.reference)
    if not len(values):
        return (0.0, 1.0)
    return padded(float(values.min()), float(values.max()))


def forest_part(spec: Forest, start: int, stop: int) -> Forest:
    """Rows ``start`` to ``stop`` of ``spec`` (same series, legend, reference and value
    range as the whole chart), for a chart split over slides."""
    cut = slice(start, stop)
    series = [replace(s, values=np.asarray(s.values, float)[cut], lo=np.asarray(s.lo, float)[cut],
                      hi=np.asarray(s.hi, float)[cut]) for s in spec.series]  # fmt: skip
    return replace(spec, labels=list(spec.labels)[cut], series=series,
                   table=list(spec.table)[cut], xlim=spec.xlim or forest_xlim(spec))  # fmt: skip


def row_axes(size: tuple[float, float], font: float, table: Sequence[str] = (), head: str = ""):
    """A figure of exactly ``size`` inches with the rows' axes and, when ``table`` has text, a
    column right of them for each row's numbers (sharing the rows' y).

    The layout is constrained: labels, titles, the column and a legend placed ``"outside"``
    all stay inside the figure, so a picture of it placed at ``size`` keeps ``font`` as is.
    """
    fig = plt.figure(figsize=size, layout="constrained")
    fig.get_layout_engine().set(w_pad=0.04, h_pad=0.04, wspace=0.0)
    if not table:
        return fig, fig.add_subplot(), None
    chars = max(len(t) for t in [*table, head])
    width = min(size[0] / 2, chars * font * 0.62 / 72 + 0.1)
    grid = fig.add_gridspec(1, 2, width_ratios=[size[0] - width, width])
    ax = fig.add_subplot(grid[0, 0])
    column = fig.add_subplot(grid[0, 1], sharey=ax)
    column.axis("off")
    return fig, ax, column


def write_column(column, ys, table: Sequence[str], head: str, font: float) -> None:
    """Each row's numbers, left-aligned at its height, under ``head``."""
    column.text(0, 0.6, head, fontsize=font, color="#444444", va="bottom", family="monospace")
    for y, text in zip(ys, table, strict=True):
        column.text(0, y, text, fontsize=font, va="center", family="monospace")


def forest_static(spec: Forest, size: tuple[float, float] | None = None, font: float = 9.0):
    """The forest chart in matplotlib.

    Args:
        spec: What to draw.
        size: Figure size in inches (default: 10 wide, a row per 0.34 in); the figure is
            exactly this size, its text included.
        font: Size of the row labels, axis title, legend and numbers column (tick numbers
            one point smaller).
    """
    n = len(spec.labels)
    size = size or (10.0, max(3.0, 1.5 + 0.34 * n))
    ys = -np.arange(n, dtype=float)
    with theme.mpl_style():
        fig, ax, column = row_axes(size, font, spec.table, spec.table_head)
        for s, dy in zip(spec.series, _offsets(len(spec.series)), strict=True):
            v, lo, hi = _bounds(s, spec.clip)
            ok = np.isfinite(v)
            mark = theme.MPL_MARKERS[s.marker]
            ax.errorbar(v[ok], ys[ok] + dy, xerr=[v[ok] - lo[ok], hi[ok] - v[ok]], fmt=mark,
                        color=s.color, mfc="white" if s.hollow else s.color, mec=s.color,
                        ms=font * 0.7, elinewidth=2, capsize=0, label=s.name)  # fmt: skip
        if spec.reference is not None:
            # Named in the legend, never written over the rows.
            ax.axvline(spec.reference, color=REFERENCE_COLOR, ls="--", lw=1.2,
                       label=spec.reference_label or None)  # fmt: skip
        ax.set_yticks(ys, list(spec.labels), fontsize=font)
        ax.tick_params(axis="x", labelsize=font - 1)
        ax.xaxis.set_major_locator(MaxNLocator(6))
        if spec.xlim is not None:
            ax.set_xlim(*spec.xlim)
        ax.set_ylim(ys[-1] - 0.6, 0.6)
        ax.grid(axis="y", visible=False)
        ax.set_xlabel(spec.xlabel, fontsize=font)
        if spec.title:
            # Wrapped to the figure's width (about 0.55 em a character).
            title = textwrap.fill(spec.title, int(size[0] * 72 / (font * 0.55)))
            ax.set_title(title, fontsize=font, pad=font * 1.8 if column else font * 0.6)
        if column is not None:
            write_column(column, ys, spec.table, spec.table_head, font - 1)
        handles, names = ax.get_legend_handles_labels()
        if handles:
            fig.legend(handles, names, loc="outside lower center", ncol=len(handles),
                       fontsize=font, frameon=False)  # fmt: skip
    return fig


def forest(spec: Forest) -> go.Figure:
    """The forest chart in Plotly (values and intervals on hover)."""
    n = len(spec.labels)
    ys = -np.arange(n, dtype=float)
    fig = go.Figure()
    for s, dy in zip(spec.series, _offsets(len(spec.series)), strict=True):
        v, lo, hi = _bounds(s, spec.clip)
        fig.add_scatter(
            x=v, y=ys + dy, mode="markers", name=s.name,
            marker={"color": "white" if s.hollow else s.color, "size": 10, "symbol": s.marker,
                    "line": {"color": s.color, "width": 2}},
            error_x={"type": "data", "symmetric": False, "array": hi - v, "arrayminus": v - lo,
                     "color": s.color, "thickness": 2, "width": 0},
            customdata=np.column_stack([lo, hi]), text=list(spec.labels),
            hovertemplate="%{text}: %{x:.3f} [%{customdata[0]:.3f}, %{customdata[1]:.3f}]"
            f"<extra>{s.name}</extra>",
        )  # fmt: skip
    if spec.reference is not None:
        fig.add_vline(x=spec.reference, line={"color": REFERENCE_COLOR, "dash": "dash"},
                      annotation={"text": spec.reference_label}, annotation_position="top")  # fmt: skip
    theme.apply(
        fig,
        title={"text": spec.title.replace("\n", "<br>"), "font": {"size": 14}},
        yaxis={"tickmode": "array", "tickvals": list(ys), "ticktext": list(spec.labels),
               "showgrid": False, "zeroline": False,
               "range": [ys[-1] - 0.6, 0.6] if n else None},
        xaxis_title=spec.xlabel, height=max(320, 140 + 28 * n),
        margin={"t": 80, "b": 50, "l": 20, "r": 20},
    )  # fmt: skip
    return fig
