"""Cluster resolution: episode_id before task, explicit fields, none, blanks as singletons."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gemviz.data import clusters
from gemviz.data.errors import GemvizError
from gemviz.data.study import Study


def test_auto_prefers_episode_id_then_task_then_none():
    frame = pd.DataFrame({"task": ["a", "a", "b"], "episode_id": [7, 8, 8]})
    field, codes = clusters.resolve(frame)
    assert field == "episode_id"
    np.testing.assert_array_equal(codes, [0, 1, 1])
    field, codes = clusters.resolve(frame.drop(columns="episode_id"))
    assert field == "task"
    np.testing.assert_array_equal(codes, [0, 0, 1])
    field, codes = clusters.resolve(pd.DataFrame({"x": [1, 2]}))
    assert field == "none"
    np.testing.assert_array_equal(codes, [0, 1])


def test_none_and_explicit_field_and_missing_field():
    frame = pd.DataFrame({"task": ["a", "a"], "app": ["x", "y"]})
    assert clusters.resolve(frame, "none")[0] == "none"
    field, codes = clusters.resolve(frame, "app")
    assert field == "app" and codes.tolist() == [0, 1]
    with pytest.raises(GemvizError, match=r"no such field.*task, app"):
        clusters.resolve(frame, "episode")


def test_blank_values_are_clusters_of_their_own():
    codes = clusters.codes_of(pd.Series(["a", "", None, "a", float("nan")]))
    assert codes.tolist() == [0, 1, 2, 0, 3]
    assert clusters.count(codes) == 4
    assert clusters.count(codes, np.array([1, 0, 0, 1, 0], bool)) == 1


def test_study_knows_its_clusters():
    frame = pd.DataFrame(
        {"id": list("abcd"), "task": ["t1", "t1", "t2", "t3"], "label": ["ID"] * 4}
    )
    study = Study.from_frames({"s": frame})
    assert study.cluster_by == "task" and study.n_clusters == 3
    assert study.clusters_in(np.array([1, 1, 0, 0], bool)) == 1
    flat = study.with_clusters("none")
    assert flat.cluster_by == "none" and flat.n_clusters == 4


def test_choices_offer_auto_none_and_grouping_fields():
    frame = pd.DataFrame(
        {
            "id": ["a", "b", "c"],
            "task": ["t", "t", "u"],
            "episode_id": [1, 1, 2],
            "app": ["x", "y", "z"],  # all distinct: groups nothing
            "input_score": [0.1, 0.2, 0.3],
        }
    )
    assert clusters.choices(frame) == ["auto", "none", "episode_id", "task"]
