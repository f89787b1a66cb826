"""Benchmark: gemviz at 50k, 200k and 1M test steps against the plain baselines, one table.

For every size it builds a synthetic study like the GEM release's files (tasks of 5-13 steps
whose steps share an input score, drawn from the three clusters GEM finds on AITZ; 2 splitters,
3 models, train set as large as the test set), then measures, each in a fresh process so
peak memory and "cold" mean what they say:

- **load**: ``Study.from_files`` (6 files: the test set, 2 labeled files, 3 result files,
  every check included) against ``pandas.read_json`` / ``pandas.read_parquet`` of the same 6
  files (no checks, no alignment), with each process's peak RSS; each side runs 3 times,
  alternating, and the run with the median CPU time is shown (``--load-repeats``;
  ``--load-only`` measures these rows alone); JSON twice: never read before (each run with a
  cache folder of its own, so the files are parsed) and read back from the columnar copies
  a first read left in the cache;
- **pages**: every dashboard page through Streamlit's ``AppTest`` in a fresh process: the
  first run (cold: the study is read from disk), a second run (warm: Streamlit's caches hit)
  and a rerun after a widget change where the page has one (on Metrics: another choice of
  models); the workspace names the parquet files (``--format json``: the JSON files;
  ``--pages-only`` measures these rows alone);
- **report**: ``python -m gemviz report --out r.html --slides d.pptx`` in a fresh process
  (imports, loading and every section included; ``--no-report`` skips it, ``--only-report``
  runs nothing else, ``--report-baseline CHECKOUT`` runs the same command from another
  checkout on the same workspace as the baseline);
- **GEM**: :func:`gemviz.splitters.gem.fit_gmm_1d` on the train scores against the
  published script (19 ``GaussianMixture`` fits, a refit, labelling in a Python loop), with
  the chosen count and the test labels compared;
- **UMAP**: :func:`gemviz.analysis.projection.project` (PCA 50 + UMAP, with its rule for
  large inputs) against plain ``umap.UMAP`` on the same 384-d embeddings, in one process with
  numba's kernels compiled first (``--umap-sizes``; the 1M map takes minutes).

Run ``nice -n 10 python bench/scale.py`` (all sizes; ``--sizes 50000`` for one). Every row
gives CPU seconds beside wall seconds (a page runs in a thread of its process, so process CPU
time counts it; a command's CPU is its process's and its children's) and the load average
when it was measured. On a shared machine wall time follows the load: compare CPU times, and
compare within a row.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The bench folder itself off the path, so no script here can shadow a package of the same
# name that a library imports.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import orjson  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.mixture import GaussianMixture  # noqa: E402, TID253
from streamlit.testing.v1 import AppTest  # noqa: E402

from gemviz.analysis.projection import ProjectionParams, project  # noqa: E402
from gemviz.data.read import read_table  # noqa: E402
from gemviz.data.study import Study  # noqa: E402
from gemviz.splitters.gem import fit_gmm_1d, in_intervals, merge_intervals  # noqa: E402
from gemviz.workspace.entries import ModelEntry, SplitterEntry  # noqa: E402
from gemviz.workspace.store import create_workspace  # noqa: E402

logging.disable(logging.WARNING)  # AppTest without a server warns on every cached call

SEED = 42
# The three clusters GEM finds on the published AITZ scores (rounded): means, stds, weights.
CLUSTERS = (np.array([0.0075, 0.039, 0.073]), np.array([0.002, 0.003, 0.0013]), (0.44, 0.45, 0.11))
SPLITTERS = ("gem", "gem-3sigma")
MODELS = {"sft": 0.8, "dpo": 0.6, "base": 0.35}


# ----------------------------------------------------------------------------- the study


def task_scores(
    n: int, rng: np.random.Generator, shift: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """Scores of ``n`` steps in tasks of 5-13 steps (every step of a task shares its score)."""
    means, stds, weights = CLUSTERS
    lengths = rng.integers(5, 14, size=n // 5 + 1)
    lengths = lengths[: int(np.searchsorted(np.cumsum(lengths), n)) + 1]
    comp = rng.choice(len(means), size=lengths.size, p=np.asarray(weights))
    per_task = rng.normal(means[comp] + shift, stds[comp]).astype(np.float32).astype(float)
    task = np.repeat(np.arange(lengths.size), lengths)[:n]
    return per_task[task], task


def build(folder: Path, steps: int, fmt: str = "parquet") -> dict:
    """Write the study's files (JSON and parquet) and register a workspace naming the
    ``fmt`` files (the pages read the study from them)."""

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED)
    apps = np.array([f"app{i}" for i in range(40)])

    def frame(n: int, shift: float, prefix: str) -> pd.DataFrame:
        scores, task = task_scores(n, rng, shift)
        return pd.DataFrame(
            {
                "task": [
                    f"{prefix} task {t}: open the settings and change item {t % 97}" for t in task
                ],
                "image_path": [f"screens/{prefix}/{t}/{i}.png" for i, t in enumerate(task)],
                "app": apps[task % len(apps)],
                "input_score": scores,
            }
        )

    train, test = frame(steps, 0.0, "train"), frame(steps, 0.004, "test")
    files: dict[str, dict[str, str]] = {"json": {}, "parquet": {}}

    def write(name: str, table: pd.DataFrame) -> None:
        for fmt in files:
            path = folder / f"{name}.{fmt}"
            if fmt == "json":
                path.write_bytes(orjson.dumps(table.to_dict("records")))
            else:
                table.to_parquet(path, index=False)
            files[fmt][name] = str(path)

    write("train", train)
    write("test", test)
    fit = fit_gmm_1d(train["input_score"].to_numpy())
    x_test = test["input_score"].to_numpy()
    for name, sigma in zip(SPLITTERS, (2.0, 3.0), strict=True):
        inside = in_intervals(x_test, merge_intervals(fit.means, fit.stds, sigma))
        write(name, test.assign(label=np.where(inside, "ID", "OOD")))
    for name, p in MODELS.items():
        hit = rng.random(steps) < p
        typed = hit | (rng.random(steps) < 0.5)
        write(
            name,
            test[["task", "image_path"]].assign(
                type_match=typed.astype(int), exact_match=hit.astype(int)
            ),
        )
    return {"slug": register(steps, files[fmt]), "files": files}


def register(steps: int, files: dict[str, str]) -> str:
    """A workspace naming ``files`` (one format); returns its slug."""
    fmt = Path(files["test"]).suffix.lstrip(".")
    ws = create_workspace(f"Scale {steps} {fmt}", test=files["test"], train=files["train"])
    for name in SPLITTERS:
        entry = SplitterEntry(
            name=name,
            labeled=files[name],
            train_scores=files["train"],
            test_scores=files["test"],
        )
        ws.add_splitter(entry)
    for name in MODELS:
        ws.add_model(ModelEntry(name=name, results=files[name]))
    return ws.slug


# ----------------------------------------------------------------------------- child runs


def _peak_mb() -> float:
    """This process's peak resident memory (VmHWM; ru_maxrss would include the parent's)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Clock:
    """Wall and CPU seconds (this process, every thread) of a ``with`` block."""

    def __enter__(self) -> Clock:
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc) -> None:
        self.wall = time.perf_counter() - self._wall
        self.cpu = time.process_time() - self._cpu

    def both(self) -> list[float]:
        return [self.cpu, self.wall]


