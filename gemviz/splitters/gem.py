"""The GEM splitter: a 1-D Gaussian mixture on the train input scores picks the ID intervals.

The algorithm follows the GEM paper's published script (arXiv 2505.12842, ``Code/GEM.py``):

1. fit scikit-learn's ``GaussianMixture`` on the train scores for every component count
   1..``max_components`` and keep the count with the lowest BIC;
2. refit that count; every component gives the interval mean ± sigma·sqrt(variance);
3. sort the intervals by lower bound and merge one into the previous when its lower bound is
   ≤ the previous upper bound;
4. a score is ID iff it lies inside a merged interval, bounds included.

Two deliberate differences: the search and the refit use the same ``random_state`` (the
script left the refit unseeded, so its labels changed from run to run), and when the search
ran on all the scores the refit *is* the search's fit for the chosen count (the same
estimator on the same data with the same seed gives the same result, so it is not repeated).

Speed (measured by ``bench/partition.py`` and ``bench/scale.py``): every count is fitted by
:mod:`gemviz.splitters.gmm1d`, which runs scikit-learn's own algorithm (its defaults: full
covariance, k-means initialisation, ``n_init=1``, ``tol=1e-3``) on the distinct scores with
their counts, so the parameters, BIC, chosen count and labels are those of scikit-learn on
every score (to rounding, about 1e-14). Train scores of a task repeat, so a million steps often
hold about a hundred thousand distinct values; hidden-state scores do not repeat, and from
:data:`gmm1d.KERNEL_MIN` distinct values on the fit runs in compiled loops, one process. Below
that, from :data:`PARALLEL_MIN` distinct scores on (only when the compiled loops are switched
off), the counts are fitted in worker processes, one per available core. ``engine="sklearn"`` fits with ``GaussianMixture`` itself (k-means
single-threaded: its OpenMP threads only wait on each other on 1-D data). ``search_sample``
(e.g. 20 000) runs the search on a sub-sample, which picks fewer components and changes
labels, so it is opt-in. The search always tries every count: stopping once BIC rises could
miss a lower BIC further on.

The steps are also exposed as pure functions (:func:`fit_gmm_1d`, :func:`merge_intervals`,
:func:`in_intervals`); sigma is :attr:`GemSplitter.refit_free`, so a page keeps the fitted
splitter cached and moves sigma with :meth:`~gemviz.splitters.base.Splitter.with_params`.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from gemviz.data.errors import GemvizError
from gemviz.splitters import gmm1d
from gemviz.splitters.base import Control, Splitter, as_scores

ENGINES = ("counts", "sklearn")
# From this many distinct scores on, the array path fits the counts in parallel worker
# processes (below it, starting the workers costs more than it saves). The compiled loops take
# over from gmm1d.KERNEL_MIN distinct scores, in one process, so by default no worker starts.
PARALLEL_MIN = 200_000


@dataclass(frozen=True, eq=False)
class GmmFit:
    """A fitted 1-D Gaussian mixture, components sorted by mean.

    Attributes:
        n_components: The component count with the lowest BIC.
        bic: BIC of every count tried; entry ``k - 1`` is the BIC of ``k`` components (NaN for
            counts above the number of distinct scores, which are not tried).
        means, stds, weights: One entry per component of the refit mixture.
        search_size: How many scores the BIC search used (all, or the sub-sample).
        converged: Whether the refit's EM converged within scikit-learn's iteration limit.
    """

    n_components: int
    bic: np.ndarray
    means: np.ndarray
    stds: np.ndarray
    weights: np.ndarray
    search_size: int = 0
    converged: bool = True


def _check_int(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise GemvizError(f"{name} must be an integer ≥ {minimum}, got {value!r}")
    return int(value)


def _gmm(k: int, random_state: int | None):
    from sklearn.mixture import GaussianMixture  # heavy: only engine="sklearn" and fallbacks

    # Defaults as in the published script (full covariance, kmeans init, one init, tol 1e-3).
    return GaussianMixture(n_components=k, random_state=random_state)


def _sklearn_fit(column: np.ndarray, k: int, random_state: int | None) -> gmm1d.Fit:
    gmm = _gmm(k, random_state).fit(column)
    return gmm1d.Fit(
        means=gmm.means_.ravel(),
        variances=gmm.covariances_.ravel(),
        weights=gmm.weights_.ravel(),
        bic=float(gmm.bic(column)),
        converged=bool(gmm.converged_),
        n_iter=int(gmm.n_iter_),
    )


def _fit_many(
    data: gmm1d.Distinct, ks: list[int], random_state: int | None, engine: str
) -> dict[int, gmm1d.Fit]:
    """Fit each count of ``ks``; on distinct values unless scikit-learn is asked for or needed."""
    out = {}
    with warnings.catch_warnings():
        # Large counts often stop at the iteration limit; BIC still ranks them, as in the paper.
        warnings.filterwarnings("ignore", message=".*converge.*")
        warnings.filterwarnings("ignore", message=".*distinct clusters.*")
        # k-means' OpenMP threads only wait on each other on 1-D data: 2-4x slower on 2 cores.
        with threadpool_limits(1):
            for k in ks:
                if engine == "counts":
                    try:
                        out[k] = gmm1d.fit_counts(data, k, random_state)
                        continue
                    except gmm1d.NotReproducedError:
                        pass
                out[k] = _sklearn_fit(data.column, k, random_state)
    return out


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _search(
    data: gmm1d.Distinct, ks: list[int], random_state: int | None, engine: str
) -> dict[int, gmm1d.Fit]:
    """Fit every count of ``ks``; each count's fit is independent and seeded."""
    workers = min(_cores(), len(ks))
    compiled = data.values.size >= gmm1d.KERNEL_MIN  # fast enough alone: no worker start-up
    if engine != "counts" or data.values.size < PARALLEL_MIN or workers < 2 or compiled:
        return _fit_many(data, ks, random_state, engine)

    # A count's cost grows with k: deal the counts out largest first to the lightest worker.
    shares: list[list[int]] = [[] for _ in range(workers)]
    for k in sorted(ks, reverse=True):
        min(shares, key=sum).append(k)
    # joblib (with asyncio and multiprocessing) loads only for the worker processes.
    from joblib import Parallel, delayed

    parts = Parallel(n_jobs=workers)(
        delayed(_fit_many)(data, share, random_state, engine) for share in shares
    )
    return {k: part[k] for part in parts for k in part}


