"""Report sections of numbers: ID/OOD tables, interaction, paired comparison, drill-down."""

from __future__ import annotations

import functools
import html
import math
from itertools import combinations

import pandas as pd

from gemviz.analysis import findings
from gemviz.analysis.overlap import set_difference
from gemviz.analysis.slices import ACTION_TYPE, slices_table
from gemviz.analysis.stability import (
    id_probability,
    id_probability_se,
    mc_error,
    study_region_stability,
)
from gemviz.analysis.tables import id_ood_table, interaction_table, paired_comparison
from gemviz.data.errors import GemvizError
from gemviz.figures import static as static_figures
from gemviz.figures.charts import grouped_bars
from gemviz.report.base import (
    TABLE_ROWS,
    Section,
    _Context,
    _count,
    _difference,
    _fmt,
    _interval,
    _long_table,
    _note,
    _pval,
    _table,
    cluster_unit,
    shared,
    statistics_note,
)
from gemviz.stats import adjust_pvalues

# -- sections --------------------------------------------------------------------------------


def _findings(sentences: list[str]) -> str:
    """The section's findings in words, one line each (the slides' titles say the same)."""
    items = "".join(f"<li>{html.escape(s)}</li>" for s in sentences)
    return f'<ul class="findings">{items}</ul>' if items else ""


def _tables(ctx: _Context) -> Section:
    study = ctx.inputs.study
    if not study.models:
        return _note("The workspace has no evaluated models, so there is nothing to tabulate."), {}
    table = shared(study, id_ood_table)
    unit = cluster_unit(study.cluster_by)
    shown = pd.DataFrame(
        {
            "splitter": table["splitter"],
            "model": table["model"],
            "metric": table["metric"],
            "ID mean [95% CI]": [
                _interval(m, lo, hi, n, k, unit)
                for m, lo, hi, n, k in table[
                    ["id_mean", "id_lo", "id_hi", "id_n", "id_clusters"]
                ].itertuples(index=False)
            ],
            "OOD mean [95% CI]": [
                _interval(m, lo, hi, n, k, unit)
                for m, lo, hi, n, k in table[
                    ["ood_mean", "ood_lo", "ood_hi", "ood_n", "ood_clusters"]
                ].itertuples(index=False)
            ],
            "ID − OOD gap [unadjusted 95% CI]": [
                _difference(g, lo, hi)
                for g, lo, hi in table[["gap", "gap_lo", "gap_hi"]].itertuples(index=False)
            ],
            "gap p (Holm within splitter and metric)": [_pval(p) for p in table["gap_p_adjusted"]],
            "test": table["test"],
            "small": ["⚠ small" if v else "" for v in table["small"]],
        }
    )
    headlines = [
        findings.splitter_finding(table, splitter, metric, unit)
        for splitter in study.splitters
        for metric in study.metrics
    ]
    parts = [_findings(headlines), _note(statistics_note(study.cluster_by)), _table(shown)]
    figures = {}
    for metric in study.metrics:
        parts.append(ctx.plotly(grouped_bars(table, metric, unit=unit)))
        figures[f"bars_{metric}.png"] = functools.partial(_bars_png, table, metric, unit)
    return "\n".join(parts), figures


def _bars_png(table: pd.DataFrame, metric: str, unit: str) -> bytes:
    return static_figures.png_bytes(static_figures.bars(table, metric, unit=unit))


