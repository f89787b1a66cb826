"""Training-set coverage charts: the decisive comparison and the map of one set and the test set.

:func:`gain_chart` (Plotly: page, report) and :func:`gain_chart_static` (matplotlib: slides,
PNG) draw :func:`gemviz.analysis.training_sets.gain_rows`: one panel per training set, one row
per configuration, each configuration's gain over the baseline on the entries the set covers
(filled dot) and on those it does not (hollow dot), each with its 95% interval; the baseline is
the line at 0. :func:`coverage_map` draws :func:`gemviz.analysis.training_sets.map_points`
(test entries carry their id in ``customdata``, so a click selects one; training examples
carry none). One theme throughout.
"""

from __future__ import annotations

import html

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from gemviz.figures import theme

#: Subset -> (colour, filled, vertical offset within the configuration's row).
_SUBSETS = {
    "covered": (theme.ID_COLOR, True, -0.17),
    "not covered": (theme.OOD_COLOR, False, 0.17),
}
#: Height of one configuration's row, in pixels (Plotly) and inches (matplotlib).
ROW_PX = 46
ROW_IN = 0.26
_KINDS = {
    "training example": (theme.MUTED_COLOR, 5, "circle"),
    "test: covered": (theme.ID_COLOR, 8, "circle"),
    "test: not covered": (theme.OOD_COLOR, 8, "x"),
}


def _models(gains: pd.DataFrame) -> list[str]:
    return list(dict.fromkeys(gains["model"]))


def _panel_title(gains: pd.DataFrame, name: str) -> str:
    """``set-14k: 50 covered, 150 not`` (the entries behind each dot of the panel)."""
    part = gains[gains["train_set"] == name]
    n = {s: int(part.loc[part["subset"] == s, "n"].iloc[0]) for s in _SUBSETS
         if (part["subset"] == s).any()}  # fmt: skip
    return f"{name}: {n.get('covered', 0)} covered, {n.get('not covered', 0)} not"


def gain_chart(gains: pd.DataFrame, baseline: str, metric: str, title: str = "") -> go.Figure:
    """The decisive comparison as dots with 95% intervals (see the module notes)."""
    sets = list(dict.fromkeys(gains["train_set"]))
    models = _models(gains)
    fig = make_subplots(rows=1, cols=max(1, len(sets)), shared_yaxes=True,
                        subplot_titles=[_panel_title(gains, s) for s in sets],
                        horizontal_spacing=0.04)  # fmt: skip
    y_of = {m: i for i, m in enumerate(models)}
    for c, name in enumerate(sets, start=1):
        for subset, (col, filled, dy) in _SUBSETS.items():
            part = gains[(gains["train_set"] == name) & (gains["subset"] == subset)]
            if part.empty:
                continue
            g, lo, hi = (part[k].to_numpy(float) for k in ("gain", "lo", "hi"))
            n = int(part["n"].iloc[0])
            fig.add_scatter(
                x=g, y=[y_of[m] + dy for m in part["model"]], mode="markers", row=1, col=c,
                name=f"{subset} entries",
                legendgroup=subset, showlegend=c == 1,
                marker={"color": col if filled else "white", "size": 9,
                        "line": {"color": col, "width": 2}},
                error_x={"type": "data", "symmetric": False, "array": hi - g,
                         "arrayminus": g - lo, "color": col, "thickness": 1.5, "width": 0},
                customdata=np.column_stack([part["model"], lo, hi, np.full(len(part), n)]),
                hovertemplate=f"%{{customdata[0]}} · {name} · {subset} (n=%{{customdata[3]}})"
                "<br>gain %{x:+.3f} [%{customdata[1]:+.3f}, %{customdata[2]:+.3f}]<extra></extra>",
            )  # fmt: skip
        fig.add_vline(x=0, line={"color": theme.MIXTURE_COLOR, "width": 1.2}, row=1, col=c)
        fig.update_xaxes(title_text=f"gain over {baseline}", row=1, col=c, zeroline=False)
    fig.update_yaxes(tickvals=list(range(len(models))), ticktext=models, autorange="reversed",
                     range=[len(models) - 0.5, -0.5])  # fmt: skip
    return theme.apply(
        fig,
        title=title or f"{metric.replace('_', ' ')}: gain over {baseline}, covered vs not",
        height=200 + ROW_PX * max(len(models), 4),
        legend={"orientation": "h", "y": -0.12 - 2.0 / max(len(models), 4), "x": 0},
        margin={"l": 20, "r": 20, "t": 90, "b": 70},
    )


