"""What the command modules share: options, input pairs, splitter settings and output.

Every command takes its options through these helpers, so an option reads the same in
every command that has it: ``--split``/``--model``/``--samples``/``--metric`` (the files of a
study), ``--cluster-by``/``--adjust``/``--margin`` (the statistics), ``--format``/``--out``
(the output), ``--method`` and the splitter settings, whose defaults are the splitter
registry's.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from gemviz.data.clusters import AUTO
from gemviz.data.errors import GemvizError
from gemviz.data.files import load_embeddings_file
from gemviz.data.ids import align, sample_ids
from gemviz.data.loaders import load_scores
from gemviz.data.markup import visible
from gemviz.data.read import read_records
from gemviz.data.safety import check_output
from gemviz.data.study import Study
from gemviz.data.write import write_text_atomic
from gemviz.figures.export import markdown_text
from gemviz.splitters import SPLITTERS, Splitter, make_splitter, splitter_params
from gemviz.workspace.catalog import find_workspace
from gemviz.workspace.store import Workspace

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


def add_study_arguments(
    parser: argparse.ArgumentParser,
    split_help: str = "a splitter's labeled test file (records + label ID/OOD); repeat for each "
    "splitter",
    model_help: str = "a model's result file; repeat for each model",
    models_required: bool = True,
    samples_help: str = "the test-set file (default: the first --split file)",
    splits_required: bool = True,
) -> None:
    """``--split NAME=LABELED``, ``--model NAME=RESULTS`` and ``--samples``: a study's files.

    Args:
        parser: The command's parser.
        split_help, model_help, samples_help: The command's words for each option.
        models_required: False where models are optional (``overlap``).
        splits_required: False where splitters are optional (``runs``).
    """
    parser.add_argument(
        "--split", action="append", required=splits_required, metavar="NAME=LABELED",
        help=split_help,
    )  # fmt: skip
    parser.add_argument(
        "--model",
        action="append",
        required=models_required,
        default=None,
        metavar="NAME=RESULTS",
        help=model_help,
    )
    parser.add_argument("--samples", default=None, help=samples_help)


@dataclass(frozen=True)
class StudyFiles:
    """The files of a study as ``--split``, ``--model`` and ``--samples`` name them."""

    splits: dict[str, str]
    models: dict[str, list[str]]
    samples: str | None

    def inputs(self) -> list[str | None]:
        """Every input path, for :func:`checked_out`."""
        return input_files(self.splits, self.models, self.samples)


def study_files(args: argparse.Namespace) -> StudyFiles:
    """The study's files from the options of :func:`add_study_arguments`.

    Raises:
        GemvizError: A ``--split`` or ``--model`` value that is not ``NAME=PATH``.
    """
    return StudyFiles(named_paths(args.split, "--split"), model_paths(args.model), args.samples)


def study_from_args(
    args: argparse.Namespace, files: StudyFiles | None = None
) -> tuple[Study, str | None]:
    """Check ``--out`` against the inputs, load the study and print what loading flagged.

    Args:
        args: Options of :func:`add_study_arguments`, ``--out`` and (where the command has
            it) ``--cluster-by``.
        files: The files when the command has checked them already (default: read from
            ``args``).

    Returns:
        The study, and the checked ``--out`` path (None when printing).

    Raises:
        GemvizError: A bad option, an output that would replace an input, or a bad file.
    """
    files = files if files is not None else study_files(args)
    out = checked_out(args.out, files.inputs())
    study = Study.from_files(
        files.splits, files.models, files.samples, cluster_by=getattr(args, "cluster_by", AUTO)
    )
    print_warnings(args.command, study.warnings)
    return study, out


def print_warnings(command: str, messages: Iterable[str]) -> None:
    """Print each warning of a load on stderr as ``gemviz COMMAND: warning: ...``."""
    for message in messages:
        print(visible(f"gemviz {command}: warning: {message}"), file=sys.stderr)


def open_workspace(slug: str) -> Workspace:
    """The workspace named by ``slug`` (or a folder path).

    Raises:
        GemvizError: No such workspace.
    """
    ws = find_workspace(slug)
    if ws is None:
        raise GemvizError(f"no workspace '{slug}'; see python -m gemviz workspace list")
    return ws


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
        add_margin_argument(parser)


def add_margin_argument(parser: argparse.ArgumentParser) -> None:
    """``--margin``: the "no detectable difference" margin (default: the metric's)."""
    parser.add_argument(
        "--margin",
        type=margin_arg,
        default=None,
        help="'no detectable difference' only when the 95%% interval lies within +/- this, "
        "and 'significant but within' it (default: per metric, 0.01 for benchmark accuracy, "
        "0.05 for type and exact match)",
    )


def margin_arg(text: str) -> float:
    """``--margin``: a half-width on the metric's 0..1 scale, so a number from 0 to 1.

    A negative margin would make 'no detectable difference' impossible and one above 1 would
    make it certain; either is a typo, refused as one argparse error line.
    """
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number from 0 to 1, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text}")
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(
            f"the margin is a half-width on the 0..1 scale of a metric: a number from 0 to 1, "
            f"got {text}"
        )
    return value


