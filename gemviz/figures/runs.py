"""The runs board: each configuration's per-run means with intervals, and mean ± sd over runs.

Like a lab log's row of accuracies per configuration, but every run's point carries its 95%
interval, and beside the points the mean over runs with a bar of ± one sd of the run means
(how much a rerun moves the number). :func:`runs_board` is the Plotly chart (page, report),
:func:`runs_board_static` its matplotlib twin (PNG downloads, ZIP, slides); both take the
frames of :func:`gemviz.analysis.runs.run_points` and :func:`~gemviz.analysis.runs.run_summary`
and use the one theme.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import plotly.graph_objects as go

from gemviz.figures import theme

# Horizontal spread of the run points around their configuration.
_WIDTH = 0.28
_SUBSET_COLORS = {"all": theme.MIXTURE_COLOR, "ID": theme.ID_COLOR, "OOD": theme.OOD_COLOR}


def _offsets(runs: int) -> np.ndarray:
    return np.linspace(-_WIDTH, _WIDTH, runs) if runs > 1 else np.zeros(1)


def _title(metric: str, subset: str, splitter: str | None) -> str:
    where = "all entries" if subset == "all" else f"{subset} of {splitter}"
    return f"{metric.replace('_', ' ')} per run ({where}): points with 95% intervals, mean ± sd"


def runs_board(
    points: pd.DataFrame, summary: pd.DataFrame, subset: str = "all", splitter: str | None = None
) -> go.Figure:
    """Per-run points (95% intervals) and the mean ± sd over runs of every configuration.

    Args:
        points: :func:`gemviz.analysis.runs.run_points` rows.
        summary: :func:`gemviz.analysis.runs.run_summary` rows.
        subset: ``"all"``, ``"ID"`` or ``"OOD"`` (the rows drawn).
        splitter: The splitter behind ``"ID"``/``"OOD"``, for the title.
    """
    pts = points[points["subset"] == subset]
    summ = summary[summary["subset"] == subset]
    models = list(dict.fromkeys(summ["model"]))
    colors = theme.color_map(models)
    metric = str(summ["metric"].iloc[0]) if len(summ) else ""
    fig = go.Figure()
    for i, model in enumerate(models):
        mine = pts[pts["model"] == model].sort_values("run")
        x = i + _offsets(len(mine))
        mean = mine["mean"].to_numpy(float)
        fig.add_scatter(
            x=x,
            y=mean,
            mode="markers",
            name=model,
            marker={"color": colors[model], "size": 8},
            error_y={
                "type": "data",
                "symmetric": False,
                "array": mine["hi"].to_numpy(float) - mean,
                "arrayminus": mean - mine["lo"].to_numpy(float),
                "color": theme.lighten(colors[model], 0.3),
                "thickness": 1.2,
            },
            customdata=np.column_stack([mine["run"], mine["n"], mine["n_clusters"]]),
            hovertemplate=f"{model} run %{{customdata[0]}}<br>%{{y:.3f}} "
            "(n=%{customdata[1]}, %{customdata[2]} clusters)<extra></extra>",
        )
        row = summ[summ["model"] == model].iloc[0]
        sd = 0.0 if not np.isfinite(row["run_sd"]) else float(row["run_sd"])
        fig.add_scatter(
            x=[i + _WIDTH + 0.18],
            y=[row["run_mean"]],
            mode="markers",
            marker={"symbol": "diamond", "size": 11, "color": colors[model],
                    "line": {"color": "#222222", "width": 1}},
            error_y={"type": "data", "array": [sd], "color": "#222222", "thickness": 2},
            showlegend=False,
            hovertemplate=f"{model}: mean over {int(row['runs'])} runs %{{y:.3f}} ± {sd:.3f} "
            "(sd)<extra></extra>",
        )  # fmt: skip
    theme.apply(
        fig,
        title=_title(metric, subset, splitter),
        xaxis={"tickmode": "array", "tickvals": list(range(len(models))), "ticktext": models},
        yaxis_title=f"{metric.replace('_', ' ')} (95% interval)",
        showlegend=False,
        margin={"t": 60, "b": 40},
    )
    return fig


def runs_board_static(
    points: pd.DataFrame, summary: pd.DataFrame, subset: str = "all", splitter: str | None = None
):
    """The matplotlib twin of :func:`runs_board` (same points, intervals and mean ± sd)."""
    pts = points[points["subset"] == subset]
    summ = summary[summary["subset"] == subset]
    models = list(dict.fromkeys(summ["model"]))
    colors = theme.color_map(models)
    metric = str(summ["metric"].iloc[0]) if len(summ) else ""
    with theme.mpl_style():
        fig, ax = plt.subplots(figsize=(max(5.0, 1.5 * len(models) + 2), 4.2))
        for i, model in enumerate(models):
            mine = pts[pts["model"] == model].sort_values("run")
            x = i + _offsets(len(mine))
            mean = mine["mean"].to_numpy(float)
            err = np.vstack([mean - mine["lo"].to_numpy(float), mine["hi"].to_numpy(float) - mean])
            ax.errorbar(x, mean, yerr=err, fmt="o", color=colors[model], ms=5,
                        ecolor=theme.lighten(colors[model], 0.3), elinewidth=1.2)  # fmt: skip
            row = summ[summ["model"] == model].iloc[0]
            sd = 0.0 if not np.isfinite(row["run_sd"]) else float(row["run_sd"])
            ax.errorbar([i + _WIDTH + 0.18], [row["run_mean"]], yerr=[sd], fmt="D",
                        color=colors[model], mec="#222222", ms=7, ecolor="#222222",
                        elinewidth=2, capsize=3)  # fmt: skip
        ax.set_xticks(range(len(models)), models)
        ax.set_ylabel(f"{metric.replace('_', ' ')} (95% interval)")
        ax.set_title(_title(metric, subset, splitter), fontsize=9)
        fig.tight_layout()
    return fig
