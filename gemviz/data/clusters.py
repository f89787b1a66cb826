"""Which steps belong together: the cluster (task or episode) of every test step.

Agent steps come in episodes. Steps of one episode share their task, screen history and often
their input score, so they are not independent draws; every interval and test in gemviz
resamples whole clusters. :func:`resolve` picks the field that defines them:

- ``"auto"`` (the default): ``episode_id`` when the records have it, else ``conversation_id``
  (text-only steps, e.g. one BFCL entry per conversation), else ``task``, else none;
- a field name: that field (an error naming the available fields when it is missing);
- ``"none"``: every step is its own cluster (step-level inference, as for independent data).

A step whose cluster field is empty or missing forms a cluster of its own. Values are compared
in Unicode normal form NFC, so one task typed with combining accents or precomposed letters
is one cluster.
"""

from __future__ import annotations

import unicodedata

import numpy as np
import pandas as pd

from gemviz.data.errors import GemvizError

AUTO = "auto"
NONE = "none"
# Fields tried by "auto", in order.
AUTO_FIELDS = ("episode_id", "conversation_id", "task")


def resolve(samples: pd.DataFrame, cluster_by: str | None = AUTO) -> tuple[str, np.ndarray]:
    """The cluster field actually used and each row's cluster code.

    Args:
        samples: The test records (one row per step).
        cluster_by: ``"auto"``, ``"none"`` or a field of the records; ``None`` means auto.

    Returns:
        ``(field, codes)``: ``field`` is the field used (``"none"`` for step level) and
        ``codes`` an int64 array of cluster numbers ``0..k-1`` in order of first appearance.

    Raises:
        GemvizError: ``cluster_by`` names a field the records do not have.
    """
    n = len(samples)
    choice = AUTO if cluster_by in (None, "") else str(cluster_by).strip()
    if choice.lower() == NONE:
        return NONE, np.arange(n, dtype=np.int64)
    if choice.lower() == AUTO:
        for field in AUTO_FIELDS:
            keys = _keys(samples[field]) if field in samples.columns else None
            if keys is not None and keys.notna().any():
                return field, _codes(keys)
        return NONE, np.arange(n, dtype=np.int64)
    else:
        field = choice
        if field not in samples.columns:
            have = ", ".join(str(c) for c in samples.columns) or "none"
            raise GemvizError(
                f"cannot cluster by '{field}': the test records have no such field "
                f"(fields: {have}); use --cluster-by none for step-level statistics",
                field=field,
            )
    return field, codes_of(samples[field])


def _keys(values: pd.Series) -> pd.Series:
    """Each value as stripped text, None/NaN where blank (:func:`_key`, on whole columns)."""
    if pd.api.types.infer_dtype(values, skipna=True) == "string":
        text = values.astype(str).str.strip()  # pandas' text dtype keeps missing values missing
        wide = ~(text.str.isascii().fillna(True) | text.isna()).to_numpy(dtype=bool)
        if wide.any():
            text = text.astype(object)
            text[wide] = [unicodedata.normalize("NFC", v) for v in text[wide]]
        blank = text == ""
        return text.where(~blank, None) if blank.any() else text
    return values.map(_key)


def codes_of(values: pd.Series) -> np.ndarray:
    """Cluster codes ``0..k-1`` (first-appearance order) of a column; blanks are singletons."""
    return _codes(_keys(values))


def _codes(text: pd.Series) -> np.ndarray:
    """:func:`codes_of` of the keys :func:`_keys` gives."""
    blank = text.isna().to_numpy()
    codes, _ = pd.factorize(text, sort=False, use_na_sentinel=True)
    codes = codes.astype(np.int64)
    if blank.any():
        # Each step without a cluster value is a cluster of its own.
        codes[blank] = codes.max(initial=-1) + 1 + np.arange(int(blank.sum()))
    return codes


def count(codes: np.ndarray, mask: np.ndarray | None = None) -> int:
    """How many distinct clusters the steps selected by ``mask`` (default: all) touch."""
    chosen = codes if mask is None else codes[np.asarray(mask, dtype=bool)]
    return int(np.unique(chosen).size)


def _key(value) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    text = str(value).strip()
    if not text.isascii():
        text = unicodedata.normalize("NFC", text)
    return text or None


def choices(samples: pd.DataFrame) -> list[str]:
    """Settings a user can pick for ``cluster_by``: auto, none, then the usable fields.

    A field is usable when some of its values repeat (so it groups steps) and not every row
    shares one value.
    """
    fields = []
    for name in samples.columns:
        if name in ("id", "image_path", "label", "input_score") or samples[name].dtype.kind == "f":
            continue
        keys = _keys(samples[name])
        distinct = keys.nunique()
        if 1 < distinct < keys.notna().sum():
            fields.append(str(name))
    fields.sort(
        key=lambda f: (f not in AUTO_FIELDS, AUTO_FIELDS.index(f) if f in AUTO_FIELDS else 0, f)
    )
    return [AUTO, NONE, *fields]
