"""Calibration where many configurations, repeated runs and unequal spreads meet.

Three tables beside :mod:`bench.calibration`'s:

- **many configurations** (:func:`run_many`): a benchmark of 200 entries, each with its own
  pass probability (a Beta with mean 0.45 and intra-entry spread 0.3, so entries range from
  always failed to always passed), 18 configurations run 5 times each, every run a fresh
  Bernoulli draw per entry. Under the complete null all 18 share the entries' probabilities;
  the row counts the studies in which :func:`gemviz.analysis.runs.run_pairs` calls any
  comparison significant (family-wise error), for every pair (153, Holm) and for each
  configuration against a baseline (17, Holm), on both questions, beside the unadjusted
  count ("before"). Under the alternative one configuration is 2 or 5 points better on this
  benchmark (its entries shifted on the logit scale by the amount that raises their mean by
  exactly that): power is the share of studies where its comparison with the baseline is
  significant and in its favour.
- **the two questions** (:func:`run_questions`): two configurations whose per-entry
  probabilities are drawn independently from one Beta (equal on entries like these, unequal
  on the 200 entries drawn), or whose probabilities are the same numbers in another order
  (equal on this benchmark, unequal entry by entry): each question's test should reject at
  about 5% under its own null and may reject under the other's.
- **unequal spread** (:func:`run_unequal`): equal means, ID tasks with intra-task
  correlation 0.05 and OOD tasks (or the drill-down's region, or the interaction's OOD set)
  with 0.4; "before" is the plain permutation of whole tasks (difference of means).
- **rare run-averaged means** (:func:`run_rare`): 200 entries, 5 runs, entries' pass
  probabilities from a Beta with a small mean and a large spread; coverage of the 95%
  interval of the run-averaged mean (entries as clusters of one step, as BFCL files load).

    nice -n 10 python bench/calibration_many.py          # all three tables
    python bench/calibration_many.py --reps 200 --many-reps 40   # quicker
"""

from __future__ import annotations

import argparse
import math
import sys
import time
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import brentq
from scipy.special import expit, logit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.calibration import ALPHA, SEED, lengths, task_probs
from gemviz.analysis.findings import SIGNIFICANT, kind
from gemviz.analysis.runs import run_pairs
from gemviz.data.study import Study
from gemviz.stats import _relabel, compare_sets, logodds_did, mean_intervals, region_test
from gemviz.stats.randomization import ENUM_MAX, N_PERM, _comb_at_most

ENTRIES = 200
CONFIGS = 18
RUNS = 5
BASE_P, BASE_ICC = 0.45, 0.3


def _rng(*parts: object) -> np.random.Generator:
    return np.random.default_rng([SEED, zlib.crc32(repr(parts).encode())])


def _shift_to(probs: np.ndarray, gain: float) -> np.ndarray:
    """The entries' probabilities shifted on the logit scale so their mean rises by ``gain``."""
    if gain == 0:
        return probs
    clipped = np.clip(probs, 1e-9, 1 - 1e-9)
    target = probs.mean() + gain
    shift = brentq(lambda s: expit(logit(clipped) + s).mean() - target, -20, 20)
    return expit(logit(clipped) + shift)


def _study(prob_sets: list[np.ndarray], rng: np.random.Generator, runs: int = RUNS) -> Study:
    """One simulated study: each configuration's runs drawn from its entries' probabilities."""
    ids = [f"e{i}" for i in range(ENTRIES)]
    base = pd.DataFrame({"id": ids, "conversation_id": ids})
    split = base.assign(label=np.where(np.arange(ENTRIES) % 2, "ID", "OOD"))
    models = {}
    for j, probs in enumerate(prob_sets):
        frames = [
            base.assign(accuracy=(rng.random(ENTRIES) < probs).astype(int)) for _ in range(runs)
        ]
        models[f"c{j:02d}"] = frames
    return Study.from_frames({"half": split}, models)


