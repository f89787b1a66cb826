"""A workspace's training sets measured against its test entries, as the Training sets page,
the report and the deck show them.

A *training set* here is a splitter of the workspace that keeps both sides of its scoring: the
training records as embedded (``train_scores``, the set's records with their text as ``task``),
the test records (``test_scores``) and both embedding files. Everything is computed from those
files (no model work): each set against the test entries with its own embeddings
(:mod:`gemviz.analysis.coverage`), its profile (:mod:`gemviz.analysis.set_profile`), the test
functions each set shows (:mod:`gemviz.analysis.functions_coverage`, with BFCL's possible
answers) and, given a baseline, the decisive comparison (:mod:`gemviz.analysis.coverage_gain`)
with each gain's own interval (a cluster sign-flip, :func:`gemviz.stats.paired_test`).

All per-entry arrays are in the study's order.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from gemviz.analysis.coverage import DEFAULT_K, measure, set_rows
from gemviz.analysis.coverage_gain import DECISIVE_COLUMNS, decisive_rows
from gemviz.analysis.functions_coverage import (
    entry_needs,
    function_table,
    never_seen,
    seen_functions,
)
from gemviz.analysis.set_profile import PROFILE_COLUMNS, profile_rows
from gemviz.data import clusters as clusters_mod
from gemviz.data.errors import GemvizError
from gemviz.data.study import Study
from gemviz.data.tool_calls import user_turns
from gemviz.scoring.training import EmbeddedFile, embedded_from_files
from gemviz.stats import paired_test
from gemviz.workspace.configs import baseline_of, configurations

#: Columns of :attr:`TrainingSets.gains`: each gain over the baseline with its interval.
GAIN_COLUMNS = ["train_set", "model", "subset", "n", "gain", "lo", "hi"]
#: Columns of :func:`map_points`.
MAP_COLUMNS = ["x", "y", "kind", "id", "text", "nn_distance"]
#: Training examples drawn on a map at most (a fixed, evenly spaced choice beyond it).
MAP_MAX_TRAIN = 5000
#: Names taken for the baseline when one of them is a configuration, in this order.
BASELINE_NAMES = ("base", "baseline", "untrained")
COVERED, UNCOVERED, TRAINING = "test: covered", "test: not covered", "training example"


def training_entries(workspace: Any) -> list[Any]:
    """The workspace's splitter entries that keep a training set's records and embeddings."""
    return [
        s
        for s in workspace.splitters
        if all(
            p and os.path.isfile(p)
            for p in (s.train_scores, s.test_scores, s.train_embeddings, s.test_embeddings)
        )
    ]


def default_baseline(models: Sequence[str], workspace: Any = None) -> str | None:
    """The baseline of the workspace's configuration table, else the configuration named like
    an untrained baseline, else the first one (None: no configuration)."""
    marked = baseline_of(configurations(workspace)) if workspace is not None else None
    if marked in models:
        return marked
    for name in BASELINE_NAMES:
        for m in models:
            if m.lower() == name:
                return m
    return models[0] if models else None


def _in_order(test: EmbeddedFile, ids: Sequence[str], name: str) -> EmbeddedFile:
    where = {sid: i for i, sid in enumerate(test.ids)}
    missing = [sid for sid in ids if sid not in where]
    if missing:
        raise GemvizError(
            f"training set '{name}': {len(missing)} test entries have no embedding "
            f"(e.g. {missing[0]!r}); score the set against this test set again"
        )
    order = [where[sid] for sid in ids]
    return EmbeddedFile(
        list(ids),
        [test.records[i] for i in order],
        [test.texts[i] for i in order],
        test.embeddings[order],
    )


@dataclass
class TrainingSets:
    """Every training set of a workspace measured against its test entries.

    Attributes:
        names: The sets (splitter names), in workspace order.
        train: Set -> its training examples.
        test: Set -> the test entries as that set's splitter embedded them (study order).
        sets: One row per set (:data:`gemviz.analysis.coverage.SET_COLUMNS`).
        profiles: One row per set (:data:`gemviz.analysis.set_profile.PROFILE_COLUMNS`).
        functions: Test functions x sets (empty without possible answers).
        missing: Set -> the functions test entries need that it never shows.
        covered: Set -> covered flag per entry.
        nn_distance: Set -> each entry's distance to its nearest training example.
        nearest: Set -> each entry's nearest training example's position.
        k: Neighbours.
    """

    names: list[str]
    train: dict[str, EmbeddedFile]
    test: dict[str, EmbeddedFile]
    sets: pd.DataFrame
    profiles: pd.DataFrame
    functions: pd.DataFrame
    missing: dict[str, list[str]]
    covered: dict[str, np.ndarray]
    nn_distance: dict[str, np.ndarray]
    nearest: dict[str, np.ndarray]
    k: int = DEFAULT_K

    def entries(self, name: str) -> pd.DataFrame:
        """One row per test entry: ``id, covered, nn_distance, nearest_id, nearest_text``."""
        train, near = self.train[name], self.nearest[name]
        return pd.DataFrame(
            {
                "id": self.test[name].ids,
                "covered": self.covered[name],
                "nn_distance": self.nn_distance[name],
                "nearest_id": [train.ids[j] for j in near],
                "nearest_text": [train.texts[j] for j in near],
            }
        )


def training_sets(
    study: Study,
    entries: Sequence[Any],
    answers: Mapping[str, Any] | None = None,
    k: int = DEFAULT_K,
    rule: str = "naeem",
    tokenizer: str | None = None,
) -> TrainingSets:
    """Measure every training-set entry (:func:`training_entries`) against the study's entries.

    Args:
        study: The workspace's study (its ids fix the order).
        entries: The splitter entries.
        answers: BFCL's possible answers by entry id, for function coverage (None: none).
        k: Neighbours.
        rule: The ``knn`` rule behind ``covered``.
        tokenizer: A model folder for the profiles' token counts (None: the packaged one).

    Raises:
        GemvizError: Unreadable files, or test entries missing from a set's embeddings.
    """
    names = [e.name for e in entries]
    train = {e.name: embedded_from_files(e.train_scores, e.train_embeddings) for e in entries}
    test = {
        e.name: _in_order(embedded_from_files(e.test_scores, e.test_embeddings), study.ids, e.name)
        for e in entries
    }
    measures = {n: measure(test[n].embeddings, train[n].embeddings, k, rule) for n in names}
    records = test[names[0]].records if names else []
    needs = entry_needs(records, answers) if answers else None
    codes = None if study.cluster_by == clusters_mod.NONE else study.clusters
    rows = [set_rows(test[n], {n: train[n]}, {n: measures[n]}, needs, codes) for n in names]
    seen = {n: seen_functions(train[n].records) for n in names}
    return TrainingSets(
        names=names,
        train=train,
        test=test,
        sets=pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(),
        profiles=profile_rows(train, tokenizer) if names else pd.DataFrame(columns=PROFILE_COLUMNS),
        functions=function_table(records, needs, seen) if needs else pd.DataFrame(),
        missing={n: never_seen(needs, seen[n]) for n in names} if needs else {},
        covered={n: np.asarray(measures[n].covered, dtype=bool) for n in names},
        nn_distance={n: measures[n].nn_distance[:, 0] for n in names},
        nearest={n: measures[n].nn_index[:, 0] for n in names},
        k=k,
    )


def trained_on(names: Sequence[str], configs: pd.DataFrame | None) -> dict[str, str]:
    """Configuration -> the training set the configuration table says it was trained on.

    A configuration's ``train_set`` names one of the sets ``names`` exactly (letter case and
    surrounding spaces aside), or is one word of exactly one set's name (``14k`` in
    ``set-14k``); a value that names no set, or several, pairs the configuration with none.
    """
    if configs is None or "train_set" not in configs:
        return {}
    out = {}
    for model, value in zip(configs["model"], configs["train_set"], strict=True):
        if not isinstance(value, str) or not value.strip():
            continue
        want = value.strip().casefold()
        exact = [n for n in names if n.strip().casefold() == want]
        words = [n for n in names if want in re.split(r"[^0-9a-z]+", n.casefold())]
        found = exact or words
        if len(found) == 1:
            out[str(model)] = found[0]
    return out


def decisive(
    study: Study,
    found: TrainingSets,
    baseline: str,
    metric: str | None = None,
    trained: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """:func:`gemviz.analysis.coverage_gain.decisive_rows` for every set (one Holm family),
    each configuration of ``trained`` (:func:`trained_on`) on its own set only.

    Returns:
        Columns :data:`gemviz.analysis.coverage_gain.DECISIVE_COLUMNS` (empty without a second
        configuration).
    """
    if len([m for m in study.models if m != baseline]) == 0 or not found.names:
        return pd.DataFrame(columns=DECISIVE_COLUMNS)
    return decisive_rows(study, found.covered, baseline, metric=metric, trained_on=trained)


def gain_rows(
    study: Study,
    found: TrainingSets,
    baseline: str,
    metric: str | None = None,
    trained: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Each configuration's gain over the baseline on each set's covered and uncovered entries.

    The gain is the mean over entries of the configuration's outcome (runs averaged) minus the
    baseline's; its 95% interval is the cluster sign-flip test's (:func:`gemviz.stats.paired_test`),
    clusters as the study has them.

    Returns:
        Columns :data:`GAIN_COLUMNS`, ``subset`` ``covered`` or ``not covered``; a
        configuration of ``trained`` on its own set only.
    """
    models = [m for m in study.models if m != baseline]
    if not models or not found.names:
        return pd.DataFrame(columns=GAIN_COLUMNS)
    outcomes = study.metric(metric or study.default_metric)
    base = outcomes[baseline].to_numpy(float)
    diffs = np.column_stack([outcomes[m].to_numpy(float) - base for m in models])
    codes = None if study.cluster_by == clusters_mod.NONE else study.clusters
    rows = []
    for name in found.names:
        for subset, mask in (
            ("covered", found.covered[name]),
            ("not covered", ~found.covered[name]),
        ):
            test = paired_test(diffs, mask, codes, kind=f"coverage-gain:{name}:{subset}")
            for j, model in enumerate(models):
                if (trained or {}).get(model, name) != name:
                    continue
                rows.append(
                    {
                        "train_set": name,
                        "model": model,
                        "subset": subset,
                        "n": int(mask.sum()),
                        "gain": float(test["diff"][j]),
                        "lo": float(test["lo"][j]),
                        "hi": float(test["hi"][j]),
                    }
                )
    return pd.DataFrame(rows, columns=GAIN_COLUMNS)


