"""Report page: pick example steps and build the self-contained HTML meeting report + PNG ZIP."""

from __future__ import annotations

import re

import streamlit as st

from gemviz import report
from gemviz.analysis.paging import position
from gemviz.analysis.samples import suggest_examples
from gemviz.data.errors import GemvizError
from gemviz.data.fields import ID
from gemviz.report.slides import build_deck, deck_bytes
from gemviz.ui.page import page_setup
from gemviz.ui.state import current_sample
from gemviz.ui.text import md

ws, study = page_setup("Meeting report")
st.write(
    "One HTML file with what the pages show: the ID/OOD tables with their gaps, the "
    "interaction and paired model comparisons, the GEM fits, the Venn diagrams, the "
    "set-difference drill-downs, slices by action type, splitter stability (when its refits "
    "were computed on Overlap or Samples), the embedding map (when a UMAP was run with the "
    "default parameters), the steps you annotated and the example steps below; plus a ZIP of "
    "the figures as PNG and a slide deck (PowerPoint: one finding per slide, editable charts, "
    "speaker notes). Intervals and tests use the workspace's clusters."
)
current = current_sample()
known = position(study.samples[ID], current) is not None
default = "\n".join(suggest_examples(study) + ([current] if known else []))
text = st.text_area(
    "Example steps: one sample id per line, optionally `id | caption`",
    default,
    height=120,
    key="report_examples",
)


def _stage(bar, label: str, lo: float, hi: float):
    """A progress callback that fills ``bar`` from ``lo`` to ``hi`` during one stage."""
    return lambda done, total, step: bar.progress(
        lo + (hi - lo) * done / max(total, 1), text=f"{label}: {step}"
    )


if st.button("Build report", type="primary", key="report_build"):
    status = st.status("Building the report…", expanded=True)
    bar = status.progress(0.0, text="Reading the workspace's train scores and predictions")
    try:
        inputs = report.inputs_from_workspace(ws, study)
        chosen = report.parse_examples(text, study.ids)
        status.write("Read the train scores, predictions and step notes.")
        built = report.build_report(inputs, chosen, progress=_stage(bar, "Report", 0.1, 0.6))
        status.write(f"Report: {len(built.sections)} sections.")
        deck = build_deck(inputs, chosen, progress=_stage(bar, "Slides", 0.6, 0.85))
        status.write(f"Slides: {len(deck.titles)}.")
        bar.progress(0.85, text="Drawing the figures for the ZIP")
        figures = built.zip_bytes()
        status.write(f"Figures: {len(built.figures)} PNG.")
    except GemvizError as exc:
        status.update(label="The report could not be built", state="error")
        st.error(md(exc))
        st.stop()
    bar.empty()
    status.update(label="Report built", state="complete", expanded=False)
    st.session_state["report_built"] = (
        built.html.encode("utf-8"),
        figures,
        built.sections,
        deck_bytes(deck),
        len(deck.titles),
    )

if "report_built" in st.session_state:
    page, figs, sections, slides, n_slides = st.session_state["report_built"]
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", ws.name).strip("_") or "report"
    st.success(
        f"Report ready: {len(page) / 1e6:.1f} MB, sections: {', '.join(sections)}; "
        f"{n_slides} slides."
    )
    left, middle, right = st.columns(3)
    left.download_button(
        "Report (HTML)",
        page,
        f"{stem}_report.html",
        "text/html",
        key="dl_report_html",
        on_click="ignore",
        icon=":material/download:",
    )
    middle.download_button(
        "Download slides (PPTX)",
        slides,
        f"{stem}_slides.pptx",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        key="dl_report_slides",
        on_click="ignore",
        icon=":material/slideshow:",
    )
    right.download_button(
        "Figures (PNG ZIP)",
        figs,
        f"{stem}_figures.zip",
        "application/zip",
        key="dl_report_zip",
        on_click="ignore",
        icon=":material/download:",
    )
