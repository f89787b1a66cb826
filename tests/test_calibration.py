"""Calibration shown, not claimed: simulated task-clustered nulls.

Tasks of 5-13 steps carry a per-task random effect on the logit of success (sd 0.8 and 1.5,
within-task correlation 0.16 and 0.41). Regions are whole tasks, as GEM's task-level scores
make them. At alpha = 0.05 the cluster-aware tests must reject a true null at most 7% of the
time and 95% intervals cover at least 92%, while step-level inference (what gemviz did before)
does not; a real effect must still be found.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit

from gemviz.stats import SCORE_T, clustered_diff, mean_intervals, region_test
from tests.conftest import SEED

TASKS = 160
MU = 0.4


def _simulate(rng, sd: float, region_tasks: int, shift: float = 0.0):
    sizes = rng.integers(5, 14, TASKS)
    codes = np.repeat(np.arange(TASKS), sizes)
    region = np.isin(codes, rng.choice(TASKS, region_tasks, replace=False))
    logit = MU + rng.normal(0.0, sd, TASKS)[codes] + shift * region
    return (rng.random(codes.size) < expit(logit)).astype(float), codes, region


def _true_mean(sd: float) -> float:
    nodes, weights = np.polynomial.hermite_e.hermegauss(80)
    return float((weights * expit(MU + sd * nodes)).sum() / weights.sum())


def _rates(sd: float, clustered: bool, reps: int, shift: float = 0.0) -> dict[str, float]:
    rng = np.random.default_rng(SEED)
    target = _true_mean(sd)
    setdiff = gap = cover = 0
    for r in range(reps):
        values, codes, region = _simulate(rng, sd, region_tasks=9 if r % 2 else 44, shift=shift)
        c = codes if clustered else None
        test = region_test(values, np.ones_like(region), region, c, n_perm=199)
        setdiff += test["p"][0] < 0.05
        gap += clustered_diff(values, ~region, region, c)["p"][0] < 0.05
        unit = codes[region] if clustered else np.arange(int(region.sum()))
        _, inv = np.unique(unit, return_inverse=True)
        est = mean_intervals(
            np.bincount(inv, values[region]),
            np.bincount(inv).astype(float),
            singletons=not clustered,
        )
        cover += est["lo"][0] <= target <= est["hi"][0]
    return {"setdiff": setdiff / reps, "gap": gap / reps, "cover": cover / reps}


@pytest.mark.parametrize("sd", [0.8, 1.5])
def test_cluster_aware_tests_hold_their_level_and_intervals_their_coverage(sd):
    rates = _rates(sd, clustered=True, reps=500)
    assert rates["setdiff"] <= 0.07
    assert rates["gap"] <= 0.07
    assert rates["cover"] >= 0.92


def test_step_level_inference_fails_on_the_same_data():
    # Why clusters matter: treating steps as independent rejects far too often.
    rates = _rates(1.5, clustered=False, reps=150)
    assert rates["setdiff"] > 0.15 and rates["gap"] > 0.15
    assert rates["cover"] < 0.9


def test_a_real_effect_is_detected():
    # The region's tasks are better by 1.5 on the logit scale (about +0.25 in success rate).
    rates = _rates(0.8, clustered=True, reps=60, shift=1.5)
    assert rates["setdiff"] >= 0.7 and rates["gap"] >= 0.7


def test_drill_down_holds_its_level_when_tasks_straddle_the_region():
    # Scores that vary within a task put some of a task's steps in the region and the rest
    # outside. Shuffling whole tasks then understates the null spread (it rejected 15-40% in
    # simulation); the drill-down switches to the cluster-robust t and must hold its level.
    rng = np.random.default_rng(SEED)
    rejected, reps = 0, 400
    for _ in range(reps):
        sizes = rng.integers(5, 14, TASKS)
        codes = np.repeat(np.arange(TASKS), sizes)
        values = (rng.random(codes.size) < expit(MU + rng.normal(0, 0.8, TASKS)[codes])).astype(
            float
        )
        region = (rng.random(TASKS) < 0.3)[codes] & (rng.random(codes.size) < 0.2)
        out = region_test(values, np.ones_like(region), region, codes, n_perm=99)
        assert out["method"][0] == SCORE_T
        rejected += out["p"][0] < 0.05
    assert rejected / reps <= 0.07
