"""Splitters' partition step: label test samples ID or OOD from what the train samples look like.

``SPLITTERS`` maps a method name to its class; pages and commands list its keys. Every class
follows the contract of :class:`gemviz.splitters.base.Splitter`.

    >>> splitter = make_splitter("gem", sigma=2.0).fit(train_scores)
    >>> splitter.predict(test_scores)          # True = ID
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
import pandas as pd

from gemviz.data.errors import GemvizError, NotFittedError
from gemviz.data.fields import LABEL, SCORE
from gemviz.splitters.base import Control, Splitter
from gemviz.splitters.gem import (
    GemSplitter,
    GmmFit,
    fit_gmm_1d,
    in_intervals,
    interval_margin,
    merge_intervals,
)
from gemviz.splitters.knn import KnnSplitter
from gemviz.splitters.mahalanobis import MahalanobisSplitter
from gemviz.splitters.percentile import PercentileSplitter

SPLITTERS: dict[str, type[Splitter]] = {
    "gem": GemSplitter,
    "percentile": PercentileSplitter,
    "mahalanobis": MahalanobisSplitter,
    "knn": KnnSplitter,
}

__all__ = [
    "SPLITTERS",
    "Control",
    "GemSplitter",
    "GmmFit",
    "KnnSplitter",
    "MahalanobisSplitter",
    "NotFittedError",
    "PercentileSplitter",
    "Splitter",
    "default_params",
    "fit_gmm_1d",
    "in_intervals",
    "interval_margin",
    "make_splitter",
    "merge_intervals",
    "partition_frames",
    "split_params",
    "splitter_controls",
    "splitter_params",
]


def splitter_params(name: str) -> dict[str, Any]:
    """The parameters of splitter ``name`` with their defaults (for forms and help)."""
    cls = _lookup(name)
    sig = inspect.signature(cls.__init__)
    return {p.name: p.default for p in sig.parameters.values() if p.name != "self"}


def default_params(name: str) -> dict[str, Any]:
    """The registry's settings of splitter ``name`` that have a value (``None`` ones left out).

    What a splitter made with no settings records, e.g. in ``workspace.json``.
    """
    return {k: v for k, v in splitter_params(name).items() if v is not None}


def splitter_controls(name: str) -> list[tuple[Control, Any]]:
    """What a form offers for splitter ``name``: each :class:`Control` with its default.

    Raises:
        GemvizError: Unknown name.
    """
    defaults = splitter_params(name)
    return [(c, defaults[c.name]) for c in _lookup(name).controls]


def split_params(name: str, params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``params`` cut into those a fit depends on and those moved after it (``refit_free``).

    A cache of fitted splitters keys on the first part only, so moving, say, GEM's sigma
    re-labels from the cached mixture.

    Raises:
        GemvizError: Unknown name.
    """
    free = _lookup(name).refit_free
    fit = {k: v for k, v in params.items() if k not in free}
    return fit, {k: v for k, v in params.items() if k in free}


def _lookup(name: str) -> type[Splitter]:
    try:
        return SPLITTERS[name]
    except KeyError:
        raise GemvizError(
            f"unknown partition method '{name}'; choose one of {', '.join(SPLITTERS)}"
        ) from None


def make_splitter(name: str, **params: Any) -> Splitter:
    """An unfitted splitter by registry name.

    Args:
        name: A key of :data:`SPLITTERS`.
        **params: Constructor parameters; ones the method does not take are refused, except
            that ``None`` values are dropped (so a command can pass every option it has).

    Returns:
        The splitter, its parameters checked.

    Raises:
        GemvizError: Unknown name or parameter, or an invalid parameter value.
    """
    cls = _lookup(name)
    known = splitter_params(name)
    unknown = sorted(k for k, v in params.items() if k not in known and v is not None)
    if unknown:
        raise GemvizError(
            f"the '{name}' method does not take {', '.join(unknown)}; it takes "
            f"{', '.join(known) or 'no parameters'}"
        )
    splitter = cls(**{k: v for k, v in params.items() if k in known and v is not None})
    splitter.check_params()
    return splitter


def partition_frames(
    train: pd.DataFrame,
    test: pd.DataFrame,
    method: str = "gem",
    *,
    train_embeddings: np.ndarray | None = None,
    test_embeddings: np.ndarray | None = None,
    **params: Any,
) -> tuple[pd.DataFrame, Splitter]:
    """Fit a splitter on the train frame and label the test frame.

    Args:
        train, test: Frames from :func:`gemviz.data.loaders.load_scores` (an ``input_score`` column),
            for score-based methods.
        method: A key of :data:`SPLITTERS`.
        train_embeddings, test_embeddings: Row-aligned embeddings (n x d) for methods whose
            ``input`` is ``"embeddings"``.
        **params: Splitter parameters (see :func:`make_splitter`).

    Returns:
        A copy of ``test`` with a ``label`` column of ``"ID"``/``"OOD"``, and the fitted
        splitter.

    Raises:
        GemvizError: Missing scores or embeddings, mismatched lengths, bad parameters.
    """
    splitter = make_splitter(method, **params)
    if splitter.input == "embeddings":
        if train_embeddings is None or test_embeddings is None:
            raise GemvizError(
                f"the '{method}' method needs train and test embeddings (.npz files from the "
                "score step)"
            )
        x_train, x_test = train_embeddings, test_embeddings
        pairs = ((len(train), len(x_train), "train"), (len(test), len(x_test), "test"))
    else:
        for name, frame in (("train", train), ("test", test)):
            if SCORE not in frame.columns:
                raise GemvizError(f"the {name} samples have no '{SCORE}' column")
        x_train = train[SCORE].to_numpy(dtype=np.float64)
        x_test = test[SCORE].to_numpy(dtype=np.float64)
        pairs = ()
    for n_rows, n_emb, name in pairs:
        if n_rows != n_emb:
            raise GemvizError(f"{name}: {n_rows} samples but {n_emb} embeddings")
    splitter.fit(x_train)
    out = test.copy()
    out[LABEL] = splitter.labels(x_test)
    return out, splitter
