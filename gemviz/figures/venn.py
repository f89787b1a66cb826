"""Venn diagrams (matplotlib-venn) of 2 or 3 splitters' ID or OOD sets.

By default the areas follow the counts, so a set of 0 steps is not drawn as large as one of
4,690; a set that is empty gets a note under the diagram. ``proportional=False`` draws every
region the same size instead, for when one splitter calls 90% of the steps ID and the small
regions' counts would be squeezed into slivers.
"""

from __future__ import annotations

import textwrap
import warnings
from collections.abc import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")  # no display on servers; must precede pyplot

import io
from urllib.parse import quote

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib_venn import venn2, venn3
from matplotlib_venn.layout.venn2 import DefaultLayoutAlgorithm as Layout2
from matplotlib_venn.layout.venn3 import DefaultLayoutAlgorithm as Layout3
from PIL import Image

from gemviz.analysis.samples import match_col
from gemviz.data.errors import GemvizError
from gemviz.figures import theme

# k -> (drawing function, equal-area layout, region codes in matplotlib-venn's order)
_DRAWERS = {
    2: (venn2, lambda: Layout2(fixed_subset_sizes=(1, 1, 1)), ("10", "01", "11")),
    3: (
        venn3,
        lambda: Layout3(fixed_subset_sizes=(1,) * 7),
        ("100", "010", "110", "001", "101", "011", "111"),
    ),
}


def region_code(members: Sequence[str], names: Sequence[str]) -> str:
    """matplotlib-venn's code of a region: ``"101"`` = in sets 1 and 3 only."""
    return "".join("1" if n in members else "0" for n in names)


def _write_counts(diagram, codes: Sequence[str], counts: dict[str, int], font_size: float) -> None:
    """Every region's count (thousands separated) and the set names at ``font_size``."""
    for code in codes:
        label = diagram.get_label_by_id(code)
        if label is not None:
            label.set_text(f"{counts.get(code, 0):,}")
            label.set_fontsize(font_size)
    for text in diagram.set_labels or ():
        if text is not None:
            text.set_fontsize(font_size)


def _notes(
    diagram,
    codes: Sequence[str],
    counts: dict[str, int],
    names: list[str],
    empty: list[str],
    proportional: bool,
) -> list[str]:
    """What the drawing cannot show: empty sets, regions of 0 steps, equal areas."""
    notes = [f"{name}: empty set (0 steps)" for name in empty]
    if proportional:
        # A region of 0 steps has no area, so no place for its count: name it instead.
        gone = [
            _region_name(code, names)
            for code in codes
            if counts.get(code, 0) == 0 and diagram.get_label_by_id(code) is None
        ]
        # An empty set's regions are all 0: its own note says so.
        gone = [g for g in gone if not set(g.removesuffix(" only").split(" & ")) & set(empty)]
        if gone:
            notes.append("0 steps: " + ", ".join(gone))
    if not proportional:
        notes.append("regions drawn equal, not to scale")
    return notes


def _write_notes(ax, notes: list[str], font_size: float, highlight: bool) -> None:
    """The notes under the diagram, wrapped to the axes' width (a long note would run off
    the figure's edge)."""
    inches = ax.get_position().width * ax.figure.get_figwidth()
    chars = max(20, int(inches * 72 / (font_size * 0.85 * 0.55)))
    ax.text(
        0.5,
        -0.06,
        "\n".join(textwrap.wrap("; ".join(notes), chars, break_on_hyphens=False)),
        transform=ax.transAxes,
        ha="center",
        va="top",
        fontsize=font_size * 0.85,
        color=theme.HIGHLIGHT_COLOR if highlight else "#555555",
    )


def venn_figure(
    regions: pd.DataFrame | Mapping[tuple[str, ...], int],
    names: Sequence[str],
    title: str = "",
    proportional: bool = True,
    ax=None,
    font_size: float = 13,
) -> matplotlib.figure.Figure:
    """Draw the Venn diagram of 2 or 3 sets with every region's count.

    Args:
        regions: Output of :func:`gemviz.analysis.overlap.venn_regions` (columns ``members`` and
            ``count``), or a mapping from a tuple of member names to a count.
        names: The 2 or 3 set names, in the order to draw them.
        title: Figure title.
        proportional: Areas follow the counts (default); False draws equal regions.
        ax: Draw into this matplotlib axes (default: a new figure).
        font_size: Size of the counts, set names and notes.

    Returns:
        A matplotlib figure (close it with ``plt.close`` when done).

    Raises:
        GemvizError: Fewer than 2 or more than 3 names.
    """
    names = list(names)
    if len(names) not in _DRAWERS:
        raise GemvizError(f"a Venn diagram needs 2 or 3 splitters, got {len(names)}")
    if isinstance(regions, pd.DataFrame):
        pairs = zip(regions["members"], regions["count"], strict=True)
    else:
        pairs = regions.items()
    counts = {region_code(tuple(m), names): int(c) for m, c in pairs}
    draw, layout, codes = _DRAWERS[len(names)]
    colors = tuple(theme.color(i) for i in range(len(names)))
    sizes = {
        name: sum(c for code, c in counts.items() if code[i] == "1") for i, name in enumerate(names)
    }
    empty = [name for name, size in sizes.items() if size == 0]
    # An all-empty diagram has no areas to be proportional to.
    proportional = proportional and any(sizes.values())
    with theme.mpl_style():
        if ax is None:
            fig, ax = plt.subplots(figsize=(5.5, 4.5))
        else:
            fig = ax.figure
        with warnings.catch_warnings():
            # matplotlib-venn warns about a zero-area circle; the note below says it instead.
            warnings.simplefilter("ignore", UserWarning)
            diagram = draw(
                {c: counts.get(c, 0) for c in codes} if proportional else {c: 1 for c in codes},
                set_labels=tuple(names),
                set_colors=colors,
                alpha=0.45,
                ax=ax,
                **({} if proportional else {"layout_algorithm": layout()}),
            )
        _write_counts(diagram, codes, counts, font_size)
        notes = _notes(diagram, codes, counts, names, empty, proportional)
        if notes:
            _write_notes(ax, notes, font_size, highlight=bool(empty))
        if title:
            ax.set_title(title, fontsize=font_size * 1.1)
        if ax is fig.axes[0] and len(fig.axes) == 1:
            fig.tight_layout()
    return fig


