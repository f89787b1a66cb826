"""Normalized result files of mapped models: derived from the user's file, and again when it changes.

A model entry may map its own field names (``type match``) or ask for predictions to be
matched against the ground truth with a rule set; :func:`derive_results` turns the user's file
into gemviz's fixed columns, and :func:`refresh_models` keeps that copy current.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from gemviz.actions import match_records
from gemviz.data.errors import GemvizError
from gemviz.data.fields import EXACT_MATCH, ID, METRIC_ALIASES, TYPE_MATCH
from gemviz.data.ids import sample_ids
from gemviz.data.read import read_records
from gemviz.data.write import write_records
from gemviz.workspace.entries import ModelEntry


def fields_of(records: Sequence[Mapping[str, Any]]) -> list[str]:
    """Every field name found in the records, in first-seen order."""
    return list(dict.fromkeys(k for r in records for k in r))


def require_field(records, name: str, file: str, what: str) -> None:
    """Refuse ``file`` unless some record has the field ``name`` (``what`` it is for)."""
    if not any(name in r and r[name] is not None for r in records):
        listed = ", ".join(fields_of(records)[:15])
        raise GemvizError(
            f"the {what} field '{name}' is not in this file; its fields are: {listed}",
            file=file,
        )


def has_match_fields(records, type_field: str | None, exact_field: str | None) -> bool:
    names = set(fields_of(records))
    t = {type_field} if type_field else set(METRIC_ALIASES[TYPE_MATCH])
    e = {exact_field} if exact_field else set(METRIC_ALIASES[EXACT_MATCH])
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
            require_field(records, name, path, what)
    ids = sample_ids(records, path)
    out = []
    for i, r in zip(ids, records, strict=True):
        row = {ID: i}
        row[TYPE_MATCH] = r.get(entry.type_field) if entry.type_field else r.get(TYPE_MATCH)
        row[EXACT_MATCH] = r.get(entry.exact_field) if entry.exact_field else r.get(EXACT_MATCH)
        out.append(row)
    return out


def refresh_models(models: Iterable[ModelEntry], test: str | None) -> None:
    """Derive again the normalized results of mapped models whose source file changed."""
    for m in models:
        if not m.source or not Path(m.source).is_file():
            continue
        derived = Path(m.results)
        if derived.is_file() and derived.stat().st_mtime_ns >= Path(m.source).stat().st_mtime_ns:
            continue
        rows = derive_results(m, test)
        if rows is not None:
            write_records(derived, rows)
