"""Splitter stability: is a step's ID/OOD label a property of the step, or of one train draw?

A splitter is refitted on ``B`` cluster-bootstrap resamples of the train set (whole tasks or
episodes drawn with replacement, so a resample varies the way another train set from the same
tasks would) and relabels the test steps each time. A step's *ID probability* is the share of
refits that call it ID. For a Venn diagram of several splitters, all of them are refitted on
the same resampled tasks, and a step *stays in its region* when at least 90% of the refits put
it in the same region as the original labels; :func:`region_stability` reports, per region,
the share of its steps that stay. So "are the 78 disputed steps real or noise?" has an answer:
a region whose steps mostly stay is a property of the data, one whose steps wander is not.

Refits are deterministic (resampling seed 42 by default). :data:`RESAMPLES` refits give an ID
probability near 0.9 a Monte Carlo standard error under 0.02 (:func:`id_probability_se`), so
the 90% threshold is not read off noise. The dashboard computes them on demand and keeps them
on disk (:func:`workspace_refits`).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gemviz.data import clusters as clusters_mod
from gemviz.data.errors import GemvizError
from gemviz.data.fields import SCORE
from gemviz.data.files import read_cache_npz
from gemviz.data.loaders import load_scores
from gemviz.data.paths import cache_dir
from gemviz.data.write import write_bytes_atomic
from gemviz.splitters import SPLITTERS, Splitter, make_splitter, splitter_params
from gemviz.stats import SEED

# sqrt(0.9 * 0.1 / 250) = 0.019: the Monte Carlo error of an ID probability near the 90%
# threshold stays under 0.02.
RESAMPLES = 250
# A step "stays" in its Venn region when at least this share of refits keeps it there.
STAY = 0.9
STABILITY_COLUMNS = ["region", "count", "stable", "stable_share"]

Progress = Callable[[int, int], None]


def bootstrap_rows(codes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Row indices of one cluster-bootstrap resample: K clusters drawn with replacement.

    Args:
        codes: Cluster code of every train row.
        rng: The generator.

    Returns:
        The rows of the drawn clusters (a cluster drawn twice appears twice).
    """
    _, inverse = np.unique(codes, return_inverse=True)
    order = np.argsort(inverse, kind="stable")
    sizes = np.bincount(inverse)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    drawn = rng.integers(0, sizes.size, sizes.size)
    lengths = sizes[drawn]
    # Each drawn cluster contributes order[start : start + size].
    offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return order[np.repeat(starts[drawn], lengths) + offsets]


# A refit takes about a second: more than this many would run for days; and the bool table
# of labels (resamples x test steps) must fit in memory.
MAX_RESAMPLES = 100_000
MAX_LABEL_CELLS = 2_000_000_000


def refit_labels(
    splitter: Splitter,
    x_train: np.ndarray,
    train_clusters: np.ndarray | None,
    x_test: np.ndarray,
    resamples: int = RESAMPLES,
    seed: int = SEED,
    progress: Progress | None = None,
) -> np.ndarray:
    """Refit ``splitter`` on cluster-bootstrap resamples of the train set and label the test set.

    Args:
        splitter: An unfitted splitter (its parameters are copied for every refit).
        x_train: The train inputs (scores or embeddings, as the splitter takes).
        train_clusters: Cluster code of every train row; None resamples single rows.
        x_test: The test inputs.
        resamples: Number of refits ``B``.
        seed: Seed of the resampling.
        progress: Called with ``(done, total)`` after every refit.

    Returns:
        A ``(B, n_test)`` boolean matrix, True = ID in that refit.

    Raises:
        GemvizError: ``resamples`` below 1, or a refit fails (e.g. too few train rows).
    """
    if resamples < 1:
        raise GemvizError(f"resamples must be at least 1, got {resamples}")
    if resamples > MAX_RESAMPLES or resamples * max(len(x_test), 1) > MAX_LABEL_CELLS:
        # Refused before allocating the (resamples x test) table or starting the refits.
        raise GemvizError(
            f"{resamples:,} resamples of {len(x_test):,} test steps is too many (at most "
            f"{MAX_RESAMPLES:,} resamples and {MAX_LABEL_CELLS:,} labels in all); 250 give a "
            "Monte Carlo error under 0.02"
        )
    if not 0 <= int(seed) < 2**32:
        raise GemvizError(f"the resampling seed must be from 0 to 4294967295, got {seed}")
    x_train = np.asarray(x_train)
    codes = np.arange(len(x_train)) if train_clusters is None else np.asarray(train_clusters)
    if codes.size != len(x_train):
        raise GemvizError(f"{len(x_train)} train rows but {codes.size} cluster codes")
    rng = np.random.default_rng(seed)
    name = _registry_name(splitter)
    params = splitter.get_params()
    out = np.zeros((resamples, len(x_test)), dtype=bool)
    for b in range(resamples):
        rows = bootstrap_rows(codes, rng)
        out[b] = make_splitter(name, **params).fit(x_train[rows]).predict(x_test)
        if progress:
            progress(b + 1, resamples)
    return out