def _pca2(x: np.ndarray) -> np.ndarray:
    """The first two principal components of the rows (signs fixed: largest loading positive)."""
    centred = x - x.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    vt = vt[:2]
    signs = np.sign(vt[np.arange(len(vt)), np.abs(vt).argmax(axis=1)])
    out = centred @ (vt * signs[:, None]).T
    return out if out.shape[1] == 2 else np.column_stack([out, np.zeros(len(out))])


def map_points(found: TrainingSets, name: str) -> pd.DataFrame:
    """A 2-D map (PCA of unit embeddings) of one set's training examples and the test entries.

    Training examples beyond :data:`MAP_MAX_TRAIN` are thinned to an evenly spaced choice (the
    count is in the caption the caller writes); test entries are all drawn.

    Returns:
        Columns :data:`MAP_COLUMNS`; ``kind`` is ``training example``, ``test: covered`` or
        ``test: not covered``; ``nn_distance`` is NaN for training examples.
    """
    train, test = found.train[name], found.test[name]
    keep = np.arange(len(train.ids))
    if len(keep) > MAP_MAX_TRAIN:
        keep = np.linspace(0, len(keep) - 1, MAP_MAX_TRAIN).round().astype(int)
    both = np.vstack([train.embeddings[keep], test.embeddings]).astype(np.float64)
    both /= np.linalg.norm(both, axis=1, keepdims=True)
    xy = _pca2(both)
    covered = found.covered[name]
    return pd.DataFrame(
        {
            "x": xy[:, 0],
            "y": xy[:, 1],
            "kind": [TRAINING] * len(keep) + [COVERED if c else UNCOVERED for c in covered],
            "id": [train.ids[j] for j in keep] + list(test.ids),
            "text": [train.texts[j] for j in keep] + list(test.texts),
            "nn_distance": np.concatenate([np.full(len(keep), np.nan), found.nn_distance[name]]),
        },
        columns=MAP_COLUMNS,
    )


