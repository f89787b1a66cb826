"""Assembling the report: the section list, the HTML page, writing, and gathering inputs."""

from __future__ import annotations

import contextlib
import html
import os
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from gemviz.analysis.conversation import answers_file, is_text_only, run_table
from gemviz.analysis.projection import ProjectionParams, project_files
from gemviz.analysis.stability import refittable, workspace_refits
from gemviz.analysis.step import load_predictions
from gemviz.data.bfcl import possible_answers
from gemviz.data.errors import GemvizError
from gemviz.data.fields import nfc
from gemviz.data.loaders import load_score_values
from gemviz.data.study import Study
from gemviz.data.write import atomic_path, write_text_atomic
from gemviz.report.analysis_sections import (
    _interaction,
    _paired,
    _set_difference,
    _slices,
    _stability,
    _tables,
)
from gemviz.report.base import (
    Figures,
    Progress,
    Report,
    ReportInputs,
    Section,
    _Context,
    plotly_loader,
)
from gemviz.report.coverage_sections import coverage_inputs, coverage_section
from gemviz.report.figure_sections import (
    _annotated,
    _embeddings,
    _examples,
    _gem_fit,
    _venn,
)
from gemviz.report.runs_sections import _runs
from gemviz.workspace.annotations import load as load_annotations
from gemviz.workspace.configs import configurations

# section id -> (title, builder); the HTML shows them in this order, except that a study of
# repeated runs opens with :data:`RUNS_FIRST`. "{metrics}" in a title names the study's
# metrics; a builder that returns None (nothing of that kind in the study) adds no section.
SECTIONS: dict[str, tuple[str, Callable[[_Context], Section | None]]] = {
    "tables": ("ID vs OOD: {metrics} with 95% intervals and the gap", _tables),
    "interaction": ("Does model A gain more on ID than model B?", _interaction),
    "paired": ("Paired comparison of two models", _paired),
    "gem-fit": ("GEM fit of each splitter", _gem_fit),
    "venn": ("Overlap of the splitters' ID and OOD sets", _venn),
    "set-difference": ("Set-difference drill-down", _set_difference),
    "slices": ("ID and OOD by action type", _slices),
    "stability": ("Splitter stability: ID probability over refits", _stability),
    "runs": ("Repeated runs: each configuration's runs and their spread", _runs),
    "coverage": (
        "Training sets: which test entries each covers, and where the gains sit",
        coverage_section,
    ),
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
.findings{font-weight:600} .demo{background:#fff3cd;border:1px solid #ffe08a;padding:.5em 1em} img{max-width:100%}
"""


#: Sections a study of repeated runs opens with (those present), before the others.
RUNS_FIRST = ("runs", "coverage")


def section_order(study: Study) -> list[str]:
    """The sections in page order: runs (and coverage) first when a model has several runs."""
    order = list(SECTIONS)
    if study.models and any(study.runs(m) > 1 for m in study.models):
        first = [sid for sid in RUNS_FIRST if sid in SECTIONS]
        order = first + [sid for sid in order if sid not in first]
    return order


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
    body, figures, shown = [], Figures(), []
    metrics = " and ".join(m.replace("_", " ") for m in study.metrics)
    order = section_order(study)
    for i, sid in enumerate(order):
        title, builder = SECTIONS[sid]
        if progress:
            progress(i, len(order), sid)
        built = builder(ctx)
        if built is None:
            continue
        fragment, pngs = built
        figures.update(pngs)
        shown.append(sid)
        heading = html.escape(title.format(metrics=metrics))
        body.append(f'<section id="{sid}"><h2>{heading}</h2>\n{fragment}\n</section>')
    if progress:
        progress(len(order), len(order), "done")
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
        + (plotly_loader() if ctx.plotly_included else "")
        + "\n</body></html>\n"
    )
    return Report(html=page, figures=figures, sections=shown)


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
        workspace: A :class:`gemviz.workspace.store.Workspace`.
        study: Its study if already loaded (else loaded here).
        projection: A projection to show (e.g. the Embeddings page's), or None to use one
            already cached on disk for the first splitter with embeddings (default parameters).
        projection_splitter: The splitter ``projection`` belongs to.

    Raises:
        GemvizError: A registered file is unreadable.
    """
    study = study if study is not None else workspace.study()
    train_scores, gem_params, read = {}, {}, {}
    for s in workspace.splitters:
        if s.train_scores:
            if s.train_scores not in read:  # splitters often share one train file: read it once
                read[s.train_scores] = load_score_values(s.train_scores)
            train_scores[s.name] = read[s.train_scores]
        gem_params[s.name] = dict(s.params or {})
    if projection is None:
        projection, projection_splitter = _cached_projection(workspace)
    outputs = {
        m.name: load_predictions(m.predictions, m.pred_field)
        for m in workspace.models
        if m.predictions
    }

    refits = {}
    for name in refittable(workspace):
        # Only refits already on disk: the report never starts minutes of refitting; a
        # splitter that cannot be refitted is reported as not computed.
        with contextlib.suppress(GemvizError):
            refits.update(workspace_refits(workspace, study, [name], compute=False) or {})

    answers, run_tables = _conversation_inputs(workspace, study)

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
        refits=refits,
        test_name=os.path.basename(workspace.test) if workspace.test else "",
        answers=answers,
        run_tables=run_tables,
        descriptions={s.name: describe_splitter(s) for s in workspace.splitters},
        configs=configurations(workspace),
        coverage=coverage_inputs(workspace, study, answers),
    )


def _cached_projection(workspace) -> tuple[Any, str | None]:
    """A UMAP projection already cached on disk for the first splitter with embeddings (with
    train, else test alone), and that splitter; ``(None, None)`` when none is."""

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
                return found, s.name
    return None, None


def _conversation_inputs(workspace, study: Study) -> tuple[dict, dict]:
    """For a text-only (tool-calling) study: the possible answers and each run's table of
    outcomes; empty otherwise."""

    if not is_text_only(study):
        return {}, {}

    found = answers_file(workspace.test)
    answers = possible_answers(found) if found is not None else {}
    ids = workspace.test_ids()
    run_tables = {
        m.name: [run_table(p, ids, workspace.test) for p in m.run_files()] for m in workspace.models
    }
    return answers, run_tables


def describe_splitter(entry) -> str:
    """How a splitter labels steps, in a few words (e.g. ``sentence embedding, GEM σ=2``).

    Args:
        entry: A :class:`gemviz.workspace.entries.SplitterEntry`.
    """
    parts = []
    if entry.embed_method:
        parts.append(
            f"{entry.embed_method} embedding"
            + (f" of {entry.model}" if entry.model and entry.model != "default" else "")
        )
    elif not entry.train_scores:
        parts.append("labels from a file")
    if entry.partition:
        params = entry.params or {}
        sigma = params.get("sigma")
        parts.append(
            entry.partition.upper() + (f" σ={float(sigma):g}" if sigma is not None else "")
        )
    return ", ".join(parts)


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
        line = nfc(line.strip())  # ids compare in NFC, as the study builds them
        if line in known_ids:
            sid, caption = line, ""
        else:
            sid, _, caption = line.partition(" | ")
        if sid.strip():
            out[sid.strip()] = caption.strip()
    return out
