"""Turn figures and tables into downloadable bytes.

Matplotlib figures become PNG or SVG; plotly figures become one self-contained HTML file
(plotly.js inlined, so it opens offline); tables become CSV or a Markdown table.
"""

from __future__ import annotations

import io
import math

import pandas as pd


def figure_png(fig, dpi: int = 150) -> bytes:
    """A matplotlib figure as PNG bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    return buf.getvalue()


def figure_svg(fig) -> bytes:
    """A matplotlib figure as SVG bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    return buf.getvalue()


def figure_html(fig) -> bytes:
    """A plotly figure as a self-contained HTML page (works without network)."""
    return fig.to_html(include_plotlyjs=True, full_html=True).encode("utf-8")


def table_csv(table: pd.DataFrame) -> bytes:
    """A table as UTF-8 CSV without the index."""
    return table.to_csv(index=False).encode("utf-8")


def table_markdown(table: pd.DataFrame, digits: int = 3) -> bytes:
    """A table as a GitHub-flavoured Markdown table (floats rounded to ``digits``)."""
    cols = [str(c) for c in table.columns]
    lines = ["| " + " | ".join(_cell(c) for c in cols) + " |", "|" + "---|" * len(cols)]
    for row in table.itertuples(index=False):
        lines.append("| " + " | ".join(_cell(v, digits) for v in row) + " |")
    return ("\n".join(lines) + "\n").encode("utf-8")


def _cell(value, digits: int = 3) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        text = f"{value:.{digits}f}"
    elif isinstance(value, (list, tuple)):
        text = ", ".join(map(str, value))
    else:
        text = "" if value is None else str(value)
    # A pipe or newline would break the table's columns.
    return text.replace("|", "\\|").replace("\n", " ")
