"""The contract every splitter follows, and the checks they share.

A *splitter*'s partition step takes the train samples' inputs (1-D input scores or 2-D
embeddings, named by the class attribute ``input``), learns what in-distribution looks like
in ``fit``, and labels new samples in ``predict`` (True = ID). ``id_score`` gives a continuous
score, higher = more ID-like, for threshold-free metrics such as AUROC. As in scikit-learn,
``__init__`` only stores parameters, learned attributes end with ``_``, and using a splitter
before ``fit`` raises :class:`~gemviz.data.errors.NotFittedError`.
"""

from __future__ import annotations

import copy
import inspect
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from gemviz.data.errors import GemvizError, NotFittedError


@dataclass(frozen=True)
class Control:
    """How a form offers one splitter parameter: a slider or a number box over a range.

    The default is not repeated here: it is the constructor's (see
    :func:`gemviz.splitters.splitter_params`), so a page, a command and the report agree.

    Attributes:
        name: The constructor parameter.
        label: What the form calls it.
        lo, hi: The range offered.
        step: The widget's step; an integer step means an integer parameter.
        widget: ``"slider"`` or ``"number"``.
        help: One sentence for the form's tooltip.
    """

    name: str
    label: str
    lo: float
    hi: float
    step: float
    widget: str = "slider"
    help: str = ""


class Splitter:
    """Base class: parameter handling, input checks and the ID/OOD label helper."""

    #: ``"scores"`` (the input is a 1-D array of input scores) or ``"embeddings"`` (n x d).
    input: ClassVar[str] = "scores"
    #: The learned attribute whose presence means the splitter has been fitted.
    _fitted_attr: ClassVar[str] = ""
    #: The parameters a form offers, in order (the others keep their defaults).
    controls: ClassVar[tuple[Control, ...]] = ()
    #: Parameters that only change how what was learned is applied: :meth:`with_params`
    #: moves them on a fitted splitter without fitting again.
    refit_free: ClassVar[frozenset[str]] = frozenset()

    def fit(self, values: Any) -> Splitter:  # pragma: no cover - abstract
        raise NotImplementedError

    def predict(self, values: Any) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def id_score(self, values: Any) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def describe(self) -> str:  # pragma: no cover - abstract
        """A short human-readable summary of what was learned."""
        raise NotImplementedError

    def check_params(self) -> None:
        """Raise :class:`GemvizError` for an invalid parameter (also done by ``fit``)."""

    def get_params(self) -> dict[str, Any]:
        """The constructor parameters and their current values."""
        names = [p for p in inspect.signature(type(self).__init__).parameters if p != "self"]
        return {name: getattr(self, name) for name in names}

    def with_params(self, **params: Any) -> Splitter:
        """A fitted copy with some of :attr:`refit_free` moved, without fitting again.

        Args:
            **params: New values of parameters named in :attr:`refit_free`.

        Returns:
            A new splitter; ``self`` is left as it was (it may be shared by a cache).

        Raises:
            NotFittedError: ``self`` is not fitted.
            GemvizError: A parameter that needs a new fit, or an invalid value.
        """
        self._check_fitted()
        refit = sorted(set(params) - self.refit_free)
        if refit:
            raise GemvizError(
                f"{', '.join(refit)} of {type(self).__name__} need a new fit; moving "
                f"{', '.join(sorted(self.refit_free)) or 'nothing'} does not"
            )
        out = copy.copy(self)
        for name, value in params.items():
            setattr(out, name, value)
        out.check_params()
        out._apply_params()
        return out

    def _apply_params(self) -> None:
        """Recompute what depends on :attr:`refit_free` from the learned attributes."""

    def labels(self, values: Any) -> np.ndarray:
        """``"ID"``/``"OOD"`` strings for ``values`` (object array), from :meth:`predict`."""
        return np.where(self.predict(values), "ID", "OOD").astype(object)

    def fit_predict(self, values: Any) -> np.ndarray:
        """Fit on ``values`` and label the same samples."""
        return self.fit(values).predict(values)

    def _check_fitted(self) -> None:
        if not hasattr(self, self._fitted_attr):
            raise NotFittedError(
                f"this {type(self).__name__} is not fitted yet; call fit() with the train "
                "samples first"
            )

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({params})"


def as_scores(values: Any, what: str = "scores") -> np.ndarray:
    """Check and flatten 1-D input scores (a column vector is accepted too).

    Raises:
        GemvizError: Not numeric, not 1-D, empty, or holding NaN/inf.
    """
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise GemvizError(f"{what} must be numbers ({exc})") from None
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise GemvizError(f"{what} must be a 1-D array of input scores, got shape {arr.shape}")
    if arr.size == 0:
        raise GemvizError(f"no {what} given")
    if not np.isfinite(arr).all():
        raise GemvizError(f"{what} hold NaN or infinite values")
    return arr


def as_embeddings(values: Any, what: str = "embeddings") -> np.ndarray:
    """Check 2-D embeddings (n samples x d dimensions).

    Raises:
        GemvizError: Not numeric, not 2-D, empty, or holding NaN/inf.
    """
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise GemvizError(f"{what} must be numbers ({exc})") from None
    if arr.ndim != 2:
        raise GemvizError(
            f"{what} must be a 2-D array (samples x dimensions), got shape {arr.shape}"
        )
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise GemvizError(f"no {what} given")
    if not np.isfinite(arr).all():
        raise GemvizError(f"{what} hold NaN or infinite values")
    return arr


def check_percentile(q: float) -> float:
    """Validate a percentile in (0, 100]."""
    if isinstance(q, bool) or not isinstance(q, (int, float, np.number)) or not 0 < q <= 100:
        raise GemvizError(f"percentile must be a number in (0, 100], got {q!r}")
    return float(q)
