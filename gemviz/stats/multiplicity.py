"""Families of p-values (Holm, Benjamini-Hochberg) and the plain-words verdict of a row."""

from __future__ import annotations

import math

import numpy as np

from gemviz.stats._base import ArrayLike

# Margin of "no detectable difference": the 95% interval must lie within +/- this.
MARGIN = 0.05
# Significance level of the verdicts (applied to adjusted p-values).
ALPHA = 0.05
ADJUST_METHODS = ("holm", "bh")


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
) -> str:
    """The plain-words reading of a difference, its 95% interval and its adjusted p-value.

    - ``p_adjusted < alpha``: ``higher``/``lower`` (the interval then excludes 0, since the
      interval and the raw p-value come from one method and adjusting only raises p);
    - otherwise, when the interval lies within ``+/- margin``: "no detectable difference";
    - otherwise: "too uncertain to tell", with the interval.

    Args:
        diff, lo, hi: The difference and its 95% interval.
        p_adjusted: The p-value adjusted over the family shown.
        higher, lower: Words for a significant positive / negative difference.
        margin: Differences within +/- margin count as negligible (default 0.05).
        alpha: Significance level for the adjusted p-value.
        method: The adjustment used, named in the verdict.

    Returns:
        One sentence fragment, e.g. ``"higher (+0.12, 95% CI +0.05 to +0.19; Holm p=0.003)"``.
    """
    if diff is None or math.isnan(diff):
        return "no data"
    if lo is None or math.isnan(lo) or p_adjusted is None or math.isnan(p_adjusted):
        return f"cannot be tested ({diff:+.2f}; too few clusters)"
    label = {"holm": "Holm", "bh": "BH"}.get(method, method)
    detail = f"{diff:+.2f}, 95% CI {lo:+.2f} to {hi:+.2f}; {label}-adjusted {format_p(p_adjusted)}"
    if p_adjusted < alpha:
        return f"{higher if diff > 0 else lower} ({detail})"
    if -margin <= lo and hi <= margin:
        return f"no detectable difference (interval within ±{margin:g}; {detail})"
    return f"too uncertain to tell ({detail})"


def format_p(p: float) -> str:
    """``p<0.001``, ``p=0.0042`` or ``p=0.41``."""
    return "p<0.001" if p < 0.001 else f"p={p:.2g}" if p < 0.01 else f"p={p:.2f}"
