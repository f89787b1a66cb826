"""Models added to a workspace: a result file, its field names mapped when it is added.

A researcher's result files name things their own way: match fields as ``type match``, raw
predictions in ``osatlas_action``, or predictions with no match fields at all. A model entry
stores the mapping (``workspace.json``); a mapped file is normalized into the workspace
(:func:`derive_results`), matched on the fly against the test set's ground truth with a rule
set of :mod:`gemviz.actions` when asked, and derived again when its source changes
(:func:`refresh_models`). The file is checked against the test set before anything is written.

A model evaluated several times gives one file per run (result files with their 0/1 metrics,
or BFCL score files as the evaluator wrote them); each is checked the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gemviz.actions import RULES
from gemviz.data.bfcl import is_score_file, result_file_for
from gemviz.data.errors import GemvizError
from gemviz.data.fields import ID, RUN
from gemviz.data.files import first_repeat
from gemviz.data.loaders import load_results, result_metrics
from gemviz.data.read import read_records
from gemviz.data.write import write_records
from gemviz.workspace.derive import derive_results, fields_of, has_match_fields, require_field
from gemviz.workspace.entries import ModelEntry, check_name, file_stem, free_path
from gemviz.workspace.files import Checks, adopt, check_ids, reference
from gemviz.workspace.store import Workspace

PREDICTION = "prediction"


@dataclass
class ModelPlan:
    """A checked model, ready to be written (:func:`commit_model`)."""

    entry: ModelEntry
    derived: list[dict[str, Any]] | None = None


def plan_model(
    name: str,
    results: str | Sequence[str],
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
        results: The user's result file (JSON/JSONL/CSV/parquet, or a BFCL score file), or
            one file per run.
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
    name = check_name(name, "model")
    if not results:
        raise GemvizError(f"model '{name}': give its result file")
    if not isinstance(results, str):
        files = list(results)
        if len(files) > 1:
            return _plan_runs(name, files, ref, pred_field, type_field, exact_field, rules)
        results = files[0]
    pred_field = _check_fields(
        read_records(results), results, pred_field, type_field, exact_field, rules
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
        frame = load_results(results, *_ref_args(ref))
        check_ids(_run_ids(frame), ref, results)
    else:
        entry.source = results
        check_ids([r[ID] for r in derived], ref, results)
    return ModelPlan(entry, derived)


def _check_fields(
    records: list[dict[str, Any]],
    results: str,
    pred_field: str | None,
    type_field: str | None,
    exact_field: str | None,
    rules: str | None,
) -> str | None:
    """Check that the file holds what its mapping names; returns the predictions' field
    (``prediction`` when the file has it and none was named).

    Raises:
        GemvizError: A named field is missing, an unknown rule set, a rule set without
            predictions, or neither match fields, metrics nor a rule set.
    """
    if pred_field:
        require_field(records, pred_field, results, "prediction")
    elif any(PREDICTION in r for r in records[:50]):
        pred_field = PREDICTION
    if rules:
        if rules not in RULES:
            raise GemvizError(f"unknown rule set '{rules}'; use one of {', '.join(RULES)}")
        if not pred_field:
            raise GemvizError(
                "matching with a rule set needs the predictions' field (e.g. 'prediction')",
                file=results,
            )
    elif not has_match_fields(records, type_field, exact_field) and not _has_metrics(records):
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
    return pred_field


def _has_metrics(records: list[dict[str, Any]]) -> bool:
    """True when the records hold 0/1 metrics by name or are a BFCL score file."""
    if is_score_file(records):
        return True
    try:
        result_metrics(records)
    except GemvizError:
        return False
    return True


def _ref_args(ref: tuple[list[str], str] | None) -> tuple[list[str] | None, str | None]:
    return (None, None) if ref is None else (ref[0], ref[1])


def _run_ids(frame) -> list[str]:
    """The ids of one run of a result frame (a frame with a ``run`` column holds several)."""
    if RUN not in frame.columns:
        return frame[ID].tolist()
    first = frame[RUN].iloc[0]
    return frame.loc[frame[RUN] == first, ID].tolist()


def _plan_runs(
    name: str,
    files: list[str],
    ref: tuple[list[str], str] | None,
    *mapping: str | None,
) -> ModelPlan:
    """A model with one file per run: each file checked against the test set, no mapping."""
    if any(mapping):
        raise GemvizError(
            f"model '{name}': field mappings and rule sets apply to a single result file; give "
            "each run's file with the metrics named as gemviz reads them (type_match/"
            "exact_match, accuracy) or BFCL score files"
        )
    repeat = first_repeat(files)
    if repeat is not None:
        a, b = (files[i] for i in repeat)
        same = "is given twice" if a == b else f"is the same file as {a}"
        raise GemvizError(f"model '{name}': the run file {b} {same}; each run is its own file")
    checks, held = Checks(len(files)), None
    for path in files:
        frame = checks.run(load_results, path, *_ref_args(ref))
        if frame is None:
            continue
        metrics = frame.attrs.get("metrics")
        if held is not None and metrics != held[1]:
            checks.add(
                GemvizError(
                    f"model '{name}': this run holds the metrics {metrics}, the run {held[0]} "
                    f"{held[1]}; every run needs the same metrics",
                    file=path,
                )
            )
            continue
        held = held or (path, metrics)
        checks.run(check_ids, _run_ids(frame), ref, path)
    checks.done()
    entry = ModelEntry(name=name.strip(), results=files[0], runs=files[1:])
    return ModelPlan(entry)


def _derived_path(ws: Workspace, name: str) -> Path:
    # Names that differ only in case (SFT/sft) get files of their own (file_stem).
    others = {str(Path(m.results).resolve()) for m in ws.models if m.name != name}
    return free_path(ws.folder.resolve() / "models" / f"{file_stem(name)}_results.json", others)


def commit_model(ws: Workspace, plan: ModelPlan, replace: bool = False) -> ModelEntry:
    """Write a checked model into the workspace (its normalized copy first, if any)."""
    entry = plan.entry
    for path in entry.run_files():  # an uploaded BFCL folder: each result file with its score
        sibling = result_file_for(path)
        if sibling is not None:
            adopt(ws, str(sibling))
    entry.runs = [adopt(ws, p) for p in entry.runs]
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
    ws: Workspace,
    name: str,
    results: str | Sequence[str],
    replace: bool = False,
    add_run: bool = False,
    **mapping: Any,
) -> ModelEntry:
    """Check and add a model (see :func:`plan_model` for the mapping arguments).

    Args:
        ws: The workspace.
        name: The model's name.
        results: Its result file, or one file per run.
        replace: Replace a model of that name.
        add_run: Add ``results`` as further runs of the existing model ``name`` (a new model
            when there is none).
        **mapping: Field mapping of a single result file.

    Raises:
        GemvizError: The name is taken (without ``replace`` or ``add_run``), or a file is
            refused.
    """
    files, replace = _with_runs(ws, name, results, replace, add_run)
    plan = plan_model(name, files, reference(ws), ws.test, **mapping)
    return commit_model(ws, plan, replace=replace)


def _with_runs(
    ws: Workspace, name: str, results: str | Sequence[str], replace: bool, add_run: bool
) -> tuple[list[str], bool]:
    """The files a model will hold (an existing model's runs first with ``add_run``)."""
    files = [results] if isinstance(results, str) else list(results)
    existing = next((m for m in ws.models if m.name == name.strip()), None)
    if add_run and existing is not None:
        if existing.source or existing.rules:
            raise GemvizError(
                f"model '{existing.name}' is read through a field mapping; runs can be added "
                "to models whose files are read as they are"
            )
        return [*existing.run_files(), *files], True
    if not replace and existing is not None:
        raise GemvizError(f"this workspace already has a model called '{name.strip()}'")
    return files, replace


def add_models(
    ws: Workspace, models: Mapping[str, Sequence[str]], replace: bool = False
) -> list[ModelEntry]:
    """Check every run file of several models, then add them all (or none).

    A name the workspace has already gets the files as further runs (unless ``replace``).
    Every file is checked before any model is written, and all refused files are named
    together.

    Args:
        ws: The workspace.
        models: Model name -> its run files (e.g. :func:`gemviz.workspace.bfcl_runs.find_runs`).
        replace: Replace models of those names instead of adding runs.

    Raises:
        GemvizError: A name is refused, or one file is.
        GemvizBatchError: Several files are refused.
    """
    ref, n_files = reference(ws), sum(len(f) for f in models.values())
    checks, plans = Checks(n_files), []
    for name, files in models.items():
        files, replaces = _with_runs(ws, name, list(files), replace, not replace)
        plan = checks.run(plan_model, name, files, ref, ws.test)
        plans.append((plan, replaces))
    checks.done()
    return [commit_model(ws, plan, replace=replaces) for plan, replaces in plans]
