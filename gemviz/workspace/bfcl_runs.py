"""A BFCL results folder, as the evaluator leaves it, read as configurations and their runs.

BFCL's evaluator writes ``score/<model>/<group>/BFCL_v4_<category>_score.json`` under the
folder it runs in; a lab that evaluates each configuration several times keeps one such
folder per run. Two arrangements are common, and both are read here:

* one folder per configuration, one per run inside it:
  ``DIR/<config>/<run>/score/<model>/…/BFCL_v4_<category>_score.json`` (the configuration is
  the outer folder's name; ``<model>`` is often the same handler name for every
  fine-tuned checkpoint, so it does not name the configuration);
* one folder per run, every configuration inside it:
  ``DIR/<run>/score/<config>/…/BFCL_v4_<category>_score.json``, run folders named like
  ``run1``, ``seed2`` or ``3`` (the configuration is the model folder under ``score/``).

``DIR/<config>/score/…`` (one run each) and ``DIR/score/<config>/…`` (a single evaluator
folder) are read too. A layout that could be read two ways is refused with one line that
says how to arrange it. Configurations are named by their folders, so a configuration table
keyed by those names applies to them.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

from gemviz.data.errors import GemvizError

#: A score file's name: ``BFCL_v4_<category>_score.json``.
SCORE_NAME = re.compile(r"^BFCL_v\d+_(?P<category>.+)_score\.json$")
#: A test file's name: ``BFCL_v4_<category>.json``.
TEST_NAME = re.compile(r"^BFCL_v\d+_(?P<category>.+)\.json$")
#: A folder named as one run: ``run1``, ``run_2``, ``seed-3``, ``rep4``, ``trial5``, ``6``.
RUN_FOLDER = re.compile(r"^(run|seed|rep|repeat|trial|try|r|s)?[-_]?\d+$", re.IGNORECASE)
LAYOUTS = (
    "DIR/<config>/<run>/score/<model>/…/BFCL_v4_<category>_score.json or "
    "DIR/<run>/score/<config>/…/BFCL_v4_<category>_score.json"
)


def category_of(test_file: str | None) -> str | None:
    """The BFCL category a test file's name gives (``BFCL_v4_multi_turn_base.json``), or None."""
    match = TEST_NAME.match(Path(test_file).name) if test_file else None
    return match.group("category") if match else None


def _natural(text: str) -> list:
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", text)]


def _score_files(root: Path, category: str | None) -> list[Path]:
    found: dict[str, list[Path]] = defaultdict(list)
    for path in sorted(root.rglob("BFCL_v*_score.json")):
        match = SCORE_NAME.match(path.name)
        rel = path.relative_to(root).parts
        if match and path.is_file() and not any(p.startswith(".") for p in rel):
            found[match.group("category")].append(path)
    if category is not None:
        if category not in found:
            seen = f" (found: {', '.join(sorted(found))})" if found else ""
            raise GemvizError(
                f"no BFCL_v4_{category}_score.json under this folder{seen}; give the results "
                f"folder of the workspace's test set, laid out as {LAYOUTS}",
                file=str(root),
            )
        return found[category]
    if len(found) > 1:
        raise GemvizError(
            f"score files of several categories ({', '.join(sorted(found))}) and no test set "
            "to choose by; give a folder of one category, or a test file named "
            "BFCL_v4_<category>.json",
            file=str(root),
        )
    if not found:
        raise GemvizError(
            f"no BFCL score files (BFCL_v4_<category>_score.json) under this folder; lay it "
            f"out as {LAYOUTS}",
            file=str(root),
        )
    return next(iter(found.values()))


def _place(root: Path, path: Path) -> tuple[tuple[str, ...], str | None]:
    """The folders above ``score/`` (relative to ``root``) and the model folder under it."""
    parts = path.relative_to(root).parts[:-1]
    if "score" not in parts:
        return parts, None
    i = len(parts) - 1 - parts[::-1].index("score")
    return parts[:i], (parts[i + 1] if i + 1 < len(parts) else None)


def _ambiguous(root: Path, why: str) -> GemvizError:
    return GemvizError(f"{why}; lay the folder out as {LAYOUTS}", file=str(root))


