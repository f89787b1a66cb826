"""Tests for gemviz.splitters: GEM against a straight-line copy of the algorithm, baselines."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.covariance import LedoitWolf  # noqa: TID253
from sklearn.mixture import GaussianMixture  # noqa: TID253

import gemviz.splitters.gem as gem_mod
from gemviz.data.errors import GemvizError, NotFittedError
from gemviz.splitters import (
    SPLITTERS,
    GemSplitter,
    MahalanobisSplitter,
    PercentileSplitter,
    fit_gmm_1d,
    gmm1d,
    in_intervals,
    interval_margin,
    make_splitter,
    merge_intervals,
    partition_frames,
    split_params,
    splitter_controls,
)
from gemviz.splitters.gem_fits import fitted_gem
from tests.conftest import OOD_FILES, SEED


def _scores(path) -> np.ndarray:
    return np.array([r["input_score"] for r in json.loads(path.read_text())])


def reference_gem(train: np.ndarray, tests: list[np.ndarray], seed: int = SEED):
    """The published GEM script, line by line, with the refit seeded too."""
    x = train.reshape(-1, 1)
    bic_scores = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for n_components in range(1, 20):
            gmm = GaussianMixture(n_components=n_components, random_state=seed)
            gmm.fit(x)
            bic_scores.append(gmm.bic(x))
        best = range(1, 20)[int(np.argmin(bic_scores))]
        optimal = GaussianMixture(n_components=best, random_state=seed)
        optimal.fit(x)
    means = optimal.means_.flatten()
    covariances = optimal.covariances_.flatten()
    boundaries = []
    for i in range(optimal.n_components):
        boundaries.append(
            (means[i] - 2 * np.sqrt(covariances[i]), means[i] + 2 * np.sqrt(covariances[i]))
        )
    boundaries.sort(key=lambda b: b[0])
    merged = [boundaries[0]]
    for current in boundaries[1:]:
        prev = merged[-1]
        if current[0] <= prev[1]:
            merged[-1] = (prev[0], max(prev[1], current[1]))
        else:
            merged.append(current)
    labels = [
        np.array([any(lo <= s <= hi for lo, hi in merged) for s in scores]) for scores in tests
    ]
    return best, np.array(bic_scores), merged, labels


@pytest.mark.slow
def test_gem_matches_published_algorithm_on_real_files(gem_public, aitz_split):
    train, held = aitz_split
    tests = [held] + [_scores(gem_public / f) for f in OOD_FILES]
    best, bics, merged, expected = reference_gem(train, tests)

    gem = GemSplitter().fit(train)

    assert gem.n_components_ == best
    np.testing.assert_allclose(gem.bic_, bics)
    np.testing.assert_allclose(np.array(gem.intervals_), np.array(merged))
    for scores, want in zip(tests, expected, strict=True):
        np.testing.assert_array_equal(gem.predict(scores), want)
    # The published data is separable: some held-out steps are ID, some OOD steps are not.
    assert expected[0].mean() > 0.95
    assert not expected[1 + OOD_FILES.index("metagui_inputscore.json")].any()


ALL_FILES = ["AITZ_test_inputscore.json", *OOD_FILES]


@pytest.mark.slow
@pytest.mark.parametrize("name", ALL_FILES)
def test_counts_engine_is_scikit_learn_on_every_published_file(gem_public, name):
    # The default fits on distinct values with counts; it must be GaussianMixture on every score.
    scores = _scores(gem_public / name)
    exact = fit_gmm_1d(scores, engine="sklearn")
    counts = fit_gmm_1d(scores)
    assert counts.n_components == exact.n_components
    np.testing.assert_allclose(counts.bic, exact.bic, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(counts.means, exact.means, rtol=1e-10)
    np.testing.assert_allclose(counts.stds, exact.stds, rtol=1e-9)
    np.testing.assert_allclose(counts.weights, exact.weights, rtol=1e-9)
    assert counts.converged == exact.converged
    inside = [in_intervals(scores, merge_intervals(f.means, f.stds)) for f in (exact, counts)]
    np.testing.assert_array_equal(inside[0], inside[1])


@pytest.mark.slow
def test_counts_engine_matches_every_count_and_iteration(aitz_split):
    train, _ = aitz_split
    data = gmm1d.Distinct.of(train)
    for k in range(1, 12):
        gmm = GaussianMixture(n_components=k, random_state=SEED).fit(train.reshape(-1, 1))
        fit = gmm1d.fit_counts(data, k, SEED)
        assert fit.n_iter == gmm.n_iter_, k
        order = np.argsort(gmm.means_.ravel())
        np.testing.assert_allclose(fit.means[np.argsort(fit.means)], gmm.means_.ravel()[order])
        np.testing.assert_allclose(fit.bic, gmm.bic(train.reshape(-1, 1)), rtol=1e-12)


@pytest.mark.slow
def test_compiled_loops_match_scikit_learn_on_every_count(aitz_split, monkeypatch):
    # The compiled path (used from KERNEL_MIN distinct values on) forced onto the real scores.
    train, _ = aitz_split
    monkeypatch.setattr(gmm1d, "KERNEL_MIN", 0)
    data = gmm1d.Distinct.of(train)
    column = train.reshape(-1, 1)
    for k in range(1, 12):
        gmm = GaussianMixture(n_components=k, random_state=SEED).fit(column)
        fit = gmm1d.fit_counts(data, k, SEED)
        assert fit.n_iter == gmm.n_iter_, k
        assert fit.converged == gmm.converged_, k
        order = np.argsort(gmm.means_.ravel())
        mine = np.argsort(fit.means)
        np.testing.assert_allclose(fit.means[mine], gmm.means_.ravel()[order], rtol=1e-10)
        np.testing.assert_allclose(fit.variances[mine], gmm.covariances_.ravel()[order], rtol=1e-9)
        np.testing.assert_allclose(fit.weights[mine], gmm.weights_.ravel()[order], rtol=1e-9)
        np.testing.assert_allclose(fit.bic, gmm.bic(column), rtol=1e-12)


def test_compiled_loops_match_scikit_learn_on_distinct_scores(monkeypatch):
    # Every score distinct (as hidden-state scores are): the path a million of them takes.
    rng = np.random.default_rng(SEED)
    comp = rng.choice(3, size=20_000, p=[0.44, 0.45, 0.11])
    scores = rng.normal(
        np.array([0.0075, 0.039, 0.073])[comp], np.array([0.002, 0.003, 0.0013])[comp]
    )
    monkeypatch.setattr(gmm1d, "KERNEL_MIN", 0)
    compiled = fit_gmm_1d(scores, max_components=8)
    exact = fit_gmm_1d(scores, max_components=8, engine="sklearn")
    assert compiled.n_components == exact.n_components
    np.testing.assert_allclose(compiled.bic, exact.bic, rtol=1e-12)
    np.testing.assert_allclose(compiled.means, exact.means, rtol=1e-10)
    np.testing.assert_allclose(compiled.stds, exact.stds, rtol=1e-9)
    probe = np.linspace(scores.min() - 0.01, scores.max() + 0.01, 50_001)
    inside = [in_intervals(probe, merge_intervals(f.means, f.stds)) for f in (exact, compiled)]
    np.testing.assert_array_equal(inside[0], inside[1])


@pytest.mark.slow
def test_parallel_search_equals_serial(aitz_split, monkeypatch):
    train, _ = aitz_split
    serial = fit_gmm_1d(train, max_components=6)
    monkeypatch.setattr(gem_mod, "PARALLEL_MIN", 10)
    monkeypatch.setattr(gem_mod, "_cores", lambda: 2)
    parallel = fit_gmm_1d(train, max_components=6)
    np.testing.assert_array_equal(parallel.bic, serial.bic)
    np.testing.assert_array_equal(parallel.means, serial.means)


def test_counts_engine_falls_back_to_scikit_learn(aitz_split, monkeypatch):
    def refuse(*args, **kwargs):
        raise gmm1d.NotReproducedError("emptied")

    train, _ = aitz_split
    monkeypatch.setattr(gmm1d, "fit_counts", refuse)
    fallback = fit_gmm_1d(train, max_components=5)
    exact = fit_gmm_1d(train, max_components=5, engine="sklearn")
    np.testing.assert_array_equal(fallback.bic, exact.bic)
    with pytest.raises(GemvizError, match="engine"):
        fit_gmm_1d(train, engine="fast")


def test_gem_is_deterministic_and_records_attributes(aitz_split):
    train, held = aitz_split
    a = GemSplitter(max_components=8).fit(train)
    b = GemSplitter(max_components=8).fit(train)
    np.testing.assert_array_equal(a.predict(held), b.predict(held))
    np.testing.assert_array_equal(a.bic_, b.bic_)
    assert a.intervals_ == b.intervals_
    assert a.bic_.shape == (8,)
    assert len(a.means_) == len(a.stds_) == len(a.weights_) == a.n_components_
    assert np.all(np.diff(a.means_) >= 0)
    np.testing.assert_allclose(a.weights_.sum(), 1.0)
    assert len(a.component_intervals_) == a.n_components_


def test_gem_known_answer_two_clusters():
    rng = np.random.default_rng(SEED)
    train = np.concatenate([rng.normal(0.0, 1.0, 400), rng.normal(20.0, 1.0, 400)])
    gem = GemSplitter(max_components=5).fit(train)
    assert gem.n_components_ == 2
    np.testing.assert_allclose(gem.means_, [0.0, 20.0], atol=0.2)
    np.testing.assert_allclose(gem.stds_, [1.0, 1.0], atol=0.1)
    assert len(gem.intervals_) == 2
    np.testing.assert_array_equal(
        gem.predict([0.0, 1.5, 10.0, 20.0, 30.0]), [True, True, False, True, False]
    )


def test_merge_intervals_by_hand():
    # Intervals: [0, 2], [1, 5], [5, 7] touch or overlap -> one; [10, 12] separate.
    merged = merge_intervals(np.array([6.0, 1.0, 3.0, 11.0]), np.array([0.5, 0.5, 1.0, 0.5]), 2)
    assert merged == [(0.0, 7.0), (10.0, 12.0)]
    assert merge_intervals(np.array([1.0]), np.array([1.0]), 0) == [(1.0, 1.0)]
    with pytest.raises(GemvizError, match="sigma"):
        merge_intervals(np.array([1.0]), np.array([1.0]), -1)


def test_in_intervals_bounds_inclusive_and_margin_agrees():
    intervals = [(0.0, 1.0), (3.0, 4.0)]
    x = np.array([-0.5, 0.0, 0.5, 1.0, 1.5, 2.9, 3.0, 4.0, 4.01])
    want = np.array([False, True, True, True, False, False, True, True, False])
    np.testing.assert_array_equal(in_intervals(x, intervals), want)
    margin = interval_margin(x, intervals)
    np.testing.assert_array_equal(margin >= 0, want)
    np.testing.assert_allclose(margin, [-0.5, 0, 0.5, 0, -0.5, -0.1, 0, 0, -0.01], atol=1e-12)
    assert not in_intervals(x, []).any()


def test_with_params_changes_sigma_without_refitting(aitz_split):
    train, held = aitz_split
    narrow = GemSplitter(max_components=6).fit(train)
    wide = narrow.with_params(sigma=3.0)
    refit = GemSplitter(max_components=6, sigma=3.0).fit(train)
    assert wide.intervals_ == refit.intervals_
    assert wide.gmm_ is narrow.gmm_  # the mixture is reused, not fitted again
    assert narrow.sigma == 2.0 and narrow.intervals_ != wide.intervals_  # the original is kept
    np.testing.assert_array_equal(wide.predict(held), refit.predict(held))


def test_with_params_refuses_what_needs_a_new_fit(aitz_split):
    train, _ = aitz_split
    with pytest.raises(NotFittedError):
        GemSplitter().with_params(sigma=1.0)
    fitted = GemSplitter(max_components=3).fit(train)
    with pytest.raises(GemvizError, match=r"max_components .* need a new fit"):
        fitted.with_params(max_components=4)
    with pytest.raises(GemvizError, match="sigma"):
        fitted.with_params(sigma=-1.0)


def test_registry_controls_carry_the_constructor_defaults():
    gem = {c.name: default for c, default in splitter_controls("gem")}
    assert gem == {"sigma": 2.0, "max_components": 19}
    assert [c.name for c, _ in splitter_controls("percentile")] == ["percentile"]
    assert [c.name for c, _ in splitter_controls("mahalanobis")] == ["percentile"]
    for name in SPLITTERS:
        for control, default in splitter_controls(name):
            assert control.lo <= default <= control.hi, (name, control.name)
    assert split_params("gem", {"sigma": 1.5, "max_components": 4}) == (
        {"max_components": 4},
        {"sigma": 1.5},
    )
    assert split_params("percentile", {"percentile": 90.0}) == ({"percentile": 90.0}, {})


def test_search_sample_subsamples_only_the_search(aitz_split):
    train, _ = aitz_split
    fit = fit_gmm_1d(train, max_components=6, search_sample=500)
    assert fit.search_size == 500
    again = fit_gmm_1d(train, max_components=6, search_sample=500)
    np.testing.assert_allclose(fit.means, again.means)
    assert fit_gmm_1d(train, max_components=3, search_sample=10**9).search_size == train.size


@pytest.mark.parametrize("name", sorted(SPLITTERS))
def test_not_fitted_raises(name):
    splitter = make_splitter(name)
    x = np.zeros((3, 2)) if splitter.input == "embeddings" else np.zeros(3)
    for method in (splitter.predict, splitter.id_score):
        with pytest.raises(NotFittedError, match="not fitted"):
            method(x)


@pytest.mark.parametrize("bad", [[], [1.0, np.nan], [1.0, np.inf], [[1.0, 2.0], [3.0, 4.0]], ["a"]])
def test_gem_rejects_bad_train_scores(bad):
    with pytest.raises(GemvizError):
        GemSplitter().fit(bad)


def test_percentile_known_answer():
    train = np.arange(1, 101, dtype=float)
    p = PercentileSplitter(percentile=95).fit(train)
    assert p.threshold_ == pytest.approx(95.05)
    np.testing.assert_array_equal(p.predict([1, 95.05, 95.1, 200]), [True, True, False, False])
    np.testing.assert_array_equal(p.id_score([1.0, 2.0]), [-1.0, -2.0])
    with pytest.raises(GemvizError, match="percentile"):
        PercentileSplitter(percentile=0).fit(train)


def test_mahalanobis_matches_direct_computation():
    rng = np.random.default_rng(SEED)
    train = rng.normal(0.0, 1.0, (300, 5)) * [1, 2, 3, 1, 1]
    far = rng.normal(0.0, 1.0, (50, 5)) + 10.0
    m = MahalanobisSplitter().fit(train)
    lw = LedoitWolf().fit(train)
    diff = far - lw.location_
    want = np.sqrt(np.einsum("ij,jk,ik->i", diff, np.linalg.inv(lw.covariance_), diff))
    np.testing.assert_allclose(m.distance(far), want, rtol=1e-6)
    # The threshold is cross-fitted: fresh ID samples are kept at about the nominal 95%.
    fresh = rng.normal(0.0, 1.0, (4000, 5)) * [1, 2, 3, 1, 1]
    assert m.predict(fresh).mean() == pytest.approx(0.95, abs=0.015)
    assert not m.predict(far).any()
    np.testing.assert_allclose(m.id_score(far), -want, rtol=1e-6)
    with pytest.raises(GemvizError, match="dimensions"):
        m.predict(np.zeros((2, 3)))


@pytest.mark.slow
def test_mahalanobis_keeps_fresh_id_samples_at_the_nominal_rate_in_high_dimension():
    # 384 dimensions, 1,000 train embeddings: in-sample distances are far smaller than fresh
    # ones, so an in-sample percentile kept only about 20% of fresh ID samples.
    rng = np.random.default_rng(SEED)
    scale = rng.uniform(0.5, 2.0, 384)
    train = rng.normal(0.0, 1.0, (1000, 384)) * scale
    fresh = rng.normal(0.0, 1.0, (3000, 384)) * scale
    m = MahalanobisSplitter().fit(train)
    assert 0.92 <= m.predict(fresh).mean() <= 0.98
    assert m.predict(train).mean() > 0.99  # in-sample distances are the small ones
    with pytest.raises(GemvizError, match="n_folds"):
        MahalanobisSplitter(n_folds=1).fit(train)


def test_make_splitter_registry_errors():
    assert isinstance(make_splitter("gem", sigma=3.0, search_sample=None), GemSplitter)
    assert make_splitter("gem", sigma=3.0).sigma == 3.0
    with pytest.raises(GemvizError, match="unknown partition method"):
        make_splitter("nope")
    with pytest.raises(GemvizError, match="does not take sigma"):
        make_splitter("percentile", sigma=2.0)
    for name, bad in [
        ("gem", {"sigma": -1.0}),
        ("gem", {"max_components": 0}),
        ("gem", {"search_sample": 1}),
        ("percentile", {"percentile": 101}),
        ("mahalanobis", {"percentile": -5}),
    ]:
        with pytest.raises(GemvizError, match=next(iter(bad))):
            make_splitter(name, **bad)


def test_partition_frames_labels_in_test_order():
    train = pd.DataFrame({"id": list("abcd"), "input_score": [0.1, 0.11, 0.12, 0.13]})
    test = pd.DataFrame({"id": list("xyz"), "input_score": [0.5, 0.12, 0.0], "other": [1, 2, 3]})
    out, splitter = partition_frames(train, test, method="percentile", percentile=100)
    assert list(out.columns) == ["id", "input_score", "other", "label"]
    assert out["label"].tolist() == ["OOD", "ID", "ID"]
    assert "label" not in test.columns
    assert splitter.threshold_ == pytest.approx(0.13)
    with pytest.raises(GemvizError, match="embeddings"):
        partition_frames(train, test, method="mahalanobis")
    emb_train = np.random.default_rng(SEED).normal(size=(4, 2))
    with pytest.raises(GemvizError, match="3 samples but 2 embeddings"):
        partition_frames(
            train,
            test,
            method="mahalanobis",
            train_embeddings=emb_train,
            test_embeddings=np.zeros((2, 2)),
        )


def test_a_gem_fit_is_kept_and_read_back_as_computed(aitz_split, monkeypatch):
    # The report draws the fit a splitter was made with: the second ask reads it from the
    # cache (no fit at all), and every number of the mixture is the one the fit gave.
    train, held = aitz_split
    first = fitted_gem(train, max_components=6, sigma=2.0)
    fresh = make_splitter("gem", max_components=6, sigma=3.0).fit(train)

    def no_fit(*args, **kwargs):
        raise AssertionError("fitted again")

    monkeypatch.setattr(gem_mod, "fit_gmm_1d", no_fit)
    again = fitted_gem(train, max_components=6, sigma=3.0)  # sigma does not refit
    assert again.n_components_ == first.n_components_ == fresh.n_components_
    for name in ("means_", "stds_", "weights_"):
        assert np.array_equal(getattr(again, name), getattr(fresh, name))
    assert np.array_equal(again.bic_, fresh.bic_, equal_nan=True)
    assert again.intervals_ == fresh.intervals_
    assert np.array_equal(again.predict(held), fresh.predict(held))
    with pytest.raises(AssertionError, match="fitted again"):  # other settings: a new fit
        fitted_gem(train, max_components=5)
