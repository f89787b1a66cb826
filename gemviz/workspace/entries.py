"""What ``workspace.json`` records: the splitter and model entries, names and upload paths."""

from __future__ import annotations

import dataclasses
import hashlib
import math
import os
import re
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

from gemviz.data.errors import GemvizError
from gemviz.data.files import first_repeat
from gemviz.data.paths import cache_dir
from gemviz.data.write import atomic_path, write_bytes_atomic

WORKSPACE_FILE = "workspace.json"
UPLOADS = "uploads"
# Longest stored upload name: file systems refuse names over 255 bytes.
MAX_UPLOAD_NAME = 120


def upload_name(filename: str) -> str:
    """A safe file name for an upload (at most :data:`MAX_UPLOAD_NAME` characters)."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(str(filename)).name).lstrip(".") or "upload"
    if len(safe) > MAX_UPLOAD_NAME:
        stem, suffix = os.path.splitext(safe)
        suffix = suffix[:16]
        safe = stem[: MAX_UPLOAD_NAME - len(suffix)] + suffix
    return safe


def store_upload(folder: Path, filename: str, data: bytes | BinaryIO) -> Path:
    """Write an upload to ``folder/<content hash>/<safe name>`` and return that path.

    The hash keeps two different files of one name apart; the same file lands in one place.
    """
    safe = upload_name(filename)
    if isinstance(data, (bytes, bytearray, memoryview)):
        digest = hashlib.sha256(bytes(data)).hexdigest()[:12]
        return write_bytes_atomic(folder / digest / safe, bytes(data))
    if hasattr(data, "seek"):
        data.seek(0)
    sha = hashlib.sha256()
    staged = folder / ".incoming" / f"{os.getpid()}-{time.time_ns()}-{safe}"
    with atomic_path(staged) as tmp, open(tmp, "wb") as fh:
        while chunk := data.read(1 << 20):
            sha.update(chunk)
            fh.write(chunk)
    dest = folder / sha.hexdigest()[:12] / safe
    dest.parent.mkdir(parents=True, exist_ok=True)
    os.replace(staged, dest)
    return dest


def check_name(name: object, kind: str) -> str:
    """A workspace's, splitter's or model's name, stripped, if it can be saved and shown.

    Raises:
        GemvizError: Empty, holding a NUL, or holding something that is not text: an
            unpaired surrogate, which is how a name with bytes that are not UTF-8 (typed in
            another encoding on the command line) arrives; it could never be saved.
    """
    text = str(name).strip() if name is not None else ""
    if not text:
        raise GemvizError(f"a {kind} needs a non-empty name")
    if "\x00" in text:
        raise GemvizError(f"a {kind} name may not hold a NUL character")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        shown = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        raise GemvizError(
            f"the {kind} name {shown!r} holds bytes that are not UTF-8 text, so it cannot be "
            "saved; type it again in UTF-8"
        ) from None
    return text


def check_unique_name(name: str, taken: list[str], kind: str, replace: bool) -> None:
    """Refuse a name that cannot be saved, or that another entry has (in any spelling).

    Raises:
        GemvizError: As for :func:`check_name`; or ``name`` is taken (without ``replace``),
            or another entry's name reads the same (:func:`same_name`).
    """
    check_name(name, kind)
    if name in taken and not replace:
        raise GemvizError(f"this workspace already has a {kind} called '{name}'; pick another name")
    clash = next((t for t in taken if t != name and same_name(t, name)), None)
    if clash is not None:
        raise GemvizError(
            f"this workspace already has a {kind} called '{clash}' (the same name in another "
            "Unicode spelling); pick another name"
        )


def same_name(a: str, b: str) -> bool:
    """True when two names read the same: equal once in Unicode NFC (``é`` typed either way)."""
    return unicodedata.normalize("NFC", a) == unicodedata.normalize("NFC", b)


def workspaces_root() -> Path:
    """The folder holding every workspace folder."""
    return cache_dir("workspaces")


def slugify(name: str) -> str:
    """A folder-safe version of ``name`` (lower case letters, digits and dashes)."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug[:48] or "workspace"


