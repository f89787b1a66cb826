"""The fixed field names of gemviz's record files, the text form of sample ids, and the
conversions of a score or a 0/1 value that name the file, row and field of a bad one.

Kept apart from :mod:`gemviz.data.records` (which re-exports them) so that the whole-column
checks of :mod:`gemviz.data.frames` and the record-by-record loaders share one definition.
"""

from __future__ import annotations

import math
import re
import unicodedata
from typing import Any

import numpy as np

from gemviz.data.errors import GemvizError

ID = "id"
TASK = "task"
IMAGE = "image_path"
SCORE = "input_score"
LABEL = "label"
TYPE_MATCH = "type_match"
EXACT_MATCH = "exact_match"
METRICS = (TYPE_MATCH, EXACT_MATCH)
#: 0/1 fields read as metrics when a result file has no type/exact match, in this order.
OTHER_METRICS = ("accuracy", "success", "correct", "passed")
#: The field telling repeated runs apart within one result file.
RUN = "run"
LABELS = ("ID", "OOD")
# Scores beyond this overflow the mixture fits (their squares and sums leave float range);
# real input scores (distances between embeddings) are many orders of magnitude smaller.
MAX_ABS_SCORE = 1e100

# Spellings of the match fields found in the study's result files.
METRIC_ALIASES = {
    TYPE_MATCH: ("type_match", "type match", "typematch", "type-match"),
    EXACT_MATCH: ("exact_match", "exact match", "exactmatch", "exact-match"),
}


def nfc(text: str) -> str:
    """``text`` in Unicode normal form NFC (precomposed letters), the form ids are built in."""
    return text if text.isascii() else unicodedata.normalize("NFC", text)


def id_part(value: Any) -> str:
    """One part of a built sample id: NFC text with ``\\``, ``|`` and ``#`` backslash-escaped.

    Args:
        value: An ``image_path`` or ``task`` value.

    Returns:
        The escaped text; unchanged when it holds none of the three characters.
    """
    text = nfc(str(value))
    if "\\" in text or "|" in text or "#" in text:
        text = text.replace("\\", "\\\\").replace("|", "\\|").replace("#", "\\#")
    return text


# A number as programs write it: sign, ASCII digits, decimal point, exponent; nan and inf
# spelled out (refused below as not finite, with their own message).
_ASCII_NUMBER = re.compile(
    r"[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|nan|inf|infinity)", re.I
)


def to_finite_float(value: Any, file: str | None, row: int, field: str) -> float:
    """Convert ``value`` to a finite float or raise a :class:`GemvizError` naming the spot.

    Raises:
        GemvizError: Not a number, not finite, or beyond ±:data:`MAX_ABS_SCORE`.
    """
    if isinstance(value, bool) or value is None:
        raise GemvizError(f"expected a number, found {value!r}", file=file, row=row, field=field)
    if isinstance(value, str) and not _ASCII_NUMBER.fullmatch(value.strip()):
        # float() would also read "1_000" and digits of other scripts ("١٢"); a score file
        # holding those was not written by a program, so it is refused rather than guessed.
        shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
        raise GemvizError(
            f"expected a number written with ASCII digits, found {shown}",
            file=file,
            row=row,
            field=field,
        )
    try:
        number = float(value)
    except OverflowError:
        raise GemvizError(
            f"the number has {len(str(value))} digits, too large for a score; every score must "
            f"be a finite number within ±{MAX_ABS_SCORE:g}",
            file=file,
            row=row,
            field=field,
        ) from None
    except (TypeError, ValueError):
        shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
        raise GemvizError(
            f"expected a number, found {shown}", file=file, row=row, field=field
        ) from None
    if math.isfinite(number) and abs(number) > MAX_ABS_SCORE:
        raise GemvizError(
            f"the score {number:g} is out of range; every score must be a finite number within "
            f"±{MAX_ABS_SCORE:g} (check how the file was made)",
            file=file,
            row=row,
            field=field,
        )
    if not math.isfinite(number):
        raise GemvizError(
            f"the score is {value!r}; every score must be a finite number (re-run scoring for this "
            "sample or drop it)",
            file=file,
            row=row,
            field=field,
        )
    return number


def to_binary(value: Any, file: str | None, row: int, field: str) -> int:
    """Convert a 0/1 or true/false value (also as text) to 0 or 1, else raise."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, np.integer)) and value in (0, 1):
        return int(value)
    if isinstance(value, float) and value in (0.0, 1.0):
        return int(value)
    if isinstance(value, str) and value.strip().lower() in ("0", "1", "true", "false"):
        return int(value.strip().lower() in ("1", "true"))
    raise GemvizError(
        f"expected 0/1 or true/false, found {value!r}", file=file, row=row, field=field
    )


def run_key(value: Any, file: str, row: int) -> str:
    """A ``run`` value as text: a name or a whole number (``1`` and ``1.0`` are one run).

    Raises:
        GemvizError: true/false, an object or a list, which name no run.
    """
    if isinstance(value, (bool, dict, list)):
        raise GemvizError(
            f"a run is named by text or a whole number, found {value!r:.40}", file=file,
            row=row, field=RUN,
        )  # fmt: skip
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return nfc(str(value).strip())
