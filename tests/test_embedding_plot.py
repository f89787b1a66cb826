"""Embedding figure helpers: ids travel with the points, whatever the colouring."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gemviz.analysis.projection import Projection, ProjectionParams
from gemviz.figures.embedding_map import (
    colour_range,
    display_points,
    embedding_figure,
    points_frame,
    selected_ids,
    selection_ids,
)


def _projection() -> Projection:
    ids = np.array(["t1", "t2", "t3", "r1", "r2"], dtype=object)
    xy = np.arange(10, dtype=np.float32).reshape(5, 2)
    split = np.array(["test", "test", "test", "train", "train"], dtype=object)
    return Projection(ids, xy, split, ProjectionParams(), Path("unused.npz"))


def _table() -> pd.DataFrame:
    return pd.DataFrame(
        {"id": ["t3", "t1", "t2"], "task": ["c", "a", "b"], "lab": ["OOD", "ID", "ID"]}
    )


def test_points_frame_joins_test_points_by_id_and_keeps_train_points():
    pts = points_frame(_projection(), _table())
    assert len(pts) == 5
    by_id = pts.set_index("id")
    assert by_id.loc["t1", "task"] == "a" and by_id.loc["t3", "lab"] == "OOD"
    assert by_id.loc["t1", "x"] == 0 and by_id.loc["t3", "x"] == 4
    assert pd.isna(by_id.loc["r1", "lab"])


def test_category_traces_carry_the_ids_of_their_own_points():
    fig = embedding_figure(points_frame(_projection(), _table()), "lab", "category")
    carried = {tr.name.split(" (")[0]: sorted(tr.customdata) for tr in fig.data}
    assert carried == {"train": ["r1", "r2"], "ID": ["t1", "t2"], "OOD": ["t3"]}
    # Train points are drawn first, underneath.
    assert fig.data[0].name.startswith("train")


def test_number_colouring_puts_train_underneath_and_clips_the_scale():
    pts = points_frame(_projection(), _table())
    pts["score"] = np.linspace(0, 1, len(pts))
    fig = embedding_figure(pts, "score", "number")
    assert [tr.name.split(" (")[0] for tr in fig.data] == ["train", "score"]
    assert sorted(fig.data[0].customdata) == ["r1", "r2"]
    assert sorted(fig.data[1].customdata) == ["t1", "t2", "t3"]
    assert fig.data[0].marker.opacity < 1


def test_colour_range_uses_the_bulk_of_the_values():
    values = np.r_[np.linspace(0, 1, 98), 50.0, 100.0]  # two far-out steps
    lo, hi = colour_range(values)
    assert lo == pytest.approx(np.percentile(values, 2)) and hi < 2
    assert colour_range([3.0, 3.0]) == (3.0, 3.0)
    assert colour_range([np.nan]) == (None, None)


def test_selected_ids_reads_customdata_scalars_and_lists_once_each():
    points = [{"customdata": "t1"}, {"customdata": ["t2"]}, {"customdata": "t1"}, {"x": 1}]
    assert selected_ids(points) == ["t1", "t2"]


def test_large_maps_draw_a_fixed_sample_and_select_among_all_points():
    rng = np.random.default_rng(0)
    n = 120_000
    pts = pd.DataFrame({"id": [f"s{i}" for i in range(n)], "x": rng.random(n), "y": rng.random(n)})
    shown = display_points(pts, limit=50_000)
    assert len(shown) == 50_000 and shown.index.equals(display_points(pts, limit=50_000).index)
    assert (
        display_points(pts.head(10), limit=50_000) is not None
        and len(display_points(pts.head(10))) == 10
    )
    box = {"points": [{"customdata": "s5"}], "box": [{"x": [0.5, 0.1], "y": [0.2, 0.3]}]}
    want = pts[(pts.x >= 0.1) & (pts.x <= 0.5) & (pts.y >= 0.2) & (pts.y <= 0.3)]["id"]
    got = selection_ids(pts, box)
    assert got[0] == "s5" and set(got[1:]) | {"s5"} == set(want) | {"s5"}
    assert len(got) > (shown.x.between(0.1, 0.5) & shown.y.between(0.2, 0.3)).sum()
    lasso = {"lasso": [{"x": [0.0, 0.5, 0.0], "y": [0.0, 0.0, 0.5]}]}  # the lower-left triangle
    inside = set(selection_ids(pts, lasso))
    expect = set(pts[(pts.x + pts.y < 0.5)]["id"])
    assert len(inside ^ expect) < 50  # points on the edge may go either way