def child_load(files: dict[str, str], how: str) -> dict:
    """Time one load of the study's six files; ``how`` is gemviz, read_table or pandas."""
    clock = Clock().__enter__()
    if how == "gemviz":
        Study.from_files(
            {n: files[n] for n in SPLITTERS}, {n: files[n] for n in MODELS}, samples=files["test"]
        )
    elif how == "read_table":
        for name in ("test", *SPLITTERS, *MODELS):
            read_table(files[name])
    else:
        for name in ("test", *SPLITTERS, *MODELS):
            path = files[name]
            pd.read_parquet(path) if path.endswith(".parquet") else pd.read_json(path)
    clock.__exit__()
    return {"t": clock.both(), "peak_mb": _peak_mb()}


PAGES = {
    "Router (app.py)": ("app.py", None),
    "Workspace": ("pages/1_workspace.py", None),
    "Score & Partition": ("pages/2_score_partition.py", ("slider", "sigma", 1.5)),
    "Metrics": ("pages/3_metrics.py", ("multiselect", "metrics_models", ["sft", "base"])),
    "Overlap": ("pages/4_overlap.py", None),
    "Samples": ("pages/5_samples.py", ("number_input", "page_number", 7)),
    "Embeddings": ("pages/6_embeddings.py", None),
    "Report": ("pages/7_report.py", None),
    "Step": ("pages/8_step.py", None),
    "Training sets": ("pages/9_training_sets.py", None),
}


