"""Slides for studies of many configurations: the ranking, the baseline, and rows not bars.

* :func:`ranking_slides`: the runs board (configurations ranked, each run a point) titled
  with the ranking;
* :func:`baseline_slides`: every configuration against the baseline (one row each, not
  every pair), or, without a baseline, the pairs with the smallest adjusted p;
* :func:`coverage_slides`: the slot for the training-set coverage findings;
* :func:`splitter_forest` and :func:`interaction_pairs`: what the ID/OOD and interaction
  slides draw when a column chart would carry too many bars or labels.

Charts here are pictures of the static twins (:mod:`gemviz.figures.runs`,
:mod:`gemviz.figures.forest`) sized to the slide's body; a chart with more rows than the body
holds at the deck's chart font goes on consecutive slides
(:func:`gemviz.report.chart_parts.chart_slides`).
"""

from __future__ import annotations

import pandas as pd

from gemviz.analysis import findings, findings_runs
from gemviz.analysis.runs import run_pairs, run_points, run_summary, top_pairs
from gemviz.figures import theme
from gemviz.figures.forest import Forest, Series, forest_part, forest_static
from gemviz.figures.runs import board_rows, runs_board_static
from gemviz.report.chart_parts import chart_slides
from gemviz.report.coverage_sections import training_set_slides
from gemviz.report.deck import Deck
from gemviz.report.textfit import EMU_PER_INCH

#: Most categories a column chart on a slide carries before rows replace it (names of 18pt
#: stay legible under 8 columns of a 12 in wide chart).
MAX_COLUMNS = 8
#: Most bars any chart on a slide carries.
MAX_BARS = 40
#: Pairs on the pairs slide when no baseline is set.
TOP_PAIRS = 15


def _size(deck: Deck) -> tuple[float, float]:
    _, _, width, height = deck.body_box()
    return width / EMU_PER_INCH, height / EMU_PER_INCH


def _forest(deck: Deck, title: str, notes: str, spec: Forest, subtitle: str = "") -> None:
    """A forest chart on its slide(s), drawn at the body's size with the deck's chart font
    (split over slides when its rows need more room, :func:`chart_slides`)."""
    whole = len(spec.labels)

    def draw(start: int, stop: int):
        part = spec if (start, stop) == (0, whole) else forest_part(spec, start, stop)
        return forest_static(part, _size(deck), deck.chart_font())

    chart_slides(deck, title, notes, [""] * whole, draw, subtitle)


def _has_runs(deck: Deck) -> bool:
    study = deck.study
    return bool(study.models) and any(study.runs(m) > 1 for m in study.models)


def ranking_slides(deck: Deck) -> None:
    """Per metric: the configurations ranked by their mean over runs, every run a point."""
    if not _has_runs(deck):
        return
    study, configs = deck.study, deck.inputs.configs
    color_by, group_by = deck.inputs.grouping()
    for metric in study.metrics:
        points, summary = run_points(study, metric), run_summary(study, metric)
        title = findings_runs.ranking_finding(summary, metric)
        spread = "; ".join(
            f"{r.model}: {r.runs} runs, mean {r.run_mean:.3f}, sd {r.run_sd:.3f}, "
            f"min {r.run_min:.3f}, max {r.run_max:.3f}"
            for r in summary.itertuples()
        )
        notes = (
            f"Runs board, {findings.metric_words(metric)}: each configuration's per-step outcome "
            "averaged over its runs, with a clustered 95% interval (the dot), and every run's "
            f"own mean (small points). Ranked by the mean; no test behind the order. {spread}."
        )
        rows = board_rows(points, summary, configs=configs, color_by=color_by,
                          group_by=group_by).rows  # fmt: skip
        models = list(rows["model"])

        def draw(start: int, stop: int, points=points, summary=summary, models=models):
            part = None if (start, stop) == (0, len(models)) else models[start:stop]
            return runs_board_static(points, summary, configs=configs, color_by=color_by,
                                     group_by=group_by, size=_size(deck),
                                     font=deck.chart_font(), title=False, models=part)  # fmt: skip

        chart_slides(deck, title, notes, [str(g) for g in rows["group"]], draw)