def function_matrix(found: TrainingSets) -> pd.DataFrame:
    """The test functions x sets table with each set's cells as ``shown``/``never``."""
    table = found.functions
    if table.empty:
        return table
    out = table.copy()
    for name in found.names:
        out[name] = np.where(out[name].to_numpy(bool), "shown", "never")
    return out


def with_turns(near: pd.DataFrame, train: pd.DataFrame | None) -> pd.DataFrame:
    """Nearest training rows (:func:`gemviz.analysis.explain.nearest_train`) with each
    example's number of user turns (``turns``; NaN where the record is unknown)."""
    out = near.copy()
    if train is None:
        out["turns"] = np.nan
        return out
    known = set(train.index)
    out["turns"] = [
        user_turns(_present(train.loc[i])) if i in known else np.nan for i in out["neighbour"]
    ]
    return out


def _present(row: pd.Series) -> dict[str, Any]:
    """A frame row as a record, leaving out the cells the record did not have (NaN)."""
    return {k: v for k, v in row.items() if not (isinstance(v, float) and v != v)}


def _interval(value: float, lo: float, hi: float) -> str:
    return f"{value:.2f} [{lo:.2f}, {hi:.2f}]"


def _spread(mean: float, sd: float) -> str:
    return f"{mean:,.0f} ± {sd:,.0f}" if sd == sd else f"{mean:,.0f}"


