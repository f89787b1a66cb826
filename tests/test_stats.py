"""Tests for gemviz.stats: known values and agreement with naive resampling loops."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import stats as sps
from scipy.special import expit
from threadpoolctl import threadpool_info

import gemviz.stats.randomization as rnd
from gemviz.stats import (
    NO_RUN_SPREAD,
    PERMUTATION,
    SCORE_T,
    SIGN_FLIP,
    SINGLE_RUN,
    UNTESTABLE,
    _dist,
    _select,
    adjust_pvalues,
    check_margin,
    compare_sets,
    default_margin,
    fixed_reason,
    logodds_did,
    mcnemar_exact,
    mean_estimate,
    paired_test,
    randomization,
    region_test,
    run_difference,
    verdict,
    wilson_interval,
)
from gemviz.stats._base import one_blas_thread
from tests.conftest import SEED
from tests.stats_reference import (
    bootstrap_diff,
    bootstrap_means,
    clustered_diff,
    difference,
    permutation_pvalue,
)


def test_wilson_known_values():
    # 50/100: the textbook Wilson interval 0.4038 .. 0.5962.
    np.testing.assert_allclose(wilson_interval(50, 100), (0.40383, 0.59617), atol=1e-5)
    # 0/10: upper bound z^2 / (n + z^2) = 3.8415 / 13.8415.
    lo, hi = wilson_interval(0, 10)
    assert lo == 0.0
    assert hi == pytest.approx(1.959964**2 / (10 + 1.959964**2), abs=1e-6)
    assert wilson_interval(10, 10)[1] == 1.0
    assert all(math.isnan(v) for v in wilson_interval(0, 0))
    with pytest.raises(ValueError):
        wilson_interval(11, 10)


def test_mean_estimate_flags_small_samples():
    est = mean_estimate([1, 0, 1, 1])
    assert (est.mean, est.n) == (0.75, 4)
    assert est.small
    assert (est.lo, est.hi) == wilson_interval(3, 4)
    assert not mean_estimate(np.ones(30)).small
    assert mean_estimate([]).n == 0


def test_mcnemar_hand_computed():
    # b=1, c=9: two-sided 2 * P(X <= 1), X ~ Bin(10, 1/2) = 2 * 11 / 1024.
    assert mcnemar_exact(1, 9) == pytest.approx(22 / 1024)
    assert mcnemar_exact(9, 1) == pytest.approx(22 / 1024)
    assert mcnemar_exact(5, 5) == pytest.approx(1.0)
    assert mcnemar_exact(0, 0) == 1.0


@pytest.mark.parametrize("kind", ["binary", "continuous"])
def test_bootstrap_means_match_index_resampling(kind):
    rng = np.random.default_rng(SEED)
    n = 200
    values = (rng.random(n) < 0.3).astype(float) if kind == "binary" else rng.normal(size=n)
    fast = bootstrap_means(values, n_boot=4000, seed=SEED)
    naive = np.array([values[rng.integers(0, n, n)].mean() for _ in range(4000)])
    assert fast.mean() == pytest.approx(values.mean(), abs=0.01)
    assert fast.std() == pytest.approx(naive.std(), rel=0.1)
    assert fast.std() == pytest.approx(values.std() / math.sqrt(n), rel=0.1)
    np.testing.assert_array_equal(fast, bootstrap_means(values, n_boot=4000, seed=SEED))


def test_bootstrap_diff_paired_and_unpaired():
    rng = np.random.default_rng(SEED)
    a = (rng.random(400) < 0.6).astype(int)
    b = np.where(rng.random(400) < 0.1, 1 - a, a)
    diff, lo, hi = bootstrap_diff(a, b, paired=True, seed=SEED)
    assert diff == pytest.approx(a.mean() - b.mean())
    assert lo < diff < hi
    # Paired resampling sees only the few discordant steps: far narrower than unpaired.
    _, ulo, uhi = bootstrap_diff(a, b, paired=False, seed=SEED)
    assert (hi - lo) < 0.6 * (uhi - ulo)
    se = math.sqrt(a.mean() * (1 - a.mean()) / 400 + b.mean() * (1 - b.mean()) / 400)
    assert (uhi - ulo) == pytest.approx(2 * 1.96 * se, rel=0.15)
    assert bootstrap_diff(a, a, paired=True) == (0.0, 0.0, 0.0)
    assert all(math.isnan(v) for v in bootstrap_diff([], [1, 0]))
    with pytest.raises(ValueError):
        bootstrap_diff([1, 0], [1], paired=True)


@pytest.mark.parametrize("kind", ["binary", "continuous"])
def test_permutation_pvalue_matches_naive_loop(kind):
    rng = np.random.default_rng(SEED)
    n, m = 120, 40
    values = (rng.random(n) < 0.5).astype(float) if kind == "binary" else rng.normal(size=n)
    member = np.zeros(n, dtype=bool)
    member[:m] = True
    values[:m] += 0.25 if kind == "continuous" else 0
    if kind == "binary":
        values[: m // 4] = 1.0
    observed = abs(values[member].mean() - values[~member].mean())
    hits = 0
    for _ in range(4000):
        perm = rng.permutation(member)
        hits += abs(values[perm].mean() - values[~perm].mean()) >= observed - 1e-12
    naive = (1 + hits) / 4001
    fast = permutation_pvalue(values, member, n_perm=4000, seed=SEED)
    assert 0.01 < naive < 0.9
    assert fast == pytest.approx(naive, abs=0.03)


def test_permutation_pvalue_edges():
    member = np.arange(40) < 20
    # Perfect separation: no shuffle is as extreme, so p is its floor 1 / (n_perm + 1).
    assert permutation_pvalue(member.astype(float), member, n_perm=999) == pytest.approx(1e-3)
    assert permutation_pvalue(np.ones(40), member) == 1.0
    assert math.isnan(permutation_pvalue(np.ones(5), np.ones(5, dtype=bool)))
    # The exact hypergeometric test agrees with the binary shortcut on a lopsided case.
    values = np.r_[np.ones(15), np.zeros(5), np.ones(8), np.zeros(12)]
    exact = sps.fisher_exact([[15, 5], [8, 12]]).pvalue
    assert permutation_pvalue(values, member, n_perm=20000) == pytest.approx(exact, abs=0.01)


def test_mean_estimate_without_clusters_is_wilson_with_cluster_count():
    est = mean_estimate([1, 0, 1, 1, 0])
    assert est.n_clusters == est.n == 5
    assert (est.lo, est.hi) == pytest.approx(wilson_interval(3, 5))


def test_mean_estimate_clustered_known_answer():
    # Each of K independent steps copied 5 times into one cluster. Korn-Graubard: the design effect is the cluster-robust variance over the binomial
    # one, the effective n is shrunk by (t_{n-1} / t_df)**2 with df one less than the
    # clusters holding the rarer outcome, and the interval is Clopper-Pearson's on that
    # effective n (here above Kish's n, the floor: every cluster one draw).
    rng = np.random.default_rng(SEED)
    k = 12
    base = (rng.random(k) < 0.6).astype(float)
    values = np.repeat(base, 5)
    codes = np.repeat(np.arange(k), 5)
    est = mean_estimate(values, codes)
    assert (est.n, est.n_clusters) == (60, 12)
    m = base.mean()
    var = k / (k - 1) * (25 * (base - m) ** 2).sum() / 60**2
    deff = var / (m * (1 - m) / 60)
    df = min(base.sum(), k - base.sum()) - 1
    n_eff = 60 / deff * (sps.t.ppf(0.975, 59) / sps.t.ppf(0.975, df)) ** 2
    # Five copies of each step: Kish's n is the K clusters, and no spread can exceed that.
    assert n_eff < k
    n_eff = k
    x = m * n_eff
    lo, hi = sps.beta.ppf(0.025, x, n_eff - x + 1), sps.beta.ppf(0.975, x + 1, n_eff - x)
    assert est.mean == pytest.approx(m)
    assert (est.lo, est.hi) == pytest.approx((lo, hi))
    # Far wider than the step-level interval that pretends the 60 steps are independent.
    plain = mean_estimate(values)
    assert est.hi - est.lo > 1.8 * (plain.hi - plain.lo)
    assert not plain.small and mean_estimate(values[:45], codes[:45]).small  # 9 clusters


def test_mean_of_zero_uses_the_effective_n_of_the_cluster_sizes():
    # All 0 over 8 clusters of 5: no variance to estimate, so Kish's effective n (8 here) and
    # the Clopper-Pearson upper bound 1 - 0.025**(1/n_eff): every cluster one draw, the most
    # spread values in [0, 1] allow, so no few-cluster shrinkage goes below it.
    codes = np.repeat(np.arange(8), 5)
    zero = mean_estimate(np.zeros(40), codes)
    n_eff = 8
    assert zero.lo == 0.0
    assert zero.hi == pytest.approx(1 - 0.025 ** (1 / n_eff))
    one = mean_estimate(np.ones(40), codes)
    assert (one.lo, one.hi) == pytest.approx((1 - zero.hi, 1.0))
    # Uneven clusters count for less: 38 steps in one cluster and 1 in each of two others.
    lopsided = mean_estimate(np.zeros(40), np.repeat([0, 1, 2], [38, 1, 1]))
    assert lopsided.hi > zero.hi


def test_mean_estimate_clustered_edges():
    one = mean_estimate([1, 0, 1], [7, 7, 7])
    assert (one.lo, one.hi, one.n_clusters) == (0.0, 1.0, 1)
    zero = mean_estimate(np.zeros(40), np.repeat(np.arange(8), 5))
    assert zero.lo == 0.0 and 0.0 < zero.hi < 0.5
    assert math.isnan(mean_estimate([], []).mean)
    with pytest.raises(ValueError):
        mean_estimate([1, 0], [1])


def test_adjust_pvalues_known_answers():
    p = [0.01, 0.04, 0.03, math.nan, 0.005]
    # Holm: sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1 -> 0.02, 0.03, 0.06, 0.04 -> running
    # max 0.02, 0.03, 0.06, 0.06. BH: times 4/1, 4/2, 4/3, 4/4 -> 0.02, 0.02, 0.04, 0.04.
    np.testing.assert_allclose(
        adjust_pvalues(p), [0.03, 0.06, 0.06, math.nan, 0.02], equal_nan=True
    )
    np.testing.assert_allclose(
        adjust_pvalues(p, "bh"), [0.02, 0.04, 0.04, math.nan, 0.02], equal_nan=True
    )
    # R: p.adjust(c(0.2, 0.5, 0.9), "holm") = 0.6 1.0 1.0; "BH" = 0.6 0.75 0.9
    np.testing.assert_allclose(adjust_pvalues([0.2, 0.5, 0.9]), [0.6, 1.0, 1.0])
    np.testing.assert_allclose(adjust_pvalues([0.2, 0.5, 0.9], "BH"), [0.6, 0.75, 0.9])
    assert adjust_pvalues([]).size == 0
    with pytest.raises(ValueError):
        adjust_pvalues([0.1], "bonferroni")


def _cluster_t(y, inside, codes):
    """The cluster-robust t of mean(inside) - mean(outside): each set's own variance, its
    residuals about the pooled mean (the null)."""
    parts = []
    for mask in (inside, ~inside):
        ids = np.unique(codes[mask])
        n = mask.sum()
        resid = np.array([(y[mask & (codes == c)] - y.mean()).sum() for c in ids])
        f = ids.size / (ids.size - 1) if ids.size > 1 else 1.0
        parts.append((y[mask].sum() / n, f * (resid**2).sum() / n**2))
    var = max(parts[0][1] + parts[1][1], 1e-12 * ((y - y.mean()) ** 2).sum() / y.size**2)
    return (parts[0][0] - parts[1][0]) / np.sqrt(var)


@pytest.mark.parametrize("path", ["enumerated", "kinds", "drawn"])
def test_region_test_matches_exact_cluster_permutation(path, monkeypatch):

    # The permutation alone (the guard for unequal spreads is tested on its own).
    monkeypatch.setattr(rnd._studentized, "welch_guard", lambda *a: (math.nan,) * 3)
    if path != "enumerated":
        monkeypatch.setattr(rnd, "ENUM_MAX", 0)
    if path == "drawn":
        monkeypatch.setattr(rnd._relabel, "MAX_KINDS", 0)
    # 7 clusters of different sizes; the region is clusters 0 and 1 (whole clusters).
    sizes = [3, 2, 4, 3, 5, 2, 4]
    codes = np.repeat(np.arange(7), sizes)
    values = np.array([1, 1, 1, 1, 1, 0, 1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 1, 0, 1, 0, 0, 1, 0])
    region = codes < 2
    out = region_test(values, np.ones_like(region), region, codes, n_perm=20000)
    # The studentized statistic over every relabelling of two of the seven clusters.
    observed = _cluster_t(values.astype(float), region, codes)
    stats = []
    for pair in itertools.combinations(range(7), 2):
        stats.append(_cluster_t(values.astype(float), np.isin(codes, pair), codes))
    exact = np.mean(np.abs(stats) >= abs(observed) * (1 - 1e-9))
    assert out["diff"][0] == pytest.approx(values[region].mean() - values.mean())
    assert out["p"][0] == pytest.approx(exact, abs=0 if path == "enumerated" else 0.01)
    assert (out["n"][0], out["k"][0], out["ref_k"][0]) == (5, 2, 7)
    assert out["method"][0] == PERMUTATION
    # The interval inverts the same test: it excludes 0 exactly when p < 0.05.
    assert (out["p"][0] < 0.05) == (out["lo"][0] > 0 or out["hi"][0] < 0)


def _shifted_p(values, in_a, codes, delta):
    """Exact studentized permutation p of mean_a - mean_b = delta: shift set a, relabel whole
    clusters, each relabelling's difference over its cluster-robust standard error."""

    y = values - delta * in_a
    ids = np.unique(codes)
    a_ids = np.unique(codes[in_a])
    observed = _cluster_t(y, in_a, codes)
    stats = [
        _cluster_t(y, np.isin(codes, pick), codes)
        for pick in itertools.combinations(ids, a_ids.size)
    ]
    return np.mean(np.abs(stats) >= abs(observed) * (1 - 1e-9))


