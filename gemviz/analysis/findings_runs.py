"""The runs view's finding: its title, chosen by one stated rule, and that rule in words.

The runs view's part of the findings (:mod:`gemviz.analysis.findings`): the title reads one
comparison of :func:`gemviz.analysis.runs.run_pairs` on both questions, from its verdicts
(:func:`runs_headline`; :func:`runs_slide_headline` says it in a slide title's two lines
and leaves the rest to a footnote); nothing here tests anything. One unit rule: means over
runs in percent, their differences and run-to-run sds in points.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from gemviz.analysis.findings import (
    SIGNIFICANT,
    UNCERTAIN,
    adjust_name,
    adjusted_p,
    kind,
    metric_words,
    p_words,
)
from gemviz.analysis.runs import QUESTION_ENTRIES, QUESTION_FIXED
from gemviz.analysis.wording import few, within, within_words


def _picked(
    pairs: pd.DataFrame, summary: pd.DataFrame, metric: str, baseline: str | None
) -> tuple[Mapping[str, Any] | None, list[str], pd.DataFrame, str]:
    """The comparison the runs view's title reads (None when there is none), the two models
    it names (leader first), the summary over all entries, and the rule that chose them."""
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
    if "family" in rows and len(rows):
        rule += f" P-values adjusted over {rows['family'].iloc[0]}."
    found = [r for r in rows.to_dict("records") if {r["model_a"], r["model_b"]} == set(pick)]
    if len(pick) < 2 or not found:
        return None, pick, summary, rule
    return found[0], pick, summary, rule


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
    the view's one family), the difference in points and the run sd in points; with one
    configuration, the spread.

    Args:
        pairs: :func:`gemviz.analysis.runs.run_pairs` output (may be empty: one model).
        summary: :func:`gemviz.analysis.runs.run_summary` output.
        metric: The metric.
        adjust: The adjustment of ``diff_p_adjusted``.
        baseline: The baseline the pairs were made against, if any.

    Returns:
        ``(title, rule)``.
    """
    found, pick, summary, rule = _picked(pairs, summary, metric, baseline)
    what = metric_words(metric)
    if found is None:
        return _spread_title(summary, what), rule
    return _pair_title(found, pick, summary, what, adjust), rule


def runs_slide_headline(
    pairs: pd.DataFrame,
    summary: pd.DataFrame,
    metric: str,
    adjust: str = "holm",
    baseline: str | None = None,
) -> tuple[str, str, str]:
    """The runs view's finding in a slide title's two lines, and the details it leaves out.

    The same comparison, numbers and verdicts as :func:`runs_headline`; the title keeps the
    difference in points with its interval and each question's verdict with its p-value,
    and the footnote says what the title leaves unsaid (runs averaged, the interval
    unadjusted, the p-values' adjustment). Arguments as :func:`runs_headline`.

    Returns:
        ``(title, footnote, rule)``; the footnote is empty when the title has no comparison.
    """
    found, pick, summary, rule = _picked(pairs, summary, metric, baseline)
    what = metric_words(metric)
    if found is None:
        return _spread_title(summary, what), "", rule
    top, other = pick
    diff, lo, hi = _led(found, top)
    head = _head(found["verdict"], diff)
    p = p_words(found["diff_p_adjusted"]) + few(int(found["n_clusters"]), "entries")
    fixed, p_fixed = _fixed_parts(found, diff)
    if fixed and head == f"{fixed} {QUESTION_ENTRIES}":
        verdicts = f"{head} ({p}) and on this benchmark" + (f" ({p_fixed})" if p_fixed else "")
    else:
        verdicts = f"{head} ({p}); on this benchmark: {fixed or 'not asked'}" + (
            f" ({p_fixed})" if p_fixed else ""
        )
    title = (
        f"{top} leads {other} by {100 * diff:.1f} points in {what} "
        f"[{100 * lo:+.1f}, {100 * hi:+.1f}]: {verdicts}"
    )
    footnote = (
        f"{_runs_of(summary, top)} and {_runs_of(summary, other)} runs averaged per entry; "
        f"[ ]: unadjusted 95% CI; p: {adjust_name(adjust)}-adjusted"
    )
    return title, footnote, rule


def _led(r: Mapping[str, Any], top: str) -> tuple[float, float, float]:
    """A comparison's difference and interval read for ``top`` (the leading model)."""
    sign = 1.0 if r["model_a"] == top else -1.0
    diff, lo, hi = (sign * float(r[c]) for c in ("diff", "diff_lo", "diff_hi"))
    return diff, min(lo, hi), max(lo, hi)


def _pair_title(
    r: Mapping[str, Any], pick: list[str], summary: pd.DataFrame, what: str, adjust: str
) -> str:
    """One comparison of the runs view on both questions, the first model leading."""
    top, other = pick
    diff, lo, hi = _led(r, top)
    ci = f"[{100 * lo:+.1f}, {100 * hi:+.1f}]"
    p = adjusted_p(r["diff_p_adjusted"], adjust) + few(int(r["n_clusters"]), "entries")
    head = _head(r["verdict"], diff)
    tail = _fixed_words(r, diff, adjust)
    runs = f"{_runs_of(summary, top)} and {_runs_of(summary, other)} runs"
    return (
        f"Over all runs, {top} leads {other} in {what} by {100 * diff:.1f} points (unadjusted "
        f"95% CI {ci}): {head}, {p}; on this benchmark as it is: {tail} ({runs})"
    )


def _head(text: str, diff: float) -> str:
    """A verdict's first words, its direction read for the leading model."""
    words = within_words(text)
    if kind(text) == SIGNIFICANT and not within(text):
        asked = next((q for q in (QUESTION_ENTRIES, QUESTION_FIXED) if words.endswith(q)), "")
        return ("higher" if diff > 0 else "lower") + (f" {asked}" if asked else "")
    return words


def _fixed_parts(r: Mapping[str, Any], diff: float) -> tuple[str, str]:
    """The fixed-benchmark question's answer (without its question; empty when not asked)
    and its adjusted p (empty when missing or the answer is too uncertain to tell)."""
    text = str(r.get("verdict_fixed", "") or "")
    if not text:
        return "", ""
    head = _head(text, diff).removesuffix(f" {QUESTION_FIXED}")
    p = p_words(r.get("diff_p_fixed_adjusted"))
    return head, p if kind(text) != UNCERTAIN else ""


def _fixed_words(r: Mapping[str, Any], diff: float, adjust: str) -> str:
    """The fixed-benchmark question's answer for the title (without its question)."""
    head, p = _fixed_parts(r, diff)
    if not head:
        return "not asked"
    return f"{head}, {adjust_name(adjust)} {p}" if p else head


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
    """The ranking of a runs board in words: first and last configuration (means in percent),
    run-to-run sd (in points).

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
        f"({100 * best['mean']:.1f}% over {int(best['runs'])} runs), {worst['model']} last "
        f"({100 * worst['mean']:.1f}%){spread}"
    )