def file_stem(name: str, fallback: str = "entry") -> str:
    """The stem of a file saved under an entry's name, distinct for distinct names.

    A name that is already a plain slug (lower-case letters, digits, dashes) is its own stem;
    any other name gets its slug plus 8 hex digits of a hash of the name, so names that
    differ only in case (``G``/``g``) or in letters a slug drops (``日本``/``中文``) never
    share a file.

    Args:
        name: The splitter's or model's name.
        fallback: The slug of a name with no ASCII letter or digit.
    """
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:48].strip("-")
    if slug == name:
        return slug
    digest = hashlib.sha256(unicodedata.normalize("NFC", name).encode("utf-8", "replace"))
    return f"{slug or fallback}-{digest.hexdigest()[:8]}"


def free_path(path: Path, taken: set[str]) -> Path:
    """``path``, or ``path`` with ``-2``, ``-3``... before its suffix, whichever is not taken."""
    candidate, n = path, 2
    while str(candidate) in taken:
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
        n += 1
    return candidate


def _abs(path: str | os.PathLike | None) -> str | None:
    # Absolute paths keep the workspace valid whatever folder the app is started from.
    return None if path in (None, "") else str(Path(path).expanduser().resolve())


# Name under which the output of the last finished scoring job is offered for partitioning.
LAST_JOB = "last scoring job"


@dataclass
class SplitterEntry:
    """One splitter of a workspace: a labeled test file and where its labels came from."""

    name: str
    labeled: str
    train_scores: str | None = None
    test_scores: str | None = None
    train_embeddings: str | None = None
    test_embeddings: str | None = None
    model: str | None = None
    embed_method: str | None = None
    partition: str | None = "gem"
    params: dict[str, Any] = field(default_factory=dict)

    def files(self) -> list[str]:
        """Every file this entry names."""
        return [
            p
            for p in (
                self.labeled,
                self.train_scores,
                self.test_scores,
                self.train_embeddings,
                self.test_embeddings,
            )
            if p
        ]


@dataclass
class ModelEntry:
    """One evaluated model of a workspace: its per-sample result file and how to read it.

    When the user's file needs mapping (match fields under other names, or predictions to
    match on the fly with a rule set), ``source`` is the user's file and ``results`` a
    normalized copy that gemviz derives from it inside the workspace (re-derived when the
    source changes); see :mod:`gemviz.workspace.models`. A model evaluated several times
    has one file per run: ``results`` is the first run's, ``runs`` the others' (plain result
    files or BFCL score files; field mapping applies to single-run models).
    """

    name: str
    results: str
    predictions: str | None = None
    pred_field: str = "prediction"
    format: str = "auto"
    source: str | None = None
    type_field: str | None = None
    exact_field: str | None = None
    rules: str | None = None
    gt_field: str = "action"
    runs: list[str] = field(default_factory=list)

    def files(self) -> list[str]:
        """Every file this entry names."""
        return [p for p in (self.results, *self.runs, self.predictions, self.source) if p]

    def run_files(self) -> list[str]:
        """The result file of every run, first run first."""
        return [self.results, *self.runs]


class ScoreSource(NamedTuple):
    """Score (and, when present, embedding) files of a train/test pair."""

    train_scores: str
    test_scores: str
    train_embeddings: str | None = None
    test_embeddings: str | None = None

    def embeddings(self) -> tuple[str, str] | None:
        """The two embedding files, or ``None`` unless both exist."""
        pair = (self.train_embeddings, self.test_embeddings)
        return pair if all(p and Path(p).is_file() for p in pair) else None


# -- reading workspace.json: every field checked ------------------------------------------------

# Creation times beyond the year 9999 are not dates (and overflow the calendar functions).
MAX_TIME = 253_402_300_799.0
_TEXT = "text"
_OPTIONAL_TEXT = "text or null"


