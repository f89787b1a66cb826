"""Benchmark: GEM fit + labelling time for 10k, 100k and 1M input scores.

The scores are drawn (seeded) from the mixture GEM finds on the published AITZ test scores
(three well-separated clusters, as in the real data), so the BIC search faces the same shape
of problem as in practice. For every size it times:

- ``naive``: the published script's way (seeded): 19 fits, a second fit of the chosen
  count, and labelling in a Python loop (``any(lo <= s <= hi ...)`` per score); its fit
  column holds fit and labelling together;
- ``gemviz default``: :class:`gemviz.splitters.GemSplitter` with the full BIC search, as the
  paper: the search's fit of the chosen count is reused instead of refitting, k-means runs
  single-threaded (its OpenMP threads only wait on each other on 1-D data), labelling is
  vectorised; its labels are the reference for the last column;
- ``gemviz array path``: the same fit with the compiled loops switched off (the distinct-value
  fit in numpy arrays, as before they existed), the baseline of the default in the same run;
- ``gemviz engine=sklearn``: ``GaussianMixture`` itself on every score (the published fit,
  seeded, without the Python-loop labelling), up to ``--reference-max`` scores; its labels and
  component count are what the default must equal;
- ``gemviz search_sample=N`` (N = 20k and 100k by default): the BIC search on N sampled
  scores, the chosen count refit on all; the last column counts the test labels that differ
  from the default's labels in this run.

Every score is distinct (drawn from continuous normals), as hidden-state scores are. Run
``python bench/partition.py`` (all sizes) or ``--quick`` (10k and 100k, a couple of minutes).
Each row gives CPU time (this process and its finished children) beside wall time and the
1-minute load average when the row was measured: on a shared machine wall time follows the load.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from joblib.externals.loky import get_reusable_executor  # noqa: TID253

ROOT = Path(__file__).resolve().parents[1]
# The bench folder itself off the path, so no script here can shadow a package of the same
# name that a library imports.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

from sklearn.mixture import GaussianMixture  # noqa: E402, TID253

from gemviz.splitters import GemSplitter, fit_gmm_1d, gmm1d  # noqa: E402
from tests.gem_data import extract  # noqa: E402

AITZ = extract(ROOT / "bench" / "_out" / "gem-public") / "AITZ_test_inputscore.json"
SEED = 42


def synthetic_scores(n: int, seed: int = SEED) -> np.ndarray:
    """n scores from the mixture fitted on the real AITZ scores (or a fixed stand-in)."""
    if AITZ.exists():
        real = np.array([r["input_score"] for r in json.loads(AITZ.read_text())])
        gem = GemSplitter().fit(real)
        means, stds, weights = gem.means_, gem.stds_, gem.weights_
    else:  # the three AITZ clusters, rounded
        means = np.array([0.0075, 0.039, 0.073])
        stds = np.array([0.002, 0.003, 0.0013])
        weights = np.array([0.44, 0.45, 0.11])
    rng = np.random.default_rng(seed)
    comp = rng.choice(len(means), size=n, p=weights / weights.sum())
    return rng.normal(means[comp], stds[comp])


def naive_fit_label(train: np.ndarray, test: np.ndarray, max_components: int = 19):
    """The published script, seeded: search, separate refit, Python-loop labelling."""
    x = train.reshape(-1, 1)
    bics = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for k in range(1, max_components + 1):
            bics.append(GaussianMixture(n_components=k, random_state=SEED).fit(x).bic(x))
        best = int(np.argmin(bics)) + 1
        gmm = GaussianMixture(n_components=best, random_state=SEED).fit(x)
    means, sds = gmm.means_.ravel(), np.sqrt(gmm.covariances_.ravel())
    bounds = sorted((m - 2 * s, m + 2 * s) for m, s in zip(means, sds, strict=True))
    merged = [bounds[0]]
    for lo, hi in bounds[1:]:
        if lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return np.array([any(lo <= s <= hi for lo, hi in merged) for s in test.tolist()])


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def timed(fn):
    """(value, wall seconds, CPU seconds) of ``fn()``."""
    cpu, start = _cpu(), time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start, _cpu() - cpu


def array_fit(train: np.ndarray) -> GemSplitter:
    """The default fit with the compiled loops off (every count in numpy arrays)."""
    kept = gmm1d.KERNEL_MIN
    gmm1d.KERNEL_MIN = sys.maxsize
    try:
        return GemSplitter().fit(train)
    finally:
        gmm1d.KERNEL_MIN = kept
        # Stop the search's worker processes so that their CPU time counts as children's.
        get_reusable_executor().shutdown(wait=True)


def sklearn_fit(train: np.ndarray) -> GemSplitter:
    """GEM with ``GaussianMixture`` fitted on every score (the published fit, seeded)."""
    gem = GemSplitter()
    gem.check_params()
    return gem._set_fit(fit_gmm_1d(train, engine="sklearn"))


def _row(n, method, comps, timing, t_lab, changed, naive_cpu):
    wall, cpu = timing
    speed = f"{naive_cpu / cpu:.1f}x" if naive_cpu else ""
    comps = "" if comps is None else comps
    diff = "" if changed is None else f"{changed:,} ({changed / n:.2%})"
    print(
        f"| {n:,} | {method} | {comps} | {cpu:.2f} | {wall:.2f} | {t_lab:.3f} | {speed} "
        f"| {diff} | {os.getloadavg()[0]:.1f} |",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10k and 100k only")
    parser.add_argument(
        "--search-sample",
        type=int,
        nargs="+",
        default=[20_000, 100_000],
        help="BIC search sub-sample sizes to compare (default 20000 100000)",
    )
    parser.add_argument(
        "--naive-max", type=int, default=100_000, help="largest size to run the naive script on"
    )
    parser.add_argument(
        "--reference-max",
        type=int,
        default=1_000_000,
        help="largest size to fit with GaussianMixture on every score (the labels' reference)",
    )
    parser.add_argument(
        "--array-max", type=int, default=1_000_000, help="largest size to run the array path on"
    )
    parser.add_argument("--sizes", type=int, nargs="+", help="score counts (overrides --quick)")
    args = parser.parse_args()
    sizes = [10_000, 100_000] if args.quick else [10_000, 100_000, 1_000_000]
    sizes = args.sizes or sizes
    print(f"CPUs: {os.cpu_count()}, load average: {os.getloadavg()[0]:.2f} (timings under load)")
    gmm1d.kernels()  # numba's import and its compiled loops, outside the timings
    print()
    print(
        "| scores | method | components | fit CPU (s) | fit wall (s) | label (s) | CPU vs naive "
        "| labels ≠ reference | load |"
    )
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    for n in sizes:
        _size(n, args)


def _size(n: int, args) -> None:
    train = synthetic_scores(n, SEED)
    test = synthetic_scores(n, SEED + 1) * 1.05  # shifted a little: some test scores OOD
    naive_cpu = 0.0
    reference = None
    if n <= args.naive_max:
        reference, wall, cpu = timed(lambda: naive_fit_label(train, test))
        _row(n, "naive (published script, seeded)", None, (wall, cpu), 0.0, 0, 0)
        naive_cpu = cpu
    if n <= args.reference_max:
        exact, wall, cpu = timed(lambda: sklearn_fit(train))
        labels = exact.predict(test)
        changed = None if reference is None else int(np.sum(labels != reference))
        _row(n, "gemviz engine=sklearn", exact.n_components_, (wall, cpu), 0.0, changed, naive_cpu)
        reference = labels if reference is None else reference
    full, wall, cpu = timed(lambda: GemSplitter().fit(train))
    labels, t_lab, _ = timed(lambda: full.predict(test))
    changed = None if reference is None else int(np.sum(labels != reference))
    _row(
        n,
        "gemviz default (full search)",
        full.n_components_,
        (wall, cpu),
        t_lab,
        changed,
        naive_cpu,
    )
    if n <= args.array_max:
        old, wall, cpu = timed(lambda: array_fit(train))
        # Against the published fit where it ran, else against the default's labels.
        changed = int(np.sum(old.predict(test) != (labels if reference is None else reference)))
        _row(
            n, "gemviz array path (before)", old.n_components_, (wall, cpu), 0.0, changed, naive_cpu
        )
    for m in (m for m in args.search_sample if m < n):
        sub, wall, cpu = timed(lambda m=m: GemSplitter(search_sample=m).fit(train))
        sub_labels, t_lab, _ = timed(lambda f=sub: f.predict(test))
        changed = int(np.sum(sub_labels != labels))
        _row(
            n,
            f"gemviz search_sample={m:,}",
            sub.n_components_,
            (wall, cpu),
            t_lab,
            changed,
            naive_cpu,
        )


if __name__ == "__main__":
    main()
