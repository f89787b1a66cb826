"""The meeting report: one self-contained HTML file of a workspace, plus its figures as PNG.

The report has a fixed list of sections (:data:`SECTIONS`): the ID/OOD tables with 95%
intervals and the ID-OOD gap, the model x split interaction, the GEM fit of each splitter, the Venn diagrams of the splitters' ID and OOD sets,
the set-difference drill-down, the embedding map and a chosen list of annotated example steps.
Each section builder returns its HTML and the PNGs of its figures. Interactive figures are
plotly, with plotly.js embedded once in the page so it opens offline; the PNGs for slides are
drawn with matplotlib (no browser needed) and zipped.

:func:`inputs_from_workspace` gathers what the report needs from a workspace;
:func:`build_report` and :func:`write_report` do the rest, and the ``report`` command and the
Report page call exactly these.
"""

from __future__ import annotations

import base64
import html
import io
import math
import os
import time
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from gemviz import static_figures
from gemviz.data import METRICS, TASK
from gemviz.errors import GemvizError
from gemviz.io import atomic_path, write_text_atomic
from gemviz.study import Study
from gemviz.workspace import slugify

Progress = Callable[[int, int, str], None]


@dataclass
class ReportInputs:
    """Everything a report is made from.

    Attributes:
        name: Workspace name, the report's title.
        study: The aligned study.
        demo: True when the data are the built-in demo's (the report then says so).
        train_scores: Splitter -> train input scores, for the GEM fit plots.
        gem_params: Splitter -> ``{"sigma", "max_components", "random_state"}``.
        projection: An embedding projection to show, or None.
        projection_splitter: The splitter whose embeddings were projected.
        outputs: Model -> (sample id -> raw output), for the example steps.
        formats: Model -> action format of its outputs.
        image_root: Folder for relative screenshot paths.
        annotations: Sample id -> :class:`gemviz.annotations.Annotation` (tags and note).
    """

    name: str
    study: Study
    demo: bool = False
    train_scores: dict[str, np.ndarray] = field(default_factory=dict)
    gem_params: dict[str, dict[str, Any]] = field(default_factory=dict)
    projection: Any = None
    projection_splitter: str | None = None
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    formats: dict[str, str] = field(default_factory=dict)
    image_root: str | None = None
    annotations: dict[str, Any] = field(default_factory=dict)


@dataclass
class Report:
    """A built report: the HTML text and the figures as PNG (file name -> bytes)."""

    html: str
    figures: dict[str, bytes]
    sections: list[str]

    def zip_bytes(self) -> bytes:
        """The figures as a ZIP archive of PNG files."""
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, data in self.figures.items():
                zf.writestr(name, data)
        return buf.getvalue()


class _Context:
    """State shared by the section builders while one report is built."""

    def __init__(self, inputs: ReportInputs, examples: Mapping[str, str]) -> None:
        self.inputs = inputs
        self.examples = examples
        self.plotly_included = False

    def plotly(self, fig) -> str:
        # plotly.js (~4.6 MB) goes into the page once, with the first interactive figure.
        include = not self.plotly_included
        self.plotly_included = True
        return fig.to_html(full_html=False, include_plotlyjs=include, config={"responsive": True})


Section = tuple[str, dict[str, bytes]]


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt)}">'


def _fmt(value: Any) -> str:
    if isinstance(value, (float, np.floating)):
        return "" if math.isnan(value) else f"{value:.3f}"
    return html.escape(str(value))


