"""Turn figures and tables into downloadable bytes.

Matplotlib figures become PNG or SVG; plotly figures become one self-contained HTML file
(plotly.js inlined, so it opens offline); tables become CSV or a Markdown table.
"""

from __future__ import annotations

import io
import math

import pandas as pd


def figure_png(fig, dpi: int = 150, tight: bool = True) -> bytes:
    """A matplotlib figure as PNG bytes, cropped to its content (``tight``) or exactly the
    figure's size (a picture placed at that size keeps its fonts' points)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight" if tight else None)
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
    return markdown_text(table, digits).encode("utf-8")


def markdown_text(table: pd.DataFrame, digits: int | None = 3, aligned: bool = False) -> str:
    """A table as GitHub-flavoured Markdown text; the one Markdown writer of gemviz.

    Args:
        table: The table; its index is not written.
        digits: Decimals for floats, or None to write them as they are.
        aligned: Pad every column to one width and right-align numeric columns, for reading
            in a terminal (the command line's output).
    """
    header = [_cell(c) for c in table.columns]
    body = [[_cell(v, digits) for v in row] for row in table.itertuples(index=False)]
    if not aligned:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(row) + " |" for row in body]
        return "\n".join(lines) + "\n"
    widths = [max([len(h)] + [len(r[i]) for r in body]) for i, h in enumerate(header)]
    numeric = [pd.api.types.is_numeric_dtype(table[c]) for c in table.columns]

    def line(cells: list[str]) -> str:
        padded = [
            c.rjust(w) if num else c.ljust(w)
            for c, w, num in zip(cells, widths, numeric, strict=True)
        ]
        return "| " + " | ".join(padded) + " |"

    rule = [("-" * (w - 1) + ":") if n else "-" * w for w, n in zip(widths, numeric, strict=True)]
    return "\n".join([line(header), line(rule), *(line(r) for r in body)]) + "\n"


def _cell(value, digits: int | None = None) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        text = str(value) if digits is None else f"{value:.{digits}f}"
    elif isinstance(value, (list, tuple)):
        text = ", ".join(map(str, value))
    else:
        text = "" if value is None else str(value)
    # A pipe or newline would break the table's columns.
    return text.replace("|", "\\|").replace("\n", " ")