def _significant(pairs: pd.DataFrame, column: str) -> np.ndarray:
    return np.array([kind(v) == SIGNIFICANT for v in pairs[column]])


def run_many(gain: float, reps: int) -> dict[str, float]:
    """Family-wise error (``gain`` 0) or power (the last configuration ``gain`` better)."""
    rng = _rng("many", gain)
    hits = {k: [] for k in ("all", "all_fixed", "base", "base_fixed", "raw")}
    for _ in range(reps):
        probs = task_probs(rng, ENTRIES, BASE_P, BASE_ICC)
        sets = [probs] * (CONFIGS - 1) + [_shift_to(probs, gain)]
        study = _study(sets, rng)
        every = run_pairs(study, "accuracy")
        against = run_pairs(study, "accuracy", baseline="c00")
        if gain == 0:
            hits["all"].append(_significant(every, "verdict").any())
            hits["all_fixed"].append(_significant(every, "verdict_fixed").any())
            hits["base"].append(_significant(against, "verdict").any())
            hits["base_fixed"].append(_significant(against, "verdict_fixed").any())
            hits["raw"].append((every["diff_p"] < ALPHA).any())
            continue
        last = f"c{CONFIGS - 1:02d}"
        for frame, key in ((every, "all"), (against, "base")):
            row = frame[(frame["model_a"] == last) | (frame["model_b"] == last)]
            row = row[(row["model_a"] == "c00") | (row["model_b"] == "c00")].iloc[0]
            sign = 1 if row["model_a"] == last else -1
            hits[key].append(kind(row["verdict"]) == SIGNIFICANT and sign * row["diff"] > 0)
            hits[key + "_fixed"].append(
                kind(row["verdict_fixed"]) == SIGNIFICANT and sign * row["diff"] > 0
            )
            if key == "base":
                hits["raw"].append(row["diff_p"] < ALPHA and sign * row["diff"] > 0)
    return {k: float(np.mean(v)) for k, v in hits.items()}


def run_questions(design: str, reps: int) -> dict[str, float]:
    """Each question's rejections for two configurations equal under one question's null."""
    rng = _rng("questions", design)
    entries, fixed = [], []
    for _ in range(reps):
        a = task_probs(rng, ENTRIES, BASE_P, BASE_ICC)
        if design == "entries":
            b = task_probs(rng, ENTRIES, BASE_P, BASE_ICC)
        elif design == "benchmark":
            b = rng.permutation(a)
        else:
            b = a
        pairs = run_pairs(_study([a, b], rng), "accuracy")
        entries.append(pairs["diff_p"].iloc[0] < ALPHA)
        fixed.append(pairs["diff_p_fixed"].iloc[0] < ALPHA)
    return {"entries": float(np.mean(entries)), "fixed": float(np.mean(fixed))}


# -- unequal spread ----------------------------------------------------------------------------


def plain_permutation_p(values: np.ndarray, in_a: np.ndarray, codes: np.ndarray) -> float:
    """The plain permutation of whole clusters (difference of means): gemviz's test before."""
    k_ids = np.unique(codes, return_inverse=True)[1]
    k = int(k_ids.max()) + 1
    sums = np.bincount(k_ids, weights=values, minlength=k)
    counts = np.bincount(k_ids, minlength=k).astype(float)
    group = np.bincount(k_ids, weights=in_a.astype(float), minlength=k) > 0
    k_a = int(group.sum())
    g_n = group * counts
    exact = _comb_at_most(k, k_a, ENUM_MAX)
    if exact:
        s, n, _ = _relabel.enumerated_groups(sums, counts, g_n, k_a)
    else:
        rng = np.random.default_rng(7)
        s, n, _ = _relabel.drawn_groups(rng, sums, counts, group, k_a, N_PERM)
    stat = s / n - (sums.sum() - s) / (counts.sum() - n)
    observed = sums[group].sum() / counts[group].sum() - sums[~group].sum() / counts[~group].sum()
    extreme = int((np.abs(stat) >= abs(observed) - 1e-12).sum())
    return extreme / stat.size if exact else (1 + extreme) / (stat.size + 1)