def _table(frame: pd.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{_fmt(v)}</td>" for v in row) + "</tr>"
        for row in frame.itertuples(index=False)
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _note(text: str) -> str:
    return f'<p class="note">{html.escape(text)}</p>'


# -- sections --------------------------------------------------------------------------------


def _tables(ctx: _Context) -> Section:
    from gemviz.analysis import id_ood_table
    from gemviz.plots import grouped_bars

    study = ctx.inputs.study
    if not study.models:
        return _note("The workspace has no evaluated models, so there is nothing to tabulate."), {}
    table = id_ood_table(study)
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
            "ID − OOD gap [95% CI]": [
                _difference(g, lo, hi)
                for g, lo, hi in table[["gap", "gap_lo", "gap_hi"]].itertuples(index=False)
            ],
            "gap p (Holm)": [_pval(p) for p in table["gap_p_adjusted"]],
        }
    )
    parts = [_note(statistics_note(study.cluster_by)), _table(shown)]
    figures = {}
    for metric in METRICS:
        parts.append(ctx.plotly(grouped_bars(table, metric)))
        figures[f"bars_{metric}.png"] = static_figures.png_bytes(static_figures.bars(table, metric))
    return "\n".join(parts), figures


def _interaction(ctx: _Context) -> Section:
    from gemviz.analysis import interaction_table

    study = ctx.inputs.study
    if len(study.models) < 2:
        return _note("The interaction needs at least two models."), {}
    table = interaction_table(study)
    shown = pd.DataFrame(
        {
            "splitter": table["splitter"],
            "metric": table["metric"],
            "A": table["model_a"],
            "B": table["model_b"],
            "A − B on ID": [_difference(v, math.nan, math.nan) for v in table["diff_id"]],
            "A − B on OOD": [_difference(v, math.nan, math.nan) for v in table["diff_ood"]],
            "difference in differences [95% CI]": [
                _difference(d, lo, hi)
                for d, lo, hi in table[["did", "did_lo", "did_hi"]].itertuples(index=False)
            ],
            "p (Holm)": [_pval(p) for p in table["did_p_adjusted"]],
        }
    )
    intro = (
        "Does model A gain more over model B in distribution than out of it? The difference "
        "in differences (A − B on ID) − (A − B on OOD), paired within steps; a positive value "
        "means A's advantage is larger on ID."
    )
    return f"<p>{html.escape(intro)}</p>{_table(shown)}", {}


def _paired(ctx: _Context) -> Section:
    from itertools import combinations

    from gemviz.analysis import paired_comparison

    study = ctx.inputs.study
    if len(study.models) < 2:
        return _note("The paired comparison needs at least two models."), {}
    parts = []
    # Every pair of models under every splitter, as the Metrics page can show each of them.
    for a, b in combinations(study.models, 2):
        for splitter in study.splitters:
            rows = []
            for metric in METRICS:
                t = paired_comparison(study, a, b, metric, splitter=splitter)
                for r in t.itertuples(index=False):
                    rows.append(
                        {
                            "metric": metric,
                            "subset": r.subset,
                            "n": f"{int(r.n):,}",
                            f"{a} mean": r.mean_a,
                            f"{b} mean": r.mean_b,
                            f"{a} − {b} [95% CI]": _difference(r.diff, r.diff_lo, r.diff_hi),
                            "p (Holm)": _pval(r.diff_p_adjusted),
                        }
                    )
            parts.append(
                f"<h3>{html.escape(a)} vs {html.escape(b)}, ID/OOD by {html.escape(splitter)}"
                f"</h3>{_table(pd.DataFrame(rows))}"
            )
    intro = (
        "Two models on the same steps: both means and their paired difference, on all steps "
        "and on each splitter's ID and OOD sets (cluster-level paired interval and test; "
        "p-values Holm-adjusted within each metric's three rows)."
    )
    return f"<p>{html.escape(intro)}</p>" + "\n".join(parts), {}


def cluster_unit(cluster_by: str) -> str:
    """How to name the clusters of ``cluster_by`` in text (``tasks``, ``episodes``, ...)."""
    return {"task": "tasks", "episode_id": "episodes", "none": "steps"}.get(
        cluster_by, f"{cluster_by} groups"
    )


def statistics_note(cluster_by: str) -> str:
    """One sentence saying how the intervals and tests treat the steps."""
    if cluster_by == "none":
        return (
            "Step-level statistics (--cluster-by none): every step counts as independent. "
            "P-values are Holm-adjusted over each table."
        )
    return (
        f"Intervals and tests resample whole {cluster_unit(cluster_by)} (clustered by "
        f"'{cluster_by}'): steps of one cluster are not independent. P-values are "
        "Holm-adjusted over each table."
    )


