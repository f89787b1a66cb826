"""The one place where gemviz opens and decodes the files it is given.

Every reader (record files, workspace definitions, prompt templates, embedding ``.npz``
files, uploads) goes through here, so each gets the same guarantees:

- a missing path, a folder, an unreadable file, or a special file (named pipe, device such as
  ``/dev/zero``, socket; also behind a symlink) is refused *before* it is opened, so nothing
  hangs waiting on a pipe or reads an endless device;
- text must be UTF-8 (a UTF-8 byte-order mark is accepted); UTF-16, Latin-1 and binary files
  end in an error naming the file, the byte offset and line, and saying to save as UTF-8;
- JSON nested deeper than :data:`MAX_JSON_DEPTH` and integers too long to read are refused
  with a message instead of a RecursionError or ValueError;
- ``.npz`` files are read without pickles; a file that is not one says what it should hold.
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
import sys
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from gemviz.data.errors import GemvizError
from gemviz.data.fields import nfc

# Record files are flat: a few levels of nesting (an action object inside a record) suffice.
MAX_JSON_DEPTH = 64


def check_input(path: str | os.PathLike, what: str = "file") -> Path:
    """Refuse a path that is not a readable regular file, without opening it.

    Args:
        path: The input as the user gave it.
        what: What the file should be, for messages ("record file", "embeddings file").

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Raises:
        GemvizError: Missing, a folder, a special file (FIFO, device, socket) or unreadable.
    """
    p = Path(path).expanduser()
    try:
        mode = os.stat(p).st_mode  # follows symlinks: a link to /dev/zero is a device
    except FileNotFoundError:
        if p.is_symlink():
            raise GemvizError("is a broken symlink; check the path", file=str(p)) from None
        raise GemvizError("file not found; check the path", file=str(p)) from None
    except OSError as exc:
        raise GemvizError(f"cannot read the file ({exc.strerror or exc})", file=str(p)) from None
    if stat.S_ISDIR(mode):
        raise GemvizError(f"is a folder, expected a {what}", file=str(p))
    if not stat.S_ISREG(mode):
        kind = (
            "a named pipe (FIFO)"
            if stat.S_ISFIFO(mode)
            else "a device"
            if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
            else "a socket"
            if stat.S_ISSOCK(mode)
            else "a special file"
        )
        raise GemvizError(f"is {kind}, expected a {what} (a regular file)", file=str(p))
    if not os.access(p, os.R_OK):
        raise GemvizError("cannot read the file (permission denied)", file=str(p))
    return p


def file_identity(path: str | os.PathLike) -> tuple[int, int] | str:
    """What makes two paths one file: device and inode (so ``x``, ``./x``, a symlink and a
    hard link agree), or the resolved path when the file cannot be looked at."""
    try:
        st = os.stat(Path(path).expanduser())
    except (OSError, ValueError):
        return os.path.realpath(Path(path).expanduser())
    return (st.st_dev, st.st_ino)


def first_repeat(paths: list[str | os.PathLike]) -> tuple[int, int] | None:
    """Positions ``(i, j)``, ``i < j``, of the first two paths naming one file, or None."""
    seen: dict[tuple[int, int] | str, int] = {}
    for j, path in enumerate(paths):
        key = file_identity(path)
        if key in seen:
            return seen[key], j
        seen[key] = j
    return None


def one_file_per_run(model: str, paths: list) -> list:
    """``paths`` when each is its own file; one file named twice (``x`` and ``./x``, a
    symlink, a hard link) would count one run twice, so it is refused.

    Raises:
        GemvizError: Naming both spellings.
    """
    repeat = first_repeat(paths)
    if repeat is not None:
        a, b = (paths[i] for i in repeat)
        raise GemvizError(
            f"model '{model}': the run files {a} and {b} are the same file (another spelling "
            "of its path, or a link to it); each run is its own file, so give it once",
            file=str(b),
        )
    return paths


def read_bytes(path: str | os.PathLike, what: str = "file") -> bytes:
    """The bytes of a checked input file.

    Raises:
        GemvizError: As for :func:`check_input`, or the read fails.
    """
    p = check_input(path, what)
    try:
        return p.read_bytes()
    except OSError as exc:
        raise GemvizError(f"cannot read the file ({exc.strerror or exc})", file=str(p)) from None


def decode_text(data: bytes, file: str) -> str:
    """Decode UTF-8 (with or without a byte-order mark), or raise a clear error.

    Raises:
        GemvizError: The bytes are UTF-16/32, binary, or another encoding; the message gives
            the byte offset and line of the first bad byte and says to save the file as UTF-8.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise GemvizError(
            "the file is UTF-16 encoded; save it as UTF-8 (e.g. in the editor's 'Save as' "
            "dialog, or with iconv -f UTF-16 -t UTF-8)",
            file=file,
        )
    nul = data.find(b"\x00", 0, 4096)
    if nul >= 0:
        raise GemvizError(
            f"the file is binary (a zero byte at offset {nul}), not text; expected a UTF-8 "
            "JSON, JSON lines or CSV file",
            file=file,
        )
    nul = data.find(b"\x00", 4096)
    if nul >= 0:  # a NUL inside a value: no text holds one, and it would cut the value short
        line = data.count(b"\n", 0, nul) + 1
        raise GemvizError(
            f"a zero byte (NUL) at offset {nul} (line {line}); text files hold none, so fix "
            "how the file was made",
            file=file,
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        offset = exc.start
        line = data.count(b"\n", 0, offset) + 1
        raise GemvizError(
            f"not UTF-8 text: byte 0x{data[offset]:02x} at offset {offset} (line {line}) "
            "cannot be decoded; save the file as UTF-8 (e.g. iconv -f latin1 -t UTF-8)",
            file=file,
            row=None,
        ) from None


def read_text(path: str | os.PathLike, what: str = "text file") -> str:
    """Read a checked input file as UTF-8 text.

    Raises:
        GemvizError: As for :func:`check_input` and :func:`decode_text`.
    """
    return decode_text(read_bytes(path, what), str(Path(path).expanduser()))


# A JSON string literal (escapes included), in the unrolled form that regex engines run fast.
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)


