"""The study: one test set, its ID/OOD labels from several splitters, and models' results.

A :class:`Study` holds every per-sample fact the analysis needs in frames that share one row
order (the *reference order*): ``samples`` (id, task, image_path and the other fields of the
reference file), ``labels`` and ``scores`` (one column per splitter) and one frame per metric
(``type_match`` / ``exact_match`` for GUI agents, ``accuracy`` for a benchmark's pass/fail;
one column per model). A model evaluated several times has one 0/1 column per run
(``per_run``); its metric frame holds the per-step outcome averaged over the runs, a fraction
in [0, 1], which is the unit every mean, gap and test works on. The reference order is that of the
``samples`` file when one is given, else that of the first splitter's file; every other file
is aligned to it by sample id with :func:`gemviz.data.ids.align`, which refuses files that do not
hold the same samples. Everything downstream (tables, Venn regions, drill-downs, pages) works
on these aligned columns with vectorised numpy, so 50,000+ samples stay quick.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from gemviz.data import bfcl
from gemviz.data import clusters as clusters_mod
from gemviz.data.errors import GemvizError
from gemviz.data.fields import (
    EXACT_MATCH,
    ID,
    LABEL,
    METRICS,
    SCORE,
    TYPE_MATCH,
)
from gemviz.data.files import one_file_per_run
from gemviz.data.frames import frame_ids
from gemviz.data.ids import sample_ids
from gemviz.data.loaders import load_labeled, load_results
from gemviz.data.read import read_records, read_table
from gemviz.data.read_like import READ_FROM
from gemviz.data.study_frames import (
    PathLike,
    as_frames,
    as_paths,
    binary_column,
    id_ood_labels,
    metrics_of,
    positions,
    reference_frame,
    split_runs,
    study_columns,
    with_ids,
)

_EMPTY: Mapping = {}


@dataclass
class Study:
    """Aligned labels, scores and per-sample results of one test set.

    Attributes:
        samples: RangeIndex; ``id``, ``task``, ``image_path`` then the reference file's other
            fields (a splitter file's ``label`` and ``input_score`` live in ``labels`` and
            ``scores`` instead).
        labels: One column per splitter, values ``"ID"``/``"OOD"``.
        scores: One column per splitter, float ``input_score`` (NaN where the file has none).
        outcomes: Metric name -> one column per model: int8 0/1 for a model with one run,
            else the float mean over its runs. ``type_match``/``exact_match`` read from here.
        per_run: Metric name -> model -> ``(n, runs)`` int8 array of each run's 0/1.
        cluster_by: The field whose values group steps into clusters (tasks or episodes),
            or ``"none"`` for step-level statistics; see :mod:`gemviz.data.clusters`.
        clusters: Each sample's cluster code ``0..k-1`` (int64), in the reference order.
        warnings: What loading flagged without refusing (e.g. ``exact_match`` = 1 where
            ``type_match`` = 0), one line each, for the command line and pages to show.
    """

    samples: pd.DataFrame
    labels: pd.DataFrame = field(default_factory=pd.DataFrame)
    scores: pd.DataFrame = field(default_factory=pd.DataFrame)
    outcomes: dict[str, pd.DataFrame] = field(default_factory=dict)
    per_run: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    cluster_by: str = clusters_mod.NONE
    clusters: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    warnings: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.outcomes:
            index = pd.RangeIndex(len(self.samples))
            self.outcomes = {m: pd.DataFrame(index=index, dtype=np.int8) for m in METRICS}
        if len(self.clusters) != len(self.samples):
            self.cluster_by = clusters_mod.NONE
            self.clusters = np.arange(len(self.samples), dtype=np.int64)

    @property
    def n_clusters(self) -> int:
        """Number of distinct clusters in the whole test set."""
        return clusters_mod.count(self.clusters)

    def clusters_in(self, mask: np.ndarray) -> int:
        """Number of distinct clusters among the samples selected by ``mask``."""
        return clusters_mod.count(self.clusters, mask)

    def with_clusters(self, cluster_by: str | None) -> Study:
        """The same study with clusters defined by ``cluster_by`` (see :mod:`gemviz.data.clusters`).

        Raises:
            GemvizError: ``cluster_by`` names a field the samples do not have.
        """
        name, codes = clusters_mod.resolve(self.samples, cluster_by)
        return dataclasses.replace(self, cluster_by=name, clusters=codes)

    @property
    def splitters(self) -> list[str]:
        """Splitter names, in the order they were given."""
        return [str(c) for c in self.labels.columns]

    @property
    def models(self) -> list[str]:
        """Model names, in the order they were given."""
        first = next(iter(self.outcomes.values()), None)
        return [] if first is None else [str(c) for c in first.columns]

    @property
    def metrics(self) -> list[str]:
        """The metrics the models' files hold (``type_match``, ``exact_match`` for GUI agents)."""
        return list(self.outcomes)

    @property
    def type_match(self) -> pd.DataFrame:
        """The ``type_match`` frame (one column per model)."""
        return self.metric(TYPE_MATCH)

    @property
    def exact_match(self) -> pd.DataFrame:
        """The ``exact_match`` frame (one column per model)."""
        return self.metric(EXACT_MATCH)

    @property
    def default_metric(self) -> str:
        """The metric shown first: ``exact_match`` when present, else the first one."""
        return EXACT_MATCH if EXACT_MATCH in self.outcomes else self.metrics[0]

    def runs(self, model: str) -> int:
        """How many runs of ``model`` the study holds (1 for a single result file)."""
        self.check_models([model])
        first = next(iter(self.per_run.values()), {})
        return int(first[model].shape[1]) if model in first else 1

    def run_values(self, metric: str, model: str) -> np.ndarray:
        """``(n, runs)`` 0/1 array of ``model``'s ``metric`` in each run.

        Raises:
            GemvizError: An unknown metric or model.
        """
        frame = self.metric(metric)
        self.check_models([model])
        held = self.per_run.get(metric, {})
        if model in held:
            return held[model]
        return frame[model].to_numpy(dtype=np.int8)[:, None]

    @property
    def ids(self) -> list[str]:
        """Sample ids in the reference order."""
        return self.samples[ID].tolist()

    def __len__(self) -> int:
        return len(self.samples)

    def metric(self, name: str) -> pd.DataFrame:
        """The per-sample frame of metric ``name`` (one column per model, values in [0, 1]).

        Raises:
            GemvizError: ``name`` is not a metric of the study.
        """
        if name not in self.outcomes:
            raise GemvizError(f"unknown metric '{name}'; use one of {', '.join(self.outcomes)}")
        return self.outcomes[name]

    def is_id(self, splitter: str) -> np.ndarray:
        """Boolean mask of the samples ``splitter`` labels ID.

        Raises:
            GemvizError: ``splitter`` is not in the study.
        """
        self._check_names([splitter], self.splitters, "splitter")
        return (self.labels[splitter] == "ID").to_numpy()

    def check_splitters(self, names: list[str] | tuple[str, ...]) -> None:
        """Raise a :class:`GemvizError` if any of ``names`` is not a splitter of the study."""
        self._check_names(names, self.splitters, "splitter")

    def check_models(self, names: list[str] | tuple[str, ...]) -> None:
        """Raise a :class:`GemvizError` if any of ``names`` is not a model of the study."""
        self._check_names(names, self.models, "model")

    @staticmethod
    def _check_names(names, known: list[str], kind: str) -> None:
        unknown = [n for n in names if n not in known]
        if unknown:
            have = ", ".join(known) if known else "none"
            raise GemvizError(f"unknown {kind} '{unknown[0]}' (the study has: {have})")

    @classmethod
    def from_files(
        cls,
        splits: Mapping[str, PathLike],
        models: Mapping[str, PathLike | Sequence[PathLike]] = _EMPTY,
        samples: PathLike | None = None,
        cluster_by: str | None = clusters_mod.AUTO,
    ) -> Study:
        """Load labeled files, result files and optionally the test set, and align them.

        What the loaders flag without refusing (e.g. ``exact_match`` = 1 where ``type_match``
        = 0) is returned in :attr:`warnings`, one line each.

        Args:
            splits: Splitter name -> labeled file (test records + ``label``).
            models: Model name -> result file (test records + 0/1 metrics), or a list of
                files, one per run.
            samples: The test-set file giving the reference order; default: the first
                splitter's file.
            cluster_by: How steps group into clusters (:func:`gemviz.data.clusters.resolve`).

        Returns:
            The aligned study.

        Raises:
            GemvizError: A file is unreadable or invalid, the files do not hold the same
                samples, or ``cluster_by`` names a missing field.
        """
        sample_frame, like = _read_samples(samples) if samples is not None else (None, None)
        # Files of one test set usually list it in one order: their ids are made once (like).
        split_frames = _read_splits(splits, like)
        if like is None and split_frames:
            like = next(iter(split_frames.values()))
        if sample_frame is not None:
            ref_ids, ref_name = sample_frame[ID].astype(str), str(samples)
        elif split_frames:
            first = next(iter(splits))
            ref_ids, ref_name = split_frames[first][ID], str(splits[first])
        else:
            ref_ids, ref_name = None, None
        files = {name: one_file_per_run(name, as_paths(p)) for name, p in models.items()}
        notes: list[str] = []
        model_frames = {
            name: [study_columns(load_results(p, ref_ids, ref_name, like, notes)) for p in paths]
            for name, paths in files.items()
        }
        if sample_frame is not None:
            sample_frame.attrs.pop(READ_FROM, None)  # only for reading the files above
        study = cls._build(
            split_frames,
            model_frames,
            sample_frame,
            split_sources={n: str(p) for n, p in splits.items()},
            model_sources={n: [str(p) for p in paths] for n, paths in files.items()},
            sample_source=str(samples) if samples is not None else None,
        )
        study.warnings = tuple(notes)
        return study.with_clusters(cluster_by)

    @classmethod
    def from_frames(
        cls,
        splits: Mapping[str, pd.DataFrame],
        models: Mapping[str, pd.DataFrame | Sequence[pd.DataFrame]] = _EMPTY,
        samples: pd.DataFrame | None = None,
        cluster_by: str | None = clusters_mod.AUTO,
    ) -> Study:
        """Build a study from frames already in memory (e.g. ``load_labeled`` output).

        Frames without an ``id`` column get ids by :func:`gemviz.data.ids.sample_ids`. Labels are
        accepted in any case (``"id"`` -> ``"ID"``); match values must be 0/1 or booleans.

        Args:
            splits: Splitter name -> frame with ``label`` (and optionally ``input_score``).
            models: Model name -> frame with its 0/1 metrics (``type_match`` and
                ``exact_match``, or e.g. ``accuracy``), or a list of frames, one per run; a
                frame with a ``run`` column holds several runs.
            samples: Frame giving the reference order; default: the first splitter's frame.
            cluster_by: How steps group into clusters (:func:`gemviz.data.clusters.resolve`).

        Returns:
            The aligned study.

        Raises:
            GemvizError: A column is missing or invalid, or the frames do not hold the same
                samples.
        """
        return cls._build(
            {name: with_ids(f, f"splitter '{name}'") for name, f in splits.items()},
            {
                name: [with_ids(f, f"model '{name}'") for f in as_frames(frames)]
                for name, frames in models.items()
            },
            None if samples is None else with_ids(samples, "samples"),
            split_sources={n: f"splitter '{n}'" for n in splits},
            model_sources={
                n: [f"model '{n}'" for _ in as_frames(frames)] for n, frames in models.items()
            },
            sample_source="samples",
        ).with_clusters(cluster_by)

    @classmethod
    def _build(
        cls,
        splits: Mapping[str, pd.DataFrame],
        models: Mapping[str, Sequence[pd.DataFrame]],
        samples: pd.DataFrame | None,
        split_sources: Mapping[str, str],
        model_sources: Mapping[str, Sequence[str]],
        sample_source: str | None,
    ) -> Study:
        if samples is None:
            if not splits:
                raise GemvizError("a study needs at least one splitter's file or a samples file")
            first = next(iter(splits))
            samples = splits[first].drop(columns=[LABEL, SCORE], errors="ignore")
            ref_name = split_sources[first]
        else:
            ref_name = sample_source or "samples"
        samples = reference_frame(samples)
        ref_ids = samples[ID]
        labels, scores = _split_columns(splits, split_sources, ref_ids, ref_name)
        per_run = _run_columns(models, model_sources, ref_ids, ref_name)
        index = pd.RangeIndex(len(ref_ids))
        outcomes = {
            metric: pd.DataFrame(
                {
                    name: values[:, 0] if values.shape[1] == 1 else values.mean(axis=1)
                    for name, values in held.items()
                },
                index=index,
            )
            for metric, held in per_run.items()
        }
        return cls(
            samples=samples,
            labels=pd.DataFrame(labels, index=index, dtype=object),
            scores=pd.DataFrame(scores, index=index, dtype=float),
            outcomes=outcomes,
            per_run=per_run,
        )


