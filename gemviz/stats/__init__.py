"""Statistics for per-step results of agents: means, differences, tests, multiplicity.

Agent steps come in clusters (tasks or episodes, see :mod:`gemviz.data.clusters`) and are not
independent, so every estimate here takes the steps' cluster codes; singleton clusters
(``--cluster-by none``) give the classical step-level methods. Each number has one method, and
its p-value and interval come from the same test, so a verdict can never contradict its own
interval. Values are per-step numbers in [0, 1] (0/1 results, or means over repeated runs).

- a mean: Korn-Graubard's Clopper-Pearson interval on the effective sample size (Kish's
  effective n when the mean is 0 or 1); plain Wilson for singletons
  (:mod:`~gemviz.stats.intervals`, which also holds the one ``small`` rule, :func:`is_small`);
- a difference between two sets (ID-OOD gap, the interaction on paired differences, a
  drill-down region against the rest of its set): a studentized permutation of whole
  clusters (guarded by a cluster-robust Welch t for sets of unequal spread) when every
  cluster lies wholly in one set, a cluster-robust score t when clusters straddle the sets,
  "cannot be tested" below the clusters where either can reject; the interval inverts the
  same test (:mod:`~gemviz.stats.randomization`, :mod:`~gemviz.stats.region`);
- a paired difference of two models: a sign flip of whole clusters;
- the fixed-benchmark question (configurations run several times on one entry set): Welch's
  t on the runs' accuracies (:mod:`~gemviz.stats.fixed`);
- the interaction on the log-odds scale: a cluster-robust delta-method t;
- p-values of one family (:data:`FAMILIES`): Holm or Benjamini-Hochberg
  (:mod:`~gemviz.stats.multiplicity`, with the verdicts in words).

Monte Carlo draws are seeded from each column's own content (:func:`content_seed`), so a
number never depends on what else is computed. McNemar's exact test
(:func:`~gemviz.stats.randomization.mcnemar_exact`) gives the paired subset comparison's
step-level p-value.
"""

from __future__ import annotations

from gemviz.stats._base import SEED, ArrayLike, content_seed
from gemviz.stats.clustered import (
    MIN_SCORE_CLUSTERS,
    logodds_did,
)
from gemviz.stats.fixed import NO_RUN_SPREAD, SINGLE_RUN, fixed_reason, run_difference
from gemviz.stats.intervals import (
    SMALL_CLUSTERS,
    SMALL_N,
    MeanEstimate,
    is_small,
    mean_estimate,
    mean_intervals,
    wilson_interval,
)
from gemviz.stats.multiplicity import (
    ADJUST_METHODS,
    ALPHA,
    FAMILIES,
    MARGIN,
    MARGINS,
    adjust_by_family,
    adjust_pvalues,
    check_margin,
    default_margin,
    format_p,
    verdict,
)
from gemviz.stats.randomization import (
    N_PERM,
    PERMUTATION,
    SCORE_T,
    SIGN_FLIP,
    UNTESTABLE,
    compare_sets,
    mcnemar_exact,
    paired_test,
)
from gemviz.stats.region import region_test

__all__ = [
    "ADJUST_METHODS",
    "ALPHA",
    "FAMILIES",
    "MARGIN",
    "MARGINS",
    "MIN_SCORE_CLUSTERS",
    "NO_RUN_SPREAD",
    "N_PERM",
    "PERMUTATION",
    "SCORE_T",
    "SEED",
    "SIGN_FLIP",
    "SINGLE_RUN",
    "SMALL_CLUSTERS",
    "SMALL_N",
    "UNTESTABLE",
    "ArrayLike",
    "MeanEstimate",
    "adjust_by_family",
    "adjust_pvalues",
    "check_margin",
    "compare_sets",
    "content_seed",
    "default_margin",
    "fixed_reason",
    "format_p",
    "is_small",
    "logodds_did",
    "mcnemar_exact",
    "mean_estimate",
    "mean_intervals",
    "paired_test",
    "region_test",
    "run_difference",
    "verdict",
    "wilson_interval",
]