def _unequal_data(rng, what: str, k: int, p: float):
    """60 ID tasks (ICC 0.05) and ``k`` OOD tasks (ICC 0.4), equal means."""
    if what == "interaction":
        sd = [math.sqrt(icc / (1 - icc) * math.pi**2 / 3) for icc in (0.05, 0.4)]
        effect = np.concatenate([rng.normal(0, sd[0], 60), rng.normal(0, sd[1], k)])
        size = lengths(rng, 60 + k)
        codes = np.repeat(np.arange(60 + k), size)
        prob = expit(logit(p) + effect[codes])
        a = (rng.random(codes.size) < prob).astype(float)
        b = (rng.random(codes.size) < prob).astype(float)
        return (a, b), codes, codes < 60
    probs = np.concatenate([task_probs(rng, 60, p, 0.05), task_probs(rng, k, p, 0.4)])
    size = lengths(rng, probs.size)
    codes = np.repeat(np.arange(probs.size), size)
    values = (rng.random(codes.size) < probs[codes]).astype(float)
    return values, codes, codes < 60


def run_unequal(what: str, k: int, p: float, reps: int) -> dict[str, float]:
    """Rejections of a true null (equal means) now and with the plain permutation."""
    rng = _rng("unequal", what, k, p)
    now, before, logodds = [], [], []
    for _ in range(reps):
        values, codes, in_id = _unequal_data(rng, what, k, p)
        if what == "interaction":
            a, b = values
            out = compare_sets(a - b, in_id, ~in_id, codes)
            lo = logodds_did(a, b, in_id, ~in_id, codes)["p"][0]
            logodds.append(lo < ALPHA if not math.isnan(lo) else math.nan)
            values = a - b
        elif what == "drill-down":
            out = region_test(values, np.ones_like(in_id), ~in_id, codes)
        else:
            out = compare_sets(values, in_id, ~in_id, codes)
        p_now = out["p"][0]
        now.append(p_now < ALPHA if not math.isnan(p_now) else math.nan)
        before.append(plain_permutation_p(values, ~in_id, codes) < ALPHA)
    res = {"reject": float(np.nanmean(now)), "before": float(np.mean(before))}
    res["untested"] = float(np.mean(np.isnan(np.array(now, dtype=float))))
    if logodds:
        res["logodds"] = float(np.nanmean(np.array(logodds, dtype=float)))
    return res


# -- rare run-averaged means -------------------------------------------------------------------


def run_rare(p: float, icc: float, reps: int) -> dict[str, float]:
    """Coverage of the run-averaged mean's interval (entries as one-step clusters)."""
    rng = _rng("rare", p, icc)
    covered, upper = [], []
    for _ in range(reps):
        probs = task_probs(rng, ENTRIES, p, icc)
        averaged = (rng.random((RUNS, ENTRIES)) < probs).mean(axis=0)
        est = mean_intervals(averaged[:, None], np.ones(ENTRIES))
        covered.append(est["lo"][0] <= p <= est["hi"][0])
        upper.append(est["hi"][0])
    return {"cover": float(np.mean(covered)), "upper": float(np.median(upper))}


# -- the tables --------------------------------------------------------------------------------

UNEQUAL = [
    (what, k, p)
    for what in ("gap", "drill-down", "interaction")
    for k in (4, 8, 12, 30)
    for p in (0.07, 0.5)
]
RARE = [(0.004, 0.5), (0.01, 0.5), (0.05, 0.5), (0.01, 0.2)]


def _pct(x: float, reps: int | None = None) -> str:
    if x is None or math.isnan(x):
        return "–"
    if reps:
        return f"{x:.1%} ± {math.sqrt(max(x * (1 - x), 1e-12) / reps):.1%}"
    return f"{x:.1%}"


