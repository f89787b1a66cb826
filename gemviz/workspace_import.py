"""Workspaces from the files a researcher has, every file checked when it is added.

A researcher arrives with a test set, perhaps the GEM release's score files, and the result
files of their own evaluation scripts. This module turns those into a workspace (the
``workspace`` command and the Workspace page call exactly these functions):

* a splitter from a labeled file, or from a train/test pair of score files partitioned with
  GEM at once (its settings can be changed later on Score & Partition), with optional
  embeddings;
* a model from a result file whose field names are mapped when it is added (match fields
  under other names, or predictions matched on the fly against the test set's ground truth
  with a rule set of :mod:`gemviz.actions`); the mapping is stored in ``workspace.json``.

Every file is checked against the workspace's test set *before* anything is written: a file
of other samples is refused with the counts missing on each side and a few examples
(:func:`gemviz.data.align`), and a workspace that cannot be completed is not left half made.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from gemviz.data import (
    _METRIC_ALIASES,
    EXACT_MATCH,
    ID,
    SCORE,
    TYPE_MATCH,
    align,
    load_labeled,
    load_scores,
    sample_ids,
)
from gemviz.errors import GemvizError
from gemviz.io import read_records, write_records
from gemviz.paths import cache_dir
from gemviz.workspace import (
    ModelEntry,
    SplitterEntry,
    Workspace,
    create_workspace,
    slugify,
    store_upload,
)

#: GEM settings used when a splitter is made from a score pair (changeable on the page).
GEM_DEFAULTS = {"sigma": 2.0, "max_components": 19, "random_state": 42}
PREDICTION = "prediction"


# -- the reference: the workspace's test set --------------------------------------------------


def reference(ws: Workspace) -> tuple[list[str], str] | None:
    """The sample ids every file must match and the name of the file they come from.

    The workspace's test file when it has one, else its first splitter's labeled file, else
    None (the first file added becomes the reference).
    """
    if ws.test and Path(ws.test).is_file():
        return sample_ids(read_records(ws.test), ws.test), ws.test
    if ws.splitters:
        first = ws.splitters[0].labeled
        return load_labeled(first)[ID].tolist(), first
    return None


def check_ids(ids: Sequence[str], ref: tuple[list[str], str] | None, file: str) -> None:
    """Refuse ``file`` unless its sample ids are the reference's (any order).

    Raises:
        GemvizError: Counts missing on each side and a few examples of each.
    """
    if ref is not None:
        align(ref[0], list(ids), f"the workspace's test set ({ref[1]})", file)


def fields_of(records: Sequence[Mapping[str, Any]]) -> list[str]:
    """Every field name found in the records, in first-seen order."""
    return list(dict.fromkeys(k for r in records for k in r))


def _require_field(records, name: str, file: str, what: str) -> None:
    if not any(name in r and r[name] is not None for r in records):
        listed = ", ".join(fields_of(records)[:15])
        raise GemvizError(
            f"the {what} field '{name}' is not in this file; its fields are: {listed}",
            file=file,
        )


# -- uploads ----------------------------------------------------------------------------------


def stage_upload(filename: str, data: bytes | BinaryIO) -> Path:
    """Keep an uploaded file outside any workspace until it has been checked.

    Returns:
        Its path under ``<cache>/uploads/<hash>/<name>``; :func:`adopt` moves it into the
        workspace once it is accepted, so a refused upload leaves nothing in the workspace.
    """
    return store_upload(cache_dir("uploads"), filename, data)


def adopt(ws: Workspace, path: str | None) -> str | None:
    """Move a staged upload into the workspace folder (other paths are returned as they are)."""
    if not path:
        return path
    src = Path(path).resolve()
    staging = cache_dir("uploads").resolve()
    if staging not in src.parents:
        return path
    dest = ws.folder / "uploads" / src.relative_to(staging)
    if src.is_file():  # a file named twice (test set and test scores) moves once
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(src, dest)
    return str(dest)


# -- splitters --------------------------------------------------------------------------------


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


def gem_labels(
    train_scores: np.ndarray, test_scores: np.ndarray, **params: Any
) -> tuple[np.ndarray, dict[str, Any]]:
    """GEM's ID flags of the test scores from a fit on the train scores (as on the page).

    Returns:
        ``(is_id, params)`` with the settings used.
    """
    from gemviz.splitters.gem import fit_gmm_1d, in_intervals, merge_intervals

    p = {**GEM_DEFAULTS, **params}
    fit = fit_gmm_1d(
        np.asarray(train_scores, dtype=float),
        max_components=int(p["max_components"]),
        random_state=int(p["random_state"]),
    )
    intervals = merge_intervals(fit.means, fit.stds, float(p["sigma"]))
    return in_intervals(np.asarray(test_scores, dtype=float), intervals), p


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
) -> SplitterPlan:
    """Check a splitter's files against the test set; partition a score pair with GEM.

    Args:
        name: The splitter's name.
        ref: :func:`reference` of the workspace (None: nothing to check against).
        labeled: A labeled test file (``label`` = ID/OOD), or None for a score pair.
        train_scores, test_scores: The GEM-format score files (``input_score`` per record).
        train_embeddings, test_embeddings: Optional ``.npz`` files (``ids``, ``embeddings``).
        params: GEM settings overriding :data:`GEM_DEFAULTS`.

    Returns:
        The plan; nothing is written.

    Raises:
        GemvizError: No usable files, a file is unreadable, or its samples differ from the
            test set's.
    """
    if not name or not name.strip():
        raise GemvizError("a splitter needs a name")
    plan = SplitterPlan(name.strip(), labeled, train_scores, test_scores)
    if labeled:
        check_ids(load_labeled(labeled)[ID].tolist(), ref, labeled)
    elif train_scores and test_scores:
        train = load_scores(train_scores)
        test = load_scores(test_scores)
        check_ids(test[ID].tolist(), ref, test_scores)
        plan.is_id, plan.params = gem_labels(
            train[SCORE].to_numpy(), test[SCORE].to_numpy(), **dict(params or {})
        )
    else:
        raise GemvizError(
            f"splitter '{name}': give a labeled test file, or a train and a test score file"
        )
    if bool(train_embeddings) != bool(test_embeddings):
        raise GemvizError(f"splitter '{name}': give both embedding files (train and test) or none")
    if test_embeddings:
        from gemviz.scoring import load_embeddings

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
            partition="gem",
            params=plan.params,
        )
    entry = SplitterEntry(name=plan.name, partition=None, **paths)
    ws.add_splitter(entry, replace=replace)
    return entry


def add_splitter(ws: Workspace, name: str, replace: bool = False, **files: Any) -> SplitterEntry:
    """Check and add a splitter (see :func:`plan_splitter` for the arguments)."""
    if not replace and name.strip() in [s.name for s in ws.splitters]:
        raise GemvizError(f"this workspace already has a splitter called '{name.strip()}'")
    return commit_splitter(ws, plan_splitter(name, reference(ws), **files), replace=replace)


def score_files_in(ws: Workspace) -> dict[str, tuple[str, str]]:
    """Workspace files that already hold ``input_score``, as (train, test) pairs to partition.

    The test file is offered with the train file when both hold scores, else with itself (a
    quick look: the mixture is then fitted on the test scores).
    """

    def has_scores(path: str | None) -> bool:
        if not path or not Path(path).is_file():
            return False
        try:
            return any(SCORE in r for r in read_records(path)[:50])
        except GemvizError:
            return False

    if not has_scores(ws.test):
        return {}
    if has_scores(ws.train):
        return {"workspace train + test scores": (ws.train, ws.test)}
    return {"workspace test scores (fitted on the test set itself)": (ws.test, ws.test)}


# -- models -----------------------------------------------------------------------------------


def _has_match_fields(records, type_field: str | None, exact_field: str | None) -> bool:
    names = set(fields_of(records))
    t = {type_field} if type_field else set(_METRIC_ALIASES[TYPE_MATCH])
    e = {exact_field} if exact_field else set(_METRIC_ALIASES[EXACT_MATCH])
    return bool(names & t) and bool(names & e)


def derive_results(entry: ModelEntry, test: str | None) -> list[dict[str, Any]] | None:
    """The normalized result records of a mapped model, or None when no mapping is needed.

    Args:
        entry: The model; ``source`` (or ``results``) is the user's file.
        test: The workspace's test file (the ground truth for ``rules``).

    Raises:
        GemvizError: A mapped field is missing, or matching fails (ids differ, no ground
            truth).
    """
    path = entry.source or entry.results
    records = read_records(path)
    if entry.rules:
        from gemviz.actions import match_records

        if not test:
            raise GemvizError(
                "matching predictions needs the workspace's test set with the ground-truth "
                f"actions (field '{entry.gt_field}')"
            )
        results, _ = match_records(
            read_records(test),
            records,
            rules=entry.rules,
            gt_field=entry.gt_field,
            pred_field=entry.pred_field,
            fmt=entry.format,
            gt_file=test,
            pred_file=path,
        )
        ids = sample_ids(results, test)
        return [
            {ID: i, TYPE_MATCH: r[TYPE_MATCH], EXACT_MATCH: r[EXACT_MATCH]}
            for i, r in zip(ids, results, strict=True)
        ]
    if not entry.type_field and not entry.exact_field:
        return None
    for name, what in ((entry.type_field, "type match"), (entry.exact_field, "exact match")):
        if name:
            _require_field(records, name, path, what)
    ids = sample_ids(records, path)
    out = []
    for i, r in zip(ids, records, strict=True):
        row = {ID: i}
        row[TYPE_MATCH] = r.get(entry.type_field) if entry.type_field else r.get(TYPE_MATCH)
        row[EXACT_MATCH] = r.get(entry.exact_field) if entry.exact_field else r.get(EXACT_MATCH)
        out.append(row)
    return out


@dataclass
class ModelPlan:
    """A checked model, ready to be written (:func:`commit_model`)."""

    entry: ModelEntry
    derived: list[dict[str, Any]] | None = None


def plan_model(
    name: str,
    results: str,
    ref: tuple[list[str], str] | None,
    test: str | None,
    *,
    pred_field: str | None = None,
    type_field: str | None = None,
    exact_field: str | None = None,
    rules: str | None = None,
    gt_field: str = "action",
    fmt: str = "auto",
) -> ModelPlan:
    """Check a model's result file against the test set, with its field mapping.

    Args:
        name: The model's name.
        results: The user's result file (JSON/JSONL/CSV/parquet).
        ref: :func:`reference` of the workspace.
        test: The workspace's test file (ground truth for ``rules``).
        pred_field: Field of the raw predictions (shown on Samples, matched with ``rules``);
            None: ``prediction`` when the file has it. A named field must exist.
        type_field, exact_field: The match fields' names when they are not ``type_match``/
            ``exact_match`` (or ``type match``/``exact match``).
        rules: A rule set of :data:`gemviz.actions.RULES` to compute the matches from the
            predictions; None: the file must hold the match fields. When the file has
            predictions but no match fields, a rule set is required.
        gt_field: Field of the ground-truth action in the test file (with ``rules``).
        fmt: Format of the predictions (``auto`` or a parser name).

    Returns:
        The plan; nothing is written.

    Raises:
        GemvizError: A field is missing, the matches cannot be read, or the file's samples
            differ from the test set's.
    """
    from gemviz.data import load_results

    if not name or not name.strip():
        raise GemvizError("a model needs a name")
    if not results:
        raise GemvizError(f"model '{name}': give its result file")
    records = read_records(results)
    if pred_field:
        _require_field(records, pred_field, results, "prediction")
    elif any(PREDICTION in r for r in records[:50]):
        pred_field = PREDICTION
    if rules:
        from gemviz.actions import RULES

        if rules not in RULES:
            raise GemvizError(f"unknown rule set '{rules}'; use one of {', '.join(RULES)}")
        if not pred_field:
            raise GemvizError(
                "matching with a rule set needs the predictions' field (e.g. 'prediction')",
                file=results,
            )
    elif not _has_match_fields(records, type_field, exact_field):
        hint = (
            f"; it has predictions ('{pred_field}'): choose a rule set to match them"
            if pred_field
            else ""
        )
        raise GemvizError(
            "no type/exact match fields (type_match/exact_match, 'type match'/'exact match'); "
            f"map them to this file's fields{hint}. Its fields: "
            + ", ".join(fields_of(records)[:15]),
            file=results,
        )
    entry = ModelEntry(
        name=name.strip(),
        results=results,
        predictions=results if pred_field else None,
        pred_field=pred_field or PREDICTION,
        format=fmt,
        type_field=type_field or None,
        exact_field=exact_field or None,
        rules=rules or None,
        gt_field=gt_field,
    )
    derived = derive_results(entry, test)
    if derived is None:
        frame = load_results(results)
        check_ids(frame[ID].tolist(), ref, results)
    else:
        entry.source = results
        check_ids([r[ID] for r in derived], ref, results)
    return ModelPlan(entry, derived)


def _derived_path(ws: Workspace, name: str) -> Path:
    return ws.folder / "models" / f"{slugify(name)}_results.json"


def commit_model(ws: Workspace, plan: ModelPlan, replace: bool = False) -> ModelEntry:
    """Write a checked model into the workspace (its normalized copy first, if any)."""
    entry = plan.entry
    user_file = adopt(ws, entry.source or entry.results)
    if entry.predictions:
        entry.predictions = user_file
    if plan.derived is not None:
        entry.source = user_file
        entry.results = str(write_records(_derived_path(ws, entry.name), plan.derived))
    else:
        entry.results = user_file
    try:
        ws.add_model(entry, replace=replace)
    except GemvizError as exc:
        if plan.derived is not None:
            Path(entry.results).unlink(missing_ok=True)
            # The message should name the user's file, not gemviz's copy of it.
            raise GemvizError(str(exc).replace(entry.results, str(user_file))) from exc
        raise
    return entry


def add_model(
    ws: Workspace, name: str, results: str, replace: bool = False, **mapping: Any
) -> ModelEntry:
    """Check and add a model (see :func:`plan_model` for the mapping arguments)."""
    if not replace and name.strip() in [m.name for m in ws.models]:
        raise GemvizError(f"this workspace already has a model called '{name.strip()}'")
    plan = plan_model(name, results, reference(ws), ws.test, **mapping)
    return commit_model(ws, plan, replace=replace)


def refresh_models(ws: Workspace) -> None:
    """Derive again the normalized results of mapped models whose source file changed."""
    for m in ws.models:
        if not m.source or not Path(m.source).is_file():
            continue
        derived = Path(m.results)
        if derived.is_file() and derived.stat().st_mtime_ns >= Path(m.source).stat().st_mtime_ns:
            continue
        rows = derive_results(m, ws.test)
        if rows is not None:
            write_records(derived, rows)


def entry_tables(ws: Workspace):
    """The workspace's splitters and models as two short tables (file names, not paths)."""
    import pandas as pd

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
                "results": Path(m.source or m.results).name,
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
    models: Mapping[str, str] | None = None,
    model_mappings: Mapping[str, Mapping[str, Any]] | None = None,
) -> Workspace:
    """Make a workspace from files on disk; every file is checked before anything is written.

    Args:
        name: Display name (its slug, made unique, names the folder).
        test: The test-set record file (the reference every other file must match).
        train: The train-set record file, for scoring later.
        image_root: Folder for relative ``image_path`` values.
        cluster_by: How steps group into clusters (:func:`gemviz.clusters.resolve`).
        splits: Splitter name -> labeled test file.
        scores: Splitter name -> (train score file, test score file), partitioned with GEM.
        embeddings: Splitter name -> (train ``.npz``, test ``.npz``), for a splitter above.
        models: Model name -> result file.
        model_mappings: Model name -> :func:`plan_model` mapping arguments.

    Returns:
        The saved workspace.

    Raises:
        GemvizError: Any file is unreadable or does not match the test set; no workspace
            folder is left behind.
    """
    splits, scores = dict(splits or {}), dict(scores or {})
    embeddings, models = dict(embeddings or {}), dict(models or {})
    mappings = dict(model_mappings or {})
    if not test:
        raise GemvizError("a workspace needs its test-set file")
    names = list(splits) + list(scores)
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise GemvizError(f"splitter name given twice: {', '.join(dupes)}")
    unknown = sorted(set(embeddings) - set(names))
    if unknown:
        raise GemvizError(f"embeddings for no splitter of that name: {', '.join(unknown)}")
    test_records = read_records(test)
    ref = (sample_ids(test_records, test), test)
    import pandas as pd

    from gemviz.clusters import resolve

    resolve(pd.DataFrame.from_records(test_records), cluster_by)  # a bad field fails now
    if train:
        read_records(train)
    plans = []
    for split_name, labeled in splits.items():
        emb = embeddings.get(split_name, (None, None))
        plans.append(plan_splitter(split_name, ref, labeled=labeled, train_embeddings=emb[0],
                                   test_embeddings=emb[1]))  # fmt: skip
    for split_name, (tr, te) in scores.items():
        emb = embeddings.get(split_name, (None, None))
        plans.append(plan_splitter(split_name, ref, train_scores=tr, test_scores=te or test,
                                   train_embeddings=emb[0], test_embeddings=emb[1]))  # fmt: skip
    model_plans = [
        plan_model(m, path, ref, test, **mappings.get(m, {})) for m, path in models.items()
    ]
    ws = create_workspace(name, test=test, train=train, image_root=image_root)
    try:
        ws.test, ws.train = adopt(ws, ws.test), adopt(ws, ws.train)
        ws.cluster_by = cluster_by or "auto"
        ws.save()
        for plan in plans:
            commit_splitter(ws, plan)
        for plan in model_plans:
            commit_model(ws, plan)
        if ws.splitters:
            ws.study()  # cluster_by and everything else load together
    except BaseException:
        ws.delete()
        raise
    return ws
