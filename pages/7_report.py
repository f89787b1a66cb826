"""Report page: pick example steps and build the self-contained HTML meeting report + PNG ZIP."""

from __future__ import annotations

import re

import streamlit as st

from gemviz import report
from gemviz.analysis.samples import suggest_examples
from gemviz.data.errors import GemvizError
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
known = set(study.ids)
default = "\n".join(suggest_examples(study) + ([current] if current in known else []))
text = st.text_area(
    "Example steps: one sample id per line, optionally `id | caption`",
    default,
    height=120,
    key="report_examples",
)
if st.button("Build report", type="primary", key="report_build"):
    bar = st.progress(0.0, text="Building the report…")
    try:
        inputs = report.inputs_from_workspace(ws, study)
        chosen = report.parse_examples(text, study.ids)
        built = report.build_report(
            inputs, chosen, progress=lambda d, t, s: bar.progress(d / t, text=f"Report: {s}")
        )
        deck = build_deck(
            inputs, chosen, progress=lambda d, t, s: bar.progress(d / t, text=f"Slides: {s}")
        )
    except GemvizError as exc:
        bar.empty()
        st.error(md(exc))
        st.stop()
    bar.empty()
    st.session_state["report_built"] = (
        built.html.encode("utf-8"),
        built.zip_bytes(),
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
