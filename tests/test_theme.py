"""One look everywhere: every figure carries the gemviz template, even inside Streamlit."""

from __future__ import annotations

import itertools
import json
import re

import matplotlib.colors as mcolors
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import pytest
import streamlit  # noqa: F401  (makes Streamlit's placeholder template plotly's default)

from gemviz.figures import charts as plots
from gemviz.figures import static as static_figures
from gemviz.figures import theme
from gemviz.figures.export import figure_html
from gemviz.figures.runs import board_rows, runs_board, runs_board_static

PLACEHOLDER = re.compile(r"#0000(0[1-9a-f]|1[0-9a-f])\b", re.IGNORECASE)


def _table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "splitter": ["s", "s", "t", "t"],
            "model": ["a", "b", "a", "b"],
            "metric": ["exact_match"] * 4,
            "id_mean": [0.6, 0.4, 0.5, 0.3],
            "id_lo": [0.5, 0.3, 0.4, 0.2],
            "id_hi": [0.7, 0.55, 0.6, 0.4],
            "id_n": [120, 120, 80, 80],
            "ood_mean": [0.2, 0.1, 0.3, 0.2],
            "ood_lo": [0.1, 0.05, 0.2, 0.1],
            "ood_hi": [0.3, 0.2, 0.4, 0.3],
            "ood_n": [30, 30, 70, 70],
        }
    )


def test_streamlit_makes_its_template_the_default():
    # The reason the theme exists: this default's colours are placeholders.
    assert pio.templates.default == "streamlit"


def test_exported_figures_carry_real_colours_after_importing_streamlit():
    figs = [
        plots.grouped_bars(_table(), "exact_match"),
        plots.bic_figure([3.0, 2.0, 2.5], chosen=2),
        plots.gem_fit_figure(
            np.linspace(0, 1, 50), np.linspace(0.2, 1.2, 40), [0.5], [0.2], [1.0], [(0.1, 0.9)]
        ),
    ]
    for fig in figs:
        text = fig.to_json()
        spec = json.loads(text)
        assert spec["layout"]["template"]["layout"]["colorway"] == list(theme.CATEGORICAL)
        assert not PLACEHOLDER.search(text)
        page = figure_html(fig).decode()
        assert json.dumps(list(theme.CATEGORICAL)).replace(" ", "") in page.replace(" ", "")


def test_a_figure_without_the_theme_would_export_placeholders():
    # Guards the guard: the placeholder pattern does find Streamlit's template.
    assert PLACEHOLDER.search(go.Figure().to_json())


def test_bars_show_n_and_keep_splitter_colours():
    fig = plots.grouped_bars(_table(), "exact_match")
    names = [t.name for t in fig.data]
    assert names == ["s ID", "s OOD", "t ID", "t OOD"]
    assert list(fig.data[0].text) == ["n=120", "n=120"]
    assert fig.data[0].marker.color == theme.color(0)
    assert fig.data[1].marker.color == theme.lighten(theme.color(0))
    assert fig.data[1].marker.pattern.shape == theme.OOD_PATTERN
    assert fig.data[2].marker.color == theme.color(1)


def test_static_bars_use_the_same_palette():
    fig = static_figures.bars(_table(), "exact_match")
    patches = fig.axes[0].patches
    assert mcolors.to_hex(patches[0].get_facecolor()).upper() == theme.color(0).upper()
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "n=120" in texts
    assert static_figures.png_bytes(fig)[:4] == b"\x89PNG"


def test_color_helpers():
    assert theme.color_map(["x", "y", "x"]) == {"x": theme.color(0), "y": theme.color(1)}
    cats = theme.category_colors(["ID", "OOD", "other"])
    assert cats["ID"] == theme.ID_COLOR and cats["other"] == theme.color(0)
    assert theme.lighten("#000000", 1.0) == "#FFFFFF"


def _lab(hex_color: str):
    rgb = np.array([int(hex_color[i : i + 2], 16) / 255 for i in (1, 3, 5)])
    rgb = np.where(rgb > 0.04045, ((rgb + 0.055) / 1.055) ** 2.4, rgb / 12.92)
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722],
                    [0.0193, 0.1192, 0.9505]]) @ rgb / np.array([0.95047, 1.0, 1.08883])  # fmt: skip
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def test_thirty_configurations_are_told_apart():
    styles = [(theme.color(i), theme.marker(i)) for i in range(30)]
    assert len(set(styles)) == 30 and len({c for c, _ in styles}) == 30
    for (c1, m1), (c2, m2) in itertools.combinations(styles, 2):
        distance = float(np.linalg.norm(_lab(c1) - _lab(c2)))
        # Same marker: clearly different colours; different markers may be closer.
        assert distance >= (20 if m1 == m2 else 9), (c1, c2)


def test_runs_board_ranks_labels_clips_and_marks_the_baseline():
    names = [f"cfg{i}" for i in range(18)]
    summary = pd.DataFrame({
        "model": names, "metric": "accuracy", "subset": "all", "runs": 3,
        "run_mean": [i / 17 for i in range(18)], "run_sd": 0.01, "run_min": 0.0, "run_max": 1.0,
        "mean": [i / 17 for i in range(18)], "lo": [i / 17 - 0.1 for i in range(18)],
        "hi": [i / 17 + 0.1 for i in range(18)], "n": 50, "n_clusters": 50,
    })  # fmt: skip
    points = pd.DataFrame([
        {"model": m, "metric": "accuracy", "subset": "all", "run": r, "mean": i / 20, "lo": 0.0,
         "hi": 1.0, "n": 50, "n_clusters": 50}
        for i, m in enumerate(names) for r in (1, 2, 3)
    ])  # fmt: skip
    configs = pd.DataFrame({
        "model": names, "method": ["sft", "lora", "grpo"] * 6, "train_set": None,
        "base_model": None, "notes": None, "baseline": [m == "cfg3" for m in names],
    })  # fmt: skip
    board = board_rows(points, summary, configs=configs, color_by="method")
    assert board.rows["model"].tolist() == names[::-1]  # best first
    assert board.rows["lo_clip"].min() == 0.0 and board.rows["hi_clip"].max() == 1.0
    assert board.baseline == "cfg3" and "n = 50 steps" in board.n_text
    same = board.rows.groupby("color_value")["color"].nunique()
    assert (same == 1).all() and board.rows.groupby("color_value")["marker"].nunique().min() == 6
    fig = runs_board(points, summary, configs=configs, color_by="method")
    assert list(fig.layout.yaxis.ticktext) == names[::-1]
    assert sum(bool(t.showlegend is not False and t.name) for t in fig.data) == 18
    assert any(s.line.dash == "dash" for s in fig.layout.shapes)
    # Both twins draw percent, as the runs view's titles say: the dots, the axis, the column.
    dots = [t.x[0] for t in fig.data if t.name]
    assert dots == pytest.approx([100 * i / 17 for i in range(18)][::-1])
    assert "clipped to [0, 100]" in fig.layout.xaxis.title.text
    static = runs_board_static(points, summary, configs=configs, color_by="method")
    labels = [t.get_text() for t in static.axes[0].get_yticklabels()]
    assert labels == names[::-1]
    column = [t.get_text() for t in static.axes[1].texts]
    assert column[0].startswith("mean % [95%]") and "sd pts" in column[0]
    assert column[1] == "100.0 [90.0, 100.0]   1.0 (3)"
    assert static.axes[0].get_xlim()[1] > 90