def side_by_side(found: TrainingSets) -> pd.DataFrame:
    """The sets' coverage numbers and profiles as one table: a row per measure, a column per
    set (values as text: counts with n, intervals in brackets, means ± sd)."""
    sets = found.sets.set_index("train_set")
    prof = found.profiles.set_index("train_set")
    rows: dict[str, dict[str, str]] = {}
    for name in found.names:
        s, p = sets.loc[name], prof.loc[name]
        share = float(s["functions_covered"])
        column = {
            "test entries covered (knn)": f"{int(s['covered'])} of {int(s['n_test'])}",
            "coverage [95% CI]": _interval(s["coverage"], s["coverage_lo"], s["coverage_hi"]),
            "density": f"{s['density']:.2f}",
            "precision": f"{s['precision']:.2f} (of {int(s['n_train']):,} examples)",
            "recall": f"{s['recall']:.2f} (of {int(s['n_test'])} entries)",
            "median nearest distance": f"{s['median_nn_distance']:.2f}",
            "entries with every function shown": "–" if share != share else f"{share:.0%}",
            "conversations": f"{int(p['conversations']):,}",
            "user turns per conversation": f"{p['user_turns_mean']:.1f}",
            "tool calls per conversation": f"{p['tool_calls_mean']:.1f}",
            "characters (mean ± sd)": _spread(p["chars_mean"], p["chars_sd"]),
            "tokens (mean ± sd)": _spread(p["tokens_mean"], p["tokens_sd"]),
            "exact / near duplicates": f"{int(p['exact_duplicates'])} / {int(p['near_duplicates'])}",
            "diversity (mean cosine distance)": f"{p['diversity']:.2f}",
        }
        for label, value in column.items():
            rows.setdefault(label, {})[name] = value
    out = pd.DataFrame.from_dict(rows, orient="index", columns=found.names)
    return out.rename_axis("measure").reset_index()
