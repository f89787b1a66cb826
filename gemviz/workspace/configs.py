"""The configuration table: what each evaluated configuration (model) of a workspace is.

A lab compares configurations that differ in a few ways: the training method (SFT, LoRA,
GRPO...), the training set, the base model. Each configuration may carry those as optional
attributes, plus free notes and ``baseline: true`` for the reference the others are read
against. They are kept in ``workspace.json`` under ``configs`` (model name -> attributes;
a workspace without the key has no attributes) and come from a CSV/JSON/YAML file
(:func:`read_configs`), from a regular expression with named groups over the model names
(:func:`configs_from_pattern`), or from the Workspace page's editable table
(:func:`configs_from_table`). :func:`configurations` is the table every chart, report and
slide reads: one row per model, columns :data:`COLUMNS`.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from gemviz.data.errors import GemvizError
from gemviz.data.files import loads_json, read_text
from gemviz.data.read import read_records

#: Text attributes of a configuration, in table order.
TEXT_FIELDS = ("method", "train_set", "base_model", "notes")
#: Columns of :func:`configurations`.
COLUMNS = ["model", *TEXT_FIELDS, "baseline"]
#: Attributes a chart may colour or group by.
GROUPING_FIELDS = ("method", "train_set", "base_model")
_NAME_KEYS = ("model", "name", "config", "configuration")
_TRUE = {"true", "yes", "y", "1", "x", "baseline"}
_FALSE = {"false", "no", "n", "0", ""}
CONFIG_SUFFIXES = (".csv", ".json", ".jsonl", ".yaml", ".yml")


@dataclass
class Config:
    """The attributes of one configuration (every one optional)."""

    method: str | None = None
    train_set: str | None = None
    base_model: str | None = None
    notes: str | None = None
    baseline: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The attributes that are set, as ``workspace.json`` stores them."""
        out: dict[str, Any] = {k: getattr(self, k) for k in TEXT_FIELDS if getattr(self, k)}
        if self.baseline:
            out["baseline"] = True
        return out

    def merged(self, other: Config) -> Config:
        """These attributes with ``other``'s set ones written over them."""
        values = {k: getattr(other, k) or getattr(self, k) for k in TEXT_FIELDS}
        return Config(**values, baseline=self.baseline or other.baseline)


