"""Overlap page: Venn diagrams of 2-3 splitters' ID and OOD sets, and each region's steps."""

from __future__ import annotations

import streamlit as st

from gemviz.analysis.selection import region_selection
from gemviz.analysis.stability import RESAMPLES, mc_error, study_region_stability
from gemviz.data.errors import GemvizError
from gemviz.figures.venn import region_positions, region_steps
from gemviz.ui.cache import overlap_notes, venn_images, venn_regions
from gemviz.ui.page import page_setup
from gemviz.ui.state import open_in_samples, open_sample
from gemviz.ui.text import md
from gemviz.ui.widgets import page_rows, stability_button, stability_refits, table_downloads

# A region's steps are listed a page at a time (the downloads and Samples get every step).
REGION_PAGE = 1000

ws, study = page_setup("Overlap")
if len(study.splitters) < 2:
    st.info("Overlap needs at least two splitters: add another on the Workspace page.")
    st.stop()
key = (str(ws.json_path), ws.fingerprint())

chosen = st.multiselect(
    "Splitters (2 or 3)",
    study.splitters,
    default=study.splitters[:3],
    max_selections=3,
    key="overlap_splitters",
)
if len(chosen) < 2:
    st.warning("Pick 2 or 3 splitters.")
    st.stop()
proportional = st.toggle(
    "Areas proportional to the counts",
    value=True,
    key="venn_proportional",
    help="Off: every region drawn the same size, so small regions' counts stay readable.",
)
empty, agreement = overlap_notes(*key, tuple(chosen))
for note in empty:
    st.warning(md(f"{note}: its circle has no area."))
st.text(agreement)

regions = {}
refits = stability_refits(ws, study)
for col, label in zip(st.columns(2), ("ID", "OOD"), strict=True):
    try:
        table = venn_regions(*key, tuple(chosen), label)
    except GemvizError as exc:
        st.error(md(exc))
        st.stop()
    regions[label] = table
    counts = tuple(
        (tuple(m), int(c)) for m, c in zip(table["members"], table["count"], strict=True)
    )
    png, svg = venn_images(counts, tuple(chosen), f"{label} sets", proportional)
    with col:
        st.image(png, caption=f"Steps each splitter calls {label}")
        d1, d2 = st.columns(2)
        d1.download_button(
            "PNG",
            png,
            f"venn_{label}.png",
            "image/png",
            key=f"dl_venn_{label}_png",
            on_click="ignore",
        )
        d2.download_button(
            "SVG",
            svg,
            f"venn_{label}.svg",
            "image/svg+xml",
            key=f"dl_venn_{label}_svg",
            on_click="ignore",
        )
        shown = table[["region", "count", "clusters"]]
        stable = study_region_stability(study, chosen, refits, label)
        if stable is not None:
            shown = shown.assign(stays_90pct=stable["stable_share"].to_numpy())
        event = st.dataframe(
            shown,
            hide_index=True,
            key=f"venn_{label}_counts",
            on_select="rerun",
            selection_mode="single-row",
            column_config={"stays_90pct": st.column_config.NumberColumn(format="percent")},
        )
        st.caption("Select a region's row to open its steps in Samples.")
        if event is not None and event.selection.rows:
            row = table.iloc[event.selection.rows[0]]
            open_in_samples(
                ws,
                row["ids"],
                f"{label} region {row['region']}",
                region_selection(label, chosen, row["members"]),
            )
        table_downloads(shown, f"venn_{label}_regions")

st.caption(
    "`clusters`: the tasks (or episodes) a region's steps come from. `stays_90pct`: share of a "
    f"region's steps that stay in it in at least 90% of {RESAMPLES} refits on bootstrap "
    "resamples of the train tasks (is the region real, or one train draw?); Monte Carlo error "
    f"of a step's ID probability near 0.9: ±{mc_error(RESAMPLES):.3f}."
)
stability_button(ws, refits, "overlap_stability")

st.subheader("Steps of one region")
options = [(label, i) for label in ("ID", "OOD") for i in range(len(regions[label]))]
pick = st.selectbox(
    "Region",
    options,
    key="overlap_region",
    format_func=lambda o: (
        f"{o[0]}: {regions[o[0]].iloc[o[1]]['region']} "
        f"({regions[o[0]].iloc[o[1]]['count']:,} steps, "
        f"{regions[o[0]].iloc[o[1]]['clusters']:,} clusters)"
    ),
)
region = regions[pick[0]].iloc[pick[1]]
rows = page_rows(len(region["ids"]), REGION_PAGE, f"region_page_{pick[0]}_{pick[1]}")
steps = region_steps(study, region["ids"], chosen, workspace=ws.slug, rows=rows)
about = f"{pick[0]} region {region['region']}"


def region_ids():
    """Every step of the region, in study order (Samples walks them with prev/next)."""
    return study.samples["id"].to_numpy()[region_positions(study, region["ids"])]


select = region_selection(pick[0], chosen, region["members"])
if st.button(
    f"Open these {len(region['ids']):,} steps in Samples",
    key="region_open",
    icon=":material/photo_library:",
):
    open_in_samples(ws, region_ids(), about, select)
event = st.dataframe(
    steps,
    hide_index=True,
    key="region_steps",
    on_select="rerun",
    selection_mode="single-row",
    column_config={
        "link": st.column_config.LinkColumn("open", display_text="open step"),
        # Ids built from image paths are long: keep them narrow so the labels stay in view.
        "id": st.column_config.TextColumn(width="small"),
    },
    column_order=["link", *[c for c in steps.columns if c != "link"]],
)
if event is not None and event.selection.rows:
    # One step: open it, with its region as the Samples selection (prev/next walk the region).
    open_sample(str(steps["id"].iloc[event.selection.rows[0]]))
    open_in_samples(ws, region_ids(), about, select)
table_downloads(
    lambda: region_steps(study, region["ids"], chosen).drop(columns="link"), "region_steps"
)