def _pair_text(r) -> str:
    """A comparison's difference and interval in points, and its adjusted p rounded as the
    title rounds it."""
    p = findings.p_words(r.diff_p_adjusted).replace(" ", "")
    interval = f"[{100 * r.diff_lo:+.1f}, {100 * r.diff_hi:+.1f}]"
    return f"{100 * r.diff:+5.1f} {interval:<14} {p}"


def baseline_slides(deck: Deck) -> None:
    """Per metric: each configuration minus the baseline, one row each (with a baseline), or
    the :data:`TOP_PAIRS` pairs with the smallest adjusted p (without one); titled by
    :func:`gemviz.analysis.findings_runs.runs_headline`, whose rule the notes state."""
    study, baseline = deck.study, deck.inputs.baseline
    if len(study.models) < 2 or not _has_runs(deck):
        return
    for metric in study.metrics:
        pairs = run_pairs(study, metric, adjust=deck.adjust, baseline=baseline)
        title, footnote, rule = findings_runs.runs_slide_headline(
            pairs, run_summary(study, metric), metric, deck.adjust, baseline
        )
        long, _ = findings_runs.runs_headline(
            pairs, run_summary(study, metric), metric, deck.adjust, baseline
        )
        everything = pairs[pairs["subset"] == "all"]
        if baseline is not None:
            shown = everything.sort_values("diff", ascending=False, kind="stable")
            labels = list(shown["model_a"])
            what = f"each configuration minus {baseline}"
        else:
            shown = top_pairs(pairs, TOP_PAIRS)
            labels = [f"{a} − {b}" for a, b in zip(shown["model_a"], shown["model_b"], strict=True)]
            what = (
                f"the {len(shown)} of {len(everything)} pairs with the smallest adjusted p (A − B)"
            )
        _forest(deck, title, _pairs_notes(rule, long, shown),
                _pairs_forest(deck, shown, labels, metric, what), footnote)  # fmt: skip


def _pairs_forest(deck: Deck, shown: pd.DataFrame, labels, metric: str, what: str) -> Forest:
    """The comparisons as rows, in points (as the slide's title says them)."""
    n, k = int(shown["n"].iloc[0]), int(shown["n_clusters"].iloc[0])
    return Forest(
        labels=labels,
        series=[Series(f"difference ({findings.counts(n, k, deck.unit)} each)",
                       100 * shown["diff"], 100 * shown["diff_lo"], 100 * shown["diff_hi"],
                       theme.color(0))],
        title=f"{findings.metric_words(metric)}: {what}, in points, 95% interval",
        xlabel=f"difference in {findings.metric_words(metric)} (points)",
        reference=0.0, reference_label="no difference",
        table=[_pair_text(r) for r in shown.itertuples()],
        table_head=f"{'diff [95%]':<21}{findings.adjust_name(deck.adjust)} p",
    )  # fmt: skip


def _pairs_notes(rule: str, long: str, shown: pd.DataFrame) -> str:
    """The rule that chose the title and the finding in full, then every comparison shown on
    both questions."""
    return (
        f"{rule} {long}. Comparisons pair the run-averaged per-step outcomes by step (on entries like "
        "these) and compare the runs' accuracies (on this benchmark as it is). "
        + " ".join(
            f"{r.model_a} vs {r.model_b}: {r.verdict}; {r.verdict_fixed}."
            for r in shown.itertuples()
        )
    )


def coverage_slides(deck: Deck) -> None:
    """The training-set coverage findings, when the study has them
    (:func:`gemviz.report.coverage_sections.training_set_slides`: the decisive finding over
    its chart, then the sets side by side; a study without training sets gets no slide)."""
    training_set_slides(deck)