def _region_name(code: str, names: Sequence[str]) -> str:
    members = [n for n, bit in zip(names, code, strict=True) if bit == "1"]
    return f"{members[0]} only" if len(members) == 1 else " & ".join(members)


def venn_pair_png(
    id_regions: pd.DataFrame,
    ood_regions: pd.DataFrame,
    names: Sequence[str],
    proportional: bool = True,
    dpi: int = 150,
) -> bytes:
    """The ID and OOD Venn diagrams side by side as one 16:9 PNG for a slide (1920 x 1080).

    Args:
        id_regions, ood_regions: :func:`gemviz.analysis.overlap.venn_regions` of each label.
        names: The 2 or 3 splitters.
        proportional: Areas follow the counts.
        dpi: Resolution; the picture is 12.8 x 7.2 inches.

    Returns:
        PNG bytes.
    """
    with theme.mpl_style():
        fig, axes = plt.subplots(1, 2, figsize=(12.8, 7.2))
        for ax, regions, label in zip(axes, (id_regions, ood_regions), ("ID", "OOD"), strict=True):
            venn_figure(
                regions,
                names,
                f"{label} sets",
                proportional=proportional,
                ax=ax,
                font_size=24,
            )
        fig.tight_layout(pad=1.5)
    buf = io.BytesIO()
    try:
        # Tight, so no label or note is cut off; then centred on an exact 16:9 canvas.
        fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight", pad_inches=0.2)
    finally:
        plt.close(fig)

    width, height = round(12.8 * dpi), round(7.2 * dpi)
    with Image.open(io.BytesIO(buf.getvalue())) as drawn:
        drawn = drawn.convert("RGB")
        scale = min(width / drawn.width, height / drawn.height, 1.0)
        if scale < 1.0:
            size = (round(drawn.width * scale), round(drawn.height * scale))
            drawn = drawn.resize(size, Image.Resampling.LANCZOS)
        canvas = Image.new("RGB", (width, height), "white")
        canvas.paste(drawn, ((width - drawn.width) // 2, (height - drawn.height) // 2))
    out = io.BytesIO()
    canvas.save(out, format="PNG", dpi=(dpi, dpi))
    return out.getvalue()


def region_steps(
    study,
    ids: Sequence[str],
    splitters: Sequence[str],
    workspace: str | None = None,
    rows: slice = slice(None),
) -> pd.DataFrame:
    """The steps of one region: id, task, each splitter's score and label, each model's match.

    Args:
        study: The :class:`gemviz.data.study.Study` the region was computed from.
        ids: Sample ids of the region (any order; shown in study order).
        splitters: The splitters whose scores and labels to show.
        workspace: The workspace's slug, put in each link so it opens the same workspace.
        rows: Which of the region's steps (in study order) to list: a page of a large region.

    Returns:
        One row per step, with a ``link`` column pointing at the Samples page.
    """
    at = region_positions(study, ids)[rows]
    out = study.samples[["id", "task"]].iloc[at].reset_index(drop=True)
    for s in splitters:
        out[f"{s} score"] = study.scores[s].to_numpy()[at]
        out[f"{s} label"] = study.labels[s].to_numpy()[at]

    for m in study.models:
        for metric in study.metrics:
            out[match_col(m, metric)] = study.metric(metric)[m].to_numpy()[at]
    prefix = "samples?" + (f"workspace={quote(workspace, safe='')}&" if workspace else "")
    out["link"] = [prefix + "sample=" + quote(str(i), safe="") for i in out["id"]]
    return out


def region_positions(study, ids: Sequence[str]) -> np.ndarray:
    """Positions of a region's steps in the study, in study order."""
    return np.flatnonzero(study.samples["id"].isin(pd.Index(ids)).to_numpy())