def _where(path: list[str | int]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _bad(file: str, path: list[str | int], wanted: str, value: Any) -> GemvizError:
    return GemvizError(
        f"expected {wanted}, found {_shown(value)}; fix or remove this entry",
        file=file,
        field=_where(path),
    )


def check_text(value: Any, file: str, path: list[str | int], optional: bool = False) -> str | None:
    """``value`` if it is text (or None when ``optional``), else a :class:`GemvizError`.

    Text with an unpaired surrogate (``"\\ud800"`` in JSON) cannot be written back or shown,
    so it is refused too.
    """
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise _bad(file, path, _OPTIONAL_TEXT if optional else _TEXT, value)
    if "\x00" in value:
        raise GemvizError("holds a NUL character", file=file, field=_where(path))
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise GemvizError(
            "holds an unpaired surrogate (\\ud800-\\udfff), which is not text",
            file=file,
            field=_where(path),
        ) from None
    return value


def check_revision(value: Any, file: str) -> int:
    """A workspace's revision: a whole number >= 0 (None, in files written before, reads as 0)."""
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**63:
        raise _bad(file, ["revision"], "a revision (a whole number >= 0)", value)
    return value


def check_time(value: Any, file: str, path: list[str | int]) -> float:
    """A unix time: a finite number between 0 and the year 9999 (None reads as 0)."""
    if value is None:
        return 0.0
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _bad(file, path, "a unix time (a number)", value)
    if isinstance(value, int) and not -1 < value <= MAX_TIME:
        raise _bad(file, path, "a unix time between 0 and the year 9999", value)
    number = float(value)
    if not (math.isfinite(number) and 0.0 <= number <= MAX_TIME):
        raise _bad(file, path, "a unix time between 0 and the year 9999", value)
    return number


def _check_params(value: Any, file: str, path: list[str | int]) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _bad(file, path, "an object of settings", value)
    for key, item in value.items():
        check_text(key, file, path)
        ok = item is None or isinstance(item, (str, bool, int))
        ok = ok or (isinstance(item, float) and math.isfinite(item))
        if not ok or (isinstance(item, int) and abs(item) > 2**63):
            raise _bad(file, [*path, key], "a number, text, true/false or null", item)
    return dict(value)


def _entry(cls: type, raw: Any, file: str, path: list[str | int]) -> Any:
    if not isinstance(raw, dict):
        raise _bad(file, path, "an object", raw)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = [k for k in raw if k not in fields]
    if unknown:
        raise GemvizError(
            f"unknown field '{unknown[0]}' (known: {', '.join(fields)})",
            file=file,
            field=_where(path),
        )
    values: dict[str, Any] = {}
    for name, spec in fields.items():
        if name not in raw:
            if spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING:
                raise GemvizError(
                    "required field is missing", file=file, field=_where([*path, name])
                )
            continue
        value = raw[name]
        if name == "params":
            values[name] = _check_params(value, file, [*path, name])
        elif name == "runs":
            if not isinstance(value, list):
                raise _bad(file, [*path, name], "a list of file paths", value)
            values[name] = [check_text(v, file, [*path, name, i]) for i, v in enumerate(value)]
        else:
            optional = "None" in str(spec.type)
            values[name] = check_text(value, file, [*path, name], optional=optional)
    entry = cls(**values)
    if not entry.name.strip():
        raise GemvizError("a name may not be empty", file=file, field=_where([*path, "name"]))
    return entry


def distinct_runs(models: list[ModelEntry], file: str) -> list[ModelEntry]:
    """``models`` when no model names one run file twice (any spelling, symlink, hard link).

    Raises:
        GemvizError: Naming the model's entry; the workspace is then listed as broken.
    """
    for i, model in enumerate(models):
        files = model.run_files()
        repeat = first_repeat(files)
        if repeat is not None:
            where = "results" if repeat[0] == 0 else f"runs[{repeat[0] - 1}]"
            raise GemvizError(
                f"runs[{repeat[1] - 1}] is the same file as {where} ({files[repeat[1]]}); one "
                "run would count twice, so remove the repeat",
                file=file,
                field=f"models[{i}]",
            )
    return models


def entries_from_json(raw: Any, key: str, file: str) -> list[Any]:
    """The splitter (``key="splitters"``) or model (``"models"``) entries of ``workspace.json``.

    Every field is checked for its type; names must be non-empty and unique.

    Args:
        raw: The parsed ``workspace.json`` object.
        key: ``"splitters"`` or ``"models"``.
        file: The file, for messages.

    Returns:
        :class:`SplitterEntry` or :class:`ModelEntry` objects in file order.

    Raises:
        GemvizError: Naming the field (``splitters[1].labeled``) and what was found.
    """
    cls = SplitterEntry if key == "splitters" else ModelEntry
    items = raw.get(key)
    if items is None:
        return []
    if not isinstance(items, list):
        raise _bad(file, [key], "a list", items)
    entries = [_entry(cls, item, file, [key, i]) for i, item in enumerate(items)]
    seen: dict[str, int] = {}
    for i, entry in enumerate(entries):
        if entry.name in seen:
            raise GemvizError(
                f"two entries are named '{entry.name}' ({key}[{seen[entry.name]}] and [{i}]); "
                "one would hide the other, so rename or remove one",
                file=file,
                field=_where([key, i, "name"]),
            )
        seen[entry.name] = i
    return entries
