"""OOD detection metrics, for when the truth is known (e.g. held-out AITZ steps vs an OOD set).

As in the GEM paper, ID is the *positive* class: precision is the share of samples called ID
that are ID, recall the share of ID samples called ID. The threshold-free metrics use a
continuous ``id_score`` (higher = more ID-like, see ``Splitter.id_score``):

- AUROC: probability that a random ID sample scores above a random OOD one;
- FPR at 95% TPR: share of OOD samples called ID at the most ID-strict threshold that still
  keeps 95% of the ID samples;
- AUPR-In: average precision with ID as positive; AUPR-Out: with OOD as positive and the
  score negated.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gemviz.data.errors import GemvizError


def _as_bool(values: Any, name: str) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise GemvizError(f"{name} must be one value per sample, got shape {arr.shape}")
    if arr.dtype.kind in "OUS":
        # Accept the "ID"/"OOD" labels as written in labeled files.
        text = np.char.upper(arr.astype(str))
        bad = ~np.isin(text, ("ID", "OOD"))
        if bad.any():
            raise GemvizError(f"{name}: expected 'ID'/'OOD', found {arr[bad][0]!r}")
        return text == "ID"
    if arr.dtype.kind == "b":
        return arr
    if arr.dtype.kind in "iuf" and np.isin(arr, (0, 1)).all():
        return arr.astype(bool)
    raise GemvizError(f"{name} must be booleans (True = ID), 0/1 or 'ID'/'OOD'")


def fpr_at_tpr(is_id_true: np.ndarray, id_score: np.ndarray, tpr: float = 0.95) -> float:
    """False-positive rate (OOD called ID) at the first threshold reaching ``tpr`` of ID.

    Args:
        is_id_true: True for ID samples (both classes must be present).
        id_score: Higher = more ID-like.
        tpr: Required true-positive (ID kept) rate.

    Returns:
        The FPR, in [0, 1].
    """
    from sklearn.metrics import roc_curve  # heavy: imported where a curve is drawn

    # Every threshold: with drop_intermediate=True the first one reaching the rate can be dropped.
    fpr, tpr_curve, _ = roc_curve(is_id_true, id_score, drop_intermediate=False)
    return float(fpr[np.searchsorted(tpr_curve, tpr, side="left")])


def detection_metrics(
    is_id_true: Any, is_id_pred: Any, id_score: Any | None = None
) -> dict[str, Any]:
    """Detection quality of an ID/OOD labelling against the truth.

    Args:
        is_id_true: The truth per sample: booleans (True = ID), 0/1 or ``"ID"``/``"OOD"``.
        is_id_pred: The splitter's labels, same forms.
        id_score: Optional continuous score (higher = more ID-like) for AUROC, FPR@95TPR and
            AUPR; without it, or when only one class is present, those are None.

    Returns:
        A JSON-ready dict: ``n``, ``n_id``, ``n_ood``, ``accuracy``, ``precision``, ``recall``,
        ``f1`` (ID positive), ``confusion`` (``tp`` ID called ID, ``fn`` ID called OOD, ``fp``
        OOD called ID, ``tn`` OOD called OOD, plus ``labels`` and ``matrix`` with rows = truth,
        columns = prediction in the order of ``labels``), ``auroc``, ``fpr_at_95_tpr``,
        ``aupr_in``, ``aupr_out``.

    Raises:
        GemvizError: Empty input, lengths differ, labels not understood, or a non-finite score.
    """
    y = _as_bool(is_id_true, "is_id_true")
    p = _as_bool(is_id_pred, "is_id_pred")
    if y.size == 0:
        raise GemvizError("no samples to evaluate")
    if p.size != y.size:
        raise GemvizError(f"{y.size} true labels but {p.size} predicted labels")
    tp = int(np.sum(y & p))
    fn = int(np.sum(y & ~p))
    fp = int(np.sum(~y & p))
    tn = int(np.sum(~y & ~p))
    n = int(y.size)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    out: dict[str, Any] = {
        "n": n,
        "n_id": tp + fn,
        "n_ood": fp + tn,
        "accuracy": (tp + tn) / n,
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "confusion": {
            "tp": tp,
            "fn": fn,
            "fp": fp,
            "tn": tn,
            "labels": ["ID", "OOD"],
            "matrix": [[tp, fn], [fp, tn]],
            "layout": "rows = true label, columns = predicted label",
        },
        "auroc": None,
        "fpr_at_95_tpr": None,
        "aupr_in": None,
        "aupr_out": None,
    }
    if id_score is None or y.all() or not y.any():
        return out
    s = np.asarray(id_score, dtype=np.float64)
    if s.shape != y.shape:
        raise GemvizError(f"{y.size} true labels but {s.size} scores")
    if np.isnan(s).any():
        raise GemvizError("id_score holds NaN")
    # Infinite margins (e.g. no interval at all) are fine for ranking; clip for sklearn.
    s = np.clip(s, -np.finfo(np.float64).max, np.finfo(np.float64).max)
    from sklearn.metrics import average_precision_score, roc_auc_score

    out["auroc"] = float(roc_auc_score(y, s))
    out["fpr_at_95_tpr"] = fpr_at_tpr(y, s, 0.95)
    out["aupr_in"] = float(average_precision_score(y, s))
    out["aupr_out"] = float(average_precision_score(~y, -s))
    return out