def _interval(mean: float, lo: float, hi: float, n: int, k: int, unit: str) -> str:
    if n == 0 or math.isnan(mean):
        return "– (n=0)"
    count = f"n={int(n):,}" if unit == "steps" else f"n={int(n):,}, {int(k):,} {unit}"
    return f"{mean:.3f} [{lo:.3f}, {hi:.3f}] ({count})"


def _difference(value: float, lo: float, hi: float) -> str:
    if value is None or math.isnan(value):
        return "–"
    if lo is None or math.isnan(lo):
        return f"{value:+.3f}"
    return f"{value:+.3f} [{lo:+.3f}, {hi:+.3f}]"


def _pval(p: float) -> str:
    from gemviz.stats import format_p

    return "–" if p is None or math.isnan(p) else format_p(p).removeprefix("p=")


def _gem_fit(ctx: _Context) -> Section:
    from gemviz.plots import gem_fit_figure
    from gemviz.splitters.gem import fit_gmm_1d, merge_intervals

    parts, figures = [], {}
    for name in ctx.inputs.study.splitters:
        train = ctx.inputs.train_scores.get(name)
        if train is None or len(train) < 2:
            parts.append(_note(f"{name}: no train scores registered, so no GEM fit to show."))
            continue
        p = ctx.inputs.gem_params.get(name, {})
        fit = fit_gmm_1d(
            np.asarray(train, dtype=float),
            max_components=int(p.get("max_components", 19)),
            random_state=int(p.get("random_state", 42)),
        )
        sigma = float(p.get("sigma", 2.0))
        intervals = merge_intervals(fit.means, fit.stds, sigma)
        test = ctx.inputs.study.scores[name].to_numpy(dtype=float)
        test = test[np.isfinite(test)]
        title = f"{name}: {fit.n_components} Gaussian component(s), sigma {sigma:g}"
        parts.append(f"<h3>{html.escape(name)}</h3>")
        parts.append(
            ctx.plotly(
                gem_fit_figure(
                    train,
                    test if len(test) else None,
                    fit.means,
                    fit.stds,
                    fit.weights,
                    intervals,
                    title=title,
                )
            )
        )
        figures[f"gem_fit_{slugify(name)}.png"] = static_figures.png_bytes(
            static_figures.gem_fit(train, test, fit, intervals, title)
        )
    return "\n".join(parts), figures


def _venn(ctx: _Context) -> Section:
    from gemviz.overlap import venn_regions
    from gemviz.venn import venn_figure

    study = ctx.inputs.study
    names = study.splitters[:3]
    if len(names) < 2:
        return _note("Venn diagrams need at least two splitters; this workspace has one."), {}
    parts, figures = ['<div class="row">'], {}
    for label in ("ID", "OOD"):
        regions = venn_regions(study, names, label)
        png = static_figures.png_bytes(venn_figure(regions, names, f"{label} sets"))
        figures[f"venn_{label}.png"] = png
        parts.append(
            f"<div>{_img(png, f'Venn diagram of the {label} sets')}"
            f"{_table(regions[['region', 'count', 'clusters']])}</div>"
        )
    parts.append("</div>")
    return "\n".join(parts), figures


def _set_difference(ctx: _Context) -> Section:
    from itertools import combinations

    from gemviz.overlap import set_difference

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
        "verdict",
    )
    parts = [
        "<p>For every pair of splitters and both metrics: each model's mean on the steps only "
        "one of the two calls ID, next to its mean on that splitter's ID set. The test permutes "
        f"whole {cluster_unit(study.cluster_by)} within that ID set; p_adjusted is Holm's over "
        "the rows of one table, and the verdict uses it.</p>"
    ]
    # Every pair and both metrics, as the Metrics page can show each of them.
    for a, b in combinations(study.splitters, 2):
        for metric in METRICS:
            frame = set_difference(study, a, b, metric=metric)
            cols = [c for c in wanted if c in frame.columns]
            parts.append(
                f"<h3>{html.escape(a)} vs {html.escape(b)}: "
                f"{html.escape(metric.replace('_', ' '))}</h3>{_table(frame[cols])}"
            )
    return "\n".join(parts), {}


