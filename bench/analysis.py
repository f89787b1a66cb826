"""Benchmark of the study analysis at 5k-200k samples (not a test).

Times loading and aligning a study from files and the ID/OOD table (3 splitters x 4 models x
2 metrics: every mean with its interval, every gap with its task-level test and interval,
p-values adjusted), clustered by task (8 steps a task), and compares each gap test with the
same statistic computed plainly, in the same run, on every row:

- **straddling tasks** (labels vary within a task, so every task has ID and OOD steps): the
  cluster-robust score t of the gap (variance from residuals about the pooled mean, summed
  per task with ``np.bincount``, ``G / (G - 1)`` factor, t on ``G - 1`` degrees of freedom);
  the script asserts the gaps and p-values agree to 1e-9;
- **whole-task regions** (task-level labels, as GEM's): the permutation test that relabels
  whole tasks, 1,999 draws a row, written as a Python loop over the draws (each draw
  vectorised over tasks); Monte Carlo p-values cannot agree draw for draw, so the script
  asserts they agree within five Monte Carlo standard errors.

The plain versions compute only the gap and its p-value; gemviz's table also gives every
mean's interval, the gap's interval, the adjusted p-values and the run spread. The
set-difference drill-down is timed too (gemviz only). Prints a Markdown table.

    python bench/analysis.py            # 5k, 50k, 200k samples
    python bench/analysis.py --quick    # 5k and 50k
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy import stats as sps

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gemviz.analysis.overlap import set_difference
from gemviz.analysis.tables import id_ood_table
from gemviz.data.study import Study
from gemviz.stats.randomization import N_PERM, PERMUTATION, SCORE_T

SEED = 42


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
        tm = em | (rng.random(n) < 0.3)
        path = folder / f"{name}.json"
        path.write_text(
            json.dumps(
                [
                    dict(b, type_match=int(t), exact_match=int(e))
                    for b, t, e in zip(base, tm, em, strict=True)
                ]
            )
        )
        models[name] = path
    return splits, models


def plain_score_t(y: np.ndarray, in_a: np.ndarray, codes: np.ndarray) -> tuple[float, float]:
    """Gap ``mean(y[a]) - mean(y[~a])`` and its cluster-robust score-t p-value, plainly."""
    n_a, n_b = in_a.sum(), (~in_a).sum()
    diff = y[in_a].mean() - y[~in_a].mean()
    resid = y - y.mean()  # about the pooled mean: the null's fit
    contrib = np.where(in_a, resid / n_a, -resid / n_b)
    per_task = np.bincount(codes, weights=contrib)
    g = min(np.unique(codes[in_a]).size, np.unique(codes[~in_a]).size)
    var = g / (g - 1.0) * (per_task**2).sum()
    if var <= 0:
        return diff, 1.0 if diff == 0 else float("nan")
    return diff, float(2.0 * sps.t.sf(abs(diff) / np.sqrt(var), g - 1))


def plain_permutation(
    y: np.ndarray, in_a: np.ndarray, codes: np.ndarray, draws: int, rng: np.random.Generator
) -> tuple[float, float]:
    """Gap and its permutation p-value, relabelling whole tasks in a loop over the draws."""
    sums, counts = np.bincount(codes, weights=y), np.bincount(codes).astype(float)
    task_a = np.bincount(codes, weights=in_a.astype(float)) > 0
    observed = sums[task_a].sum() / counts[task_a].sum() - (
        sums[~task_a].sum() / counts[~task_a].sum()
    )
    extreme = 0
    for _ in range(draws):
        pick = rng.permutation(task_a)
        stat = sums[pick].sum() / counts[pick].sum() - sums[~pick].sum() / counts[~pick].sum()
        extreme += abs(stat) >= abs(observed) - 1e-12 * max(1.0, abs(observed))
    return observed, (1 + extreme) / (draws + 1)


def plain_gaps(study: Study, kind: str, rng: np.random.Generator) -> list[tuple[float, float]]:
    """Every row's (gap, p), in the table's row order, by the plain test of ``kind``."""
    out = []
    for splitter in study.splitters:
        in_a = study.is_id(splitter)
        for metric in study.metrics:
            values = study.metric(metric)
            for model in study.models:
                y = values[model].to_numpy(float)
                if kind == "score":
                    out.append(plain_score_t(y, in_a, study.clusters))
                else:
                    out.append(plain_permutation(y, in_a, study.clusters, N_PERM, rng))
    return out


def _time(fn, *args, repeat: int = 1, **kwargs):
    """Best wall time of ``fn(*args, **kwargs)`` over ``repeat`` runs, and its last result."""
    best, out = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn(*args, **kwargs)
        best = min(best, time.perf_counter() - start)
    return best, out


def _check(table, plain, kind: str) -> int:
    """Assert the plain gaps and p-values agree with the table's; the rows compared."""
    test = SCORE_T if kind == "score" else PERMUTATION
    rows = 0
    for row, (gap, p) in zip(table.itertuples(), plain, strict=True):
        assert abs(row.gap - gap) <= 1e-9, (row.splitter, row.model, row.metric, row.gap, gap)
        if row.test != test:
            continue
        if kind == "score":
            assert abs(row.gap_p - p) <= 1e-9 * max(1.0, p), (row.gap_p, p)
        else:
            se = np.sqrt(max(p * (1 - p), 1.0 / N_PERM) / N_PERM)
            assert abs(row.gap_p - p) <= 5 * se + 2.0 / (N_PERM + 1), (row.gap_p, p)
        rows += 1
    assert rows, f"no row used the {test}"
    return rows