def _interaction(ctx: _Context) -> Section:
    study = ctx.inputs.study
    if len(study.models) < 2:
        return _note("The interaction needs at least two models."), {}
    full = shared(study, interaction_table)
    unit = cluster_unit(study.cluster_by)
    table, figures, scope = _interaction_rows(ctx, full)
    shown = pd.DataFrame(
        {
            "splitter": table["splitter"],
            "metric": table["metric"],
            "A": table["model_a"],
            "B": table["model_b"],
            "A − B on ID": [_difference(v, math.nan, math.nan) for v in table["diff_id"]],
            "A − B on OOD": [_difference(v, math.nan, math.nan) for v in table["diff_ood"]],
            "difference in differences [unadjusted 95% CI]": [
                _difference(d, lo, hi)
                for d, lo, hi in table[["did", "did_lo", "did_hi"]].itertuples(index=False)
            ],
            "p (Holm within splitter and metric)": [_pval(p) for p in table["did_p_adjusted"]],
            "on the log-odds scale [unadjusted 95% CI]": [
                _difference(d, lo, hi)
                for d, lo, hi in table[
                    ["did_logodds", "did_logodds_lo", "did_logodds_hi"]
                ].itertuples(index=False)
            ],
            "log-odds p (Holm)": [_pval(p) for p in table["did_logodds_p_adjusted"]],
            "n ID": [
                _count(n, k, unit)
                for n, k in table[["id_n", "id_clusters"]].itertuples(index=False)
            ],
            "n OOD": [
                _count(n, k, unit)
                for n, k in table[["ood_n", "ood_clusters"]].itertuples(index=False)
            ],
            "verdict": table["verdict"],
            "note": [
                ("⚠ small; " if small else "") + str(note or "")
                for small, note in table[["small", "scale_note"]].itertuples(index=False)
            ],
        }
    )
    intro = (
        "Is model A's advantage over model B larger in distribution than out of it? The "
        "difference in differences (A − B on ID) − (A − B on OOD), paired within steps; a "
        "positive value means A − B is larger on ID. The same on the log-odds scale does not "
        "take floor or ceiling effects for an interaction. " + statistics_note(study.cluster_by)
    )
    headlines = [
        findings.interaction_headline(table, metric, unit) for metric in dict.fromkeys(table.metric)
    ]
    rows = _long_table(shown, "interaction.csv", figures, "rows, smallest adjusted p first")
    return f"{_findings(headlines)}<p>{html.escape(intro)}</p>{scope}{rows}", figures


def _interaction_rows(ctx: _Context, full: pd.DataFrame) -> tuple[pd.DataFrame, dict, str]:
    """The rows shown: with a baseline, each configuration against it, adjusted as that family
    (every pair, a family of its own, goes into the ZIP); with many rows, smallest adjusted p
    first."""
    study, baseline, figures = ctx.inputs.study, ctx.inputs.baseline, {}
    if baseline is None:
        if len(full) <= TABLE_ROWS:
            return full, figures, ""
        return full.sort_values("did_p_adjusted", kind="stable"), figures, ""
    mine = shared(study, interaction_table, baseline=baseline)
    figures["interaction_all_pairs.csv"] = full.to_csv(index=False).encode("utf-8")
    scope = _note(
        f"Shown: each configuration against the baseline {baseline} ({len(mine):,} rows), "
        f"p-values adjusted over exactly those comparisons ({mine['family'].iloc[0]}, and "
        "likewise for every splitter and metric). Every pair, adjusted as its own family "
        "over all pairs, is in the ZIP as interaction_all_pairs.csv."
    )
    return mine, figures, scope


def _paired(ctx: _Context) -> Section:

    study = ctx.inputs.study
    if len(study.models) < 2:
        return _note("The paired comparison needs at least two models."), {}
    if len(study.models) > PAIRED_IN_FULL:
        return _paired_wide(ctx)
    unit = cluster_unit(study.cluster_by)
    parts = []
    # Every pair of models under every splitter, as the Metrics page can show each of them.
    for a, b in combinations(study.models, 2):
        for splitter in study.splitters:
            rows = []
            for metric in study.metrics:
                t = shared(study, paired_comparison, a, b, metric, splitter=splitter)
                for r in t.itertuples(index=False):
                    rows.append(
                        {
                            "metric": metric,
                            "subset": r.subset,
                            "n": _count(r.n, r.n_clusters, unit),
                            f"{a} mean": r.mean_a,
                            f"{b} mean": r.mean_b,
                            f"{a} − {b} [unadjusted 95% CI]": _difference(
                                r.diff, r.diff_lo, r.diff_hi
                            ),
                            "p (Holm within the metric's rows)": _pval(r.diff_p_adjusted),
                            "test": r.test,
                            "small": "⚠ small" if r.small else "",
                        }
                    )
            parts.append(
                f"<h3>{html.escape(a)} vs {html.escape(b)}, ID/OOD by {html.escape(splitter)}"
                f"</h3>{_table(pd.DataFrame(rows))}"
            )
    intro = (
        "Two models on the same steps: both means and their paired difference, on all steps "
        "and on each splitter's ID and OOD sets (a sign-flip test that swaps the two models "
        "within whole clusters, and the interval inverting it; p-values Holm-adjusted within "
        "each metric's three rows, the family the Metrics page and the CLI use too)."
    )
    return f"<p>{html.escape(intro)}</p>" + "\n".join(parts), {}