def id_probability(refits: np.ndarray) -> np.ndarray:
    """Share of refits that call each step ID (a ``(B, n)`` matrix -> ``(n,)``)."""
    return np.asarray(refits, dtype=float).mean(axis=0)


def id_probability_se(refits: np.ndarray) -> np.ndarray:
    """Monte Carlo standard error of each step's ID probability over ``B`` refits.

    ``sqrt(q (1 - q) / B)`` with ``q = (k + 0.5) / (B + 1)`` (``k`` refits calling the step
    ID), so a step that never or always changes still shows the error the number of refits
    allows rather than 0.

    Args:
        refits: ``(B, n)`` ID flags.

    Returns:
        ``(n,)`` standard errors.
    """
    arr = np.asarray(refits, dtype=float)
    b = arr.shape[0]
    q = (arr.sum(axis=0) + 0.5) / (b + 1.0)
    return np.sqrt(q * (1.0 - q) / b)


def mc_error(resamples: int, probability: float = STAY) -> float:
    """Monte Carlo standard error of an ID probability of ``probability`` over ``resamples``."""
    return float(np.sqrt(probability * (1.0 - probability) / resamples))


def region_stability(
    original: Mapping[str, np.ndarray],
    refits: Mapping[str, np.ndarray],
    label: str = "ID",
    stay: float = STAY,
) -> pd.DataFrame:
    """Per Venn region, the share of its steps that stay in it in at least ``stay`` of refits.

    Args:
        original: Each splitter's original ID flags ``(n,)``, in the Venn's order (2 or 3).
        refits: Each splitter's refitted ID flags ``(B, n)``, from the same resampled tasks.
        label: ``"ID"`` or ``"OOD"``: whose sets the regions are made of.
        stay: The share of refits a step must stay in its region for.

    Returns:
        Columns :data:`STABILITY_COLUMNS`, regions named and ordered as
        :func:`gemviz.analysis.overlap.venn_regions`; ``stable`` counts the steps that stay and
        ``stable_share`` is ``stable / count`` (NaN for an empty region).

    Raises:
        GemvizError: Not 2-3 splitters, or refits of different shapes.
    """
    names = list(original)
    if not 2 <= len(names) <= 3:
        raise GemvizError(f"region stability needs 2 or 3 splitters, got {names}")
    shapes = {np.asarray(refits[n]).shape for n in names}
    if len(shapes) != 1:
        raise GemvizError(f"the splitters' refits differ in shape: {sorted(shapes)}")
    want = str(label).upper() == "ID"
    code = np.zeros(len(original[names[0]]), dtype=np.int64)
    again = np.zeros(next(iter(shapes)), dtype=np.int64)
    for i, n in enumerate(names):
        code |= ((np.asarray(original[n], dtype=bool)) == want).astype(np.int64) << i
        again |= ((np.asarray(refits[n], dtype=bool)) == want).astype(np.int64) << i
    stays = (again == code).mean(axis=0) >= stay
    rows = []
    for m in sorted(range(1, 2 ** len(names)), key=lambda m: (bin(m).count("1"), m)):
        members = [n for i, n in enumerate(names) if m >> i & 1]
        inside = code == m
        count, stable = int(inside.sum()), int((stays & inside).sum())
        rows.append(
            {
                "region": f"{members[0]} only" if len(members) == 1 else " & ".join(members),
                "count": count,
                "stable": stable,
                "stable_share": stable / count if count else np.nan,
            }
        )
    return pd.DataFrame(rows, columns=STABILITY_COLUMNS)


def refittable(workspace) -> list[str]:
    """The workspace's splitters that can be refitted: a train score file and a score method."""
    names = []
    for s in workspace.splitters:
        cls = SPLITTERS.get(s.partition or "gem")
        if s.train_scores and cls is not None and cls.input == "scores":
            names.append(s.name)
    return names


