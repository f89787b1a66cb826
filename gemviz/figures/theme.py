"""One look for every figure: an explicit Plotly template, one palette, the matplotlib twin.

Every figure builder (dashboard, its downloads, the HTML report, the PNG ZIP) sets
:data:`TEMPLATE` on its figure explicitly through :func:`apply`. Importing streamlit makes its
own ``streamlit`` template Plotly's default, and that template's colours are placeholders
(``#000001``...) which only the dashboard's browser page replaces: a figure that leaves its
template unset exports black from inside the dashboard. The pages also pass ``theme=None`` to
``st.plotly_chart``, so the page shows exactly what is exported.

The palette is colour-blind-safe (Tableau 10): ID is blue and OOD orange-red wherever a set is
coloured, train points are a quiet grey, and models and splitters take colours in order.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence

import matplotlib as mpl
import plotly.graph_objects as go
from cycler import cycler

#: Colours of the categorical palette, in the order models/splitters take them.
CATEGORICAL: tuple[str, ...] = (
    "#4C78A8",
    "#F58518",
    "#54A24B",
    "#B279A2",
    "#E45756",
    "#72B7B2",
    "#EECA3B",
    "#9D755D",
    "#FF9DA6",
    "#BAB0AC",
)
#: Twenty more colours after :data:`CATEGORICAL`, for studies of up to 30 configurations:
#: Tableau 20's light partners and a darker set, each told apart from its neighbours by hue
#: or lightness; past the first ten a configuration also takes another marker (:data:`MARKERS`).
EXTENDED: tuple[str, ...] = (
    "#1F4E79",
    "#A0CBE8",
    "#FFBE7D",
    "#8CD17D",
    "#7A3E91",
    "#9C1F2E",
    "#2A9D8F",
    "#8C6D00",
    "#5C3B28",
    "#F1A2C8",
    "#17BECF",
    "#BCBD22",
    "#393B79",
    "#E7298A",
    "#66A61E",
    "#A6761D",
    "#D62728",
    "#6B6ECF",
    "#3B7F2B",
    "#636363",
)
#: Plotly marker symbols in the order configurations take them (one per block of ten).
MARKERS: tuple[str, ...] = ("circle", "square", "diamond", "triangle-up", "x", "star")
#: matplotlib's names of the same markers.
MPL_MARKERS: dict[str, str] = {
    "circle": "o", "square": "s", "diamond": "D", "triangle-up": "^", "x": "X", "star": "*",
}  # fmt: skip
ID_COLOR = "#4C78A8"
OOD_COLOR = "#E45756"
TRAIN_COLOR = "#4C78A8"
TEST_COLOR = "#F58518"
COMPONENT_COLOR = "#54A24B"
MIXTURE_COLOR = "#333333"
MUTED_COLOR = "#C7C7C7"
HIGHLIGHT_COLOR = "#D62728"
ID_FILL = "rgba(84, 162, 75, 0.14)"
#: Colours of the set labels used on maps and tables.
LABEL_COLORS: dict[str, str] = {"ID": ID_COLOR, "OOD": OOD_COLOR, "train": MUTED_COLOR}
#: Pattern (plotly) and hatch (matplotlib) that mark an OOD bar beside its ID twin.
OOD_PATTERN = "/"
OOD_HATCH = "//"
FONT_FAMILY = "Arial, Helvetica, sans-serif"
SEQUENTIAL = "Viridis"


def _template() -> go.layout.Template:
    # Built by hand rather than copied from plotly's registry, so nothing another import
    # registers or changes there can reach it.
    axis = {
        "showgrid": True,
        "gridcolor": "#E5E5E5",
        "linecolor": "#444444",
        "zerolinecolor": "#CCCCCC",
        "ticks": "outside",
        "tickcolor": "#444444",
        "automargin": True,
        "title": {"standoff": 8},
    }
    return go.layout.Template(
        layout={
            "colorway": list(CATEGORICAL),
            "font": {"family": FONT_FAMILY, "size": 14, "color": "#222222"},
            "title": {"font": {"size": 18}, "x": 0.02, "xanchor": "left"},
            "paper_bgcolor": "#FFFFFF",
            "plot_bgcolor": "#FFFFFF",
            "xaxis": axis,
            "yaxis": axis,
            "legend": {"bgcolor": "rgba(255,255,255,0.8)", "font": {"size": 13}},
            "hoverlabel": {"font": {"family": FONT_FAMILY}},
            "colorscale": {"sequential": SEQUENTIAL},
            "margin": {"l": 60, "r": 20, "t": 60, "b": 50},
        },
        data={
            "bar": [go.Bar(marker={"line": {"width": 0}})],
            "histogram": [go.Histogram(marker={"line": {"width": 0}})],
        },
    )


#: The one Plotly template of gemviz (never Plotly's or Streamlit's default).
TEMPLATE: go.layout.Template = _template()


def apply(fig: go.Figure, **layout) -> go.Figure:
    """Give a plotly figure the gemviz template (and any extra layout), in place.

    Args:
        fig: The figure.
        **layout: Further ``update_layout`` arguments.

    Returns:
        The same figure, for chaining.
    """
    fig.update_layout(template=TEMPLATE, **layout)
    return fig


def color(index: int) -> str:
    """The ``index``-th colour: :data:`CATEGORICAL`, then :data:`EXTENDED` (30 in all, cycling)."""
    palette = CATEGORICAL + EXTENDED
    return palette[index % len(palette)]


def marker(index: int) -> str:
    """The ``index``-th marker symbol: a new one for each block of ten colours."""
    return MARKERS[(index // len(CATEGORICAL)) % len(MARKERS)]


def color_map(names: Sequence[str]) -> dict[str, str]:
    """Name -> colour, in order: models or splitters keep their colour across figures.

    Args:
        names: Names in the workspace's order (e.g. ``study.models``).
    """
    return {name: color(i) for i, name in enumerate(dict.fromkeys(names))}


def category_colors(values: Sequence[str]) -> dict[str, str]:
    """Colours of category values: ID/OOD/train keep theirs, the others take the palette."""
    out, k = {}, 0
    for value in dict.fromkeys(values):
        if value in LABEL_COLORS:
            out[value] = LABEL_COLORS[value]
        else:
            out[value] = color(k)
            k += 1
    return out


def lighten(hex_color: str, amount: float = 0.45) -> str:
    """A colour mixed with white (``amount`` 0 = unchanged, 1 = white)."""
    h = hex_color.lstrip("#")
    rgb = [int(h[i : i + 2], 16) for i in (0, 2, 4)]
    mixed = [round(c + (255 - c) * amount) for c in rgb]
    return "#" + "".join(f"{c:02X}" for c in mixed)


#: matplotlib settings matching the Plotly template.
MPL_RC: dict[str, object] = {
    "font.family": "sans-serif",
    "font.sans-serif": ["Arial", "Helvetica", "DejaVu Sans"],
    "font.size": 11,
    "axes.titlesize": 13,
    "axes.titlelocation": "left",
    "axes.edgecolor": "#444444",
    "axes.grid": True,
    "axes.axisbelow": True,
    "grid.color": "#E5E5E5",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "figure.facecolor": "#FFFFFF",
    "axes.facecolor": "#FFFFFF",
    "legend.frameon": False,
    "hatch.color": "#FFFFFF",
}


@contextlib.contextmanager
def mpl_style() -> Iterator[None]:
    """Draw matplotlib figures inside this block in the gemviz style (palette included)."""
    with mpl.rc_context({**MPL_RC, "axes.prop_cycle": cycler(color=list(CATEGORICAL))}):
        yield