def _running_depth(text: str) -> np.ndarray:
    """Bracket nesting after each character, counting every bracket (vectorised)."""
    codes = np.frombuffer(text.encode("utf-8", "surrogatepass"), dtype=np.uint8)
    step = np.zeros(codes.size, dtype=np.int32)
    step[(codes == 0x5B) | (codes == 0x7B)] = 1  # [ {
    step[(codes == 0x5D) | (codes == 0x7D)] = -1  # ] }
    return np.cumsum(step)


def _depth(text: str) -> int:
    """Deepest bracket nesting outside strings, without parsing.

    Counting every bracket, strings included, is a few milliseconds for a large file; when
    that count is balanced and never goes below zero nor over :data:`MAX_JSON_DEPTH`, it is
    what a usual record file gives (brackets inside its strings, such as
    ``<point>[[500, 500]]</point>``, pair up) and is returned as is. Otherwise strings are
    removed first and the brackets counted again, exactly. Either way the parse that follows
    also turns a ``RecursionError`` into a clear error.
    """
    crude = _running_depth(text)
    if not crude.size:
        return 0
    if crude.min() >= 0 and crude[-1] == 0 and crude.max() <= MAX_JSON_DEPTH:
        return int(crude.max())
    exact = _running_depth(_JSON_STRING.sub("", text))  # brackets inside strings do not nest
    return int(exact.max(initial=0))


