"""Coverage: the k-NN kernel, the knn splitter, set measures, function coverage, the decisive
comparison and the ``coverage`` command, on the carried BFCL entries with training sets of
known coverage (:mod:`tests.coverage_sets`), embedded by the bag-of-words fake."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from sklearn.neighbors import NearestNeighbors  # noqa: TID253

from gemviz.analysis.coverage import (
    ENTRY_COLUMNS,
    NEAREST_COLUMNS,
    SET_COLUMNS,
    entry_rows,
    measure,
    measure_all,
    nearest_training,
    set_rows,
)
from gemviz.analysis.coverage_gain import DECISIVE_COLUMNS, decisive_rows
from gemviz.analysis.findings_coverage import coverage_finding, separation_note
from gemviz.analysis.functions_coverage import (
    covered_share,
    entry_needs,
    function_table,
    never_seen,
    seen_functions,
    status,
)
from gemviz.analysis.set_profile import (
    NEAR_DISTANCE,
    PROFILE_COLUMNS,
    diversity,
    near_duplicates,
    profile_rows,
)
from gemviz.commands.cli import main
from gemviz.data.bfcl import possible_answers
from gemviz.data.errors import GemvizError, NotFittedError
from gemviz.data.study import Study
from gemviz.demo.bfcl import training_sets, write_inputs
from gemviz.demo.bfcl_runs import SET_5K, SET_14K, covers
from gemviz.embed import EMBEDDERS
from gemviz.scoring.training import embed_file, embedded_from_files, score_training_set
from gemviz.splitters import make_splitter
from gemviz.splitters.nearest import kth_radii, scan, unit_rows
from gemviz.workspace.create import create_from_files
from tests.bfcl_data import ANSWERS, CONFIGS, RUNS, TEST, extract, score_file
from tests.coverage_sets import DECLARED, copied_ids, write_sets
from tests.fake_embedder import WordsEmbedder

SEED = 42


@pytest.fixture(autouse=True)
def _words(monkeypatch):
    monkeypatch.setitem(EMBEDDERS, "words", WordsEmbedder)


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    folder = extract(tmp_path_factory.mktemp("bfcl"))
    write_sets(folder)
    return folder


@pytest.fixture
def embedded(root):
    sets = {n: embed_file(root / "training" / f"{n}.jsonl", method="words")
            for n in ("two-class", "chats", "declared")}  # fmt: skip
    return embed_file(root / TEST, method="words"), sets


# -- the kernel and the splitter ---------------------------------------------------------------


def _brute(q, r):
    return np.sqrt(((q[:, None, :] - r[None, :, :]) ** 2).sum(-1))


def test_scan_matches_brute_force_and_breaks_ties_by_position():
    rng = np.random.default_rng(SEED)
    q = unit_rows(rng.normal(size=(120, 12)))
    r = unit_rows(rng.normal(size=(700, 12)))
    r[40] = r[7]  # a duplicate: the earlier row must come first
    q[3] = r[7] + 1e-3
    q = unit_rows(q)
    k = 5
    found = scan(q, r, k, query_radii=kth_radii(q, k), ref_radii=kth_radii(r, k))
    d = _brute(q, r)
    order = np.lexsort((np.broadcast_to(np.arange(len(r)), d.shape), d), axis=1)[:, :k]
    np.testing.assert_array_equal(found.indices, order)
    np.testing.assert_allclose(found.distances, np.take_along_axis(d, order, 1), atol=1e-12)
    assert list(found.indices[3][:2]) == [7, 40]
    dist, _ = NearestNeighbors(n_neighbors=k + 1).fit(r).kneighbors(r)
    np.testing.assert_allclose(kth_radii(r, k), dist[:, -1], atol=1e-7)
    np.testing.assert_array_equal(found.inside, (d <= kth_radii(r, k)[None, :]).any(1))
    np.testing.assert_array_equal(found.holds, (d <= kth_radii(q, k)[:, None]).sum(0))


def test_scan_refuses_bad_input():
    x = unit_rows(np.eye(3))
    with pytest.raises(GemvizError, match="k = 3"):
        scan(x, x, 3, exclude_self=True)
    with pytest.raises(GemvizError, match="all zeros"):
        unit_rows(np.zeros((2, 3)))
    with pytest.raises(GemvizError, match="dimensions"):
        scan(x, unit_rows(np.ones((4, 2))), 1)


def test_knn_splitter_known_answer():
    # Training: 6 points on a small circle around +x; test: a point inside, one opposite.
    angles = np.linspace(-0.2, 0.2, 6)
    train = np.column_stack([np.cos(angles), np.sin(angles)])
    test = np.array([[1.0, 0.0], [-1.0, 0.0]])
    knn = make_splitter("knn", k=2).fit(train)
    np.testing.assert_array_equal(knn.predict(test), [True, False])
    np.testing.assert_array_equal(knn.with_params(rule="sun").predict(test), [True, False])
    assert knn.id_score(test)[0] > knn.id_score(test)[1]
    assert "naeem, k=2" in knn.describe()
    with pytest.raises(NotFittedError):
        make_splitter("knn").predict(test)
    with pytest.raises(GemvizError, match="more than 5"):
        make_splitter("knn").fit(train[:5])
    with pytest.raises(GemvizError, match="unknown rule"):
        make_splitter("knn", rule="nearest")


# -- set measures on carried entries -----------------------------------------------------------


def test_covered_flags_are_the_entries_the_set_copies(root, embedded):
    test, sets = embedded
    copied = set(copied_ids(root))
    is_copied = np.array([i in copied for i in test.ids])
    assert is_copied.sum() == 39
    for rule in ("naeem", "sun"):
        m = measure(test.embeddings, sets["two-class"].embeddings, rule=rule)
        np.testing.assert_array_equal(m.covered, is_copied)
        assert not measure(test.embeddings, sets["chats"].embeddings, rule=rule).covered.any()


def test_set_numbers_match_an_independent_computation(embedded):
    test, sets = embedded
    k = 5
    x = test.embeddings / np.linalg.norm(test.embeddings, axis=1, keepdims=True)
    rows = set_rows(test, sets, measure_all(test, sets, k)).set_index("train_set")
    assert list(rows.reset_index().columns) == SET_COLUMNS
    for name, s in sets.items():
        y = s.embeddings / np.linalg.norm(s.embeddings, axis=1, keepdims=True)
        r_x = NearestNeighbors(n_neighbors=k + 1).fit(x).kneighbors(x)[0][:, -1]
        r_y = NearestNeighbors(n_neighbors=k + 1).fit(y).kneighbors(y)[0][:, -1]
        d = NearestNeighbors(n_neighbors=len(y)).fit(y).kneighbors(x)
        dist = np.empty((len(x), len(y)))
        np.put_along_axis(dist, d[1], d[0], axis=1)
        in_x_ball = dist <= r_x[:, None] + 1e-9
        row = rows.loc[name]
        assert row["coverage"] == pytest.approx(in_x_ball.any(1).mean())
        assert row["density"] == pytest.approx(in_x_ball.sum() / (k * len(y)))
        assert row["precision"] == pytest.approx(in_x_ball.any(0).mean())
        assert row["recall"] == pytest.approx((dist <= r_y[None, :] + 1e-9).any(1).mean())
        assert row["median_nn_distance"] == pytest.approx(np.median(dist.min(1)))
        assert row["coverage_lo"] <= row["coverage"] <= row["coverage_hi"]
    assert rows.loc["two-class", "covered"] == 39 and rows.loc["chats", "covered"] == 0


def test_entry_rows_and_nearest_training(embedded):
    test, sets = embedded
    frame = entry_rows(test, sets, measure_all(test, {"two-class": sets["two-class"]}))
    assert list(frame.columns) == ENTRY_COLUMNS and len(frame) == len(test.ids)
    first_copied = frame[frame["covered"]].iloc[0]
    assert first_copied["nearest_id"].endswith(first_copied["id"])
    pos = test.ids.index(first_copied["id"])
    near = nearest_training(test.embeddings[pos], sets["two-class"], k=3)
    assert list(near.columns) == NEAREST_COLUMNS and list(near["rank"]) == [1, 2, 3]
    assert near["train_id"].iloc[0] == first_copied["nearest_id"]
    assert near["text"].iloc[0] and near["turns"].iloc[0] >= 1
    assert near["distance"].is_monotonic_increasing


# -- function coverage ---------------------------------------------------------------------------


def test_function_coverage_against_a_hand_count(root, embedded):
    test, sets = embedded
    answers = possible_answers(root / ANSWERS)
    needs = entry_needs(test.records, answers)
    assert needs[0] == {"cd", "mkdir", "mv", "grep", "sort", "diff"}  # multi_turn_base_0
    declared = seen_functions(sets["declared"].records)
    assert declared == set(DECLARED)
    assert status(needs[0], declared) == "some" and status({"pwd"}, declared) == "none"
    assert status({"cd"}, declared) == "all" and status(set(), declared) == ""
    # The two-class set calls every function its copied entries' answers call.
    copied = set(copied_ids(root))
    calls = {m.group(1) for i, truth in answers.items() if i in copied
             for turn in truth for c in turn for m in [re.match(r"(\w+)\(", c)]}  # fmt: skip
    assert seen_functions(sets["two-class"].records) == calls
    by_hand = sum(n <= calls for n in needs if n) / sum(1 for n in needs if n)
    assert covered_share(needs, calls) == pytest.approx(by_hand) and by_hand >= 39 / 200
    assert "cd" not in never_seen(needs, declared) and "mv" in never_seen(needs, declared)
    table = function_table(test.records, needs, {"declared": declared, "two-class": calls})
    cd = table.set_index("function").loc["cd"]
    assert cd["declared"] and not cd["two-class"] and cd["classes"] == "GorillaFileSystem"
    assert cd["entries"] == sum("cd" in n for n in needs)


def test_profile(embedded):
    _, sets = embedded
    frame = profile_rows(sets).set_index("train_set")
    assert list(frame.reset_index().columns) == PROFILE_COLUMNS
    assert frame.loc["chats", "conversations"] == 60
    assert (
        frame.loc["chats", "tool_calls_mean"] == 0 and frame.loc["chats", "exact_duplicates"] == 0
    )
    assert frame.loc["two-class", "tool_calls_mean"] > 1
    y2 = unit_rows(sets["two-class"].embeddings)
    d = _brute(y2, y2) + np.eye(len(y2)) * 9
    assert frame.loc["two-class", "near_duplicates"] == (d.min(1) <= NEAR_DISTANCE).sum()
    assert near_duplicates(np.vstack([y2[:5], y2[:1]])) == 2
    assert "packaged" in frame.loc["chats", "tokenizer"] and frame.loc["chats", "tokens_mean"] > 5
    y = unit_rows(sets["chats"].embeddings)
    cos = y @ y.T
    n = len(y)
    assert diversity(y) == pytest.approx(1 - (cos.sum() - n) / (n * (n - 1)))


# -- the decisive comparison ----------------------------------------------------------------------


def _study(ids, outcomes):
    samples = pd.DataFrame({"id": ids, "task": ids})
    frames = {m: pd.DataFrame({"id": ids, "accuracy": v}) for m, v in outcomes.items()}
    return Study.from_frames({}, frames, samples, cluster_by="none")


def test_decisive_comparison_tells_coverage_from_quality(embedded, root):
    test, sets = embedded
    covered = measure(test.embeddings, sets["two-class"].embeddings).covered
    rng = np.random.default_rng(SEED)
    base = (rng.random(len(covered)) < 0.3).astype(int)
    # Coverage-limited: passes every covered entry, the baseline's results elsewhere.
    coverage_limited = np.where(covered, 1, base)
    # Quality-limited: fails nearly everything, covered entries included.
    quality_limited = np.where(rng.random(len(covered)) < 0.02, 1, 0)
    study = _study(test.ids, {"base": base, "cov": coverage_limited, "qual": quality_limited})
    out = decisive_rows(study, {"two-class": covered}, "base").set_index("model")
    assert list(out.reset_index().columns) == [
        "model",
        *[c for c in DECISIVE_COLUMNS if c != "model"],
    ]
    cov, qual = out.loc["cov"], out.loc["qual"]
    assert cov["covered_n"] == 39 and cov["uncovered_gain"] == 0
    assert cov["covered_gain"] == pytest.approx(1 - base[covered].mean())
    assert cov["did_lo"] > 0 and "sits on the 39 entries two-class covers" in cov["verdict"]
    assert qual["covered_gain"] < -0.05 and "coverage does not explain" in qual["verdict"]
    assert (out["did_p_adjusted"] >= out["did_p"]).all()
    assert "cause" not in " ".join(out["verdict"])


def test_no_shortfall_is_named_where_the_configuration_gains_elsewhere():
    row = {"model": "m", "train_set": "s", "covered_n": 19, "uncovered_n": 181,
           "covered_gain": -0.04, "uncovered_gain": 0.12, "did": -0.16, "did_lo": -0.30,
           "did_hi": -0.03, "did_p_adjusted": 0.10}  # fmt: skip
    said = coverage_finding(row, "base", margin=0.01)
    assert "shortfall" not in said and said.startswith("m's gain over base on the 19 entries")
    assert "too uncertain to tell" in said


def test_separation_note():
    assert separation_note("gem-5k", 194, 200) == "194 of 200 ID: gem-5k barely separates"
    assert separation_note("x", 3, 200) == "197 of 200 OOD: x barely separates"
    assert separation_note("x", 100, 200) == ""


# -- the command ----------------------------------------------------------------------------------


def _cli(root, *extra):
    t = root / "training"
    return ["coverage", "--test", str(root / TEST), "--embed-method", "words",
            "--train-set", f"two-class={t / 'two-class.jsonl'}",
            "--train-set", f"chats={t / 'chats.jsonl'}", "--format", "json", *extra]  # fmt: skip


def test_coverage_command_rows(root, capsys):
    assert main(_cli(root)) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["train_set"] for r in rows] == ["two-class", "chats"] and list(rows[0]) == SET_COLUMNS
    assert rows[0]["covered"] == 39 and rows[1]["covered"] == 0
    assert 0 < rows[0]["functions_covered"] < 1  # answers found beside the test file
    assert main(_cli(root, "--per-entry")) == 0
    entries = json.loads(capsys.readouterr().out)
    assert list(entries[0]) == ENTRY_COLUMNS and len(entries) == 400
    assert entries[0]["functions_needed"] == sorted(["cd", "mkdir", "mv", "grep", "sort", "diff"])


def test_coverage_command_decisive_rows(root, capsys):
    models = [f"--model={c}={score_file(root, c, r)}" for c in CONFIGS for r in range(1, RUNS + 1)]
    assert main(_cli(root, *models, "--baseline", "grpo-5k")) == 0
    rows = json.loads(capsys.readouterr().out)
    assert list(rows[0]) == DECISIVE_COLUMNS and len(rows) == 4
    assert {r["model"] for r in rows} == {"sft-14k", "lora-14k"}
    assert all(r["covered_n"] + r["uncovered_n"] == 200 for r in rows)


@pytest.mark.parametrize(
    "extra, said",
    [
        (["--model", "a=x.json"], "--baseline"),
        (["--k", "0"], "--k"),
        (["--rule", "nope"], None),
    ],
)
def test_coverage_command_refuses_bad_options(root, capsys, extra, said):
    with pytest.raises(SystemExit) as exc:
        if main(_cli(root, *extra)) == 2:
            raise SystemExit(2)
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) >= 1 and "Traceback" not in "\n".join(err)
    if said:
        assert said in err[-1] and err[-1].startswith("gemviz coverage: error:")


def test_workspace_training_sets_are_separated_by_the_default_method(root, monkeypatch):
    monkeypatch.setitem(EMBEDDERS, "sentence", WordsEmbedder)
    t = root / "training"
    ws = create_from_files(
        "coverage", str(root / TEST),
        training_sets={"two-class": str(t / "two-class.jsonl"), "chats": str(t / "chats.jsonl")},
    )  # fmt: skip
    assert [s.partition for s in ws.splitters] == ["knn", "knn"]
    study = ws.study()
    copied = set(copied_ids(root))
    np.testing.assert_array_equal(study.is_id("two-class"), [i in copied for i in study.ids])
    assert not study.is_id("chats").any()
    with pytest.raises(GemvizError, match="training-set method"):
        create_from_files("x", str(root / TEST), training_sets={"c": str(t / "chats.jsonl")},
                          train_method="mahalanobis")  # fmt: skip


@pytest.mark.slow
def test_demo_sets_with_the_packaged_model_cover_the_entries_they_copy(tmp_path, capsys):
    test, _ = write_inputs(tmp_path)
    sets = training_sets(tmp_path / "training")
    argv = ["coverage", "--test", str(test), "--format", "json", "--per-entry",
            *[f"--train-set={n}={p}" for n, p in sets.items()]]  # fmt: skip
    assert main(argv) == 0
    rows = pd.DataFrame(json.loads(capsys.readouterr().out))
    entries = {e["id"]: e for e in (json.loads(x) for x in test.read_text().splitlines())}
    for name, classes in (("set-14k", SET_14K), ("set-5k", SET_5K)):
        part = rows[rows["train_set"] == name]
        known = [covers(entries[i], classes) for i in part["id"]]
        assert part["covered"].tolist() == known
        assert (
            part["nn_distance"][part["covered"]].max() < part["nn_distance"][~part["covered"]].min()
        )


def test_a_workspace_training_splitter_reads_back_as_embedded_files(root, monkeypatch):
    monkeypatch.setitem(EMBEDDERS, "sentence", WordsEmbedder)
    found = score_training_set(root / "training" / "chats.jsonl", root / TEST)
    train = embedded_from_files(found.train_scores, found.train_embeddings)
    direct = embed_file(root / "training" / "chats.jsonl", method="words")
    assert train.ids == direct.ids and train.texts == direct.texts
    np.testing.assert_allclose(train.embeddings, direct.embeddings)
    test = embedded_from_files(found.test_scores, found.test_embeddings)
    assert len(test.ids) == 200 and test.texts[0].startswith("Move 'final_report.pdf'")
