"""The Training sets page, Step's nearest training examples, and the coverage section of the
report and the deck, on the tool-calling demo (BFCL v4, two training sets built to cover 50
and 19 known entries); the headline's wording on hand-made rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, build_in_cache
from streamlit.testing.v1 import AppTest

from gemviz.analysis import training_sets as cov
from gemviz.analysis.findings_coverage import agreement_finding, coverage_headline, signed
from gemviz.demo import ensure_bfcl_demo
from gemviz.report import build_report, inputs_from_workspace
from gemviz.report.coverage_sections import headline
from gemviz.report.slides import build_deck
from gemviz.stats import paired_test
from gemviz.workspace.configs import configs_from_pattern, configurations, set_configs
from gemviz.workspace.store import Workspace
from tests.stats_reference import holm

TIMEOUT = 300


def _row(model, train_set, cn, un, cg, ug, did, lo, hi, p):
    return {"train_set": train_set, "model": model, "covered_n": cn, "uncovered_n": un,
            "covered_gain": cg, "uncovered_gain": ug, "did": did, "did_lo": lo, "did_hi": hi,
            "did_p_adjusted": p}  # fmt: skip


def test_headline_names_the_coverage_and_the_quality_pattern():
    rows = pd.DataFrame([
        _row("sft-14k", "set-14k", 50, 150, 0.56, -0.001, 0.565, 0.49, 0.65, 0.004),
        _row("sft-5k", "set-5k", 19, 181, -0.28, -0.22, -0.07, -0.25, 0.12, 0.97),
        _row("grpo-5k", "set-14k", 50, 150, 0.02, 0.04, -0.02, -0.07, 0.04, 0.97),
    ])  # fmt: skip
    assert coverage_headline(rows, "base") == (
        "sft-14k's gain over base sits on the 50 entries set-14k covers (+0.56 vs +0.00); "
        "sft-5k is 0.28 below base even where set-5k covers"
    )
    # An interval that reaches 0 is not a gain that sits on covered entries.
    unsure = rows.assign(did_lo=-0.01, did_p_adjusted=0.2).iloc[[0, 2]]
    assert coverage_headline(unsure, "base").startswith("No configuration's gain over base")
    assert signed(-0.001) == "+0.00" and signed(-0.3) == "-0.30"


@pytest.fixture(scope="module")
def bfcl_cache(tmp_path_factory):
    folder = tmp_path_factory.mktemp("training_sets_cache")
    return folder, build_in_cache(folder, ensure_bfcl_demo)


@pytest.fixture
def ws(bfcl_cache, monkeypatch) -> Workspace:
    folder, slug = bfcl_cache
    monkeypatch.setenv("GEMVIZ_CACHE", str(folder))
    return Workspace.load(folder / "workspaces" / slug)


def _run(page: str, ws: Workspace, sample: str | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / page), default_timeout=TIMEOUT)
    at.session_state["workspace"] = ws.slug
    if sample is not None:
        at.query_params["sample"] = sample
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def _frame(at: AppTest, column: str) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if column in d.value.columns)


@pytest.mark.slow
def test_training_sets_page_shows_the_sets_and_the_decisive_comparison(ws):
    at = _run("9_training_sets.py", ws)
    side = _frame(at, "measure").set_index("measure")
    assert list(side.columns) == ["set-14k", "set-5k"]
    # The demo's sets are built to cover exactly 50 and 19 entries.
    assert side.loc["test entries covered (knn)"].tolist() == ["50 of 200", "19 of 200"]
    functions = _frame(at, "function")
    assert set(functions["set-14k"]) <= {"shown", "never"} and len(functions) > 10
    decisive = _frame(at, "did_p_adjusted")
    assert len(decisive) == 2 * 4 and "base" not in set(decisive["model"])
    bold = [m.value for m in at.markdown if m.value.startswith("**")]
    assert any("sft-14k's gain over base sits on the 50 entries set-14k covers" in b for b in bold)

    at.selectbox(key="cov_baseline").set_value("sft-5k").run()
    assert not at.exception, [e.value for e in at.exception]
    decisive = _frame(at, "did_p_adjusted")
    assert "base" in set(decisive["model"]) and "sft-5k" not in set(decisive["model"])
    bold = [m.value for m in at.markdown if m.value.startswith("**")]
    assert any("gain over sft-5k" in b for b in bold)


@pytest.mark.slow
def test_step_lists_the_nearest_training_examples_with_their_text(ws):
    study = ws.study()
    found = cov.training_sets(study, cov.training_entries(ws))
    entry = study.ids[int(np.argmax(found.covered["set-14k"]))]
    at = _run("8_step.py", ws, entry)
    near = next(d.value for d in at.dataframe if "turns" in d.value.columns)  # set-14k first
    assert list(near.columns) == ["rank", "distance", "task", "turns"]
    assert near["task"].str.strip().str.len().gt(0).all()
    assert near["turns"].tolist() == [1] * len(near)
    assert near["distance"].is_monotonic_increasing
    # The nearest example is the one the coverage measure found.
    nearest = found.entries("set-14k").set_index("id").loc[entry]
    assert near["task"].iloc[0] == nearest["nearest_text"]
    assert near["distance"].iloc[0] == pytest.approx(nearest["nn_distance"], abs=1e-6)


@pytest.mark.slow
def test_gains_carry_the_sign_flip_interval(ws):
    study = ws.study()
    found = cov.training_sets(study, cov.training_entries(ws))
    gains = cov.gain_rows(study, found, "base").set_index(["train_set", "model", "subset"])
    mask = found.covered["set-5k"]
    outcomes = study.metric(study.default_metric)
    diff = (outcomes["grpo-5k"] - outcomes["base"]).to_numpy(float)
    codes = None if study.cluster_by == "none" else study.clusters
    assert gains.loc[("set-5k", "grpo-5k", "covered"), "gain"] == pytest.approx(diff[mask].mean())
    got = gains.loc[("set-5k", "grpo-5k", "not covered")]
    ref = paired_test(diff[:, None], ~mask, codes,
                      kind="coverage-gain:set-5k:not covered")  # fmt: skip
    assert got["n"] == int((~mask).sum())
    assert got["gain"] == pytest.approx(ref["diff"][0])
    assert got["lo"] <= got["gain"] <= got["hi"]


@pytest.mark.slow
def test_report_and_deck_hold_the_coverage_section(ws):
    inputs = inputs_from_workspace(ws)
    assert inputs.coverage is not None and inputs.coverage.baseline == "base"
    title = headline(inputs.coverage)
    assert "sft-14k's gain over base sits on the 50 entries set-14k covers" in title
    report = build_report(inputs)
    assert '<section id="coverage">' in report.html
    assert "sft-14k&#x27;s gain over base sits on the 50 entries" in report.html
    assert "coverage_gains.png" in report.figures
    deck = build_deck(inputs)
    titles = [t for t, s in zip(deck.titles, deck.sections, strict=True) if s == "coverage"]
    assert titles == [title, "set-14k covers 50 of 200 test entries, set-5k 19"]


def test_agreement_says_when_a_splitter_barely_separates():
    labels = pd.DataFrame({"a": ["ID"] * 194 + ["OOD"] * 6, "b": ["ID"] * 196 + ["OOD"] * 4})
    assert agreement_finding(labels, ["a", "b"]) == (
        "a and b agree on 198 of 200 steps (99%); 2 are disputed; "
        "194 of 200 ID: a barely separates; 196 of 200 ID: b barely separates"
    )
    # An empty set is said once, as such; a splitter that separates gets no note.
    labels = pd.DataFrame({"a": ["ID"] * 200, "b": ["ID"] * 120 + ["OOD"] * 80})
    text = agreement_finding(labels, ["a", "b"])
    assert text.endswith("; a calls no step OOD") and "barely" not in text


def test_trained_on_reads_the_configuration_table():
    names = ["set-14k", "set-5k", "Extra"]
    configs = pd.DataFrame(
        {
            "model": ["sft_14k", "lora_5k", "x", "y", "base", "z"],
            "train_set": ["14k", " SET-5K ", "extra", "set", None, "20k"],
        }
    )
    # One word of one set's name, or the name itself; "set" is a word of two names, "20k" of
    # none, and a configuration without a set is paired with none.
    assert cov.trained_on(names, configs) == {
        "sft_14k": "set-14k",
        "lora_5k": "set-5k",
        "x": "Extra",
    }
    assert cov.trained_on(names, None) == {}


@pytest.mark.slow
def test_each_configuration_meets_its_own_training_set(ws):
    pattern = r"(?P<method>[a-z]+)-(?P<train_set>\d+k)"
    set_configs(ws, configs_from_pattern([m.name for m in ws.models], pattern, baseline="base"))
    try:
        at = _run("9_training_sets.py", ws)
        shown = _frame(at, "did_p_adjusted")
        # sft-14k and lora-14k on set-14k, grpo-5k and sft-5k on set-5k: one row each.
        pairs = dict(zip(shown["model"], shown["train_set"], strict=True))
        assert len(shown) == 4 and pairs == {
            "sft-14k": "set-14k", "lora-14k": "set-14k", "grpo-5k": "set-5k", "sft-5k": "set-5k"
        }  # fmt: skip
        assert any("compared on their own set only" in c.value for c in at.caption)
        study = ws.study()
        found = cov.training_sets(study, cov.training_entries(ws))
        trained = cov.trained_on(found.names, configurations(ws))
        assert trained == pairs
        # Those four rows are the family adjusted, not four of all eight.
        mine = cov.decisive(study, found, "base", trained=trained)
        assert list(mine["did_p_adjusted"]) == pytest.approx(list(holm(mine["did_p"])))
        assert list(shown["did_p_adjusted"]) == pytest.approx(list(mine["did_p_adjusted"]))
        every = cov.decisive(study, found, "base").set_index(["train_set", "model"])
        assert len(every) == 8
        first = mine.set_index(["train_set", "model"]).loc[("set-14k", "sft-14k")]
        assert first["did_p"] == pytest.approx(every.loc[("set-14k", "sft-14k"), "did_p"])
        assert first["did_p_adjusted"] <= every.loc[("set-14k", "sft-14k"), "did_p_adjusted"]
        gains = cov.gain_rows(study, found, "base", trained=trained)
        assert set(zip(gains["model"], gains["train_set"], strict=True)) == set(pairs.items())
    finally:
        set_configs(ws, {}, replace=True)