def loads_json(text: str, file: str, row: int | None = None) -> Any:
    """Parse JSON with the guarantees of this module.

    Args:
        text: The JSON text.
        file: The file it came from, for messages.
        row: The record (line) number for JSON lines, if any.

    Raises:
        json.JSONDecodeError: Not valid JSON (callers word their own message).
        GemvizError: Nested deeper than :data:`MAX_JSON_DEPTH`, or a number too long to read.
    """
    # Only texts with many brackets can be too deep; skip the scan for everything else.
    if text.count("[") + text.count("{") > MAX_JSON_DEPTH and _depth(text) > MAX_JSON_DEPTH:
        raise GemvizError(
            f"JSON nested more than {MAX_JSON_DEPTH} levels deep; a record file holds a list "
            "of flat records",
            file=file,
            row=row,
        )
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise
    except RecursionError:
        raise GemvizError(
            "JSON nested too deeply to read; a record file holds a list of flat records",
            file=file,
            row=row,
        ) from None
    except ValueError as exc:
        if "digits" in str(exc):  # Python refuses to convert integers of >4300 digits
            raise GemvizError(
                "a number has thousands of digits, too many to read; check how the file was made",
                file=file,
                row=row,
            ) from None
        raise GemvizError(f"cannot read a value ({exc})", file=file, row=row) from None


def load_npz(path: str | os.PathLike, arrays: tuple[str, ...], what: str) -> dict[str, Any]:
    """Read the named arrays of an ``.npz`` file (never with pickles).

    Args:
        path: The ``.npz`` file.
        arrays: The arrays it must hold.
        what: What the file is, for messages ("embeddings file").

    Returns:
        ``{name: numpy array}`` for each of ``arrays``.

    Raises:
        GemvizError: Not a readable ``.npz`` with those arrays (the message says what it
            should contain), or an array holds Python objects.
    """

    p = check_input(path, what)
    should = f"expected a NumPy .npz {what} with arrays {', '.join(repr(a) for a in arrays)}"
    try:
        data = np.load(p, allow_pickle=False)
    except ValueError:
        # numpy's own message suggests allow_pickle, which gemviz never turns on
        raise GemvizError(f"{should}; this file is not one", file=str(p)) from None
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        reason = str(exc) or type(exc).__name__
        raise GemvizError(f"{should}; it is damaged or not one ({reason})", file=str(p)) from None
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise GemvizError(f"{should}; this is a single .npy array", file=str(p))
    try:
        with data:
            missing = [a for a in arrays if a not in data.files]
            if missing:
                raise GemvizError(
                    f"{should}; missing {', '.join(repr(a) for a in missing)}", file=str(p)
                )
            _check_sizes(data, arrays, str(p), should)
            return {a: np.asarray(data[a]) for a in arrays}
    except GemvizError:
        raise
    except ValueError:
        raise GemvizError(
            f"{should} of numbers and strings; it holds Python objects, which gemviz does not load",
            file=str(p),
        ) from None
    except (OSError, EOFError, zipfile.BadZipFile, zlib.error, KeyError) as exc:
        reason = str(exc) or type(exc).__name__
        raise GemvizError(f"{should}; it is damaged ({reason})", file=str(p)) from None


def _check_sizes(data: Any, arrays: tuple[str, ...], file: str, should: str) -> None:
    """Refuse an array whose header claims more data than its member of the ``.npz`` holds.

    An ``.npy`` header states the shape; reading it allocates that much memory first. A header
    claiming a (1e9, 1e6) array in a file of a few bytes is refused here, before any of it.
    """
    for name in arrays:
        info = data.zip.getinfo(f"{name}.npy")
        with data.zip.open(info) as fh:
            try:
                version = np.lib.format.read_magic(fh)
                shape, _, dtype = (
                    np.lib.format.read_array_header_1_0(fh)
                    if version == (1, 0)
                    else np.lib.format.read_array_header_2_0(fh)
                )
            except ValueError:
                continue  # numpy's own reader words this case
            header = fh.tell()
        if dtype.hasobject:
            continue  # pickled objects: refused by the reader below, never loaded
        try:
            count = math.prod(int(d) for d in shape)
        except (TypeError, ValueError):
            continue
        claimed = count * max(dtype.itemsize, 1)
        if claimed > info.file_size - header:
            raise GemvizError(
                f"{should}; the header of '{name}' claims a {'x'.join(map(str, shape))} array "
                f"({claimed:,} bytes) but the file holds {info.file_size - header:,}: it is "
                "damaged or was cut short",
                file=file,
            )