def _empty(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def _text(value: Any, file: str, row: int | None, field: str) -> str | None:
    if _empty(value):
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise GemvizError(
            f"expected text, found {type(value).__name__}", file=file, row=row, field=field
        )
    text = str(value).strip()
    if "\x00" in text:
        raise GemvizError("holds a NUL character", file=file, row=row, field=field)
    return text or None


def _flag(value: Any, file: str, row: int | None) -> bool:
    if isinstance(value, bool):
        return value
    if _empty(value):
        return False
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise GemvizError(
        f"expected true or false, found {str(value)[:40]!r}", file=file, row=row, field="baseline"
    )


def config_from_mapping(raw: Any, file: str, row: int | None = None) -> Config:
    """One configuration's attributes from a mapping, every field checked.

    Raises:
        GemvizError: An unknown field, or a value of the wrong kind (file, row, field named).
    """
    if not isinstance(raw, Mapping):
        raise GemvizError(
            f"expected an object of attributes, found {type(raw).__name__}", file=file, row=row
        )
    unknown = [k for k in raw if k not in (*TEXT_FIELDS, "baseline", *_NAME_KEYS)]
    if unknown:
        raise GemvizError(
            f"unknown attribute (known: {', '.join(COLUMNS)})",
            file=file,
            row=row,
            field=str(unknown[0]),
        )
    return Config(
        **{k: _text(raw.get(k), file, row, k) for k in TEXT_FIELDS},
        baseline=_flag(raw.get("baseline"), file, row),
    )


def check_baseline(configs: Mapping[str, Config], file: str | None = None) -> None:
    """Refuse more than one baseline (every comparison is read against one reference)."""
    marked = [name for name, c in configs.items() if c.baseline]
    if len(marked) > 1:
        raise GemvizError(
            f"{len(marked)} configurations are marked baseline ({', '.join(marked[:4])}); "
            "mark exactly one",
            file=file,
            field="baseline",
        )


def configs_from_json(raw: Any, file: str) -> dict[str, Config]:
    """The ``configs`` object of ``workspace.json`` (missing: none).

    Raises:
        GemvizError: Naming the field (``configs.sft-1.baseline``) and what was found.
    """
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise GemvizError(
            f"expected an object (model -> attributes), found {type(raw).__name__}",
            file=file,
            field="configs",
        )
    out = {}
    for name, attrs in raw.items():
        try:
            out[str(name)] = config_from_mapping(attrs, file)
        except GemvizError as exc:
            where = f"configs.{name}" + (f".{exc.field}" if exc.field else "")
            raise GemvizError(exc.detail, file=file, field=where) from None
    check_baseline(out, file)
    return out


def _rows(path: Path) -> list[tuple[int, Any, Any]]:
    """(row number, model name, attributes) of a configuration file, in file order."""
    file = str(path)
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        try:
            data = yaml.safe_load(read_text(path, "configuration file"))
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            row = None if mark is None else mark.line + 1
            raise GemvizError(f"not valid YAML ({getattr(exc, 'problem', exc)})", file=file,
                              row=row) from None  # fmt: skip
    elif suffix == ".json":
        data = loads_json(read_text(path, "configuration file"), file)
    else:
        data = read_records(path)
    if isinstance(data, Mapping):
        return [(i + 1, name, attrs) for i, (name, attrs) in enumerate(data.items())]
    if not isinstance(data, list):
        raise GemvizError(
            "expected a list of rows (each with a 'model' field) or an object of "
            "model -> attributes",
            file=file,
        )
    out = []
    for i, rec in enumerate(data):
        if not isinstance(rec, Mapping):
            raise GemvizError("expected an object with a 'model' field", file=file, row=i + 1)
        key = next((k for k in _NAME_KEYS if k in rec), None)
        if key is None:
            raise GemvizError(
                "no 'model' field naming the configuration", file=file, row=i + 1, field="model"
            )
        out.append((i + 1, rec[key], rec))
    return out


def read_configs(path: str | os.PathLike) -> dict[str, Config]:
    """A configuration file: CSV with a ``model`` column, JSON or YAML (a list of rows or an
    object of model -> attributes).

    Args:
        path: The file.

    Returns:
        Model name -> :class:`Config`, in file order.

    Raises:
        GemvizError: An unreadable file, a row without a name, a name given twice, an unknown
            attribute, a ``baseline`` that is not true/false, or two baselines; the message
            names the file, the row and the field.
    """
    p = Path(path)
    file = str(path)
    if p.suffix.lower() not in CONFIG_SUFFIXES:
        raise GemvizError(
            f"a configuration file is CSV, JSON or YAML ({', '.join(CONFIG_SUFFIXES)})", file=file
        )
    out: dict[str, Config] = {}
    for row, name, attrs in _rows(p):
        model = _text(name, file, row, "model")
        if model is None:
            raise GemvizError("the model name is empty", file=file, row=row, field="model")
        if model in out:
            raise GemvizError(
                f"'{model}' is given twice; keep one row per configuration",
                file=file,
                row=row,
                field="model",
            )
        out[model] = config_from_mapping(attrs, file, row)
    check_baseline(out, file)
    return out


def configs_from_pattern(
    names: Iterable[str], pattern: str, baseline: str | None = None
) -> dict[str, Config]:
    """Attributes read off the model names by a regular expression with named groups.

    E.g. ``(?P<method>sft|lora|grpo)_(?P<train_set>.*)`` gives ``sft_14k`` method ``sft``
    and training set ``14k``. Names the pattern does not match get no attributes.

    Args:
        names: The model names.
        pattern: The expression (matched from the start of each name).
        baseline: A model to mark as the baseline.

    Raises:
        GemvizError: The pattern does not compile, names a group that is not an attribute,
            or has no named group; ``baseline`` is not one of ``names``.
    """
    try:
        rx = re.compile(pattern)
    except re.error as exc:
        raise GemvizError(f"--config-pattern is not a regular expression ({exc})") from None
    groups = set(rx.groupindex)
    unknown = sorted(groups - set(TEXT_FIELDS))
    if unknown or not groups:
        raise GemvizError(
            f"--config-pattern needs named groups among {', '.join(TEXT_FIELDS)}"
            + (f" (unknown: {', '.join(unknown)})" if unknown else " (it has none)")
        )
    names = list(names)
    if baseline is not None and baseline not in names:
        raise GemvizError(f"--baseline '{baseline}' is not a model of this workspace")
    out = {}
    for name in names:
        found = rx.match(name)
        values = {k: v for k, v in (found.groupdict() if found else {}).items() if v}
        if values or name == baseline:
            out[name] = Config(**values, baseline=name == baseline)
    return out


def merge_configs(
    old: Mapping[str, Config], new: Mapping[str, Config], replace: bool = False
) -> dict[str, Config]:
    """``old`` with ``new`` written over it (set attributes win; ``replace``: ``new`` whole).

    A baseline in ``new`` moves the mark: the old baseline loses it.
    """
    out = {} if replace else {k: Config(**vars(v)) for k, v in old.items()}
    if any(c.baseline for c in new.values()):
        for c in out.values():
            c.baseline = False
    for name, config in new.items():
        out[name] = out[name].merged(config) if name in out else Config(**vars(config))
    check_baseline(out)
    return out


def configurations(workspace: Any) -> pd.DataFrame:
    """The configuration table: one row per model of the workspace, in its order.

    Args:
        workspace: A :class:`gemviz.workspace.store.Workspace` (or anything with ``models``
            and ``configs``).

    Returns:
        Columns :data:`COLUMNS`; unset attributes are empty (None), ``baseline`` is bool.
    """
    configs = getattr(workspace, "configs", {}) or {}
    return config_table([m.name for m in workspace.models], configs)


def config_table(models: Sequence[str], configs: Mapping[str, Config]) -> pd.DataFrame:
    """:func:`configurations` for a list of model names and their attributes."""
    rows = []
    for name in models:
        c = configs.get(name, Config())
        rows.append({"model": name, **{k: getattr(c, k) for k in TEXT_FIELDS},
                     "baseline": bool(c.baseline)})  # fmt: skip
    return pd.DataFrame(rows, columns=COLUMNS).astype({"baseline": bool})


def configs_from_table(frame: pd.DataFrame, what: str = "the table") -> dict[str, Config]:
    """The attributes of an edited configuration table (e.g. the page's ``st.data_editor``).

    Raises:
        GemvizError: A cell of the wrong kind or two baselines (row and field named).
    """
    out = {}
    for i, rec in enumerate(frame.to_dict("records")):
        name = str(rec.get("model", "")).strip()
        if not name:
            continue
        attrs = {k: rec.get(k) for k in (*TEXT_FIELDS, "baseline") if k in rec}
        out[name] = config_from_mapping(attrs, what, i + 1)
    check_baseline(out, what)
    return out


def baseline_of(table: pd.DataFrame) -> str | None:
    """The baseline configuration's name in a :func:`configurations` table, or None."""
    if table is None or "baseline" not in table or not len(table):
        return None
    marked = table.loc[table["baseline"].astype(bool), "model"]
    return str(marked.iloc[0]) if len(marked) else None


def set_configs(workspace: Any, configs: Mapping[str, Config], replace: bool = False) -> None:
    """Write configuration attributes into a workspace and save it.

    Args:
        workspace: A :class:`gemviz.workspace.store.Workspace`.
        configs: Model name -> attributes; names that are not (yet) models are kept, so a
            file may describe configurations added later.
        replace: Drop every attribute not in ``configs`` (the page's edited table).

    Raises:
        GemvizError: Two baselines.
    """
    workspace.configs = merge_configs(workspace.configs, configs, replace=replace)
    workspace.save()