def gain_chart_static(
    gains: pd.DataFrame, baseline: str, size: tuple[float, float] | None = None, font: float = 11
):
    """The matplotlib twin of :func:`gain_chart` (no title: a slide's title is the finding)."""
    sets = list(dict.fromkeys(gains["train_set"]))
    models = _models(gains)
    width, height = size or (11.0, 1.2 + ROW_IN * len(models))
    with theme.mpl_style():
        # Constrained: the figure is exactly ``size`` with its text inside (slides keep points).
        fig, axes = plt.subplots(1, max(1, len(sets)), sharey=True, figsize=(width, height),
                                 squeeze=False, layout="constrained")  # fmt: skip
        for ax, name in zip(axes[0], sets, strict=False):
            _static_panel(ax, gains[gains["train_set"] == name], models, font)
            ax.set_title(_panel_title(gains, name), fontsize=font + 1)
            ax.set_xlabel(f"gain over {baseline}", fontsize=font)
        axes[0][0].set_yticks(range(len(models)), models, fontsize=font)
        axes[0][0].set_ylim(len(models) - 0.5, -0.5)
        handles = [
            plt.Line2D([], [], marker="o", linestyle="", markersize=7, color=col,
                       markerfacecolor=col if filled else "white", markeredgewidth=1.6,
                       label=f"{subset} entries")
            for subset, (col, filled, _) in _SUBSETS.items()
        ]  # fmt: skip
        fig.legend(handles=handles, loc="outside lower left", ncol=2, fontsize=font,
                   frameon=False)  # fmt: skip
    return fig


def _static_panel(ax, part: pd.DataFrame, models: list[str], font: float) -> None:
    y_of = {m: i for i, m in enumerate(models)}
    for subset, (col, filled, dy) in _SUBSETS.items():
        rows = part[part["subset"] == subset]
        if rows.empty:
            continue
        y = np.array([y_of[m] + dy for m in rows["model"]])
        g, lo, hi = (rows[k].to_numpy(float) for k in ("gain", "lo", "hi"))
        ax.errorbar(g, y, xerr=[g - lo, hi - g], fmt="o", color=col, ecolor=col,
                    markerfacecolor=col if filled else "white", markeredgewidth=1.6,
                    markersize=6, elinewidth=1.4, capsize=0)  # fmt: skip
    ax.axvline(0, color=theme.MIXTURE_COLOR, linewidth=1.1)
    ax.tick_params(labelsize=font)


def coverage_map(points: pd.DataFrame, title: str) -> go.Figure:
    """One training set's examples and the test entries on a 2-D map (PCA), covered marked."""
    fig = go.Figure()
    for kind, (col, size, symbol) in _KINDS.items():
        part = points[points["kind"] == kind]
        if part.empty:
            continue
        test = kind != "training example"
        fig.add_scatter(
            x=part["x"], y=part["y"], mode="markers", name=f"{kind} ({len(part):,})",
            marker={"color": col, "size": size, "symbol": symbol,
                    "opacity": 0.9 if test else 0.5},
            text=[html.escape(str(t)[:160]) for t in part["text"]],
            customdata=part["id"] if test else None,
            hovertemplate=("%{customdata}<br>" if test else "") + "%{text}<extra></extra>",
        )  # fmt: skip
    return theme.apply(
        fig,
        title=title,
        height=520,
        xaxis_title="first principal component",
        yaxis_title="second principal component",
        legend={"orientation": "h", "y": -0.15, "x": 0},
    )
