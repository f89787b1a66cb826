"""Output safety: refuse, before any work, an output that would hurt an input or cannot be made.

Every command that writes a file calls :func:`check_output` (or, for a folder of outputs,
:func:`check_output_dir`) first, so a bad ``--out`` ends the command in a second with a clear
message instead of after an hour of scoring, and never replaces one of its inputs.

The rules:

- an output may not be one of the inputs (same file by inode, so hard links and other
  spellings of the same path count), nor sit where an input would be written over; the files
  read beside an input (:func:`gemviz.data.bfcl.read_beside`) count as inputs;
- a name ending in ``/`` names a folder, not a file, and is refused;
- an existing output must be a regular file: a folder, a FIFO, a device (``/dev/null``) or a
  socket is refused, never replaced;
- a symlink is written *through*: the returned path is the link's final target, which the
  atomic writers then replace, so the link itself stays a link;
- the folder that receives the output must accept a new file; this is probed with a real
  temporary file (permissions alone miss read-only mounts and ACLs).
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path

from gemviz.data.bfcl import read_beside
from gemviz.data.errors import GemvizError

PathLike = str | os.PathLike
# Longest output file name: most file systems stop at 255 bytes.
MAX_NAME = 255


def _kind(mode: int) -> str | None:
    """A word for a file type gemviz will not write over (None for a regular file)."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"


def _same(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


def _existing_inputs(inputs: Iterable[PathLike | None]) -> list[Path]:
    """The inputs, each followed by the files read beside it (a BFCL score file's result
    file, a test file's ``possible_answer``): those are inputs too."""
    out: list[Path] = []
    for p in inputs:
        if p is None or str(p) == "":
            continue
        path = Path(p).expanduser()
        out.append(path)
        with contextlib.suppress(OSError):  # an input no one can look at: its reader says so
            out.extend(read_beside(path))
    return out


def _short(path: Path) -> str:
    """A path fit for a one-line message: long ones keep their start and their end."""
    text = str(path)
    return text if len(text) <= 240 else f"{text[:110]}...{text[-110:]}"


def _check_length(path: Path, option: str) -> None:
    """Refuse names the file system cannot hold (255 bytes; the temp file adds a suffix)."""
    if len(os.fsencode(path.name)) > MAX_NAME:
        raise GemvizError(
            f"{option}: the file name is {len(os.fsencode(path.name))} bytes long; keep it "
            f"under {MAX_NAME}",
            file=_short(path),
        )


def probe_folder(folder: Path, what: str, option: str) -> None:
    """Raise unless a new file can be created in ``folder`` (or its nearest existing parent).

    Args:
        folder: The folder that will receive the output (may not exist yet).
        what: The output path, for the message.
        option: The command-line option that named it, for the message.

    Raises:
        GemvizError: No folder can be made there, or it refuses new files.
    """
    probe_at = folder
    while not probe_at.exists():
        if probe_at.parent == probe_at:
            break
        probe_at = probe_at.parent
    if probe_at.exists() and not probe_at.is_dir():
        raise GemvizError(
            f"{option}: cannot make a folder under '{probe_at}', which is a file", file=str(what)
        )
    try:
        fd, tmp = tempfile.mkstemp(prefix=".gemviz-probe-", dir=probe_at)
        os.close(fd)
        os.unlink(tmp)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise GemvizError(
            f"{option}: cannot write in the folder '{probe_at}' ({reason}); choose a folder "
            "you can write to",
            file=str(what),
        ) from None


def check_output(
    path: PathLike, inputs: Iterable[PathLike | None] = (), option: str = "--out"
) -> Path:
    """Check that ``path`` may be written, before any work is done.

    Args:
        path: The output file as the user gave it.
        inputs: Every file the command reads (None entries are ignored).
        option: The option that named the output, for messages.

    Returns:
        The path to write: ``path`` itself, or for a symlink the file it points to (so the
        link is written through, not replaced).

    Raises:
        GemvizError: The output is an input, a folder, a special file (FIFO, device such as
            ``/dev/null``, socket), a dangling link into a missing folder, or its folder
            cannot be written.
    """
    given = Path(path).expanduser()
    if str(path).strip() == "":
        raise GemvizError(f"{option} is empty; give a file name")
    if str(path).endswith(("/", os.sep)):
        raise GemvizError(
            f"{option} ends in '/', which names a folder; give a file name (without the "
            "trailing '/')",
            file=str(path),
        )
    try:
        return _check_output(given, inputs, option)
    except OSError as exc:  # e.g. a name or path longer than the file system allows
        raise GemvizError(
            f"{option} cannot be used ({exc.strerror or exc}); choose a shorter or simpler path",
            file=_short(given),
        ) from None


def _check_output(given: Path, inputs: Iterable[PathLike | None], option: str) -> Path:
    _check_length(given, option)
    target = Path(os.path.realpath(given))
    if target.exists():
        kind = _kind(os.stat(target).st_mode)
        if kind is not None:
            hint = (
                "; give a file name inside it"
                if kind == "a folder"
                else "; gemviz writes only regular files"
            )
            raise GemvizError(f"{option} is {kind}{hint}", file=str(given))
    for src in _existing_inputs(inputs):
        if (target.exists() and src.exists() and _same(target, src)) or (
            Path(os.path.realpath(src)) == target
        ):
            raise GemvizError(
                f"{option} is also an input ({src}); inputs are never overwritten, choose "
                "another output name",
                file=str(given),
            )
    probe_folder(target.parent, str(given), option)
    return target


def check_output_dir(
    folder: PathLike,
    names: Iterable[str],
    inputs: Iterable[PathLike | None] = (),
    option: str = "--out-dir",
) -> Path:
    """Check an output folder that will receive the files ``names``.

    Args:
        folder: The output folder as the user gave it (created later if missing).
        names: The file names the command writes inside it.
        inputs: Every file the command reads.
        option: The option that named the folder, for messages.

    Returns:
        The folder, with symlinks resolved.

    Raises:
        GemvizError: The folder is a file or special file, cannot be written, or one of its
            outputs would replace an input (e.g. ``--test`` given as
            ``OUT_DIR/test_inputscore.json``).
    """
    given = Path(folder).expanduser()
    if str(folder).strip() == "":
        raise GemvizError(f"{option} is empty; give a folder")
    try:
        return _check_output_dir(given, names, inputs, option)
    except OSError as exc:
        raise GemvizError(
            f"{option} cannot be used ({exc.strerror or exc}); choose a shorter or simpler path",
            file=_short(given),
        ) from None


def _check_output_dir(
    given: Path, names: Iterable[str], inputs: Iterable[PathLike | None], option: str
) -> Path:
    target = Path(os.path.realpath(given))
    if target.exists() and not target.is_dir():
        raise GemvizError(f"{option} must be a folder, found a file", file=str(given))
    inputs = _existing_inputs(inputs)
    for name in names:
        out = target / name
        for src in inputs:
            if (out.exists() and src.exists() and _same(out, src)) or Path(
                os.path.realpath(src)
            ) == Path(os.path.realpath(out)):
                raise GemvizError(
                    f"{option}: the output {name} would overwrite the input {src}; choose "
                    "another output folder",
                    file=str(given),
                )
        if out.exists() or out.is_symlink():
            check_output(out, inputs, option)
    probe_folder(target, str(given), option)
    return target
