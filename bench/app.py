"""Time every dashboard page on a synthetic 50,000-step workspace.

For each page the table gives the median AppTest run with Streamlit's caches cleared before
every run (the naive approach: everything recomputed on each rerun) and with the cached
artifacts in place (what a user sees after the first visit), plus one rerun after a widget
change. Target: no cached rerun over 1 s.

Usage: ``python bench/app.py [--quick] [--steps 50000] [--repeats 5]``
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import streamlit as st  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from gemviz.analysis import filters, samples  # noqa: E402
from gemviz.analysis.paging import paginate  # noqa: E402
from gemviz.analysis.projection import ProjectionParams, project  # noqa: E402
from gemviz.data.paths import cache_dir  # noqa: E402
from gemviz.data.write import write_records  # noqa: E402
from gemviz.splitters.gem import fit_gmm_1d, in_intervals, merge_intervals  # noqa: E402
from gemviz.workspace.entries import ModelEntry  # noqa: E402
from gemviz.workspace.store import create_workspace  # noqa: E402

# AppTest runs pages without a server, and Streamlit then warns on every cached call: keep
# the output to the tables.
logging.disable(logging.WARNING)

SEED = 42


def build_workspace(folder: Path, steps: int):
    """A workspace of ``steps`` test steps: 3 splitters with scores, 3 models."""
    rng = np.random.default_rng(SEED)
    apps = [f"app{i}" for i in range(40)]

    def records(n, ood_share):
        ood = rng.random(n) < ood_share
        score = np.where(ood, rng.normal(9.0, 1.5, n), rng.normal(5.0, 0.8, n))
        return [
            {
                "id": f"s{i}",
                "task": f"task {i // 8}",
                "image_path": f"img/{i}.png",
                "app": apps[i % len(apps)],
                "input_score": float(s),
            }
            for i, s in enumerate(score)
        ]

    train, test = records(steps, 0.02), records(steps, 0.2)
    write_records(folder / "train.json", train)
    write_records(folder / "test.json", test)
    ws = create_workspace("Bench 50k", test=folder / "test.json", train=folder / "train.json")
    x_train = np.array([r["input_score"] for r in train])
    x_test = np.array([r["input_score"] for r in test])
    fit = fit_gmm_1d(x_train, max_components=6, random_state=SEED)
    for name, sigma in (("gem-2", 2.0), ("gem-1", 1.0), ("gem-3", 3.0)):
        flags = in_intervals(x_test, merge_intervals(fit.means, fit.stds, sigma))
        ws.save_partition(
            name,
            folder / "test.json",
            flags,
            train_scores=str(folder / "train.json"),
            partition="gem",
            params={"sigma": sigma},
        )
    for name, p in (("strong", 0.8), ("mid", 0.55), ("weak", 0.3)):
        hit = rng.random(steps) < p
        write_records(
            folder / f"{name}.json",
            [
                {"id": f"s{i}", "type_match": int(h or i % 2), "exact_match": int(h)}
                for i, h in enumerate(hit)
            ],
        )
        ws.add_model(ModelEntry(name=name, results=str(folder / f"{name}.json")))
    return ws


# page -> (file, interaction applied to a finished AppTest)
PAGES = {
    "Workspace": ("1_workspace.py", lambda at: at.text_input(key="new_model_name").set_value("x")),
    "Score & Partition": ("2_score_partition.py", lambda at: at.slider(key="sigma").set_value(1.5)),
    "Metrics": (
        "3_metrics.py",
        lambda at: at.multiselect(key="metrics_models").set_value(["strong", "weak"]),
    ),
    "Overlap": (
        "4_overlap.py",
        lambda at: at.multiselect(key="overlap_splitters").set_value(["gem-2", "gem-3"]),
    ),
    "Samples (filter)": (
        "5_samples.py",
        lambda at: at.selectbox(key="f_label_gem-2").set_value("OOD"),
    ),
    "Samples (next page)": (
        "5_samples.py",
        lambda at: at.number_input(key="page_number").set_value(7),
    ),
}


def run_once(page: str, slug: str, interact=None) -> float:
    at = AppTest.from_file(str(ROOT / "pages" / page), default_timeout=600)
    at.session_state["workspace"] = slug
    at.run()
    if at.exception:
        raise RuntimeError(f"{page}: {at.exception[0].value}")
    if interact is None:
        return 0.0
    interact(at)
    start = time.perf_counter()
    at.run()
    return time.perf_counter() - start


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=50_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="fewer repeats (a couple of minutes)")
    args = parser.parse_args(argv)
    repeats = 3 if args.quick else args.repeats
    cold_repeats = 1 if args.quick else 3

    os.environ["GEMVIZ_CACHE"] = tempfile.mkdtemp(prefix="gemviz-bench-")

    t0 = time.perf_counter()
    ws = build_workspace(cache_dir("bench_files"), args.steps)
    print(f"built a {args.steps:,}-step workspace in {time.perf_counter() - t0:.1f} s\n")

    def clear():
        st.cache_data.clear()
        st.cache_resource.clear()

    rows = []
    for name, (page, interact) in PAGES.items():
        cold = []
        for _ in range(cold_repeats):
            clear()
            cold.append(timed(lambda page=page: run_once(page, ws.slug)))
        run_once(page, ws.slug)  # make sure every artifact of this page is cached
        warm = [timed(lambda page=page: run_once(page, ws.slug)) for _ in range(repeats)]
        rerun = run_once(page, ws.slug, interact)
        rows.append((name, statistics.median(cold), statistics.median(warm), rerun))

    print(
        "| page | no cache (naive), s | cached, s | rerun after widget change, s | cached ≤ 1 s |"
    )
    print("|---|---|---|---|---|")
    for name, cold, warm, rerun in rows:
        ok = "yes" if warm <= 1.0 and rerun <= 1.0 else "NO"
        print(f"| {name} | {cold:.2f} | {warm:.2f} | {rerun:.2f} | {ok} |")
    print(
        f"\n{args.steps:,} test steps, 3 splitters, 3 models; medians of {cold_repeats} "
        f"uncached and {repeats} cached runs."
    )
    bench_sample_filters(ws, repeats)
    bench_umap(args.steps, quick=args.quick)
    return 0


def bench_sample_filters(ws, repeats: int) -> None:
    """The Samples page's filtering: vectorised masks against a per-row Python loop."""
    study = ws.study()
    table = samples.sample_table(study)
    flt = filters.SampleFilter(
        labels={"gem-2": "OOD"},
        matches={("strong", "exact_match"): 0},
        score_ranges={"gem-1": (4.0, 12.0)},
        search="task 1",
    )
    records = table.to_dict("records")

    def naive():
        keep = []
        for r in records:
            ok = r["gem-2 label"] == "OOD" and r["strong exact"] == 0
            ok = ok and 4.0 <= r["gem-1 score"] <= 12.0 and "task 1" in r["task"].lower()
            keep.append(ok)
        return keep

    def row_apply():
        # What a page written without the backend would do: a pandas row-wise apply.
        return table.apply(
            lambda r: (
                r["gem-2 label"] == "OOD"
                and r["strong exact"] == 0
                and 4.0 <= r["gem-1 score"] <= 12.0
                and "task 1" in r["task"].lower()
            ),
            axis=1,
        )

    vec = statistics.median(timed(lambda: filters.filter_mask(table, flt)) for _ in range(repeats))
    loop = statistics.median(timed(naive) for _ in range(repeats))
    assert int(np.sum(filters.filter_mask(table, flt))) == sum(naive())
    page = statistics.median(
        timed(lambda: samples.visible(table.iloc[slice(*_bounds(len(table)))]))
        for _ in range(repeats)
    )
    print(f"\n| Samples filter on {len(table):,} steps | median, ms |")
    print("|---|---|")
    print(f"| naive: pandas row-wise apply | {timed(row_apply) * 1e3:.1f} |")
    print(f"| per-row Python loop over records | {loop * 1e3:.1f} |")
    print(f"| vectorised masks (gemviz.analysis.filters) | {vec * 1e3:.1f} |")
    print(f"| one page of 100 rows | {page * 1e3:.2f} |")