def _read_samples(samples: PathLike) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """The test-set file as the reference frame, and it again as ``like`` for the other
    files when its ids were made column-wise (else None)."""
    sample_frame = read_table(samples)
    ids = frame_ids(sample_frame)
    fast = ids is not None
    rule = ID if ID in sample_frame.columns else "pair"
    if not fast:  # odd or bad ids: the record reader words what is wrong
        ids = pd.Series(sample_ids(read_records(samples), str(samples)), dtype=str)
    source = str(samples) if str(samples).lower().endswith((".parquet", ".pq")) else None
    if bfcl.is_test_frame(sample_frame):
        sample_frame = bfcl.with_text_columns(sample_frame, str(samples))
        source = None
    sample_frame = sample_frame.drop(columns=[ID], errors="ignore")
    sample_frame.insert(0, ID, ids)
    if not fast:
        return sample_frame, None
    sample_frame.attrs["id_rule"] = rule
    if source is not None:  # its text columns are the file's, as decoded
        sample_frame.attrs[READ_FROM] = source
    return sample_frame, sample_frame


def _read_splits(
    splits: Mapping[str, PathLike], like: pd.DataFrame | None
) -> dict[str, pd.DataFrame]:
    """Each splitter's labeled frame; files after the first share its ids (``like``)."""
    split_frames = {}
    for name, path in splits.items():
        frame = load_labeled(path, like)
        if like is None:
            like = frame
        elif frame is not like:
            frame = study_columns(frame)
        split_frames[name] = frame
    return split_frames


