"""The coverage view's findings: the decisive comparison in words, and "barely separates".

The coverage part of the findings (:mod:`gemviz.analysis.findings`): each sentence reads one
row of :func:`gemviz.analysis.coverage_gain.decisive_rows` (its gains, its difference and the
verdict :func:`gemviz.stats.verdict` gives that difference) in observational words; nothing
here tests anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gemviz.analysis.findings import SIGNIFICANT, kind
from gemviz.analysis.wording import row_of
from gemviz.stats.multiplicity import MARGIN, verdict

#: Share of steps on one side from which a splitter is said to barely separate.
BARELY = 0.95


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
    said = verdict(did, float(r["did_lo"]), float(r["did_hi"]), float(r["did_p_adjusted"]),
                   higher="larger on covered entries", lower="larger on uncovered entries",
                   margin=margin, method=adjust, clusters=min(cn, un), unit="entries")  # fmt: skip
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
