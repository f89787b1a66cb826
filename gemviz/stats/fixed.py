"""The fixed-benchmark question: do two configurations differ on this entry set as it is?

A lab that reports one accuracy per run on a fixed benchmark asks whether configuration A
scores higher than B on *these* entries; only run-to-run variation (sampling, seeds) is
random. That question is answered by the runs' accuracies alone: Welch's t on the two sets of
run accuracies, on Welch-Satterthwaite degrees of freedom, with the interval from the same t
(so ``p < 1 - confidence`` exactly when it excludes 0). It says nothing about entries like
these (that is the clustered, paired question of :func:`gemviz.stats.paired_test`), and with
a single run on either side it cannot be asked.
"""

from __future__ import annotations

import math

import numpy as np

from gemviz.stats import _dist
from gemviz.stats._base import ArrayLike

#: Verdict of the fixed-benchmark question when a side has one run.
SINGLE_RUN = "cannot be asked with a single run"
#: Verdict when no run differs from the others on either side.
NO_RUN_SPREAD = "cannot be tested (the runs do not vary)"


def run_difference(
    runs_a: ArrayLike, runs_b: ArrayLike, confidence: float = 0.95
) -> dict[str, float]:
    """Difference of the mean run accuracies of two configurations, by Welch's t.

    Args:
        runs_a, runs_b: One accuracy per run (each run on the same entries).
        confidence: Two-sided level of the interval.

    Returns:
        ``diff, lo, hi, p, df`` (floats). ``lo, hi, p, df`` are NaN when either side has
        fewer than two runs or neither side's runs vary.
    """
    a = np.asarray(runs_a, dtype=float).ravel()
    b = np.asarray(runs_b, dtype=float).ravel()
    diff = float(a.mean() - b.mean()) if a.size and b.size else math.nan
    out = {"diff": diff, "lo": math.nan, "hi": math.nan, "p": math.nan, "df": math.nan}
    if a.size < 2 or b.size < 2:
        return out
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    total = va + vb
    # Run accuracies are means over many entries: a spread below round-off is no spread.
    if total <= 1e-24:
        return out
    df = total**2 / (va**2 / (a.size - 1) + vb**2 / (b.size - 1))
    se = math.sqrt(total)
    crit = float(_dist.t_ppf(0.5 + confidence / 2.0, df))
    out.update(
        lo=diff - crit * se,
        hi=diff + crit * se,
        p=float(2.0 * _dist.t_sf(abs(diff) / se, df)),
        df=float(df),
    )
    return out


def fixed_reason(runs_a: int, runs_b: int) -> str:
    """Why the fixed-benchmark question has no answer: one run, or runs that never vary."""
    return SINGLE_RUN if min(runs_a, runs_b) < 2 else NO_RUN_SPREAD
