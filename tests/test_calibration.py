"""Calibration shown, not claimed: the hard designs of ``bench/calibration.py``, fewer data sets.

Few tasks in the smaller set (4-30), rare outcomes (p = 0.07-0.1), intra-task correlation up
to 0.4, heavy-tailed task lengths (2-30 steps), regions that straddle tasks, paired models
sharing task effects, and main effects without an interaction. Each task-level test must
reject a true null at most 7% of the time and each 95% interval cover at least 93%, where the
cluster-robust t that gemviz used before does not; below the clusters any test needs, the
answer is "cannot be tested"; a real effect must still be found.
"""

from __future__ import annotations

import math

import pytest

from bench.calibration import Design, designs, run_design
from bench.calibration_many import run_many, run_questions, run_rare, run_unequal

# Slow: simulations of every test's level over many draws (outside `-m "not slow"`).
pytestmark = pytest.mark.slow

REPS = 300


@pytest.fixture(scope="module")
def results() -> dict[Design, dict[str, float]]:
    return {d: run_design(d, REPS) for d in designs(quick=True)}


def test_every_task_level_test_holds_its_level(results):
    for d, r in results.items():
        if d.what == "mean" or r["tested"] == 0:
            continue
        assert r["reject"] <= 0.07, (d, r)
        if not math.isnan(r["cover"]):
            assert r["cover"] >= 0.93, (d, r)


def test_the_cr1_t_did_not_hold_its_level_in_the_hardest_design(results):
    # Four OOD tasks, rare success, ICC 0.15: the old t rejected a true null far too often.
    r = results[Design("gap", 4, 0.07, 0.15)]
    assert r["before"] > 0.12 and r["reject"] <= 0.07


def test_rare_outcome_means_cover(results):
    assert results[Design("mean", 30, 0.07, 0.4)]["cover"] >= 0.93


def test_too_few_tasks_cannot_be_tested(results):
    # Four tasks: 16 sign flips, the smallest attainable p-value 2/16 > 0.05.
    r = results[Design("paired", 4, 0.5, 0.4)]
    assert r["tested"] == 0 and r["untested"] == 1.0
    # Six straddling tasks: the score t would accept shifts without end.
    assert results[Design("gap, straddling", 6, 0.07, 0.4)]["tested"] == 0
    # Twelve: it can be run, and holds its level (above).
    assert results[Design("gap, straddling", 12, 0.07, 0.4)]["untested"] < 0.1


def test_real_effects_are_found(results):
    assert results[Design("gap", 12, 0.5, 0.4)]["power"] >= 0.4
    assert results[Design("paired", 8, 0.07, 0.4)]["power"] >= 0.1
    assert results[Design("gap, straddling", 30, 0.5, 0.4)]["power"] >= 0.4


def test_floor_effects_are_not_taken_for_an_interaction(results):
    # A one logit better than B in both sets, OOD near the floor: the probability-scale
    # difference in differences is real and found, the log-odds one is 0 and rarely rejected.
    r = results[Design("interaction", 30, 0.1, 0.4)]
    assert r["prob_reject"] >= 0.3
    assert r["logodds_reject"] <= 0.07 and r["logodds_cover"] >= 0.93


# -- many configurations, unequal spread, rare run-averaged means ------------------------------

MANY_REPS = 40


@pytest.mark.slow
def test_eighteen_identical_configurations_rarely_show_a_significant_pair():

    r = run_many(0.0, MANY_REPS)
    # Family-wise error at most 5% give or take the Monte Carlo error (2 se); unadjusted,
    # almost every study would show a "significant" pair.
    bound = 0.05 + 2 * math.sqrt(0.05 * 0.95 / MANY_REPS)
    for key in ("all", "all_fixed", "base", "base_fixed"):
        assert r[key] <= bound, (key, r)
    assert r["raw"] >= 0.5


@pytest.mark.slow
def test_a_five_point_gain_is_found_but_seventeen_comparisons_cost_power():

    r = run_many(0.05, MANY_REPS // 2)
    # Alone, five points on 200 entries is usually found; among 17 comparisons less often.
    assert r["raw"] >= 0.5 and r["base_fixed"] >= 0.1


@pytest.mark.slow
def test_each_question_holds_its_level_under_its_own_null():

    reps = 600
    bound = 0.05 + 2 * math.sqrt(0.05 * 0.95 / reps)
    entries = run_questions("entries", reps)
    benchmark = run_questions("benchmark", reps // 2)
    assert entries["entries"] <= bound and benchmark["fixed"] <= 0.05
    # The run t answers the other question: equal on entries like these, it still finds the
    # difference the 200 entries drawn happen to make, far more often than 5%.
    assert entries["fixed"] >= 0.15


@pytest.mark.slow
@pytest.mark.parametrize(
    ("what", "k", "p"),
    [("gap", 4, 0.07), ("gap", 8, 0.5), ("gap", 30, 0.07), ("drill-down", 8, 0.07),
     ("interaction", 12, 0.5)],
)  # fmt: skip
def test_unequal_spread_holds_its_level(what, k, p):

    reps = 300
    r = run_unequal(what, k, p, reps)
    # At most 7%, give or take the Monte Carlo error (2 se).
    assert r["reject"] <= 0.07 + 2 * math.sqrt(0.07 * 0.93 / reps), r


@pytest.mark.slow
def test_unequal_spread_broke_the_plain_permutation():

    r = run_unequal("gap", 8, 0.07, 200)
    assert r["before"] > 0.09 and r["reject"] <= 0.07, r


@pytest.mark.slow
@pytest.mark.parametrize(("p", "icc"), [(0.004, 0.5), (0.01, 0.5), (0.05, 0.5)])
def test_rare_run_averaged_means_cover(p, icc):

    r = run_rare(p, icc, 300)
    assert r["cover"] >= 0.93 and r["upper"] < 0.1, r
