"""Workspaces: one test set, its splitters and its evaluated models, kept under the cache.

A workspace is a folder ``<cache>/workspaces/<slug>/`` holding ``workspace.json``. The JSON
names the user's files by absolute path; gemviz never copies, moves or rewrites them. Files
uploaded through the browser and labeled files saved from the Score & Partition page are
written inside the workspace folder, so deleting a workspace removes exactly what gemviz made
for it.

A *splitter* entry points at a labeled test file (``label`` of ``"ID"``/``"OOD"`` per sample)
and, when known, the score and embedding files it came from. A *model* entry points at a
result file with per-sample ``type_match``/``exact_match``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gemviz.data.errors import GemvizError
from gemviz.data.fields import LABEL
from gemviz.data.files import loads_json, read_text
from gemviz.data.ids import sample_ids
from gemviz.data.loaders import load_labeled, load_results
from gemviz.data.read import read_records, read_table
from gemviz.data.study import Study
from gemviz.data.write import write_json_atomic, write_records
from gemviz.workspace.configs import Config, configs_from_json
from gemviz.workspace.derive import refresh_models
from gemviz.workspace.entries import (
    LAST_JOB,
    WORKSPACE_FILE,
    ModelEntry,
    ScoreSource,
    SplitterEntry,
    _abs,
    check_name,
    check_revision,
    check_text,
    check_time,
    check_unique_name,
    distinct_runs,
    entries_from_json,
    file_stem,
    free_path,
    slugify,
    workspaces_root,
)
from gemviz.workspace.lock import save_revision
from gemviz.workspace.staging import publish, staging_folder


@dataclass
class Workspace:
    """A persisted study setup. Create with :func:`create_workspace`, reopen with :meth:`load`."""

    folder: Path
    name: str
    demo: bool = False
    created: float = 0.0
    test: str | None = None
    train: str | None = None
    image_root: str | None = None
    # How test steps group into clusters for the statistics (gemviz.data.clusters.resolve).
    cluster_by: str = "auto"
    splitters: list[SplitterEntry] = field(default_factory=list)
    models: list[ModelEntry] = field(default_factory=list)
    # Model name -> its attributes (method, training set, ...): gemviz.workspace.configs.
    configs: dict[str, Config] = field(default_factory=dict)
    # How many saves made the file this object was read from (0: never saved with one).
    revision: int = 0

    # -- persistence -------------------------------------------------------------------------

    @property
    def slug(self) -> str:
        """The workspace's folder name, its stable key."""
        return self.folder.name

    @property
    def json_path(self) -> Path:
        """Path of ``workspace.json``."""
        return self.folder / WORKSPACE_FILE

    @classmethod
    def load(cls, folder: str | os.PathLike) -> Workspace:
        """Read ``folder/workspace.json``.

        Raises:
            GemvizError: The file is missing or not a workspace definition.
        """
        folder = Path(folder)
        path = folder / WORKSPACE_FILE
        if not path.exists():
            raise GemvizError("no workspace here (workspace.json is missing)", file=str(folder))

        file = str(path)
        try:
            raw = loads_json(read_text(path, "workspace definition"), file)
        except (ValueError, RecursionError, OSError) as exc:
            if isinstance(exc, GemvizError):
                raise
            raise GemvizError(f"not a valid workspace definition ({exc})", file=file) from None
        if not isinstance(raw, dict):
            raise GemvizError(
                f"not a valid workspace definition (expected a JSON object, found "
                f"{type(raw).__name__})",
                file=file,
            )
        try:
            return cls._from_json(folder, raw, file)
        except GemvizError as exc:
            raise GemvizError(
                f"not a valid workspace definition: {exc.detail}", file=file, field=exc.field
            ) from None

    @classmethod
    def _from_json(cls, folder: Path, raw: dict[str, Any], file: str) -> Workspace:
        name = check_text(raw.get("name"), file, ["name"], optional=True)
        demo = raw.get("demo", False)
        if not isinstance(demo, bool):
            raise GemvizError(f"expected true or false, found {demo!r}", file=file, field="demo")
        paths = {k: check_text(raw.get(k), file, [k], optional=True) for k in _PATH_KEYS}
        return cls(
            folder=folder,
            name=(name or "").strip() or folder.name,
            demo=demo,
            created=check_time(raw.get("created"), file, ["created"]),
            cluster_by=check_text(raw.get("cluster_by"), file, ["cluster_by"], optional=True)
            or "auto",
            revision=check_revision(raw.get("revision"), file),
            splitters=entries_from_json(raw, "splitters", file),
            models=distinct_runs(entries_from_json(raw, "models", file), file),
            configs=configs_from_json(raw.get("configs"), file),
            **paths,
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON form stored in ``workspace.json``."""
        return {
            "name": self.name,
            "demo": self.demo,
            "created": self.created,
            "test": self.test,
            "train": self.train,
            "image_root": self.image_root,
            "cluster_by": self.cluster_by,
            "splitters": [dataclasses.asdict(s) for s in self.splitters],
            "models": [dataclasses.asdict(m) for m in self.models],
            "configs": {k: c.to_dict() for k, c in self.configs.items() if c.to_dict()},
            "revision": self.revision,
        }

    def save(self) -> Path:
        """Write ``workspace.json`` atomically, one revision on; refused from a stale copy
        (:func:`gemviz.workspace.lock.save_revision`). Returns its path."""
        path = save_revision(self.folder, self.json_path, self.revision, self.to_dict())
        self.revision += 1
        return path

    def relocate(self, folder: Path) -> None:
        """Point the workspace, and every path it names inside its folder, at ``folder``."""
        old = str(self.folder.resolve()) + os.sep
        new = str(folder.resolve()) + os.sep

        def moved(path: str | None) -> str | None:
            return new + path[len(old) :] if path and path.startswith(old) else path

        self.test, self.train = moved(self.test), moved(self.train)
        for entry in [*self.splitters, *self.models]:
            for f in dataclasses.fields(entry):
                value = getattr(entry, f.name)
                if isinstance(value, str) and f.name != "name":
                    setattr(entry, f.name, moved(value))
                elif f.name == "runs":
                    setattr(entry, f.name, [moved(v) for v in value])
        self.folder = folder

    def fingerprint(self) -> str:
        """A key that changes whenever the definition or any file it names changes.

        Pages pass it to cached loaders so that an edited file is read again.
        """
        parts = []
        for p in [str(self.json_path), *self.files()]:
            try:
                st = os.stat(p)
                parts.append(f"{p}:{st.st_mtime_ns}:{st.st_size}")
            except OSError:
                parts.append(f"{p}:missing")
        return hashlib.sha1("\n".join(parts).encode()).hexdigest()[:16]

    def missing_files(self) -> list[str]:
        """The files the workspace names that are not there (any makes it *broken*)."""
        return [p for p in self.files() if not Path(p).is_file()]

    def files(self) -> list[str]:
        """Every file the workspace names."""
        out = [p for p in (self.test, self.train) if p]
        for s in self.splitters:
            out += s.files()
        for m in self.models:
            out += m.files()
        return out

    # -- editing -----------------------------------------------------------------------------

    def rename(self, name: str) -> None:
        """Change the display name (the folder keeps its slug) and save."""
        self.name = check_name(name, "workspace")
        self.save()

    def delete(self) -> None:
        """Remove the workspace folder (the user's own files elsewhere are untouched)."""
        root = workspaces_root().resolve()
        if root not in self.folder.resolve().parents:
            raise GemvizError("refusing to delete a folder outside the workspaces root")
        shutil.rmtree(self.folder)

    def add_splitter(self, entry: SplitterEntry, replace: bool = False) -> None:
        """Register a splitter after checking its labeled file loads; save.

        Raises:
            GemvizError: The name is taken (and ``replace`` is false) or the file is bad.
        """
        check_unique_name(entry.name, [s.name for s in self.splitters], "splitter", replace)
        if not entry.labeled:
            raise GemvizError(
                "a splitter needs a labeled test file (label = ID/OOD), or a train and a test "
                "score file to partition"
            )
        entry.labeled = _abs(entry.labeled)
        for attr in ("train_scores", "test_scores", "train_embeddings", "test_embeddings"):
            setattr(entry, attr, _abs(getattr(entry, attr)))
        load_labeled(entry.labeled)
        for path in entry.files()[1:]:
            if not Path(path).is_file():
                raise GemvizError("file not found; check the path", file=path)
        self.splitters = [s for s in self.splitters if s.name != entry.name] + [entry]
        self.save()

    def add_model(self, entry: ModelEntry, replace: bool = False) -> None:
        """Register a model after checking its result file loads; save.

        Raises:
            GemvizError: The name is taken (and ``replace`` is false) or the file is bad.
        """
        check_unique_name(entry.name, [m.name for m in self.models], "model", replace)
        entry.results = _abs(entry.results)
        entry.runs = [_abs(p) for p in entry.runs]
        entry.predictions = _abs(entry.predictions)
        ids = self.test_ids()
        for path in entry.run_files():
            load_results(path, ids, self.test)
        self.models = [m for m in self.models if m.name != entry.name] + [entry]
        self.save()

    def remove(self, kind: str, name: str) -> None:
        """Unregister the splitter or model ``name`` (``kind`` is "splitter" or "model")."""
        if kind == "splitter":
            self.splitters = [s for s in self.splitters if s.name != name]
        else:
            self.models = [m for m in self.models if m.name != name]
        self.save()

    def save_partition(
        self,
        name: str,
        test_scores: str | os.PathLike,
        is_id: Any,
        *,
        replace: bool = False,
        **meta: Any,
    ) -> SplitterEntry:
        """Write a labeled copy of a test score file inside the workspace and register it.

        The user's score file is read, never modified; the labeled file goes to
        ``<workspace>/splitters/<stem>_labeled.json`` (:func:`file_stem`: names that differ
        only in case or in non-ASCII letters get files of their own).

        Args:
            name: The new splitter's name.
            test_scores: The test score file the labels belong to (same order).
            is_id: One boolean per test record (True = ID).
            replace: Overwrite a splitter of the same name.
            **meta: Other :class:`SplitterEntry` fields (``train_scores``, ``partition``,
                ``params``, ``model``, ``embed_method``, embedding paths).

        Returns:
            The registered entry.

        Raises:
            GemvizError: The name is taken, or ``is_id`` does not match the file's length.
        """
        check_unique_name(name, [s.name for s in self.splitters], "splitter", replace)
        records = read_records(test_scores)
        flags = list(is_id)
        if len(flags) != len(records):
            raise GemvizError(
                f"{len(flags)} labels for {len(records)} records; partition this file again",
                file=str(test_scores),
            )

        labeled = [{**r, LABEL: "ID" if f else "OOD"} for r, f in zip(records, flags, strict=True)]
        others = {str(Path(s.labeled).resolve()) for s in self.splitters if s.name != name}
        target = free_path(
            self.folder.resolve() / "splitters" / f"{file_stem(name)}_labeled.json", others
        )
        path = write_records(target, labeled)
        entry = SplitterEntry(name=name, labeled=str(path), test_scores=_abs(test_scores), **meta)
        self.add_splitter(entry, replace=True)
        return entry

    def score_sources(self, job_out: str | os.PathLike | None = None) -> dict[str, ScoreSource]:
        """Train/test score files that can be (re-)partitioned, by display name.

        Args:
            job_out: Output folder of a finished scoring job, listed as :data:`LAST_JOB`.

        Returns:
            Every splitter that has both score files, then the job's output if it exists.
        """
        out = {
            f"splitter: {s.name}": ScoreSource(
                s.train_scores, s.test_scores, s.train_embeddings, s.test_embeddings
            )
            for s in self.splitters
            if s.train_scores and s.test_scores
        }
        if job_out is not None and (Path(job_out) / "test_inputscore.json").exists():
            d = Path(job_out)
            out[LAST_JOB] = ScoreSource(
                *(
                    str(d / f"{part}_{kind}")
                    for kind in ("inputscore.json", "embeddings.npz")
                    for part in ("train", "test")
                )
            )
        return out

    def test_ids(self) -> list[str] | None:
        """The sample ids of the test file (None without one), e.g. for BFCL score files."""
        if not self.test or not Path(self.test).is_file():
            return None

        return sample_ids(read_records(self.test), self.test)

    def splitter(self, name: str) -> SplitterEntry:
        """The splitter entry called ``name``."""
        for s in self.splitters:
            if s.name == name:
                return s
        raise GemvizError(f"workspace '{self.name}' has no splitter '{name}'")

    # -- analysis ----------------------------------------------------------------------------

    def study(self):
        """Load every registered file into a :class:`gemviz.data.study.Study`.

        Raises:
            GemvizError: No splitter is registered, or a file is bad or does not cover the
                same samples as the others.
        """
        refresh_models(self.models, self.test)
        if not self.splitters:
            raise GemvizError(
                f"workspace '{self.name}' has no splitter yet; add a labeled file or score one "
                "on the Score & Partition page"
            )
        return Study.from_files(
            {s.name: s.labeled for s in self.splitters},
            {m.name: m.run_files() for m in self.models},
            samples=self.test if self.test and _is_records(self.test) else None,
            cluster_by=self.cluster_by,
        )


_PATH_KEYS = ("test", "train", "image_root")


def _is_records(path: str) -> bool:
    return Path(path).exists() and Path(path).is_file()


def create_workspace(
    name: str,
    *,
    test: str | os.PathLike | None = None,
    train: str | os.PathLike | None = None,
    image_root: str | os.PathLike | None = None,
    demo: bool = False,
    folder: str | os.PathLike | None = None,
) -> Workspace:
    """Make and save a new workspace.

    Args:
        name: Display name; its slug (made unique) names the folder.
        test: The test-set record file (optional; the first splitter's file is the
            reference otherwise).
        train: The train-set record file, for scoring.
        image_root: Folder that relative ``image_path`` values are resolved against.
        demo: Mark the workspace as the built-in demo.
        folder: Use this folder instead of one derived from ``name``.

    Returns:
        The saved workspace.

    Raises:
        GemvizError: The name is empty or a named file cannot be read.
    """
    name = check_name(name, "workspace")
    for path in (test, train):
        if path not in (None, ""):
            read_table(path)  # a clear message now, not on every page; leaves JSON's copy
    check_image_root(image_root)
    spec = dict(
        name=name.strip(),
        demo=demo,
        created=time.time(),
        test=_abs(test),
        train=_abs(train),
        image_root=_abs(image_root),
    )
    if folder is not None:
        ws = Workspace(folder=Path(folder), **spec)
        ws.folder.mkdir(parents=True, exist_ok=True)
        ws.save()
        return ws
    with staged_workspace(name) as ws:
        for key, value in spec.items():
            setattr(ws, key, value)
    return ws


def check_image_root(image_root: str | os.PathLike | None) -> None:
    """Refuse an image root that is not an existing folder (it would find no screenshot)."""
    if image_root in (None, ""):
        return
    if not Path(image_root).expanduser().is_dir():
        raise GemvizError(
            "the image root is not an existing folder; give the folder that relative "
            "image_path values start from",
            file=str(image_root),
        )


@contextlib.contextmanager
def staged_workspace(name: str) -> Iterator[Workspace]:
    """Build a new workspace in a hidden folder, then rename it into place in one step.

    The body fills the yielded workspace (files, splitters, models) in a hidden folder
    (:func:`gemviz.workspace.staging.staging_folder`); on success ``workspace.json`` is saved
    with every path inside that folder pointed at the final one, and the folder is renamed to
    the name's unique slug. A kill at any moment leaves either nothing under a workspace's
    name or a complete workspace; an exception removes the hidden folder.

    Args:
        name: The display name; its slug (made unique) names the final folder.

    Yields:
        The workspace, its ``folder`` the hidden one until the body ends, the final one after.
    """
    name = check_name(name, "workspace")
    with staging_folder(workspaces_root()) as staging:
        ws = Workspace(folder=staging, name=name, created=time.time())
        yield ws

        def finish(target: Path) -> None:
            ws.relocate(target)
            write_json_atomic(staging / WORKSPACE_FILE, ws.to_dict())

        publish(staging, slugify(name), finish)
