"""The coverage view's findings: the decisive comparison in words, and "barely separates".

The coverage part of the findings (:mod:`gemviz.analysis.findings`): each sentence reads one
row of :func:`gemviz.analysis.coverage_gain.decisive_rows` (its gains, its difference and the
verdict :func:`gemviz.stats.verdict` gives that difference) in observational words; nothing
here tests anything.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from gemviz.analysis.findings import SIGNIFICANT, empty_sets, kind, overlap_finding
from gemviz.analysis.wording import row_of
from gemviz.stats.multiplicity import MARGIN, verdict

#: Share of steps on one side from which a splitter is said to barely separate.
BARELY = 0.95


def did_verdict(r: Mapping[str, Any], adjust: str = "holm", margin: float = MARGIN) -> str:
    """The verdict on a decisive row's difference (covered gain minus uncovered gain)."""
    cn, un = int(r["covered_n"]), int(r["uncovered_n"])
    return verdict(float(r["did"]), float(r["did_lo"]), float(r["did_hi"]),
                   float(r["did_p_adjusted"]), higher="larger on covered entries",
                   lower="larger on uncovered entries", margin=margin, method=adjust,
                   clusters=min(cn, un), unit="entries")  # fmt: skip


def coverage_finding(
    row: Mapping[str, Any] | Any, baseline: str, adjust: str = "holm", margin: float = MARGIN
) -> str:
    """One decisive-comparison row in words, no further than its interval goes.

    E.g. "sft-14k's gain over base sits on the 50 entries set-14k covers (+0.56 against -0.00
    on the 150 it does not cover; difference ...)", or, for a configuration below the baseline
    on both sides, "sft-5k is 0.28 below base even on the 19 entries set-5k covers (...):
    coverage does not explain its shortfall".

    Args:
        row: A row of :func:`gemviz.analysis.coverage_gain.decisive_rows`.
        baseline: The baseline configuration.
        adjust: The adjustment behind ``did_p_adjusted``.
        margin: The "no detectable difference" margin on the metric's scale.
    """
    r = row_of(row)
    model, name = r["model"], r["train_set"]
    cn, un = int(r["covered_n"]), int(r["uncovered_n"])
    if cn == 0 or un == 0:
        which = "none" if cn == 0 else "all"
        return f"{name} covers {which} of the {cn + un} entries: no split to compare {model} on"
    cg, ug, did = float(r["covered_gain"]), float(r["uncovered_gain"]), float(r["did"])
    said = did_verdict(r, adjust, margin)
    gains = f"{cg:+.2f} against {ug:+.2f} on the {un} it does not cover; difference {said}"
    where = f"the {cn} entries {name} covers"
    if kind(said) == SIGNIFICANT and not said.startswith("significant but"):
        if did > 0:
            return f"{model}'s gain over {baseline} sits on {where} ({gains})"
        return f"{model} gains less over {baseline} on {where} ({gains})"
    if cg < -margin and ug < -margin:
        return (
            f"{model} is {abs(cg):.2f} below {baseline} even on {where} ({gains}): coverage "
            "does not explain its shortfall"
        )
    return f"{model}'s gain over {baseline} on {where} is {gains}"


def separation_note(name: str, n_id: int, n_total: int) -> str:
    """ "194 of 200 ID: gem-5k barely separates" when one side holds 95% or more; else ""."""
    n_ood = n_total - n_id
    if n_total > 0 and max(n_id, n_ood) >= BARELY * n_total:
        side, n = ("ID", n_id) if n_id >= n_ood else ("OOD", n_ood)
        return f"{n:,} of {n_total:,} {side}: {name} barely separates"
    return ""


