"""The study's tables: ID vs OOD means and gaps, paired model comparisons, interactions.

Every interval and test works on clusters (:mod:`gemviz.stats`): steps of one task or
episode (``study.clusters``) move together. Differences are tested at task level (a
permutation of whole clusters, a sign flip for paired differences, a cluster-robust score t
when clusters straddle ID and OOD); ``test`` names the test of each row. P-values are adjusted
within the families of :data:`gemviz.stats.FAMILIES` (Holm by default, Benjamini-Hochberg
with ``adjust="bh"``) into ``*_p_adjusted``; a family never depends on which rows are shown.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from functools import partial

import numpy as np
import pandas as pd

from gemviz.analysis.benchmark import fixed_columns, fixed_gaps
from gemviz.analysis.means import masked_means
from gemviz.analysis.memo import id_mask, kept
from gemviz.analysis.methods import cluster_unit
from gemviz.analysis.runs import QUESTION_ENTRIES, comparisons, run_spread
from gemviz.data import clusters as clusters_mod
from gemviz.data.errors import GemvizError
from gemviz.data.study import Study
from gemviz.stats import (
    ADJUST_METHODS,
    adjust_by_family,
    adjust_pvalues,
    compare_sets,
    default_margin,
    is_small,
    logodds_did,
    mcnemar_exact,
    paired_test,
    verdict,
)

TABLE_COLUMNS = [
    "splitter", "model", "metric",
    "id_mean", "id_lo", "id_hi", "id_n", "id_clusters",
    "ood_mean", "ood_lo", "ood_hi", "ood_n", "ood_clusters",
    "gap", "gap_lo", "gap_hi", "gap_p", "gap_p_adjusted",
    "small", "runs", "run_sd", "run_min", "run_max", "test", "gap_verdict",
]  # fmt: skip
PAIRED_COLUMNS = [
    "subset", "n", "n_clusters", "mean_a", "mean_b", "diff", "diff_lo", "diff_hi",
    "diff_p", "diff_p_adjusted", "a_only", "b_only", "mcnemar_p", "small", "test",
]  # fmt: skip
INTERACTION_COLUMNS = [
    "splitter", "metric", "model_a", "model_b",
    "diff_id", "diff_ood", "did", "did_lo", "did_hi", "did_p", "did_p_adjusted",
    "id_n", "id_clusters", "ood_n", "ood_clusters", "verdict", "small", "test",
    "did_logodds", "did_logodds_lo", "did_logodds_hi", "did_logodds_p",
    "did_logodds_p_adjusted", "scale_note", "family", "did_lo_fixed", "did_hi_fixed",
    "did_p_fixed", "did_p_fixed_adjusted", "verdict_fixed",
]  # fmt: skip
# A cell mean outside this range sits near the floor or ceiling, where equal log-odds
# advantages make unequal probability differences.
_FLOOR, _CEILING = 0.15, 0.85


def _singletons(study: Study) -> bool:
    return study.cluster_by == clusters_mod.NONE


def _check_adjust(adjust: str) -> str:
    adjust = str(adjust).lower()
    if adjust not in ADJUST_METHODS:
        raise GemvizError(f"unknown p-value adjustment '{adjust}'; use holm or bh")
    return adjust


def id_ood_table(
    study: Study,
    splitters: Sequence[str] | None = None,
    models: Sequence[str] | None = None,
    metrics: Sequence[str] | None = None,
    adjust: str = "holm",
    margin: float | None = None,
) -> pd.DataFrame:
    """Each model's mean on every splitter's ID and OOD sets, and the ID-OOD gap.

    Means carry n, the number of clusters and a 95% interval (Korn-Graubard on clusters; plain
    Wilson with ``cluster_by="none"``). The gap ``id_mean - ood_mean`` is tested at task level
    (:func:`gemviz.stats.compare_sets`: whole clusters permuted between ID and OOD, or the
    cluster-robust score t when clusters straddle them), with the interval that inverts the
    test; ``test`` names it. ``gap_p_adjusted`` adjusts within each splitter and metric over
    every model of the study (so choosing fewer models changes no adjusted p-value).

    Args:
        study: The aligned study (its clusters decide the unit of the tests).
        splitters: Splitters to include (default: all, in study order).
        models: Models to include (default: all).
        metrics: Metrics of the study (default: all of them).
        adjust: ``"holm"`` or ``"bh"``.
        margin: The "no detectable difference" margin of ``gap_verdict`` (default: the
            metric's, :func:`gemviz.stats.default_margin`).

    Returns:
        One row per splitter x model x metric with columns :data:`TABLE_COLUMNS`;
        ``gap_verdict`` reads the gap in words (:func:`gemviz.stats.verdict`). ``small``
        (:func:`gemviz.stats.is_small`) is True when the ID or the OOD set has fewer than 30
        steps or 10 clusters. Means and bounds are NaN for an empty set. A model with repeated
        runs is measured on its per-step outcome averaged over the runs; ``runs``, ``run_sd``,
        ``run_min`` and ``run_max`` give the spread of its per-run means over all steps
        (:func:`gemviz.analysis.runs.run_spread`; ``run_sd`` NaN for one run).

    Raises:
        GemvizError: An unknown splitter, model, metric or adjustment.
    """
    adjust = _check_adjust(adjust)
    splitters = list(study.splitters if splitters is None else splitters)
    models = list(study.models if models is None else models)
    study.check_splitters(splitters)
    study.check_models(models)
    metrics = list(study.metrics if metrics is None else metrics)
    family_models = list(study.models)
    frames = {m: study.metric(m)[family_models].to_numpy(float) for m in metrics}
    rows = [
        row
        for splitter in splitters
        for metric, values in frames.items()
        for row in _gap_rows(study, splitter, metric, values, family_models)
    ]
    spread = {(m, k): run_spread(study, m, k) for m in family_models for k in frames}
    for row in rows:
        row.update(spread[(row["model"], row["metric"])])
    table = pd.DataFrame(rows, columns=TABLE_COLUMNS)
    family = table["splitter"].astype(str) + "|" + table["metric"].astype(str)
    table["gap_p_adjusted"] = adjust_by_family(table["gap_p"].to_numpy(float), family, adjust)
    table["small"] = is_small(table["id_n"], table["id_clusters"]) | is_small(
        table["ood_n"], table["ood_clusters"]
    )
    table["gap_verdict"] = [_gap_verdict(r, adjust, margin) for r in table.itertuples()]
    # Rows in the order asked for, of the models asked for (the family keeps them all).
    wanted = [
        (sp, me, mo)
        for sp in dict.fromkeys(splitters)
        for me in frames
        for mo in dict.fromkeys(models)
    ]
    table = table.set_index(["splitter", "metric", "model"], drop=False).loc[wanted]
    return table.reset_index(drop=True)


def _gap_verdict(row: tuple, adjust: str, margin: float | None) -> str:
    """One gap's verdict: "higher on ID", "higher on OOD", within the margin, or neither."""
    if row.id_n == 0 or row.ood_n == 0:
        return "no data"
    return verdict(
        row.gap,
        row.gap_lo,
        row.gap_hi,
        row.gap_p_adjusted,
        higher="higher on ID",
        lower="higher on OOD",
        margin=default_margin(row.metric) if margin is None else margin,
        method=adjust,
        clusters=min(row.id_clusters, row.ood_clusters),
    )


def _gap_rows(
    study: Study, splitter: str, metric: str, values: np.ndarray, models: list[str]
) -> list[dict]:
    """One splitter and metric's rows of :func:`id_ood_table` (``values``: one column per
    model), before the run spread and adjustment."""
    codes = study.clusters
    single = _singletons(study)
    is_id = id_mask(study, splitter)
    ide = masked_means(values, is_id, codes, single)
    ood = masked_means(values, ~is_id, codes, single)
    gap = compare_sets(values, is_id, ~is_id, None if single else codes, kind="gap")
    rows = []
    for j, model in enumerate(models):
        row = {"splitter": splitter, "model": model, "metric": metric}
        for prefix, means in (("id", ide), ("ood", ood)):
            row.update(
                {
                    f"{prefix}_mean": means["mean"][j],
                    f"{prefix}_lo": means["lo"][j],
                    f"{prefix}_hi": means["hi"][j],
                    f"{prefix}_n": int(means["n"][j]),
                    f"{prefix}_clusters": int(means["k"][j]),
                }
            )
        row.update({f"gap{k}": gap[key][j] for k, key in _GAP_FIELDS})
        row["test"] = gap["test"][j]
        rows.append(row)
    return rows


# Row field suffix -> key of :func:`gemviz.stats.compare_sets`'s result.
_GAP_FIELDS = (("", "diff"), ("_lo", "lo"), ("_hi", "hi"), ("_p", "p"))


def select_models(
    parts: Sequence[pd.DataFrame], models: Sequence[str], study: Study | None = None
) -> pd.DataFrame:
    """Rows of some models from tables computed for all of them, in the order asked for.

    ``parts`` are :func:`id_ood_table`, :func:`interaction_table` or
    :func:`gemviz.analysis.slices.slices_table` answers of one splitter each, for every model
    of the study. Their adjusted p-values were taken over every model already, so picking rows
    gives the table a call with ``models`` gives, without computing it again.

    Args:
        parts: One table per splitter, in the splitters' order.
        models: The models to keep (rows follow this order within a splitter; for pairs, both
            models of a row must be chosen).
        study: When given, ``models`` are checked against it.

    Raises:
        GemvizError: An unknown model.
    """
    if study is not None:
        study.check_models(list(models))
    if not parts:
        return pd.DataFrame()
    table = pd.concat(parts, ignore_index=True)
    if "model_a" in table.columns:
        keep = table["model_a"].isin(models) & table["model_b"].isin(models)
        return table[keep].reset_index(drop=True)
    table = table[table["model"].isin(models)]
    rank = {m: i for i, m in enumerate(dict.fromkeys(models))}
    keys = pd.DataFrame(
        {
            "part": np.repeat(np.arange(len(parts)), [len(p) for p in parts])[table.index],
            "metric": pd.factorize(table["metric"])[0],
            "model": table["model"].map(rank).to_numpy(),
        },
        index=table.index,
    )
    # Within a splitter: metric by metric, models in the order asked for (the id/ood table);
    # the slices table lists a model's metrics and slices together, so it keeps model first.
    by = ["part", "model", "metric"] if "slice" in table.columns else ["part", "metric", "model"]
    order = keys.sort_values(by, kind="stable").index
    return table.loc[order].reset_index(drop=True)


def paired_comparison(
    study: Study,
    model_a: str,
    model_b: str,
    metric: str,
    splitter: str | None = None,
    adjust: str = "holm",
) -> pd.DataFrame:
    """Compare two models on the same samples (e.g. SFT vs RL on the OOD steps).

    For each subset: both means and their difference ``mean_a - mean_b``, with a task-level
    paired test: the two models are swapped within whole clusters (a sign flip of each
    cluster's differences ``a - b``; single steps with ``cluster_by="none"``), and the
    interval inverts it (:func:`gemviz.stats.paired_test`). The rows (all, ID, OOD) are one
    family: ``diff_p_adjusted`` adjusts over them. The discordant counts (``a_only``: a right
    and b wrong, or with repeated runs a right in more runs than b; ``b_only``: the reverse)
    and McNemar's exact p-value on them stay as the step-level reference (valid only when
    steps are independent, i.e. ``cluster_by="none"``).

    Args:
        study: The aligned study.
        model_a, model_b: Two models of the study.
        metric: A metric of the study (e.g. ``"exact_match"``).
        splitter: When given, rows for ``"ID"`` and ``"OOD"`` of that splitter follow the row
            for ``"all"``.
        adjust: ``"holm"`` or ``"bh"``.

    Returns:
        Columns :data:`PAIRED_COLUMNS`, one row per subset; ``small`` by
        :func:`gemviz.stats.is_small`, ``test`` the test of the row.

    Raises:
        GemvizError: An unknown model, splitter, metric or adjustment, or the same model twice.
    """
    adjust = _check_adjust(adjust)
    study.check_models([model_a, model_b])
    if model_a == model_b:
        raise GemvizError(f"compare two different models (got '{model_a}' twice)")
    values = study.metric(metric)
    # Per-step outcomes: 0/1, or the mean over runs when a model was run several times.
    a, b = values[model_a].to_numpy(float), values[model_b].to_numpy(float)
    codes = None if _singletons(study) else study.clusters
    subsets = {"all": np.ones(len(study), dtype=bool)}
    if splitter is not None:
        is_id = id_mask(study, splitter)
        subsets.update({"ID": is_id, "OOD": ~is_id})
    rows = []
    for name, mask in subsets.items():
        xa, xb = a[mask], b[mask]
        n = int(mask.sum())
        key = ("paired", model_a, model_b, metric, name, None if name == "all" else splitter)
        kind = f"paired:{name}"
        test = kept(study, key, lambda m=mask, k=kind: paired_test(a - b, m, codes, kind=k))
        a_only, b_only = int((xa > xb).sum()), int((xa < xb).sum())
        k = int(test["k"][0])  # the clusters the subset touches
        rows.append(
            {
                "subset": name,
                "n": n,
                "n_clusters": k,
                "mean_a": xa.mean() if n else np.nan,
                "mean_b": xb.mean() if n else np.nan,
                "diff": test["diff"][0],
                "diff_lo": test["lo"][0],
                "diff_hi": test["hi"][0],
                "diff_p": test["p"][0],
                "a_only": a_only,
                "b_only": b_only,
                "mcnemar_p": mcnemar_exact(a_only, b_only),
                "small": bool(is_small(n, k)),
                "test": test["test"][0],
            }
        )
    out = pd.DataFrame(rows, columns=PAIRED_COLUMNS)
    out["diff_p_adjusted"] = adjust_pvalues(out["diff_p"].to_numpy(float), adjust)
    return out


def interaction_table(
    study: Study,
    splitters: Sequence[str] | None = None,
    models: Sequence[str] | None = None,
    metrics: Sequence[str] | None = None,
    adjust: str = "holm",
    margin: float | None = None,
    baseline: str | None = None,
) -> pd.DataFrame:
    """Is model A's advantage over model B larger on ID than on OOD? The model x split interaction.

    For every splitter, metric and pair of models: ``diff_id = mean_a - mean_b`` on the ID
    set, ``diff_ood`` likewise on OOD, and the difference in differences
    ``did = diff_id - diff_ood`` of the per-step ``a - b``, tested at task level between ID
    and OOD (:func:`gemviz.stats.compare_sets`; ``test`` names the test). A positive ``did``
    says ``A - B`` is larger on ID than on OOD, whatever the signs of ``diff_id`` and
    ``diff_ood``. The same interaction on the log-odds scale (``did_logodds``, a
    cluster-robust delta-method t) does not mistake floor or ceiling effects for an
    interaction; ``scale_note`` says when the two scales disagree near 0 or 1.

    P-values are adjusted within each splitter and metric over every pair of the study's
    models (``did_p_adjusted``; the log-odds tests as a family of their own); with a
    ``baseline``, over each of ``models`` against it (``model_a`` the configuration, ``model_b``
    the baseline, as :func:`gemviz.analysis.runs.run_pairs` pairs them): the rows returned.
    ``verdict`` reads ``did`` in words (:func:`gemviz.stats.verdict`, margin and significance
    together); ``family`` names the family in words.

    With repeated runs the fixed-benchmark question is asked too (``*_fixed``): on this entry
    set as it is, is A's per-run ID-OOD gap larger than B's? Welch's t on the two models'
    per-run gaps (:func:`gemviz.stats.run_difference`), adjusted over the same family;
    ``verdict_fixed`` says when a single run leaves it unasked.

    Args:
        study: The aligned study.
        splitters: Splitters to include (default: all).
        models: Models to pair (default: all; every pair in study order).
        metrics: Metrics to include (default: all of the study's).
        adjust: ``"holm"`` or ``"bh"``.
        margin: The "no detectable difference" margin (default: the metric's,
            :func:`gemviz.stats.default_margin`).
        baseline: A model to compare each of ``models`` with (one family of those pairs).

    Returns:
        Columns :data:`INTERACTION_COLUMNS`, one row per splitter x metric x pair.

    Raises:
        GemvizError: Fewer than two models, or an unknown splitter, model, metric or adjustment.
    """
    adjust = _check_adjust(adjust)
    splitters = list(study.splitters if splitters is None else splitters)
    models = list(study.models if models is None else models)
    study.check_splitters(splitters)
    study.check_models(models + ([] if baseline is None else [baseline]))
    everyone = list(itertools.combinations(dict.fromkeys(study.models), 2))
    pairs = everyone if baseline is None else comparisons(models, baseline)
    if len(set(models) | {baseline} - {None}) < 2 or not pairs:
        raise GemvizError("the interaction needs at least two different models")
    metrics = list(study.metrics if metrics is None else metrics)
    rows = [
        row
        for s, m in itertools.product(splitters, metrics)
        for row in kept(
            study, ("interaction", s, m, *pairs), partial(_interaction_rows, study, s, m, pairs)
        )
    ]
    out = pd.DataFrame(rows, columns=[*INTERACTION_COLUMNS, "near_edge", "runs_a", "runs_b"])
    family = out["splitter"].astype(str) + "|" + out["metric"].astype(str)
    out["did_p_adjusted"] = adjust_by_family(out["did_p"].to_numpy(float), family, adjust)
    out["did_logodds_p_adjusted"] = adjust_by_family(
        out["did_logodds_p"].to_numpy(float), family, adjust
    )
    out["small"] = is_small(out["id_n"], out["id_clusters"]) | is_small(
        out["ood_n"], out["ood_clusters"]
    )
    out["verdict"] = _interaction_verdicts(out, adjust, margin, cluster_unit(study.cluster_by))
    fixed_columns(out, family, adjust, margin, baseline)
    out["scale_note"] = [_scale_note(r) for r in out.itertuples()]
    keep = out["model_a"].isin([*models, baseline]) & out["model_b"].isin([*models, baseline])
    return out[keep][INTERACTION_COLUMNS].reset_index(drop=True)


def _interaction_rows(
    study: Study,
    splitter: str,
    metric: str,
    pairs: list[tuple[str, str]],
) -> list[dict]:
    """One splitter and metric's rows of :func:`interaction_table`, before adjustment."""
    codes = None if _singletons(study) else study.clusters
    is_id = id_mask(study, splitter)
    n_id, n_ood = int(is_id.sum()), int((~is_id).sum())
    values = study.metric(metric)
    first = np.column_stack([values[a].to_numpy(float) for a, _ in pairs])
    second = np.column_stack([values[b].to_numpy(float) for _, b in pairs])
    test = compare_sets(first - second, is_id, ~is_id, codes, kind="interaction")
    k_id, k_ood = int(test["k_a"][0]), int(test["k_b"][0])  # the clusters each set touches
    logit = logodds_did(first, second, is_id, ~is_id, codes)
    cells = [
        np.compress(is_id, first, axis=0).mean(axis=0) if n_id else np.full(len(pairs), np.nan),
        np.compress(is_id, second, axis=0).mean(axis=0) if n_id else np.full(len(pairs), np.nan),
        np.compress(~is_id, first, axis=0).mean(axis=0) if n_ood else np.full(len(pairs), np.nan),
        np.compress(~is_id, second, axis=0).mean(axis=0) if n_ood else np.full(len(pairs), np.nan),
    ]
    fixed = fixed_gaps(study, metric, pairs, is_id)
    rows = []
    for j, (a, b) in enumerate(pairs):
        row = {"splitter": splitter, "metric": metric, "model_a": a, "model_b": b, **fixed[j]}
        row.update(diff_id=cells[0][j] - cells[1][j], diff_ood=cells[2][j] - cells[3][j])
        row.update({f"did{k}": test[key][j] for k, key in _GAP_FIELDS})
        row.update(id_n=n_id, id_clusters=k_id, ood_n=n_ood, ood_clusters=k_ood)
        row["test"] = test["test"][j]
        row.update({f"did_logodds{k}": logit[key][j] for k, key in _LOGODDS_FIELDS})
        row["near_edge"] = any(not _FLOOR <= c[j] <= _CEILING for c in cells if not np.isnan(c[j]))
        rows.append(row)
    return rows


# Row field suffix -> key of :func:`gemviz.stats.logodds_did`'s result.
_LOGODDS_FIELDS = (("", "est"), ("_lo", "lo"), ("_hi", "hi"), ("_p", "p"))


def _interaction_verdicts(
    out: pd.DataFrame, adjust: str, margin: float | None, unit: str
) -> list[str]:
    """Each interaction row's ``did`` in words (:func:`gemviz.stats.verdict`)."""
    return [
        verdict(
            r.did,
            r.did_lo,
            r.did_hi,
            r.did_p_adjusted,
            higher=f"{r.model_a} − {r.model_b} is larger on ID than on OOD",
            lower=f"{r.model_a} − {r.model_b} is larger on OOD than on ID",
            margin=default_margin(r.metric) if margin is None else margin,
            method=adjust,
            clusters=min(r.id_clusters, r.ood_clusters),
            unit=unit,
            # Named where the runs let the other question be asked too.
            question=QUESTION_ENTRIES if min(r.runs_a, r.runs_b) > 1 else "",
        )
        for r in out.itertuples()
    ]


def _scale_note(row: tuple) -> str:
    """Say when floor or ceiling effects make the probability-scale interaction misleading."""
    if not row.near_edge or np.isnan(row.did_p_adjusted) or np.isnan(row.did_logodds_p_adjusted):
        return ""
    prob = row.did_p_adjusted < 0.05
    logit = row.did_logodds_p_adjusted < 0.05
    opposite = np.sign(row.did) * np.sign(row.did_logodds) < 0
    if prob == logit and not (opposite and (prob or logit)):
        return ""
    return (
        "a mean near 0 or 1: the probability and log-odds scales disagree, so part of the "
        "difference in differences may be a floor or ceiling effect; read did_logodds too"
    )