def fit_gmm_1d(
    scores: np.ndarray,
    max_components: int = 19,
    random_state: int | None = 42,
    search_sample: int | None = None,
    engine: str = "counts",
) -> GmmFit:
    """Choose the component count by BIC and fit the mixture, as GEM does.

    Args:
        scores: 1-D train input scores (finite).
        max_components: Largest component count tried (the paper uses 19). It is capped at the
            number of distinct scores, since more components than distinct values cannot be
            told apart.
        random_state: Seed for every ``GaussianMixture`` (search and refit).
        search_sample: If set and smaller than the number of scores, the BIC search runs on a
            seeded random sub-sample of that many scores and only the chosen count is refit on
            all of them. None (the default) searches on all scores, as the paper does.
        engine: ``"counts"`` (default) fits on the distinct scores and their counts,
            ``"sklearn"`` with ``GaussianMixture`` on every score; both give the same result.

    Returns:
        The :class:`GmmFit`.

    Raises:
        GemvizError: Fewer than two scores, non-finite scores or invalid parameters.
    """
    x = as_scores(scores, "train scores")
    max_components = _check_int("max_components", max_components, 1)
    if search_sample is not None:
        search_sample = _check_int("search_sample", search_sample, 2)
    if engine not in ENGINES:
        raise GemvizError(f"unknown GMM engine '{engine}'; use one of {', '.join(ENGINES)}")
    if x.size < 2:
        raise GemvizError("the GEM splitter needs at least 2 train scores")
    column = x.reshape(-1, 1)
    search = column
    if search_sample is not None and search_sample < x.size:
        rng = np.random.default_rng(random_state)
        search = column[np.sort(rng.choice(x.size, size=search_sample, replace=False))]
    data = gmm1d.Distinct.of(search[:, 0])
    top = min(max_components, int(data.values.size))
    bics = np.full(max_components, np.nan)
    fits = _search(data, list(range(1, top + 1)), random_state, engine)
    for k, fit in fits.items():
        bics[k - 1] = fit.bic
    best = int(np.nanargmin(bics)) + 1
    if search is column:
        final = fits[best]
    else:
        final = _fit_many(gmm1d.Distinct.of(x), [best], random_state, engine)[best]
    means = final.means
    stds = np.sqrt(final.variances)
    weights = final.weights
    order = np.argsort(means, kind="stable")
    return GmmFit(
        n_components=best,
        bic=bics,
        means=means[order],
        stds=stds[order],
        weights=weights[order],
        search_size=int(search.shape[0]),
        converged=final.converged,
    )