def test_permutation_interval_inverts_the_test(monkeypatch):

    monkeypatch.setattr(rnd._studentized, "welch_guard", lambda *a: (math.nan,) * 3)
    rng = np.random.default_rng(SEED)
    codes = np.repeat(np.arange(9), [2, 5, 3, 7, 4, 2, 6, 3, 5])
    values = (rng.random(codes.size) < np.repeat(rng.uniform(0.1, 0.9, 9), 1)[codes]).astype(float)
    in_a = codes < 4
    out = compare_sets(values, in_a, ~in_a, codes)
    assert out["test"][0] == PERMUTATION and out["draws"][0] == 126
    assert out["p"][0] == pytest.approx(_shifted_p(values, in_a, codes, 0.0))
    lo, hi = out["lo"][0], out["hi"][0]
    assert lo < out["diff"][0] < hi
    # Just inside the bounds the test accepts; just outside it rejects.
    for edge, step in ((lo, 1e-6), (hi, -1e-6)):
        assert _shifted_p(values, in_a, codes, edge + step) > 0.05
        if -1 < edge < 1:
            assert _shifted_p(values, in_a, codes, edge - 100 * step) <= 0.05


def test_paired_sign_flip_is_exact():
    rng = np.random.default_rng(SEED)
    codes = np.repeat(np.arange(8), [3, 1, 4, 2, 5, 2, 3, 4])
    d = rng.integers(-1, 2, codes.size).astype(float)
    out = paired_test(d, np.ones(codes.size, dtype=bool), codes)
    totals = np.bincount(codes, weights=d)
    signs = 1 - 2 * ((np.arange(256)[:, None] >> np.arange(8)) & 1)
    flipped = signs @ totals / d.size
    exact = np.mean(np.abs(flipped) >= abs(d.mean()) - 1e-12)
    assert out["test"][0] == SIGN_FLIP and out["draws"][0] == 256
    assert out["p"][0] == pytest.approx(exact)
    assert out["lo"][0] < d.mean() < out["hi"][0]
    # Five clusters: the smallest attainable p is 2/32 > 0.05, so no test is run.
    few = paired_test(d[codes < 5], np.ones(int((codes < 5).sum()), dtype=bool), codes[codes < 5])
    assert few["test"][0] == UNTESTABLE and math.isnan(few["p"][0])


