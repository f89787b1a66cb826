"""AppTests of every page: each runs without exception, shows its key elements, and reacts
to one widget.

The pages run on the built-in demo (:func:`gemviz.demo.ensure_demo`), built once per module;
every test gets its own copy of it, so what one test changes never reaches another.
"""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import numpy as np
import pytest
import streamlit as st
from conftest import ROOT, SEED, build_in_cache
from streamlit.testing.v1 import AppTest

from gemviz.analysis.explain import episode
from gemviz.analysis.stability import RESAMPLES, _key, refittable
from gemviz.data.paths import cache_dir
from gemviz.demo import ensure_demo
from gemviz.splitters import splitter_params
from gemviz.splitters.gem import GemSplitter
from gemviz.splitters.gem_fits import FOLDER as FITS
from gemviz.workspace import annotations
from gemviz.workspace.store import Workspace

# Slow: the built-in demo (600 train, 400 test steps) is built for the module and the
# Embeddings page fits UMAP. The quick loop (`-m "not slow"`) opens every page in
# test_pages_state.py on small workspaces instead.
pytestmark = pytest.mark.slow

TIMEOUT = 120  # the first run may build the demo


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory):
    """The built-in demo, built once for the module into a cache folder of its own."""
    folder = tmp_path_factory.mktemp("pages_cache")
    slug = build_in_cache(folder, ensure_demo)
    return folder, slug


@pytest.fixture
def workspace(shared_cache, tmp_path, monkeypatch) -> Workspace:
    """A copy of the built demo for this test alone.

    Tests rename the workspace, save notes and settings and write refits; on a copy, none of
    that reaches the next test. The workspace names its files by absolute path, so the copy's
    ``workspace.json`` is pointed at the copied files.
    """
    folder, slug = shared_cache
    copy = tmp_path / "cache"
    shutil.copytree(folder, copy)
    manifest = copy / "workspaces" / slug / "workspace.json"
    manifest.write_text(manifest.read_text().replace(str(folder), str(copy)))
    monkeypatch.setenv("GEMVIZ_CACHE", str(copy))
    ws = Workspace.load(copy / "workspaces" / slug)
    assert str(folder) not in manifest.read_text()
    return ws


def run_page(name: str, ws: Workspace) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / name), default_timeout=TIMEOUT)
    at.session_state["workspace"] = ws.slug
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    if ws.demo:
        assert any("demo" in i.value for i in at.info)
    return at


def test_app_router_runs(workspace):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.session_state["workspace"] = workspace.slug
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.sidebar.selectbox(key="workspace_picker").value == workspace.slug


