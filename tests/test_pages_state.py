"""AppTests of state that survives: ``?workspace=`` on every page, broken workspaces beside
good ones, filters kept across page switches, and exported charts made inside Streamlit.

Small workspaces built here from the GEM release's AITZ scores (no demo build), so each test
runs in seconds.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from conftest import ROOT, SEED
from streamlit.testing.v1 import AppTest

from gemviz.data.read import read_records
from gemviz.data.write import write_records
from gemviz.figures import theme
from gemviz.scoring import jobs
from gemviz.workspace.catalog import list_workspaces
from gemviz.workspace.entries import ModelEntry, workspaces_root
from gemviz.workspace.store import Workspace, create_workspace

TIMEOUT = 60
PAGES = [
    "1_workspace.py",
    "2_score_partition.py",
    "3_metrics.py",
    "4_overlap.py",
    "5_samples.py",
    "6_embeddings.py",
    "7_report.py",
]
PLACEHOLDER = re.compile(r"#0000(0[1-9a-f]|1[0-9a-f])\b", re.IGNORECASE)


def small_workspace(gem_public, folder, name: str, n: int = 300) -> Workspace:
    """AITZ steps with ids, two splitters by score quantile and two synthetic models."""
    folder.mkdir(parents=True, exist_ok=True)
    records = read_records(gem_public / "AITZ_test_inputscore.json")
    rng = np.random.default_rng(SEED)
    test = [dict(r, id=f"{name}-{i}") for i, r in enumerate(records[:n])]
    train = records[n : 2 * n]
    write_records(folder / "test.json", test)
    write_records(folder / "train.json", train)
    ws = create_workspace(name, test=folder / "test.json")
    scores = np.array([r["input_score"] for r in test])
    for split, q in (("gem", 0.7), ("strict", 0.4)):
        ws.save_partition(
            split,
            folder / "test.json",
            scores <= np.quantile(scores, q),
            train_scores=str(folder / "train.json"),
        )
    for model, p in (("strong", 0.8), ("weak", 0.3)):
        hit = rng.random(n) < p
        rows = [
            {"id": r["id"], "type_match": int(h or rng.random() < 0.5), "exact_match": int(h)}
            for r, h in zip(test, hit, strict=True)
        ]
        write_records(folder / f"{model}.json", rows)
        ws.add_model(ModelEntry(name=model, results=str(folder / f"{model}.json")))
    return Workspace.load(ws.folder)


@pytest.fixture
def two(gem_public, tmp_path):
    """Two good workspaces; the second is the one URLs name."""
    a = small_workspace(gem_public, tmp_path / "a", "Alpha study")
    b = small_workspace(gem_public, tmp_path / "b", "Beta study", n=200)
    return a, b


def _param(at: AppTest, key: str):
    value = at.query_params.get(key)
    return value[0] if isinstance(value, list) else value


@pytest.mark.parametrize("page", PAGES)
def test_url_workspace_opens_on_every_page(two, page):
    _, beta = two
    at = AppTest.from_file(str(ROOT / "pages" / page), default_timeout=TIMEOUT)
    at.query_params["workspace"] = beta.slug
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert at.session_state["workspace"] == beta.slug
    assert _param(at, "workspace") == beta.slug


def test_url_sample_survives_and_reopens_the_step(two):
    _, beta = two
    study = beta.study()
    at = AppTest.from_file(str(ROOT / "pages" / "5_samples.py"), default_timeout=TIMEOUT)
    at.query_params["workspace"] = beta.slug
    at.query_params["sample"] = study.ids[7]
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.get("image")) == 1
    assert study.samples["task"].iloc[7] in " ".join(m.value for m in at.markdown)


def test_router_follows_the_url_and_lists_broken_workspaces(two, tmp_path):
    alpha, beta = two

    bad = workspaces_root() / "broken-one"
    bad.mkdir()
    (bad / "workspace.json").write_text("{not json")
    gone = create_workspace("Missing files", test=alpha.test)
    gone.test = str(tmp_path / "deleted.json")
    gone.save()

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.query_params["workspace"] = beta.slug
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    picker = at.sidebar.selectbox(key="workspace_picker")
    assert picker.value == beta.slug
    assert len(picker.options) == 3  # the unreadable one is not offered
    assert sum("broken" in o for o in picker.options) == 1  # the one missing a file is flagged
    text = " ".join(m.value for m in at.sidebar.markdown)
    assert "broken-one" in text and "not a valid workspace definition" in text
    assert "missing file" in text and "deleted.json" in text

    # Switching the picker moves the URL too.
    picker.set_value(alpha.slug).run()
    assert not at.exception
    assert _param(at, "workspace") == alpha.slug


@pytest.mark.slow
def test_broken_workspace_in_the_url_says_why(two):
    bad = workspaces_root() / "broken-one"
    bad.mkdir()
    (bad / "workspace.json").write_text("[1, 2]")
    at = AppTest.from_file(str(ROOT / "pages" / "3_metrics.py"), default_timeout=TIMEOUT)
    at.query_params["workspace"] = "broken-one"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("broken-one" in e.value and "broken" in e.value for e in at.error)


def test_samples_filters_persist_per_workspace(two):
    alpha, beta = two
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.query_params["workspace"] = alpha.slug
    at.run()
    at.switch_page("pages/5_samples.py").run()
    at.selectbox(key="f_label_gem").set_value("OOD").run()
    at.text_input(key="f_search").set_value("weather").run()
    # Leaving the page makes Streamlit forget its widgets' values; the URL keeps the workspace.
    at.switch_page("pages/3_metrics.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert _param(at, "workspace") == alpha.slug
    at.switch_page("pages/5_samples.py").run()
    assert at.selectbox(key="f_label_gem").value == "OOD"
    assert at.text_input(key="f_search").value == "weather"
    # Another workspace starts with its own (empty) filters.
    at.sidebar.selectbox(key="workspace_picker").set_value(beta.slug).run()
    assert _param(at, "workspace") == beta.slug
    assert at.selectbox(key="f_label_gem").value == "any"
    assert at.text_input(key="f_search").value == ""


def test_score_slider_has_fine_steps(two):
    alpha, _ = two
    at = AppTest.from_file(str(ROOT / "pages" / "5_samples.py"), default_timeout=TIMEOUT)
    at.query_params["workspace"] = alpha.slug
    at.run()
    slider = at.slider(key="f_score_gem")
    lo, hi = slider.min, slider.max
    assert (hi - lo) / slider.step >= 100
    total = int(at.metric[0].value.split(" of ")[1].replace(",", ""))
    mid = lo + (hi - lo) / 2
    slider.set_value((lo, mid)).run()
    shown = int(at.metric[0].value.split(" of ")[0].replace(",", ""))
    assert 0 < shown < total


def test_selection_sent_to_samples_is_applied_and_cleared(two):
    alpha, _ = two
    ids = alpha.study().ids[:5]
    at = AppTest.from_file(str(ROOT / "pages" / "5_samples.py"), default_timeout=TIMEOUT)
    at.query_params["workspace"] = alpha.slug
    at.session_state["workspace"] = alpha.slug
    at.session_state["samples_selection"] = {
        "workspace": alpha.slug,
        "ids": list(ids),
        "label": "five steps",
    }
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.metric[0].value.startswith("5 of")
    assert any("five steps" in i.value for i in at.info)
    at.button(key="clear_selection").click().run()
    assert not at.metric[0].value.startswith("5 of")


def test_chart_built_inside_streamlit_carries_real_colours(two):
    alpha, _ = two
    at = AppTest.from_file(str(ROOT / "pages" / "3_metrics.py"), default_timeout=TIMEOUT)
    at.query_params["workspace"] = alpha.slug
    at.run()
    assert not at.exception
    chart = at.get("plotly_chart")[0]
    spec = json.loads(chart.proto.spec)
    assert spec["layout"]["template"]["layout"]["colorway"] == list(theme.CATEGORICAL)
    assert not PLACEHOLDER.search(chart.proto.spec)
    assert chart.proto.theme == ""  # theme=None: the page shows the exported look


def _page(ws: Workspace, page: str = "1_workspace.py") -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / page), default_timeout=TIMEOUT)
    at.query_params["workspace"] = ws.slug
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_workspace_page_refuses_a_mismatched_model_and_saves_nothing(two, gem_public, tmp_path):
    alpha, _ = two
    other = [dict(r, type_match=1, exact_match=0) for r in read_records(
        gem_public / "Kairos_test_inputscore.json")[:40]]  # fmt: skip
    write_records(tmp_path / "other.json", other)
    before = alpha.json_path.read_text()
    at = _page(alpha)
    at.text_input(key="new_model_name").set_value("other")
    at.text_input(key="new_model_file_path").set_value(str(tmp_path / "other.json"))
    at.button(key="add_model").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.error and "do not cover the same samples" in at.error[0].value
    assert "300 sample(s)" in at.error[0].value and "40 sample(s)" in at.error[0].value
    assert alpha.json_path.read_text() == before


def test_workspace_page_splitter_without_a_file_says_what_to_give(two):
    alpha, _ = two
    at = _page(alpha)
    at.text_input(key="new_splitter_name").set_value("nothing")
    at.button(key="add_splitter").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "give a labeled test file, or a train and a test score file" in at.error[0].value


def test_workspace_page_adds_a_gem_splitter_from_the_test_scores(two):
    alpha, _ = two
    at = _page(alpha)
    sources = at.radio(key="new_splitter_source").options
    own = next(o for o in sources if o.startswith("workspace"))
    at.text_input(key="new_splitter_name").set_value("own")
    at.radio(key="new_splitter_source").set_value(own).run()
    at.button(key="add_splitter").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert Workspace.load(alpha.folder).splitter("own").partition == "gem"


def test_workspace_page_creates_and_opens_a_workspace(two):
    alpha, _ = two
    at = _page(alpha)
    at.text_input(key="create_name").set_value("Fresh one")
    at.text_input(key="create_test_path").set_value(alpha.test)
    at.button(key="create_button").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert _param(at, "workspace") == "fresh-one"
    assert any(h.value == "Fresh one" for h in at.subheader)


def _app_on(ws: Workspace, page: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.query_params["workspace"] = ws.slug
    at.run()
    at.switch_page(f"pages/{page}").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_venn_region_row_opens_samples_on_exactly_its_steps(two):
    alpha, _ = two
    at = _app_on(alpha, "4_overlap.py")
    counts = at.dataframe(key="venn_ID_counts").value
    row = int(counts["count"].to_numpy().argmax())
    at.session_state["venn_ID_counts"] = {"selection": {"rows": [row], "columns": []}}
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.metric[0].value.startswith(f"{int(counts['count'].iloc[row]):,} of")
    assert any("ID region" in i.value for i in at.info)
    assert _param(at, "workspace") == alpha.slug


def test_region_step_opens_that_step_within_its_region(two):
    alpha, _ = two
    at = _app_on(alpha, "4_overlap.py")
    steps = at.dataframe(key="region_steps").value
    at.session_state["region_steps"] = {"selection": {"rows": [0], "columns": []}}
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert _param(at, "sample") == steps["id"].iloc[0]
    assert at.metric[0].value.startswith(f"{len(steps):,} of")
    assert len(at.get("image")) == 1


def test_clicking_a_bar_opens_its_steps(two):
    alpha, _ = two
    at = _app_on(alpha, "3_metrics.py")
    n_ood = int((alpha.study().labels["strict"] == "OOD").sum())
    point = {"x": "weak", "y": 0.3, "customdata": ["strict", "OOD", "n"], "curve_number": 3}
    at.session_state["bars_chart"] = {
        "selection": {"points": [point], "point_indices": [0], "box": [], "lasso": []}
    }
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.metric[0].value.startswith(f"{n_ood:,} of")


@pytest.mark.slow
def test_report_built_inside_streamlit_has_coloured_charts(two):
    alpha, _ = two
    at = _page(alpha, "7_report.py")
    at.button(key="report_build").click().run(timeout=180)
    assert not at.exception, [e.value for e in at.exception]
    page = at.session_state["report_built"][0].decode()
    assert json.dumps(list(theme.CATEGORICAL)).replace(" ", "") in page.replace(" ", "")
    figures = re.findall(r"Plotly\.newPlot\((.*?)\)\s*};", page, re.S)
    assert figures and not any(PLACEHOLDER.search(f) for f in figures)


def test_a_link_to_another_workspace_and_step_opens_both(two):
    alpha, beta = two
    sample = beta.study().ids[3]
    at = AppTest.from_file(str(ROOT / "pages" / "5_samples.py"), default_timeout=TIMEOUT)
    at.query_params["workspace"] = alpha.slug
    at.run()
    at.query_params["workspace"] = beta.slug
    at.query_params["sample"] = sample
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert _param(at, "sample") == sample
    assert len(at.get("image")) == 1


def test_the_app_says_why_a_linked_workspace_is_broken(two):
    alpha, _ = two

    bad = workspaces_root() / "broken-one"
    bad.mkdir()
    (bad / "workspace.json").write_text("{oops")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.session_state["workspace"] = alpha.slug  # the fallback (the demo is not built here)
    at.query_params["workspace"] = "broken-one"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("broken-one" in e.value for e in at.error)
    assert at.sidebar.selectbox(key="workspace_picker").value == alpha.slug


def test_a_selection_is_in_the_url_and_opens_again_on_reload(two):
    alpha, _ = two
    at = _app_on(alpha, "4_overlap.py")
    counts = at.dataframe(key="venn_ID_counts").value
    row = int(counts["count"].to_numpy().argmax())
    at.session_state["venn_ID_counts"] = {"selection": {"rows": [row], "columns": []}}
    at.run()
    select = _param(at, "select")
    assert select and select.startswith("region:ID:")
    # A new session (reload, new tab, shared link) with only the URL opens the same steps.
    fresh = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    fresh.query_params["workspace"] = alpha.slug
    fresh.query_params["select"] = select
    fresh.run()
    fresh.switch_page("pages/5_samples.py")
    fresh.query_params["select"] = select
    fresh.run()
    assert not fresh.exception, [e.value for e in fresh.exception]
    assert fresh.metric[0].value.startswith(f"{int(counts['count'].iloc[row]):,} of")
    assert any("ID region" in i.value for i in fresh.info)
    # A selection naming no splitter of the workspace is refused in one line, not a crash.
    bad = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    bad.query_params["workspace"] = alpha.slug
    bad.run()
    bad.switch_page("pages/5_samples.py")
    bad.query_params["select"] = "bar:nope:ID"
    bad.run()
    assert not bad.exception
    assert any("no splitter 'nope'" in w.value for w in bad.warning)


def test_adding_a_splitter_says_its_counts_and_warns_when_all_steps_are_id(two, tmp_path):
    alpha, _ = two
    records = read_records(alpha.test)
    write_records(tmp_path / "all_id.json", [dict(r, label="ID") for r in records])
    at = _page(alpha)
    at.text_input(key="new_splitter_name").set_value("wide")
    at.text_input(key="new_splitter_file_path").set_value(str(tmp_path / "all_id.json"))
    at.button(key="add_splitter").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(
        "Added splitter 'wide': 300 ID and 0 OOD of 300 steps" in s.value for s in at.success
    )
    assert any("σ may be too wide" in w.value for w in at.warning)


def test_create_twice_makes_one_workspace_and_says_what_it_made(two):
    alpha, _ = two
    before = len(list_workspaces())
    at = _page(alpha)
    at.text_input(key="create_name").set_value("Twice")
    at.text_input(key="create_test_path").set_value(alpha.test)
    at.button(key="create_button").click().run()
    assert any(
        "Created workspace 'Twice' (folder twice): 300 test steps" in s.value for s in at.success
    )
    at.button(key="create_button").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(list_workspaces()) == before + 1
    assert any("already created from this form" in i.value for i in at.info)
    assert _param(at, "workspace") == "twice"


def test_rename_a_model_and_a_splitter_on_the_page(two):
    alpha, _ = two
    at = _page(alpha)
    at.selectbox(key="rename_entry").set_value(("model", "weak")).run()
    at.text_input(key="rename_entry_('model', 'weak')").set_value("weak-v2")
    at.button(key="rename_entry_button").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert Workspace.load(alpha.folder).study().models == ["strong", "weak-v2"]
    assert any("Renamed model 'weak' to 'weak-v2'" in s.value for s in at.success)
    at.selectbox(key="rename_entry").set_value(("splitter", "gem")).run()
    at.text_input(key="rename_entry_('splitter', 'gem')").set_value("strict")
    at.button(key="rename_entry_button").click().run()
    assert "already has a splitter called 'strict'" in at.error[0].value


def test_score_page_shows_the_workspaces_job_after_a_reload(two, tmp_path):
    alpha, _ = two
    command = jobs.score_command(
        train=str(tmp_path / "missing_train.json"), test=alpha.test, method="sentence"
    )
    started = jobs.start_job(command, workspace=alpha.slug)
    at = _page(alpha, "2_score_partition.py")  # a fresh session, as after a reload
    assert at.text_input(key="score_train").value == str(tmp_path / "missing_train.json")
    assert not any("No job for these settings" in c.value for c in at.caption)
    assert any(started.job_id and "Jobs of this workspace" in c.value for c in at.caption)


def test_a_long_region_lists_one_page_and_opens_every_step(gem_public, tmp_path):
    ws = small_workspace(gem_public, tmp_path / "long", "Long study", n=2800)
    at = _app_on(ws, "4_overlap.py")
    counts = at.dataframe(key="venn_ID_counts").value
    big = int(counts["count"].to_numpy().argmax())
    n = int(counts["count"].iloc[big])
    assert n > 1000  # more than one page of steps
    at.selectbox(key="overlap_region").set_value(("ID", big)).run()
    assert not at.exception, [e.value for e in at.exception]
    first = at.dataframe(key="region_steps").value
    assert len(first) == 1000
    at.number_input(key=f"region_page_ID_{big}").set_value(2).run()
    second = at.dataframe(key="region_steps").value
    assert len(second) == n - 1000
    assert not set(first["id"]) & set(second["id"])
    order = {i: k for k, i in enumerate(ws.study().ids)}
    shown = [order[i] for i in [*first["id"], *second["id"]]]
    assert shown == sorted(shown)  # the pages cut the region in study order
    # A step of the second page opens with the whole region as the Samples selection.
    at.session_state["region_steps"] = {"selection": {"rows": [0], "columns": []}}
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert _param(at, "sample") == second["id"].iloc[0]
    assert at.metric[0].value.startswith(f"{n:,} of")