#: Most models whose every pair gets its own paired table; beyond, one row per pair.
PAIRED_IN_FULL = 6


def _paired_wide(ctx: _Context) -> Section:
    """Many models: one row per pair (each configuration against the baseline when one is
    set, else every pair, smallest p first), a column per subset: difference [CI] p."""
    study, baseline = ctx.inputs.study, ctx.inputs.baseline
    pairs = (
        [(m, baseline) for m in study.models if m != baseline]
        if baseline is not None
        else list(combinations(study.models, 2))
    )
    rows, figures = [], {}
    for metric in study.metrics:
        # Every test shown for the metric (each pair's all-steps row once, and its ID and OOD
        # rows under every splitter) is one family, adjusted together.
        cells = {}
        for a, b in pairs:
            for splitter in study.splitters:
                t = paired_comparison(study, a, b, metric, splitter=splitter)
                for r in t.itertuples(index=False):
                    key = "all steps" if r.subset == "all" else f"{splitter} {r.subset}"
                    cells[(a, b, key)] = r
        adjusted = dict(zip(cells, adjust_pvalues([r.diff_p for r in cells.values()]), strict=True))
        for a, b in pairs:
            row: dict = {"metric": metric, "A": a, "B": b}
            for (x, y, key), r in cells.items():
                if (x, y) == (a, b):
                    p = adjusted[(x, y, key)]
                    row[f"{key}: A − B [95% CI] p"] = (
                        f"{_difference(r.diff, r.diff_lo, r.diff_hi)} {_pval(p)}"
                    )
                    row.setdefault("_p", p)
            rows.append(row)
        family = len(cells)
    table = pd.DataFrame(rows).sort_values(["metric", "_p"], kind="stable").drop(columns="_p")
    which = (
        f"each configuration against the baseline {baseline}"
        if baseline is not None
        else f"every pair of the {len(study.models)} models, smallest p on all steps first"
    )
    intro = (
        f"Two models on the same steps, {which}: the paired difference A − B on all steps and "
        "on each splitter's ID and OOD sets, with its 95% interval and the p-value Holm-"
        f"adjusted over the {family} comparisons shown for each metric, one family (a "
        "sign-flip test that swaps the two models within whole clusters). The Metrics page "
        "shows one pair at a time and adjusts over that pair's rows."
    )
    body = _long_table(table, "paired.csv", figures, "pairs")
    return f"<p>{html.escape(intro)}</p>{body}", figures


def _set_difference(ctx: _Context) -> Section:

    study = ctx.inputs.study
    if len(study.splitters) < 2 or not study.models:
        return _note("The drill-down needs two splitters and at least one model."), {}
    wanted = (
        "region",
        "model",
        "n",
        "n_clusters",
        "mean",
        "ref_name",
        "ref_mean",
        "diff",
        "diff_lo",
        "diff_hi",
        "p_value",
        "p_adjusted",
        "test",
        "small",
        "verdict",
    )
    parts = [
        "<p>For every pair of splitters and both metrics: each model's mean on the steps only "
        "one of the two calls ID, next to its mean on that splitter's ID set. The test "
        f"relabels whole {html.escape(cluster_unit(study.cluster_by))} within that ID set (the "
        "cluster-robust score t when they straddle the region; see the test column); "
        "p_adjusted is Holm's over the rows of one table (one pair of splitters and one "
        "metric, as on the Metrics page and in the CLI), and the verdict uses it beside the "
        "unadjusted 95% interval.</p>"
    ]
    # Every pair and both metrics, as the Metrics page can show each of them.
    for a, b in combinations(study.splitters, 2):
        for metric in study.metrics:
            frame = shared(study, set_difference, a, b, metric=metric)
            cols = [c for c in wanted if c in frame.columns]
            significant = [
                findings.drill_finding(r, cluster_unit(study.cluster_by))
                for r in frame.to_dict("records")
                if findings.kind(r["verdict"]) == findings.SIGNIFICANT
            ]
            parts.append(
                f"<h3>{html.escape(a)} vs {html.escape(b)}: "
                f"{html.escape(metric.replace('_', ' '))}</h3>{_findings(significant)}"
                f"{_table(frame[cols])}"
            )
    return "\n".join(parts), {}


