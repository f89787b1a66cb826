"""Calibration of gemviz's tests and intervals on simulated task-clustered agent data.

Each simulated test set has 220 tasks of 5-13 steps (about 9 on average, as in AITZ). A step
succeeds with probability ``expit(mu + b_task)``, ``b_task ~ N(0, sd)`` a per-task random
effect; the within-task correlation on the latent scale is ``ICC = sd^2 / (sd^2 + pi^2/3)``.
A "region" of whole tasks (about 78 or 400 steps) is drawn at random, so the null hypothesis
holds: the region behaves like the rest. For each setting the script reports, with steps
clustered by task and with ``--cluster-by none`` (every step independent):

- the rejection rate at alpha = 0.05 of the set-difference test (region vs its reference set,
  :func:`gemviz.stats.region_test`) and of the gap test (region vs the rest,
  :func:`gemviz.stats.clustered_diff`); a valid test rejects about 5%;
- the coverage of the region mean's 95% interval (:func:`gemviz.stats.mean_intervals`) for
  the true mean; a valid interval covers about 95%.

    python bench/calibration.py               # 1000 simulated data sets per row
    python bench/calibration.py --reps 200    # quicker
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
from scipy.special import expit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gemviz.stats import clustered_diff, mean_intervals, region_test

SEED = 42
TASKS = 220
MU = 0.4  # about 0.6 success, like exact match of a fine-tuned agent in distribution


def simulate(rng: np.random.Generator, sd: float, shift: float = 0.0, region_steps: int = 78):
    """One test set: values, task codes and a region of whole tasks of about region_steps."""
    sizes = rng.integers(5, 14, TASKS)
    codes = np.repeat(np.arange(TASKS), sizes)
    order = rng.permutation(TASKS)
    # The first tasks in random order whose steps add up closest to region_steps.
    chosen = order[: int(np.argmin(np.abs(np.cumsum(sizes[order]) - region_steps))) + 1]
    in_region = np.isin(codes, chosen)
    logit = MU + rng.normal(0.0, sd, TASKS)[codes] + shift * in_region
    values = (rng.random(codes.size) < expit(logit)).astype(float)
    return values, codes, in_region


def true_mean(sd: float) -> float:
    """The population mean of a step's success, E[expit(mu + b)], by quadrature."""
    nodes, weights = np.polynomial.hermite_e.hermegauss(80)
    return float((weights * expit(MU + sd * nodes)).sum() / weights.sum())


def one_setting(icc: float, region_steps: int, clustered: bool, reps: int, n_perm: int) -> dict:
    sd = math.sqrt(icc / (1 - icc) * math.pi**2 / 3)
    target = true_mean(sd)
    rng = np.random.default_rng(SEED)
    setdiff = gap = cover = steps = 0
    for _ in range(reps):
        values, codes, region = simulate(rng, sd, region_steps=region_steps)
        c = codes if clustered else None
        everything = np.ones_like(region)
        setdiff += region_test(values, everything, region, c, n_perm=n_perm)["p"][0] < 0.05
        gap += clustered_diff(values, ~region, region, c)["p"][0] < 0.05
        unit = codes[region] if clustered else np.arange(int(region.sum()))
        _, inv = np.unique(unit, return_inverse=True)
        est = mean_intervals(
            np.bincount(inv, values[region]),
            np.bincount(inv).astype(float),
            singletons=not clustered,
        )
        cover += est["lo"][0] <= target <= est["hi"][0]
        steps += int(region.sum())
    return {
        "setdiff": setdiff / reps,
        "gap": gap / reps,
        "cover": cover / reps,
        "steps": steps / reps,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=1000, help="data sets per row (default 1000)")
    parser.add_argument("--n-perm", type=int, default=999, help="permutations per test")
    args = parser.parse_args()
    start = time.perf_counter()
    print(
        "| ICC | region (steps, mean) | --cluster-by | set-difference test rejects "
        "| gap test rejects | 95% CI of the mean covers |"
    )
    print("|---:|---:|---|---:|---:|---:|")
    for icc in (0.0, 0.05, 0.17):
        for region_steps in (78, 400):
            for clustered in (False, True):
                out = one_setting(icc, region_steps, clustered, args.reps, args.n_perm)
                print(
                    f"| {icc:g} | {out['steps']:.0f} | {'task' if clustered else 'none'} "
                    f"| {out['setdiff']:.1%} | {out['gap']:.1%} | {out['cover']:.1%} |"
                )
    print(
        f"\n{args.reps} simulated data sets per row, {args.n_perm} permutations per test, "
        f"alpha = 0.05; {time.perf_counter() - start:.0f} s."
    )


if __name__ == "__main__":
    main()