def test_straddling_clusters_get_the_score_t():
    rng = np.random.default_rng(SEED)
    codes = np.repeat(np.arange(12), 6)
    in_a = rng.random(codes.size) < 0.5
    values = (rng.random(codes.size) < 0.4).astype(float)
    out = compare_sets(values, in_a, ~in_a, codes)
    assert out["test"][0] == SCORE_T
    # By hand: residuals from the pooled mean, one contribution per cluster, t on G - 1 df.
    mu = values.mean()
    n_a, n_b = in_a.sum(), (~in_a).sum()
    c = (
        np.bincount(codes, (values - mu) * in_a) / n_a
        - np.bincount(codes, (values - mu) * ~in_a) / n_b
    )
    g = 12
    diff = values[in_a].mean() - values[~in_a].mean()
    t = diff / np.sqrt(g / (g - 1) * (c**2).sum())
    assert out["p"][0] == pytest.approx(2 * sps.t.sf(abs(t), g - 1))
    assert (out["p"][0] < 0.05) == (out["lo"][0] > 0 or out["hi"][0] < 0)
    # Three clusters in the smaller set: too few for the score t.
    few = np.isin(codes, [0, 1, 2]) & in_a
    assert compare_sets(values, few, ~few & (codes < 6), codes)["test"][0] == UNTESTABLE


