"""``python -m gemviz workspace``: create, list and change workspaces from files on disk.

Subcommands live in :data:`SUBCOMMANDS` (name -> (help, add_arguments, run)); ``annotations``
is kept in :mod:`gemviz.commands.workspace_annotations`.

``workspace create`` prints the new workspace's slug as the last word of its last line, so a
script can ``slug=$(python -m gemviz workspace create ... | tail -1 | awk '{print $NF}')``.
Every file is checked against the test set before anything is written.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable

from gemviz.actions import FORMATS, RULES
from gemviz.commands import workspace_annotations, workspace_configs
from gemviz.commands.common import add_gem_arguments, model_paths, open_workspace, splitter_settings
from gemviz.data.errors import GemvizError
from gemviz.data.read import read_records
from gemviz.workspace.bfcl_runs import folder_runs, merge_runs
from gemviz.workspace.catalog import scan_workspaces
from gemviz.workspace.configs import set_configs
from gemviz.workspace.create import add_splitter, create_from_files
from gemviz.workspace.lock import workspace_lock
from gemviz.workspace.models import add_model, add_models
from gemviz.workspace.rename import rename_entry

Sub = tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]
#: Subcommand name -> (help, add_arguments, run).
SUBCOMMANDS: dict[str, Sub] = {}


def register(name: str, help: str, add_arguments, run) -> None:
    """Add a ``workspace`` subcommand (e.g. ``annotations``)."""
    SUBCOMMANDS[name] = (help, add_arguments, run)


# -- parsing helpers --------------------------------------------------------------------------


def _pair(text: str, option: str, second_optional: bool = False) -> tuple[str, tuple[str, str]]:
    """``NAME=A,B`` -> (NAME, (A, B)); with ``second_optional`` B may be left out."""
    name, sep, files = text.partition("=")
    a, comma, b = files.partition(",")
    if not sep or not name.strip() or not a or (not comma and not second_optional):
        form = "NAME=TRAIN,TEST" if not second_optional else "NAME=TRAIN[,TEST]"
        raise GemvizError(f"{option} takes {form}, got {text!r}")
    return name.strip(), (a.strip(), b.strip() or None)


def _single(text: str, option: str) -> tuple[str, str]:
    name, sep, path = text.partition("=")
    if not sep or not name.strip() or not path.strip():
        raise GemvizError(f"{option} takes NAME=FILE, got {text!r}")
    return name.strip(), path.strip()


def _collect(items, parse, option: str) -> dict:
    out = {}
    for text in items or []:
        name, value = parse(text, option)
        if name in out:
            raise GemvizError(f"{option}: the name '{name}' is given twice")
        out[name] = value
    return out


def _mapping_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--pred-field", help="field of the raw predictions (default: prediction)")
    p.add_argument("--type-field", help="field of the type match (e.g. 'type match')")
    p.add_argument("--exact-field", help="field of the exact match (e.g. 'exact match')")
    p.add_argument(
        "--rules",
        choices=list(RULES),
        help="compute the matches from the predictions with this rule set (ground truth: the "
        "test set's --gt-field)",
    )
    p.add_argument("--gt-field", default="action", help="ground-truth action field of the test set")
    p.add_argument("--format", dest="fmt", choices=list(FORMATS), default="auto")


def _mapping(args: argparse.Namespace) -> dict:
    return {
        "pred_field": args.pred_field,
        "type_field": args.type_field,
        "exact_field": args.exact_field,
        "rules": args.rules,
        "gt_field": args.gt_field,
        "fmt": args.fmt,
    }


# -- subcommands ------------------------------------------------------------------------------


def _create_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", help="display name (its slug names the folder)")
    p.add_argument("--test", required=True, help="test-set records (JSON/JSONL/CSV/parquet)")
    p.add_argument("--train", help="train-set records, for scoring later")
    p.add_argument("--image-root", help="folder for relative image_path values")
    p.add_argument("--cluster-by", default="auto", help="field grouping steps (default auto)")
    p.add_argument("--split", action="append", metavar="NAME=LABELED", help="labeled test file")
    p.add_argument(
        "--scores",
        action="append",
        metavar="NAME=TRAIN_SCORES[,TEST_SCORES]",
        help="GEM score files, partitioned with GEM at once (test scores default: --test)",
    )
    p.add_argument(
        "--train-set",
        action="append",
        metavar="NAME=TRAINING_SET",
        help="a splitter from a training set (chat JSONL with messages, parquet with a prompt "
        "or messages column): the test entries embedded with its prompts by the packaged "
        "sentence model and partitioned by --train-method; repeat for each set",
    )
    p.add_argument(
        "--text",
        choices=("first", "all"),
        default="first",
        help="text of a conversation for --train-set: the first user message (default) or "
        "every user message joined",
    )
    p.add_argument(
        "--train-method",
        choices=("knn", "gem"),
        default="knn",
        help="partition of --train-set: knn (default: an entry is ID when it lies within the "
        "5-nearest-neighbour radius of some training example) or gem (GEM on the distance to "
        "the set's centroid)",
    )
    p.add_argument(
        "--embeddings",
        action="append",
        metavar="NAME=TRAIN_NPZ,TEST_NPZ",
        help="embeddings of splitter NAME, for UMAP and neighbours",
    )
    p.add_argument(
        "--model",
        action="append",
        metavar="NAME=RESULTS",
        help="a model's result file (or a BFCL score file); the same NAME again adds a run; "
        "the field options below apply to every single-run --model (map files one by one "
        "with add-model)",
    )
    _bfcl_runs_arg(p)
    _mapping_args(p)
    workspace_configs.add_config_options(p)


def _bfcl_runs_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--bfcl-runs",
        action="append",
        metavar="DIR",
        help="a BFCL results folder as the evaluator writes it, one folder per run: "
        "DIR/<config>/<run>/score/<model>/…/BFCL_v4_<category>_score.json or "
        "DIR/<run>/score/<config>/…; each configuration becomes a model named by its folder, "
        "with one run per score file; repeat for several folders",
    )


def _folder_models(args: argparse.Namespace, test: str | None) -> dict[str, list[str]]:
    """The configurations of every ``--bfcl-runs`` folder (names given once over all)."""
    return folder_runs(args.bfcl_runs or [], test)


def _create(args: argparse.Namespace) -> int:
    models = merge_runs(model_paths(args.model), _folder_models(args, args.test))
    mapping = _mapping(args)
    configs = workspace_configs.plan_configs(args, list(models))
    ws = create_from_files(
        args.name,
        args.test,
        train=args.train,
        image_root=args.image_root,
        cluster_by=args.cluster_by,
        splits=_collect(args.split, _single, "--split"),
        scores=_collect(args.scores, lambda t, o: _pair(t, o, True), "--scores"),
        embeddings=_collect(args.embeddings, _pair, "--embeddings"),
        models={m: files[0] if len(files) == 1 else files for m, files in models.items()},
        model_mappings={m: mapping for m, files in models.items() if len(files) == 1},
        training_sets=_collect(args.train_set, _single, "--train-set"),
        text=args.text,
        train_method=args.train_method,
    )
    for s in ws.splitters:
        n_id = sum(r.get("label") == "ID" for r in _labels(s.labeled))
        print(f"splitter {s.name}: {s.partition or 'labeled file'}, {n_id} ID")
    for m in ws.models:
        how = f"matched with {m.rules}" if m.rules else "results"
        runs = len(m.run_files())
        print(f"model {m.name}: {how}" + (f", {runs} runs" if runs > 1 else ""))
    if configs:
        set_configs(ws, configs)
        workspace_configs.print_configs(ws)
    print(f"created workspace {ws.slug}")
    return 0


def _labels(path: str) -> list[dict]:
    return read_records(path)


def _list_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")


def _list(args: argparse.Namespace) -> int:

    good, broken = scan_workspaces()
    rows = [
        {
            "slug": w.slug,
            "name": w.name,
            "splitters": [s.name for s in w.splitters],
            "models": [m.name for m in w.models],
            "broken": None,
        }
        for w in good
    ] + [
        {
            "slug": b.slug,
            "name": b.workspace.name if b.workspace else b.slug,
            "splitters": [],
            "models": [],
            "broken": b.reason,
        }
        for b in broken
    ]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print("no workspaces yet; create one with: python -m gemviz workspace create NAME --test …")
    for r in rows:
        what = (
            f"BROKEN: {r['broken']}"
            if r["broken"]
            else f"splitters: {', '.join(r['splitters']) or '-'}; "
            f"models: {', '.join(r['models']) or '-'}"
        )
        print(f"{r['slug']}\t{r['name']}\t{what}")
    return 0


def _add_split_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("workspace", help="workspace slug")
    p.add_argument("name", help="splitter name")
    p.add_argument("--labeled", help="labeled test file (label = ID/OOD)")
    p.add_argument("--train-scores", help="train score file (GEM format)")
    p.add_argument("--test-scores", help="test score file (default: the workspace's test set)")
    p.add_argument("--train-embeddings", help="train embeddings .npz")
    p.add_argument("--test-embeddings", help="test embeddings .npz")
    add_gem_arguments(p, search_sample=False)
    p.add_argument("--replace", action="store_true", help="replace a splitter of that name")


def _add_split(args: argparse.Namespace) -> int:
    ws = open_workspace(args.workspace)
    test_scores = args.test_scores or (ws.test if args.train_scores else None)
    entry = add_splitter(
        ws,
        args.name,
        replace=args.replace,
        labeled=args.labeled,
        train_scores=args.train_scores,
        test_scores=test_scores,
        train_embeddings=args.train_embeddings,
        test_embeddings=args.test_embeddings,
        params=splitter_settings(args, "gem"),
    )
    print(f"added splitter {entry.name} to {ws.slug}")
    return 0


def _add_model_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("workspace", help="workspace slug")
    p.add_argument("name", nargs="?", help="model name (left out with --bfcl-runs)")
    p.add_argument(
        "results",
        nargs="*",
        help="result file (JSON/JSONL/CSV/parquet, or a BFCL score file); several files are "
        "several runs, and a model name the workspace has already gets them as more runs",
    )
    p.add_argument("--replace", action="store_true", help="replace a model of that name")
    _bfcl_runs_arg(p)
    _mapping_args(p)


def _add_model(args: argparse.Namespace) -> int:
    ws = open_workspace(args.workspace)
    if args.bfcl_runs:
        if args.name or args.results:
            raise GemvizError(
                "--bfcl-runs names the models by their folders; leave out NAME and RESULTS"
            )
        for entry in add_models(ws, _folder_models(args, ws.test), replace=args.replace):
            print(f"added model {entry.name} to {ws.slug} ({len(entry.run_files())} runs)")
        return 0
    if not args.name or not args.results:
        raise GemvizError("give the model's NAME and its RESULTS file(s), or --bfcl-runs DIR")
    results = args.results[0] if len(args.results) == 1 else args.results
    entry = add_model(
        ws, args.name, results, replace=args.replace, add_run=not args.replace, **_mapping(args)
    )
    how = f" (matched with {entry.rules})" if entry.rules else ""
    runs = len(entry.run_files())
    how += f" ({runs} runs)" if runs > 1 else ""
    print(f"added model {entry.name} to {ws.slug}{how}")
    return 0


def _remove_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("workspace", help="workspace slug")
    p.add_argument("--splitter", action="append", default=[], help="splitter to unregister")
    p.add_argument("--model", action="append", default=[], help="model to unregister")
    p.add_argument(
        "--delete", action="store_true", help="delete the whole workspace folder (your files stay)"
    )


def _remove(args: argparse.Namespace) -> int:
    ws = open_workspace(args.workspace)
    if args.delete:
        ws.delete()
        print(f"deleted workspace {ws.slug}")
        return 0
    if not args.splitter and not args.model:
        raise GemvizError("say what to remove: --splitter NAME, --model NAME or --delete")
    for kind, names, have in (
        ("splitter", args.splitter, [s.name for s in ws.splitters]),
        ("model", args.model, [m.name for m in ws.models]),
    ):
        for n in names:
            if n not in have:
                raise GemvizError(f"workspace '{ws.slug}' has no {kind} '{n}'")
    for n in args.splitter:
        ws.remove("splitter", n)
    for n in args.model:
        ws.remove("model", n)
    print(f"removed {len(args.splitter) + len(args.model)} entr(y/ies) from {ws.slug}")
    return 0


def _rename_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("workspace", help="workspace slug")
    p.add_argument("old", help="current name")
    p.add_argument("new", help="new name")


def _renamer(kind: str):
    def run(args: argparse.Namespace) -> int:
        ws = open_workspace(args.workspace)
        rename_entry(ws, kind, args.old, args.new)
        print(f"renamed {kind} '{args.old}' to '{args.new.strip()}' in {ws.slug}")
        return 0

    return run


def _one_at_a_time(run):
    """``run`` holding the workspace's lock from reading it to saving it, so edits from two
    commands at once follow each other and both are kept."""

    def locked(args: argparse.Namespace) -> int:
        with workspace_lock(open_workspace(args.workspace).folder):
            return run(args)

    return locked


register("create", "make a workspace from a test set and its files", _create_args, _create)
register("list", "list the workspaces (broken ones with their reason)", _list_args, _list)
register(
    "add-split",
    "add a splitter (labeled file or GEM score pair)",
    _add_split_args,
    _one_at_a_time(_add_split),
)
register(
    "add-model",
    "add a model's result file (fields mapped)",
    _add_model_args,
    _one_at_a_time(_add_model),
)
register(
    "remove",
    "unregister splitters/models, or delete a workspace",
    _remove_args,
    _one_at_a_time(_remove),
)
register(
    "rename-model",
    "rename a model (its files stay)",
    _rename_args,
    _one_at_a_time(_renamer("model")),
)
register(
    "rename-split",
    "rename a splitter (its files stay)",
    _rename_args,
    _one_at_a_time(_renamer("splitter")),
)
register(
    "add-configs",
    "set the configuration table (method, training set, base model, notes, baseline)",
    workspace_configs.add_arguments,
    _one_at_a_time(workspace_configs.run),
)
register(
    "annotations",
    "print the tags and notes on a workspace's steps",
    workspace_annotations.add_arguments,
    workspace_annotations.run,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the subcommands of :data:`SUBCOMMANDS`."""
    sub = parser.add_subparsers(dest="workspace_command", metavar="SUBCOMMAND", required=True)
    for name, (text, add, run_sub) in SUBCOMMANDS.items():
        p = sub.add_parser(name, help=text, description=text)
        add(p)
        p.set_defaults(_workspace_run=run_sub)


def run(args: argparse.Namespace) -> int:
    """Run the chosen subcommand."""
    return int(args._workspace_run(args) or 0)
