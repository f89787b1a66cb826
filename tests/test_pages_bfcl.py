"""Every page on the tool-calling demo (BFCL v4): no exception, no error, no screenshot.

The demo is built once for the module (:func:`gemviz.demo.ensure_bfcl_demo`): BFCL's 200
multi-turn-base entries, two training-set splitters, five configurations x five runs.
"""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import ROOT, build_in_cache
from streamlit.testing.v1 import AppTest

from gemviz.analysis import runs
from gemviz.demo import ensure_bfcl_demo
from gemviz.ui import cache
from gemviz.workspace.store import Workspace

# Slow: the tool-calling demo is built for the module (outside `-m "not slow"`).
pytestmark = pytest.mark.slow

TIMEOUT = 180
PAGES = sorted(p.name for p in (ROOT / "pages").glob("*.py"))


@pytest.fixture(scope="module")
def bfcl_cache(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bfcl_pages_cache")
    slug = build_in_cache(folder, ensure_bfcl_demo)
    return folder, slug


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
    shown = " ".join(str(getattr(e, "value", "")) for e in [*at.warning, *at.info, *at.caption])
    assert "screenshot" not in shown.lower(), shown
    return at


@pytest.mark.parametrize("page", PAGES)
def test_every_page_opens_on_the_bfcl_demo(ws, page):
    _run(page, ws)


def test_samples_and_step_show_the_conversation(ws):
    study = ws.study()
    sample = study.ids[0]
    for page in ("5_samples.py", "8_step.py"):
        at = _run(page, ws, sample)
        assert not at.get("image")
        texts = " ".join(t.value for t in at.text)
        assert "Move 'final_report.pdf' within document directory" in texts
        codes = " ".join(c.value for c in at.code)
        assert "mkdir(dir_name='temp')" in codes
        runs = next(d.value for d in at.dataframe if "passed" in d.value.columns)
        assert len(runs) == 5 * 5 and set(runs["run"]) == {1, 2, 3, 4, 5}
        assert set(runs["passed"]) <= {0, 1}


def test_metrics_shows_the_runs_board(ws):
    at = _run("3_metrics.py", ws)
    assert any(c.proto.spec and "per configuration" in c.proto.spec for c in at.get("plotly_chart"))
    summary = next(d.value for d in at.dataframe if "run_mean" in d.value.columns)
    assert summary["runs"].tolist() == [5] * 5
    pairs = next(d.value for d in at.dataframe if "runs_a" in d.value.columns)
    assert len(pairs) == 10 and set(pairs["subset"]) == {"all"}
    at.selectbox(key="runs_set").set_value("set-5k: OOD").run()
    assert not at.exception, [e.value for e in at.exception]
    summary = next(d.value for d in at.dataframe if "run_mean" in d.value.columns)
    assert set(summary["subset"]) == {"OOD"}
    n_ood = int((~ws.study().is_id("set-5k")).sum())
    assert summary["n"].tolist() == [n_ood] * 5


def test_the_picker_lists_the_tool_calling_demo(ws):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.session_state["workspace"] = ws.slug
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    picker = at.sidebar.selectbox(key="workspace_picker")
    assert ws.slug in picker.options or picker.value == ws.slug


def test_workspace_page_adds_runs_of_a_model(ws):
    runs = [ws.folder / "runs" / "sft-5k" / f"run{r}" for r in (1, 2)]
    files = [
        str(r / "score" / "sft-5k" / "multi_turn" / "BFCL_v4_multi_turn_base_score.json")
        for r in runs
    ]
    try:
        for path in files:
            at = _run("1_workspace.py", ws)
            at.text_input(key="new_model_name").set_value("again")
            at.text_input(key="new_model_file_path").set_value(path)
            at.button(key="add_model").click().run()
            assert not at.exception, [e.value for e in at.exception]
            assert not at.error, [e.value for e in at.error]
        again = Workspace.load(ws.folder)
        assert again.study().runs("again") == 2
    finally:
        Workspace.load(ws.folder).remove("model", "again")


def test_runs_board_is_assembled_from_each_model_and_pair(ws):
    # The page caches each model's rows and each pair's rows; a choice of models, in any
    # order, gives what the analysis gives for that choice.
    study = ws.study()
    chosen = (study.models[2], study.models[0], study.models[3])
    split = study.splitters[0]
    metric = study.metrics[0]
    key = (str(ws.json_path), ws.fingerprint())
    points, summary, pairs = cache.runs_board(*key, metric, chosen, split, "holm")
    pd.testing.assert_frame_equal(points, runs.run_points(study, metric, chosen, split))
    pd.testing.assert_frame_equal(summary, runs.run_summary(study, metric, chosen, split))
    pd.testing.assert_frame_equal(pairs, runs.run_pairs(study, metric, chosen, split, "holm"))
