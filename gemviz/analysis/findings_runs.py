"""The runs view's finding: its title, chosen by one stated rule, and that rule in words.

The runs view's part of the findings (:mod:`gemviz.analysis.findings`): the title reads one
comparison of :func:`gemviz.analysis.runs.run_pairs` on both questions, from its verdicts;
nothing here tests anything.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from gemviz.analysis.findings import (
    SIGNIFICANT,
    UNCERTAIN,
    adjusted_p,
    kind,
    metric_words,
)
from gemviz.analysis.runs import QUESTION_ENTRIES, QUESTION_FIXED
from gemviz.analysis.wording import few, within, within_words


def runs_headline(
    pairs: pd.DataFrame,
    summary: pd.DataFrame,
    metric: str,
    adjust: str = "holm",
    baseline: str | None = None,
) -> tuple[str, str]:
    """The runs view's title and the one rule that chose it (for the slide's notes).

    The rule: with a ``baseline``, the best other configuration (highest mean over its runs)
    against the baseline; without one, the best configuration against the runner-up. The
    title reads that comparison on both questions, from ``pairs``' verdicts (adjusted over
    the view's one family), with the run sd in points; with one configuration, the spread.

    Args:
        pairs: :func:`gemviz.analysis.runs.run_pairs` output (may be empty: one model).
        summary: :func:`gemviz.analysis.runs.run_summary` output.
        metric: The metric.
        adjust: The adjustment of ``diff_p_adjusted``.
        baseline: The baseline the pairs were made against, if any.

    Returns:
        ``(title, rule)``.
    """
    what = metric_words(metric)
    summary = summary[summary["subset"] == "all"] if "subset" in summary else summary
    rows = pairs[pairs["metric"] == metric] if len(pairs) else pairs
    if "subset" in rows:
        rows = rows[rows["subset"] == "all"]
    ranked = summary.sort_values("mean", ascending=False, kind="stable")["model"].tolist()
    if baseline is not None:
        rule = (
            f"Title rule: the configuration with the highest mean {what} over its runs, "
            f"against the baseline {baseline}."
        )
        pick = [*[m for m in ranked if m != baseline][:1], baseline]
    else:
        rule = (
            f"Title rule: the configuration with the highest mean {what} over its runs, "
            "against the runner-up."
        )
        pick = ranked[:2]
    family = (
        f" P-values adjusted over {rows['family'].iloc[0]}."
        if "family" in rows and len(rows)
        else ""
    )
    found = [r for r in rows.to_dict("records") if {r["model_a"], r["model_b"]} == set(pick)]
    if len(pick) < 2 or not found:
        return _spread_title(summary, what), rule + family
    return _pair_title(found[0], pick, summary, what, adjust), rule + family


def _pair_title(
    r: Mapping[str, Any], pick: list[str], summary: pd.DataFrame, what: str, adjust: str
) -> str:
    """One comparison of the runs view on both questions, the first model leading."""
    top, other = pick
    sign = 1.0 if r["model_a"] == top else -1.0
    diff, lo, hi = (sign * float(r[c]) for c in ("diff", "diff_lo", "diff_hi"))
    lo, hi = min(lo, hi), max(lo, hi)
    points = _points_metric(what)
    amount = f"{100 * diff:.1f} points" if points else f"{diff:.2f}"
    ci = f"[{100 * lo:+.1f}, {100 * hi:+.1f}]" if points else f"[{lo:+.2f}, {hi:+.2f}]"
    p = adjusted_p(r["diff_p_adjusted"], adjust) + few(int(r["n_clusters"]), "entries")
    head = _head(r["verdict"], diff)
    tail = _fixed_words(r, diff, adjust)
    runs = f"{_runs_of(summary, top)} and {_runs_of(summary, other)} runs"
    return (
        f"Over all runs, {top} leads {other} in {what} by {amount} (unadjusted 95% CI {ci}): {head}, {p}; "
        f"on this benchmark as it is: {tail} ({runs})"
    )


def _head(text: str, diff: float) -> str:
    """A verdict's first words, its direction read for the leading model."""
    words = within_words(text)
    if kind(text) == SIGNIFICANT and not within(text):
        asked = next((q for q in (QUESTION_ENTRIES, QUESTION_FIXED) if words.endswith(q)), "")
        return ("higher" if diff > 0 else "lower") + (f" {asked}" if asked else "")
    return words


def _fixed_words(r: Mapping[str, Any], diff: float, adjust: str) -> str:
    """The fixed-benchmark question's answer for the title (without its question)."""
    text = str(r.get("verdict_fixed", "") or "")
    if not text:
        return "not asked"
    head = _head(text, diff).removesuffix(f" {QUESTION_FIXED}")
    p = adjusted_p(r.get("diff_p_fixed_adjusted"), adjust)
    return f"{head}, {p}" if p and kind(text) != UNCERTAIN else head


def _points_metric(what: str) -> bool:
    return what == "accuracy"


def _runs_of(summary: pd.DataFrame, model: str) -> int:
    rows = summary[summary["model"] == model]
    return int(rows["runs"].iloc[0]) if len(rows) else 0


def _spread_title(summary: pd.DataFrame, what: str) -> str:
    """Each configuration's mean over runs and its run sd in points (one decimal)."""
    parts = [
        f"{r['model']} {100 * float(r['run_mean']):.1f}% ± {100 * float(r['run_sd']):.1f} points "
        f"({int(r['runs'])} runs)"
        for r in summary.to_dict("records")
        if int(r["runs"]) > 1 and not math.isnan(float(r["run_sd"]))
    ]
    return f"{what.capitalize()} over runs" + (": " + "; ".join(parts) if parts else "")


def runs_finding(
    pairs: pd.DataFrame,
    summary: pd.DataFrame,
    metric: str,
    adjust: str = "holm",
    baseline: str | None = None,
) -> str:
    """The title of the runs view (:func:`runs_headline` without its rule)."""
    return runs_headline(pairs, summary, metric, adjust, baseline)[0]


def ranking_finding(summary: pd.DataFrame, metric: str) -> str:
    """The ranking of a runs board in words: first and last configuration, run-to-run sd.

    Descriptive only (no test behind the order); the comparisons have their own title
    (:func:`runs_headline`).
    """
    summary = summary[summary["subset"] == "all"] if "subset" in summary else summary
    rows = summary.sort_values("mean", ascending=False, kind="stable")
    if rows.empty:
        return f"No {metric_words(metric)} over runs to rank"
    best, worst, sds = rows.iloc[0], rows.iloc[-1], rows["run_sd"].dropna()
    spread = (
        f"; sd over runs {100 * sds.min():.1f}–{100 * sds.max():.1f} points" if len(sds) else ""
    )
    return (
        f"{best['model']} ranks first of {len(rows)} on {metric_words(metric)} "
        f"({best['mean']:.2f} over {int(best['runs'])} runs), {worst['model']} last "
        f"({worst['mean']:.2f}){spread}"
    )
