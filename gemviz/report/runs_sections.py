"""Report sections for tool-calling studies: the runs board and steps shown as conversations."""

from __future__ import annotations

import functools
import html

from gemviz.analysis import findings_runs
from gemviz.analysis.conversation import run_outputs, turns
from gemviz.analysis.runs import run_pairs, run_points, run_summary, top_pairs
from gemviz.figures import static as static_figures
from gemviz.figures.runs import runs_board, runs_board_static
from gemviz.report.base import Section, _Context, _long_table, _note, _table


def _runs(ctx: _Context) -> Section:
    """Each configuration's runs: the ranked board, the spread table and the comparisons
    (each configuration against the baseline when one is set, else the closest calls)."""
    inputs = ctx.inputs
    study, baseline = inputs.study, inputs.baseline
    if not study.models or all(study.runs(m) == 1 for m in study.models):
        return _note("Every model has a single run: no spread over runs to show."), {}
    color_by, group_by = inputs.grouping()
    style = {"configs": inputs.configs, "color_by": color_by, "group_by": group_by}
    parts, figures = [], {}
    for metric in study.metrics:
        points, summary = run_points(study, metric), run_summary(study, metric)
        parts.append(
            f'<p class="findings">{html.escape(findings_runs.ranking_finding(summary, metric))}</p>'
        )
        parts.append(ctx.plotly(runs_board(points, summary, **style)))
        figures[f"runs_{metric}.png"] = functools.partial(
            lambda p, s: static_figures.png_bytes(runs_board_static(p, s, **style)), points, summary
        )
        shown = summary.sort_values("mean", ascending=False)[
            ["model", "runs", "run_mean", "run_sd", "run_min", "run_max", "lo", "hi", "n"]
        ]
        parts.append(_table(shown.rename(columns={"lo": "95% lo", "hi": "95% hi"})))
        if len(study.models) < 2:
            continue
        parts.append(_comparisons(study, metric, summary, baseline, figures))
    parts.insert(
        0,
        _note(
            "Dots: each configuration's mean over its runs with a 95% interval; small points: "
            "each run's own mean. Comparisons use every run: the per-step outcome averaged "
            "over a configuration's runs, paired by step, intervals clustered as the study is, "
            "p-values adjusted over the comparisons shown (one family); the fixed-benchmark "
            "question compares the runs' accuracies."
        ),
    )
    return "\n".join(parts), figures


def _comparisons(study, metric: str, summary, baseline: str | None, figures: dict) -> str:
    """The runs view's comparisons: its title and rule, then the table (each configuration
    against the baseline, or every pair with the closest calls first, the rest in the ZIP)."""
    pairs = run_pairs(study, metric, baseline=baseline)
    title, rule = findings_runs.runs_headline(pairs, summary, metric, baseline=baseline)
    cols = ["model_a", "model_b", "subset", "mean_a", "mean_b", "diff", "diff_lo", "diff_hi",
            "diff_p_adjusted", "verdict", "diff_p_fixed_adjusted", "verdict_fixed"]  # fmt: skip
    rows = pairs[pairs["subset"] == "all"]
    if baseline is not None:
        table = _table(rows.sort_values("diff", ascending=False)[cols])
    else:
        table = _long_table(top_pairs(rows, len(rows))[cols], f"runs_pairs_{metric}.csv",
                            figures, "pairs, smallest adjusted p first")  # fmt: skip
    return f'<p class="findings">{html.escape(title)}</p>' + _note(rule) + table


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
