"""The Samples table (gemviz.analysis.samples), its filters (filters), paging (paging) and a
step's details (step, outcomes)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from gemviz.analysis.filters import SampleFilter, filter_mask, filter_table, only_correct
from gemviz.analysis.outcomes import model_rows
from gemviz.analysis.paging import neighbours, paginate, position
from gemviz.analysis.samples import (
    DISPUTED,
    clusters_text,
    ids_csv,
    label_col,
    match_col,
    sample_table,
    score_col,
    suggest_examples,
    summary,
    visible,
)
from gemviz.analysis.step import load_predictions, splitter_rows, step_actions
from gemviz.data.errors import GemvizError
from gemviz.data.fields import EXACT_MATCH, ID, TYPE_MATCH
from gemviz.data.loaders import load_scores
from gemviz.data.study import Study
from gemviz.figures.step import annotate_step
from tests.conftest import SEED


@pytest.fixture(scope="module")
def study(gem_public) -> Study:
    """AITZ (ID-like) and MetaGUI (OOD-like) steps with the release's real input scores.

    Splitter "gem" thresholds the real score; "noisy" thresholds a seeded perturbation of it,
    so the two disagree on some steps. Three models get seeded random matches.
    """
    rng = np.random.default_rng(SEED)
    parts = []
    for name, n in (("AITZ_test", 300), ("metagui", 200)):
        frame = load_scores(gem_public / f"{name}_inputscore.json").head(n).copy()
        frame["dataset"] = name
        parts.append(frame)
    test = pd.concat(parts, ignore_index=True)
    score = test["input_score"].to_numpy()
    cut = np.quantile(score, 0.6)
    noisy = score + rng.normal(0, score.std() * 0.3, len(score))
    splits = {
        "gem": test.assign(label=np.where(score <= cut, "ID", "OOD")),
        "noisy": test.assign(label=np.where(noisy <= cut, "ID", "OOD"), input_score=noisy),
    }
    models = {}
    for model, p in (("strong", 0.8), ("mid", 0.5), ("weak", 0.2)):
        tm = (rng.random(len(test)) < p).astype(int)
        em = tm & (rng.random(len(test)) < 0.7)
        models[model] = test[["id"]].assign(type_match=tm, exact_match=em)
    return Study.from_frames(splits, models, samples=test)


@pytest.fixture(scope="module")
def table(study) -> pd.DataFrame:
    return sample_table(study)


def test_table_has_one_row_per_step_and_fixed_columns(study, table):
    assert len(table) == len(study)
    assert table[ID].tolist() == study.ids
    for col in (label_col("gem"), score_col("noisy"), match_col("weak", EXACT_MATCH), "dataset"):
        assert col in table.columns
    assert "_task_lower" not in visible(table).columns
    np.testing.assert_allclose(table[score_col("gem")], study.scores["gem"])


def test_empty_filter_keeps_everything(table):
    assert filter_mask(table, SampleFilter()).all()


def test_label_filter_matches_the_study(study, table):
    kept = filter_table(table, SampleFilter(labels={"gem": "OOD"}))
    assert len(kept) == int((study.labels["gem"] == "OOD").sum())
    assert 0 < len(kept) < len(table)


def test_disputed_means_the_splitters_disagree(study, table):
    expected = (study.labels["gem"] != study.labels["noisy"]).to_numpy()
    assert expected.any()
    np.testing.assert_array_equal(table[DISPUTED].to_numpy(), expected)
    agreed = filter_mask(table, SampleFilter(disputed=False))
    np.testing.assert_array_equal(agreed, ~expected)


def test_only_correct_by_one_model(study, table):
    em = study.exact_match
    expected = (em["mid"] == 1) & (em["strong"] == 0) & (em["weak"] == 0)
    got = only_correct(table, "mid", EXACT_MATCH)
    assert expected.sum() > 0
    np.testing.assert_array_equal(got, expected.to_numpy())
    # the mask survives filtering, which must not lose the model list
    sub = table[table["dataset"] == "metagui"]
    np.testing.assert_array_equal(only_correct(sub, "mid"), expected.to_numpy()[sub.index])


def test_match_score_dataset_and_search_filters_combine(study, table):
    lo, hi = np.quantile(study.scores["gem"], [0.25, 0.75])
    flt = SampleFilter(
        matches={("strong", TYPE_MATCH): 1},
        score_ranges={"gem": (lo, hi)},
        values={"dataset": ["AITZ_test"]},
    )
    s = study.scores["gem"]
    expected = (
        (study.type_match["strong"] == 1)
        & (s >= lo)
        & (s <= hi)
        & (study.samples["dataset"] == "AITZ_test")
    )
    np.testing.assert_array_equal(filter_mask(table, flt), expected.to_numpy())


def test_search_is_case_insensitive_and_literal(study, table):
    word = study.samples["task"].iloc[0].split()[0]
    got = filter_mask(table, SampleFilter(search=word.upper()))
    expected = study.samples["task"].str.lower().str.contains(word.lower(), regex=False)
    np.testing.assert_array_equal(got, expected.to_numpy())
    # regex characters are taken literally
    assert not filter_mask(table, SampleFilter(search=".*")).any()


def test_unknown_names_raise(table):
    with pytest.raises(GemvizError, match="unknown splitter 'nope'"):
        filter_mask(table, SampleFilter(labels={"nope": "ID"}))
    with pytest.raises(GemvizError, match="unknown model"):
        filter_mask(table, SampleFilter(matches={("nope", EXACT_MATCH): 1}))


def test_paginate_clips_and_counts():
    page = paginate(250, 7, size=100)
    assert (page.number, page.count, page.start, page.stop) == (2, 3, 200, 250)
    assert paginate(0, 0, 100).count == 1
    with pytest.raises(GemvizError):
        paginate(10, 0, 0)


def test_neighbours_follow_the_filtered_order():
    ids = np.array(["a", "c", "e"], dtype=object)
    assert neighbours(ids, "c") == ("a", "e")
    assert neighbours(ids, "a") == (None, "c")
    assert neighbours(ids, "e") == ("c", None)
    assert neighbours(ids, "zz") == (None, "a")
    assert position(ids, "e") == 2 and position(ids, "zz") is None and position(ids, None) is None
    # A study's id column is compared where it is (a Series, string or object dtype).
    for dtype in ("string[pyarrow]", object):
        column = pd.Series(["a", "c", "e", "c"], dtype=dtype, index=[5, 6, 7, 8])
        assert position(column, "c") == 1 and position(column, "zz") is None


def test_step_details(study):
    rows = splitter_rows(study, 3)
    assert rows["splitter"].tolist() == ["gem", "noisy"]
    assert rows["label"].tolist() == [study.labels["gem"][3], study.labels["noisy"][3]]
    models = model_rows(study, 3, {"strong": "CLICK <point>[[10, 20]]</point>"})
    assert models["raw output"].tolist()[0].startswith("CLICK")
    assert models[EXACT_MATCH].tolist() == [int(study.exact_match[m][3]) for m in study.models]


def test_ids_csv_round_trips(table):
    text = ids_csv(table.head(5)).decode()
    assert text.splitlines()[0] == "id,task"
    assert len(text.splitlines()) == 6


def test_load_predictions_keys_by_sample_id(tmp_path):
    recs = [{"id": "s1", "prediction": "PRESS_BACK"}, {"id": "s2", "prediction": "COMPLETE"}]
    path = tmp_path / "pred.json"
    path.write_text(json.dumps(recs))
    assert load_predictions(path) == {"s1": "PRESS_BACK", "s2": "COMPLETE"}
    with pytest.raises(GemvizError, match="output"):
        load_predictions(path, field="output")


def test_step_actions_and_annotation_use_the_parser():
    samples = pd.DataFrame(
        {
            "id": ["a", "b"],
            "task": ["open settings", "go back"],
            "image_path": ["/no/such/a.png", "/no/such/b.png"],
            "action": [{"type": "click", "point": [0.5, 0.5]}, "PRESS_BACK"],
        }
    )
    splits = {"gem": samples[["id"]].assign(label=["ID", "OOD"])}
    models = {"m": samples[["id"]].assign(type_match=[1, 0], exact_match=[1, 0])}
    study = Study.from_frames(splits, models, samples=samples)
    gt, preds = step_actions(study, 1, {"m": "CLICK <point>[[100, 900]]</point>"})
    assert gt.type == "press_back"
    assert preds["m"].type == "click"
    np.testing.assert_allclose(preds["m"].point, (0.1, 0.9))
    # unreadable model output is an invalid action, not an error
    _, preds = step_actions(study, 0, {"m": "¯\\_(ツ)_/¯"})
    assert preds["m"].type == "invalid"
    picture = annotate_step(study, 0, {"m": "PRESS_HOME"})
    assert not picture.found and picture.png[:4] == b"\x89PNG"


def test_summary_of_shown_steps_is_clustered_by_the_study(study, table):
    shown = filter_table(table, SampleFilter(labels={"gem": "OOD"}))
    pos = shown.index.to_numpy()
    clustered = study.with_clusters("task")
    means = summary(clustered, pos)
    assert list(means.columns) == [
        "model",
        "metric",
        "mean",
        "lo",
        "hi",
        "n",
        "n_clusters",
        "small",
    ]
    assert len(means) == len(study.models) * 2
    row = means[(means["model"] == "strong") & (means["metric"] == EXACT_MATCH)].iloc[0]
    x = study.metric(EXACT_MATCH)["strong"].to_numpy()[pos]
    assert row["n"] == len(pos)
    assert row["mean"] == pytest.approx(x.mean())
    assert row["n_clusters"] == clustered.clusters_in(np.isin(np.arange(len(study)), pos))
    assert row["lo"] <= row["mean"] <= row["hi"]
    # Step level gives Wilson on n steps; by task the interval can only widen or stay.
    steps = summary(study.with_clusters("none"), pos)
    flat = steps[(steps["model"] == "strong") & (steps["metric"] == EXACT_MATCH)].iloc[0]
    assert flat["n_clusters"] == len(pos)
    assert row["hi"] - row["lo"] >= flat["hi"] - flat["lo"] - 1e-12
    assert summary(study, []).empty


def test_clusters_text_counts_the_clusters_of_the_shown_steps(study):
    by_task = study.with_clusters("task")
    pos = np.arange(40)
    k = len(set(by_task.samples["task"].iloc[:40]))
    assert clusters_text(by_task, pos) == f"in {k} cluster{'s' if k != 1 else ''} (task)"
    assert clusters_text(study.with_clusters("none"), pos) == ""


def _hand_made(labels_a: list[str], labels_b: list[str]) -> Study:
    ids = [f"s{i}" for i in range(len(labels_a))]
    test = pd.DataFrame({"id": ids, "task": [f"t{i}" for i in range(len(ids))]})
    splits = {"a": test.assign(label=labels_a), "b": test.assign(label=labels_b)}
    result = test[["id"]].assign(type_match=1, exact_match=0)
    return Study.from_frames(splits, {"m": result}, samples=test)


def test_suggest_examples_puts_disputed_steps_first():
    # Steps s2, s4 and s5 are disputed; the agreed s0, s1 and s3 come before them in order.
    study = _hand_made(
        ["ID", "OOD", "ID", "ID", "OOD", "ID"],
        ["ID", "OOD", "OOD", "ID", "ID", "OOD"],
    )
    assert suggest_examples(study, k=2) == ["s2", "s4"]
    assert suggest_examples(study) == ["s2", "s4", "s5"]
    assert suggest_examples(study, k=5) == ["s2", "s4", "s5"]
    # Where the splitters agree everywhere, the first steps stand in.
    agreed = _hand_made(["ID", "OOD", "ID", "OOD"], ["ID", "OOD", "ID", "OOD"])
    assert suggest_examples(agreed, k=3) == ["s0", "s1", "s2"]