def child_page(slug: str, page: str) -> dict:
    """Cold, warm and after-a-widget-change times of one page in a fresh process."""
    path, change = PAGES[page]
    at = AppTest.from_file(str(ROOT / path), default_timeout=900)
    at.session_state["workspace"] = slug
    # AppTest runs the page in a thread of this process: process CPU time counts it.
    with Clock() as cold:
        at.run()
    error = [str(e.value)[:120] for e in at.exception]
    with Clock() as warm:
        at.run()
    rerun = None
    if change is not None and not error:
        kind, key, value = change
        try:
            getattr(at, kind)(key=key).set_value(value)
            with Clock() as rerun:
                at.run()
            rerun = rerun.both()
        except (KeyError, ValueError, IndexError) as exc:
            error.append(f"no widget {key}: {exc}")
    cold, warm = cold.both(), warm.both()
    return {"cold": cold, "warm": warm, "rerun": rerun, "peak_mb": _peak_mb(), "error": error}


def published_gem(train: np.ndarray, test: np.ndarray) -> tuple[int, np.ndarray]:
    """The GEM release's script (seeded): 19 fits, a refit, labels in a Python loop."""

    x = train.reshape(-1, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bics = [GaussianMixture(k, random_state=SEED).fit(x).bic(x) for k in range(1, 20)]
        best = int(np.argmin(bics)) + 1
        gmm = GaussianMixture(best, random_state=SEED).fit(x)
    bounds = sorted(
        (m - 2 * np.sqrt(c), m + 2 * np.sqrt(c))
        for m, c in zip(gmm.means_.ravel(), gmm.covariances_.ravel(), strict=True)
    )
    merged = [bounds[0]]
    for lo, hi in bounds[1:]:
        if lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return best, np.array([any(lo <= s <= hi for lo, hi in merged) for s in test])


def child_gem(files: dict[str, str], baseline: bool) -> dict:

    train = pd.read_parquet(files["train"])["input_score"].to_numpy()
    test = pd.read_parquet(files["test"])["input_score"].to_numpy()
    with Clock() as ours:
        fit = fit_gmm_1d(train)
        labels = in_intervals(test, merge_intervals(fit.means, fit.stds, 2.0))
    out = {"t": ours.both(), "k": fit.n_components, "distinct": int(np.unique(train).size)}
    if baseline:
        with Clock() as base:
            k, want = published_gem(train, test)
        out.update(base=base.both(), base_k=k, differ=int((want != labels).sum()))
    return out


def embeddings(n: int, dim: int = 384) -> np.ndarray:
    rng = np.random.default_rng(SEED)
    centres = rng.normal(size=(30, dim)).astype(np.float32)
    x = centres[rng.integers(0, 30, n)]
    x += rng.normal(scale=0.7, size=(n, dim)).astype(np.float32)
    return x


def child_umap(n: int) -> dict:
    import umap

    # numba compiles its kernels once per process: warm every path both sides take (above
    # 4,096 points UMAP switches to its approximate neighbour search; transform has its own).
    warmup = embeddings(6000)
    umap.UMAP(random_state=SEED).fit_transform(warmup)
    project([f"w{i}" for i in range(len(warmup))], warmup, ProjectionParams(fit_limit=5000))
    x = embeddings(n)
    ids = [f"s{i}" for i in range(n)]
    with Clock() as ours:
        project(ids, x, ProjectionParams())
    with Clock() as plain:
        umap.UMAP(random_state=SEED).fit_transform(x)  # seeded, as gemviz: the same map on a rerun
    return {"t": ours.both(), "base": plain.both(), "peak_mb": _peak_mb()}


def _children_cpu() -> float:
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return kids.ru_utime + kids.ru_stime


def run_report(slug: str, folder: Path, root: Path = ROOT, tag: str = "") -> dict:
    """The ``report`` command writing the HTML report and the deck, in a fresh process, run
    from the checkout ``root`` (another one: the baseline's code on the same workspace)."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    ws = Path(os.environ["GEMVIZ_CACHE"]) / "workspaces" / slug
    cmd = [sys.executable, "-m", "gemviz", "report", "--workspace", str(ws)]
    cmd += ["--out", str(folder / f"r{tag}.html"), "--slides", str(folder / f"d{tag}.pptx")]
    cpu, start = _children_cpu(), time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=root)
    wall, cpu = time.perf_counter() - start, _children_cpu() - cpu
    if out.returncode:
        return {"error": [(out.stderr or out.stdout).strip().splitlines()[-1:]]}
    return {"t": [cpu, wall]}


def run_child(*args: str, cache: str | None = None) -> dict:
    """Run this script as a child (``--child ...``) and return its JSON answer; ``cache``:
    its own cache folder (``GEMVIZ_CACHE``) instead of the run's."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    if cache is not None:
        env["GEMVIZ_CACHE"] = cache
    out = subprocess.run(
        [sys.executable, __file__, "--child", *args], capture_output=True, text=True, env=env
    )
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
    if out.returncode or not lines:
        return {"error": [(out.stderr or out.stdout).strip().splitlines()[-1:]]}
    return json.loads(lines[-1])


# ----------------------------------------------------------------------------- the table


def load_avg() -> str:
    return "/".join(f"{v:.1f}" for v in os.getloadavg())


def row(size: int, what: str, ours=None, base=None, note: str = "", peak=None) -> str:
    """One line of the table; ``ours`` and ``base`` are ``[cpu, wall]`` seconds (or None)."""

    def fmt(v):
        return "-" if v is None else f"{v:.2f}"

    ours, base = ours or [None, None], base or [None, None]
    ratio = f"{ours[0] / base[0]:.2f}×" if ours[0] is not None and base[0] else "-"
    peak_s = "-" if peak is None else f"{peak / 1024:.2f}"
    return (
        f"| {size:,} | {what} | {fmt(ours[0])} | {fmt(ours[1])} | {fmt(base[0])} "
        f"| {fmt(base[1])} | {ratio} | {peak_s} | {load_avg()} | {note} |"
    )


def _median_run(runs: list[dict]) -> dict:
    """Of several children's answers, the one with the median CPU time (errors kept)."""
    done = sorted((r for r in runs if "t" in r), key=lambda r: r["t"][0])
    return done[len(done) // 2] if done else runs[-1]


def _load_rows(lines: list, size: int, study: dict, repeats: int = 3) -> None:
    """Each load against pandas; JSON both never read before (a fresh cache folder, so the
    files are parsed) and read back from the columnar copies the first read left."""

    def fresh(how: str) -> dict:  # a cache folder of its own, removed after the run
        folder = tempfile.mkdtemp(prefix="gemviz-fresh-")
        try:
            return run_child("load", spec, how, cache=folder)
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    copies = tempfile.mkdtemp(prefix="gemviz-copies-")
    for fmt, base in (("parquet", "pandas.read_parquet"), ("json", "pandas.read_json")):
        spec = json.dumps(study["files"][fmt])
        got: dict[str, list[dict]] = {"gemviz": [], "pandas": []}
        for _ in range(repeats):  # alternating, so a change of load hits both sides alike
            for how in got:
                got[how].append(fresh(how))
        plain = _median_run(got["pandas"])
        alone = f"; read_table alone {(fresh('read_table').get('t') or [0, 0])[0]:.2f} s CPU"
        what = f"load study ({fmt}{', never read' if fmt == 'json' else ''})"
        ours = _median_run(got["gemviz"])
        _load_row(lines, size, what, ours, plain, f"vs {base}, 6 files{alone}", repeats)
        if fmt == "json":
            run_child("load", spec, "gemviz", cache=copies)  # leaves the copies
            again = [run_child("load", spec, "gemviz", cache=copies) for _ in range(repeats)]
            what = "load study (json, read back from its columnar copies)"
            _load_row(lines, size, what, _median_run(again), plain, f"vs {base}", repeats)
        peak = plain.get("peak_mb")
        lines.append(row(size, f"  {base} (6 files)", plain.get("t"), None, "", peak))
    shutil.rmtree(copies, ignore_errors=True)


def _load_row(
    lines: list, size: int, what: str, ours: dict, plain: dict, note: str, repeats: int
) -> None:
    peaks = (ours.get("peak_mb"), plain.get("peak_mb"))
    ratio = f"; peak {peaks[0] / peaks[1]:.2f}× pandas'" if all(peaks) else ""
    note = f"{note}; median of {repeats} runs{ratio}"
    lines.append(row(size, what, ours.get("t"), plain.get("t"), note, peaks[0]))


def _page_rows(lines: list, size: int, page: str, got: dict) -> None:
    error = "; ".join(got.get("error", []))
    peak = got.get("peak_mb")
    lines.append(row(size, f"page {page}: first open", got.get("cold"), None, error, peak))
    lines.append(row(size, f"page {page}: warm rerun", got.get("warm")))
    if got.get("rerun"):
        lines.append(row(size, f"page {page}: after a widget change", got.get("rerun")))


def _report_row(lines: list, size: int, study: dict, folder: Path, args) -> None:
    base = None
    if args.report_baseline:  # the baseline first: it can leave no cache the other reads
        base = run_report(study["slug"], folder, Path(args.report_baseline), "-baseline")
    got = run_report(study["slug"], folder)
    errors = [*got.get("error", []), *((base or {}).get("error", []))]
    read = (
        "JSON files as registering the workspace left them (read once, their columnar copies "
        "in the cache); "
        if args.format == "json"
        else ""
    )
    note = "; ".join(map(str, errors)) or f"fresh process, imports included; {read}GEM fitted here"
    if base is not None and not errors:
        note += f"; baseline: the command from {args.report_baseline}, same workspace"
    what = f"report --out --slides (command, {args.format} files)"
    lines.append(row(size, what, got.get("t"), (base or {}).get("t"), note))
    # Built again, as a meeting's report is: the GEM fits the first run left in the cache are
    # read back (the baseline's code keeps none).
    again = run_report(study["slug"], folder, tag="-again")
    note = "; ".join(map(str, again.get("error", []))) or (
        "again in a fresh process: GEM fits read from the cache; baseline: its one run above"
    )
    lines.append(row(size, f"{what}, built again", again.get("t"), (base or {}).get("t"), note))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="50000,200000,1000000")
    parser.add_argument("--umap-sizes", default="50000,200000", help="1000000 takes minutes")
    parser.add_argument("--pages", default=",".join(PAGES), help="comma-separated page names")
    parser.add_argument("--no-baseline-gem", action="store_true", help="skip the published script")
    parser.add_argument("--no-report", action="store_true", help="skip the report command")
    parser.add_argument(
        "--only-report",
        action="store_true",
        help="build the study and run the report command only (no load, page, GEM or UMAP rows)",
    )
    parser.add_argument(
        "--report-baseline",
        metavar="CHECKOUT",
        help="also run the report command from this checkout (e.g. a git worktree of older "
        "code) on the same workspace, as the row's baseline",
    )
    parser.add_argument(
        "--load-only", action="store_true", help="only the load rows (no pages, report, GEM)"
    )
    parser.add_argument(
        "--pages-only", action="store_true", help="only the page rows (no load, report, GEM)"
    )
    parser.add_argument("--load-repeats", type=int, default=3, help="runs of each load")
    parser.add_argument(
        "--format",
        choices=("parquet", "json"),
        default="parquet",
        help="the files the pages and the report read (both formats are loaded in the load rows)",
    )
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        kind, *rest = args.child
        if kind == "load":
            answer = child_load(json.loads(rest[0]), rest[1])
        elif kind == "page":
            answer = child_page(rest[0], rest[1])
        elif kind == "gem":
            answer = child_gem(json.loads(rest[0]), rest[1] == "1")
        else:
            answer = child_umap(int(rest[0]))
        print(json.dumps(answer))
        return 0

    os.environ.setdefault("GEMVIZ_CACHE", tempfile.mkdtemp(prefix="gemviz-scale-"))
    print(f"{os.cpu_count()} CPUs; GEMVIZ_CACHE={os.environ['GEMVIZ_CACHE']}\n")
    lines = [
        "| steps | what | gemviz CPU, s | gemviz wall, s | baseline CPU, s | baseline wall, s "
        "| CPU ratio | peak RSS, GB | load avg 1/5/15 min | notes |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    pages = [p.strip() for p in args.pages.split(",") if p.strip()]

    class Rows(list):
        def append(self, line: str) -> None:  # each row as soon as it is measured
            print(line, flush=True)
            super().append(line)

    lines = Rows(lines)
    for size in (int(s) for s in args.sizes.split(",")):
        start = time.perf_counter()
        folder = Path(os.environ["GEMVIZ_CACHE"]) / f"files-{size}"
        study = build(folder, size, args.format)
        print(f"built {size:,} steps in {time.perf_counter() - start:.0f} s", flush=True)
        if not args.only_report:
            if not args.pages_only:
                _load_rows(lines, size, study, args.load_repeats)
            if args.load_only:
                continue
            for page in pages:
                got = run_child("page", study["slug"], page)
                _page_rows(lines, size, f"{page} ({args.format})", got)
            if args.pages_only:
                continue
        if not args.no_report:
            _report_row(lines, size, study, folder, args)
        if args.only_report:
            continue
        got = run_child(
            "gem", json.dumps(study["files"]["parquet"]), "0" if args.no_baseline_gem else "1"
        )
        note = f"k={got.get('k')} on {got.get('distinct', 0):,} distinct scores"
        if "base_k" in got:
            note += f"; published k={got['base_k']}, {got['differ']} test labels differ"
        lines.append(row(size, "GEM fit + labels", got.get("t"), got.get("base"), note))
        if str(size) in args.umap_sizes.split(","):
            got = run_child("umap", str(size))
            note = "vs plain umap.UMAP, same process"
            lines.append(
                row(
                    size,
                    "UMAP map (384-d)",
                    got.get("t"),
                    got.get("base"),
                    note,
                    got.get("peak_mb"),
                )
            )
    print()
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