def agreement_finding(labels: pd.DataFrame, names: Sequence[str]) -> str:
    """:func:`gemviz.analysis.findings.overlap_finding` with a :func:`separation_note` for
    each splitter that calls 95% or more of the steps one way (and has both sets), so an
    agreement count never stands alone when a splitter barely separates."""
    empty = {note.split(" calls ")[0] for note in empty_sets(labels, names)}
    total = len(labels)
    notes = [separation_note(n, int((labels[n] == "ID").sum()), total) for n in names
             if n not in empty]  # fmt: skip
    return overlap_finding(labels, names) + "".join(f"; {n}" for n in notes if n)


def signed(value: float) -> str:
    """A gain with its sign and two decimals; one that rounds to zero is ``+0.00``."""
    value = float(value)
    return "+0.00" if abs(value) < 0.005 else f"{value:+.2f}"


def sits_on_covered(row: Any, adjust: str = "holm", margin: float = MARGIN) -> bool:
    """True when the row's gain is significantly larger on covered entries (after adjustment)."""
    r = row_of(row)
    if min(int(r["covered_n"]), int(r["uncovered_n"])) == 0 or math.isnan(float(r["did_lo"])):
        return False
    said = did_verdict(r, adjust, margin)
    return kind(said) == SIGNIFICANT and not said.startswith("significant but") and r["did"] > 0


def coverage_headline(
    rows: pd.DataFrame, baseline: str, adjust: str = "holm", margin: float = MARGIN
) -> str:
    """The decisive comparison in one sentence (a slide's title): the configuration whose gain
    sits most clearly on covered entries and the one furthest below the baseline even there,
    e.g. "sft-14k's gain over base sits on the 50 entries set-14k covers (+0.56 vs +0.00);
    sft-5k is 0.28 below base even where set-5k covers"."""
    if rows is None or rows.empty:
        return f"No configuration to compare with {baseline} on covered and uncovered entries"
    records = rows.to_dict("records")
    sits = [r for r in records if sits_on_covered(r, adjust, margin)]
    below = [r for r in records if r not in sits and float(r["covered_gain"]) < -margin]
    parts = []
    if sits:
        r = max(sits, key=lambda r: float(r["did"]))
        parts.append(
            f"{r['model']}'s gain over {baseline} sits on the {int(r['covered_n'])} entries "
            f"{r['train_set']} covers ({signed(r['covered_gain'])} vs "
            f"{signed(r['uncovered_gain'])})"
        )
    if below:
        r = min(below, key=lambda r: float(r["covered_gain"]))
        parts.append(
            f"{r['model']} is {abs(float(r['covered_gain'])):.2f} below {baseline} even where "
            f"{r['train_set']} covers"
        )
    if not parts:
        return (
            f"No configuration's gain over {baseline} is shown to differ between covered and "
            "uncovered entries"
        )
    return "; ".join(parts)


def coverage_line(row: Any) -> str:
    """One set's coverage in words: "set-14k covers 50 of 200 test entries (k=5; median
    distance to the nearest example 1.13); coverage 0.28 [0.22, 0.35]; ..."."""
    r = row_of(row)
    line = (
        f"{r['train_set']} covers {int(r['covered'])} of {int(r['n_test'])} test entries "
        f"(k={int(r['k'])}; median distance to the nearest example "
        f"{float(r['median_nn_distance']):.2f}); coverage {float(r['coverage']):.2f} "
        f"[{float(r['coverage_lo']):.2f}, {float(r['coverage_hi']):.2f}]"
    )
    share = float(r.get("functions_covered", math.nan))
    if not math.isnan(share):
        line += f"; every needed function shown for {share:.0%} of entries"
    return line


def coverage_summary(sets: pd.DataFrame) -> str:
    """Every set's covered count in one sentence: "set-14k covers 50 of 200 test entries,
    set-5k 19"."""
    rows = sets.to_dict("records")
    if not rows:
        return "No training set to measure"
    first, rest = rows[0], rows[1:]
    lead = f"{first['train_set']} covers {int(first['covered'])} of {int(first['n_test'])}"
    return lead + " test entries" + "".join(f", {r['train_set']} {int(r['covered'])}" for r in rest)
