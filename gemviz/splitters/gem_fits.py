"""GEM fits kept on disk, so that drawing a splitter's fit never fits its mixture again.

A GEM fit depends on the train scores, the fit settings (not sigma, which only moves the
intervals) and the fitting code. A workspace's GEM splitter is fitted when it is made; the
report draws that fit for every splitter. :func:`fitted_gem` writes each fit under the cache
(``gem-fits/``), named by a digest of the scores, the settings and the fitting modules'
source, and reads it back for whoever asks again, so the report draws the fit the splitter
was made with. Floats are written in full (``repr``), so a fit read back is the fit computed:
same component count, means, spreads, weights and BIC values. A file that cannot be read or
written is passed over and the mixture fitted.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from gemviz.data.errors import GemvizError
from gemviz.data.paths import cache_dir
from gemviz.data.write import write_text_atomic
from gemviz.splitters import gem as gem_module
from gemviz.splitters import gmm1d, make_splitter, split_params
from gemviz.splitters.gem import GemSplitter, GmmFit

#: The cache folder of the fits.
FOLDER = "gem-fits"


def fitted_gem(train: np.ndarray, **params: Any) -> GemSplitter:
    """GEM fitted on ``train`` with ``params``: read from the cache when this fit was made
    before, else fitted and written there.

    Args:
        train: 1-D train input scores.
        **params: GEM settings (``sigma`` included; ``None`` keeps the default).

    Raises:
        GemvizError: Bad scores or settings.
    """
    gem = make_splitter("gem", **params)
    scores = np.ascontiguousarray(train, dtype=float)
    fit_params, _ = split_params("gem", gem.get_params())
    path = _path(scores, fit_params)
    fit = _read(path) if path is not None else None
    if fit is None:
        gem.fit(scores)
        if path is not None:
            _write(path, gem.gmm_)
        return gem
    return gem._set_fit(fit)


@functools.lru_cache(maxsize=1)
def _code() -> bytes:
    """A digest of the modules that compute a fit: a change there leaves old fits unread."""
    digest = hashlib.blake2b(digest_size=16)
    for module in (gem_module, gmm1d):
        digest.update(Path(module.__file__).read_bytes())
    return digest.digest()


def _path(scores: np.ndarray, fit_params: dict[str, Any]) -> Path | None:
    digest = hashlib.blake2b(_code(), digest_size=16)
    digest.update(json.dumps(sorted(fit_params.items()), default=str).encode())
    digest.update(np.int64(scores.size).tobytes())
    digest.update(scores.tobytes())
    try:
        return cache_dir(FOLDER) / f"{digest.hexdigest()}.json"
    except GemvizError:  # no cache folder to be had: fit every time
        return None


def _numbers(values: np.ndarray) -> list[float | None]:
    return [None if math.isnan(v) else float(v) for v in np.asarray(values, dtype=float)]


def _write(path: Path, fit: GmmFit) -> None:
    record = {
        "n_components": int(fit.n_components),
        "bic": _numbers(fit.bic),
        "means": _numbers(fit.means),
        "stds": _numbers(fit.stds),
        "weights": _numbers(fit.weights),
        "search_size": int(fit.search_size),
        "converged": bool(fit.converged),
    }
    # A cache that cannot be written costs a fit next time, nothing else.
    with contextlib.suppress(OSError, GemvizError):
        write_text_atomic(path, json.dumps(record))


def _read(path: Path) -> GmmFit | None:
    try:
        record = json.loads(path.read_text("utf-8"))

        def array(name: str) -> np.ndarray:
            return np.array([math.nan if v is None else v for v in record[name]], dtype=float)

        return GmmFit(
            n_components=int(record["n_components"]),
            bic=array("bic"),
            means=array("means"),
            stds=array("stds"),
            weights=array("weights"),
            search_size=int(record["search_size"]),
            converged=bool(record["converged"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
