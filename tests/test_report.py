"""Tests for gemviz.report and the ``report`` command: sections, inlined figures, PNG ZIP."""

from __future__ import annotations

import base64
import gzip
import io
import re
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gemviz.analysis.projection import Projection, ProjectionParams
from gemviz.analysis.samples import suggest_examples
from gemviz.analysis.stability import RESAMPLES, workspace_refits
from gemviz.commands.cli import main
from gemviz.data.errors import GemvizError
from gemviz.data.read import read_records
from gemviz.data.write import write_records
from gemviz.figures import static
from gemviz.report import (
    SECTIONS,
    ReportInputs,
    build_report,
    inputs_from_workspace,
    parse_examples,
    write_report,
)
from gemviz.report.base import step_positions
from gemviz.workspace.entries import ModelEntry
from gemviz.workspace.store import create_workspace
from tests.conftest import SEED


@pytest.fixture(scope="module")
def files(gem_public, tmp_path_factory) -> dict[str, Path]:
    """Real AITZ train/test scores split by task, with ground-truth actions and predictions."""
    folder = tmp_path_factory.mktemp("report_files")
    records = read_records(gem_public / "AITZ_test_inputscore.json")
    rng = np.random.default_rng(SEED)
    tasks = sorted({r["task"] for r in records})
    train_tasks = set(rng.choice(tasks, size=len(tasks) // 2, replace=False))
    train = [r for r in records if r["task"] in train_tasks][:600]
    test = [r for r in records if r["task"] not in train_tasks][:300]
    test += read_records(gem_public / "metagui_inputscore.json")[:100]
    for i, r in enumerate(test):
        r["id"] = f"s{i}"
        r["action"] = {"type": "click", "point": [0.2 + 0.001 * i, 0.5]}
    preds = [{"id": r["id"], "prediction": "CLICK <point>[[500, 500]]</point>"} for r in test]
    paths = {"train": folder / "train.json", "test": folder / "test.json"}
    write_records(paths["train"], train)
    write_records(paths["test"], test)
    write_records(folder / "pred.json", preds)
    paths["pred"] = folder / "pred.json"
    for name, p in (("strong", 0.8), ("weak", 0.3)):
        hit = rng.random(len(test)) < p
        res = [
            {"id": r["id"], "type_match": int(h or rng.random() < 0.5), "exact_match": int(h)}
            for r, h in zip(test, hit, strict=True)
        ]
        paths[name] = folder / f"{name}.json"
        write_records(paths[name], res)
    return paths


@pytest.fixture
def workspace(files):
    ws = create_workspace("Report study", test=files["test"], train=files["train"])
    scores = np.array([r["input_score"] for r in read_records(files["test"])])
    for name, q in (("gem", 0.7), ("strict", 0.4)):
        ws.save_partition(
            name,
            files["test"],
            scores <= np.quantile(scores, q),
            train_scores=str(files["train"]),
            params={"sigma": 2.0, "max_components": 5, "random_state": SEED},
        )
    ws.add_model(
        ModelEntry(name="strong", results=str(files["strong"]), predictions=str(files["pred"]))
    )
    ws.add_model(ModelEntry(name="weak", results=str(files["weak"])))
    return ws


def _fake_projection(study) -> Projection:
    rng = np.random.default_rng(SEED)
    ids = np.asarray(study.ids, dtype=object)
    return Projection(
        ids=ids,
        xy=rng.normal(size=(len(ids), 2)).astype(np.float32),
        split=np.full(len(ids), "test", dtype=object),
        params=ProjectionParams(),
        path=Path("unused.npz"),
    )


def _inputs(workspace, with_projection: bool) -> ReportInputs:
    study = workspace.study()
    proj = _fake_projection(study) if with_projection else None
    return inputs_from_workspace(workspace, study, projection=proj, projection_splitter="gem")


def test_report_has_every_section_and_is_self_contained(workspace):
    inputs = _inputs(workspace, with_projection=True)
    ids = inputs.study.ids
    report = build_report(inputs, [ids[0], ids[350]])
    page = report.html
    assert re.findall(r'<section id="([^"]+)"', page) == list(SECTIONS)
    # plotly.js is embedded exactly once (gzip-packed), and nothing is fetched from the network
    assert page.count('id="gemviz-plotly"') == 1
    packed = re.search(r'const packed = "([A-Za-z0-9+/=]+)"', page).group(1)
    assert gzip.decompress(base64.b64decode(packed)).decode("utf-8").count("* plotly.js v") == 1
    assert page.count("Plotly.newPlot") >= 4
    assert not re.search(r'<script[^>]+src="http', page)
    assert not re.search(r'<img[^>]+src="http', page)
    # Venn diagrams and example steps are inlined PNGs; the tables carry intervals
    assert page.count('<img src="data:image/png;base64,') == 2 + 2
    assert re.search(r"\d\.\d{3} \[\d\.\d{3}, \d\.\d{3}\] \(n=", page)
    # Clusters next to n, the gap and the interaction, and how the statistics were done.
    assert re.search(r"\(n=[\d,]+, [\d,]+ (tasks|episodes)\)", page)
    assert "ID − OOD gap [unadjusted 95% CI]" in page
    assert "gap p (Holm within splitter and metric)" in page
    assert "difference in differences [unadjusted 95% CI]" in page
    assert "on the log-odds scale" in page and "permutation of whole" in page
    # the interaction and the paired comparisons count steps with their clusters too
    for section in ("interaction", "paired"):
        body = page.split(f'<section id="{section}">')[1].split("</section>")[0]
        assert re.search(r"<td>[\d,]+ \([\d,]+ (tasks|episodes)\)</td>", body), section
    assert "a permutation test that relabels whole" in page
    task = inputs.study.samples["task"].iloc[350]
    assert task[:40] in page


@pytest.mark.slow
def test_zip_holds_every_figure_as_png(workspace, tmp_path):
    inputs = _inputs(workspace, with_projection=True)
    report = build_report(inputs, {inputs.study.ids[3]: "A custom caption"})
    assert "A custom caption" in report.html
    html_path, zip_path = tmp_path / "r.html", tmp_path / "figs.zip"
    write_report(report, html_path, zip_path)
    assert html_path.read_text(encoding="utf-8") == report.html
    with zipfile.ZipFile(zip_path) as zf:
        names = set(zf.namelist())
        expected = {
            "bars_type_match.png",
            "bars_exact_match.png",
            "gem_fit_gem.png",
            "gem_fit_strict.png",
            "venn_ID.png",
            "venn_OOD.png",
            "embeddings.png",
            "example_01.png",
        }
        assert names == expected
        for name in names:
            assert Image.open(io.BytesIO(zf.read(name))).format == "PNG"


@pytest.mark.slow
def test_figures_only_in_the_zip_are_drawn_when_the_zip_is(workspace, monkeypatch):
    # The HTML shows the Venn PNGs; the bars, GEM fits, map and step cards are drawn only
    # when the figures are read (the ZIP), once each.
    drawn = []
    draw = static.png_bytes
    monkeypatch.setattr(static, "png_bytes", lambda fig: drawn.append(1) or draw(fig))
    report = build_report(_inputs(workspace, with_projection=True))
    assert len(drawn) == 2
    first = dict(report.figures)
    assert len(drawn) == 2 + 5  # two bar charts, two GEM fits, the map
    report.zip_bytes()
    assert dict(report.figures) == first and len(drawn) == 7


@pytest.mark.slow
def test_missing_parts_are_explained_not_skipped(workspace):
    report = build_report(_inputs(workspace, with_projection=False))
    assert "No embedding map" in report.html
    assert "No example steps were chosen" in report.html
    assert "embeddings.png" not in report.figures


@pytest.mark.slow
def test_step_positions_find_the_asked_ids_only(workspace):
    study = workspace.study()
    ids = study.ids
    asked = [ids[7], "no such step", ids[2], ids[7]]
    assert step_positions(study, asked) == {ids[7]: 7, ids[2]: 2}
    assert step_positions(study, []) == {}
    assert step_positions(study, ["no such step"]) == {}


def test_unknown_example_raises(workspace):
    with pytest.raises(GemvizError, match="not in the workspace"):
        build_report(_inputs(workspace, with_projection=False), ["no-such-step"])


@pytest.mark.slow
def test_report_command(workspace, tmp_path, capsys):
    out, figs = tmp_path / "meeting.html", tmp_path / "meeting.zip"
    code = main(
        [
            "report",
            "--workspace",
            str(workspace.folder),
            "--out",
            str(out),
            "--zip",
            str(figs),
            "--examples",
            "s1",
            "s2",
        ]
    )
    assert code == 0
    page = out.read_text(encoding="utf-8")
    assert re.findall(r'<section id="([^"]+)"', page) == list(SECTIONS)
    assert "Report study" in page
    assert "a permutation test that relabels whole" in page
    flat = tmp_path / "flat.html"
    argv = ["report", "--workspace", str(workspace.folder), "--out", str(flat), "--examples"]
    assert main([*argv, "--cluster-by", "none"]) == 0
    assert "Step-level statistics" in flat.read_text(encoding="utf-8")
    with zipfile.ZipFile(figs) as zf:
        assert {"example_01.png", "example_02.png"} <= set(zf.namelist())
    assert (
        main(
            [
                "report",
                "--workspace",
                str(workspace.folder),
                "--out",
                str(out),
                "--examples",
                "nope",
            ]
        )
        == 2
    )
    assert "not in the workspace" in capsys.readouterr().err


@pytest.mark.slow
def test_report_command_picks_disputed_examples_by_default(workspace, tmp_path):
    out, figs = tmp_path / "auto.html", tmp_path / "auto.zip"
    assert (
        main(
            ["report", "--workspace", str(workspace.folder), "--out", str(out), "--zip", str(figs)]
        )
        == 0
    )
    study = workspace.study()
    expected = suggest_examples(study)
    assert expected, "the fixture workspace should have steps"
    with zipfile.ZipFile(figs) as zf:
        shots = sorted(n for n in zf.namelist() if n.startswith("example_"))
    assert len(shots) == len(expected)
    # With the option given and no id, no example is drawn.
    assert (
        main(
            [
                "report",
                "--workspace",
                str(workspace.folder),
                "--out",
                str(out),
                "--zip",
                str(figs),
                "--examples",
            ]
        )
        == 0
    )
    with zipfile.ZipFile(figs) as zf:
        assert not [n for n in zf.namelist() if n.startswith("example_")]


def test_parse_examples_keeps_ids_that_hold_a_pipe():
    ids = ["shots/a.png|Open the app", "s2"]
    text = "shots/a.png|Open the app\ns2 | the second one\nshots/b.png|Other task | caption"
    assert parse_examples(text, ids) == {
        "shots/a.png|Open the app": "",
        "s2": "the second one",
        "shots/b.png|Other task": "caption",
    }


@pytest.mark.slow
def test_slices_and_stability_sections(workspace):
    inputs = inputs_from_workspace(workspace)
    assert inputs.refits == {}  # nothing refitted yet: the report never starts refits itself
    html = build_report(inputs, examples=[]).html
    slices = html.split('<section id="slices">')[1].split("</section>")[0]
    assert "click" in slices and "ID/OOD by gem" in slices and "ID/OOD by strict" in slices
    stability = html.split('<section id="stability">')[1].split("</section>")[0]
    assert "Not computed yet" in stability

    study = inputs.study
    workspace_refits(workspace, study, ["gem", "strict"])  # as the pages do
    inputs = inputs_from_workspace(workspace, study=study)
    assert set(inputs.refits) == {"gem", "strict"}
    assert inputs.refits["gem"].shape == (RESAMPLES, len(study))
    html = build_report(inputs, examples=[]).html
    stability = html.split('<section id="stability">')[1].split("</section>")[0]
    assert "unsettled" in stability and "gem only" in stability and "OOD regions" in stability
    assert "Monte Carlo error near 0.9" in stability and "±0.019" in stability