def many_lines(reps: int, power_reps: int) -> list[str]:
    """The many-configurations and two-questions table (Markdown lines)."""
    out = [
        f"| design ({CONFIGS} configurations × {RUNS} runs, {ENTRIES} entries) | family | "
        "on entries like these | on this benchmark as it is | before (unadjusted) |",
        "|---|---|---:|---:|---:|",
    ]
    null = run_many(0.0, reps)
    out.append(
        f"| identical configurations: any comparison significant | 153 pairs, Holm | "
        f"{_pct(null['all'], reps)} | {_pct(null['all_fixed'], reps)} | "
        f"{_pct(null['raw'], reps)} |"
    )
    out.append(
        f"| identical configurations: any comparison significant | 17 against a baseline, "
        f"Holm | {_pct(null['base'], reps)} | {_pct(null['base_fixed'], reps)} | – |"
    )
    for gain in (0.02, 0.05):
        alt = run_many(gain, power_reps)
        for key, family in (("base", "17 against a baseline, Holm"), ("all", "153 pairs, Holm")):
            out.append(
                f"| one configuration {100 * gain:.0f} points better: found against the "
                f"baseline (power) | {family} | {_pct(alt[key])} | {_pct(alt[key + '_fixed'])} | "
                + (f"{_pct(alt['raw'])} |" if key == "base" else "– |")
            )
    for design, words in (
        ("entries", "two configurations equal on entries like these (probabilities drawn apart)"),
        ("benchmark", "two configurations equal on this benchmark (same probabilities, reordered)"),
        ("same", "two identical configurations"),
    ):
        q = run_questions(design, reps)
        out.append(
            f"| {words}: rejects | one pair | {_pct(q['entries'], reps)} | "
            f"{_pct(q['fixed'], reps)} | – |"
        )
    return out


def unequal_lines(reps: int) -> list[str]:
    """The unequal-spread table (Markdown lines)."""
    out = [
        "| number | tasks in the smaller set | p | ICC ID / OOD | rejects a true null (± MC "
        "error) | before (plain permutation) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for what, k, p in UNEQUAL:
        r = run_unequal(what, k, p, reps)
        cell = _pct(r["reject"], reps)
        if r["untested"] > 0:
            cell += f" ({r['untested']:.0%} cannot be tested)"
        if "logodds" in r:
            cell += f"; log-odds {_pct(r['logodds'])}"
        out.append(f"| {what} | {k} | {p:g} | 0.05 / 0.4 | {cell} | {_pct(r['before'])} |")
    return out


def rare_lines(reps: int) -> list[str]:
    """The rare run-averaged means table (Markdown lines)."""
    out = [
        f"| run-averaged mean ({ENTRIES} entries × {RUNS} runs) | p | ICC | 95% CI covers | "
        "median upper bound |",
        "|---|---:|---:|---:|---:|",
    ]
    for p, icc in RARE:
        r = run_rare(p, icc, reps)
        out.append(
            f"| Korn-Graubard, entries as clusters | {p:g} | {icc:g} | {_pct(r['cover'], reps)} | "
            f"{r['upper']:.3f} |"
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=1000, help="data sets per row (default 1000)")
    parser.add_argument(
        "--many-reps",
        type=int,
        default=200,
        help="simulated studies per many-configurations row (default 200; half for power)",
    )
    args = parser.parse_args()
    for title, lines in (
        ("Unequal spread (equal means)", lambda: unequal_lines(args.reps)),
        ("Rare run-averaged means", lambda: rare_lines(args.reps)),
        (
            "Many configurations and the two questions",
            lambda: many_lines(args.many_reps, args.many_reps // 2),
        ),
    ):
        start = time.perf_counter()
        print(f"\n{title}\n")
        for line in lines():
            print(line, flush=True)
        print(f"\n{time.perf_counter() - start:.0f} s.")


if __name__ == "__main__":
    main()
