"""The GEM release's published score files, carried by the repository (xz-compressed).

``tests/data/gem-public/`` holds each file of the GEM paper's code release (folder ``Data/``)
as ``NAME.json.xz``; see ``SOURCE.md`` there. :func:`extract` writes them back out as plain
JSON, byte for byte, so tests and benchmarks read the same files a researcher would.
"""

from __future__ import annotations

import lzma
from pathlib import Path

PACKED = Path(__file__).resolve().parent / "data" / "gem-public"


def extract(dest: Path) -> Path:
    """Decompress every ``*.json.xz`` of :data:`PACKED` into ``dest`` (made if missing).

    Args:
        dest: Folder to write ``NAME.json`` files into; files already there are kept.

    Returns:
        ``dest``.

    Raises:
        FileNotFoundError: The packed folder is empty or missing.
    """
    packed = sorted(PACKED.glob("*.json.xz"))
    if not packed:
        raise FileNotFoundError(f"no GEM score files under {PACKED}")
    dest.mkdir(parents=True, exist_ok=True)
    for src in packed:
        out = dest / src.name.removesuffix(".xz")
        if not out.exists():
            tmp = out.with_suffix(".part")
            tmp.write_bytes(lzma.decompress(src.read_bytes()))
            tmp.replace(out)
    return dest