def load_embeddings_file(path: str | os.PathLike) -> tuple[list[str], Any]:
    """Read an embeddings ``.npz`` (arrays ``ids`` and ``embeddings``) and check it.

    Returns:
        (sample ids as strings, float32 array n x d).

    Raises:
        GemvizError: As for :func:`load_npz`; or ``embeddings`` is not an n x d array of
            finite numbers with one row per id (the message names the first bad row).
    """
    data = load_npz(path, ("ids", "embeddings"), "embeddings file")
    file = str(path)
    ids = [nfc(str(s)) for s in np.ravel(data["ids"])]
    raw = data["embeddings"]
    if raw.dtype.kind not in "biuf":  # complex, timedelta, dates and text are not coordinates
        raise GemvizError(
            f"'embeddings' must hold real numbers, found {raw.dtype} values", file=file
        )
    # float32 files (what scoring writes) are used as read, not copied. Values beyond
    # float32's range become infinite in the cast and are refused by row just below.
    with np.errstate(over="ignore", invalid="ignore"):
        emb = raw.astype(np.float32, copy=False)
    if emb.ndim != 2 or emb.shape[0] != len(ids) or emb.shape[1] == 0:
        raise GemvizError(
            f"'embeddings' must be {len(ids)} x d with d >= 1 (one row per id), got {emb.shape}",
            file=file,
        )
    if not ids:
        raise GemvizError(
            "the file holds no rows (0 ids); score the steps again to fill it", file=file
        )
    # Row blocks keep the check's temporary small (a 1M x 1536 mask alone is 1.5 GB).
    step = max(1, (1 << 26) // emb.shape[1])
    finite = np.concatenate(
        [np.isfinite(emb[i : i + step]).all(axis=1) for i in range(0, len(emb), step)]
    )
    if not finite.all():
        row = int(np.flatnonzero(~finite)[0])
        raise GemvizError(
            f"{int((~finite).sum())} embedding row(s) hold NaN or infinite values (first: "
            f"'{ids[row]}'); re-run scoring for them",
            file=file,
            row=row + 1,
        )
    return ids, emb


def notice(message: str) -> None:
    """One line on stderr about something gemviz fixed by itself (e.g. a damaged cache file)."""
    print(f"gemviz: notice: {message}", file=sys.stderr, flush=True)


def read_cache_npz(path: str | os.PathLike, arrays: tuple[str, ...]) -> dict[str, Any] | None:
    """A cache file's arrays, or None when it is missing or damaged (then it is removed).

    Caches are rebuilt from their inputs, so a zero-length, truncated or foreign cache file
    is deleted with a one-line :func:`notice` and the caller recomputes it.
    """
    p = Path(path)
    if not p.is_file():
        return None
    try:
        return load_npz(p, arrays, "cache file")
    except GemvizError as exc:
        if p.exists():
            p.unlink(missing_ok=True)
            notice(
                f"removed the damaged cache file {p} ({exc.detail.split('; ')[-1]}); it is rebuilt"
            )
        return None


def open_image(path: str | os.PathLike):
    """Open a screenshot with Pillow (lazily: the header is read, the pixels on demand).

    The path must be a regular file (a FIFO or device would block or never end), and the
    image no larger than Pillow's decompression-bomb limit.

    Returns:
        The ``PIL.Image.Image`` (use it as a context manager).

    Raises:
        GemvizError: Not a readable regular file, not an image, or absurdly large.
    """
    p = check_input(path, "screenshot (image file)")
    try:
        return Image.open(p)
    except Image.DecompressionBombError as exc:
        raise GemvizError(f"the image is too large to open ({exc})", file=str(p)) from None
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        raise GemvizError(f"not a readable image ({exc})", file=str(p)) from None
