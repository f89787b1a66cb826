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
- ``gemviz search_sample=N`` (N = 20k and 100k by default): the BIC search on N sampled
  scores, the chosen count refit on all; the last column counts the test labels that differ
  from the default's labels in this run.

Run ``python bench/partition.py`` (all sizes) or ``--quick`` (10k and 100k, a couple of
minutes). Timings depend on machine load; the script prints the CPU count and load average.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sklearn.mixture import GaussianMixture  # noqa: E402

from gemviz.splitters import GemSplitter  # noqa: E402
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


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def _row(n, method, comps, t_fit, t_lab, changed, naive_total):
    total = t_fit + t_lab
    speed = f"{naive_total / total:.1f}x" if naive_total else ""
    comps = "" if comps is None else comps
    diff = "" if changed is None else f"{changed:,} ({changed / n:.2%})"
    print(
        f"| {n:,} | {method} | {comps} | {t_fit:.2f} | {t_lab:.3f} | {total:.2f} | {speed} "
        f"| {diff} |",
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
    args = parser.parse_args()
    sizes = [10_000, 100_000] if args.quick else [10_000, 100_000, 1_000_000]
    print(f"CPUs: {os.cpu_count()}, load average: {os.getloadavg()[0]:.2f} (timings under load)")
    print()
    print(
        "| scores | method | components | fit (s) | label (s) | total (s) | vs naive "
        "| labels ≠ default |"
    )
    print("|---:|---|---:|---:|---:|---:|---:|---:|")
    for n in sizes:
        train = synthetic_scores(n, SEED)
        test = synthetic_scores(n, SEED + 1) * 1.05  # shifted a little: some test scores OOD
        naive_total = 0.0
        naive_labels = None
        if n <= args.naive_max:
            naive_labels, naive_total = timed(lambda tr=train, te=test: naive_fit_label(tr, te))
        full, t_fit = timed(lambda tr=train: GemSplitter().fit(tr))
        labels, t_lab = timed(lambda f=full, te=test: f.predict(te))
        if naive_labels is not None:
            changed = int(np.sum(naive_labels != labels))
            _row(n, "naive (published script, seeded)", None, naive_total, 0.0, changed, 0)
        else:
            print(f"| {n:,} | naive (published script, seeded) | | | | skipped | | |")
        _row(n, "gemviz default (full search)", full.n_components_, t_fit, t_lab, 0, naive_total)
        for m in (m for m in args.search_sample if m < n):
            sub, t_fit = timed(lambda tr=train, m=m: GemSplitter(search_sample=m).fit(tr))
            sub_labels, t_lab = timed(lambda f=sub, te=test: f.predict(te))
            changed = int(np.sum(sub_labels != labels))
            method = f"gemviz search_sample={m:,}"
            _row(n, method, sub.n_components_, t_fit, t_lab, changed, naive_total)


if __name__ == "__main__":
    main()
