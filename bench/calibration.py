"""Calibration of gemviz's task-level tests and intervals where the study's decisions are made.

Simulated test sets are made of tasks with heavy-tailed lengths (2-30 steps, median 6). A
task's success probability is drawn from a Beta with mean ``p`` and intra-task correlation
``ICC`` (``ICC = 1 / (a + b + 1)``); its steps succeed independently with that probability.
For paired and interaction designs both models share the task's effect: a step succeeds with
``expit(logit(p) + b_task + model + set)``, ``b_task ~ N(0, sd)``, ``ICC = sd^2 / (sd^2 +
pi^2 / 3)`` on the latent scale. Each design is run under its null (to count false
rejections at alpha = 0.05) and under an alternative (power, and the coverage of the 95%
interval for the true value, worked out from the model):

- ``gap``: a large ID set (60 tasks) against a small OOD set of whole tasks (permutation of
  whole tasks); ``gap, straddling``: 40 ID tasks and some tasks with 20-80% of their steps
  OOD (cluster-robust score t); alternative: OOD tasks (steps) 1.5 lower on the logit scale;
- ``drill-down, straddling``: a region made of part of the steps of a few tasks, against the
  rest of its set (score t); alternative: region steps 1.5 lower;
- ``paired``: two models on the same tasks, shared task effects (sign flip of whole tasks);
  alternative: model A 1 higher;
- ``interaction``: 60 ID tasks and a small OOD set; no effects (null), or main effects without
  interaction on the log-odds scale (A 1 higher, OOD 2 lower, B near the floor on OOD), where
  the probability-scale difference in differences is not 0 but the log-odds one is;
- ``mean``: the OOD mean's Korn-Graubard interval (coverage of the true mean).

"before (CR1 t)" is the cluster-robust t with ``G - 1`` degrees of freedom that gemviz used
for these numbers before; it is shown for comparison only.

    nice -n 10 python bench/calibration.py               # 1000 simulated data sets per row
    python bench/calibration.py --reps 200               # quicker
    nice -n 10 python bench/calibration_many.py          # many configurations, unequal
                                                         # spread, rare run-averaged means
"""

from __future__ import annotations

import argparse
import math
import sys
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.special import expit, logit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gemviz.stats import (
    compare_sets,
    logodds_did,
    mean_intervals,
    paired_test,
    region_test,
)
from tests.stats_reference import clustered_diff

SEED = 42
ALPHA = 0.05
BIG_SET = 60  # ID tasks beside a small OOD set
STRADDLE_BASE = 40  # whole ID tasks beside the straddling ones
SHIFT = -1.5  # the alternative's logit shift of the smaller set
PAIRED_SHIFT = 1.0


@dataclass(frozen=True)
class Design:
    """One row of the calibration table."""

    what: str
    tasks: int
    p: float
    icc: float


def lengths(rng: np.random.Generator, k: int) -> np.ndarray:
    """Heavy-tailed task lengths, 2-30 steps (log-normal, median 6)."""
    return np.clip(np.round(np.exp(rng.normal(math.log(6), 0.8, k))), 2, 30).astype(int)


def task_probs(rng: np.random.Generator, k: int, p: float, icc: float) -> np.ndarray:
    """Per-task success probabilities: Beta with mean ``p`` and intra-task correlation ``icc``."""
    if icc <= 0:
        return np.full(k, p)
    scale = (1 - icc) / icc
    return rng.beta(p * scale, (1 - p) * scale, k)


def _latent_sd(icc: float) -> float:
    return math.sqrt(icc / (1 - icc) * math.pi**2 / 3) if icc > 0 else 0.0


def _mean_expit(mu: float, sd: float) -> float:
    """E[expit(mu + b)], b ~ N(0, sd), by Gauss-Hermite quadrature."""
    nodes, weights = np.polynomial.hermite_e.hermegauss(80)
    return float((weights * expit(mu + sd * nodes)).sum() / weights.sum())


# -- one simulated data set per design -------------------------------------------------------


def gap_data(rng, d: Design, shift: float):
    """Whole tasks: 60 ID, ``d.tasks`` OOD (shifted by ``shift`` on the logit of their mean)."""
    p_ood = float(expit(logit(d.p) + shift))
    probs = np.concatenate(
        [task_probs(rng, BIG_SET, d.p, d.icc), task_probs(rng, d.tasks, p_ood, d.icc)]
    )
    size = lengths(rng, probs.size)
    codes = np.repeat(np.arange(probs.size), size)
    values = (rng.random(codes.size) < probs[codes]).astype(float)
    in_id = codes < BIG_SET
    return values, codes, in_id, ~in_id