def _slices(ctx: _Context) -> Section | None:
    study = ctx.inputs.study
    if not study.models:
        return _note("Slices need at least one model."), {}
    try:
        table = shared(study, slices_table, ACTION_TYPE)
    except GemvizError:  # a test set without ground-truth actions: no section at all
        return None
    unit = cluster_unit(study.cluster_by)
    parts = []
    for splitter, rows in table.groupby("splitter", sort=False):
        cells = {}
        for r in rows.itertuples(index=False):
            key = (r.model, r.metric, r.slice)
            text = _interval(r.mean, r.lo, r.hi, r.n, r.n_clusters, unit)
            cells.setdefault(key, {})[r.label] = text + (" ⚠ small" if r.small else "")
        shown = pd.DataFrame(
            [
                {
                    "model": m,
                    "metric": k,
                    "action type": sl,
                    **{lab: v.get(lab, "–") for lab in ("ID", "OOD")},
                }
                for (m, k, sl), v in cells.items()
            ]
        )
        parts.append(f"<h3>ID/OOD by {html.escape(str(splitter))}</h3>{_table(shown)}")
    intro = (
        "Each model's ID and OOD means broken down by the ground-truth action's type, with "
        "cluster-aware 95% intervals; ⚠ small marks fewer than 30 steps or 10 clusters. The "
        "Metrics page breaks them down by any other field of the test records too."
    )
    return f"<p>{html.escape(intro)}</p>" + "\n".join(parts), {}


def _stability(ctx: _Context) -> Section:
    study, refits = ctx.inputs.study, ctx.inputs.refits
    names = [n for n in study.splitters if n in refits]
    if not names:
        return _note(
            "Not computed yet: press 'Compute ID probability' on the Overlap or Samples page, "
            "then build the report again (refits are kept on disk)."
        ), {}
    rows = []
    for name in names:
        prob = id_probability(refits[name])
        is_id = study.is_id(name)
        rows.append(
            {
                "splitter": name,
                "refits": refits[name].shape[0],
                "Monte Carlo error near 0.9": f"±{mc_error(refits[name].shape[0]):.3f}",
                "largest Monte Carlo error": f"±{float(id_probability_se(refits[name]).max()):.3f}",
                "steps labelled ID": f"{int(is_id.sum()):,}",
                "ID in ≥ 90% of refits": f"{int((prob >= 0.9).sum()):,}",
                "OOD in ≥ 90% of refits": f"{int((prob <= 0.1).sum()):,}",
                "unsettled (10–90%)": f"{int(((prob > 0.1) & (prob < 0.9)).sum()):,}",
            }
        )
    parts = [_table(pd.DataFrame(rows))]
    if len(names) >= 2:
        chosen = names[:3]
        for label in ("ID", "OOD"):
            table = study_region_stability(study, chosen, refits, label)
            if table is not None:
                table = table.assign(stable_share=[_fmt(v) for v in table["stable_share"]])
                parts.append(f"<h3>{label} regions</h3>{_table(table)}")
    intro = (
        "Each splitter refitted on bootstrap resamples of its train tasks (whole clusters): "
        "how many test steps keep their label, and per Venn region the share of its steps "
        "that stay in that region in at least 90% of the refits (are the disputed steps real "
        "or noise?). An ID probability is a share of refits: its Monte Carlo error is shown "
        "beside the refit count."
    )
    return f"<p>{html.escape(intro)}</p>" + "".join(parts), {}
