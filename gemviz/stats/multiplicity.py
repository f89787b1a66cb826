"""Families of p-values (Holm, Benjamini-Hochberg) and the plain-words verdict of a row.

A family is fixed by what a row is about, never by what a page or command happens to show,
so one row gets one adjusted p-value in the CLI, on the pages and in the report
(:data:`FAMILIES`):

- ID-OOD gaps: one family per splitter and metric (every model of the study);
- the interaction: one family per splitter and metric (every pair of the study's models);
  its log-odds version is a family of its own, keyed the same way;
- a paired comparison: one family per pair of models, splitter and metric (its rows all,
  ID, OOD);
- the runs view (configurations run several times): every comparison it shows is one family
  (every pair, or every configuration against a baseline, over all its subsets), and the
  fixed-benchmark question's p-values a family of their own over the same rows;
- the set-difference drill-down: one family per pair of splitters and metric (both
  directions, every model).
"""

from __future__ import annotations

import math

import numpy as np

from gemviz.stats._base import ArrayLike

# Margin of "no detectable difference": the 95% interval must lie within +/- this. The
# default for per-step GUI metrics (type and exact match), read as diagnostics of a few
# hundred steps in tens of episodes, where 5 points is the smallest difference worth acting on.
MARGIN = 0.05
# Benchmark accuracy (a pass rate reported in points on a leaderboard): 1 point is a change a
# lab acts on, so only an interval within +/-1 point reads "no detectable difference".
MARGINS = {"accuracy": 0.01}
# Significance level of the verdicts (applied to adjusted p-values).
ALPHA = 0.05
ADJUST_METHODS = ("holm", "bh")
# Which columns of each analysis's rows name its family (see the module notes).
FAMILIES = {
    "gap": ("splitter", "metric"),
    "interaction": ("splitter", "metric"),
    "paired": ("model_a", "model_b", "splitter", "metric"),
    "drill-down": ("splitters", "metric"),
}


def default_margin(metric: str | None) -> float:
    """The default "no detectable difference" margin on ``metric``'s scale.

    Benchmark accuracy (``accuracy``, e.g. BFCL's pass rate): 0.01, one point; the per-step
    GUI metrics and anything else: :data:`MARGIN` (0.05).
    """
    return MARGINS.get(str(metric), MARGIN)


def check_margin(margin: float) -> float:
    """``margin`` as a float, or ValueError when it is negative, NaN or infinite."""
    value = float(margin)
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"the margin must be a finite number of 0 or more, got {margin}")
    return value


def adjust_pvalues(p: ArrayLike, method: str = "holm") -> np.ndarray:
    """Adjust a family of p-values for multiple testing.

    ``"holm"`` controls the family-wise error rate (Holm's step-down Bonferroni);
    ``"bh"`` controls the false discovery rate (Benjamini-Hochberg step-up). NaN p-values
    (tests that could not be run) stay NaN and do not count towards the family size.

    Args:
        p: The family's p-values, any shape.
        method: ``"holm"`` or ``"bh"``.

    Returns:
        Adjusted p-values, same shape, capped at 1 and never below the raw ones.

    Raises:
        ValueError: An unknown method.
    """
    method = str(method).lower()
    if method not in ADJUST_METHODS:
        raise ValueError(f"unknown p-value adjustment '{method}'; use holm or bh")
    arr = np.asarray(p, dtype=float)
    flat = arr.ravel()
    out = np.full(flat.shape, math.nan)
    ok = ~np.isnan(flat)
    q = flat[ok]
    m = q.size
    if m:
        order = np.argsort(q, kind="stable")
        sorted_p = q[order]
        rank = np.arange(1, m + 1)
        if method == "holm":
            adj = np.maximum.accumulate((m - rank + 1) * sorted_p)
        else:
            adj = np.minimum.accumulate((m / rank * sorted_p)[::-1])[::-1]
        back = np.empty(m)
        back[order] = np.minimum(adj, 1.0)
        out[ok] = back
    return out.reshape(arr.shape)


def adjust_by_family(p: ArrayLike, family: ArrayLike, method: str = "holm") -> np.ndarray:
    """:func:`adjust_pvalues` within each family: rows with equal ``family`` labels.

    Args:
        p: One p-value per row.
        family: One hashable label per row (e.g. ``"splitter|metric"``).
        method: ``"holm"`` or ``"bh"``.

    Returns:
        The adjusted p-values, in row order.
    """
    p = np.asarray(p, dtype=float)
    labels = np.asarray(family, dtype=object)
    out = np.full(p.shape, math.nan)
    for label in dict.fromkeys(labels.tolist()):
        rows = labels == label
        out[rows] = adjust_pvalues(p[rows], method)
    return out


def verdict(
    diff: float,
    lo: float,
    hi: float,
    p_adjusted: float,
    *,
    higher: str = "higher",
    lower: str = "lower",
    margin: float = MARGIN,
    alpha: float = ALPHA,
    method: str = "holm",
    clusters: int | None = None,
    unit: str = "clusters",
    question: str = "",
) -> str:
    """The plain-words reading of a difference, its 95% interval and its adjusted p-value.

    Significance and the margin are read together:

    - ``p_adjusted < alpha`` and the interval within ``+/- margin``: "significant but within
      +/-margin" (real, but too small to matter);
    - ``p_adjusted < alpha`` otherwise: ``higher``/``lower``;
    - not significant, interval within ``+/- margin``: "no detectable difference";
    - otherwise "too uncertain to tell".

    The interval is the row's unadjusted 95% interval (it inverts the same test as the raw
    p-value) and is labelled so beside the adjusted p-value. A test that could not run gives
    "cannot be tested (N clusters)".

    Args:
        diff, lo, hi: The difference and its unadjusted 95% interval.
        p_adjusted: The p-value adjusted over the row's family.
        higher, lower: Words for a significant positive / negative difference.
        margin: Differences within +/- margin count as negligible (default 0.05).
        alpha: Significance level for the adjusted p-value.
        method: The adjustment used, named in the verdict.
        clusters: Clusters on the smaller side, named when the test cannot run.
        unit: What a cluster is ("tasks", "episodes", "steps").
        question: Which question the test answers (e.g. "on entries like these"), put after
            the verdict's first words.

    Returns:
        One sentence fragment, e.g. ``"higher (+0.12, unadjusted 95% CI +0.05 to +0.19;
        Holm-adjusted p=0.003)"``.
    """
    asked = f" {question}" if question else ""
    if diff is None or math.isnan(diff):
        return "no data"
    if lo is None or math.isnan(lo) or p_adjusted is None or math.isnan(p_adjusted):
        few = f"{clusters} {unit}" if clusters is not None else f"too few {unit}"
        return f"cannot be tested{asked} ({diff:+.2f}; {few})"
    label = {"holm": "Holm", "bh": "BH"}.get(method, method)
    detail = (
        f"{diff:+.2f}, unadjusted 95% CI {lo:+.2f} to {hi:+.2f}; "
        f"{label}-adjusted {format_p(p_adjusted)}"
    )
    within = -margin <= lo and hi <= margin
    if p_adjusted < alpha:
        if within:
            return f"significant but within ±{margin:g}{asked} ({detail})"
        return f"{higher if diff > 0 else lower}{asked} ({detail})"
    if within:
        return f"no detectable difference{asked} (interval within ±{margin:g}; {detail})"
    return f"too uncertain to tell{asked} ({detail})"


def format_p(p: float) -> str:
    """``p<0.001``, ``p=0.0042`` or ``p=0.41``."""
    return "p<0.001" if p < 0.001 else f"p={p:.2g}" if p < 0.01 else f"p={p:.2f}"