def test_app_refuses_a_missing_page_file(tmp_path, monkeypatch):
    """A page listed in PAGES whose file is gone is an error on screen, not a silent gap."""
    monkeypatch.setenv("GEMVIZ_CACHE", str(tmp_path / "cache"))
    shutil.copytree(ROOT / "pages", tmp_path / "pages")
    (tmp_path / "pages" / "4_overlap.py").unlink()
    shutil.copy(ROOT / "app.py", tmp_path / "app.py")
    at = AppTest.from_file(str(tmp_path / "app.py"), default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert [e.value for e in at.error] == [
        "app.py lists page files that do not exist: `pages/4_overlap.py`"
    ]


def test_workspace_page_rename(workspace):
    at = run_page("1_workspace.py", workspace)
    assert at.dataframe[0].value.shape[0] == len(workspace.splitters)
    assert at.dataframe[1].value.shape[0] == len(workspace.models)
    old = workspace.name
    at.text_input(key="rename_value").set_value("Renamed study")
    at.button(key="rename_button").click().run()
    assert not at.exception
    assert Workspace.load(workspace.folder).name == "Renamed study"
    assert any(h.value == "Renamed study" for h in at.subheader)
    assert old != "Renamed study"


def test_workspace_page_bad_file_shows_error(workspace, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("[{oops")
    at = run_page("1_workspace.py", workspace)
    at.text_input(key="new_model_name").set_value("broken")
    at.text_input(key="new_model_file_path").set_value(str(bad))
    at.button(key="add_model").click().run()
    assert not at.exception
    assert at.error and "not valid JSON" in at.error[0].value


def _id_count(at: AppTest) -> int:
    metric = next(m for m in at.metric if m.label == "ID steps")
    return int(metric.value.replace(",", ""))


def test_score_partition_reads_the_kept_gem_fit(workspace, monkeypatch):
    at = run_page("2_score_partition.py", workspace)
    counts = _id_count(at)
    assert list(cache_dir(FITS).glob("*.json"))  # the page's fit is kept
    st.cache_resource.clear()  # a fresh server: nothing held in memory
    monkeypatch.setattr(GemSplitter, "fit", lambda self, x: pytest.fail("GEM fitted again"))
    again = run_page("2_score_partition.py", workspace)
    assert _id_count(again) == counts


def test_score_partition_sigma_relabels(workspace):
    at = run_page("2_score_partition.py", workspace)
    assert at.selectbox(key="partition_method").value == "gem"
    assert len(at.get("plotly_chart")) == 2
    before = _id_count(at)
    at.slider(key="sigma").set_value(0.5).run()
    assert not at.exception
    after = _id_count(at)
    assert after < before
    # The form follows the registry: the percentile method offers its percentile, no sigma.
    at.selectbox(key="partition_method").set_value("percentile").run()
    assert not at.exception, [e.value for e in at.exception]
    assert [s.key for s in at.slider] == ["percentile"]
    assert len(at.get("plotly_chart")) == 0
    kept = _id_count(at)
    at.slider(key="percentile").set_value(50.0).run()
    assert _id_count(at) < kept


def test_metrics_filter_changes_rows(workspace):
    at = run_page("3_metrics.py", workspace)
    table = at.dataframe[0].value
    n_models = len(workspace.models)
    assert table.shape[0] == len(workspace.splitters) * n_models * 2
    keep = [m.name for m in workspace.models][:1]
    at.multiselect(key="metrics_models").set_value(keep).run()
    assert not at.exception
    assert at.dataframe[0].value.shape[0] == table.shape[0] // n_models
    assert {"gap", "gap_p_adjusted", "id_clusters"} <= set(table.columns)
    # The interaction needs two models: with one picked, the section says so.
    at.multiselect(key="metrics_models").set_value([m.name for m in workspace.models][:2]).run()
    inter = at.dataframe[1].value
    assert {"did", "did_lo", "did_hi", "did_p_adjusted", "verdict"} <= set(inter.columns)
    assert at.dataframe[2].value["subset"].tolist() == ["all", "ID", "OOD"]
    drill = at.dataframe[3].value
    assert {"verdict", "p_adjusted", "n_clusters"} <= set(drill.columns)


def test_metrics_cluster_setting_is_saved_and_used(workspace):
    at = run_page("3_metrics.py", workspace)
    clustered = at.dataframe[0].value
    assert (clustered["id_clusters"] < clustered["id_n"]).any()
    try:
        at.selectbox(key="cluster_by").set_value("none").run()
        assert not at.exception
        assert Workspace.load(workspace.folder).cluster_by == "none"
        flat = at.dataframe[0].value
        assert (flat["id_clusters"] == flat["id_n"]).all()
        assert ((flat.id_hi - flat.id_lo) <= (clustered.id_hi - clustered.id_lo) + 1e-9).all()
    finally:
        ws = Workspace.load(workspace.folder)
        ws.cluster_by = "auto"
        ws.save()


def test_overlap_other_splitter_changes_counts(workspace):
    if len(workspace.splitters) < 3:
        # The demo has two splitters: add a stricter third one so there is another to pick.
        first = workspace.splitters[0]
        study = workspace.study()
        scores = study.scores[first.name].to_numpy()
        keep = scores <= np.nanquantile(scores, 0.5)
        src = first.test_scores or workspace.test
        workspace.save_partition("strict", src, keep, partition="gem")
    names = [s.name for s in Workspace.load(workspace.folder).splitters]
    at = run_page("4_overlap.py", Workspace.load(workspace.folder))
    at.multiselect(key="overlap_splitters").set_value(names[:2]).run()
    counts = at.dataframe[0].value["count"].tolist()
    assert len(counts) == 3 and sum(counts) > 0
    at.multiselect(key="overlap_splitters").set_value([names[0], names[2]]).run()
    assert not at.exception
    assert at.dataframe[0].value["count"].tolist() != counts
    steps = at.dataframe[2].value
    assert {"id", "task", "link"} <= set(steps.columns)
    assert steps["link"].str.startswith(f"samples?workspace={workspace.slug}&sample=").all()


# -- Samples, Embeddings and Report pages -------------------------------------------


def _shown(at: AppTest) -> int:
    metric = next(m for m in at.metric if m.label == "Steps shown")
    return int(metric.value.split(" of ")[0].replace(",", ""))


def test_samples_filter_changes_row_count(workspace):
    at = run_page("5_samples.py", workspace)
    study = workspace.study()
    assert _shown(at) == len(study)
    first = study.splitters[0]
    at.selectbox(key=f"f_label_{first}").set_value("OOD").run()
    assert not at.exception
    assert _shown(at) == int((study.labels[first] == "OOD").sum()) < len(study)
    # the model means on the shown steps carry n and clusters
    means = at.dataframe[1].value
    assert set(means["n"]) == {_shown(at)}
    assert (means["n_clusters"] <= means["n"]).all() and (means["lo"] <= means["hi"]).all()
    at.text_input(key="f_search").set_value("zzz-no-such-task-zzz").run()
    assert not at.exception
    assert _shown(at) == 0


def test_samples_selecting_a_row_shows_the_image(workspace):
    at = run_page("5_samples.py", workspace)
    assert not at.get("image")
    first_id = at.dataframe[0].value["id"].iloc[1]
    at.session_state["samples_table"] = {"selection": {"rows": [1], "columns": []}}
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.query_params["sample"] == [first_id] or at.query_params["sample"] == first_id
    assert len(at.get("image")) == 1
    models = at.dataframe[-1].value
    assert models["model"].tolist() == [m.name for m in workspace.models]
    # next goes to the following filtered row and keeps the image
    at.button(key="next_sample").click().run()
    assert not at.exception
    assert len(at.get("image")) == 1


def test_samples_url_reopens_a_step(workspace):
    study = workspace.study()
    at = AppTest.from_file(str(ROOT / "pages" / "5_samples.py"), default_timeout=TIMEOUT)
    at.session_state["workspace"] = workspace.slug
    at.query_params["sample"] = study.ids[5]
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.get("image")) == 1
    assert study.samples["task"].iloc[5] in " ".join(m.value for m in at.markdown)


def test_embeddings_colour_and_selection(workspace):
    assert any(s.test_embeddings for s in workspace.splitters), "the demo keeps its embeddings"
    at = run_page("6_embeddings.py", workspace)
    assert not at.get("plotly_chart")
    at.number_input(key="umap_cap").set_value(300)
    at.button[0].click().run()  # the form's "Run UMAP"
    assert not at.exception, [e.value for e in at.exception]
    charts = at.get("plotly_chart")
    assert len(charts) == 1
    before = charts[0].proto.spec
    options = at.selectbox(key="emb_colour").options
    at.selectbox(key="emb_colour").set_value(options[-1]).run()
    after = at.get("plotly_chart")[0].proto.spec
    assert after != before
    # a box/lasso selection lists exactly the selected steps, found by their ids
    ids = workspace.study().ids[:3]
    points = [{"customdata": i, "curve_number": 0, "point_index": 0} for i in ids]
    at.session_state["emb_chart"] = {"selection": {"points": points, "box": [], "lasso": []}}
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert sorted(at.dataframe[-1].value["id"]) == sorted(ids)


def test_report_page_builds_every_section(workspace):
    at = run_page("7_report.py", workspace)
    assert at.text_area(key="report_examples").value.strip()
    at.button(key="report_build").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    page, figs, _sections, slides, n_slides = at.session_state["report_built"]
    text = page.decode("utf-8")
    assert slides[:2] == b"PK" and n_slides >= 5
    for sid in ("tables", "gem-fit", "venn", "set-difference", "embeddings", "examples"):
        assert f'<section id="{sid}">' in text
    assert "Example steps" in text and figs[:2] == b"PK"
    assert any("Report ready" in s.value for s in at.success)


# -- Step page --------------------------------------------------------------------


def test_step_page_shows_neighbours_episode_and_saves_notes(workspace):
    study = workspace.study()
    at = AppTest.from_file(str(ROOT / "pages" / "8_step.py"), default_timeout=TIMEOUT)
    at.session_state["workspace"] = workspace.slug
    at.query_params["sample"] = study.ids[2]
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    with_emb = [s.name for s in workspace.splitters if s.test_embeddings][:2]
    near = [d.value for d in at.dataframe if "distance" in d.value.columns]
    assert len(near) == len(with_emb)
    assert all(len(t) == 5 and t["distance"].is_monotonic_increasing for t in near)
    if "episode_id" in study.samples.columns:
        # Moving along the episode opens the next step of the strip.

        strip = episode(study, 2)
        at.button(key="ep_1").click().run()
        assert not at.exception
        at_pos = int(strip["current"].to_numpy().nonzero()[0][0])
        if at_pos + 1 < len(strip):
            assert at.query_params["sample"] in (
                [strip["id"].iloc[at_pos + 1]],
                strip["id"].iloc[at_pos + 1],
            )
    # Notes: tag and save, then they are in the workspace's annotations.json.
    at.query_params["sample"] = study.ids[2]
    at.run()
    at.multiselect[-1].set_value(["GT wrong"])
    at.text_area[0].input("the box is off")
    at.button[-1].click().run()
    assert not at.exception, [e.value for e in at.exception]
    saved = annotations.load(workspace.folder)
    assert saved[study.ids[2]].tags == ["GT wrong"]
    assert saved[study.ids[2]].note == "the box is off"
    annotations.annotate(workspace.folder, study.ids[2], [])  # leave the shared demo clean


def test_metrics_slices_by_action_type_and_field(workspace):
    at = run_page("3_metrics.py", workspace)
    options = at.selectbox(key="slice_by").options
    assert options[0] == "action_type"
    sliced = next(d.value for d in at.dataframe if "slice" in d.value.columns)
    assert {"slice", "label", "mean", "lo", "hi", "n", "n_clusters", "small"} <= set(sliced)
    assert "click" in set(sliced["slice"])
    other = next(o for o in options if o != "action_type")
    at.selectbox(key="slice_by").set_value(other).run()
    assert not at.exception, [e.value for e in at.exception]
    sliced = next(d.value for d in at.dataframe if "slice" in d.value.columns)
    assert "click" not in set(sliced["slice"])


def _fake_refits(ws: Workspace) -> list[str]:
    """Write 50 seeded random refits per refittable splitter where the page looks for them."""
    study = ws.study()
    rng = np.random.default_rng(SEED)
    names = refittable(ws)
    for entry in ws.splitters:
        if entry.name not in names:
            continue
        method = entry.partition or "gem"
        params = {k: v for k, v in entry.params.items() if k in splitter_params(method)}
        key = _key(entry.train_scores, entry.labeled, method, params, RESAMPLES, SEED, ws)
        flips = rng.random((RESAMPLES, len(study))) < rng.uniform(0, 0.3, len(study))
        labels = study.is_id(entry.name)[None, :] ^ flips
        np.savez_compressed(
            cache_dir("stability") / f"{key}.npz",
            bits=np.packbits(labels, axis=1),
            n=labels.shape[1],
        )
    return names


def test_id_probability_filter_and_region_stability(workspace):
    at = run_page("5_samples.py", workspace)
    names = _fake_refits(workspace)
    assert names, "the test workspace should have a refittable splitter"
    at = run_page("5_samples.py", workspace)
    before = _shown(at)
    at.slider(key=f"f_prob_{names[0]}").set_value((0.9, 1.0)).run()
    assert not at.exception
    assert 0 < _shown(at) < before
    if len(names) >= 2:
        at = run_page("4_overlap.py", workspace)
        at.multiselect(key="overlap_splitters").set_value(names[:2]).run()
        counts = at.dataframe[0].value
        assert {"clusters", "stays_90pct"} <= set(counts.columns)


def test_page_file_names_give_the_router_url_paths():
    """Streamlit's pages-folder lookup (used for a fresh server's first session) must find the
    same URL path as app.py's router, so page files are named in lower case."""
    tree = ast.parse((ROOT / "app.py").read_text())
    entries = next(
        ast.literal_eval(n.value)
        for n in ast.walk(tree)
        if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", "") == "PAGES"
    )
    assert sorted(f for f, *_ in entries) == sorted(
        f"pages/{p.name}" for p in (ROOT / "pages").glob("*.py")
    )
    for f, *_ in entries:
        name = Path(f).stem.split("_", 1)[1]
        assert name == name.lower(), f
