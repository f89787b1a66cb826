"""Plotly figures: GEM fit, BIC curve and grouped bars carry the numbers they are given."""

from __future__ import annotations

import numpy as np
import pandas as pd
from conftest import SEED

from gemviz.data.loaders import load_scores
from gemviz.figures import charts as plots
from gemviz.splitters.gem import fit_gmm_1d, merge_intervals


def test_gem_fit_figure_on_real_scores(gem_public):
    scores = load_scores(gem_public / "AITZ_test_inputscore.json")["input_score"].to_numpy()
    train, test = scores[::2], scores[1::2]
    fit = fit_gmm_1d(train, max_components=5, random_state=SEED)
    intervals = merge_intervals(fit.means, fit.stds, 2.0)
    fig = plots.gem_fit_figure(train, test, fit.means, fit.stds, fit.weights, intervals, bins=40)
    bars = [t for t in fig.data if t.type == "bar"]
    assert [t.name for t in bars] == [f"train (n={train.size})", f"test (n={test.size})"]
    for t in bars:  # densities: the bars integrate to 1
        width = t.x[1] - t.x[0]
        np.testing.assert_allclose(np.sum(t.y) * width, 1.0, rtol=1e-6)
    comps = [t for t in fig.data if t.legendgroup == "components"]
    assert len(comps) == fit.n_components
    assert len(fig.layout.shapes) == len(intervals)


def test_bic_marks_the_chosen_count():
    fig = plots.bic_figure([5.0, 2.0, np.nan, 4.0], chosen=2)
    line, star = fig.data
    assert list(line.x) == [1, 2, 4]
    assert (star.x[0], star.y[0]) == (2, 2.0)


def test_grouped_bars_error_bars():
    table = pd.DataFrame(
        {
            "splitter": ["s", "s"],
            "model": ["a", "b"],
            "metric": ["exact_match"] * 2,
            "id_mean": [0.6, 0.4],
            "id_lo": [0.5, 0.3],
            "id_hi": [0.7, 0.55],
            "ood_mean": [0.2, 0.1],
            "ood_lo": [0.1, 0.05],
            "ood_hi": [0.3, 0.2],
        }
    )
    fig = plots.grouped_bars(table, "exact_match")
    assert [t.name for t in fig.data] == ["s ID", "s OOD"]
    np.testing.assert_allclose(fig.data[0].error_y.array, [0.1, 0.15])
    np.testing.assert_allclose(fig.data[0].error_y.arrayminus, [0.1, 0.1])