def _row(n: int, rng: np.random.Generator) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        splits, models = _files(Path(tmp), n, rng)
        t_load, study = _time(Study.from_files, splits, models)
    # GEM scores are per task: with task-level labels every task is wholly ID or OOD.
    k = study.n_clusters
    task_score = rng.gamma(2.0, 1.0, k)
    labels = study.labels.copy()
    for name, cut in (("a", 0.80), ("b", 0.90), ("c", 0.85)):
        noisy = task_score + rng.normal(0, 0.3, k)
        labels[name] = np.where(noisy <= np.quantile(noisy, cut), "ID", "OOD")[study.clusters]
    whole = dataclasses.replace(study, labels=labels)
    t_table, table = _time(id_ood_table, study, repeat=3)
    t_plain, plain = _time(plain_gaps, study, "score", rng)
    checked = _check(table, plain, "score")
    t_whole, table_whole = _time(id_ood_table, whole, repeat=3)
    t_plain_whole, plain_whole = _time(plain_gaps, whole, "permutation", rng)
    checked_whole = _check(table_whole, plain_whole, "permutation")
    return {
        "load": t_load,
        "clusters": k,
        "rows": len(table),
        "table": t_table,
        "plain": t_plain,
        "checked": checked,
        "table_whole": t_whole,
        "plain_whole": t_plain_whole,
        "checked_whole": checked_whole,
        "drill": _time(set_difference, study, "a", "b", repeat=3)[0],
        "drill_whole": _time(set_difference, whole, "a", "b", repeat=3)[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5k and 50k samples only")
    args = parser.parse_args()
    sizes = (5_000, 50_000) if args.quick else (5_000, 50_000, 200_000)
    rng = np.random.default_rng(SEED)
    rows = [(n, _row(n, rng)) for n in sizes]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{os.cpu_count()} CPUs visible, load average {load:.1f} at the end\n")
    print(
        "| samples (tasks) | load + align | ID/OOD table, straddling tasks (gemviz) "
        "| same gaps + score-t p, plain numpy | ID/OOD table, whole-task regions (gemviz) "
        "| same gaps + permutation p, plain loop | drill-down, straddling | drill-down, whole "
        "| rows agreeing (score t; permutation) |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n, t in rows:
        print(
            f"| {n:,} ({t['clusters']:,}) | {t['load']:.2f} s | {t['table'] * 1e3:.0f} ms "
            f"| {t['plain'] * 1e3:.0f} ms | {t['table_whole'] * 1e3:.0f} ms "
            f"| {t['plain_whole']:.2f} s | {t['drill'] * 1e3:.0f} ms "
            f"| {t['drill_whole'] * 1e3:.0f} ms "
            f"| {t['checked']}/{t['rows']}; {t['checked_whole']}/{t['rows']} |"
        )


if __name__ == "__main__":
    main()
