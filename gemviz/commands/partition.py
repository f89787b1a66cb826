"""``partition``: label the test samples ID/OOD from train and test input scores.

Writes the test file's records, in their order and with every field as read, each with an
added ``"label"`` of ``"ID"`` or ``"OOD"`` (an existing ``label`` field is replaced).
"""

from __future__ import annotations

import argparse

import numpy as np

from gemviz.commands.common import add_splitter_arguments, fit_inputs, splitter_from_args
from gemviz.data.fields import LABEL
from gemviz.data.read import read_records
from gemviz.data.safety import check_output
from gemviz.data.write import write_records


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