def _split_columns(
    splits: Mapping[str, pd.DataFrame],
    sources: Mapping[str, str],
    ref_ids: pd.Series,
    ref_name: str,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Each splitter's labels and scores in the reference order (NaN scores where none)."""
    labels: dict[str, np.ndarray] = {}
    scores: dict[str, np.ndarray] = {}
    for name, frame in splits.items():
        source = sources[name]
        if LABEL not in frame.columns:
            raise GemvizError("required column is missing", file=source, field=LABEL)
        idx = positions(ref_ids, frame, ref_name, source)
        labels[name] = id_ood_labels(frame[LABEL], source)[idx]
        if SCORE in frame.columns:
            scores[name] = pd.to_numeric(frame[SCORE], errors="coerce").to_numpy(float)[idx]
        else:
            scores[name] = np.full(len(ref_ids), np.nan)
    return labels, scores


def _run_columns(
    models: Mapping[str, Sequence[pd.DataFrame]],
    sources: Mapping[str, Sequence[str]],
    ref_ids: pd.Series,
    ref_name: str,
) -> dict[str, dict[str, np.ndarray]]:
    """Metric -> model -> ``(n, runs)`` 0/1 array; every model must hold the same metrics."""
    metrics: list[str] | None = None
    first_model = ""
    per_run: dict[str, dict[str, np.ndarray]] = {}
    for name, frames in models.items():
        runs: list[dict[str, np.ndarray]] = []
        for frame, source in zip(frames, sources[name], strict=True):
            held = metrics_of(frame)
            if metrics is None:
                metrics, first_model = held, name
            elif held != metrics:
                raise GemvizError(
                    f"model '{name}' holds the metrics {', '.join(held)} but model "
                    f"'{first_model}' holds {', '.join(metrics)}; every model needs the "
                    "same metrics",
                    file=source,
                )
            for label, part in split_runs(frame):
                where = source if label is None else f"{source} (run {label})"
                for m in metrics:
                    if m not in part.columns:
                        raise GemvizError("required column is missing", file=where, field=m)
                idx = positions(ref_ids, part, ref_name, where)
                runs.append({m: binary_column(part[m], where, m)[idx] for m in metrics})
        for metric in metrics or []:
            per_run.setdefault(metric, {})[name] = np.column_stack(
                [r[metric] for r in runs]
            ).astype(np.int8)
    return per_run