def test_no_zero_width_interval_and_no_zero_p():
    # ID: 6 tasks all 1; OOD: 2 tasks all 0. No test on whole tasks can give p below 1/28.
    codes = np.repeat(np.arange(8), 4)
    in_a = codes < 6
    out = compare_sets(in_a.astype(float), in_a, ~in_a, codes)
    assert out["p"][0] == pytest.approx(1 / 28)
    assert 0 < out["lo"][0] < out["hi"][0] == 1.0
    same = compare_sets(np.ones(32), in_a, ~in_a, codes)
    assert same["p"][0] == 1.0 and same["lo"][0] < 0 < same["hi"][0]
    agree = paired_test(np.zeros(32), np.ones(32, dtype=bool), codes)
    assert agree["p"][0] == 1.0 and agree["lo"][0] < 0 < agree["hi"][0]


def test_draws_are_seeded_by_content():
    # Monte Carlo p-values: a column's result is the same alone, beside others, or twice.
    rng = np.random.default_rng(SEED)
    codes = np.repeat(np.arange(60), 4)
    in_a = codes < 20
    x = (rng.random((codes.size, 3)) < 0.5).astype(float)
    together = compare_sets(x, in_a, ~in_a, codes)
    assert together["draws"][0] == 1999
    for j in range(3):
        alone = compare_sets(x[:, j], in_a, ~in_a, codes)
        assert alone["p"][0] == together["p"][j] and alone["lo"][0] == together["lo"][j]
    twice = compare_sets(np.column_stack([x[:, 1], x[:, 1]]), in_a, ~in_a, codes)
    assert twice["p"][0] == twice["p"][1] == together["p"][1]
    # Renumbering the clusters changes nothing either.
    again = compare_sets(x[:, 0], in_a, ~in_a, codes * 7 + 3)
    assert again["p"][0] == together["p"][0]


