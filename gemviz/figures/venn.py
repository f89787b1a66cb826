"""Venn diagrams (matplotlib-venn) of 2 or 3 splitters' ID or OOD sets.

The circles are drawn with equal region areas: with one splitter calling 90% of the steps ID
an area-true diagram squeezes the small regions to slivers whose counts cannot be read, and
the counts, not the areas, are what the page is for.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")  # no display on servers; must precede pyplot

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib_venn import venn2, venn3
from matplotlib_venn.layout.venn2 import DefaultLayoutAlgorithm as Layout2
from matplotlib_venn.layout.venn3 import DefaultLayoutAlgorithm as Layout3

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


def venn_figure(
    regions: pd.DataFrame | Mapping[tuple[str, ...], int],
    names: Sequence[str],
    title: str = "",
) -> matplotlib.figure.Figure:
    """Draw the Venn diagram of 2 or 3 sets with every region's count.

    Args:
        regions: Output of :func:`gemviz.analysis.overlap.venn_regions` (columns ``members`` and
            ``count``), or a mapping from a tuple of member names to a count.
        names: The 2 or 3 set names, in the order to draw them.
        title: Figure title.

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
    with theme.mpl_style():
        fig, ax = plt.subplots(figsize=(5.5, 4.5))
        diagram = draw(
            {c: 1 for c in codes},
            set_labels=tuple(names),
            set_colors=colors,
            alpha=0.45,
            ax=ax,
            layout_algorithm=layout(),
        )
        for code in codes:
            label = diagram.get_label_by_id(code)
            if label is not None:
                label.set_text(f"{counts.get(code, 0):,}")
                label.set_fontsize(13)
        for text in diagram.set_labels or ():
            if text is not None:
                text.set_fontsize(13)
        if title:
            ax.set_title(title)
        fig.tight_layout()
    return fig


def region_steps(
    study, ids: Sequence[str], splitters: Sequence[str], workspace: str | None = None
) -> pd.DataFrame:
    """The steps of one region: id, task, each splitter's score and label, each model's match.

    Args:
        study: The :class:`gemviz.data.study.Study` the region was computed from.
        ids: Sample ids of the region (any order; shown in study order).
        splitters: The splitters whose scores and labels to show.
        workspace: The workspace's slug, put in each link so it opens the same workspace.

    Returns:
        One row per step, with a ``link`` column pointing at the Samples page.
    """
    from urllib.parse import quote

    wanted = set(ids)
    rows = study.samples["id"].isin(wanted).to_numpy()
    out = study.samples.loc[rows, ["id", "task"]].reset_index(drop=True)
    for s in splitters:
        out[f"{s} score"] = study.scores.loc[rows, s].to_numpy()
        out[f"{s} label"] = study.labels.loc[rows, s].to_numpy()
    from gemviz.analysis.samples import match_col

    for m in study.models:
        for metric in study.metrics:
            out[match_col(m, metric)] = study.metric(metric).loc[rows, m].to_numpy()
    prefix = "samples?" + (f"workspace={quote(workspace, safe='')}&" if workspace else "")
    out["link"] = [prefix + "sample=" + quote(str(i), safe="") for i in out["id"]]
    return out
