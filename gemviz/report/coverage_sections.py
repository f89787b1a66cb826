"""The training-set coverage section of the report and its slides.

:func:`coverage_inputs` measures a workspace's training sets once
(:mod:`gemviz.analysis.training_sets`) with the decisive comparison against the baseline;
:func:`coverage_section` writes the HTML section (the sets side by side, a map per set,
functions x sets, the decisive chart and table) and :func:`training_set_slides` the slides (the
decisive finding as the title over the chart with intervals, then the sets side by side). A
study without training sets gets a note in the report and no slide.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import matplotlib.pyplot as plt
import pandas as pd

from gemviz.analysis import training_sets as cov
from gemviz.analysis.findings_coverage import coverage_headline, coverage_line, coverage_summary
from gemviz.data.study import Study
from gemviz.figures import static as static_figures
from gemviz.figures.coverage import coverage_map, gain_chart, gain_chart_static
from gemviz.report.base import Section, _Context, _note, _table
from gemviz.report.deck import Deck
from gemviz.report.textfit import EMU_PER_INCH
from gemviz.workspace.configs import configurations

#: Function rows the report lists (most needed first); the ZIP's CSV has them all.
REPORT_FUNCTIONS = 40
_DECISIVE = ["train_set", "model", "covered_n", "uncovered_n", "covered_gain", "uncovered_gain",
             "did", "did_lo", "did_hi", "did_p_adjusted", "verdict"]  # fmt: skip


@dataclass
class CoverageInputs:
    """A workspace's training sets measured, and the decisive comparison with the baseline.

    Attributes:
        found: The sets (:class:`gemviz.analysis.training_sets.TrainingSets`).
        baseline: The configuration the others are compared with (None: no models).
        metric: The metric compared.
        decisive: :func:`gemviz.analysis.training_sets.decisive` rows.
        gains: :func:`gemviz.analysis.training_sets.gain_rows` rows.
    """

    found: cov.TrainingSets
    baseline: str | None
    metric: str
    decisive: pd.DataFrame
    gains: pd.DataFrame


def coverage_inputs(
    workspace, study: Study, answers: dict | None = None, baseline: str | None = None
) -> CoverageInputs | None:
    """The coverage section's numbers for a workspace (None when it has no training set).

    Raises:
        GemvizError: A training set's files are unreadable or do not match the test set.
    """
    entries = cov.training_entries(workspace)
    if not entries:
        return None
    found = cov.training_sets(study, entries, answers or None)
    baseline = baseline or cov.default_baseline(study.models, workspace)
    metric = study.default_metric
    if baseline is None:
        empty = pd.DataFrame()
        return CoverageInputs(found, None, metric, empty, empty)
    trained = cov.trained_on(found.names, configurations(workspace))
    return CoverageInputs(
        found,
        baseline,
        metric,
        cov.decisive(study, found, baseline, metric, trained),
        cov.gain_rows(study, found, baseline, metric, trained),
    )


def coverage_section(ctx: _Context) -> Section:
    """The HTML section (see the module notes) and its figures for the ZIP."""
    data: CoverageInputs | None = ctx.inputs.coverage
    if data is None:
        return _note("No splitter of this workspace keeps a training set's records and "
                     "embeddings: no coverage to report."), {}  # fmt: skip
    found = data.found
    parts = ['<ul class="findings">']
    parts += [f"<li>{html.escape(coverage_line(r))}</li>" for r in found.sets.to_dict("records")]
    parts.append("</ul>")
    parts.append(_table(cov.side_by_side(found)))
    tokenizer = found.profiles["tokenizer"].iloc[0] if len(found.profiles) else ""
    parts.append(_note(
        f"Exact k-nearest-neighbour search (k={found.k}) on unit-length embeddings; covered: "
        "within some training example's k-NN radius. Coverage (Naeem et al. 2020) with a 95% "
        "interval over test entries; precision and recall (Kynkäänniemi et al. 2019) with the "
        f"test set as the real sample. Tokens by {tokenizer}."
    ))  # fmt: skip
    for name in found.names:
        fig = coverage_map(cov.map_points(found, name), f"{name} and the test entries (PCA)")
        parts.append(ctx.plotly(fig))
    table = cov.function_matrix(found)
    if not table.empty:
        parts.append(f"<h3>Functions the test entries need ({len(table)}), by set</h3>")
        parts.append(_table(table.head(REPORT_FUNCTIONS)))
        for name, missing in found.missing.items():
            parts.append(_note(f"{name} never shows {len(missing)} needed functions: "
                               + ", ".join(missing)))  # fmt: skip
    figures = {}
    if data.baseline is not None and not data.decisive.empty:
        parts.append("<h3>Do configurations gain where their training data covers?</h3>")
        parts.append(f'<p class="findings">{html.escape(headline(data))}</p>')
        parts.append(ctx.plotly(gain_chart(data.gains, data.baseline, data.metric)))
        parts.append(_table(data.decisive[_DECISIVE]))
        parts.append(_note(_COMPARISON_NOTE))
        figures["coverage_gains.png"] = _gain_png(data)
    return "\n".join(parts), figures


_COMPARISON_NOTE = (
    "Gain: a configuration's per-entry outcome (runs averaged) minus the baseline's, on the "
    "entries a set covers (filled dots) and on the others (hollow), each with its 95% "
    "interval (cluster sign-flip); did: their difference with the task-level test, "
    "Holm-adjusted over every row. Observational: covered and uncovered entries may differ in "
    "other ways."
)


def headline(data: CoverageInputs) -> str:
    """The decisive finding (the slide's title)."""
    return coverage_headline(data.decisive, data.baseline or "")


def _gain_png(data: CoverageInputs) -> bytes:
    fig = gain_chart_static(data.gains, data.baseline or "")
    try:
        return static_figures.png_bytes(fig)
    finally:
        plt.close(fig)


def training_set_slides(deck: Deck) -> None:
    """The decisive finding over its chart, then the sets side by side (no slide without
    training sets)."""
    data: CoverageInputs | None = deck.inputs.coverage
    if data is None:
        return
    found = data.found
    if data.baseline is not None and not data.decisive.empty:
        notes = (
            " ".join(f"{r.train_set} × {r.model}: {r.verdict}." for r in data.decisive.itertuples())
            + " " + _COMPARISON_NOTE + " "
            + deck.stats_note(len(data.decisive), "set × configuration rows")
        )  # fmt: skip
        slide = deck.slide(headline(data), notes)
        _, _, width, height = deck.body_box()
        size = (width / EMU_PER_INCH, height / EMU_PER_INCH)
        deck.chart(slide, gain_chart_static(data.gains, data.baseline or "", size=size,
                                            font=deck.chart_font()))  # fmt: skip
    lines = [coverage_line(r) for r in found.sets.to_dict("records")]
    table = cov.side_by_side(found)
    notes = " ".join(
        f"{row['measure']}: " + ", ".join(f"{n} {row[n]}" for n in found.names) + "."
        for row in table.to_dict("records")
    )
    slide = deck.slide(coverage_summary(found.sets), notes)
    deck.text(slide, lines + _profile_lines(table, found.names), deck.body_box(), size=18)


def _profile_lines(table: pd.DataFrame, names: list[str]) -> list[str]:
    keep = ("tool calls per conversation", "tokens (mean ± sd)", "exact / near duplicates",
            "diversity (mean cosine distance)")  # fmt: skip
    rows = table.set_index("measure")
    return [f"{m}: " + " · ".join(f"{n} {rows.loc[m, n]}" for n in names) for m in keep]
