"""Where splitters agree and disagree: Venn regions and the set-difference drill-down.

:func:`venn_regions` counts the samples in every region of 2 or 3 splitters' ID (or OOD)
sets. :func:`set_difference` looks at the steps two splitters disagree on (A says ID, B says
OOD, and the reverse) and asks, per model, whether its results there differ from its results
on A's whole ID set by more than chance would give, permuting whole tasks (clusters).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from gemviz.analysis.memo import id_mask, kept
from gemviz.analysis.methods import cluster_unit
from gemviz.data import clusters as clusters_mod
from gemviz.data.errors import GemvizError
from gemviz.data.fields import LABELS
from gemviz.data.study import Study
from gemviz.stats import (
    ADJUST_METHODS,
    MARGIN,
    N_PERM,
    adjust_pvalues,
    default_margin,
    is_small,
    mean_intervals,
    region_test,
    verdict,
)

VENN_COLUMNS = ["region", "members", "count", "clusters", "ids"]
DRILL_COLUMNS = [
    "region", "model", "metric", "n", "n_clusters", "mean", "lo", "hi",
    "ref_name", "ref_n", "ref_clusters", "ref_mean", "diff", "diff_lo", "diff_hi",
    "p_value", "p_adjusted", "test", "too_small", "verdict", "small",
]  # fmt: skip


def venn_regions(study: Study, splitters: Sequence[str], label: str = "ID") -> pd.DataFrame:
    """Count the samples in every region of 2 or 3 splitters' ``label`` sets.

    A region is the set of samples in exactly the named splitters' sets and in none of the
    others' (``"qwen only"``, ``"qwen & uitars"``, ...). Samples in no set belong to no
    region.

    Args:
        study: The aligned study.
        splitters: 2 or 3 distinct splitter names.
        label: ``"ID"`` or ``"OOD"``: whose sets to intersect.

    Returns:
        Columns :data:`VENN_COLUMNS`, one row for each of the ``2**k - 1`` regions (zero
        counts included), single splitters first, then pairs, then all three; ``clusters``
        counts the distinct clusters (tasks or episodes) the region's steps belong to;
        ``ids`` lists the sample ids in study order.

    Raises:
        GemvizError: Not 2 or 3 distinct known splitters, or a label other than ID/OOD.
    """
    names = list(splitters)
    if not 2 <= len(names) <= 3 or len(set(names)) != len(names):
        raise GemvizError(f"a Venn diagram needs 2 or 3 distinct splitters, got {names}")
    study.check_splitters(names)
    label = str(label).upper()
    if label not in LABELS:
        raise GemvizError(f"label must be 'ID' or 'OOD', got {label!r}")
    # Bit i of a sample's code says whether splitter i puts it in the set.
    code = np.zeros(len(study), dtype=np.int64)
    for i, name in enumerate(names):
        code |= (study.labels[name].to_numpy() == label).astype(np.int64) << i
    ids = study.samples["id"].to_numpy(dtype=object)
    order = np.argsort(code, kind="stable")
    bounds = np.searchsorted(code[order], np.arange(2 ** len(names) + 1))
    masks = sorted(range(1, 2 ** len(names)), key=lambda m: (bin(m).count("1"), m))
    rows = []
    for m in masks:
        members = tuple(n for i, n in enumerate(names) if m >> i & 1)
        region = f"{members[0]} only" if len(members) == 1 else " & ".join(members)
        chosen = order[bounds[m] : bounds[m + 1]]
        rows.append(
            {
                "region": region,
                "members": members,
                "count": int(chosen.size),
                "clusters": int(np.unique(study.clusters[chosen]).size),
                "ids": ids[chosen].tolist(),
            }
        )
    return pd.DataFrame(rows, columns=VENN_COLUMNS)


def set_difference(
    study: Study,
    a: str,
    b: str,
    metric: str | None = None,
    models: Sequence[str] | None = None,
    n_perm: int = N_PERM,
    adjust: str = "holm",
    margin: float | None = None,
) -> pd.DataFrame:
    """Drill into the steps two splitters disagree on, model by model.

    For the region "A ID, B OOD" each model's mean there is compared with its mean on A's
    whole ID set, and likewise "B ID, A OOD" against B's ID set. The region's mean has a
    cluster-aware 95% interval (:func:`gemviz.stats.mean_intervals`). The difference
    ``mean(region) - mean(A's ID set)`` is tested at task level
    (:func:`gemviz.stats.region_test`): whole clusters are permuted within A's ID set when
    every cluster lies wholly inside or outside the region, and the interval inverts that same
    test, so a row's verdict never contradicts its interval; when some cluster straddles the
    region's border (scores varying within a task), the cluster-robust score t compares the
    region with the rest. ``test`` names the test of each row. Monte Carlo draws are seeded
    from each row's own data, so a row never changes with the other models loaded.

    The rows of one call (both directions, every model of one metric) are one family:
    ``p_adjusted`` is Holm's (or BH's) adjustment of their ``p_value``. ``small`` is the one
    rule of :func:`gemviz.stats.is_small` (under 30 steps or 10 clusters in the region);
    ``too_small`` is True for an empty or ``small`` region or one that cannot be tested.

    Args:
        study: The aligned study (its clusters are the permutation unit).
        a, b: Two distinct splitters.
        metric: A metric of the study (default: ``study.default_metric``).
        models: Models to include (default: all).
        n_perm: Random relabellings when there are too many to enumerate.
        adjust: ``"holm"`` or ``"bh"``.
        margin: Differences within +/- margin count as "no detectable difference" (default:
            the metric's, :func:`gemviz.stats.default_margin`).

    Returns:
        Columns :data:`DRILL_COLUMNS`, one row per direction x model; ``region`` reads
        ``"<a> ID, <b> OOD"`` and ``ref_name`` ``"<a> ID"``.

    Raises:
        GemvizError: Unknown or equal splitters, an unknown model, metric or adjustment.
    """
    study.check_splitters([a, b])
    if a == b:
        raise GemvizError(f"compare two different splitters (got '{a}' twice)")
    adjust = str(adjust).lower()
    if adjust not in ADJUST_METHODS:
        raise GemvizError(f"unknown p-value adjustment '{adjust}'; use holm or bh")
    models = list(study.models if models is None else models)
    study.check_models(models)
    metric = study.default_metric if metric is None else metric
    margin = default_margin(metric) if margin is None else margin
    values = study.metric(metric)[models].to_numpy(float)
    # Rows before adjustment and verdicts: kept on the study, whatever the margin asked for.
    rows = [
        row
        for first, second in ((a, b), (b, a))
        for row in kept(
            study,
            ("region", first, second, metric, tuple(models), n_perm),
            lambda f=first, s=second: _region_rows(study, f, s, metric, models, values, n_perm),
        )
    ]
    out = pd.DataFrame(rows, columns=DRILL_COLUMNS)
    out["p_adjusted"] = adjust_pvalues(out["p_value"].to_numpy(float), adjust)
    judged = _judged(out, adjust, margin, cluster_unit(study.cluster_by))
    out["too_small"] = [j[0] for j in judged]
    out["verdict"] = [j[1] for j in judged]
    out["small"] = is_small(out["n"], out["n_clusters"])
    return out


def _region_rows(
    study: Study,
    first: str,
    second: str,
    metric: str,
    models: list[str],
    values: np.ndarray,
    n_perm: int,
) -> list[dict]:
    """The rows of the region "``first`` ID, ``second`` OOD", one per model, before adjustment."""
    single = study.cluster_by == clusters_mod.NONE
    ref = id_mask(study, first)
    region = ref & ~id_mask(study, second)
    counts = np.bincount(study.clusters, weights=region.astype(float))
    sums = np.column_stack(
        [np.bincount(study.clusters, weights=v * region, minlength=counts.size) for v in values.T]
    )
    inside = mean_intervals(sums, counts, singletons=single)
    test = region_test(values, ref, region, None if single else study.clusters, n_perm=n_perm)
    rows = []
    for j, model in enumerate(models):
        row = {"region": f"{first} ID, {second} OOD", "model": model, "metric": metric}
        row.update(n=int(test["n"][j]), n_clusters=int(test["k"][j]))
        row.update(mean=inside["mean"][j], lo=inside["lo"][j], hi=inside["hi"][j])
        row.update(ref_name=f"{first} ID", ref_n=int(test["ref_n"][j]))
        row.update(ref_clusters=int(test["ref_k"][j]), ref_mean=test["ref_mean"][j])
        row.update(diff=test["diff"][j], diff_lo=test["lo"][j], diff_hi=test["hi"][j])
        row.update(p_value=test["p"][j], test=test["method"][j])
        rows.append(row)
    return rows


def _judged(out: pd.DataFrame, adjust: str, margin: float, unit: str) -> list[tuple[bool, str]]:
    """:func:`judge` of every drill-down row."""
    return [
        judge(
            r.n,
            r.diff,
            r.diff_lo,
            r.diff_hi,
            r.p_adjusted,
            f"{r.ref_name} set",
            adjust,
            margin,
            clusters=r.n_clusters,
            unit=unit,
            ref_n=r.ref_n,
        )
        for r in out.itertuples()
    ]


def judge(
    n: int,
    diff: float,
    lo: float,
    hi: float,
    p_adjusted: float,
    ref: str,
    method: str = "holm",
    margin: float = MARGIN,
    clusters: int | None = None,
    unit: str = "clusters",
    ref_n: int | None = None,
) -> tuple[bool, str]:
    """Decide ``too_small`` and the plain-words verdict of one drill-down row.

    Args:
        n: Steps in the region.
        diff, lo, hi: The difference to the reference mean and its unadjusted 95% interval.
        p_adjusted: The adjusted p-value of the row.
        ref: How to name the reference set (e.g. ``"qwen ID set"``).
        method: The adjustment used (named in the verdict).
        margin: The "no detectable difference" margin.
        clusters: The region's clusters (None: as many as steps).
        unit: What a cluster is, for "cannot be tested (N tasks)".
        ref_n: Steps in the reference set (a region equal to it has nothing to test).

    Returns:
        ``(too_small, verdict)``: too small when the region is empty, ``small``
        (:func:`gemviz.stats.is_small`) or cannot be tested.
    """
    if n == 0:
        return True, "no steps in this region"
    if ref_n is not None and n == ref_n:
        return False, f"the region is all of {ref}"
    k = n if clusters is None else clusters
    text = verdict(
        diff,
        lo,
        hi,
        p_adjusted,
        higher=f"higher than on {ref}",
        lower=f"lower than on {ref}",
        margin=margin,
        method=method,
        clusters=k,
        unit=unit,
    )
    return bool(is_small(n, k)) or text.startswith("cannot be tested"), text