def test_logodds_did_ignores_a_constant_logit_advantage():
    # A is one logit better than B in both sets; set "a" is near the floor. Large enough to
    # be (almost) free of sampling error: the log-odds DiD is ~0, the probability one is not.

    codes = np.repeat(np.arange(400), 50)
    in_a = codes < 200
    base = np.where(in_a, -3.0, 0.0)
    a = expit(base + 1.0)
    b = expit(base)
    out = logodds_did(a, b, in_a, ~in_a, codes)
    assert abs(out["est"][0]) < 0.01
    prob = (a[in_a].mean() - b[in_a].mean()) - (a[~in_a].mean() - b[~in_a].mean())
    assert prob < -0.1


def test_clustered_diff_one_sample_is_the_paired_t_test():
    rng = np.random.default_rng(SEED)
    d = rng.integers(-1, 2, 50).astype(float)
    out = clustered_diff(d, np.ones(50, dtype=bool))
    t = sps.ttest_1samp(d, 0.0)
    assert out["p"][0] == pytest.approx(t.pvalue)
    lo, hi = t.confidence_interval(0.95)
    assert (out["lo"][0], out["hi"][0]) == pytest.approx((lo, hi))


def test_difference_wraps_clustered_diff():
    rng = np.random.default_rng(SEED)
    values = rng.integers(0, 2, 60)
    codes = np.repeat(np.arange(12), 5)
    in_a = codes < 5
    est = difference(values, in_a, ~in_a, codes)
    assert est.diff == pytest.approx(values[in_a].mean() - values[~in_a].mean())
    assert (est.n_a, est.n_b, est.clusters_a, est.clusters_b, est.df) == (25, 35, 5, 7, 4.0)
    assert est.lo < est.diff < est.hi and 0 < est.p <= 1


