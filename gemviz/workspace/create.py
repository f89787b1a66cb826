"""Workspaces from the files a researcher has, every file checked when it is added.

A researcher arrives with a test set, perhaps the GEM release's score files, and the result
files of their own evaluation scripts. This module turns those into a workspace (the
``workspace`` command and the Workspace page call exactly these functions):

* a splitter from a labeled file, or from a train/test pair of score files partitioned with
  GEM at once (its settings can be changed later on Score & Partition), with optional
  embeddings;
* models from result files, their field names mapped when added (:mod:`gemviz.workspace.models`);
* a whole workspace from files on disk (:func:`create_from_files`).

Every file is checked against the workspace's test set *before* anything is written or
embedded (:mod:`gemviz.workspace.files`): a file of other samples is refused with the counts
missing on each side and a few examples, every refused file of a submission is named in one
message, and a workspace that cannot be completed is not left half made.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gemviz.data.chat import with_text
from gemviz.data.clusters import resolve
from gemviz.data.errors import GemvizError
from gemviz.data.fields import ID, SCORE
from gemviz.data.ids import align, sample_ids
from gemviz.data.loaders import load_labeled, load_scores
from gemviz.data.read import peek_fields, read_records
from gemviz.scoring.store import load_embeddings
from gemviz.scoring.training import score_training_set
from gemviz.splitters import make_splitter
from gemviz.splitters.gem_fits import fitted_gem
from gemviz.workspace.entries import SplitterEntry, _abs, check_name
from gemviz.workspace.files import Checks, adopt, check_ids, reference
from gemviz.workspace.models import ModelPlan, commit_model, plan_model
from gemviz.workspace.store import Workspace, check_image_root, staged_workspace

# -- splitters --------------------------------------------------------------------------------

#: How a training set's splitter partitions the test entries, by default.
TRAIN_METHOD = "knn"
#: The methods offered for training sets.
TRAIN_METHODS = ("knn", "gem")


def check_train_method(method: str) -> str:
    """``method`` when it is one of :data:`TRAIN_METHODS`.

    Raises:
        GemvizError: Another method.
    """
    if method not in TRAIN_METHODS:
        raise GemvizError(
            f"unknown training-set method '{method}'; use one of {', '.join(TRAIN_METHODS)}"
        )
    return method


@dataclass
class SplitterPlan:
    """A checked splitter, ready to be written (:func:`commit_splitter`)."""

    name: str
    labeled: str | None = None
    train_scores: str | None = None
    test_scores: str | None = None
    train_embeddings: str | None = None
    test_embeddings: str | None = None
    is_id: np.ndarray | None = None
    params: dict[str, Any] = field(default_factory=dict)
    method: str = "gem"


def gem_labels(
    train_scores: np.ndarray, test_scores: np.ndarray, **params: Any
) -> tuple[np.ndarray, dict[str, Any]]:
    """GEM's ID flags of the test scores from a fit on the train scores (as on the page).

    Args:
        train_scores, test_scores: Input scores.
        **params: GEM settings; the others (and ``None`` values) keep the registry's defaults.

    Returns:
        ``(is_id, params)`` with every setting used (``None`` ones left out).

    Raises:
        GemvizError: Bad scores or settings.
    """
    gem = fitted_gem(train_scores, **params)  # kept in the cache: the report draws this fit
    used = {k: v for k, v in gem.get_params().items() if v is not None}
    return gem.predict(np.asarray(test_scores, dtype=float)), used


def embedding_labels(
    method: str, train: np.ndarray, test: np.ndarray, **params: Any
) -> tuple[np.ndarray, dict[str, Any]]:
    """The ID flags of an embedding splitter (e.g. ``knn``) fitted on ``train``, and its settings.

    Raises:
        GemvizError: Bad embeddings or settings.
    """
    splitter = make_splitter(method, **params).fit(train)
    used = {k: v for k, v in splitter.get_params().items() if v is not None}
    return splitter.predict(test), used


def plan_splitter(
    name: str,
    ref: tuple[list[str], str] | None,
    *,
    labeled: str | None = None,
    train_scores: str | None = None,
    test_scores: str | None = None,
    train_embeddings: str | None = None,
    test_embeddings: str | None = None,
    params: Mapping[str, Any] | None = None,
    method: str = "gem",
) -> SplitterPlan:
    """Check a splitter's files against the test set; partition a score pair with GEM.

    With ``method`` an embedding splitter (``knn``), the pair is partitioned from the
    embedding files instead (both are then required).

    Args:
        name: The splitter's name.
        ref: :func:`reference` of the workspace (None: nothing to check against).
        labeled: A labeled test file (``label`` = ID/OOD), or None for a score pair.
        train_scores, test_scores: The GEM-format score files (``input_score`` per record).
        train_embeddings, test_embeddings: Optional ``.npz`` files (``ids``, ``embeddings``).
        params: Settings overriding the registry's defaults.
        method: ``"gem"`` (input scores) or an embedding splitter of the registry.

    Returns:
        The plan; nothing is written.

    Raises:
        GemvizError: No usable files, a file is unreadable, or its samples differ from the
            test set's.
    """
    name = check_name(name, "splitter")
    plan = SplitterPlan(name, labeled, train_scores, test_scores, method=method)
    if labeled:
        check_ids(load_labeled(labeled)[ID].tolist(), ref, labeled)
    elif train_scores and test_scores:
        train = load_scores(train_scores)
        test = load_scores(test_scores)
        check_ids(test[ID].tolist(), ref, test_scores)
        if method == "gem":
            plan.is_id, plan.params = gem_labels(
                train[SCORE].to_numpy(), test[SCORE].to_numpy(), **dict(params or {})
            )
        elif not test_embeddings:
            raise GemvizError(f"splitter '{name}': the '{method}' method needs embedding files")
    else:
        raise GemvizError(
            f"splitter '{name}': give a labeled test file, or a train and a test score file"
        )
    if bool(train_embeddings) != bool(test_embeddings):
        raise GemvizError(f"splitter '{name}': give both embedding files (train and test) or none")
    if test_embeddings:
        test_ids, test_emb = load_embeddings(test_embeddings)
        check_ids(test_ids, ref, test_embeddings)
        train_ids, train_emb = load_embeddings(train_embeddings)
        if train_emb.shape[1] != test_emb.shape[1]:
            raise GemvizError(
                f"train embeddings have {train_emb.shape[1]} dimensions, test embeddings "
                f"{test_emb.shape[1]}; use files from the same scoring run",
                file=train_embeddings,
            )
        if train_scores:
            align(sample_ids(read_records(train_scores), train_scores), train_ids,
                  train_scores, train_embeddings)  # fmt: skip
        plan.train_embeddings, plan.test_embeddings = train_embeddings, test_embeddings
        if method != "gem" and test_scores:
            order = align(test[ID].tolist(), test_ids, test_scores, test_embeddings)
            plan.is_id, plan.params = embedding_labels(
                method, train_emb, test_emb[order], **dict(params or {})
            )
    return plan


def commit_splitter(ws: Workspace, plan: SplitterPlan, replace: bool = False) -> SplitterEntry:
    """Write a checked splitter into the workspace (staged uploads move in first)."""
    paths = {
        k: adopt(ws, getattr(plan, k))
        for k in ("labeled", "train_scores", "test_scores", "train_embeddings", "test_embeddings")
    }
    if plan.is_id is not None:
        return ws.save_partition(
            plan.name,
            paths["test_scores"],
            plan.is_id,
            replace=replace,
            train_scores=paths["train_scores"],
            train_embeddings=paths["train_embeddings"],
            test_embeddings=paths["test_embeddings"],
            partition=plan.method,
            params=plan.params,
        )
    entry = SplitterEntry(name=plan.name, partition=None, **paths)
    ws.add_splitter(entry, replace=replace)
    return entry


def add_splitter(
    ws: Workspace,
    name: str,
    replace: bool = False,
    training_set: str | None = None,
    text: str = "first",
    train_method: str = TRAIN_METHOD,
    **files: Any,
) -> SplitterEntry:
    """Check and add a splitter (see :func:`plan_splitter` for the arguments).

    With ``training_set`` the workspace's test set is embedded with that training set's
    prompts (:func:`gemviz.scoring.training.score_training_set`, text ``first`` or ``all``)
    and partitioned with ``train_method``: ``knn`` (default: covered or not, see
    :mod:`gemviz.splitters.knn`) or ``gem`` (the input score, distance to the set's centroid).
    """
    if not replace and name.strip() in [s.name for s in ws.splitters]:
        raise GemvizError(f"this workspace already has a splitter called '{name.strip()}'")
    if training_set:
        if not ws.test:
            raise GemvizError("scoring a training set needs the workspace's test set")
        files = dict(score_training_set(training_set, ws.test, text)._asdict())
        files["method"] = check_train_method(train_method)
    return commit_splitter(ws, plan_splitter(name, reference(ws), **files), replace=replace)


def score_files_in(ws: Workspace) -> dict[str, tuple[str, str]]:
    """Workspace files that already hold ``input_score``, as (train, test) pairs to partition.

    The test file is offered with the train file when both hold scores, else with itself (a
    quick look: the mixture is then fitted on the test scores). Only the files' first records
    are read (:func:`gemviz.data.read.peek_fields`), so this stays quick at any size.
    """

    def has_scores(path: str | None) -> bool:
        if not path or not Path(path).is_file():
            return False
        try:
            return SCORE in peek_fields(path)
        except GemvizError:
            return False

    if not has_scores(ws.test):
        return {}
    if has_scores(ws.train):
        return {"workspace train + test scores": (ws.train, ws.test)}
    return {"workspace test scores (fitted on the test set itself)": (ws.test, ws.test)}


def entry_tables(ws: Workspace):
    """The workspace's splitters and models as two short tables (file names, not paths)."""
    splitters = pd.DataFrame(
        [
            {
                "splitter": s.name,
                "from": s.partition or "labeled file",
                "labeled file": Path(s.labeled).name,
                "scores": Path(s.test_scores).name if s.test_scores else "",
                "embeddings": "yes" if s.test_embeddings else "",
            }
            for s in ws.splitters
        ],
        columns=["splitter", "from", "labeled file", "scores", "embeddings"],
    )
    models = pd.DataFrame(
        [
            {
                "model": m.name,
                "results": Path(m.source or m.results).name
                + (f" (+{len(m.runs)} more runs)" if m.runs else ""),
                "predictions": m.pred_field if m.predictions else "",
                "matches": f"rules: {m.rules}"
                if m.rules
                else " / ".join(f for f in (m.type_field, m.exact_field) if f) or "as named",
            }
            for m in ws.models
        ],
        columns=["model", "results", "predictions", "matches"],
    )
    return splitters, models


# -- whole workspaces -------------------------------------------------------------------------


@dataclass
class _Inputs:
    """The files of a workspace to be made (see :func:`create_from_files`)."""

    test: str
    splits: dict[str, str]
    scores: dict[str, tuple[str, str | None]]
    embeddings: dict[str, tuple[str, str]]
    models: dict[str, str | list[str]]
    mappings: dict[str, Mapping[str, Any]]

    def count(self, *more: Mapping[str, Any]) -> int:
        """How many files are given (each run of a model counts)."""
        n = 1 + len(self.splits) + 2 * (len(self.scores) + len(self.embeddings))
        n += sum(1 if isinstance(f, str) else len(f) for f in self.models.values())
        return n + sum(len(m) for m in more)


def _texts(path: str, text: str) -> list[dict[str, Any]]:
    """A training set's records with the text to embed (read, not embedded)."""
    return with_text(read_records(path), str(path), text)


def _check_inputs(
    inputs: _Inputs,
    test_records: list[dict[str, Any]],
    cluster_by: str,
    train: str | None,
    training_sets: Mapping[str, str],
    text: str,
) -> tuple[list[SplitterPlan], list[ModelPlan]]:
    """Check every file of a new workspace, the refusals named together.

    Nothing slow happens here: training sets are read (their texts found) but not embedded,
    so a bad score file is refused before minutes of model work.

    Raises:
        GemvizError: One file refused.
        GemvizBatchError: Several files refused, each named.
    """
    test = inputs.test
    ref = (sample_ids(test_records, test), test)
    checks = Checks(inputs.count(training_sets, {"train": train} if train else {}))
    checks.run(resolve, pd.DataFrame.from_records(test_records), cluster_by)
    if train:
        checks.run(read_records, train)
    for path in training_sets.values():
        checks.run(_texts, path, text)
    plans = []
    for split_name, labeled in inputs.splits.items():
        emb = inputs.embeddings.get(split_name, (None, None))
        plans.append(checks.run(plan_splitter, split_name, ref, labeled=labeled,
                                train_embeddings=emb[0], test_embeddings=emb[1]))  # fmt: skip
    for split_name, (tr, te) in inputs.scores.items():
        emb = inputs.embeddings.get(split_name, (None, None))
        plans.append(checks.run(plan_splitter, split_name, ref, train_scores=tr,
                                test_scores=te or test, train_embeddings=emb[0],
                                test_embeddings=emb[1]))  # fmt: skip
    model_plans = [
        checks.run(plan_model, m, path, ref, test, **inputs.mappings.get(m, {}))
        for m, path in inputs.models.items()
    ]
    checks.done()
    return plans, model_plans


def create_from_files(
    name: str,
    test: str,
    *,
    train: str | None = None,
    image_root: str | None = None,
    cluster_by: str = "auto",
    splits: Mapping[str, str] | None = None,
    scores: Mapping[str, tuple[str, str]] | None = None,
    embeddings: Mapping[str, tuple[str, str]] | None = None,
    models: Mapping[str, str | list[str]] | None = None,
    model_mappings: Mapping[str, Mapping[str, Any]] | None = None,
    training_sets: Mapping[str, str] | None = None,
    text: str = "first",
    train_method: str = TRAIN_METHOD,
) -> Workspace:
    """Make a workspace from files on disk; every file is checked before anything is written.

    Args:
        name: Display name (its slug, made unique, names the folder).
        test: The test-set record file (the reference every other file must match).
        train: The train-set record file, for scoring later.
        image_root: Folder for relative ``image_path`` values.
        cluster_by: How steps group into clusters (:func:`gemviz.data.clusters.resolve`).
        splits: Splitter name -> labeled test file.
        scores: Splitter name -> (train score file, test score file), partitioned with GEM.
        embeddings: Splitter name -> (train ``.npz``, test ``.npz``), for a splitter above.
        models: Model name -> result file, or a list of files, one per run.
        model_mappings: Model name -> :func:`plan_model` mapping arguments.
        training_sets: Splitter name -> a training set; the test entries are embedded with
            its prompts by the packaged sentence model
            (:func:`gemviz.scoring.training.score_training_set`) and partitioned with
            ``train_method``.
        text: For training sets and test entries that are conversations: ``"first"`` user
            message (default) or ``"all"`` joined.

    Returns:
        The saved workspace.

    Raises:
        GemvizError: Any file is unreadable or does not match the test set; no workspace
            folder is left behind and nothing is embedded.
        GemvizBatchError: Several files are refused: each is named (every file is checked
            before any training set is embedded).
    """
    splits, scores = dict(splits or {}), dict(scores or {})
    embeddings, models = dict(embeddings or {}), dict(models or {})
    training_sets = dict(training_sets or {})
    _check_request(name, test, image_root, [*splits, *scores, *training_sets], embeddings)
    check_train_method(train_method)
    test_records = read_records(test)
    inputs = _Inputs(test, splits, scores, embeddings, models, dict(model_mappings or {}))
    plans, model_plans = _check_inputs(inputs, test_records, cluster_by, train, training_sets, text)
    # Only now the slow work: every file has been checked above.
    ref = (sample_ids(test_records, test), test)
    for set_name, path in training_sets.items():
        found = score_training_set(path, test, text)
        plans.append(plan_splitter(set_name, ref, train_scores=found.train_scores,
                                   test_scores=found.test_scores,
                                   train_embeddings=found.train_embeddings,
                                   test_embeddings=found.test_embeddings,
                                   method=train_method))  # fmt: skip
    # Built in a hidden folder and renamed into place: a kill leaves nothing half made.
    with staged_workspace(name) as ws:
        ws.test, ws.train = _abs(test), _abs(train)
        ws.image_root = _abs(image_root)
        ws.test, ws.train = adopt(ws, ws.test), adopt(ws, ws.train)
        ws.cluster_by = cluster_by or "auto"
        ws.save()
        for plan in plans:
            commit_splitter(ws, plan)
        for plan in model_plans:
            commit_model(ws, plan)
        if ws.splitters:
            ws.study()  # cluster_by and everything else load together
    return ws


def _check_request(
    name: str,
    test: str,
    image_root: str | None,
    splitter_names: list[str],
    embeddings: Mapping[str, tuple[str, str]],
) -> None:
    """Refuse a workspace request that cannot work, before any file is read."""
    if not name or not name.strip():
        raise GemvizError("a workspace needs a non-empty name")
    if not test:
        raise GemvizError("a workspace needs its test-set file")
    check_image_root(image_root)
    dupes = sorted({n for n in splitter_names if splitter_names.count(n) > 1})
    if dupes:
        raise GemvizError(f"splitter name given twice: {', '.join(dupes)}")
    unknown = sorted(set(embeddings) - set(splitter_names))
    if unknown:
        raise GemvizError(f"embeddings for no splitter of that name: {', '.join(unknown)}")