def straddle_data(rng, d: Design, shift: float):
    """40 whole ID tasks and ``d.tasks`` tasks with 20-80% of their steps OOD (shifted)."""
    k = STRADDLE_BASE + d.tasks
    probs = task_probs(rng, k, d.p, d.icc)
    size = lengths(rng, k)
    codes = np.repeat(np.arange(k), size)
    share = np.concatenate([np.zeros(STRADDLE_BASE), rng.uniform(0.2, 0.8, d.tasks)])
    ood = rng.random(codes.size) < share[codes]
    # Each straddling task keeps at least one step on each side.
    for task in range(STRADDLE_BASE, k):
        steps = np.flatnonzero(codes == task)
        ood[steps[0]], ood[steps[-1]] = True, False
    prob = np.where(ood, expit(logit(probs[codes]) + shift), probs[codes])
    values = (rng.random(codes.size) < prob).astype(float)
    return values, codes, ~ood, ood


def paired_data(rng, d: Design, shift: float):
    """Two models on ``d.tasks`` tasks sharing each task's effect; A shifted by ``shift``."""
    b = rng.normal(0.0, _latent_sd(d.icc), d.tasks)
    size = lengths(rng, d.tasks)
    codes = np.repeat(np.arange(d.tasks), size)
    base = logit(d.p) + b[codes]
    a = (rng.random(codes.size) < expit(base + shift)).astype(float)
    bb = (rng.random(codes.size) < expit(base)).astype(float)
    return a, bb, codes


def interaction_data(rng, d: Design, main: bool):
    """60 ID and ``d.tasks`` OOD tasks, two models sharing task effects.

    ``main``: A is 1 higher and OOD 2 lower on the log-odds scale, with no interaction there.
    """
    k = BIG_SET + d.tasks
    b = rng.normal(0.0, _latent_sd(d.icc), k)
    size = lengths(rng, k)
    codes = np.repeat(np.arange(k), size)
    in_id = codes < BIG_SET
    base = logit(d.p) + b[codes] + (np.where(in_id, 0.0, -2.0) if main else 0.0)
    a = (rng.random(codes.size) < expit(base + (1.0 if main else 0.0))).astype(float)
    bb = (rng.random(codes.size) < expit(base)).astype(float)
    return a, bb, codes, in_id


# -- true values -----------------------------------------------------------------------------


def true_value(d: Design, alternative: bool) -> float | tuple[float, float]:
    """The population value each design's interval should cover."""
    sd = _latent_sd(d.icc)
    if d.what.startswith("gap"):
        if not alternative:
            return 0.0
        if d.what == "gap":
            return d.p - float(expit(logit(d.p) + SHIFT))
        return d.p - _shifted_beta_mean(d, SHIFT)
    if d.what.startswith("drill-down"):
        return None  # a ratio of random step counts: coverage not reported
    if d.what == "paired":
        if not alternative:
            return 0.0
        mu = float(logit(d.p))
        return _mean_expit(mu + PAIRED_SHIFT, sd) - _mean_expit(mu, sd)
    if d.what.startswith("interaction"):
        mu = float(logit(d.p))
        if not alternative:
            return (0.0, 0.0)
        cells = [_mean_expit(mu + x, sd) for x in (1.0, 0.0, -1.0, -2.0)]  # A/B ID, A/B OOD
        prob = (cells[0] - cells[1]) - (cells[2] - cells[3])
        lo = [float(logit(c)) for c in cells]
        return (prob, (lo[0] - lo[1]) - (lo[2] - lo[3]))
    return d.p


def _shifted_beta_mean(d: Design, shift: float) -> float:
    rng = np.random.default_rng(SEED)
    probs = task_probs(rng, 400_000, d.p, d.icc)
    return float(expit(logit(np.clip(probs, 1e-12, 1 - 1e-12)) + shift).mean())


# -- one design, many data sets --------------------------------------------------------------