def checked_out(out: str | None, inputs: Sequence[str | None]) -> str | None:
    """``--out`` after :func:`gemviz.data.safety.check_output` (None when printing)."""
    if not out:
        return None
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


#: Command-line option (``args`` attribute) -> the splitter parameter it sets.
SPLITTER_OPTIONS = {
    "seed": "random_state",
    "max_components": "max_components",
    "sigma": "sigma",
    "search_sample": "search_sample",
    "percentile": "percentile",
}


def add_gem_arguments(parser: argparse.ArgumentParser, search_sample: bool = True) -> None:
    """``--seed``, ``--max-components``, ``--sigma`` (and ``--search-sample``) of GEM.

    Left out, an option keeps the splitter registry's default, which its help names.
    """
    gem = splitter_params("gem")
    parser.add_argument(
        "--seed",
        type=int,
        default=None,
        help=f"random state of the GEM mixture fits (default {gem['random_state']})",
    )
    parser.add_argument(
        "--max-components",
        type=int,
        default=None,
        help=f"GEM: most mixture components (default {gem['max_components']})",
    )
    parser.add_argument(
        "--sigma",
        type=float,
        default=None,
        help=f"GEM: interval half-width in std (default {gem['sigma']:g})",
    )
    if search_sample:
        parser.add_argument(
            "--search-sample",
            type=int,
            default=None,
            help="GEM: run the BIC search on this many sampled train scores (default: all)",
        )


def add_splitter_arguments(parser: argparse.ArgumentParser) -> None:
    """``--method`` and every splitter setting (``partition``, ``detect``, ``stability``)."""
    parser.add_argument(
        "--method", default="gem", choices=list(SPLITTERS), help="partition method (default gem)"
    )
    add_gem_arguments(parser)
    percentile = splitter_params("percentile")["percentile"]
    parser.add_argument(
        "--percentile",
        type=float,
        default=None,
        help=f"percentile/mahalanobis: ID iff ≤ this percentile of train (default {percentile:g})",
    )


def splitter_settings(args: argparse.Namespace, method: str) -> dict[str, Any]:
    """The splitter parameters the options of ``args`` set for ``method`` (those given)."""
    known = splitter_params(method)
    return {
        param: getattr(args, option)
        for option, param in SPLITTER_OPTIONS.items()
        if param in known and getattr(args, option, None) is not None
    }


def splitter_from_args(args: argparse.Namespace) -> Splitter:
    """An unfitted splitter for ``args.method`` with the options that method takes.

    An option given that the method does not take is refused (``--sigma`` with ``--method
    percentile`` would otherwise do nothing without a word).

    Raises:
        GemvizError: An option that does not apply to the method.
    """
    known = splitter_params(args.method)
    flag = {option: "--" + option.replace("_", "-") for option in SPLITTER_OPTIONS}
    unused = [
        flag[option]
        for option, param in SPLITTER_OPTIONS.items()
        if param not in known and getattr(args, option, None) is not None
    ]
    if unused:
        takes = [flag[o] for o, param in SPLITTER_OPTIONS.items() if param in known]
        raise GemvizError(
            f"{', '.join(unused)} does not apply to --method {args.method} (it takes "
            f"{', '.join(takes) or 'no option'}); leave it out",
            field="--method",
        )
    return make_splitter(args.method, **splitter_settings(args, args.method))


def load_embeddings_for(path: str, ids: list[str], samples_file: str) -> np.ndarray:
    """Embeddings from an ``.npz`` (arrays ``ids``, ``embeddings``) in the order of ``ids``.

    Raises:
        GemvizError: Unreadable file, missing arrays, non-finite or non-numeric rows, or ids
            not matching the samples.
    """
    emb_ids, emb = load_embeddings_file(path)
    return emb[align(ids, emb_ids, samples_file, path)]


def fit_inputs(
    splitter: Splitter, scores_path: str, embeddings_path: str | None, option: str
) -> tuple[np.ndarray, list[str]]:
    """The splitter's input (scores or embeddings) for the samples of ``scores_path``.

    Returns:
        The input array in the file's order and the sample ids.
    """
    frame = load_scores(scores_path) if splitter.input == "scores" else None
    if frame is not None:
        return frame["input_score"].to_numpy(), frame["id"].tolist()
    ids = sample_ids(read_records(scores_path), scores_path)
    if not embeddings_path:
        raise GemvizError(f"the '{type(splitter).__name__}' method needs {option} (an .npz file)")
    return load_embeddings_for(embeddings_path, ids, scores_path), ids
