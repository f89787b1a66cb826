"""Downloads: figure and table bytes in each format."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from gemviz.figures import charts as plots
from gemviz.figures.export import figure_html, figure_png, figure_svg, table_csv, table_markdown


def test_matplotlib_png_and_svg():
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    try:
        assert figure_png(fig).startswith(b"\x89PNG")
        assert b"<svg" in figure_svg(fig)
    finally:
        plt.close(fig)


def test_plotly_html_is_self_contained():
    html = figure_html(plots.bic_figure([3.0, 1.0, 2.0], 2)).decode()
    assert "<html>" in html and "<script src=" not in html  # plotly.js inlined
    assert "Plotly.newPlot" in html


def test_table_csv_and_markdown():
    table = pd.DataFrame({"model": ["a|b", "c"], "mean": [0.12345, np.nan], "n": [3, 4]})
    assert table_csv(table).decode().splitlines() == ["model,mean,n", "a|b,0.12345,3", "c,,4"]
    md = table_markdown(table).decode().splitlines()
    assert md[0] == "| model | mean | n |"
    assert md[2] == "| a\\|b | 0.123 | 3 |"
    assert md[3] == "| c |  | 4 |"
