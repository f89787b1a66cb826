"""``coverage``: which test entries each training set covers, and whether gains sit there.

Embeds the test entries and each ``--train-set`` with the packaged sentence model (through the
embedding cache, as ``score`` does) and prints one of:

* by default, one row per training set: ``train_set, n_train, n_test, k, covered, coverage,
  coverage_lo, coverage_hi, density, precision, recall, median_nn_distance,
  functions_covered`` (:mod:`gemviz.analysis.coverage`);
* ``--per-entry``: one row per set and entry: ``train_set, id, nn_distance, covered,
  nearest_id, nearest_text, functions_needed, functions_missing``;
* ``--profile``: each set's profile (:mod:`gemviz.analysis.set_profile`);
* ``--functions``: the test entries' functions x sets (:mod:`gemviz.analysis.functions_coverage`);
* with ``--model NAME=FILE ... --baseline NAME``: the decisive comparison, one row per set and
  configuration (:mod:`gemviz.analysis.coverage_gain`).

Possible answers (for function coverage) are read from ``--answers``, else from
``possible_answer/<test file name>`` beside the test file when it is there (BFCL's layout).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from gemviz.analysis.coverage import DEFAULT_K, entry_rows, measure_all, set_rows
from gemviz.analysis.coverage_gain import decisive_rows
from gemviz.analysis.functions_coverage import entry_needs, function_table, seen_functions
from gemviz.analysis.set_profile import profile_rows
from gemviz.commands.common import (
    checked_out,
    emit,
    input_files,
    model_paths,
    named_paths,
    render,
)
from gemviz.data import bfcl
from gemviz.data import clusters as clusters_mod
from gemviz.data.chat import TEXT_MODES
from gemviz.data.errors import GemvizError
from gemviz.data.study import Study
from gemviz.scoring.training import embed_file
from gemviz.splitters.knn import RULES

#: ``--format`` choices; ``table`` is Markdown.
FORMATS = {"table": "markdown", "json": "json", "csv": "csv"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``coverage``."""
    parser.add_argument("--test", required=True, help="the test entries (e.g. BFCL_v4_*.json)")
    parser.add_argument(
        "--train-set", action="append", required=True, metavar="NAME=FILE",
        help="a training set (chat JSONL with messages, parquet with prompt or messages); "
        "repeat for each set",
    )  # fmt: skip
    parser.add_argument(
        "--answers", default=None,
        help="BFCL possible answers (default: possible_answer/<test name> beside --test)",
    )  # fmt: skip
    parser.add_argument("--k", type=int, default=DEFAULT_K, help="neighbours (default 5)")
    parser.add_argument(
        "--rule", choices=RULES, default="naeem",
        help="covered: within some training example's k-NN radius (naeem, default) or k-th "
        "neighbour distance under the set's own 95th percentile (sun)",
    )  # fmt: skip
    parser.add_argument(
        "--text", choices=TEXT_MODES, default="first",
        help="text of a conversation: first user message (default) or all joined",
    )  # fmt: skip
    parser.add_argument(
        "--tokenizer", default=None, metavar="FOLDER",
        help="folder with tokenizer.json for --profile (default: the packaged model's)",
    )  # fmt: skip
    parser.add_argument("--embed-method", default="sentence", help="embedding method")
    parser.add_argument("--embed-model", default="default", help="model folder, or default")
    what = parser.add_mutually_exclusive_group()
    what.add_argument("--per-entry", action="store_true", help="one row per set and entry")
    what.add_argument("--profile", action="store_true", help="each training set's profile")
    what.add_argument("--functions", action="store_true", help="test functions x sets")
    parser.add_argument(
        "--model", action="append", default=None, metavar="NAME=FILE",
        help="a configuration's result or BFCL score file; the same NAME again adds a run",
    )  # fmt: skip
    parser.add_argument("--baseline", default=None, help="the --model every other is compared with")
    parser.add_argument("--cluster-by", default="auto", metavar="FIELD",
                        help="field grouping test entries into clusters (default auto)")  # fmt: skip
    parser.add_argument("--format", choices=list(FORMATS), default="table")
    parser.add_argument("--out", default=None, help="write to this file instead of printing")


def _answers(args: argparse.Namespace) -> dict | None:
    if args.answers:
        return bfcl.possible_answers(args.answers)
    beside = Path(args.test).parent / "possible_answer" / Path(args.test).name
    return bfcl.possible_answers(beside) if beside.is_file() else None


def _check(args: argparse.Namespace, models: dict) -> None:
    if args.k < 1:
        raise GemvizError(f"--k must be at least 1, got {args.k}")
    if models and not args.baseline:
        raise GemvizError("--model needs --baseline NAME (the configuration to compare with)")
    if args.baseline and args.baseline not in models:
        raise GemvizError(f"--baseline '{args.baseline}' is not one of the --model names")
    if models and (args.per_entry or args.profile or args.functions):
        raise GemvizError("--model gives the decisive comparison; leave out --per-entry, "
                          "--profile and --functions")  # fmt: skip


def _clusters(records: list[dict], cluster_by: str):
    frame = pd.DataFrame.from_records(records)
    field, codes = clusters_mod.resolve(frame, cluster_by)
    return None if field == clusters_mod.NONE else codes


def _frame(args, test, sets, models) -> pd.DataFrame:
    """The rows the options ask for."""
    answers = _answers(args)
    needs = entry_needs(test.records, answers) if answers else None
    if args.profile:
        return profile_rows(sets, args.tokenizer)
    if args.functions:
        seen = {name: seen_functions(s.records) for name, s in sets.items()}
        return function_table(test.records, needs or [], seen)
    measures = measure_all(test, sets, args.k, args.rule)
    if args.per_entry:
        return entry_rows(test, sets, measures, needs)
    if not models:
        clusters = _clusters(_entries(test.records, args.test), args.cluster_by)
        return set_rows(test, sets, measures, needs, clusters)
    study = Study.from_files({}, models, args.test, cluster_by=args.cluster_by)
    where = {sid: i for i, sid in enumerate(test.ids)}
    order = [where[sid] for sid in study.ids]
    covered = {name: m.covered[order] for name, m in measures.items()}
    return decisive_rows(study, covered, args.baseline)


def _entries(records: list[dict], file: str) -> list[dict]:
    return bfcl.with_text_fields(records, file) if bfcl.is_test_file(records) else records


def run(args: argparse.Namespace) -> int:
    """Embed, measure and print or write the rows."""
    sets_paths = named_paths(args.train_set, "--train-set")
    models = model_paths(args.model)
    _check(args, models)
    out = checked_out(args.out, input_files(args.test, args.answers, sets_paths, models))
    embed = {"method": args.embed_method, "model": args.embed_model}
    test = embed_file(args.test, args.text, **embed)
    sets = {name: embed_file(path, args.text, **embed) for name, path in sets_paths.items()}
    frame = _frame(args, test, sets, models)
    text = render(frame, FORMATS[args.format], digits=4)
    if models and args.format == "table":
        text += f"\ndid_p_adjusted: Holm over the {len(frame)} rows above, one family.\n"
    emit(text, out)
    return 0
