"""Report sections for tool-calling studies: the runs board and steps shown as conversations."""

from __future__ import annotations

import functools
import html

from gemviz.analysis.conversation import run_outputs, turns
from gemviz.analysis.runs import run_pairs, run_points, run_summary
from gemviz.figures import static as static_figures
from gemviz.figures.runs import runs_board, runs_board_static
from gemviz.report.base import Section, _Context, _note, _table


def _runs(ctx: _Context) -> Section:
    """Each configuration's runs: the board, the spread table and run-aware comparisons."""
    study = ctx.inputs.study
    if not study.models or all(study.runs(m) == 1 for m in study.models):
        return _note("Every model has a single run: no spread over runs to show."), {}
    parts, figures = [], {}
    for metric in study.metrics:
        points = run_points(study, metric)
        summary = run_summary(study, metric)
        parts.append(ctx.plotly(runs_board(points, summary)))
        figures[f"runs_{metric}.png"] = functools.partial(
            lambda p, s: static_figures.png_bytes(runs_board_static(p, s)), points, summary
        )
        shown = summary[
            ["model", "runs", "run_mean", "run_sd", "run_min", "run_max", "lo", "hi", "n"]
        ]
        parts.append(_table(shown.rename(columns={"lo": "95% lo", "hi": "95% hi"})))
        if len(study.models) > 1:
            pairs = run_pairs(study, metric)
            cols = ["model_a", "model_b", "runs_a", "runs_b", "mean_a", "mean_b", "diff",
                    "diff_lo", "diff_hi", "diff_p_adjusted", "verdict"]  # fmt: skip
            parts.append(_table(pairs[cols]))
    parts.insert(
        0,
        _note(
            "Points: each run's mean with its 95% interval; diamonds: the mean over runs ± one "
            "sd of the run means. Comparisons use every run: the per-step outcome averaged "
            "over a configuration's runs, paired by step, intervals clustered as the study is, "
            "p-values Holm-adjusted over the pairs."
        ),
    )
    return "\n".join(parts), figures


def conversation_html(ctx: _Context, pos: int) -> str:
    """A text-only step as HTML: turns, ground-truth calls and each run's outcome (escaped)."""
    study = ctx.inputs.study
    rows = []
    for t in turns(study, pos, ctx.inputs.answers).itertuples():
        truth = f"<pre>{html.escape(t.ground_truth)}</pre>" if t.ground_truth else ""
        rows.append(f"<p><b>Turn {t.turn}.</b> {html.escape(t.user)}</p>{truth}")
    if ctx.inputs.run_tables:
        runs = run_outputs(ctx.inputs.run_tables, study.ids[pos])
        outcome = runs.groupby("model", sort=False)["passed"].agg(["sum", "count"])
        marks = ", ".join(
            f"{html.escape(str(m))} {int(r['sum'])}/{int(r['count'])}"
            for m, r in outcome.iterrows()
        )
        rows.append(f"<p><b>Runs passed:</b> {marks}</p>")
    return '<div class="conversation">' + "\n".join(rows) + "</div>"
