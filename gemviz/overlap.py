"""Where splitters agree and disagree: Venn regions and the set-difference drill-down.

:func:`venn_regions` counts the samples in every region of 2 or 3 splitters' ID (or OOD)
sets. :func:`set_difference` looks at the steps two splitters disagree on (A says ID, B says
OOD, and the reverse) and asks, per model, whether its results there differ from its results
on A's whole ID set by more than chance would give.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from gemviz.data import EXACT_MATCH, LABELS
from gemviz.errors import GemvizError
from gemviz.stats import (
    SEED,
    SMALL_N,
    bootstrap_diff,
    mean_estimate,
    permutation_pvalue,
)
from gemviz.study import Study

VENN_COLUMNS = ["region", "members", "count", "ids"]
DRILL_COLUMNS = [
    "region", "model", "metric", "n", "mean", "lo", "hi",
    "ref_name", "ref_n", "ref_mean", "diff", "diff_lo", "diff_hi",
    "p_value", "too_small", "verdict",
]  # fmt: skip
# Significance level of the verdicts, and the widest half-width of the difference's interval
# that still counts as resolving a difference when the interval crosses zero.
ALPHA = 0.05
MAX_HALF_WIDTH = 0.1


def venn_regions(study: Study, splitters: Sequence[str], label: str = "ID") -> pd.DataFrame:
    """Count the samples in every region of 2 or 3 splitters' ``label`` sets.

    A region is the set of samples in exactly the named splitters' sets and in none of the
    others' (``"qwen only"``, ``"qwen & uitars"``, ...). Samples in no set belong to no
    region.

    Args:
        study: The aligned study.
        splitters: 2 or 3 distinct splitter names.
        label: ``"ID"`` or ``"OOD"``: whose sets to intersect.

    Returns:
        Columns :data:`VENN_COLUMNS`, one row for each of the ``2**k - 1`` regions (zero
        counts included), single splitters first, then pairs, then all three; ``ids`` lists
        the sample ids in study order.

    Raises:
        GemvizError: Not 2 or 3 distinct known splitters, or a label other than ID/OOD.
    """
    names = list(splitters)
    if not 2 <= len(names) <= 3 or len(set(names)) != len(names):
        raise GemvizError(f"a Venn diagram needs 2 or 3 distinct splitters, got {names}")
    study.check_splitters(names)
    label = str(label).upper()
    if label not in LABELS:
        raise GemvizError(f"label must be 'ID' or 'OOD', got {label!r}")
    # Bit i of a sample's code says whether splitter i puts it in the set.
    code = np.zeros(len(study), dtype=np.int64)
    for i, name in enumerate(names):
        code |= (study.labels[name].to_numpy() == label).astype(np.int64) << i
    ids = study.samples["id"].to_numpy(dtype=object)
    order = np.argsort(code, kind="stable")
    bounds = np.searchsorted(code[order], np.arange(2 ** len(names) + 1))
    masks = sorted(range(1, 2 ** len(names)), key=lambda m: (bin(m).count("1"), m))
    rows = []
    for m in masks:
        members = tuple(n for i, n in enumerate(names) if m >> i & 1)
        region = f"{members[0]} only" if len(members) == 1 else " & ".join(members)
        chosen = order[bounds[m] : bounds[m + 1]]
        rows.append(
            {
                "region": region,
                "members": members,
                "count": int(chosen.size),
                "ids": ids[chosen].tolist(),
            }
        )
    return pd.DataFrame(rows, columns=VENN_COLUMNS)


def set_difference(
    study: Study,
    a: str,
    b: str,
    metric: str = EXACT_MATCH,
    models: Sequence[str] | None = None,
    n_boot: int = 2000,
    n_perm: int = 2000,
    seed: int = SEED,
) -> pd.DataFrame:
    """Drill into the steps two splitters disagree on, model by model.

    For the region "A ID, B OOD" each model's mean there (with a Wilson interval) is compared
    with its mean on A's whole ID set, and likewise "B ID, A OOD" against B's ID set.

    The region R is part of A's ID set S, so its mean and S's mean are not independent.
    ``diff = mean(R) - mean(S)`` equals ``(1 - |R|/|S|) * (mean(R) - mean(S \\ R))``; the
    interval is that factor times a stratified bootstrap interval of
    ``mean(R) - mean(S \\ R)`` (R and the rest of S resampled separately). The p-value is a
    permutation test of R against the rest of S, shuffling membership within S: it tests the
    same null hypothesis, "the region's steps behave like the rest of A's ID set", which holds
    exactly when they behave like A's ID set as a whole.

    ``too_small`` is True when the region has fewer than :data:`gemviz.stats.SMALL_N` (30)
    steps, or when the difference's 95% interval crosses 0 while its half-width exceeds
    :data:`MAX_HALF_WIDTH` (0.1), i.e. the data could not tell a real difference of that size
    from none. The ``verdict`` says so in words, else reports whether the difference is
    significant at :data:`ALPHA` (0.05, no correction across models).

    Args:
        study: The aligned study.
        a, b: Two distinct splitters.
        metric: ``"type_match"`` or ``"exact_match"``.
        models: Models to include (default: all).
        n_boot, n_perm: Bootstrap resamples and permutations.
        seed: Seed of every resampling (the same for every row, so adding a model changes
            no other row).

    Returns:
        Columns :data:`DRILL_COLUMNS`, one row per direction x model; ``region`` reads
        ``"<a> ID, <b> OOD"`` and ``ref_name`` ``"<a> ID"``.

    Raises:
        GemvizError: Unknown or equal splitters, an unknown model or metric.
    """
    study.check_splitters([a, b])
    if a == b:
        raise GemvizError(f"compare two different splitters (got '{a}' twice)")
    models = list(study.models if models is None else models)
    study.check_models(models)
    values = study.metric(metric)
    rows = []
    for first, second in ((a, b), (b, a)):
        ref = study.is_id(first)
        region = ref & ~study.is_id(second)
        for model in models:
            x = values[model].to_numpy(np.int64)
            rows.append(
                _drill_row(x, ref, region, f"{first}'s ID set", n_boot, n_perm, seed)
                | {
                    "region": f"{first} ID, {second} OOD",
                    "model": model,
                    "metric": metric,
                    "ref_name": f"{first} ID",
                }
            )
    return pd.DataFrame(rows, columns=DRILL_COLUMNS)


def _drill_row(
    x: np.ndarray,
    ref: np.ndarray,
    region: np.ndarray,
    ref_label: str,
    n_boot: int,
    n_perm: int,
    seed: int,
) -> dict:
    inside = mean_estimate(x[region])
    ref_vals = x[ref]
    ref_n = int(ref_vals.size)
    ref_mean = float(ref_vals.mean()) if ref_n else math.nan
    member = region[ref]
    rest = ref_vals[~member]
    n = inside.n
    diff, lo, hi, p = math.nan, math.nan, math.nan, math.nan
    if n and rest.size:
        share = rest.size / ref_n
        _, dlo, dhi = bootstrap_diff(ref_vals[member], rest, n_boot=n_boot, seed=seed)
        diff, lo, hi = inside.mean - ref_mean, share * dlo, share * dhi
        p = permutation_pvalue(ref_vals, member, n_perm=n_perm, seed=seed)
    elif n:
        diff = 0.0  # the region is all of the reference set
    too_small, verdict = judge(n, diff, lo, hi, p, ref_label)
    return {
        "n": n,
        "mean": inside.mean,
        "lo": inside.lo,
        "hi": inside.hi,
        "ref_n": ref_n,
        "ref_mean": ref_mean,
        "diff": diff,
        "diff_lo": lo,
        "diff_hi": hi,
        "p_value": p,
        "too_small": too_small,
        "verdict": verdict,
    }


def judge(n: int, diff: float, lo: float, hi: float, p: float, ref: str) -> tuple[bool, str]:
    """Decide ``too_small`` and the plain-words verdict of one drill-down row.

    Args:
        n: Steps in the region.
        diff, lo, hi: The difference to the reference mean and its 95% interval.
        p: The permutation p-value.
        ref: How to name the reference set in the verdict (e.g. ``"qwen's ID set"``).

    Returns:
        ``(too_small, verdict)``.
    """
    if n == 0:
        return True, "no steps in this region"
    if n < SMALL_N:
        return True, f"n={n}: too few steps to tell a difference from chance"
    if math.isnan(p):
        return False, f"the region is all of {ref}"
    if lo <= 0.0 <= hi and (hi - lo) / 2.0 > MAX_HALF_WIDTH:
        return True, (
            f"n={n}: interval too wide to tell ({diff:+.2f}, 95% CI {lo:+.2f} to {hi:+.2f})"
        )
    if p < ALPHA:
        direction = "higher" if diff > 0 else "lower"
        return False, f"{direction} than on {ref} ({_p(p)})"
    return False, f"no detectable difference ({_p(p)})"


def _p(p: float) -> str:
    return "p<0.001" if p < 0.001 else f"p={p:.2g}" if p < 0.01 else f"p={p:.2f}"