def _bounds(n: int) -> tuple[int, int]:
    p = paginate(n, 7, 100)
    return p.start, p.stop


def bench_umap(steps: int, dim: int = 384, quick: bool = False) -> None:
    """First UMAP of ``steps`` x ``dim`` embeddings (PCA 50 first) and the cached reopen."""
    n = min(steps, 10_000) if quick else steps
    rng = np.random.default_rng(SEED)
    centres = rng.normal(size=(30, dim))
    x = (centres[rng.integers(0, 30, n)] + rng.normal(scale=0.7, size=(n, dim))).astype(np.float32)
    ids = [f"s{i}" for i in range(n)]
    t0 = time.perf_counter()
    import umap  # noqa: F401 - numba's import cost, reported separately

    imp = time.perf_counter() - t0
    params = ProjectionParams()
    cold = timed(lambda: project(ids, x, params))
    again = statistics.median(timed(lambda: project(ids, x, params)) for _ in range(3))
    # The same again with numba's kernels already compiled, then without PCA (the naive way).
    warm = timed(lambda: project(ids, x, ProjectionParams(seed=SEED + 1)))
    print(f"\n| UMAP of {n:,} x {dim} (2 CPU cores) | s |")
    print("|---|---|")
    print(f"| import umap (numba) | {imp:.1f} |")
    print(f"| first projection in a fresh process, PCA 50 + UMAP (incl. numba JIT) | {cold:.1f} |")
    print(f"| cached reopen (hash + load .npz) | {again:.2f} |")
    print(f"| PCA 50 + UMAP, kernels compiled | {warm:.1f} |")
    if not quick:
        naive = timed(lambda: project(ids, x, ProjectionParams(pca_components=None, seed=SEED + 2)))
        print(f"| naive: UMAP on all {dim} dims, no PCA, kernels compiled | {naive:.1f} |")


if __name__ == "__main__":
    sys.exit(main())