def run_design(d: Design, reps: int, seed: int = SEED) -> dict[str, float]:
    """Rejection under the null, power and coverage under the alternative, for one design.

    Returns:
        ``reject`` (share of null data sets with p < 0.05 among those tested), ``untested``
        (share not testable), ``cover`` (share of alternative data sets whose interval holds
        the true value; NaN where not reported), ``power``, ``before`` (the CR1 t's null
        rejection, NaN where it does not apply) and, for the interaction, ``logodds_reject``
        and ``logodds_cover`` (main effects, no log-odds interaction) and ``prob_reject``.
    """
    # Each design its own stream, fixed by its description (reproducible in any order).
    rng = np.random.default_rng([seed, zlib.crc32(repr(d).encode())])
    out = {k: [] for k in ("null_p", "alt_p", "cover", "before", "lo_p", "lo_cover")}
    truth = true_value(d, alternative=True)
    for _ in range(reps):
        for alternative in (False, True):
            p, covered, before, extra = _one(rng, d, alternative, truth)
            out["alt_p" if alternative else "null_p"].append(p)
            if alternative:
                out["cover"].append(covered)
                if extra is not None:
                    out["lo_p"].append(extra[0])
                    out["lo_cover"].append(extra[1])
            else:
                out["before"].append(before)
    null_p = np.array(out["null_p"], dtype=float)
    alt_p = np.array(out["alt_p"], dtype=float)
    tested = ~np.isnan(null_p)
    res = {
        "reject": float((null_p[tested] < ALPHA).mean()) if tested.any() else math.nan,
        "tested": int(tested.sum()),
        "untested": float(1 - tested.mean()),
        "power": float(np.nan_to_num(alt_p, nan=1.0).__lt__(ALPHA).mean()),
        "cover": _mean_or_nan(out["cover"]),
        "before": _mean_or_nan(out["before"]),
    }
    if out["lo_p"]:
        lo_p = np.array(out["lo_p"], dtype=float)
        res["prob_reject"] = float(np.nan_to_num(alt_p, nan=1.0).__lt__(ALPHA).mean())
        tested_lo = ~np.isnan(lo_p)
        res["logodds_reject"] = (
            float((lo_p[tested_lo] < ALPHA).mean()) if tested_lo.any() else math.nan
        )
        res["logodds_untested"] = float(1 - tested_lo.mean())
        covered = np.array(out["lo_cover"], dtype=float)
        res["logodds_cover"] = (
            float(np.nanmean(covered)) if not np.all(np.isnan(covered)) else math.nan
        )
    return res


def _mean_or_nan(values: list[float]) -> float:
    arr = np.array(values, dtype=float)
    return float(np.nanmean(arr)) if arr.size and not np.all(np.isnan(arr)) else math.nan


def _covers(lo: float, hi: float, truth: float | None) -> float:
    if truth is None or math.isnan(lo):
        return math.nan
    return float(lo <= truth <= hi)


def _one(rng, d: Design, alternative: bool, truth):
    """One data set: (p, covered, CR1 t rejection, log-odds (p, covered) or None)."""
    before, extra = math.nan, None
    if d.what in ("gap", "gap, straddling"):
        make = gap_data if d.what == "gap" else straddle_data
        values, codes, in_a, in_b = make(rng, d, SHIFT if alternative else 0.0)
        out = compare_sets(values, in_a, in_b, codes)
        if not alternative:
            before = float(clustered_diff(values, in_a, in_b, codes)["p"][0] < ALPHA)
        return out["p"][0], _covers(out["lo"][0], out["hi"][0], truth), before, None
    if d.what == "drill-down, straddling":
        values, codes, in_a, in_b = straddle_data(rng, d, SHIFT if alternative else 0.0)
        out = region_test(values, np.ones_like(in_b), in_b, codes)
        if not alternative:
            before = float(clustered_diff(values, in_b, in_a, codes)["p"][0] < ALPHA)
        return out["p"][0], math.nan, before, None
    if d.what == "paired":
        a, b, codes = paired_data(rng, d, PAIRED_SHIFT if alternative else 0.0)
        out = paired_test(a - b, np.ones(a.size, dtype=bool), codes)
        if not alternative:
            one = clustered_diff(a - b, np.ones(a.size, dtype=bool), None, codes)
            before = float(one["p"][0] < ALPHA)
        return out["p"][0], _covers(out["lo"][0], out["hi"][0], truth), before, None
    if d.what == "interaction":
        a, b, codes, in_id = interaction_data(rng, d, main=alternative)
        out = compare_sets(a - b, in_id, ~in_id, codes)
        if not alternative:
            before = float(clustered_diff(a - b, in_id, ~in_id, codes)["p"][0] < ALPHA)
            return out["p"][0], math.nan, before, None
        lo = logodds_did(a, b, in_id, ~in_id, codes)
        extra = (lo["p"][0], _covers(lo["lo"][0], lo["hi"][0], truth[1]))
        return out["p"][0], _covers(out["lo"][0], out["hi"][0], truth[0]), before, extra
    if d.what == "mean":
        values, codes, in_a, in_b = gap_data(rng, d, 0.0)
        sub = codes[in_b]
        _, inv = np.unique(sub, return_inverse=True)
        est = mean_intervals(np.bincount(inv, values[in_b]), np.bincount(inv).astype(float))
        return math.nan, _covers(est["lo"][0], est["hi"][0], d.p), math.nan, None
    raise ValueError(d.what)


# -- the table -------------------------------------------------------------------------------

