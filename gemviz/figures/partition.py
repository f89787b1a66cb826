"""The pictures of a fitted splitter on the Score & Partition page.

Each splitter class that has something to draw registers a builder in :data:`CHARTS`; the
page shows whatever the builder returns, so it needs no branch per method. GEM draws its
mixture over the score histograms and the BIC curve of the component search.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import plotly.graph_objects as go

from gemviz.figures.charts import bic_figure, gem_fit_figure
from gemviz.splitters import GemSplitter, Splitter


@dataclass(frozen=True)
class Chart:
    """One chart and its download.

    Attributes:
        key: Widget key stem (the chart is ``<key>_chart``, its download ``dl_<key>``).
        label: What its download button says.
        filename: Name of the HTML download.
        figure: The Plotly figure.
        width: Relative column width beside the other charts.
    """

    key: str
    label: str
    filename: str
    figure: go.Figure
    width: int = 1


@dataclass(frozen=True)
class SplitterCharts:
    """A splitter's charts, side by side, and a caption under them."""

    charts: list[Chart] = field(default_factory=list)
    caption: str = ""


def _gem(splitter: GemSplitter, train: np.ndarray, test: np.ndarray | None) -> SplitterCharts:
    fit = gem_fit_figure(
        train,
        test,
        splitter.means_,
        splitter.stds_,
        splitter.weights_,
        splitter.intervals_,
    )
    k = splitter.n_components_
    return SplitterCharts(
        [
            Chart("gem_fit", "GEM fit (HTML)", "gem_fit.html", fit, 3),
            Chart("bic", "BIC curve (HTML)", "bic.html", bic_figure(splitter.bic_, k), 2),
        ],
        f"{k} component{'s' if k != 1 else ''}; ID intervals: "
        + ", ".join(f"[{a:.3f}, {b:.3f}]" for a, b in splitter.intervals_),
    )


#: Splitter class -> builder of its charts from the train and test input scores.
CHARTS: dict[type[Splitter], Callable[..., SplitterCharts]] = {GemSplitter: _gem}


def splitter_charts(
    splitter: Splitter, train_scores: np.ndarray, test_scores: np.ndarray | None
) -> SplitterCharts:
    """The charts of a fitted splitter (none for a class without a builder).

    Args:
        splitter: A fitted splitter.
        train_scores, test_scores: The input scores it was fitted on and applied to.

    Returns:
        The :class:`SplitterCharts`; empty when the class draws nothing.
    """
    build = CHARTS.get(type(splitter))
    return SplitterCharts() if build is None else build(splitter, train_scores, test_scores)
