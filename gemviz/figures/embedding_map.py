"""Showing a UMAP projection: points joined with the sample table, colour options, the figure.

The computation lives in :mod:`gemviz.analysis.projection`; this module turns a
:class:`~gemviz.analysis.projection.Projection` into what the Embeddings page and the report draw.
Sample ids travel with every point (plotly ``customdata``), so a box or lasso selection maps
back to steps whatever the colouring.

Large maps: the browser draws at most :data:`DISPLAY_LIMIT` points (WebGL, a seeded sample of
the rest; :func:`display_points`), while a box or lasso selects among *all* points: the
selection's shape is applied to the full table on the server (:func:`selection_ids`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from matplotlib.path import Path

from gemviz.analysis import samples
from gemviz.analysis.projection import TEST, TRAIN, Projection
from gemviz.figures import theme

TRAIN_VS_TEST = "train vs test"
DISAGREEMENT = "disagreement between splitters"
TRAIN_OPACITY = 0.45
# Points sent to the browser at most: beyond this the page's payload (ids, hover text) slows
# every rerun more than more dots help the picture.
DISPLAY_LIMIT = 50_000


def points_frame(projection: Projection, table) -> pd.DataFrame:
    """The projected points joined with the Samples table (test points) by sample id.

    Args:
        projection: A :class:`Projection`.
        table: A :func:`gemviz.analysis.samples.sample_table` frame of the same workspace.

    Returns:
        Columns ``id``, ``x``, ``y``, ``split`` then the table's columns; train points have
        empty labels and matches (they are not test steps).
    """
    pts = projection.frame()
    test = pts["split"] == TEST
    joined = pts.loc[test].merge(table, on="id", how="left", validate="many_to_one")
    return pd.concat([joined, pts.loc[~test]], ignore_index=True)


def colour_options(points: pd.DataFrame, study) -> dict[str, tuple[str, str]]:
    """What the points can be coloured by: option name -> (column, ``"category"``/``"number"``)."""
    opts: dict[str, tuple[str, str]] = {}
    for s in study.splitters:
        opts[f"label: {s}"] = (samples.label_col(s), "category")
    if len(study.splitters) > 1:
        opts[DISAGREEMENT] = (samples.DISPUTED, "category")
    if (points["split"] == TRAIN).any():
        opts[TRAIN_VS_TEST] = ("split", "category")
    for m in study.models:
        for metric in study.metrics:
            opts[f"{m}: {metric.replace('_', ' ')}"] = (samples.match_col(m, metric), "category")
    for s in study.splitters:
        col = samples.score_col(s)
        if col in points and points[col].notna().any():
            opts[f"input score: {s}"] = (col, "number")
    for f in samples.GROUP_FIELDS:
        if f in points:
            opts[f] = (f, "category")
    return opts


def embedding_figure(points: pd.DataFrame, column: str, kind: str, title: str = ""):
    """A plotly scatter of the points coloured by ``column``; each point carries its id.

    Sample ids travel in ``customdata`` so a box/lasso selection can be mapped back to steps
    whatever the trace layout (traces change with the colouring, ids do not).

    Args:
        points: Output of :func:`points_frame`.
        column: Column to colour by.
        kind: ``"category"`` (one trace per value) or ``"number"`` (a colour scale).
        title: Figure title.
    """

    fig = go.Figure()
    hover = "%{customdata}<br>%{text}<extra></extra>"
    text = (
        points["task"].fillna("(train step)").astype(str).str.slice(0, 80)
        if "task" in points
        else None
    )
    if kind == "number":
        is_train = (points["split"] == TRAIN).to_numpy() if "split" in points else None
        if is_train is not None and is_train.any():
            _add_train(fig, points, is_train, text, hover)
            shown = points[~is_train]
            shown_text = None if text is None else text[~is_train]
        else:
            shown, shown_text = points, text
        cmin, cmax = colour_range(shown[column])
        fig.add_scattergl(
            x=shown["x"],
            y=shown["y"],
            mode="markers",
            customdata=shown["id"],
            text=shown_text,
            hovertemplate=hover,
            marker={
                "size": 5,
                "color": shown[column],
                "colorscale": theme.SEQUENTIAL,
                "cmin": cmin,
                "cmax": cmax,
                "showscale": True,
                "colorbar": {"title": column, "ticksuffix": " "},
            },
            name=column,
        )
    else:
        values = points[column].astype("string").fillna(TRAIN)
        # Train points go first (drawn underneath) in a quiet grey: they are context.
        order = sorted(values.unique(), key=lambda v: (v != TRAIN, v))
        colors = theme.category_colors([v for v in order if v != TRAIN])
        for value in order:
            sel = (values == value).to_numpy()
            fig.add_scattergl(
                x=points["x"][sel],
                y=points["y"][sel],
                mode="markers",
                customdata=points["id"][sel],
                text=None if text is None else text[sel],
                hovertemplate=hover,
                marker={"size": 4, "color": theme.MUTED_COLOR, "opacity": TRAIN_OPACITY}
                if value == TRAIN
                else {"size": 5, "color": colors[value]},
                name=f"{value} ({int(sel.sum()):,})",
            )
    theme.apply(
        fig,
        title=title or f"UMAP coloured by {column}",
        dragmode="lasso",
        xaxis={"showticklabels": False, "ticks": "", "title": "UMAP 1"},
        yaxis={"showticklabels": False, "ticks": "", "title": "UMAP 2"},
        legend={"itemsizing": "constant"},
        margin={"t": 50, "b": 30},
        height=600,
    )
    return fig


def colour_range(
    values, low: float = 2.0, high: float = 98.0
) -> tuple[float, float] | tuple[None, None]:
    """The colour scale's ends: the ``low``-th and ``high``-th percentiles of ``values``.

    Input scores have long right tails: a scale spanning min..max spends most colours on a
    few far-out steps and leaves the rest one dark colour. Values outside take the end colour.
    """
    arr = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float)
    arr = arr[np.isfinite(arr)]
    if not len(arr):
        return None, None
    lo, hi = (float(v) for v in np.percentile(arr, [low, high]))
    if hi <= lo:
        lo, hi = float(arr.min()), float(arr.max())
    return lo, hi


def _add_train(fig, points: pd.DataFrame, is_train, text, hover: str) -> None:
    # Train points are context: one quiet grey trace drawn first, underneath the test points.

    fig.add_scattergl(
        x=points["x"][is_train],
        y=points["y"][is_train],
        mode="markers",
        customdata=points["id"][is_train],
        text=None if text is None else text[is_train],
        hovertemplate=hover,
        marker={"size": 4, "color": theme.MUTED_COLOR, "opacity": TRAIN_OPACITY},
        name=f"{TRAIN} ({int(is_train.sum()):,})",
    )


def selected_ids(points: Sequence[Mapping]) -> list[str]:
    """Sample ids of the points of a plotly selection event (from their ``customdata``)."""
    out = []
    for p in points:
        value = p.get("customdata")
        if isinstance(value, (list, tuple)):
            value = value[0] if value else None
        if value is not None:
            out.append(str(value))
    return list(dict.fromkeys(out))


def display_points(points: pd.DataFrame, limit: int = DISPLAY_LIMIT, seed: int = 0) -> pd.DataFrame:
    """The points to draw: all of them up to ``limit``, else a seeded random sample of ``limit``.

    The sample depends only on the number of points and ``seed``, so it stays the same across
    reruns and colourings.
    """
    if len(points) <= limit:
        return points
    rng = np.random.default_rng([seed, len(points)])
    keep = np.sort(rng.choice(len(points), size=limit, replace=False))
    return points.iloc[keep]


def selection_ids(points: pd.DataFrame, selection: Mapping) -> list[str]:
    """Sample ids a plotly selection event picks among *all* ``points`` (not just those drawn).

    Clicked points come by their ids; boxes and lassos by their shape, applied to every
    point's ``x``/``y``, so the points left out of the drawing are selected too.

    Args:
        points: Output of :func:`points_frame` (every projected point).
        selection: The ``selection`` of Streamlit's plotly event (``points``, ``box``, ``lasso``).

    Returns:
        Ids in order: clicked points first, then those inside a box or lasso; each once.
    """
    out = selected_ids(selection.get("points", []))
    xy = points[["x", "y"]].to_numpy(dtype=float)
    inside = np.zeros(len(points), dtype=bool)
    for box in selection.get("box", []) or []:
        xs, ys = sorted(box.get("x", [])[:2]), sorted(box.get("y", [])[:2])
        if len(xs) == 2 and len(ys) == 2:
            in_x = (xy[:, 0] >= xs[0]) & (xy[:, 0] <= xs[1])
            inside |= in_x & (xy[:, 1] >= ys[0]) & (xy[:, 1] <= ys[1])
    for lasso in selection.get("lasso", []) or []:
        corners = list(zip(lasso.get("x", []), lasso.get("y", []), strict=False))
        if len(corners) >= 3:
            inside |= Path(corners).contains_points(xy)
    out += [str(i) for i in points["id"].to_numpy()[inside]]
    return list(dict.fromkeys(out))
