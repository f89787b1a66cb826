"""``stability``: each test step's ID probability over cluster-bootstrap refits of a splitter.

Refits the splitter (``--method`` and its options, as for ``partition``) on ``--resamples``
resamples of the train file, drawing whole clusters (``--cluster-by``: tasks or episodes)
with replacement, labels the test file each time, and writes the test records with the
original ``label`` (the fit on the whole train file), ``id_probability``, the share of
refits that call the step ID, and ``id_probability_se``, its Monte Carlo standard error (the
default 250 refits keep it under 0.02 near 0.9).
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from gemviz.analysis.stability import id_probability, id_probability_se, mc_error, refit_labels
from gemviz.commands.common import add_splitter_arguments, fit_inputs, splitter_from_args
from gemviz.data import clusters
from gemviz.data.errors import GemvizError
from gemviz.data.fields import LABEL
from gemviz.data.loaders import load_scores
from gemviz.data.read import read_records
from gemviz.data.safety import check_output
from gemviz.data.write import write_records


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``stability``."""
    parser.add_argument("--train", required=True, help="train samples with input_score")
    parser.add_argument("--test", required=True, help="test samples with input_score")
    parser.add_argument(
        "--out", required=True, help="test records + label + id_probability to write"
    )
    parser.add_argument(
        "--resamples",
        type=int,
        default=250,
        help="bootstrap refits (default 250: Monte Carlo error under 0.02 near 0.9)",
    )
    parser.add_argument(
        "--cluster-by",
        default="auto",
        metavar="FIELD",
        help="train field whose clusters are resampled as units (default auto: episode_id, "
        "else task; 'none' resamples single steps)",
    )
    parser.add_argument(
        "--resample-seed", type=int, default=42, help="seed of the resampling (default 42)"
    )
    add_splitter_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Refit, label, write OUT and print a summary."""
    out = check_output(args.out, (args.train, args.test))
    if args.resamples < 1:
        raise GemvizError("--resamples must be at least 1")
    splitter = splitter_from_args(args)
    if splitter.input != "scores":
        raise GemvizError(f"stability supports score-based methods, not '{args.method}'")
    x_train, _ = fit_inputs(splitter, args.train, None, "--train-embeddings")
    x_test, _ = fit_inputs(splitter, args.test, None, "--test-embeddings")
    field, codes = clusters.resolve(load_scores(args.train), args.cluster_by)
    original = splitter.fit(x_train).predict(x_test)
    refits = refit_labels(
        splitter,
        x_train,
        codes,
        x_test,
        args.resamples,
        args.resample_seed,
        lambda done, total: print(f"\rrefit {done}/{total}", end="", file=sys.stderr),
    )
    print(file=sys.stderr)
    prob = id_probability(refits)
    se = id_probability_se(refits)
    records = []
    for rec, is_id, p, e in zip(read_records(args.test), original, prob, se, strict=True):
        fields = {LABEL: "ID" if is_id else "OOD", "id_probability": float(p)}
        records.append(dict(rec, **fields, id_probability_se=float(e)))
    write_records(out, records)
    flips = int(np.sum((prob > 0) & (prob < 1)))
    print(
        f"{args.resamples} refits on {len(np.unique(codes))} train clusters ({field}): "
        f"{flips} of {len(prob)} test steps change label at least once; Monte Carlo error "
        f"of an ID probability near 0.9: {mc_error(args.resamples):.3f} -> {args.out}"
    )
    return 0