TEST_OF = {
    "gap": "permutation of whole tasks",
    "gap, straddling": "cluster-robust score t",
    "drill-down, straddling": "cluster-robust score t",
    "paired": "sign flip of whole tasks",
    "interaction": "permutation of whole tasks",
    "mean": "Korn-Graubard interval",
}


def designs(quick: bool = False) -> list[Design]:
    """The table's rows (``quick``: a smaller set for the test suite)."""
    sizes = (4, 6, 8, 12, 30)
    rows = []
    for k in sizes:
        for p, icc in ((0.07, 0.15), (0.07, 0.4), (0.5, 0.4)):
            rows.append(Design("gap", k, p, icc))
    for k in sizes:
        for p, icc in ((0.07, 0.4), (0.5, 0.4)):
            rows.append(Design("gap, straddling", k, p, icc))
    for k in (3, 6, 12):
        for p, icc in ((0.07, 0.4), (0.5, 0.4)):
            rows.append(Design("drill-down, straddling", k, p, icc))
    for k in sizes:
        for p, icc in ((0.07, 0.4), (0.5, 0.4)):
            rows.append(Design("paired", k, p, icc))
    for k in (6, 12, 30):
        for p, icc in ((0.1, 0.4), (0.5, 0.4)):
            rows.append(Design("interaction", k, p, icc))
    for k in (12, 30):
        for p, icc in ((0.05, 0.5), (0.07, 0.4), (0.1, 0.4), (0.5, 0.4)):
            rows.append(Design("mean", k, p, icc))
    if quick:
        keep = {
            Design("gap", 4, 0.07, 0.15),
            Design("gap", 12, 0.07, 0.4),
            Design("gap", 12, 0.5, 0.4),
            Design("gap, straddling", 6, 0.07, 0.4),
            Design("gap, straddling", 12, 0.07, 0.4),
            Design("gap, straddling", 30, 0.5, 0.4),
            Design("drill-down, straddling", 12, 0.07, 0.4),
            Design("paired", 8, 0.07, 0.4),
            Design("interaction", 30, 0.1, 0.4),
            Design("paired", 4, 0.5, 0.4),
            Design("mean", 30, 0.07, 0.4),
        }
        rows = [r for r in rows if r in keep]
    return rows


def _pct(x: float, reps: int | None = None) -> str:
    if x is None or math.isnan(x):
        return "–"
    if reps:
        return f"{x:.1%} ± {math.sqrt(max(x * (1 - x), 1e-12) / reps):.1%}"
    return f"{x:.1%}"


def format_row(d: Design, r: dict[str, float], reps: int) -> str:
    """One Markdown row of the calibration table."""
    head = f"| {d.what} | {TEST_OF[d.what]} | {d.tasks} | {d.p:g} | {d.icc:g} "
    if d.what == "mean":
        return head + f"| – | {_pct(r['cover'])} | – | – |"
    if r["tested"] == 0:
        return head + f"| cannot be tested ({d.tasks} tasks) | – | – | {_pct(r['before'])} |"
    reject = _pct(r["reject"], r["tested"])
    if r["untested"] > 0:
        reject += f" ({r['untested']:.0%} cannot be tested)"
    if d.what == "interaction":
        untested = (
            f"; {r['logodds_untested']:.0%} cannot be tested" if r["logodds_untested"] > 0 else ""
        )
        return head + (
            f"| {reject} | {_pct(r['cover'])} (log-odds {_pct(r['logodds_cover'])}) "
            f"| main effects, no log-odds interaction: probability scale rejects "
            f"{_pct(r['prob_reject'])}, log-odds {_pct(r['logodds_reject'])}{untested} "
            f"| {_pct(r['before'])} |"
        )
    truth = true_value(d, alternative=True)
    size = f" (true difference {truth:+.3f})" if isinstance(truth, float) else ""
    return head + (
        f"| {reject} | {_pct(r['cover'])} | {_pct(r['power'])}{size} | {_pct(r['before'])} |"
    )


HEADER = (
    "| number | test | tasks in the smaller set | p | ICC | rejects a true null (± MC error) "
    "| 95% CI covers | power (alternative) | before (CR1 t) rejects |\n"
    "|---|---|---:|---:|---:|---:|---:|---:|---:|"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=1000, help="data sets per row (default 1000)")
    args = parser.parse_args()
    start = time.perf_counter()
    print(HEADER)
    for d in designs():
        print(format_row(d, run_design(d, args.reps), args.reps), flush=True)
    print(
        f"\n{args.reps} simulated data sets per row under the null and as many under the "
        f"alternative, alpha = 0.05; {time.perf_counter() - start:.0f} s."
    )


if __name__ == "__main__":
    main()
