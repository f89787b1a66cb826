"""Venn figures: every region labelled with its count, and a region's steps."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from gemviz.data.errors import GemvizError
from gemviz.data.study import Study
from gemviz.figures.venn import region_code, region_steps, venn_figure


def _texts(fig) -> set[str]:
    return {t.get_text() for t in fig.axes[0].texts}


def test_three_sets_every_region_has_its_count():
    counts = {
        ("a",): 5,
        ("b",): 0,
        ("a", "b"): 1200,
        ("c",): 3,
        ("a", "c"): 7,
        ("b", "c"): 0,
        ("a", "b", "c"): 40,
    }
    fig = venn_figure(counts, ["a", "b", "c"], "ID sets", proportional=False)
    try:
        assert {"5", "0", "1,200", "3", "7", "40"} <= _texts(fig)
        assert {"a", "b", "c"} <= _texts(fig)
        assert "regions drawn equal, not to scale" in _texts(fig)
    finally:
        plt.close(fig)
    # Areas follow the counts by default; the regions of 0 steps, which have no area, are
    # named under the diagram.
    fig = venn_figure(counts, ["a", "b", "c"], "ID sets")
    try:
        texts = _texts(fig)
        assert {"5", "1,200", "3", "7", "40"} <= texts
        assert "0 steps: b only, b & c" in texts
    finally:
        plt.close(fig)


def test_area_follows_the_counts_and_an_empty_set_is_noted():
    def widths(fig) -> list[float]:
        # Each region's patch, in the order 'a only', 'b only', 'a & b'.
        return [p.get_path().get_extents().width for p in fig.axes[0].patches]

    counts = {("a",): 900, ("b",): 10, ("a", "b"): 80}
    true, equal = (
        venn_figure(counts, ["a", "b"]),
        venn_figure(counts, ["a", "b"], proportional=False),
    )
    try:
        a_only, b_only, _ = widths(true)
        assert a_only > 2.5 * b_only
        a_only, b_only, _ = widths(equal)
        assert a_only == pytest.approx(b_only, rel=0.01)
    finally:
        plt.close(true)
        plt.close(equal)
    fig = venn_figure({("a",): 90, ("b",): 0, ("a", "b"): 0}, ["a", "b"])
    try:
        assert "b: empty set (0 steps)" in _texts(fig)  # and no list of b's empty regions
    finally:
        plt.close(fig)


def test_two_sets_from_a_regions_frame():
    regions = pd.DataFrame(
        {
            "region": ["x only", "y only", "x & y"],
            "members": [("x",), ("y",), ("x", "y")],
            "count": [4, 9, 11],
        }
    )
    fig = venn_figure(regions, ["x", "y"])
    try:
        assert {"4", "9", "11"} <= _texts(fig)
    finally:
        plt.close(fig)


def test_region_code_and_bad_count():
    assert region_code(("a", "c"), ["a", "b", "c"]) == "101"
    with pytest.raises(GemvizError, match="2 or 3"):
        venn_figure({("a",): 1}, ["a"])


def test_region_steps_lists_scores_labels_and_matches():
    n = 6
    frame = pd.DataFrame(
        {
            "id": [f"s{i}" for i in range(n)],
            "task": list("abcdef"),
            "image_path": [""] * n,
            "input_score": np.arange(n, dtype=float),
            "label": ["ID", "OOD"] * 3,
        }
    )
    result = frame[["id"]].assign(type_match=[1] * n, exact_match=[0, 1] * 3)
    study = Study.from_frames({"gem": frame}, {"agent": result})
    steps = region_steps(study, ["s3", "s1"], ["gem"])
    assert steps["id"].tolist() == ["s1", "s3"]  # study order
    assert steps["gem label"].tolist() == ["OOD", "OOD"]
    assert steps["agent exact"].tolist() == [1, 1]
    assert steps["link"].tolist() == ["samples?sample=s1", "samples?sample=s3"]
    # A page of a long region: the same rows, cut in study order.
    page = region_steps(study, ["s5", "s3", "s1"], ["gem"], rows=slice(1, 3))
    assert page["id"].tolist() == ["s3", "s5"]
    assert page["gem score"].tolist() == [3.0, 5.0]
    assert page["agent exact"].tolist() == [1, 1]