def test_many_clusters_neither_overflow_nor_enumerate():
    # Thousands of singletons: 2**K and C(K, K_a) are astronomically large; the tests draw.
    rng = np.random.default_rng(SEED)
    d = rng.integers(-1, 2, 3000).astype(float)
    out = paired_test(d, np.ones(3000, dtype=bool))
    assert out["test"][0] == SIGN_FLIP and out["draws"][0] == 1999
    x = (rng.random(3000) < 0.4).astype(float)
    in_a = np.arange(3000) < 1400
    gap = compare_sets(x, in_a, ~in_a)
    assert gap["test"][0] == PERMUTATION and gap["draws"][0] == 1999
    assert gap["lo"][0] < gap["diff"][0] < gap["hi"][0]


def test_unequal_spread_guard_keeps_p_and_interval_together():
    # 40 calm ID tasks and 6 OOD tasks of which one holds every success: the permutation
    # alone would read "OOD differs"; the guard's few informative tasks keep it in check.
    rng = np.random.default_rng(SEED)
    sizes = rng.integers(3, 9, 46)
    codes = np.repeat(np.arange(46), sizes)
    ood = codes >= 40
    values = (rng.random(codes.size) < 0.3).astype(float)
    values[ood] = 0.0
    values[ood & (codes == 45)] = 1.0
    out = compare_sets(values, ~ood, ood, codes)
    g_p, g_lo, g_hi = randomization._studentized.welch_guard(values, codes, ~ood, 0.95)
    assert g_p == 1.0 and math.isinf(g_lo)  # one informative OOD task: no degrees of freedom
    assert out["p"][0] >= g_p and out["lo"][0] <= 0 <= out["hi"][0]
    # A set without any variation gets the widest spread its values allow at the other's
    # mean (every cluster one draw), on K - 1 degrees of freedom.
    values[ood] = 0.0
    g_p, g_lo, g_hi = randomization._studentized.welch_guard(values, codes, ~ood, 0.95)
    sizes_ood = np.bincount(codes[ood])[40:]
    kish = sizes_ood.sum() ** 2 / (sizes_ood**2).sum()
    m_id = values[~ood].mean()
    assert g_hi - g_lo > 2 * 1.96 * math.sqrt(m_id * (1 - m_id) / kish)
    out = compare_sets(values, ~ood, ood, codes)
    assert (out["p"][0] < 0.05) == (out["lo"][0] > 0 or out["hi"][0] < 0)


def test_binary_single_steps_keep_the_plain_exact_permutation():
    values = np.array([1, 1, 1, 0, 1, 1, 0, 1, 0, 0], dtype=float)
    in_a = np.arange(10) < 6
    out = compare_sets(values, in_a, ~in_a, None)
    stats = [
        _cluster_t(values, np.isin(np.arange(10), pick), np.arange(10))
        for pick in itertools.combinations(range(10), 6)
    ]
    observed = _cluster_t(values, in_a, np.arange(10))
    assert out["p"][0] == pytest.approx(np.mean(np.abs(stats) >= abs(observed) * (1 - 1e-9)))


def test_rare_run_averaged_mean_stays_within_what_the_data_allow():
    # 4 passes of 970 entry-runs, on two entries: the interval is Clopper-Pearson's on the
    # entries (no spread in [0, 1] exceeds every entry being one draw), never 0 to 0.55.
    values = np.zeros(194)
    values[:2] = 0.4
    est = mean_estimate(values, np.arange(194))
    assert est.lo == pytest.approx(sps.beta.ppf(0.025, 0.8, 194 - 0.8 + 1))
    assert est.hi == pytest.approx(sps.beta.ppf(0.975, 1.8, 194 - 0.8))
    assert 0.02 < est.hi < 0.03
    # The same numbers as step-level Wilson's order of magnitude, from the clustered path.
    assert abs(est.hi - mean_estimate(values).hi) < 0.005


def test_fixed_benchmark_question_is_welch_on_run_accuracies():
    a = [0.473, 0.470, 0.476, 0.471, 0.475]
    b = [0.457, 0.460, 0.452, 0.459, 0.456]
    out = run_difference(a, b)
    ref = sps.ttest_ind(a, b, equal_var=False)
    assert out["p"] == pytest.approx(ref.pvalue)
    assert out["diff"] == pytest.approx(np.mean(a) - np.mean(b))
    assert out["lo"] < out["diff"] < out["hi"] and out["lo"] > 0
    one = run_difference([0.47], b)
    assert math.isnan(one["p"]) and fixed_reason(1, 5) == SINGLE_RUN
    flat = run_difference([0.5] * 3, [0.4] * 3)
    assert math.isnan(flat["p"]) and fixed_reason(3, 3) == NO_RUN_SPREAD


