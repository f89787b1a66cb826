"""Findings in words: the one sentence a chart, a report section or a slide is titled with.

Every sentence is read off an analysis table's own numbers and verdict (its adjusted p-value
and the verdict :func:`gemviz.stats.verdict` gives it); nothing here tests anything. A
sentence never says more than its interval: a difference is called a drop or a gap only when
the table's verdict calls it significant, "no detectable difference" only when the verdict
says the interval lies within the margin, and otherwise the sentence says it is too uncertain
to tell, with the interval; a significant difference within the margin says "significant but
within", and a test resting on 5 or fewer tasks names how few. The dashboard's charts, the
HTML report and the slides all call these functions, so the three say the same thing. The
runs view's title and the rule that picks it are :func:`gemviz.analysis.findings_runs.runs_headline`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from gemviz.analysis.methods import statistics_note
from gemviz.analysis.wording import (
    few,
    interval,
    row_of,
    within,
    within_words,
)
from gemviz.stats import default_margin, format_p, verdict

#: Kinds of a verdict: a significant difference, a difference within the margin, neither.
SIGNIFICANT = "significant"
NO_DIFFERENCE = "no difference"
UNCERTAIN = "uncertain"
NO_DATA = "no data"

_ADJUST_NAMES = {"holm": "Holm", "bh": "BH"}


def kind(verdict_text: str) -> str:
    """Which of :data:`SIGNIFICANT`, :data:`NO_DIFFERENCE`, :data:`UNCERTAIN`, :data:`NO_DATA`.

    Args:
        verdict_text: A verdict as an analysis table writes it (``verdict`` column).

    Returns:
        The kind; a verdict that names a direction is significant.
    """
    text = str(verdict_text or "").strip().lower()
    if not text or text.startswith(("no data", "no steps", "the region is all of")):
        return NO_DATA
    if text.startswith("no detectable"):
        return NO_DIFFERENCE
    if text.startswith(("too uncertain", "cannot be")):
        return UNCERTAIN
    return SIGNIFICANT


def metric_words(metric: str) -> str:
    """``exact_match`` -> ``exact match``."""
    return str(metric).replace("_", " ")


def p_words(p: float) -> str:
    """``p = 0.03``, ``p = 0.0085``, ``p < 0.001``: the one rounding every title and chart
    column uses (two significant digits under 0.01, else two decimals); empty when missing."""
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return ""
    text = format_p(float(p))
    if text == "p=0.05" and p != 0.05:
        # Two digits would round 0.049 and 0.051 alike, on either side of the level.
        text = f"p={float(p):.3f}"
    return f"p {text[1]} {text[2:]}" if text[1] == "<" else f"p = {text[2:]}"


def adjust_name(adjust: str) -> str:
    """``Holm``, ``BH``: an adjustment as titles name it."""
    return _ADJUST_NAMES.get(str(adjust).lower(), str(adjust))


def adjusted_p(p: float, adjust: str = "holm") -> str:
    """``Holm p = 0.03``, ``Holm p < 0.001``; empty for a missing p-value."""
    text = p_words(p)
    return f"{adjust_name(adjust)} {text}" if text else ""


def counts(n: int, k: int, unit: str) -> str:
    """``34 steps, 5 tasks``, or ``34 steps`` when steps are their own clusters."""
    steps = f"{int(n):,} step{'s' if int(n) != 1 else ''}"
    return steps if unit == "steps" else f"{steps}, {int(k):,} {unit}"


def join_names(names: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    names = [str(n) for n in names]
    if len(names) <= 2:
        return " and ".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def method_note(
    cluster_by: str, n_clusters: int, n_steps: int, unit: str, adjust: str = "holm"
) -> str:
    """How the intervals and tests treat the steps, in the words of the method in use.

    Args:
        cluster_by: The clustering field, or ``"none"``.
        n_clusters: Number of clusters.
        n_steps: Number of test steps.
        unit: How the clusters are named (``tasks``, ``episodes``, ``steps``).
        adjust: The p-value adjustment (``holm`` or ``bh``).
    """
    count = (
        f"{n_steps:,} steps, each its own cluster."
        if cluster_by == "none"
        else f"{n_clusters:,} {unit} over {n_steps:,} steps."
    )
    return f"{count} {statistics_note(cluster_by, adjust)} Verdicts use the adjusted p-values."


def _margin_of(row: Mapping[str, Any], margin: float | None) -> float:
    return default_margin(row.get("metric")) if margin is None else margin


def gap_verdict(
    row: Mapping[str, Any] | Any, adjust: str = "holm", margin: float | None = None
) -> str:
    """The verdict of one ID/OOD table row's gap (the row's own ``gap_verdict`` if it has one
    and no other margin is asked for).

    Args:
        row: A row of :func:`gemviz.analysis.tables.id_ood_table` (mapping or namedtuple).
        adjust: The adjustment its ``gap_p_adjusted`` used.
        margin: The "no detectable difference" margin (default: the metric's).
    """
    r = row_of(row)
    if margin is None and isinstance(r.get("gap_verdict"), str):
        return r["gap_verdict"]
    if int(r.get("id_n", 0) or 0) == 0 or int(r.get("ood_n", 0) or 0) == 0:
        return "no data"
    return verdict(
        r["gap"],
        r["gap_lo"],
        r["gap_hi"],
        r["gap_p_adjusted"],
        higher="higher on ID",
        lower="higher on OOD",
        margin=_margin_of(r, margin),
        method=adjust,
        clusters=min(int(r.get("id_clusters", 0) or 0), int(r.get("ood_clusters", 0) or 0)),
    )


def gap_finding(
    row: Mapping[str, Any] | Any, unit: str, adjust: str = "holm", margin: float | None = None
) -> str:
    """One model's ID-OOD gap on one metric, as a sentence.

    E.g. "agent-weak's exact match drops 0.44 from ID to OOD [0.33, 0.55], Holm p < 0.001
    (337 ID / 63 OOD steps, 95 / 20 episodes)"; a significant gap within the margin says
    "significant but within ±0.05"; a test on 5 or fewer tasks names how few.

    Args:
        row: A row of :func:`gemviz.analysis.tables.id_ood_table`.
        unit: How clusters are named (``tasks``, ``episodes``; ``steps`` for none).
        adjust: The adjustment of ``gap_p_adjusted``.
        margin: The "no detectable difference" margin (default: the metric's).

    Returns:
        The sentence.
    """
    r = row_of(row)
    margin = _margin_of(r, margin)
    who = f"{r['model']}'s {metric_words(r['metric'])}"
    n_id, n_ood = int(r["id_n"]), int(r["ood_n"])
    if n_id == 0 or n_ood == 0:
        empty = "ID" if n_id == 0 else "OOD"
        return f"{r['splitter']} calls no step {empty}: no ID-OOD gap to measure for {who}"
    k = min(int(r.get("id_clusters", 0) or 0), int(r.get("ood_clusters", 0) or 0))
    size = f"{n_id:,} ID / {n_ood:,} OOD steps" + (
        ""
        if unit == "steps"
        else f", {int(r['id_clusters']):,} / {int(r['ood_clusters']):,} {unit}"
    )
    gap, lo, hi = float(r["gap"]), float(r["gap_lo"]), float(r["gap_hi"])
    p = adjusted_p(r["gap_p_adjusted"], adjust) + few(k, unit)
    text = gap_verdict(r, adjust, margin)
    how = kind(text)
    if how == SIGNIFICANT:
        move = "drops" if gap > 0 else "rises"
        lo_, hi_ = (lo, hi) if gap > 0 else (-hi, -lo)
        small = f", significant but within ±{margin:g}," if within(text) else ""
        return (
            f"{who} {move} {abs(gap):.2f} from ID to OOD{small} {interval(lo_, hi_)}, {p} ({size})"
        )
    detail = f"gap {gap:+.2f} {interval(lo, hi)}" + (f", {p}" if p else "")
    if how == NO_DIFFERENCE:
        return (
            f"No detectable difference in {who} between ID and OOD "
            f"(within ±{margin:g}: {detail}; {size})"
        )
    return f"Too uncertain to tell whether {who} differs between ID and OOD ({detail}; {size})"


def splitter_finding(
    table: pd.DataFrame,
    splitter: str,
    metric: str,
    unit: str,
    adjust: str = "holm",
    margin: float | None = None,
) -> str:
    """The headline of one splitter's ID/OOD bars for one metric, over every model.

    The most significant model's gap is the headline.
    When no gap is significant the sentence says whether the intervals rule a gap out (all
    within the margin) or are too wide to tell. The other models' verdicts are for a line
    below it (:func:`gap_verdict`).

    Args:
        table: :func:`gemviz.analysis.tables.id_ood_table` output.
        splitter: The splitter.
        metric: The metric.
        unit: How clusters are named.
        adjust: The adjustment of ``gap_p_adjusted``.
        margin: The "no detectable difference" margin (default: the metric's).

    Returns:
        The sentence, prefixed with the splitter's name.
    """
    margin = default_margin(metric) if margin is None else margin
    rows = table[(table["splitter"] == splitter) & (table["metric"] == metric)]
    if rows.empty:
        return f"{splitter}: no {metric_words(metric)} to compare"
    records = rows.to_dict("records")
    kinds = [kind(gap_verdict(r, adjust, margin)) for r in records]
    first = records[0]
    if int(first["id_n"]) == 0 or int(first["ood_n"]) == 0:
        empty = "ID" if int(first["id_n"]) == 0 else "OOD"
        return (
            f"{splitter} calls all {int(first['id_n']) + int(first['ood_n']):,} steps "
            f"{'OOD' if empty == 'ID' else 'ID'}: no {empty} {metric_words(metric)} to compare "
            f"({'σ may be too wide' if empty == 'OOD' else 'σ may be too narrow'})"
        )
    significant = [r for r, k in zip(records, kinds, strict=True) if k == SIGNIFICANT]
    if significant:
        significant.sort(key=lambda r: float(r["gap_p_adjusted"]))
        return f"{splitter}: {gap_finding(significant[0], unit, adjust, margin)}"
    what = metric_words(metric)
    if all(k == NO_DIFFERENCE for k in kinds):
        return (
            f"{splitter}: no detectable ID-OOD difference in {what} for any model "
            f"(every gap's interval within ±{margin:g})"
        )
    return (
        f"{splitter}: no significant ID-OOD gap in {what} for any model; the intervals are too "
        "wide to rule one out"
    )


def bars_title(table: pd.DataFrame, metric: str, unit: str, adjust: str = "holm") -> str:
    """Title of the grouped ID/OOD bars of one metric: the strongest finding over splitters.

    Args:
        table: :func:`gemviz.analysis.tables.id_ood_table` output (any splitters, models).
        metric: The metric drawn.
        unit: How clusters are named.
        adjust: The adjustment of ``gap_p_adjusted``.
    """
    rows = table[table["metric"] == metric]
    if rows.empty:
        return f"{metric_words(metric)}: no rows"
    records = rows.to_dict("records")
    empty = {
        r["splitter"]: ("ID" if int(r["ood_n"]) == 0 else "OOD")
        for r in records
        if int(r["id_n"]) == 0 or int(r["ood_n"]) == 0
    }
    notes = [
        f"{s} calls every step {label} (σ may be too {'wide' if label == 'ID' else 'narrow'})"
        for s, label in empty.items()
    ]
    significant = [r for r in records if kind(gap_verdict(r, adjust)) == SIGNIFICANT]
    if significant:
        best = min(significant, key=lambda r: float(r["gap_p_adjusted"]))
        return "; ".join([f"{best['splitter']}: {gap_finding(best, unit, adjust)}", *notes])
    tested = [r for r in records if r["splitter"] not in empty]
    if not tested:
        return "; ".join(notes)
    text = (
        f"No significant ID-OOD gap in {metric_words(metric)} for any model"
        + (" and splitter" if len({r["splitter"] for r in tested}) > 1 else "")
        + f" ({len(tested)} gaps, {_ADJUST_NAMES.get(adjust, adjust)}-adjusted)"
    )
    return "; ".join([text, *notes])


def interaction_finding(row: Mapping[str, Any] | Any, unit: str, adjust: str = "holm") -> str:
    """One row of the model x split interaction, as a sentence.

    ``did`` is A's ID-OOD gap minus B's; the sentence names the model whose gap is larger. A
    significant difference within the margin says "significant but within"; a test on 5 or
    fewer tasks names how few.

    Args:
        row: A row of :func:`gemviz.analysis.tables.interaction_table` (with ``verdict``).
        unit: How clusters are named.
        adjust: The adjustment of ``did_p_adjusted``.
    """
    r = row_of(row)
    a, b, what = r["model_a"], r["model_b"], metric_words(r["metric"])
    k = min(int(r["id_clusters"]), int(r["ood_clusters"]))
    size = f"{int(r['id_n']):,} ID / {int(r['ood_n']):,} OOD steps" + (
        ""
        if unit == "steps"
        else f", {int(r['id_clusters']):,} / {int(r['ood_clusters']):,} {unit}"
    )
    did, lo, hi = float(r["did"]), float(r["did_lo"]), float(r["did_hi"])
    p = adjusted_p(r["did_p_adjusted"], adjust) + few(k, unit)
    how = kind(r["verdict"])
    where = f"under {r['splitter']}"
    if how == SIGNIFICANT:
        big, small = (a, b) if did > 0 else (b, a)
        lo_, hi_ = (lo, hi) if did > 0 else (-hi, -lo)
        margin = f", {within_words(r['verdict'])}," if within(r["verdict"]) else ""
        return (
            f"{big}'s ID-OOD gap in {what} is {abs(did):.2f} larger than {small}'s{margin} "
            f"{interval(lo_, hi_)}, {p} ({where}; {size})"
        )
    if how == NO_DATA:
        return f"No {what} interaction of {a} and {b} {where}: one set is empty"
    detail = f"difference of gaps {did:+.2f} {interval(lo, hi)}" + (f", {p}" if p else "")
    if how == NO_DIFFERENCE:
        return f"No detectable difference between {a}'s and {b}'s ID-OOD gaps in {what} {where} ({detail})"
    return (
        f"Too uncertain to tell whether {a}'s and {b}'s ID-OOD gaps in {what} differ {where} "
        f"({detail})"
    )


def logodds_finding(row: Mapping[str, Any] | Any, unit: str, adjust: str = "holm") -> str:
    """One interaction row read on the log-odds scale, saying that the scales disagree.

    Used where a mean near 0 or 1 makes the probability-scale difference in differences
    misleading (``scale_note``): a floor or ceiling effect can make or hide it.
    """
    r = row_of(row)
    a, b, what = r["model_a"], r["model_b"], metric_words(r["metric"])
    est, lo, hi = (float(r[c]) for c in ("did_logodds", "did_logodds_lo", "did_logodds_hi"))
    k = min(int(r["id_clusters"]), int(r["ood_clusters"]))
    p = adjusted_p(r["did_logodds_p_adjusted"], adjust) + few(k, unit)
    prob = f"the probability scale reads {kind(r['verdict'])} ({float(r['did']):+.2f})"
    ci = f"[{lo:+.2f}, {hi:+.2f}] (unadjusted 95% CI)" if not math.isnan(lo) else ""
    if not math.isnan(float(r["did_logodds_p_adjusted"])) and r["did_logodds_p_adjusted"] < 0.05:
        big, small = (a, b) if est > 0 else (b, a)
        return (
            f"On the log-odds scale, {big}'s ID-OOD gap in {what} is {abs(est):.2f} larger than "
            f"{small}'s {ci}, {p} (under {r['splitter']}); the scales disagree near 0 or 1: "
            f"{prob}"
        )
    return (
        f"On the log-odds scale, no significant difference between {a}'s and {b}'s ID-OOD gaps "
        f"in {what} (log-odds {est:+.2f} {ci}{', ' + p if p else ''}; under {r['splitter']}); "
        f"the scales disagree near 0 or 1: {prob}, likely a floor or ceiling effect"
    )


def _headline_reading(r: Mapping[str, Any]) -> tuple[bool, float]:
    """Is the row significant on the scale its headline reads, and at what adjusted p?"""
    if r.get("scale_note"):
        p = float(r["did_logodds_p_adjusted"])
        return (not math.isnan(p) and p < 0.05), p
    return kind(r["verdict"]) == SIGNIFICANT, float(r["did_p_adjusted"])


def interaction_headline(inter: pd.DataFrame, metric: str, unit: str, adjust: str = "holm") -> str:
    """The headline of the interaction for one metric: its most significant row, in words.

    A row whose two scales disagree near 0 or 1 (``scale_note``) is read on the log-odds
    scale, and the sentence says so.
    """
    rows = inter[inter["metric"] == metric]
    if rows.empty:
        return f"No interaction rows for {metric_words(metric)}"
    records = rows.to_dict("records")
    readings = [_headline_reading(r) for r in records]
    significant = [(p, i) for i, (sig, p) in enumerate(readings) if sig]
    if significant:
        best = records[min(significant)[1]]
        if best.get("scale_note"):
            return logodds_finding(best, unit, adjust)
        return interaction_finding(best, unit, adjust)
    disagree = [r for r in records if r.get("scale_note")]
    if disagree:
        return logodds_finding(
            min(disagree, key=lambda r: float(r["did_p_adjusted"])), unit, adjust
        )
    if all(kind(r["verdict"]) == NO_DIFFERENCE for r in records):
        return f"No detectable difference between the models' ID-OOD gaps in {metric_words(metric)}"
    return (
        f"No significant difference between the models' ID-OOD gaps in {metric_words(metric)}; "
        "the intervals are too wide to rule one out"
    )


def drill_finding(row: Mapping[str, Any] | Any, unit: str, adjust: str = "holm") -> str:
    """One set-difference row, as a sentence (its verdict decides the wording).

    Args:
        row: A row of :func:`gemviz.analysis.overlap.set_difference`.
        unit: How clusters are named.
        adjust: The adjustment of ``p_adjusted``.
    """
    r = row_of(row)
    first, _, second = str(r["region"]).partition(" ID, ")
    second = second.removesuffix(" OOD")
    where = f"the {int(r['n']):,} steps {first} calls ID and {second} OOD"
    who = f"{r['model']}'s {metric_words(r['metric'])}"
    size = counts(r["n"], r["n_clusters"], unit)
    how = kind(r["verdict"])
    if how == NO_DATA:
        return f"No step is ID for {first} and OOD for {second}"
    diff, lo, hi = float(r["diff"]), float(r["diff_lo"]), float(r["diff_hi"])
    p = adjusted_p(r["p_adjusted"], adjust) + few(int(r["n_clusters"]), unit)
    if how == SIGNIFICANT:
        word, lo_, hi_ = ("higher", lo, hi) if diff > 0 else ("lower", -hi, -lo)
        margin = f", {within_words(r['verdict'])}," if within(r["verdict"]) else ""
        return (
            f"{who} is {abs(diff):.2f} {word} on {where} than on {first}'s whole ID set{margin} "
            f"{interval(lo_, hi_)}, {p} ({size})"
        )
    detail = f"{diff:+.2f} {interval(lo, hi)}" + (f", {p}" if p else "")
    if how == NO_DIFFERENCE:
        return f"No detectable difference in {who} on {where} vs {first}'s ID set ({detail})"
    return f"Too uncertain to tell whether {who} differs on {where} ({detail}; {size})"


def overlap_finding(labels: pd.DataFrame, names: Sequence[str]) -> str:
    """How far 2-3 splitters agree, e.g. "sentence and gem-input agree on 310 of 400 steps".

    Args:
        labels: ``study.labels`` (one ``ID``/``OOD`` column per splitter).
        names: The splitters compared.
    """
    names = list(names)
    values = labels[names].to_numpy()
    total = len(values)
    if total == 0:
        return "No steps to compare"
    agree = int((values == values[:, :1]).all(axis=1).sum())
    who = join_names(names)
    share = f"{agree / total:.0%}"
    text = f"{who} agree on {agree:,} of {total:,} steps ({share}); {total - agree:,} are disputed"
    empty = empty_sets(labels, names)
    return text + (f"; {empty[0]}" if empty else "")


def empty_sets(labels: pd.DataFrame, names: Sequence[str]) -> list[str]:
    """Notes on splitters whose ID or OOD set is empty ("gem calls no step OOD")."""
    out = []
    for name in names:
        column = labels[name]
        present = set(pd.unique(column.to_numpy()))  # one hash pass, not a text compare per label
        for label in ("ID", "OOD"):
            if label not in present and len(column):
                out.append(f"{name} calls no step {label}")
    return out
