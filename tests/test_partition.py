"""The partition path shared by the Score & Partition page: inputs of a score source, the
labels of a registered splitter, and the ID/OOD counts with their clusters."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

from gemviz.analysis.partition import (
    needs_embeddings,
    partition,
    source_inputs,
    source_stamp,
)
from gemviz.data.errors import GemvizError
from gemviz.data.write import write_records
from gemviz.splitters import GemSplitter, make_splitter
from gemviz.workspace.entries import ScoreSource


@pytest.fixture
def source(tmp_path, gem_public) -> ScoreSource:
    """AITZ scores as train, screenspot-mobile as test (real GEM release files)."""
    return ScoreSource(
        str(gem_public / "AITZ_test_inputscore.json"),
        str(gem_public / "screenspot-mobile_inputscore.json"),
    )


def test_the_page_path_gives_the_splitter_labels(source):
    train, test = source_inputs(source, "scores")
    assert train.ndim == test.ndim == 1 and train.size > test.size > 0
    fitted = make_splitter("gem", max_components=6).fit(train)
    part = partition(fitted.with_params(sigma=1.0), test)
    # The same labels as the splitter fitted from scratch with those settings.
    expected = GemSplitter(max_components=6, sigma=1.0).fit(train).predict(test)
    np.testing.assert_array_equal(part.is_id, expected)
    assert part.n_id == int(expected.sum()) and part.n_id + part.n_ood == test.size
    assert part.id_share == pytest.approx(expected.mean())


def test_counts_and_clusters_of_a_hand_made_partition():
    part = partition(
        make_splitter("percentile", percentile=100).fit([1.0, 2.0, 3.0]),
        np.array([0.5, 2.5, 3.5, 9.0, 1.0]),
    )
    np.testing.assert_array_equal(part.is_id, [True, True, False, False, True])
    assert (part.n_id, part.n_ood, part.id_share) == (3, 2, 0.6)
    test = pd.DataFrame({"id": list("abcde"), "task": ["t1", "t1", "t2", "t3", "t3"]})
    assert part.cluster_text(test, "task") == (
        "in 2 clusters (task)",
        "in 2 clusters (task)",
    )
    assert part.cluster_text(test, "none") is None
    assert part.cluster_text(test, "no_such_field") is None


def test_embeddings_are_asked_for_only_by_embedding_methods(source, tmp_path):
    assert needs_embeddings("mahalanobis", source)
    assert not needs_embeddings("gem", source)
    with pytest.raises(GemvizError, match="needs embeddings"):
        source_inputs(source, "embeddings")


def test_stamp_changes_when_a_file_is_rewritten(tmp_path):
    path = tmp_path / "scores.json"
    write_records(path, [{"id": "a", "input_score": 0.1}])
    src = ScoreSource(str(path), str(path))
    before = source_stamp(src)
    write_records(path, [{"id": "a", "input_score": 0.1}, {"id": "b", "input_score": 0.2}])
    os.utime(path, ns=(1, 1))
    assert source_stamp(src) != before
