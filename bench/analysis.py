"""Benchmark of the study analysis at 5k-200k samples (not a test).

Times loading and aligning a study from files, the ID/OOD table (means, intervals and gap
tests) and the set-difference drill-down, clustered by task (8 steps a task; labels vary
within a task, so clusters straddle ID and OOD; and with task-level labels, whole-task regions
and 2000 cluster permutations) and at step level
(``--cluster-by none``), against the naive way of resampling (a Python loop drawing index
arrays, 2000 bootstrap resamples and 2000 permutations). Prints a Markdown table.

    python bench/analysis.py            # 5k, 50k, 200k samples
    python bench/analysis.py --quick    # 5k and 50k; the naive loop runs 200 resamples, scaled x10
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gemviz.analysis.overlap import set_difference
from gemviz.analysis.tables import id_ood_table
from gemviz.data.study import Study

SEED = 42
N_RESAMPLES = 2000


def _files(folder: Path, n: int, rng: np.random.Generator) -> tuple[dict, dict]:
    base = [
        {"id": f"s{i}", "task": f"task {i // 8}", "image_path": f"img/{i}.png"} for i in range(n)
    ]
    score = rng.gamma(2.0, 1.0, n)
    splits, models = {}, {}
    for name, cut in (("a", 0.80), ("b", 0.90), ("c", 0.85)):
        noisy = score + rng.normal(0, 0.3, n)
        label = np.where(noisy <= np.quantile(noisy, cut), "ID", "OOD")
        path = folder / f"{name}.json"
        order = rng.permutation(n)  # every file in its own order, to make alignment work
        path.write_text(
            json.dumps([dict(base[i], label=label[i], input_score=score[i]) for i in order])
        )
        splits[name] = path
    for name in ("m1", "m2", "m3", "m4"):
        em = (rng.random(n) < 0.6 - 0.05 * score).astype(int)
        path = folder / f"{name}.json"
        path.write_text(
            json.dumps(
                [dict(b, type_match=1, exact_match=int(e)) for b, e in zip(base, em, strict=True)]
            )
        )
        models[name] = path
    return splits, models


def _naive_drill(x: np.ndarray, ref: np.ndarray, region: np.ndarray, reps: int, rng) -> None:
    """The textbook loops: resample indices for the bootstrap, permute labels for the test."""
    vals, member = x[ref], region[ref]
    inside, rest = vals[member], vals[~member]
    for _ in range(reps):
        inside[rng.integers(0, inside.size, inside.size)].mean()
        rest[rng.integers(0, rest.size, rest.size)].mean()
    for _ in range(reps):
        perm = rng.permutation(member)
        vals[perm].mean() - vals[~perm].mean()


def _time(fn, *args, repeat: int = 1, **kwargs) -> float:
    """Best wall time of ``fn(*args, **kwargs)`` over ``repeat`` runs, in seconds."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn(*args, **kwargs)
        best = min(best, time.perf_counter() - start)
    return best


def _row(n: int, naive_reps: int, rng: np.random.Generator) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        splits, models = _files(Path(tmp), n, rng)
        t_load = _time(Study.from_files, splits, models)
        study = Study.from_files(splits, models)
    t_naive = 0.0
    for first, second in (("a", "b"), ("b", "a")):
        ref = study.is_id(first)
        region = ref & ~study.is_id(second)
        for m in study.models:
            x = study.exact_match[m].to_numpy()
            t_naive += _time(_naive_drill, x, ref, region, naive_reps, rng)
    flat = study.with_clusters("none")
    # GEM scores are per task: with task-level labels the regions are whole tasks and the
    # drill-down runs the cluster permutation test (with step-level labels, above, clusters
    # straddle the regions and it runs the cluster-robust t).
    k = study.n_clusters
    task_score = rng.gamma(2.0, 1.0, k)
    labels = study.labels.copy()
    for name, cut in (("a", 0.80), ("b", 0.90)):
        noisy = task_score + rng.normal(0, 0.3, k)
        labels[name] = np.where(noisy <= np.quantile(noisy, cut), "ID", "OOD")[study.clusters]
    whole = dataclasses.replace(study, labels=labels)
    return {
        "load": t_load,
        "clusters": study.n_clusters,
        "table": _time(id_ood_table, study, repeat=3),
        "drill": _time(set_difference, study, "a", "b", repeat=3),
        "table_flat": _time(id_ood_table, flat, repeat=3),
        "drill_flat": _time(set_difference, flat, "a", "b", repeat=3),
        "drill_whole": _time(set_difference, whole, "a", "b", repeat=3),
        "naive": t_naive * N_RESAMPLES / naive_reps,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, shorter naive loop")
    args = parser.parse_args()
    sizes = (5_000, 50_000) if args.quick else (5_000, 50_000, 200_000)
    naive_reps = 200 if args.quick else N_RESAMPLES
    rng = np.random.default_rng(SEED)
    print(
        "| samples (tasks) | load + align (3 splitters, 4 models) | ID/OOD table, by task "
        "| drill-down (4 models x 2 directions), by task, straddling tasks "
        "| drill-down, by task, whole-task regions | table, none | drill-down, none "
        "| naive loops, same drill-down |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    note = " (x10 est.)" if args.quick else ""
    for n in sizes:
        t = _row(n, naive_reps, rng)
        print(
            f"| {n:,} ({t['clusters']:,}) | {t['load']:.2f} s | {t['table'] * 1e3:.1f} ms "
            f"| {t['drill'] * 1e3:.1f} ms | {t['drill_whole'] * 1e3:.1f} ms "
            f"| {t['table_flat'] * 1e3:.1f} ms "
            f"| {t['drill_flat'] * 1e3:.1f} ms | {t['naive']:.1f} s{note} |"
        )


if __name__ == "__main__":
    main()
