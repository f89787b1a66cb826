"""One look everywhere: every figure carries the gemviz template, even inside Streamlit."""

from __future__ import annotations

import json
import re

import matplotlib.colors as mcolors
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import streamlit  # noqa: F401  (makes Streamlit's placeholder template plotly's default)

from gemviz.figures import charts as plots
from gemviz.figures import static as static_figures
from gemviz.figures import theme
from gemviz.figures.export import figure_html

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
