"""The meeting deck: a PowerPoint file with one finding per slide.

Each slide's title is the finding in words (:mod:`gemviz.analysis.findings`, the same
sentences the dashboard and the HTML report use); the evidence sits below it as a native,
editable bar chart with 95% interval error bars (:mod:`gemviz.figures.slide_charts`) or,
for Venn diagrams and screenshots, as a 16:9 picture at 150 dpi or more; the speaker notes
say the method, n, clusters and adjustment. Slides are built by sections
(:data:`SLIDE_SECTIONS`, name -> builder taking the :class:`~gemviz.report.deck.Deck`); a
new section is one more entry there, or passed to :func:`build_deck`.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Callable, Mapping, Sequence
from itertools import combinations

from pptx.util import Inches

from gemviz.analysis import findings
from gemviz.analysis.conversation import is_text_only, turns
from gemviz.analysis.findings_coverage import agreement_finding
from gemviz.analysis.outcomes import outcome_text
from gemviz.analysis.overlap import set_difference, venn_regions
from gemviz.analysis.tables import interaction_table
from gemviz.data.errors import GemvizError
from gemviz.data.fields import TASK
from gemviz.data.write import atomic_path
from gemviz.figures import theme
from gemviz.figures.slide_charts import BarSeries, bar_chart
from gemviz.figures.step import annotate_step, step_legend
from gemviz.figures.venn import venn_pair_png
from gemviz.report.base import Progress, ReportInputs, cluster_count, shared, step_positions
from gemviz.report.deck import MUTED_TEXT, Deck
from gemviz.report.slides_runs import (
    MAX_COLUMNS,
    baseline_slides,
    coverage_slides,
    drill_forest,
    drill_leads,
    interaction_forest,
    interaction_pairs,
    ranking_slides,
    splitter_forest,
)
from gemviz.stats import MARGIN

SlideSection = Callable[[Deck], None]


# -- sections ------------------------------------------------------------------------------------


def _study_slide(deck: Deck) -> None:
    study, inputs = deck.study, deck.inputs
    title = (
        f"{inputs.name}: {len(study):,} test steps"
        + ("" if deck.unit == "steps" else f" in {shared(study, cluster_count):,} {deck.unit}")
        + f", {len(study.splitters)} splitter{'s' if len(study.splitters) != 1 else ''}, "
        f"{len(study.models)} model{'s' if len(study.models) != 1 else ''}"
    )
    lines: list = []
    if inputs.test_name:
        lines.append(f"Test set: {inputs.test_name}")
    for name in study.splitters:
        is_id = study.is_id(name)
        how = inputs.descriptions.get(name, "")
        lines.append(
            f"Splitter {name}{f' ({how})' if how else ''}: {int(is_id.sum()):,} ID, "
            f"{int((~is_id).sum()):,} OOD"
        )
    lines.append("Models: " + (", ".join(study.models) or "none"))
    if study.cluster_by == "none":
        lines.append("Clustering: none (every step independent)")
    else:
        lines.append(
            f"Clustering: by '{study.cluster_by}' ({shared(study, cluster_count):,} {deck.unit}); "
            "intervals and tests resample whole clusters"
        )
    adjust = {"holm": "Holm (family-wise)", "bh": "Benjamini-Hochberg (FDR)"}.get(deck.adjust)
    lines.append(f"P-values adjusted per table: {adjust or deck.adjust}")
    if inputs.demo:
        lines.append("Built-in demo workspace: generated screenshots, tasks and agents.")
    notes = (
        "The study: which test set, how each splitter labels its steps ID or OOD, which models "
        "were evaluated, and how the statistics treat steps. " + deck.stats_note(1, "table")
    )
    slide = deck.slide(title, notes)
    deck.text(slide, lines, deck.body_box(), size=24)


def _splitter_slides(deck: Deck) -> None:
    study = deck.study
    if not study.models:
        return
    table = deck.table()
    colors = theme.color_map(study.splitters)
    for splitter in study.splitters:
        for metric in study.metrics:
            rows = table[(table["splitter"] == splitter) & (table["metric"] == metric)]
            title = findings.splitter_finding(
                table, splitter, metric, deck.unit, deck.adjust, deck.margin
            )
            others = [
                f"{r['model']}: {findings.gap_verdict(r, deck.adjust, deck.margin)}"
                for r in rows.to_dict("records")
            ]
            first = rows.iloc[0]
            series = []
            for subset, hatched in (("id", False), ("ood", True)):
                n, k = int(first[f"{subset}_n"]), int(first[f"{subset}_clusters"])
                series.append(
                    BarSeries(
                        name=f"{subset.upper()} ({findings.counts(n, k, deck.unit)})",
                        values=rows[f"{subset}_mean"].tolist(),
                        lo=rows[f"{subset}_lo"].tolist(),
                        hi=rows[f"{subset}_hi"].tolist(),
                        color=colors[splitter],
                        hatched=hatched,
                    )
                )
            notes = (
                f"{findings.metric_words(metric).capitalize()} of each model on the steps "
                f"{splitter} calls ID and OOD: means with 95% Wilson intervals on the "
                "cluster-adjusted effective n; the ID-OOD gap has a cluster-robust t interval "
                "and test. "
                + " ".join(f"{line}." for line in others)
                + " "
                + deck.stats_note(
                    len(table), "gaps of the ID/OOD table (every splitter, model and metric)"
                )
            )
            if len(rows) > MAX_COLUMNS:
                splitter_forest(deck, title, notes, rows, splitter, metric)
                continue
            slide = deck.slide(title, notes)
            left, top, width, height = deck.body_box()
            empty = [s for s in series if all(_nan(v) for v in s.values)]
            if empty:
                note_h = Inches(0.6)
                deck.text(
                    slide,
                    [
                        f"n=0: {splitter} puts no step in its "
                        + " or ".join(s.name.split(" ")[0] for s in empty)
                        + " set, so those bars are absent."
                    ],
                    (left, top + height - note_h, width, note_h),
                    color=theme.HIGHLIGHT_COLOR,
                )
                height -= note_h
            bar_chart(slide, (left, top, width, height), rows["model"].tolist(), series)


def _interaction_slides(deck: Deck) -> None:
    study = deck.study
    if len(study.models) < 2:
        return
    inter = shared(study, interaction_table, adjust=deck.adjust, margin=deck.margin,
                   baseline=deck.inputs.baseline)  # fmt: skip
    colors = theme.color_map(study.splitters)
    pairs = interaction_pairs(deck, inter)
    wanted = set(pairs)
    what = "pairs" if deck.inputs.baseline is None else "configurations against the baseline"
    for metric in study.metrics:
        everything = inter[inter["metric"] == metric]
        keep = [p in wanted for p in zip(everything["model_a"], everything["model_b"], strict=True)]
        rows = everything[keep]
        total = len(everything) // max(1, len(study.splitters))
        title = findings.interaction_headline(rows, metric, deck.unit, deck.adjust)
        series = []
        for splitter in study.splitters:
            part = rows[rows["splitter"] == splitter].set_index(["model_a", "model_b"])
            part = part.reindex(pairs)
            series.append(BarSeries(name=f"{splitter}", values=part["did"].tolist(),
                                    lo=part["did_lo"].tolist(), hi=part["did_hi"].tolist(),
                                    color=colors[splitter]))  # fmt: skip
        notes = (
            "The model x split interaction: for each pair, (A − B on ID) − (A − B on OOD), "
            "i.e. A's ID-OOD gap minus B's, paired within steps with a cluster-robust 95% "
            "interval; a positive bar means A loses more from ID to OOD than B. "
            + _shown_pairs(deck, len(pairs), total)
            + " ".join(
                f"{r.splitter}, {r.model_a} vs {r.model_b}: {r.verdict}." for r in rows.itertuples()
            )
            + " "
            + " ".join(
                dict.fromkeys(
                    str(n) for n in rows.get("scale_note", []) if isinstance(n, str) and n
                )
            )
            + " "
            + deck.stats_note(total, f"{what} of each splitter and metric (one family each)")
        )
        if len(pairs) > MAX_COLUMNS:
            interaction_forest(deck, title, notes, rows, pairs, metric)
            continue
        bar_chart(
            deck.slide(title, notes),
            deck.body_box(),
            [f"{a} − {b}" for a, b in pairs],
            series,
            axis_title=f"difference of ID-OOD gaps, {findings.metric_words(metric)}",
            value_range=None,
        )


def _venn_slide(deck: Deck) -> None:
    study = deck.study
    names = study.splitters[:3]
    if len(names) < 2:
        return
    regions = {label: shared(study, venn_regions, names, label) for label in ("ID", "OOD")}
    title = agreement_finding(study.labels, names)
    png = venn_pair_png(regions["ID"], regions["OOD"], names)
    lines = [
        f"{label} {r.region}: {r.count:,} steps"
        + ("" if deck.unit == "steps" else f" ({r.clusters:,} {deck.unit})")
        for label in ("ID", "OOD")
        for r in regions[label].itertuples()
    ]
    notes = (
        "Venn diagrams of the steps each splitter calls ID (left) and OOD (right); circle "
        "areas are proportional to the counts. "
        + "; ".join(lines)
        + ". Disputed steps are those the splitters do not label alike."
    )
    slide = deck.slide(title, notes)
    deck.picture(slide, png, deck.body_box())


def _drill_slides(deck: Deck) -> None:
    study = deck.study
    if len(study.splitters) < 2 or not study.models:
        return
    frames = [
        shared(study, set_difference, a, b, metric=metric, adjust=deck.adjust, margin=deck.margin)
        for a, b in combinations(study.splitters, 2)
        for metric in study.metrics
    ]
    # As the report and the Metrics page read them: each call's rows are one family.
    table = deck.table()
    many = len(study.models) > MAX_COLUMNS
    for frame in frames:
        rows = frame.itertuples()
        if many:
            # One slide per region with all configurations, titled with its strongest row.
            rows = drill_leads(frame)
        for row in rows:
            if findings.kind(row.verdict) != findings.SIGNIFICANT:
                continue
            region = frame[frame["region"] == row.region]
            first = row.ref_name.removesuffix(" ID")
            ref = (
                table[(table["splitter"] == first) & (table["metric"] == row.metric)]
                .set_index("model")
                .reindex(region["model"])
            )
            title = findings.drill_finding(row._asdict(), deck.unit, deck.adjust)
            series = [
                BarSeries(
                    name=f"{row.region} ({findings.counts(row.n, row.n_clusters, deck.unit)})",
                    values=region["mean"].tolist(),
                    lo=region["lo"].tolist(),
                    hi=region["hi"].tolist(),
                    color=theme.HIGHLIGHT_COLOR,
                ),
                BarSeries(
                    name=f"{row.ref_name} set "
                    f"({findings.counts(row.ref_n, row.ref_clusters, deck.unit)})",
                    values=ref["id_mean"].tolist(),
                    lo=ref["id_lo"].tolist(),
                    hi=ref["id_hi"].tolist(),
                    color=theme.color_map(study.splitters)[first],
                ),
            ]
            notes = (
                f"Set-difference drill-down: {findings.metric_words(row.metric)} on the steps "
                f"{row.region} (n={row.n:,}, {row.n_clusters:,} {deck.unit}) against "
                f"{row.ref_name} set (n={row.ref_n:,}). Test: {row.test}. Verdict: "
                f"{row.verdict}. {deck.stats_note(len(frame), 'rows of this drill-down')}"
            )
            if many:
                drill_forest(deck, title, notes, region, ref, series)
                continue
            bar_chart(deck.slide(title, notes), deck.body_box(), region["model"].tolist(), series)


def _step_verdicts(study, pos: int) -> list[str]:
    """Which models got the step right, in a title's few words (the smaller side named when
    there are many models: a title never lists eighteen names). With repeated runs, right
    and wrong mean in every run, and the models right in some runs only are counted."""
    main_metric, n = study.metric(study.default_metric), len(study.models)
    right = [m for m in study.models if main_metric[m].iloc[pos] == 1]
    wrong = [m for m in study.models if main_metric[m].iloc[pos] == 0]
    every = " in every run" if any(study.runs(m) > 1 for m in study.models) else ""
    if n > 1 and n in (len(right), len(wrong)):
        return [f"all {n} models {'right' if right else 'wrong'}{every}"]
    if n > 6:
        few, word = (right, "right") if right and len(right) <= len(wrong) else (wrong, "wrong")
        named = ", ".join(few[:4]) + f" and {len(few) - 4} more" if len(few) > 4 else (
            findings.join_names(few))  # fmt: skip
        some = n - len(right) - len(wrong)
        mixed = f", {some} in some runs" if some else ""
        return [f"{len(right)} of {n} models right{every}{mixed}"
                + (f"; {word}{every}: {named}" if few else "")]  # fmt: skip
    out = []
    if right:
        out.append(f"{findings.join_names(right)} right")
    if wrong:
        out.append(f"{findings.join_names(wrong)} wrong")
    return out


def _step_slides(deck: Deck, ids: Sequence[str], kind: str) -> None:
    study, inputs = deck.study, deck.inputs
    # Tool-calling steps have no screenshot: the slide shows the conversation as text.
    text_only = is_text_only(study)
    position = step_positions(study, ids)
    for sid in ids:
        if sid not in position:
            raise GemvizError(f"example step {sid!r} is not in the workspace's test set")
        pos = position[sid]
        outputs = {m: inputs.outputs.get(m, {}).get(sid) for m in study.models}
        picture = None
        if not text_only:
            picture = annotate_step(
                study, pos, outputs, inputs.formats, inputs.image_root, max_height=1400,
                legend=False,
            )  # fmt: skip
        legend = step_legend(study, pos, outputs, inputs.formats)
        entry = inputs.annotations.get(sid)
        labels = ", ".join(f"{s} {study.labels[s].iloc[pos]}" for s in study.splitters)
        verdicts = _step_verdicts(study, pos)
        tags = list(entry.tags) if entry is not None else []
        head = tags[0] if tags else ("Disputed step" if kind == "disputed" else "Example step")
        title = f"{head}: {labels}" + (f"; {', '.join(verdicts)}" if verdicts else "")
        task = str(study.samples[TASK].iloc[pos])
        caption = deck.examples.get(sid, "")
        lines: list = [[("Task: ", MUTED_TEXT), (task, None)]]
        if caption:
            lines.append(caption)
        if text_only:
            for t in turns(study, pos, inputs.answers).itertuples():
                lines.append([(f"Turn {t.turn}: ", MUTED_TEXT), (t.user, None)])
                if t.ground_truth:
                    # One turn's calls on one line, so none looks like a line of its own.
                    calls = t.ground_truth.replace("\n", "; ")
                    lines.append([("   calls: ", MUTED_TEXT), (calls, None)])
        for name, colour, text in legend:
            lines.append([("■ ", colour), (f"{name}: {text}", None)])
        if tags:
            lines.append([("Tags: ", MUTED_TEXT), ("; ".join(tags), None)])
        if entry is not None and entry.note:
            lines.append([("Note: ", MUTED_TEXT), (entry.note, None)])
        notes = (
            f"Step {sid}. Task: {task}. Labels: {labels}. "
            + "; ".join(f"{m}: {outcome_text(study, m, pos)}" for m in study.models)
            + ". "
            + (
                "The conversation's turns and ground-truth calls as stored."
                if picture is None
                else ("Screenshot as stored; " if picture.found else "Screenshot missing; ")
                + "actions drawn on it: ground truth and each model's prediction, colours as "
                "listed."
            )
        )
        if picture is None:
            deck.text_slides(title, notes, lines)
            continue
        aspect = picture.image.width / max(1, picture.image.height)
        deck.text_slides(title, notes, lines, picture.png, aspect)


def _example_slides(deck: Deck) -> None:
    _step_slides(deck, list(deck.examples), "example")


def _disputed_slides(deck: Deck) -> None:
    study = deck.study
    position = step_positions(
        study, [sid for sid in deck.inputs.annotations if sid not in deck.examples]
    )
    ids = sorted(position, key=position.__getitem__)  # in test-set order
    _step_slides(deck, ids, "disputed")


def _shown_pairs(deck: Deck, shown: int, total: int) -> str:
    if deck.inputs.baseline is not None:
        return (
            f"Shown: each of the {shown} configurations against the baseline "
            f"{deck.inputs.baseline}; p-values adjusted over exactly those comparisons, one "
            "family per splitter and metric. "
        )
    if shown == total:
        return ""
    return f"Shown: the {shown} of {total} pairs with the smallest adjusted p. "


def _nan(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


#: Section name -> builder, in deck order. A builder adds zero or more slides.
#: The questions come in this order: how the configurations rank over their runs, how each
#: compares with the baseline, ID/OOD per splitter, what the training sets cover, where the
#: splitters disagree, then steps to look at. Sections with nothing to show add no slide.
SLIDE_SECTIONS: dict[str, SlideSection] = {
    "study": _study_slide,
    "runs": ranking_slides,
    "baseline": baseline_slides,
    "splitters": _splitter_slides,
    "interaction": _interaction_slides,
    "coverage": coverage_slides,
    "venn": _venn_slide,
    "drill-down": _drill_slides,
    "examples": _example_slides,
    "disputed": _disputed_slides,
}


def build_deck(
    inputs: ReportInputs,
    examples: Sequence[str] | Mapping[str, str] = (),
    sections: Mapping[str, SlideSection] | None = None,
    adjust: str = "holm",
    margin: float = MARGIN,
    progress: Progress | None = None,
) -> Deck:
    """Build the meeting deck.

    Args:
        inputs: What to report (:func:`gemviz.report.inputs_from_workspace`).
        examples: Sample ids of example steps, or id -> caption.
        sections: Section name -> builder, in order (default :data:`SLIDE_SECTIONS`).
        adjust: ``"holm"`` or ``"bh"``, for every table.
        margin: The "no detectable difference" margin.
        progress: Called as ``progress(done, total, section)``.

    Returns:
        The built :class:`Deck` (``deck.titles`` lists its slides; :func:`deck_bytes`).

    Raises:
        GemvizError: An example id is not in the study.
    """
    chosen = dict(examples) if isinstance(examples, Mapping) else dict.fromkeys(examples, "")
    deck = Deck(inputs, chosen, adjust, margin)
    order = dict(SLIDE_SECTIONS if sections is None else sections)
    for i, (name, builder) in enumerate(order.items()):
        if progress:
            progress(i, len(order), name)
        deck.section = name
        builder(deck)
    if progress:
        progress(len(order), len(order), "done")
    return deck


def deck_bytes(deck: Deck) -> bytes:
    """The deck as a .pptx file's bytes."""
    buf = io.BytesIO()
    deck.prs.save(buf)
    return buf.getvalue()


def write_deck(deck: Deck, path: str | os.PathLike) -> None:
    """Write the deck atomically (a complete file or none)."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(deck_bytes(deck))