def _embeddings(ctx: _Context) -> Section:
    from gemviz import embedding_plot as eplot
    from gemviz.samples import label_col, sample_table

    result = ctx.inputs.projection
    if result is None:
        return _note(
            "No embedding map: no UMAP projection is cached for this workspace. Run UMAP on the "
            "Embeddings page, or pass --umap to python -m gemviz report; a splitter needs saved "
            "embeddings for that (python -m gemviz score writes them)."
        ), {}
    study = ctx.inputs.study
    points = eplot.points_frame(result, sample_table(study))
    splitter = ctx.inputs.projection_splitter or study.splitters[0]
    column = label_col(splitter) if splitter in study.splitters else "split"
    fig = eplot.embedding_figure(points, column, "category", title=f"UMAP of {splitter} embeddings")
    png = static_figures.png_bytes(
        static_figures.scatter(points, column, f"UMAP of {splitter} embeddings")
    )
    return ctx.plotly(fig), {"embeddings.png": png}


def _examples(ctx: _Context) -> Section:
    from gemviz.samples import annotate_step

    study = ctx.inputs.study
    if not ctx.examples:
        return _note("No example steps were chosen."), {}
    position = {sid: i for i, sid in enumerate(study.ids)}
    parts, figures = [], {}
    for k, (sid, caption) in enumerate(ctx.examples.items(), start=1):
        if sid not in position:
            raise GemvizError(f"example step {sid!r} is not in the workspace's test set")
        pos = position[sid]
        outputs = {m: ctx.inputs.outputs.get(m, {}).get(sid) for m in study.models}
        picture = annotate_step(
            study,
            pos,
            outputs,
            ctx.inputs.formats,
            image_root=ctx.inputs.image_root,
            max_height=700,
        )
        text = caption or default_caption(study, pos)
        figures[f"example_{k:02d}.png"] = picture.png
        parts.append(
            f"<figure>{_img(picture.png, text)}<figcaption><b>{k}.</b> "
            f"{html.escape(text)}</figcaption></figure>"
        )
    return '<div class="examples">' + "\n".join(parts) + "</div>", figures


def _annotated(ctx: _Context) -> Section:
    from gemviz.annotations import TAG_SEPARATOR
    from gemviz.samples import annotate_step

    study = ctx.inputs.study
    notes = ctx.inputs.annotations
    position = {sid: i for i, sid in enumerate(study.ids)}
    # Steps in test-set order; notes on ids the test set no longer holds are said, not shown.
    ids = [sid for sid in study.ids if sid in notes]
    missing = [sid for sid in notes if sid not in position]
    if not ids:
        return _note("No step has tags or a note yet (tag steps on the Step page)."), {}
    parts, figures = [], {}
    for k, sid in enumerate(ids, start=1):
        pos = position[sid]
        outputs = {m: ctx.inputs.outputs.get(m, {}).get(sid) for m in study.models}
        picture = annotate_step(
            study, pos, outputs, ctx.inputs.formats, ctx.inputs.image_root, max_height=500
        )
        entry = notes[sid]
        figures[f"annotated_{k:02d}.png"] = picture.png
        tags = TAG_SEPARATOR.join(entry.tags)
        parts.append(
            f"<figure>{_img(picture.png, default_caption(study, pos))}<figcaption>"
            f"<b>{k}.</b> <code>{html.escape(sid)}</code> {html.escape(default_caption(study, pos))}"
            + (f"<br><b>Tags:</b> {html.escape(tags)}" if tags else "")
            + (f"<br><b>Note:</b> {html.escape(entry.note)}" if entry.note else "")
            + "</figcaption></figure>"
        )
    extra = (
        _note(f"{len(missing)} annotated id(s) are not in this test set: {', '.join(missing[:5])}")
        if missing
        else ""
    )
    return '<div class="examples">' + "\n".join(parts) + "</div>" + extra, figures