def component_intervals(
    means: np.ndarray, stds: np.ndarray, sigma: float = 2.0
) -> list[tuple[float, float]]:
    """mean ± sigma·std for every component, in the given order."""
    sigma = _check_sigma(sigma)
    return [(float(m - sigma * s), float(m + sigma * s)) for m, s in zip(means, stds, strict=True)]


def merge_intervals(
    means: np.ndarray, stds: np.ndarray, sigma: float = 2.0
) -> list[tuple[float, float]]:
    """The merged ID intervals of a mixture.

    Args:
        means, stds: Component means and standard deviations.
        sigma: Half-width of each component's interval, in standard deviations.

    Returns:
        Disjoint ``(lo, hi)`` intervals sorted by ``lo``; an interval is merged into the
        previous one when its lower bound is ≤ the previous upper bound.

    Raises:
        GemvizError: sigma is negative or not finite.
    """
    merged: list[tuple[float, float]] = []
    for lo, hi in sorted(component_intervals(means, stds, sigma)):
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


def _check_sigma(sigma: float) -> float:
    if isinstance(sigma, bool) or not isinstance(sigma, (int, float, np.number)):
        raise GemvizError(f"sigma must be a number ≥ 0, got {sigma!r}")
    if not np.isfinite(sigma) or sigma < 0:
        raise GemvizError(f"sigma must be a number ≥ 0, got {sigma!r}")
    return float(sigma)


def _locate(scores: np.ndarray, intervals: list[tuple[float, float]]):
    los = np.array([lo for lo, _ in intervals], dtype=np.float64)
    his = np.array([hi for _, hi in intervals], dtype=np.float64)
    # Index of the last interval starting at or before each score (-1 if none).
    idx = np.searchsorted(los, scores, side="right") - 1
    return los, his, idx


def in_intervals(scores: np.ndarray, intervals: list[tuple[float, float]]) -> np.ndarray:
    """True where a score lies inside one of the (disjoint, sorted) intervals, bounds included.

    Args:
        scores: 1-D scores.
        intervals: Output of :func:`merge_intervals`.

    Returns:
        Boolean array, one entry per score.
    """
    x = as_scores(scores)
    if not intervals:
        return np.zeros(x.size, dtype=bool)
    _, his, idx = _locate(x, intervals)
    return (idx >= 0) & (x <= his[np.maximum(idx, 0)])


def interval_margin(scores: np.ndarray, intervals: list[tuple[float, float]]) -> np.ndarray:
    """Signed distance to the nearest interval edge: ≥ 0 inside (ID), < 0 outside.

    Inside an interval it is the distance to its nearer bound; outside, minus the distance to
    the nearest interval. So ``margin >= 0`` is exactly :func:`in_intervals`, and the margin
    ranks samples from most to least ID-like for AUROC.
    """
    x = as_scores(scores)
    if not intervals:
        return np.full(x.size, -np.inf)
    los, his, idx = _locate(x, intervals)
    m = len(intervals)
    left = np.maximum(idx, 0)
    inside = (idx >= 0) & (x <= his[left])
    to_left = np.where(idx >= 0, x - his[left], np.inf)  # > 0 when right of interval idx
    nxt = np.minimum(idx + 1, m - 1)
    to_right = np.where(idx + 1 < m, los[nxt] - x, np.inf)  # > 0 when left of interval idx+1
    outside = -np.minimum(to_left, to_right)
    inner = np.minimum(x - los[left], his[left] - x)
    return np.where(inside, inner, outside)


