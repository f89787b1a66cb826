"""Cached wrappers around backend calls: the dashboard's only ``st.cache_*`` functions.

Each wrapper is a one-liner around a gemviz function. Study-level wrappers take the
workspace's ``workspace.json`` path plus its :meth:`~gemviz.workspace.store.Workspace.fingerprint`
rather than the study itself, so a cache key is a few bytes to hash and changes whenever a
file the workspace names changes. To add a wrapper, follow the same pattern.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import streamlit as st

from gemviz.analysis import explain, findings, overlap, runs, samples, slices, tables
from gemviz.analysis import training_sets as coverage_sets
from gemviz.analysis.conversation import answers_file, run_table
from gemviz.analysis.findings_coverage import agreement_finding
from gemviz.analysis.neighbours import cached_neighbours
from gemviz.analysis.partition import score_values, source_inputs
from gemviz.analysis.projection import project_files
from gemviz.analysis.step import load_predictions
from gemviz.data import bfcl, clusters, loaders
from gemviz.data.errors import GemvizError
from gemviz.data.study import Study
from gemviz.figures import step, venn
from gemviz.figures.export import figure_png, figure_svg
from gemviz.scoring import store
from gemviz.splitters import Splitter, make_splitter
from gemviz.splitters.gem_fits import fitted_gem
from gemviz.stats import default_margin
from gemviz.workspace import summary
from gemviz.workspace.configs import configurations
from gemviz.workspace.entries import ScoreSource
from gemviz.workspace.store import Workspace


@st.cache_resource(
    max_entries=8,
    show_spinner="Reading the workspace's files (once per server; large studies take a while)…",
)
def load_study(workspace_json: str, fingerprint: str) -> Study:
    """The workspace's study (shared, read-only: pages must not modify it).

    What the loaders flag without refusing (e.g. ``exact_match`` = 1 where ``type_match`` =
    0) is in ``study.warnings`` for :func:`gemviz.ui.page.study_or_error` to show.
    """
    return Workspace.load(Path(workspace_json).parent).study()


@st.cache_resource(max_entries=16, show_spinner="Reading a score file…")
def load_scores(path: str, stamp: tuple) -> pd.DataFrame:
    """A score file as loaded by :func:`gemviz.data.loaders.load_scores` (shared, read-only:
    a copy per rerun would cost as much as the page's own work on large files).

    ``stamp`` is the file's own :func:`~gemviz.analysis.explain.file_stamp`, so every caller
    of one file shares one copy.
    """
    return loaders.load_scores(path)


def score_frame(path: str) -> pd.DataFrame:
    """:func:`load_scores` keyed by the file's stamp."""
    return load_scores(path, explain.file_stamp(path))


@st.cache_data(max_entries=32, show_spinner="Counting a splitter's ID and OOD steps…")
def label_counts(labeled: str, stamp: tuple) -> tuple[int, int]:
    """``(ID steps, OOD steps)`` of a labeled file (:func:`gemviz.workspace.summary.label_counts`),
    keyed by that file's stamp."""
    return summary.label_counts(labeled)


def splitter_counts(entry) -> tuple[int, int]:
    """:func:`label_counts` of a splitter entry's labeled file."""
    return label_counts(entry.labeled, explain.file_stamp(entry.labeled))


@st.cache_data(max_entries=16, show_spinner="Reading the train scores…")
def train_scores(path: str, stamp: tuple) -> np.ndarray:
    """A splitter's train input scores (:func:`gemviz.analysis.explain.train_score_values`).

    Keyed by that file's own stamp (:func:`~gemviz.analysis.explain.file_stamp`), not the
    workspace's, and returned as a fresh copy on every call: the Step page's percentiles are
    computed from the file's exact values each time, whatever another page did with a frame
    it was handed.
    """
    return explain.train_score_values(path)


@st.cache_resource(max_entries=8, show_spinner="Reading the embeddings…")
def load_embeddings(path: str) -> np.ndarray:
    """The embedding matrix of an ``.npz`` file written by scoring (shared, read-only)."""
    return store.load_embeddings(path)[1]


@st.cache_resource(max_entries=16, show_spinner="Reading the splitter's train and test inputs…")
def splitter_inputs(source: ScoreSource, kind: str, stamp: tuple) -> tuple[np.ndarray, np.ndarray]:
    """:func:`gemviz.analysis.partition.source_inputs` (shared, read-only).

    ``stamp`` is :func:`gemviz.analysis.partition.source_stamp`: a rewritten file is read again.
    Scores come from the score files' cached frames (:func:`score_frame`), which the page
    shows as well: each file is read once.
    """
    if kind == "scores":
        train, test = score_frame(source.train_scores), score_frame(source.test_scores)
        return score_values(train), score_values(test)
    return source_inputs(source, kind)


@st.cache_resource(max_entries=16, show_spinner="Fitting the splitter on the train inputs…")
def fitted_splitter(method: str, fit_params: tuple, source: ScoreSource, stamp: tuple) -> Splitter:
    """A registered splitter fitted on ``source``'s train inputs (shared, read-only).

    ``fit_params`` are the sorted items of the parameters the fit depends on
    (:func:`gemviz.splitters.split_params`); move the others with ``with_params``, which
    copies, so the cached fit stays as it is. A GEM fit made before on the same scores and
    settings (when the splitter was made, or by the report) is read back, not fitted again.
    """
    splitter = make_splitter(method, **dict(fit_params))
    train = splitter_inputs(source, splitter.input, stamp)[0]
    if method == "gem":
        return fitted_gem(train, **dict(fit_params))
    return splitter.fit(train)


# A table for a choice of models is assembled from one table per splitter for every model of
# the study (cached): the adjusted p-values already span every model, so a change of the
# chosen models only picks rows (tables.select_models) and computes nothing.


@st.cache_data(
    max_entries=64,
    show_spinner="Testing ID against OOD for every model of one splitter (permutations of whole clusters)…",
)
def _id_ood_part(workspace_json: str, fingerprint: str, splitter: str, adjust: str):
    study = load_study(workspace_json, fingerprint)
    return tables.id_ood_table(study, [splitter], None, adjust=adjust)


def id_ood_table(
    workspace_json: str, fingerprint: str, splitters: tuple, models: tuple, adjust: str = "holm"
):
    """:func:`gemviz.analysis.tables.id_ood_table` of the workspace's study."""
    study = load_study(workspace_json, fingerprint)
    study.check_splitters(list(splitters))
    parts = [_id_ood_part(workspace_json, fingerprint, s, adjust) for s in splitters]
    return tables.select_models(parts, models or study.models, study)


@st.cache_data(
    max_entries=64,
    show_spinner="Testing the model × split interaction for one splitter (permutations of whole clusters)…",
)
def _interaction_part(
    workspace_json: str,
    fingerprint: str,
    splitter: str,
    adjust: str,
    margin: float,
    models: tuple | None = None,
    baseline: str | None = None,
):
    study = load_study(workspace_json, fingerprint)
    return tables.interaction_table(
        study, [splitter], models, adjust=adjust, margin=margin, baseline=baseline
    )


def interaction_table(
    workspace_json: str,
    fingerprint: str,
    splitters: tuple,
    models: tuple,
    adjust: str = "holm",
    margin: float = 0.05,
    baseline: str | None = None,
):
    """:func:`gemviz.analysis.tables.interaction_table` of the workspace's study: each of
    ``models`` against ``baseline`` when it is among them (that family adjusted), else every
    pair (adjusted over the study's pairs, computed once per splitter)."""
    study = load_study(workspace_json, fingerprint)
    study.check_splitters(list(splitters))
    models = tuple(dict.fromkeys(models or study.models))
    if len(models) < 2:
        raise GemvizError("the interaction needs at least two different models")
    if baseline in models:
        study.check_models(list(models))
        parts = [
            _interaction_part(workspace_json, fingerprint, s, adjust, margin, models, baseline)
            for s in splitters
        ]
        return pd.concat(parts, ignore_index=True)
    parts = [_interaction_part(workspace_json, fingerprint, s, adjust, margin) for s in splitters]
    return tables.select_models(parts, models, study)


@st.cache_data(max_entries=32, show_spinner="Comparing the two models step by step…")
def paired_comparison(
    workspace_json: str,
    fingerprint: str,
    a: str,
    b: str,
    metric: str,
    splitter: str | None,
    adjust: str = "holm",
) -> pd.DataFrame:
    """:func:`gemviz.analysis.tables.paired_comparison` of the workspace's study."""
    study = load_study(workspace_json, fingerprint)
    return tables.paired_comparison(study, a, b, metric, splitter=splitter, adjust=adjust)


@st.cache_data(max_entries=32, show_spinner="Counting where the splitters' sets overlap…")
def venn_regions(workspace_json: str, fingerprint: str, splitters: tuple, label: str):
    """:func:`gemviz.analysis.overlap.venn_regions` of the workspace's study."""
    return overlap.venn_regions(load_study(workspace_json, fingerprint), list(splitters), label)


@st.cache_data(max_entries=32, show_spinner="Counting where the splitters agree…")
def overlap_notes(workspace_json: str, fingerprint: str, splitters: tuple) -> tuple[list, str]:
    """The Overlap page's notes on empty sets (:func:`gemviz.analysis.findings.empty_sets`)
    and its agreement line (:func:`gemviz.analysis.findings_coverage.agreement_finding`)."""
    labels = load_study(workspace_json, fingerprint).labels
    return findings.empty_sets(labels, list(splitters)), agreement_finding(labels, list(splitters))


@st.cache_data(
    max_entries=32,
    show_spinner="Testing where the two splitters disagree (permutations of whole clusters)…",
)
def set_difference(
    workspace_json: str,
    fingerprint: str,
    a: str,
    b: str,
    metric: str,
    adjust: str = "holm",
    margin: float = 0.05,
):
    """:func:`gemviz.analysis.overlap.set_difference` of the workspace's study (permutations, cached)."""
    study = load_study(workspace_json, fingerprint)
    return overlap.set_difference(study, a, b, metric=metric, adjust=adjust, margin=margin)


@st.cache_data(max_entries=32, show_spinner=False)
def venn_images(
    counts: tuple, names: tuple, title: str, proportional: bool = True
) -> tuple[bytes, bytes]:
    """PNG and SVG bytes of a Venn diagram; ``counts`` is a tuple of (members, count)."""
    fig = venn.venn_figure(dict(counts), list(names), title, proportional=proportional)
    try:
        return figure_png(fig), figure_svg(fig)
    finally:
        plt.close(fig)


@st.cache_resource(max_entries=8, show_spinner="Building the sample table…")
def sample_table(workspace_json: str, fingerprint: str) -> pd.DataFrame:
    """:func:`gemviz.analysis.samples.sample_table` of the workspace's study (shared, read-only)."""
    return samples.sample_table(load_study(workspace_json, fingerprint))


@st.cache_resource(max_entries=16, show_spinner="Reading the model's predictions…")
def predictions(path: str, field: str, fingerprint: str) -> dict:
    """A model's raw predictions by sample id (:func:`gemviz.analysis.step.load_predictions`)."""
    return load_predictions(path, field)


@st.cache_resource(max_entries=8, show_spinner="Reading the embeddings…")
def embeddings(path: str, fingerprint: str) -> tuple[list[str], np.ndarray]:
    """Ids and matrix of an embeddings ``.npz`` (shared, read-only)."""
    return store.load_embeddings(path)


@st.cache_resource(max_entries=8, show_spinner=False)
def cached_projection(test: str, train: str | None, fingerprint: str, params):
    """A projection already on disk for these embeddings and parameters, else None."""
    return project_files(test, params, train_embeddings=train, compute=False)


@st.cache_resource(max_entries=8, show_spinner=False)
def projection(test: str, train: str | None, fingerprint: str, params, _progress=None):
    """:func:`gemviz.analysis.projection.project_files`, computed once (then disk-cached)."""
    return project_files(test, params, train_embeddings=train, progress=_progress)


@st.cache_resource(max_entries=8, show_spinner=False)
def test_neighbours(train: str, test: str, fingerprint: str, k: int = 5):
    """:func:`gemviz.analysis.neighbours.cached_neighbours` of a splitter's embeddings (shared)."""
    return cached_neighbours(train, test, k=k)


@st.cache_resource(max_entries=4, show_spinner="Reading the train records…")
def train_records(path: str, fingerprint: str) -> pd.DataFrame:
    """:func:`gemviz.analysis.explain.train_records` (shared, read-only)."""
    return explain.train_records(path)


@st.cache_data(max_entries=1024, show_spinner=False)
def thumbnail(path: str, image_root: str | None) -> bytes:
    """:func:`gemviz.figures.step.thumbnail` of a screenshot."""
    return step.thumbnail(path, image_root)


@st.cache_data(max_entries=8, show_spinner=False)
def slice_fields(workspace_json: str, fingerprint: str) -> list[str]:
    """:func:`gemviz.analysis.slices.slice_fields` of the workspace's study."""
    return slices.slice_fields(load_study(workspace_json, fingerprint))


@st.cache_data(max_entries=64, show_spinner="Computing ID and OOD means by slice for one splitter…")
def _slices_part(workspace_json: str, fingerprint: str, by: str, splitter: str, metric: str):
    study = load_study(workspace_json, fingerprint)
    return slices.slices_table(study, by, [splitter], None, (metric,))


def slices_table(
    workspace_json: str, fingerprint: str, by: str, splitters: tuple, models: tuple, metric: str
) -> pd.DataFrame:
    """:func:`gemviz.analysis.slices.slices_table` of the workspace's study."""
    study = load_study(workspace_json, fingerprint)
    study.check_splitters(list(splitters))
    parts = [_slices_part(workspace_json, fingerprint, by, s, metric) for s in splitters]
    if not any(len(p) for p in parts):
        return pd.DataFrame(columns=slices.COLUMNS)
    return tables.select_models(parts, models or study.models, study)


@st.cache_data(max_entries=32, show_spinner="Listing the test set's clusters…")
def cluster_choices(workspace_json: str, fingerprint: str) -> list[str]:
    """:func:`gemviz.data.clusters.choices` of the workspace's test records."""
    return clusters.choices(load_study(workspace_json, fingerprint).samples)


@st.cache_data(max_entries=4, show_spinner="Reading the models' run files…")
def run_tables(workspace_json: str, fingerprint: str) -> dict[str, list[dict]]:
    """Each model's runs as :func:`gemviz.analysis.conversation.run_table` dicts."""
    ws = Workspace.load(Path(workspace_json).parent)
    ids = ws.test_ids()
    return {m.name: [run_table(p, ids, ws.test) for p in m.run_files()] for m in ws.models}


@st.cache_data(max_entries=4, show_spinner="Reading the ground-truth answers…")
def possible_answers(test: str | None, fingerprint: str) -> dict:
    """BFCL's ground truth beside the test file (empty when there is none)."""
    path = answers_file(test)
    return bfcl.possible_answers(path) if path is not None else {}


@st.cache_data(max_entries=64, show_spinner="Summarising one configuration's runs…")
def _runs_of_model(
    workspace_json: str, fingerprint: str, metric: str, model: str, splitter: str | None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    study = load_study(workspace_json, fingerprint)
    return (
        runs.run_points(study, metric, [model], splitter),
        runs.run_summary(study, metric, [model], splitter),
    )


@st.cache_data(max_entries=512, show_spinner="Comparing two configurations' runs…")
def _runs_pair(
    workspace_json: str,
    fingerprint: str,
    metric: str,
    pair: tuple[str, str],
    splitter: str | None,
) -> pd.DataFrame:
    # One comparison's tests; the family they belong to is judged once the rows are assembled.
    return runs.pair_rows(load_study(workspace_json, fingerprint), metric, *pair, splitter)


def runs_board(
    workspace_json: str,
    fingerprint: str,
    metric: str,
    models: tuple,
    splitter: str | None,
    adjust: str,
    baseline: str | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The runs board's frames: per-run points, the per-model summary, the pairs compared
    (each configuration against ``baseline`` when it is among ``models``, else every pair).

    Each model's rows and each comparison's tests are cached on their own, so choosing other
    models only assembles them; the family shown is then adjusted and judged as one.
    """
    study = load_study(workspace_json, fingerprint)
    study.check_models(list(models))
    chosen = list(dict.fromkeys(models))
    if not chosen:
        empty = (runs.POINT_COLUMNS, runs.SUMMARY_COLUMNS, runs.PAIR_COLUMNS)
        return tuple(pd.DataFrame(columns=c) for c in empty)
    per_model = [_runs_of_model(workspace_json, fingerprint, metric, m, splitter) for m in chosen]
    points = pd.concat([p for p, _ in per_model], ignore_index=True)
    summary = pd.concat([s for _, s in per_model], ignore_index=True)
    base = baseline if baseline in chosen and len(chosen) > 1 else None
    pairs = runs.comparisons(chosen, base)
    if not pairs:
        return points, summary, pd.DataFrame(columns=runs.PAIR_COLUMNS)
    rows = pd.concat(
        [_runs_pair(workspace_json, fingerprint, metric, pair, splitter) for pair in pairs]
    )
    margin = default_margin(metric)
    return (
        points,
        summary,
        runs.judge_pairs(rows, study, splitter, adjust, margin, base, len(pairs)),
    )


@st.cache_resource(max_entries=4, show_spinner="Measuring the training sets against the test set…")
def training_sets(workspace_json: str, fingerprint: str, k: int, rule: str):
    """:func:`gemviz.analysis.training_sets.training_sets` of the workspace (shared, read-only)."""
    ws = Workspace.load(Path(workspace_json).parent)
    study = load_study(workspace_json, fingerprint)
    answers = possible_answers(ws.test, fingerprint) or None
    return coverage_sets.training_sets(study, coverage_sets.training_entries(ws), answers, k, rule)


@st.cache_data(max_entries=16, show_spinner="Comparing gains on covered and uncovered entries…")
def coverage_comparison(
    workspace_json: str, fingerprint: str, k: int, rule: str, baseline: str, metric: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The decisive rows and each gain's interval (:mod:`gemviz.analysis.training_sets`), each
    configuration on the set the configuration table says it was trained on."""
    study = load_study(workspace_json, fingerprint)
    found = training_sets(workspace_json, fingerprint, k, rule)
    ws = Workspace.load(Path(workspace_json).parent)
    trained = coverage_sets.trained_on(found.names, configurations(ws))
    return (
        coverage_sets.decisive(study, found, baseline, metric, trained),
        coverage_sets.gain_rows(study, found, baseline, metric, trained),
    )
