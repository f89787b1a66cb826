"""The meeting report: one self-contained HTML file of a workspace, plus its figures as PNG.

The report has a fixed list of sections (:data:`SECTIONS`): the ID/OOD tables with 95%
intervals and the ID-OOD gap, the model x split interaction, the GEM fit of each splitter, the Venn diagrams of the splitters' ID and OOD sets,
the set-difference drill-down, the embedding map and a chosen list of annotated example steps.
Each section builder returns its HTML and the PNGs of its figures. Interactive figures are
plotly, with plotly.js embedded once in the page so it opens offline; the PNGs for slides are
drawn with matplotlib (no browser needed) and zipped.

:func:`inputs_from_workspace` gathers what the report needs from a workspace;
:func:`build_report` and :func:`write_report` do the rest, and the ``report`` command and the
Report page call exactly these.
"""

from __future__ import annotations

from gemviz.report.base import Report, ReportInputs, cluster_unit, statistics_note
from gemviz.report.build import (
    SECTIONS,
    build_report,
    inputs_from_workspace,
    parse_examples,
    write_report,
)
from gemviz.report.figure_sections import default_caption

__all__ = [
    "SECTIONS",
    "Report",
    "ReportInputs",
    "build_report",
    "cluster_unit",
    "default_caption",
    "inputs_from_workspace",
    "parse_examples",
    "statistics_note",
    "write_report",
]