class GemSplitter(Splitter):
    """GEM: ID iff the input score falls inside a merged mean ± sigma·std interval.

    Args:
        max_components: Largest Gaussian mixture component count tried (paper: 19).
        sigma: Interval half-width in standard deviations (paper: 2).
        random_state: Seed for the BIC search and the refit (default 42).
        search_sample: None (default, faithful to the paper) runs the BIC search on all train
            scores. An integer runs the search on a seeded sub-sample of that many scores and
            refits the chosen count on all of them; ``bench/partition.py`` measures the
            speed-up and how many labels change.

    Attributes:
        n_components_, bic_, means_, stds_, weights_: The chosen mixture (see :class:`GmmFit`).
        component_intervals_: mean ± sigma·std per component (sorted by mean).
        intervals_: The merged ID intervals.
        gmm_: The :class:`GmmFit`.
    """

    input = "scores"
    _fitted_attr = "intervals_"
    controls = (
        Control(
            "sigma",
            "Sigma multiple",
            0.5,
            4.0,
            0.1,
            help="Half-width of each component's ID interval, in standard deviations.",
        ),
        Control(
            "max_components",
            "Component cap",
            1,
            30,
            1,
            widget="number",
            help="Most Gaussian components the BIC search tries.",
        ),
    )
    # The mixture does not depend on sigma: a form moves it on the cached fit.
    refit_free = frozenset({"sigma"})

    def __init__(
        self,
        max_components: int = 19,
        sigma: float = 2.0,
        random_state: int | None = 42,
        search_sample: int | None = None,
    ) -> None:
        self.max_components = max_components
        self.sigma = sigma
        self.random_state = random_state
        self.search_sample = search_sample

    def check_params(self) -> None:
        """Raise :class:`GemvizError` for an invalid parameter."""
        _check_sigma(self.sigma)
        _check_int("max_components", self.max_components, 1)
        if self.random_state is not None:
            # scikit-learn takes seeds in [0, 2**32 - 1]; say so before the fit does
            seed = _check_int("random_state (--seed)", self.random_state, 0)
            if seed > 2**32 - 1:
                raise GemvizError(f"random_state (--seed) must be below 2**32, got {seed}")
        if self.search_sample is not None:
            _check_int("search_sample", self.search_sample, 2)

    def fit(self, values: np.ndarray) -> GemSplitter:
        """Fit the mixture on the train input scores ``values`` (1-D)."""
        self.check_params()
        fit = fit_gmm_1d(values, self.max_components, self.random_state, self.search_sample)
        return self._set_fit(fit)

    def _set_fit(self, fit: GmmFit) -> GemSplitter:
        self.gmm_ = fit
        self.n_components_ = fit.n_components
        self.bic_ = fit.bic
        self.means_ = fit.means
        self.stds_ = fit.stds
        self.weights_ = fit.weights
        self._apply_params()
        return self

    def _apply_params(self) -> None:
        self.component_intervals_ = component_intervals(self.means_, self.stds_, self.sigma)
        self.intervals_ = merge_intervals(self.means_, self.stds_, self.sigma)

    def predict(self, values: np.ndarray) -> np.ndarray:
        """True (ID) where the score lies inside a merged interval, bounds included."""
        self._check_fitted()
        return in_intervals(values, self.intervals_)

    def id_score(self, values: np.ndarray) -> np.ndarray:
        """Signed margin to the nearest interval edge (≥ 0 exactly when ID)."""
        self._check_fitted()
        return interval_margin(values, self.intervals_)

    def describe(self) -> str:
        """Component count and merged intervals."""
        self._check_fitted()
        spans = ", ".join(f"[{lo:.6g}, {hi:.6g}]" for lo, hi in self.intervals_)
        return (
            f"GEM: {self.n_components_} Gaussian component(s) by BIC (of 1..{self.max_components}"
            f", search on {self.gmm_.search_size} scores), sigma {self.sigma:g}; "
            f"{len(self.intervals_)} merged ID interval(s): {spans}"
        )
