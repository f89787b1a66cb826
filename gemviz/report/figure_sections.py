"""Report sections of pictures: GEM fits, Venn diagrams, embedding map, example steps."""

from __future__ import annotations

import functools
import hashlib
import html

import numpy as np

from gemviz.analysis.conversation import is_text_only
from gemviz.analysis.overlap import venn_regions
from gemviz.analysis.samples import label_col, sample_table
from gemviz.data.errors import GemvizError
from gemviz.data.fields import TASK
from gemviz.data.study import Study
from gemviz.figures import embedding_map as eplot
from gemviz.figures import static as static_figures
from gemviz.figures.charts import gem_fit_figure
from gemviz.figures.step import annotate_step, step_card
from gemviz.figures.venn import venn_figure
from gemviz.report.base import (
    Section,
    _Context,
    _img,
    _note,
    _table,
    shared,
    step_positions,
)
from gemviz.report.runs_sections import conversation_html
from gemviz.splitters import split_params, splitter_params
from gemviz.splitters.gem_fits import fitted_gem
from gemviz.workspace.annotations import TAG_SEPARATOR
from gemviz.workspace.entries import file_stem


def _fitted_gem(study: Study, train: np.ndarray, params: dict):
    """GEM fitted on ``train`` with ``params``: one fit per scores and fit settings (splitters
    that share train scores and differ only in sigma share it), kept on the study; read from
    the cache when the splitter was made with it (:func:`gemviz.splitters.gem_fits.fitted_gem`)."""
    fit_params, moved = split_params("gem", params)
    digest = hashlib.blake2b(np.ascontiguousarray(train, dtype=float).tobytes(), digest_size=16)
    key = (digest.hexdigest(), tuple(sorted(fit_params.items())))
    fits = study.__dict__.setdefault("_report_gem_fits", {})
    if key not in fits:
        fits[key] = fitted_gem(train, **fit_params)
    return fits[key].with_params(**moved) if moved else fits[key]


def _gem_fit(ctx: _Context) -> Section:
    gem_names = splitter_params("gem")
    parts, figures = [], {}
    for name in ctx.inputs.study.splitters:
        train = ctx.inputs.train_scores.get(name)
        if train is None or len(train) < 2:
            parts.append(_note(f"{name}: no train scores registered, so no GEM fit to show."))
            continue
        # The splitter's own saved settings where it is a GEM one; the registry's defaults else.
        saved = ctx.inputs.gem_params.get(name, {})
        gem = _fitted_gem(
            ctx.inputs.study, train, {k: v for k, v in saved.items() if k in gem_names}
        )
        fit, sigma, intervals = gem.gmm_, gem.sigma, gem.intervals_
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
        figures[f"gem_fit_{file_stem(name, 'splitter')}.png"] = functools.partial(
            _gem_fit_png, train, test, fit, intervals, title
        )
    return "\n".join(parts), figures


def _gem_fit_png(train, test, fit, intervals, title: str) -> bytes:
    return static_figures.png_bytes(static_figures.gem_fit(train, test, fit, intervals, title))


def _venn(ctx: _Context) -> Section:
    study = ctx.inputs.study
    names = study.splitters[:3]
    if len(names) < 2:
        return _note("Venn diagrams need at least two splitters; this workspace has one."), {}
    parts, figures = ['<div class="row">'], {}
    for label in ("ID", "OOD"):
        regions = shared(study, venn_regions, names, label)
        png = static_figures.png_bytes(venn_figure(regions, names, f"{label} sets"))
        figures[f"venn_{label}.png"] = png
        parts.append(
            f"<div>{_img(png, f'Venn diagram of the {label} sets')}"
            f"{_table(regions[['region', 'count', 'clusters']])}</div>"
        )
    parts.append("</div>")
    return "\n".join(parts), figures


def _embeddings(ctx: _Context) -> Section:
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
    title = f"UMAP of {splitter} embeddings"
    png = functools.partial(
        lambda p, c, t: static_figures.png_bytes(static_figures.scatter(p, c, t)),
        points,
        column,
        title,
    )
    return ctx.plotly(fig), {"embeddings.png": png}


