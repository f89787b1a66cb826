"""``partition``: label the test samples ID/OOD from train and test input scores.

Writes the test file's records, in their order and with every field as read, each with an
added ``"label"`` of ``"ID"`` or ``"OOD"`` (an existing ``label`` field is replaced).
"""

from __future__ import annotations

import argparse

import numpy as np

from gemviz.data.errors import GemvizError
from gemviz.data.io import read_records, write_records
from gemviz.data.records import LABEL, align, load_scores, sample_ids
from gemviz.data.safety import check_output
from gemviz.splitters import SPLITTERS, Splitter, make_splitter

HELP = "label test samples ID/OOD from train and test input scores"


def add_splitter_arguments(parser: argparse.ArgumentParser) -> None:
    """The options shared by ``partition`` and ``detect``: method and its parameters."""
    parser.add_argument(
        "--method", default="gem", choices=list(SPLITTERS), help="partition method (default gem)"
    )
    parser.add_argument(
        "--seed", type=int, default=42, help="random state of the GEM mixture fits (default 42)"
    )
    parser.add_argument(
        "--max-components", type=int, default=19, help="GEM: most mixture components (default 19)"
    )
    parser.add_argument(
        "--sigma", type=float, default=2.0, help="GEM: interval half-width in std (default 2)"
    )
    parser.add_argument(
        "--search-sample",
        type=int,
        default=None,
        help="GEM: run the BIC search on this many sampled train scores (default: all)",
    )
    parser.add_argument(
        "--percentile",
        type=float,
        default=95.0,
        help="percentile/mahalanobis: ID iff ≤ this percentile of train (default 95)",
    )


def splitter_from_args(args: argparse.Namespace) -> Splitter:
    """An unfitted splitter for ``args.method`` with the options that method takes."""
    options = {
        "random_state": args.seed,
        "max_components": args.max_components,
        "sigma": args.sigma,
        "search_sample": args.search_sample,
        "percentile": args.percentile,
    }
    from gemviz.splitters import splitter_params

    known = splitter_params(args.method)
    return make_splitter(args.method, **{k: v for k, v in options.items() if k in known})


def load_embeddings_for(path: str, ids: list[str], samples_file: str) -> np.ndarray:
    """Embeddings from an ``.npz`` (arrays ``ids``, ``embeddings``) in the order of ``ids``.

    Raises:
        GemvizError: Unreadable file, missing arrays, non-finite or non-numeric rows, or ids
            not matching the samples.
    """
    from gemviz.data.inputs import load_embeddings_file

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


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``partition``."""
    parser.add_argument("--train", required=True, help="train samples with input_score")
    parser.add_argument("--test", required=True, help="test samples with input_score")
    parser.add_argument("--out", required=True, help="labeled test records to write (JSON)")
    add_splitter_arguments(parser)
    parser.add_argument("--train-embeddings", help="mahalanobis: train embeddings .npz")
    parser.add_argument("--test-embeddings", help="mahalanobis: test embeddings .npz")


def run(args: argparse.Namespace) -> int:
    """Fit on the train file, label the test file, write OUT and print what was learned."""
    out = check_output(
        args.out, (args.train, args.test, args.train_embeddings, args.test_embeddings)
    )
    splitter = splitter_from_args(args)
    x_train, _ = fit_inputs(splitter, args.train, args.train_embeddings, "--train-embeddings")
    x_test, _ = fit_inputs(splitter, args.test, args.test_embeddings, "--test-embeddings")
    splitter.fit(x_train)
    labels = splitter.labels(x_test)
    records = read_records(args.test)
    labeled = []
    for rec, label in zip(records, labels, strict=True):
        rec = dict(rec)
        rec[LABEL] = str(label)
        labeled.append(rec)
    write_records(out, labeled)
    n_id = int(np.sum(labels == "ID"))
    print(splitter.describe())
    print(f"{n_id} ID, {len(labels) - n_id} OOD of {len(labels)} test samples -> {args.out}")
    return 0