def workspace_refits(
    workspace,
    study,
    names: Sequence[str],
    resamples: int = RESAMPLES,
    seed: int = SEED,
    progress: Callable[[str, int, int], None] | None = None,
    compute: bool = True,
) -> dict[str, np.ndarray] | None:
    """Refits of a workspace's splitters on the same resampled train tasks, cached on disk.

    Each splitter is refitted with its registered method and parameters on its train score
    file, clustered like the study (``workspace.cluster_by``), and labels the study's test
    scores. Results live under the cache folder (``stability/``), keyed by the files' sizes and
    times, the method, parameters, resamples, seed and cluster setting.

    Args:
        workspace: A :class:`gemviz.workspace.store.Workspace`.
        study: Its study (test scores in study order).
        names: The splitters to refit.
        resamples: Refits per splitter.
        seed: Seed of the resampling (the same draws for every splitter).
        progress: Called with ``(splitter, done, total)``.
        compute: False returns None instead of computing what is not cached yet.

    Returns:
        ``{name: (B, n) bool}``, or None (``compute=False`` and not all cached).

    Raises:
        GemvizError: A splitter without train scores or test scores, or an embedding method.
    """
    entries = {s.name: s for s in workspace.splitters}
    out = {}
    for name in names:
        entry = entries.get(name)
        if entry is None:
            raise GemvizError(f"unknown splitter '{name}'")
        method, params, splitter = _refittable_splitter(entry)
        if name not in study.scores:
            raise GemvizError(f"splitter '{name}' has no test input scores to relabel")
        x_test = study.scores[name].to_numpy(dtype=float)
        if not np.isfinite(x_test).all():
            raise GemvizError(f"splitter '{name}' has test steps without an input score")
        key = _key(entry.train_scores, entry.labeled, method, params, resamples, seed, workspace)
        path = cache_dir("stability") / f"{key}.npz"
        cached = read_cache_npz(path, ("bits", "n"))  # a damaged file is removed, then redone
        if cached is not None:
            out[name] = np.unpackbits(cached["bits"], axis=1, count=int(cached["n"])).astype(bool)
            continue
        if not compute:
            return None
        train = load_scores(entry.train_scores)
        _, codes = clusters_mod.resolve(train, workspace.cluster_by)
        labels = refit_labels(
            splitter,
            train[SCORE].to_numpy(dtype=float),
            codes,
            x_test,
            resamples,
            seed,
            (lambda d, t, n=name: progress(n, d, t)) if progress else None,
        )
        buffer = io.BytesIO()
        np.savez_compressed(buffer, bits=np.packbits(labels, axis=1), n=labels.shape[1])

        write_bytes_atomic(path, buffer.getvalue())
        out[name] = labels
    return out


def _refittable_splitter(entry) -> tuple[str, dict[str, Any], Splitter]:
    """A splitter entry's method, the parameters it takes, and an unfitted splitter.

    Raises:
        GemvizError: No train score file is registered, or the method works on embeddings.
    """
    method = entry.partition or "gem"
    if not entry.train_scores:
        raise GemvizError(
            f"splitter '{entry.name}' has no train score file registered, so it cannot be refitted"
        )
    known = splitter_params(method)
    params = {k: v for k, v in (entry.params or {}).items() if k in known}
    splitter = make_splitter(method, **params)
    if splitter.input != "scores":
        raise GemvizError(f"stability of the '{method}' method (embeddings) is not supported")
    return method, params, splitter


def _key(train: str, labeled: str, method, params, resamples, seed, workspace) -> str:
    parts = [method, json.dumps(params, sort_keys=True, default=str), resamples, seed]
    parts.append(workspace.cluster_by)
    for p in (train, labeled):
        try:
            st = os.stat(p)
            parts.append(f"{Path(p).resolve()}:{st.st_mtime_ns}:{st.st_size}")
        except OSError:
            parts.append(f"{p}:missing")
    return hashlib.sha1("\n".join(map(str, parts)).encode()).hexdigest()[:20]


def _registry_name(splitter: Splitter) -> str:
    for name, cls in SPLITTERS.items():
        if type(splitter) is cls:
            return name
    raise GemvizError(f"{type(splitter).__name__} is not a registered splitter")


def study_region_stability(
    study, names: Sequence[str], refits: Mapping[str, np.ndarray], label: str = "ID"
) -> pd.DataFrame | None:
    """:func:`region_stability` of a study's splitters ``names``, or None when any lacks refits."""
    if any(n not in refits for n in names):
        return None
    return region_stability(
        {n: study.is_id(n) for n in names}, {n: refits[n] for n in names}, label
    )
