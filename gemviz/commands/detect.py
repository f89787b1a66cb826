"""``detect``: OOD detection metrics against test files whose truth is known.

Fits the splitter on TRAIN, labels the ID_TEST samples (truth: ID) and the OOD_TEST samples
(truth: OOD), and prints :func:`gemviz.analysis.detection.detection_metrics` as JSON.
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from gemviz.analysis.detection import detection_metrics
from gemviz.commands.common import add_splitter_arguments, fit_inputs, splitter_from_args


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``detect``."""
    parser.add_argument("--train", required=True, help="train samples with input_score")
    parser.add_argument("--id", dest="id_test", required=True, help="test samples known to be ID")
    parser.add_argument("--ood", dest="ood_test", required=True, help="test samples known OOD")
    add_splitter_arguments(parser)
    parser.add_argument("--train-embeddings", help="mahalanobis: train embeddings .npz")
    parser.add_argument("--id-embeddings", help="mahalanobis: ID test embeddings .npz")
    parser.add_argument("--ood-embeddings", help="mahalanobis: OOD test embeddings .npz")


def run(args: argparse.Namespace) -> int:
    """Fit, label both test files and print the metrics as JSON."""
    splitter = splitter_from_args(args)
    x_train, _ = fit_inputs(splitter, args.train, args.train_embeddings, "--train-embeddings")
    x_id, _ = fit_inputs(splitter, args.id_test, args.id_embeddings, "--id-embeddings")
    x_ood, _ = fit_inputs(splitter, args.ood_test, args.ood_embeddings, "--ood-embeddings")
    splitter.fit(x_train)
    truth = np.concatenate([np.ones(len(x_id), bool), np.zeros(len(x_ood), bool)])
    pred = np.concatenate([splitter.predict(x_id), splitter.predict(x_ood)])
    score = np.concatenate([splitter.id_score(x_id), splitter.id_score(x_ood)])
    metrics = detection_metrics(truth, pred, score)
    report = {"method": args.method, "splitter": splitter.describe(), **metrics}
    print(json.dumps(report, indent=2))
    return 0
