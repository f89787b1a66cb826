"""Click-through selections as short text, so a URL (``?select=``) can carry them.

A selection is a bar of the ID/OOD chart (the steps one splitter labels ID, or OOD) or a
Venn region (the steps in exactly some of 2-3 splitters' ID or OOD sets). Its text names
what was clicked, not the step ids, so a link stays short and is read again against the
workspace's current labels:

- ``bar:<splitter>:<ID|OOD>``
- ``region:<ID|OOD>:<splitter>,<splitter>[,<splitter>]:<member>[,<member>...]``

Names are percent-encoded inside the text, so a ``:`` or ``,`` in a name is kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote, unquote

import numpy as np

from gemviz.data.errors import GemvizError
from gemviz.data.fields import ID, LABELS
from gemviz.data.study import Study


def _names(names: Sequence[str]) -> str:
    return ",".join(quote(str(n), safe="") for n in names)


def bar_selection(splitter: str, label: str) -> str:
    """The text of a bar: the steps ``splitter`` labels ``label``."""
    return f"bar:{quote(str(splitter), safe='')}:{label}"


def region_selection(label: str, splitters: Sequence[str], members: Sequence[str]) -> str:
    """The text of a Venn region of ``splitters``' ``label`` sets, in exactly ``members``."""
    return f"region:{label}:{_names(splitters)}:{_names(members)}"


def resolve(study: Study, text: str) -> tuple[list[str], str]:
    """The sample ids and a label of the selection ``text``.

    Args:
        study: The study the selection is read against.
        text: A selection as :func:`bar_selection` or :func:`region_selection` write it.

    Returns:
        ``(ids, label)``: the ids in study order and words for the page
        (e.g. ``"gem ID steps"``, ``"ID region gem only"``).

    Raises:
        GemvizError: Text of no known form, an unknown splitter or a bad label.
    """
    parts = str(text).split(":")
    if parts[0] == "bar" and len(parts) == 3:
        splitter, label = unquote(parts[1]), parts[2].upper()
        _check(study, [splitter], label, text)
        mask = study.labels[splitter].to_numpy() == label
        return _ids(study, mask), f"{splitter} {label} steps"
    if parts[0] == "region" and len(parts) == 4:
        label = parts[1].upper()
        names = [unquote(n) for n in parts[2].split(",") if n]
        members = [unquote(n) for n in parts[3].split(",") if n]
        _check(study, names, label, text)
        if not 2 <= len(names) <= 3 or not members or not set(members) <= set(names):
            raise GemvizError(f"selection {text!r}: a region names 2-3 splitters and its members")
        mask = np.ones(len(study), dtype=bool)
        for name in names:
            inside = study.labels[name].to_numpy() == label
            mask &= inside if name in members else ~inside
        region = f"{members[0]} only" if len(members) == 1 else " & ".join(members)
        return _ids(study, mask), f"{label} region {region}"
    raise GemvizError(
        f"selection {text!r} is not 'bar:SPLITTER:ID|OOD' or 'region:ID|OOD:SPLITTERS:MEMBERS'"
    )


def _check(study: Study, names: Sequence[str], label: str, text: str) -> None:
    if label not in LABELS:
        raise GemvizError(f"selection {text!r}: the label must be ID or OOD")
    unknown = [n for n in names if n not in study.splitters]
    if unknown:
        raise GemvizError(f"selection {text!r}: no splitter {unknown[0]!r} in this workspace")


def _ids(study: Study, mask: np.ndarray) -> list[str]:
    return study.samples[ID].iloc[np.flatnonzero(mask)].tolist()
