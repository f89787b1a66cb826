"""The runs board: configurations ranked by their mean over runs, each with its runs beside it.

One row per configuration, best at the top: a large dot at the run-averaged mean with its 95%
interval (in percent, clipped to [0, 100]), and every run's own mean as a small point on the
same row, so the spread over reruns is seen next to the interval. The baseline (from the
configuration table) is a dashed reference line across all rows. Every configuration keeps its own colour
and marker (up to 30 told apart, :func:`gemviz.figures.theme.color`), or takes the colour of
an attribute's value (``color_by``, e.g. the method) with a marker of its own within it; rows
can be grouped by another attribute (``group_by``, e.g. the training set). n is said once,
in the title, since every configuration is scored on the same steps.

:func:`runs_board` is the Plotly chart (page, report), :func:`runs_board_static` its
matplotlib twin (PNG downloads, ZIP, slides), which writes each row's numbers in a column
beside the plot instead of over the points. Both take the frames of
:func:`gemviz.analysis.runs.run_points` and :func:`~gemviz.analysis.runs.run_summary`, and
optionally :func:`gemviz.workspace.configs.configurations`' table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from gemviz.figures import theme
from gemviz.figures.forest import padded, row_axes, write_column

NO_VALUE = "(not set)"
BASELINE_COLOR = "#555555"
# Vertical spread of a row's run points around its line.
_JITTER = 0.22
_ROW_PX = 30


@dataclass
class Board:
    """The rows of a runs board, in drawing order (top first), with their styles.

    Attributes:
        rows: One summary row per configuration, with ``group``, ``color_value``, ``color``,
            ``marker``, ``lo_clip``, ``hi_clip`` added.
        points: The run points of those configurations.
        baseline: The baseline configuration shown, or None.
        metric: The metric's name.
        where: ``"all entries"`` or ``"ID of <splitter>"``.
        n_text: n (and clusters) said once for the set.
        group_by: The attribute grouping the rows, or None.
    """

    rows: pd.DataFrame
    points: pd.DataFrame
    baseline: str | None
    metric: str
    where: str
    n_text: str
    group_by: str | None = None


def _attr(configs: pd.DataFrame | None, models: list[str], field: str | None) -> list[str]:
    if not field or configs is None or field not in configs:
        return [""] * len(models)
    values = configs.set_index("model")[field].reindex(models)
    return [NO_VALUE if pd.isna(v) or str(v) == "" else str(v) for v in values]


def _order(rows: pd.DataFrame, order: str, table_order: list[str]) -> pd.DataFrame:
    if order == "table":
        rank = {m: i for i, m in enumerate(table_order)}
        rows = rows.assign(_key=[rank.get(m, len(rank)) for m in rows["model"]])
        rows = rows.sort_values("_key", kind="stable")
    else:
        rows = rows.sort_values("mean", ascending=False, kind="stable")
    if rows["group"].ne("").any():
        # Groups in the order of their best row, rows ranked within each.
        first = {g: i for i, g in enumerate(dict.fromkeys(rows["group"]))}
        rows = rows.assign(_g=[first[g] for g in rows["group"]]).sort_values("_g", kind="stable")
    return rows.drop(columns=[c for c in ("_key", "_g") if c in rows]).reset_index(drop=True)


def _styles(rows: pd.DataFrame, color_by: str | None, all_models: list[str]) -> pd.DataFrame:
    if color_by:
        colors = theme.category_colors(sorted(dict.fromkeys(rows["color_value"])))
        within: dict[str, int] = {}
        marks = []
        for value in rows["color_value"]:
            k = within.get(value, 0)
            within[value] = k + 1
            marks.append(theme.MARKERS[k % len(theme.MARKERS)])
        return rows.assign(
            color=[colors[v] for v in rows["color_value"]], marker=marks
        )  # fmt: skip
    index = {m: i for i, m in enumerate(all_models)}
    return rows.assign(
        color=[theme.color(index[m]) for m in rows["model"]],
        marker=[theme.marker(index[m]) for m in rows["model"]],
    )


def board_rows(
    points: pd.DataFrame,
    summary: pd.DataFrame,
    subset: str = "all",
    splitter: str | None = None,
    configs: pd.DataFrame | None = None,
    color_by: str | None = None,
    group_by: str | None = None,
    order: str = "mean",
) -> Board:
    """What :func:`runs_board` and its twin draw: rows ranked, grouped and styled.

    Args:
        points, summary: :func:`gemviz.analysis.runs.run_points` / ``run_summary`` rows.
        subset: ``"all"``, ``"ID"`` or ``"OOD"``.
        splitter: The splitter behind ``"ID"``/``"OOD"``, for the title.
        configs: The configuration table (baseline, attributes), or None.
        color_by: An attribute whose values colour the rows (None: a colour per row).
        group_by: An attribute whose values group the rows.
        order: ``"mean"`` (best first) or ``"table"`` (the configuration table's order).
    """
    summ = summary[summary["subset"] == subset].reset_index(drop=True)
    models = list(dict.fromkeys(summ["model"]))
    table_order = list(configs["model"]) if configs is not None else models
    rows = summ.assign(
        group=_attr(configs, models, group_by), color_value=_attr(configs, models, color_by)
    )
    rows = _styles(_order(rows, order, table_order), color_by, models)
    rows = rows.assign(
        lo_clip=rows["lo"].clip(0.0, 1.0), hi_clip=rows["hi"].clip(0.0, 1.0)
    )  # fmt: skip
    baseline = None
    if configs is not None and "baseline" in configs:
        marked = [m for m in configs.loc[configs["baseline"].astype(bool), "model"] if m in models]
        baseline = marked[0] if marked else None
    metric = str(summ["metric"].iloc[0]) if len(summ) else ""
    n_text = ""
    if len(summ):
        n, k = int(summ["n"].iloc[0]), int(summ["n_clusters"].iloc[0])
        n_text = f"n = {n:,} steps" + (f", {k:,} clusters" if 0 < k < n else "") + " each"
    where = "all entries" if subset == "all" else f"{subset} of {splitter}"
    pts = points[(points["subset"] == subset) & points["model"].isin(models)]
    return Board(rows, pts, baseline, metric, where, n_text, group_by)


#: Columns of a board's rows and points drawn in percent (their sds in points).
_SHARES = ("mean", "lo", "hi", "lo_clip", "hi_clip", "run_mean", "run_sd", "run_min", "run_max")


def in_percent(board: Board) -> Board:
    """The board with every mean, interval and sd times 100: both charts draw percent (the
    runs' spread in points), as the runs view's titles say them."""
    rows = board.rows.assign(**{c: 100 * board.rows[c] for c in _SHARES if c in board.rows})
    points = board.points.assign(
        **{c: 100 * board.points[c] for c in ("mean", "lo", "hi") if c in board.points}
    )
    return Board(rows, points, board.baseline, board.metric, board.where, board.n_text,
                 board.group_by)  # fmt: skip


def _xlabel(board: Board) -> str:
    return f"{board.metric.replace('_', ' ')}, % (95% interval, clipped to [0, 100])"


def _title(board: Board, sep: str = "; ") -> str:
    return (
        f"{board.metric.replace('_', ' ')} per configuration ({board.where}); {board.n_text}"
        f"{sep}dot: mean over runs with 95% interval; small points: each run"
        + ("; dashed: the baseline" if board.baseline else "")
    )


def _legend_name(row) -> str:
    shown = row.color_value and row.color_value != NO_VALUE
    return f"{row.model} ({row.color_value})" if shown else str(row.model)


def runs_board(
    points: pd.DataFrame,
    summary: pd.DataFrame,
    subset: str = "all",
    splitter: str | None = None,
    configs: pd.DataFrame | None = None,
    color_by: str | None = None,
    group_by: str | None = None,
    order: str = "mean",
) -> go.Figure:
    """The runs board as a ranked dot-and-interval chart (arguments as :func:`board_rows`).

    Values are on hover: each run's mean, n and clusters; each configuration's mean over
    runs, its interval and the sd of its run means.
    """
    board = in_percent(
        board_rows(points, summary, subset, splitter, configs, color_by, group_by, order)
    )
    rows, fig = board.rows, go.Figure()
    y_of = {m: -i for i, m in enumerate(rows["model"])}
    for row in rows.itertuples():
        mine = board.points[board.points["model"] == row.model].sort_values("run")
        k = len(mine)
        jitter = np.linspace(-_JITTER, _JITTER, k) if k > 1 else np.zeros(k)
        fig.add_scatter(
            x=mine["mean"], y=y_of[row.model] + jitter, mode="markers", legendgroup=row.model,
            showlegend=False, opacity=0.55,
            marker={"color": row.color, "size": 6, "symbol": row.marker},
            customdata=np.column_stack([mine["run"], mine["n"], mine["lo"], mine["hi"]]),
            hovertemplate=f"{row.model} run %{{customdata[0]}}: %{{x:.1f}}% "
            "[%{customdata[2]:.1f}, %{customdata[3]:.1f}] (n=%{customdata[1]})<extra></extra>",
        )  # fmt: skip
        sd = float(row.run_sd) if np.isfinite(row.run_sd) else 0.0
        fig.add_scatter(
            x=[row.mean], y=[y_of[row.model]], mode="markers", name=_legend_name(row),
            legendgroup=row.model,
            marker={"color": row.color, "size": 12, "symbol": row.marker,
                    "line": {"color": "#222222", "width": 1}},
            error_x={"type": "data", "symmetric": False, "array": [row.hi_clip - row.mean],
                     "arrayminus": [row.mean - row.lo_clip], "color": row.color,
                     "thickness": 2.5, "width": 0},
            hovertemplate=f"{row.model}: %{{x:.1f}}% [{row.lo_clip:.1f}, {row.hi_clip:.1f}] "
            f"over {int(row.runs)} runs (sd of run means {sd:.1f} points)<extra></extra>",
        )  # fmt: skip
    _reference(fig, board)
    _group_bands(fig, rows, y_of, board.group_by)
    theme.apply(
        fig,
        title={"text": _title(board, "<br>"), "font": {"size": 14}},
        yaxis={"tickmode": "array", "tickvals": list(y_of.values()), "ticktext": list(y_of),
               "showgrid": False, "zeroline": False, "range": [-len(rows) + 0.4, 0.6]},
        xaxis_title=_xlabel(board),
        height=max(360, 120 + _ROW_PX * len(rows)),
        legend={"traceorder": "normal", "font": {"size": 12}},
        margin={"t": 90, "b": 50, "l": 20, "r": 20},
    )  # fmt: skip
    return fig


def _reference(fig: go.Figure, board: Board) -> None:
    if board.baseline is None:
        return
    value = float(board.rows.set_index("model").loc[board.baseline, "mean"])
    fig.add_vline(
        x=value, line={"color": BASELINE_COLOR, "dash": "dash", "width": 1.5},
        annotation={"text": f"{board.baseline} (baseline) {value:.1f}%", "font": {"size": 12},
                    "yanchor": "bottom"},
        annotation_position="top",
    )  # fmt: skip


def _group_bands(
    fig: go.Figure, rows: pd.DataFrame, y_of: dict[str, int], group_by: str | None
) -> None:
    groups = list(dict.fromkeys(rows["group"]))
    if groups == [""]:
        return
    for i, group in enumerate(groups):
        ys = [y_of[m] for m in rows.loc[rows["group"] == group, "model"]]
        if i % 2 == 0:
            fig.add_hrect(y0=min(ys) - 0.5, y1=max(ys) + 0.5, fillcolor="#F2F2F2",
                          line_width=0, layer="below")  # fmt: skip
        fig.add_annotation(
            x=1.0, xref="paper", xanchor="right", y=max(ys) + 0.35, yanchor="top",
            text=f"<b>{group_by}: {group}</b>", showarrow=False, font={"size": 12, "color": "#444444"},
        )  # fmt: skip


def runs_board_static(
    points: pd.DataFrame,
    summary: pd.DataFrame,
    subset: str = "all",
    splitter: str | None = None,
    configs: pd.DataFrame | None = None,
    color_by: str | None = None,
    group_by: str | None = None,
    order: str = "mean",
    size: tuple[float, float] | None = None,
    font: float = 11.0,
    title: bool = True,
    models: Sequence[str] | None = None,
):
    """The matplotlib twin of :func:`runs_board`; each row's mean [interval] and the sd of its
    runs (in points) are written in a column right of the plot, never over the points, and
    each group of rows opens with its own heading row.

    ``size`` (inches; the figure is exactly this size, its text included) and ``font`` (points
    of the row labels, axis title and legend; numbers one point smaller) fit it to a slide;
    the default grows a row at a time. ``title=False`` leaves the title to the slide (n then
    goes under the axis). ``models`` draws only those rows (a part of the board split over
    slides), with the whole board's legend, baseline and value range.
    """
    board = in_percent(
        board_rows(points, summary, subset, splitter, configs, color_by, group_by, order)
    )
    rows = board.rows if models is None else board.rows[board.rows["model"].isin(models)]
    y_of, heads = _row_positions(rows)
    table = [_row_numbers(r) for r in rows.itertuples()]
    with theme.mpl_style():
        height = max(3.2, 1.4 + 0.34 * (len(rows) + len(heads)))
        fig, ax, column = row_axes(size or (10.0, height), font, table, _HEAD)
        for row in rows.itertuples():
            mark = theme.MPL_MARKERS[row.marker]
            mine = board.points[board.points["model"] == row.model].sort_values("run")
            k = len(mine)
            jitter = np.linspace(-_JITTER, _JITTER, k) if k > 1 else np.zeros(k)
            ax.scatter(mine["mean"], y_of[row.model] + jitter, s=font * 1.6, color=row.color,
                       marker=mark, alpha=0.55, linewidths=0)  # fmt: skip
            ax.errorbar([row.mean], [y_of[row.model]],
                        xerr=[[row.mean - row.lo_clip], [row.hi_clip - row.mean]],
                        fmt=mark, color=row.color, ms=font * 0.7, mec="#222222", mew=0.8,
                        elinewidth=2.2)  # fmt: skip
        _static_extras(ax, board, rows, y_of, heads)
        named = {y: f"{board.group_by}: {g}" for y, g in heads.items()}
        ticks = dict(sorted({**named, **{y: m for m, y in y_of.items()}}.items(), reverse=True))
        ax.set_yticks(list(ticks), list(ticks.values()), fontsize=font)
        for y, label in zip(ticks, ax.get_yticklabels(), strict=True):
            label.set_fontweight("bold" if y in heads else "normal")
        ax.tick_params(axis="x", labelsize=font - 1)
        ax.xaxis.set_major_locator(MaxNLocator(6))
        if models is not None:
            ax.set_xlim(*board_xlim(board))
        ax.set_ylim(min(ticks) - 0.6, 0.6)
        ax.grid(axis="y", visible=False)
        xlabel = _xlabel(board)
        ax.set_xlabel(xlabel if title else f"{xlabel}; {board.n_text}", fontsize=font)
        if title:
            ax.set_title(_title(board, "\n"), fontsize=font, pad=font * 1.8)
        write_column(column, [y_of[m] for m in rows["model"]], table, _HEAD, font - 1)
        handles = _static_legend(board, color_by)
        if handles:
            fig.legend(handles=handles, loc="outside lower center", fontsize=font,
                       ncol=min(5, len(handles)), frameon=False)  # fmt: skip
        return fig


# Over the numbers column: the sd starts where the row's sd does.
_HEAD = f"{'mean % [95%]':<20}sd pts (runs)"


def _row_numbers(row) -> str:
    """A row's mean and interval in percent and its runs' sd in points (the board is
    :func:`in_percent`)."""
    sd = f"{row.run_sd:4.1f}" if np.isfinite(row.run_sd) else "   –"
    return f"{row.mean:4.1f} [{row.lo_clip:4.1f}, {row.hi_clip:4.1f}]  {sd} ({int(row.runs)})"


def _row_positions(rows: pd.DataFrame) -> tuple[dict[str, int], dict[int, str]]:
    """Each configuration's y (top row 0, downwards) and, when rows are grouped, each group's
    heading row's y and text."""
    y_of, heads, y = {}, {}, 0
    for group in dict.fromkeys(rows["group"]):
        if group:
            heads[y] = str(group)
            y -= 1
        for model in rows.loc[rows["group"] == group, "model"]:
            y_of[model] = y
            y -= 1
    return y_of, heads


def _static_legend(board: Board, color_by: str | None) -> list:
    rows, handles = board.rows, []
    if color_by:
        colours = dict(zip(rows["color_value"], rows["color"], strict=True))
        handles = [Line2D([], [], color=c, marker="o", ls="",
                          label=f"{color_by.replace('_', ' ')}: {v}")
                   for v, c in colours.items()]  # fmt: skip
    if board.baseline is not None:
        value = float(rows.set_index("model").loc[board.baseline, "mean"])
        handles.append(Line2D([], [], color=BASELINE_COLOR, ls="--",
                              label=f"{board.baseline} (baseline) {value:.1f}%"))  # fmt: skip
    return handles


def board_xlim(board: Board) -> tuple[float, float]:
    """The value range of the whole board: every interval (clipped), run and the baseline."""
    values = pd.concat([board.rows["lo_clip"], board.rows["hi_clip"], board.points["mean"]])
    values = values[np.isfinite(values.astype(float))]
    return padded(float(values.min()), float(values.max())) if len(values) else (0.0, 100.0)


def _static_extras(
    ax, board: Board, rows: pd.DataFrame, y_of: dict[str, int], heads: dict[int, str]
) -> None:
    """The baseline line and a band behind every other group (its heading row included)."""
    if board.baseline is not None:
        value = float(board.rows.set_index("model").loc[board.baseline, "mean"])
        ax.axvline(value, color=BASELINE_COLOR, ls="--", lw=1.2)
    for i, (top, group) in enumerate(heads.items()):
        if i % 2 == 0:
            ys = [y_of[m] for m in rows.loc[rows["group"].astype(str) == group, "model"]]
            ax.axhspan(min(ys) - 0.5, top + 0.5, color="#F2F2F2", zorder=0)
