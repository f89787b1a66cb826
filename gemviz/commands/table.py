"""``table``: each model's metrics on every splitter's ID and OOD sets.

Prints one row per splitter x model x metric with the ID and OOD means, their step and
cluster counts and 95% intervals, and the ID-OOD gap with its task-level test (``test``), its
interval, p-value and adjusted p-value (Holm within each splitter and metric, or ``--adjust
bh``), as Markdown (default), CSV or JSON (a list of row objects). Steps are clustered by
``--cluster-by`` (default: ``episode_id``, else ``task``; ``none`` for step level). A model
named again with ``--model`` adds a run: its per-step outcome is then the mean over its runs.
The helpers :func:`named_paths`, :func:`model_paths`, :func:`render` and
:func:`add_stats_arguments` are shared with ``overlap``, ``compare``, ``slices`` and ``runs``.
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Sequence
from typing import Any

import pandas as pd

from gemviz.data.errors import GemvizError
from gemviz.data.io import write_text_atomic
from gemviz.figures.export import markdown_text

HELP = "splitter x model table of ID/OOD means and gaps with 95%% intervals"
FORMATS = ("markdown", "csv", "json")


def named_paths(values: Sequence[str] | None, option: str) -> dict[str, str]:
    """Parse repeated ``NAME=PATH`` options into an ordered ``{name: path}``.

    Raises:
        GemvizError: A value without ``=``, an empty name or path, or a repeated name.
    """
    out: dict[str, str] = {}
    for value in values or ():
        name, sep, path = value.partition("=")
        name, path = name.strip(), path.strip()
        if not sep or not name or not path:
            raise GemvizError(
                f"{option} expects NAME=PATH (e.g. {option} qwen=labeled.json), got {value!r}"
            )
        if name in out:
            raise GemvizError(f"{option} name '{name}' is given twice; names must be unique")
        out[name] = path
    return out


def model_paths(values: Sequence[str] | None, option: str = "--model") -> dict[str, list[str]]:
    """Parse repeated ``NAME=PATH`` options into ``{name: [path, ...]}``: a name given again adds a run.

    Raises:
        GemvizError: A value without ``=``, an empty name or path, or one file given twice
            for a model.
    """
    out: dict[str, list[str]] = {}
    for value in values or ():
        name, sep, path = value.partition("=")
        name, path = name.strip(), path.strip()
        if not sep or not name or not path:
            raise GemvizError(
                f"{option} expects NAME=PATH (e.g. {option} sft=results.json), got {value!r}"
            )
        runs = out.setdefault(name, [])
        if path in runs:
            raise GemvizError(f"{option} {name}={path} is given twice; each run is its own file")
        runs.append(path)
    return out


def input_files(*groups: Any) -> list[str | None]:
    """Every path of the given ``{name: path}`` / ``{name: [paths]}`` maps and single paths."""
    out: list[str | None] = []
    for group in groups:
        if isinstance(group, dict):
            for value in group.values():
                out.extend(value if isinstance(value, list) else [value])
        else:
            out.append(group)
    return out


def add_metric_argument(parser: argparse.ArgumentParser, default: str = "all of them") -> None:
    """``--metric NAME`` (repeatable): a metric the result files hold."""
    parser.add_argument(
        "--metric",
        action="append",
        default=None,
        metavar="NAME",
        help="metric to report, as the result files name it (type_match, exact_match, "
        f"accuracy, ...); repeat for several (default: {default})",
    )


def add_output_arguments(parser: argparse.ArgumentParser) -> None:
    """``--format`` and ``--out``, shared by ``table`` and ``overlap``."""
    parser.add_argument(
        "--format", choices=FORMATS, default="markdown", help="output format (default markdown)"
    )
    parser.add_argument(
        "--out", default=None, help="write the output to this file instead of printing it"
    )


def add_stats_arguments(parser: argparse.ArgumentParser, margin: bool = False) -> None:
    """``--cluster-by`` and ``--adjust`` (and ``--margin``), shared by the analysis commands."""
    parser.add_argument(
        "--cluster-by",
        default="auto",
        metavar="FIELD",
        help="field whose values group steps into clusters resampled as units (default auto: "
        "episode_id, else task; 'none' for step-level statistics)",
    )
    parser.add_argument(
        "--adjust",
        choices=("holm", "bh"),
        default="holm",
        type=str.lower,
        help="p-value adjustment within each family, e.g. one splitter and metric (default "
        "holm; bh = Benjamini-Hochberg)",
    )
    if margin:
        parser.add_argument(
            "--margin",
            type=float,
            default=0.05,
            help="'no detectable difference' only when the 95%% interval lies within "
            "+/- this (default 0.05)",
        )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``table``."""
    parser.add_argument(
        "--split",
        action="append",
        required=True,
        metavar="NAME=LABELED",
        help="a splitter's labeled test file (records + label ID/OOD); repeat for each splitter",
    )
    parser.add_argument(
        "--model",
        action="append",
        required=True,
        metavar="NAME=RESULTS",
        help="a model's result file (records + 0/1 metrics such as type_match, exact_match or "
        "accuracy; a BFCL score file); repeat for each model, and repeat a name to add a run",
    )
    parser.add_argument(
        "--samples",
        default=None,
        help="the test-set file whose order the rows follow (default: the first --split file)",
    )
    add_metric_argument(parser)
    add_stats_arguments(parser)
    add_output_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Load the study, build the table and print or write it."""
    from gemviz.analysis.tables import id_ood_table
    from gemviz.data.study import Study

    splits, models = named_paths(args.split, "--split"), model_paths(args.model)
    out = checked_out(args.out, input_files(splits, models, args.samples))
    study = Study.from_files(splits, models, args.samples, cluster_by=args.cluster_by)
    table = id_ood_table(study, metrics=args.metric, adjust=args.adjust)
    emit(render(table, args.format), out)
    return 0


def checked_out(out: str | None, inputs: Sequence[str | None]) -> str | None:
    """``--out`` after :func:`gemviz.data.safety.check_output` (None when printing)."""
    if not out:
        return None
    from gemviz.data.safety import check_output

    return str(check_output(out, inputs))


def emit(text: str, out: str | None) -> None:
    """Print ``text``, or write it atomically to ``out``."""
    if out:
        write_text_atomic(out, text)
    else:
        print(text, end="")


def render(frame: pd.DataFrame, fmt: str, digits: int = 4) -> str:
    """Format ``frame`` as Markdown, CSV or JSON text (ending in a newline).

    JSON is a list of row objects with NaN written as ``null``; Markdown and CSV round floats
    to ``digits`` decimals; tuples and lists are joined with ``" & "`` and ``" "``.
    """
    if fmt == "json":
        return json.dumps(records(frame), indent=1, allow_nan=False) + "\n"
    shown = frame.copy()
    for col in shown.columns:
        if shown[col].dtype == object:
            shown[col] = shown[col].map(_cell_text)
        elif pd.api.types.is_float_dtype(shown[col]):
            shown[col] = shown[col].round(digits)
    if fmt == "csv":
        return shown.to_csv(index=False)
    if fmt == "markdown":
        return markdown_text(shown, digits=None, aligned=True)
    raise GemvizError(f"unknown format '{fmt}'; use one of {', '.join(FORMATS)}")


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as plain-Python dicts for JSON: NaN -> None, numpy scalars -> Python, tuples -> lists."""
    rows = frame.to_dict(orient="records")
    return [{k: _plain(v) for k, v in row.items()} for row in rows]


def _plain(value: Any) -> Any:
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _cell_text(value: Any) -> Any:
    if isinstance(value, tuple):
        return " & ".join(map(str, value))
    if isinstance(value, list):
        return " ".join(map(str, value))
    return value
