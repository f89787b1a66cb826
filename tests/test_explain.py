"""The Step page's backend: episode strip order, nearest train rows, score percentile."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from gemviz.analysis import explain
from gemviz.analysis.neighbours import NeighbourTable
from gemviz.data.fields import SCORE
from gemviz.data.loaders import load_scores
from gemviz.data.read import read_records
from gemviz.data.study import Study
from gemviz.data.write import write_records
from gemviz.demo.build import add_episodes
from gemviz.figures import step
from gemviz.ui import cache
from gemviz.workspace.store import create_workspace
from tests.conftest import ROOT


def _study(extra: dict) -> Study:
    n = len(next(iter(extra.values())))
    labeled = pd.DataFrame(
        {
            "id": [f"s{i}" for i in range(n)],
            "task": [f"t{i}" for i in range(n)],
            "label": ["ID", "OOD"] * (n // 2) + ["ID"] * (n % 2),
            "action": [{"type": "click", "point": [0.1 * i, 0.5]} for i in range(n)],
            **extra,
        }
    )
    res = labeled[["id"]].assign(type_match=1, exact_match=[i % 2 for i in range(n)])
    return Study.from_frames({"g": labeled}, {"m": res})


@pytest.mark.parametrize("field", ["step", "step_index", "now_step"])
def test_episode_is_ordered_by_its_step_field(field):
    study = _study(
        {
            "episode_id": ["a", "b", "a", "a", "b", "a"],
            field: [3, 1, 1, None, 0, 2],
        }
    )
    strip = explain.episode(study, pos=2)
    # Episode "a" = positions 0, 2, 3, 5 with steps 3, 1, None, 2: numbered first, None last.
    assert strip["position"].tolist() == [2, 5, 0, 3]
    assert strip["id"].tolist() == ["s2", "s5", "s0", "s3"]
    assert strip["current"].tolist() == [True, False, False, False]
    assert strip["gt"].iloc[0] == "click (0.20, 0.50)"
    assert strip["m exact"].tolist() == [0, 1, 0, 1]


def test_episode_without_step_field_keeps_file_order_and_ties():
    study = _study({"episode_id": ["a", "a", "b", "a"], "step": [1, 1, 1, 1]})
    assert explain.episode(study, 3)["position"].tolist() == [0, 1, 3]  # ties: file order
    study = _study({"episode_id": ["a", "b", "a", "a"]})
    strip = explain.episode(study, 0)
    assert strip["position"].tolist() == [0, 2, 3] and strip["order"].tolist() == [1, 2, 3]
    # Without episodes the clusters are tasks: every step alone here.
    assert len(explain.episode(_study({"x": [1, 2, 3]}), 1)) == 1


def test_window_centres_on_the_current_step():
    strip = pd.DataFrame({"current": [i == 8 for i in range(10)]})
    assert explain.window(strip, 5).index.tolist() == [5, 6, 7, 8, 9]
    strip = pd.DataFrame({"current": [i == 4 for i in range(10)]})
    assert explain.window(strip, 5).index.tolist() == [2, 3, 4, 5, 6]


def test_strip_neighbours_and_captions():
    study = _study({"episode_id": ["a", "a", "a", "b"], "step": [1, 2, 3, 1]})
    strip = explain.episode(study, 1)
    assert explain.current_index(strip) == 1
    assert explain.strip_neighbours(strip) == ("s0", "s2")
    assert explain.strip_neighbours(explain.episode(study, 0)) == (None, "s1")
    assert explain.strip_neighbours(explain.episode(study, 3)) == (None, None)
    # Step 2 (s1) is the current one; exact_match of "m" is 0, 1, 0 on s0, s1, s2.
    assert explain.strip_captions(strip, study) == [
        "step 1 · GT: click (0.00, 0.50)  \nexact: m ✗",
        "**▶ this step** · GT: click (0.10, 0.50)  \nexact: m ✓",
        "step 3 · GT: click (0.20, 0.50)  \nexact: m ✗",
    ]
    assert explain.strip_captions(strip, study, "type_match")[0].endswith("type: m ✓")


def test_score_verdict_places_the_score_among_train_scores():
    study = _study({"x": [1, 2, 3, 4]})
    study.scores["g"] = pd.Series([0.1, 0.25, 0.3, 0.9])
    verdict = explain.score_verdict(study, "g", 1, [0.1, 0.2, 0.3, 0.4])
    assert (verdict.score, verdict.label, verdict.percentile) == (0.25, "OOD", 50.0)
    assert verdict.caption.startswith("Farther from the train centroid than 50% of train steps")
    unknown = explain.score_verdict(study, "g", 1)
    assert np.isnan(unknown.percentile) and unknown.caption is None


def test_nearest_train_and_percentile():
    found = NeighbourTable(
        ["q0", "q1"],
        ["t0", "t1", "t2"],
        np.array([[2, 0], [1, 2]]),
        np.array([[0.5, 0.7], [0.1, 0.2]]),
        "euclidean",
    )
    train = pd.DataFrame(
        {"task": ["a", "b", "c"], "image_path": ["x", "y", "z"]},
        index=pd.Index(["t0", "t1", "t2"], name="id"),
    )
    near = explain.nearest_train(found, "q0", train)
    assert near.to_dict("list") == {
        "rank": [1, 2],
        "neighbour": ["t2", "t0"],
        "task": ["c", "a"],
        "image_path": ["z", "x"],
        "distance": [0.5, 0.7],
    }
    assert explain.score_percentile(2.0, [1, 2, 3, 4]) == 50.0
    assert np.isnan(explain.score_percentile(float("nan"), [1, 2]))


def test_demo_episodes_group_each_app_in_order():
    recs = [{"app": a} for a in ["Mail", "Notes", "Mail", "Mail", "Mail", "Mail"]]
    add_episodes(recs, length=2)
    assert [(r["episode_id"], r["step_index"]) for r in recs] == [
        ("mail-001", 1),
        ("notes-001", 1),
        ("mail-001", 2),
        ("mail-002", 1),
        ("mail-002", 2),
        ("mail-003", 1),
    ]


def test_thumbnail_of_a_missing_file_is_a_placeholder():
    png = step.thumbnail("/no/such.png")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_step_percentiles_come_from_the_train_scores_every_time(gem_public, tmp_path):
    """Two splitters with one train file and one test score show one percentile, the train
    scores' own, on the first load too, even after another page changed a cached frame."""
    train = gem_public / "androidcontrol_inputscore.json"
    records = read_records(gem_public / "screenspot-web_inputscore.json")[:120]
    test = tmp_path / "test.json"
    write_records(test, records)
    ws = create_workspace("percentiles", test=test)
    scores = np.array([r["input_score"] for r in records])
    for name, q in (("gem", 0.6), ("strict", 0.3)):
        ws.save_partition(name, test, scores <= np.quantile(scores, q), train_scores=str(train))
    values = load_scores(train)[SCORE].to_numpy(float)
    study = ws.study()
    pos = len(study) // 2
    score = float(study.scores["gem"].iloc[pos])
    assert score == float(study.scores["strict"].iloc[pos])
    expected = explain.score_percentile(score, values)
    assert 0 < expected < 100
    # Another page holding the shared score frame changes it in place: the Step page must
    # not read that frame.
    frame = cache.load_scores(str(train), ws.fingerprint())
    frame[SCORE] = 0.0
    at = AppTest.from_file(str(ROOT / "pages" / "8_step.py"), default_timeout=120)
    at.session_state["workspace"] = ws.slug
    at.query_params["sample"] = study.ids[pos]
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    shown = [c.value for c in at.caption if c.value.startswith("Farther")]
    assert shown == [f"Farther from the train centroid than {expected:.0f}% of train steps "
                     "(percentile of the train score distribution)."] * 2  # fmt: skip