def _name_runs(root: Path, placed: list[tuple[tuple[str, ...], str | None, Path]]):
    """(configuration, run, file) for every score file; refuses layouts read two ways."""
    depths = sorted({len(above) for above, _, _ in placed})
    if len(depths) > 1:
        raise _ambiguous(root, "score files lie at different depths under this folder")
    depth = depths[0]
    if depth > 2:
        raise _ambiguous(root, f"score files lie {depth} folders deep")
    if any(model is None for _, model, _ in placed) and depth < 2:
        raise _ambiguous(root, "a score file lies outside the evaluator's score/<model>/ folders")
    if depth == 0:
        return [(model, "1", path) for _, model, path in placed]
    if depth == 2:
        firsts = [above[0] for above, _, _ in placed]
        seconds = [above[1] for above, _, _ in placed]
        swapped = all(map(RUN_FOLDER.match, firsts)) and not any(map(RUN_FOLDER.match, seconds))
        return [
            (above[1], above[0], path) if swapped else (above[0], above[1], path)
            for above, _, path in placed
        ]
    tops = [above[0] for above, _, _ in placed]
    run_like = [bool(RUN_FOLDER.match(t)) for t in tops]
    if all(run_like):  # DIR/<run>/score/<config>/…
        return [(model, top, path) for top, (_, model, path) in zip(tops, placed, strict=True)]
    if any(run_like):
        raise _ambiguous(
            root, "some top folders are named as runs (run1, seed2, 3), others are not"
        )
    models: dict[str, set[str]] = defaultdict(set)
    for top, (_, model, _) in zip(tops, placed, strict=True):
        models[top].add(model)
    crowded = next((t for t, m in models.items() if len(m) > 1), None)
    if crowded is not None:
        raise _ambiguous(
            root,
            f"'{crowded}' holds several models ({', '.join(sorted(models[crowded]))}) and is "
            "not named as a run, so its folders could be configurations or runs",
        )
    return [(top, "1", path) for top, (_, _, path) in zip(tops, placed, strict=True)]


def find_runs(root: str | Path, category: str | None = None) -> dict[str, list[str]]:
    """Every configuration's score files under a BFCL results folder, runs in order.

    Args:
        root: The results folder (see the module's layouts).
        category: The category to read (``multi_turn_base``); None: the only one present.

    Returns:
        Configuration name (its folder's name) -> score files, one per run, runs in natural
        order (``run2`` before ``run10``); configurations in natural order of their names.

    Raises:
        GemvizError: Not a folder, no score files, several categories and none chosen, a
            layout that reads two ways, or two score files for one run of a configuration.
    """
    folder = Path(root).expanduser()
    if not folder.is_dir():
        raise GemvizError("not a folder; give the folder the evaluator's runs are in",
                          file=str(root))  # fmt: skip
    folder = folder.resolve()
    placed = [(*_place(folder, p), p) for p in _score_files(folder, category)]
    runs: dict[str, dict[str, Path]] = defaultdict(dict)
    for config, run, path in _name_runs(folder, placed):
        if run in runs[config]:
            raise GemvizError(
                f"two score files for run '{run}' of '{config}': {runs[config][run]} and "
                f"{path}; keep one score file of the category per run folder",
                file=str(root),
            )
        runs[config][run] = path
    return {
        config: [str(runs[config][r]) for r in sorted(runs[config], key=_natural)]
        for config in sorted(runs, key=_natural)
    }


def folder_runs(folders: list[str], test_file: str | None = None) -> dict[str, list[str]]:
    """Every configuration's score files over several results folders, each read by
    :func:`find_runs` for the category the test file's name gives.

    Raises:
        GemvizError: A folder :func:`find_runs` refuses, or a configuration in two folders.
    """
    out: dict[str, list[str]] = {}
    for folder in folders:
        for config, files in find_runs(folder, category_of(test_file)).items():
            if config in out:
                raise GemvizError(
                    f"the configuration '{config}' is in two results folders; give each "
                    "configuration's runs once",
                    file=str(folder),
                )
            out[config] = files
    return out


def merge_runs(models: dict[str, list[str]], found: dict[str, list[str]]) -> dict[str, list[str]]:
    """Models given one by one, with a results folder's configurations added.

    Raises:
        GemvizError: A configuration given both ways.
    """
    both = sorted(set(models) & set(found), key=_natural)
    if both:
        raise GemvizError(f"'{both[0]}' is given as a model and by a results folder; give it once")
    return {**models, **found}
