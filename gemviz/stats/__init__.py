"""Statistics for per-step results of agents: means, differences, tests, multiplicity.

Agent steps come in clusters (tasks or episodes, see :mod:`gemviz.data.clusters`) and are not
independent, so every estimate here takes the steps' cluster codes; singleton clusters
(``--cluster-by none``) give the classical step-level methods. Each number has one method, and
its p-value and interval come from the same computation, so a verdict can never contradict its
own interval:

- a mean: Wilson interval on the Korn-Graubard effective sample size
  (``n / design effect``, shrunk by ``(z / t_{K-1})**2``); plain Wilson for singletons;
- a difference of means (ID-OOD gap, paired model difference, difference in differences):
  a cluster-robust (linearised, CR1) standard error with a t reference on ``K - 1`` degrees of
  freedom, ``K`` the clusters of the smaller group; the test is the matching t test;
- a region against the rest of its set (set-difference drill-down): a permutation test that
  shuffles whole clusters, and the interval obtained by inverting it under a shift model
  (the cluster-robust t when clusters straddle the region's border);
- p-values of one family (a page section, a CLI output): Holm or Benjamini-Hochberg.

The older step-level resampling helpers (bootstrap by counts, permutation by counts, McNemar)
stay for ``none`` and for comparisons. Resampling is vectorised; all randomness comes from
``numpy.random.default_rng(seed)``, seed 42 by default.

The package holds one concern per module: :mod:`~gemviz.stats.intervals` (means),
:mod:`~gemviz.stats.clustered` (differences), :mod:`~gemviz.stats.region` (the drill-down test),
:mod:`~gemviz.stats.multiplicity` (adjusted p-values and verdicts) and
:mod:`~gemviz.stats.resampling` (step-level bootstrap, permutation, McNemar).
"""

from __future__ import annotations

from gemviz.stats._base import SEED, ArrayLike
from gemviz.stats.clustered import DiffEstimate, clustered_diff, difference
from gemviz.stats.intervals import (
    SMALL_CLUSTERS,
    SMALL_N,
    MeanEstimate,
    mean_estimate,
    mean_intervals,
    wilson_interval,
)
from gemviz.stats.multiplicity import (
    ADJUST_METHODS,
    ALPHA,
    MARGIN,
    adjust_pvalues,
    format_p,
    verdict,
)
from gemviz.stats.region import region_test
from gemviz.stats.resampling import (
    bootstrap_diff,
    bootstrap_means,
    mcnemar_exact,
    permutation_pvalue,
)

__all__ = [
    "ADJUST_METHODS",
    "ALPHA",
    "MARGIN",
    "SEED",
    "SMALL_CLUSTERS",
    "SMALL_N",
    "ArrayLike",
    "DiffEstimate",
    "MeanEstimate",
    "adjust_pvalues",
    "bootstrap_diff",
    "bootstrap_means",
    "clustered_diff",
    "difference",
    "format_p",
    "mcnemar_exact",
    "mean_estimate",
    "mean_intervals",
    "permutation_pvalue",
    "region_test",
    "verdict",
    "wilson_interval",
]