def test_margins_per_metric_and_refused_when_impossible():
    assert default_margin("accuracy") == 0.01
    assert default_margin("exact_match") == default_margin("type_match") == 0.05
    assert check_margin(0) == 0.0
    for bad in (-0.01, math.nan, math.inf):
        with pytest.raises(ValueError, match="finite number of 0 or more"):
            check_margin(bad)
    # The verdict keeps "significant but within" and names the question asked.
    text = verdict(0.004, 0.001, 0.007, 0.001, margin=0.01, question="on entries like these")
    assert text.startswith("significant but within ±0.01 on entries like these (")


def test_kth_smallest_is_numpy_partition_exactly():
    # Long rows take the compiled band search; skewed keys miss the band and fall back. Both
    # must give np.partition's value bit for bit (the relabellings depend on it).
    rng = np.random.default_rng(SEED)
    uniform = rng.random((4, _select.MIN_ROW + 7))
    for kth in (0, 1, uniform.shape[1] // 3, uniform.shape[1] - 1):
        want = np.partition(uniform, kth, axis=1)[:, kth]
        np.testing.assert_array_equal(_select.kth_smallest(uniform, kth), want)
    skewed = uniform**4
    kth = skewed.shape[1] // 2
    want = np.partition(skewed, kth, axis=1)[:, kth]
    np.testing.assert_array_equal(_select.kth_smallest(skewed, kth), want)
    short = rng.random((3, 50))
    np.testing.assert_array_equal(
        _select.kth_smallest(short, 10), np.partition(short, 10, axis=1)[:, 10]
    )


@pytest.mark.filterwarnings("ignore:Error in function boost")  # both sides, at extreme shapes
def test_the_distribution_functions_are_scipy_stats_own_numbers():
    # The tests take their quantiles and tails from scipy.special (scipy.stats is slow to
    # import): every value, edge cases included, is the one scipy.stats gives, bit for bit.
    def same(a, b):
        return np.array_equal(np.asarray(a, float), np.asarray(b, float), equal_nan=True)

    qs = np.array([0, 1e-12, 0.025, 0.3, 0.5, 0.975, 1 - 1e-12, 1, -0.1, 1.1, np.nan])
    dfs = np.array([-1, 0, 0.5, 1, 2, 3.7, 30, 1e8, np.inf, np.nan])
    xs = np.array([-np.inf, -40, -1.5, 0, 1e-9, 1.96, 40, np.inf, np.nan])
    grid_q, grid_df = np.meshgrid(qs, dfs)
    assert same(_dist.t_ppf(grid_q, grid_df), sps.t.ppf(grid_q, grid_df))
    grid_x, grid_df = np.meshgrid(xs, dfs)
    assert same(_dist.t_sf(grid_x, grid_df), sps.t.sf(grid_x, grid_df))
    assert same(_dist.norm_ppf(qs), sps.norm.ppf(qs))
    assert same(_dist.norm_sf(xs), sps.norm.sf(xs))
    for q, df in itertools.product(qs, dfs):
        assert same(_dist.t_ppf(q, df), sps.t.ppf(q, df)), (q, df)
    assert isinstance(_dist.t_ppf(0.975, 3), float)
    ab = np.array([-1, 0, 0.5, 1, 2, 10.5, 300, np.nan])
    grid_a, grid_b = np.meshgrid(ab, ab)
    for q in qs:
        assert same(_dist.beta_ppf(q, grid_a, grid_b), sps.beta.ppf(q, grid_a, grid_b)), q
    for n in [*range(1, 40), 100, 101, 5001]:
        for k in range(0, n + 1, max(1, n // 30)):
            assert _dist.binomtest_two_sided(k, n, 0.5) == sps.binomtest(k, n, 0.5).pvalue


def _blas_threads() -> list[int]:
    return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]


def test_the_resampling_tests_run_blas_on_one_thread_and_give_it_back():
    """Inside compare_sets and paired_test numpy's BLAS has one thread; afterwards its own."""
    before = _blas_threads()
    seen = []
    inside = one_blas_thread(lambda: seen.append(_blas_threads()) or 7)
    assert inside() == 7 and seen == [[1] * len(before)]
    assert _blas_threads() == before
    assert rnd.compare_sets.__wrapped__ is not None and rnd.paired_test.__wrapped__ is not None
