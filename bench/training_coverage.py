"""Benchmark of exact coverage (not a test): gemviz's k-NN kernel against scikit-learn.

Seeded float32 embeddings (384 dimensions, test and training rows drawn around shared random
centres, so about half of the test rows are covered), k = 5. In the same process, on the same
arrays:

- ``gemviz``: Naeem et al.'s coverage of the test set, each test row's k-th neighbour radius
  among the test rows (:func:`gemviz.splitters.nearest.kth_radii`) and its nearest training
  row (:func:`gemviz.splitters.nearest.scan`);
- ``gemviz, all measures``: :func:`gemviz.analysis.coverage.measure` (coverage, density,
  precision, recall and the knn splitter's covered flags: a third pass for the training radii
  and the ball counts);
- ``scikit-learn``: ``NearestNeighbors(algorithm="brute")``, the same two searches for coverage.

The coverage flags of gemviz and scikit-learn are compared (they may differ only where a
distance sits within float32 rounding of a radius: scikit-learn works in float32). Wall time,
CPU time and the load average are printed beside each row.

    python bench/training_coverage.py                         # 100,000 x 100,000
    python bench/training_coverage.py --test 10000 --train 10000
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.neighbors import NearestNeighbors  # noqa: TID253

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gemviz.analysis.coverage import measure
from gemviz.splitters.nearest import kth_radii, scan, unit_rows

SEED = 42


def data(n_test: int, n_train: int, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """Test and training rows around shared centres; the training set misses half of them."""
    rng = np.random.default_rng(SEED)
    centres = rng.normal(size=(2000, dim)).astype(np.float32)
    test = centres[rng.integers(0, 2000, n_test)] + 0.35 * rng.normal(size=(n_test, dim))
    train = centres[rng.integers(0, 1000, n_train)] + 0.35 * rng.normal(size=(n_train, dim))
    return test.astype(np.float32), train.astype(np.float32)


def gemviz_coverage(test: np.ndarray, train: np.ndarray, k: int) -> np.ndarray:
    """Naeem's per-entry coverage: a training row within the entry's k-NN radius (test)."""
    x, y = unit_rows(test), unit_rows(train)
    return scan(x, y, 1).distances[:, 0] <= kth_radii(x, k)


def sklearn_coverage(test: np.ndarray, train: np.ndarray, k: int) -> np.ndarray:
    """The same with scikit-learn's brute-force search (on unit rows, float32)."""
    x = test / np.linalg.norm(test, axis=1, keepdims=True)
    y = train / np.linalg.norm(train, axis=1, keepdims=True)
    radii = NearestNeighbors(n_neighbors=k + 1, algorithm="brute").fit(x).kneighbors(x)[0]
    nearest = NearestNeighbors(n_neighbors=1, algorithm="brute").fit(y).kneighbors(x)[0]
    return nearest[:, 0] <= radii[:, -1]


def timed(fn, *args):
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn(*args)
    return out, time.perf_counter() - wall, time.process_time() - cpu, os.getloadavg()[0]


def _row(name: str, wall: float, cpu: float, load: float) -> None:
    print(f"| {name} | {wall:.1f} | {cpu:.1f} | {load:.1f} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--test", type=int, default=100_000)
    parser.add_argument("--train", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("-k", type=int, default=5)
    parser.add_argument("--no-sklearn", action="store_true")
    parser.add_argument("--no-all", action="store_true", help="leave out the all-measures row")
    args = parser.parse_args()
    test, train = data(args.test, args.train, args.dim)
    print(
        f"{args.test:,} test x {args.train:,} train x {args.dim} dims, k={args.k}, float32 "
        f"inputs; {platform.machine()}, {os.cpu_count()} CPUs visible\n"
    )
    print("| method | wall (s) | CPU (s) | load average (1 min, at the end) |")
    print("|---|---:|---:|---:|", flush=True)
    flags, *t = timed(gemviz_coverage, test, train, args.k)
    _row("gemviz coverage (kth_radii + scan, exact float64 finish)", *t)
    if not args.no_sklearn:
        ref, *t = timed(sklearn_coverage, test, train, args.k)
        _row('scikit-learn NearestNeighbors(algorithm="brute"), coverage', *t)
    if not args.no_all:
        m, *t = timed(measure, test, train, args.k)
        _row("gemviz, all measures (measure: + training radii, ball counts)", *t)
        assert np.array_equal(m.in_test_ball, flags)
    print(f"\ncoverage {flags.mean():.3f}", flush=True)
    if not args.no_sklearn:
        print(f"flags agree on {np.mean(ref == flags):.4%} of test rows")


if __name__ == "__main__":
    main()