def default_caption(study: Study, pos: int) -> str:
    """A one-line caption of a step: task, each splitter's label, each model's exact match."""
    task = str(study.samples[TASK].iloc[pos])
    labels = ", ".join(f"{s} {study.labels[s].iloc[pos]}" for s in study.splitters)
    right = ", ".join(f"{m} {'✓' if study.exact_match[m].iloc[pos] else '✗'}" for m in study.models)
    return f"“{task[:100]}” — {labels}" + (f" — exact match: {right}" if right else "")


# section id -> (title, builder); the HTML shows them in this order.
SECTIONS: dict[str, tuple[str, Callable[[_Context], Section]]] = {
    "tables": ("ID vs OOD: type and exact match with 95% intervals and the gap", _tables),
    "interaction": ("Does model A gain more on ID than model B?", _interaction),
    "paired": ("Paired comparison of two models", _paired),
    "gem-fit": ("GEM fit of each splitter", _gem_fit),
    "venn": ("Overlap of the splitters' ID and OOD sets", _venn),
    "set-difference": ("Set-difference drill-down", _set_difference),
    "embeddings": ("Embedding map", _embeddings),
    "examples": ("Example steps", _examples),
    "annotated": ("Disputed steps we looked at", _annotated),
}


# -- assembling ------------------------------------------------------------------------------

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1200px;margin:2em auto;
padding:0 1em;color:#222} h1{margin-bottom:.2em} h2{border-bottom:1px solid #ddd;padding-bottom:.2em;
margin-top:2em} table{border-collapse:collapse;font-size:13px;margin:1em 0} th,td{border:1px solid
#ddd;padding:3px 7px;text-align:left} th{background:#f4f4f4} .note{color:#666;font-style:italic}
.row{display:flex;gap:2em;flex-wrap:wrap} .row>div{flex:1 1 420px;max-width:560px} .examples{display:flex;flex-wrap:wrap;gap:1.5em}
figure{margin:0;max-width:560px} figure img{max-width:100%;border:1px solid #ccc}
.demo{background:#fff3cd;border:1px solid #ffe08a;padding:.5em 1em} img{max-width:100%}
"""


def build_report(
    inputs: ReportInputs,
    examples: Sequence[str] | Mapping[str, str] = (),
    progress: Progress | None = None,
) -> Report:
    """Build the report's HTML and figures.

    Args:
        inputs: What to report (see :func:`inputs_from_workspace`).
        examples: Sample ids of the example steps, or id -> caption (empty caption: a default
            one-line caption is written).
        progress: Called as ``progress(done, total, section_id)``.

    Returns:
        The :class:`Report`.

    Raises:
        GemvizError: An example id is not in the study.
    """
    chosen = dict(examples) if isinstance(examples, Mapping) else dict.fromkeys(examples, "")
    ctx = _Context(inputs, chosen)
    study = inputs.study
    body, figures = [], {}
    for i, (sid, (title, builder)) in enumerate(SECTIONS.items()):
        if progress:
            progress(i, len(SECTIONS), sid)
        fragment, pngs = builder(ctx)
        figures.update(pngs)
        body.append(f'<section id="{sid}"><h2>{html.escape(title)}</h2>\n{fragment}\n</section>')
    if progress:
        progress(len(SECTIONS), len(SECTIONS), "done")
    when = time.strftime("%Y-%m-%d %H:%M")
    demo = (
        '<p class="demo">Built-in demo workspace: generated screenshots, tasks and agents, '
        "not real study data.</p>"
        if inputs.demo
        else ""
    )
    summary = (
        f"{len(study):,} test steps · splitters: {html.escape(', '.join(study.splitters))} · "
        f"models: {html.escape(', '.join(study.models) or 'none')} · written {when}"
    )
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(inputs.name)} · gemviz report</title><style>{_CSS}</style></head>"
        f"<body><h1>{html.escape(inputs.name)}</h1><p>{summary}</p>{demo}\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )
    return Report(html=page, figures=figures, sections=list(SECTIONS))


def write_report(
    report: Report, html_path: str | os.PathLike, zip_path: str | os.PathLike | None = None
) -> None:
    """Write the HTML file (and the PNG ZIP) atomically."""
    write_text_atomic(html_path, report.html)
    if zip_path is not None:
        with atomic_path(zip_path) as tmp:
            tmp.write_bytes(report.zip_bytes())


def inputs_from_workspace(
    workspace,
    study: Study | None = None,
    projection: Any = None,
    projection_splitter: str | None = None,
) -> ReportInputs:
    """Gather a workspace's study, train scores, GEM settings and predictions.

    Args:
        workspace: A :class:`gemviz.workspace.Workspace`.
        study: Its study if already loaded (else loaded here).
        projection: A projection to show (e.g. the Embeddings page's), or None to use one
            already cached on disk for the first splitter with embeddings (default parameters).
        projection_splitter: The splitter ``projection`` belongs to.

    Raises:
        GemvizError: A registered file is unreadable.
    """
    from gemviz.data import SCORE, load_scores
    from gemviz.samples import load_predictions

    study = study if study is not None else workspace.study()
    train_scores, gem_params = {}, {}
    for s in workspace.splitters:
        if s.train_scores:
            train_scores[s.name] = load_scores(s.train_scores)[SCORE].to_numpy(dtype=float)
        gem_params[s.name] = dict(s.params or {})
    if projection is None:
        from gemviz.projection import ProjectionParams, project_files

        for s in workspace.splitters:
            if s.test_embeddings:
                found = project_files(
                    s.test_embeddings,
                    ProjectionParams(max_samples=50_000),
                    train_embeddings=s.train_embeddings,
                    compute=False,
                ) or project_files(
                    s.test_embeddings, ProjectionParams(max_samples=50_000), compute=False
                )
                if found is not None:
                    projection, projection_splitter = found, s.name
                    break
    outputs = {
        m.name: load_predictions(m.predictions, m.pred_field)
        for m in workspace.models
        if m.predictions
    }
    from gemviz.annotations import load as load_annotations

    return ReportInputs(
        name=workspace.name,
        study=study,
        demo=bool(workspace.demo),
        train_scores=train_scores,
        gem_params=gem_params,
        projection=projection,
        projection_splitter=projection_splitter,
        outputs=outputs,
        formats={m.name: m.format for m in workspace.models},
        image_root=workspace.image_root,
        annotations=load_annotations(workspace.folder),
    )


def parse_examples(text: str, known: Sequence[str] = ()) -> dict[str, str]:
    """Read example steps typed one per line as ``ID`` or ``ID | caption``.

    Ids built from files without an ``id`` field are ``image_path|task`` and hold a bare
    ``|`` themselves, so only a pipe with a space on either side starts a caption, and a line
    that is a known id as a whole is always taken as that id.

    Args:
        text: The lines.
        known: The study's sample ids, if at hand.

    Returns:
        Sample id -> caption (empty for the default caption), in the order typed.
    """
    known_ids = set(known)
    out: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if line in known_ids:
            sid, caption = line, ""
        else:
            sid, _, caption = line.partition(" | ")
        if sid.strip():
            out[sid.strip()] = caption.strip()
    return out


def suggest_examples(study: Study, k: int = 3) -> list[str]:
    """A few steps worth showing: disputed ones first (splitters disagree), else the first."""
    from gemviz.samples import disputed

    hits = np.flatnonzero(disputed(study.labels))[:k]
    if not len(hits):
        hits = np.arange(min(k, len(study)))
    ids = study.ids
    return [ids[i] for i in hits]