def _examples(ctx: _Context) -> Section:
    study = ctx.inputs.study
    if not ctx.examples:
        return _note("No example steps were chosen."), {}
    position = step_positions(study, ctx.examples)
    parts, figures = [], {}
    for k, (sid, caption) in enumerate(ctx.examples.items(), start=1):
        if sid not in position:
            raise GemvizError(f"example step {sid!r} is not in the workspace's test set")
        pos = position[sid]
        text = caption or default_caption(study, pos)
        if is_text_only(study):
            parts.append(
                f"<figure>{conversation_html(ctx, pos)}<figcaption><b>{k}.</b> "
                f"{html.escape(text)}</figcaption></figure>"
            )
            continue
        outputs = {m: ctx.inputs.outputs.get(m, {}).get(sid) for m in study.models}
        picture = annotate_step(
            study,
            pos,
            outputs,
            ctx.inputs.formats,
            image_root=ctx.inputs.image_root,
            max_height=700,
        )
        entry = ctx.inputs.annotations.get(sid)
        # The ZIP's picture is a 16:9 slide figure: task, legend, tags and note beside it.
        figures[f"example_{k:02d}.png"] = functools.partial(
            step_card,
            study,
            pos,
            outputs,
            ctx.inputs.formats,
            ctx.inputs.image_root,
            caption=caption,
            note=entry.note if entry is not None else "",
            tags=entry.tags if entry is not None else (),
        )
        parts.append(
            f"<figure>{_img(picture.png, text)}<figcaption><b>{k}.</b> "
            f"{html.escape(text)}</figcaption></figure>"
        )
    return '<div class="examples">' + "\n".join(parts) + "</div>", figures


def _annotated(ctx: _Context) -> Section:
    study = ctx.inputs.study
    notes = ctx.inputs.annotations
    position = step_positions(study, notes)
    # Steps in test-set order; notes on ids the test set no longer holds are said, not shown.
    ids = sorted(position, key=position.__getitem__)
    missing = [sid for sid in notes if sid not in position]
    if not ids:
        return _note("No step has tags or a note yet (tag steps on the Step page)."), {}
    parts, figures = [], {}
    for k, sid in enumerate(ids, start=1):
        pos = position[sid]
        entry = notes[sid]
        if is_text_only(study):
            shown = conversation_html(ctx, pos)
        else:
            outputs = {m: ctx.inputs.outputs.get(m, {}).get(sid) for m in study.models}
            picture = annotate_step(
                study, pos, outputs, ctx.inputs.formats, ctx.inputs.image_root, max_height=500
            )
            figures[f"annotated_{k:02d}.png"] = functools.partial(
                step_card,
                study,
                pos,
                outputs,
                ctx.inputs.formats,
                ctx.inputs.image_root,
                note=entry.note,
                tags=entry.tags,
            )
            shown = _img(picture.png, default_caption(study, pos))
        tags = TAG_SEPARATOR.join(entry.tags)
        parts.append(
            f"<figure>{shown}<figcaption>"
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
    """A one-line caption of a step: task, each splitter's label, each model's result.

    The result is the default metric (exact match for GUI agents): ✓ or ✗ for one run, the
    runs passed over the runs (``3/5``) for several.
    """
    task = str(study.samples[TASK].iloc[pos])
    labels = ", ".join(f"{s} {study.labels[s].iloc[pos]}" for s in study.splitters)
    if not study.models:
        return f"“{task[:100]}” — {labels}"
    metric = study.default_metric
    marks = []
    for m in study.models:
        values = study.run_values(metric, m)[pos]
        runs = len(values)
        mark = ("✓" if values[0] else "✗") if runs == 1 else f"{int(values.sum())}/{runs}"
        marks.append(f"{m} {mark}")
    return f"“{task[:100]}” — {labels} — {metric.replace('_', ' ')}: {', '.join(marks)}"