def splitter_forest(
    deck: Deck, title: str, notes: str, rows: pd.DataFrame, splitter: str, metric: str
) -> None:
    """One splitter's ID and OOD means as rows (one per configuration), for many of them, on
    a slide titled ``title`` (or several)."""
    first = rows.iloc[0]
    series = []
    for subset, hollow in (("id", False), ("ood", True)):
        n, k = int(first[f"{subset}_n"]), int(first[f"{subset}_clusters"])
        series.append(Series(
            f"{subset.upper()} ({findings.counts(n, k, deck.unit)})", rows[f"{subset}_mean"],
            rows[f"{subset}_lo"], rows[f"{subset}_hi"],
            theme.ID_COLOR if subset == "id" else theme.OOD_COLOR, hollow=hollow,
        ))  # fmt: skip
    table = [f"{r.id_mean:.2f} / {r.ood_mean:.2f}  gap {r.gap:+.2f}" for r in rows.itertuples()]
    spec = Forest(
        labels=list(rows["model"]), series=series, clip=(0.0, 1.0),
        title=f"{splitter}: {findings.metric_words(metric)} on ID and OOD, 95% intervals",
        xlabel=f"{findings.metric_words(metric)} (clipped to [0, 1])",
        table=table, table_head="ID / OOD  gap",
    )  # fmt: skip
    _forest(deck, title, notes, spec)


def interaction_pairs(deck: Deck, inter: pd.DataFrame) -> list[tuple[str, str]]:
    """The pairs an interaction slide shows: all of ``inter``'s when a baseline is set (it
    holds each configuration against the baseline) or when they fit :data:`MAX_BARS`, else
    those with the smallest adjusted p."""
    pairs = list(dict.fromkeys(zip(inter["model_a"], inter["model_b"], strict=True)))
    if deck.inputs.baseline is not None:
        return pairs
    per_pair = max(1, len(deck.study.splitters))
    if len(pairs) * per_pair <= MAX_BARS:
        return pairs
    best = inter.sort_values("did_p_adjusted", kind="stable")
    ranked = list(dict.fromkeys(zip(best["model_a"], best["model_b"], strict=True)))
    return ranked[: MAX_BARS // per_pair]


def interaction_forest(
    deck: Deck, title: str, notes: str, rows: pd.DataFrame, pairs, metric: str
) -> None:
    """The interaction of many pairs as rows: one per pair, a series per splitter, on a
    slide titled ``title`` (or several)."""
    colors = theme.color_map(deck.study.splitters)
    series = []
    for splitter in deck.study.splitters:
        part = rows[rows["splitter"] == splitter].set_index(["model_a", "model_b"]).reindex(pairs)
        series.append(Series(splitter, part["did"], part["did_lo"], part["did_hi"],
                             colors[splitter]))  # fmt: skip
    baseline = deck.inputs.baseline
    # Against a baseline every row's B is the baseline: the row names the configuration.
    labels = [a if baseline is not None else f"{a} − {b}" for a, b in pairs]
    what = (
        "(A − B on ID) − (A − B on OOD)" if baseline is None
        else f"each configuration's ID-OOD gap minus {baseline}'s"
    )  # fmt: skip
    spec = Forest(
        labels=labels, series=series,
        title=f"difference of ID-OOD gaps, {findings.metric_words(metric)}: {what}, 95% interval",
        xlabel="difference of gaps", reference=0.0, reference_label="no interaction",
    )  # fmt: skip
    _forest(deck, title, notes, spec)


def drill_leads(frame: pd.DataFrame) -> list:
    """Per region of a drill-down, its row with the smallest adjusted p (the slide's title)."""
    leads = frame.sort_values("p_adjusted", kind="stable").drop_duplicates("region")
    return list(leads.itertuples())


def drill_forest(
    deck: Deck, title: str, notes: str, region: pd.DataFrame, ref: pd.DataFrame, series
) -> None:
    """A drill-down region's means next to the reference ID set's, one row per configuration,
    on a slide titled ``title`` (or several)."""
    spec = Forest(
        labels=list(region["model"]),
        series=[Series(s.name, s.values, s.lo, s.hi, s.color, hollow=k == 1)
                for k, s in enumerate(series)],
        clip=(0.0, 1.0), xlabel="mean (95% interval, clipped to [0, 1])",
        table=[f"{a:.2f} vs {b:.2f}  {d:+.2f}" for a, b, d in
               zip(region["mean"], ref["id_mean"], region["diff"], strict=True)],
        table_head="region vs ID set  diff",
    )  # fmt: skip
    _forest(deck, title, notes, spec)
