"""Benchmark of the exact neighbour search (not a test).

5,000 test x 100,000 train embeddings of 1,536 dimensions (float32, seeded Gaussian data):
the blocked search of :mod:`gemviz.analysis.neighbours` against the naive per-query loop (one full
distance vector per query, then a sort), both run here in the same process. The naive loop
is timed on a subset of queries and extrapolated to all of them (the table says so). Peak
working memory is measured with ``tracemalloc`` (numpy reports its buffers to it), over and
above the input arrays. Prints a Markdown table.

    python bench/neighbours.py                  # 5k x 100k x 1536
    python bench/neighbours.py --quick          # 1k x 20k x 1536
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gemviz.analysis.neighbours import naive_search, search

SEED = 42


def _timed(fn, *args, **kwargs):
    tracemalloc.start()
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    seconds = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return out, seconds, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--naive-queries", type=int, default=100)
    parser.add_argument("-k", type=int, default=5)
    args = parser.parse_args()
    n_test, n_train, dim = (1000, 20_000, 1536) if args.quick else (5000, 100_000, 1536)
    rng = np.random.default_rng(SEED)
    train = rng.standard_normal((n_train, dim), dtype=np.float32)
    test = rng.standard_normal((n_test, dim), dtype=np.float32)
    mb = 2**20

    fast, t_fast, m_fast = _timed(search, train, test, k=args.k)
    sub = min(args.naive_queries, n_test)
    slow, t_slow, m_slow = _timed(naive_search, train, test[:sub], k=args.k)
    agree = bool(np.array_equal(fast.indices[:sub], slow.indices))
    t_slow_all = t_slow * n_test / sub

    print(
        f"{n_test:,} test x {n_train:,} train x {dim} dims, k={args.k}, float32; "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs visible; "
        f"inputs {(train.nbytes + test.nbytes) / mb:.0f} MB\n"
    )
    print(
        "| method | queries timed | time, all queries (s) | queries/s | peak working memory (MB) |"
    )
    print("|---|---:|---:|---:|---:|")
    print(
        f"| gemviz.analysis.neighbours.search (blocked, exact re-rank) | {n_test:,} | {t_fast:.1f} "
        f"| {n_test / t_fast:,.0f} | {m_fast / mb:.0f} |"
    )
    print(
        f"| naive per-query loop | {sub:,} (extrapolated x{n_test / sub:.0f}) "
        f"| {t_slow_all:.1f} | {n_test / t_slow_all:,.0f} | {m_slow / mb:.0f} |"
    )
    print(f"\nspeed-up x{t_slow_all / t_fast:.1f}; same neighbours on the timed queries: {agree}")


if __name__ == "__main__":
    main()
