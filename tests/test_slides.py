"""Tests for the meeting deck (gemviz.report.slides) and the finding sentences it is titled with.

The deck is built from real AITZ scores by the ``report --slides`` command and read back with
python-pptx: titles, native chart numbers against ``table --format json``, error bars, notes,
fonts, pictures. Where LibreOffice is installed the deck is also rendered to PDF and PNG.
"""

from __future__ import annotations

import html
import io
import json
import math
import shutil
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from pptx import Presentation
from pptx.util import Emu

from gemviz.analysis import findings, findings_runs
from gemviz.analysis.runs import run_pairs, run_summary
from gemviz.analysis.tables import id_ood_table
from gemviz.commands.cli import main
from gemviz.data.read import read_records
from gemviz.data.write import write_records
from gemviz.figures import charts, static
from gemviz.figures.slide_charts import MIN_PT, error_bar_values
from gemviz.report import inputs_from_workspace
from gemviz.report.slides import SLIDE_SECTIONS, _step_verdicts, build_deck
from gemviz.workspace import annotations
from gemviz.workspace.entries import ModelEntry
from gemviz.workspace.store import create_workspace
from tests.conftest import SEED


@pytest.fixture(scope="module")
def files(gem_public, tmp_path_factory) -> dict[str, Path]:
    """Real AITZ test scores (half the tasks) plus MetaGUI steps, and two models' results."""
    folder = tmp_path_factory.mktemp("slides_files")
    records = read_records(gem_public / "AITZ_test_inputscore.json")
    rng = np.random.default_rng(SEED)
    tasks = sorted({r["task"] for r in records})
    keep = set(rng.choice(tasks, size=len(tasks) // 2, replace=False))
    test = [r for r in records if r["task"] not in keep][:300]
    test += read_records(gem_public / "metagui_inputscore.json")[:100]
    for i, r in enumerate(test):
        r["id"] = f"s{i}"
        r["action"] = {"type": "click", "point": [0.2, 0.5]}
    paths = {"test": folder / "test.json"}
    write_records(paths["test"], test)
    ood = np.array([i >= 300 for i in range(len(test))])
    for name, (p_id, p_ood) in (("sft", (0.85, 0.35)), ("rl", (0.8, 0.6))):
        hit = rng.random(len(test)) < np.where(ood, p_ood, p_id)
        res = [
            {"id": r["id"], "type_match": int(h or rng.random() < 0.5), "exact_match": int(h)}
            for r, h in zip(test, hit, strict=True)
        ]
        paths[name] = folder / f"{name}.json"
        write_records(paths[name], res)
    return paths


@pytest.fixture
def workspace(files):
    ws = create_workspace("Slides study", test=files["test"])
    scores = np.array([r["input_score"] for r in read_records(files["test"])])
    for name, q in (("gem", 0.75), ("strict", 0.5)):
        ws.save_partition(name, files["test"], scores <= np.quantile(scores, q))
    for name in ("sft", "rl"):
        ws.add_model(ModelEntry(name=name, results=str(files[name])))
    return ws


def _deck(workspace, tmp_path, *extra: str) -> tuple[Presentation, Path]:
    out = tmp_path / "deck.pptx"
    argv = ["report", "--workspace", str(workspace.folder), "--slides", str(out), *extra]
    assert main(argv) == 0
    return Presentation(str(out)), out


def _charts(slide) -> list:
    return [s.chart for s in slide.shapes if s.has_chart]


def _texts(slide) -> str:
    return "\n".join(s.text_frame.text for s in slide.shapes if s.has_text_frame)


@pytest.mark.slow
def test_deck_titles_state_the_findings(workspace, tmp_path):
    prs, _ = _deck(workspace, tmp_path, "--examples", "s1", "s350")
    titles = [s.shapes.title.text for s in prs.slides]
    study = workspace.study()
    table = id_ood_table(study)
    unit = "tasks"
    expected = [
        findings.splitter_finding(table, s, m, unit)
        for s in study.splitters
        for m in table.metric.unique()
    ]
    assert titles[0].startswith("Slides study: 400 test steps in ")
    assert titles[1:5] == expected
    # The strict splitter's exact-match gap is real (OOD steps are MetaGUI): the title says
    # by how much, with its interval and Holm-adjusted p.
    row = table[
        (table.splitter == "strict") & (table.model == "sft") & (table.metric == "exact_match")
    ]
    assert findings.kind(findings.gap_verdict(row.iloc[0].to_dict())) == findings.SIGNIFICANT
    strict_exact = titles[4]
    assert "drops" in strict_exact and "Holm p" in strict_exact and "[" in strict_exact
    venn = [t for t in titles if "agree on" in t]
    assert len(venn) == 1 and "of 400 steps" in venn[0]
    # Two example slides, each carrying its task text.
    tasks = {r["id"]: r["task"] for r in read_records(workspace.test)}
    example_slides = [s for s in prs.slides if s.shapes.title.text.startswith("Example step")]
    assert len(example_slides) == 2
    for slide, sid in zip(example_slides, ("s1", "s350"), strict=True):
        assert tasks[sid] in _texts(slide)
        assert any(shape.shape_type == 13 for shape in slide.shapes)  # the screenshot picture


def test_chart_numbers_equal_the_table_command(workspace, files, tmp_path, capsys):
    prs, _ = _deck(workspace, tmp_path, "--examples")
    splits = [f"{s.name}={s.labeled}" for s in workspace.splitters]
    argv = ["table", "--format", "json", "--samples", str(files["test"])]
    argv += [a for s in splits for a in ("--split", s)]
    argv += [a for m in ("sft", "rl") for a in ("--model", f"{m}={files[m]}")]
    capsys.readouterr()
    assert main(argv) == 0
    rows = json.loads(capsys.readouterr().out)
    slides = list(prs.slides)[1:5]
    keys = [(s, m) for s in ("gem", "strict") for m in ("type_match", "exact_match")]
    for slide, (splitter, metric) in zip(slides, keys, strict=True):
        (chart,) = _charts(slide)
        want = [r for r in rows if r["splitter"] == splitter and r["metric"] == metric]
        assert list(chart.plots[0].categories) == [r["model"] for r in want]
        bars = error_bar_values(chart)
        for k, subset in enumerate(("id", "ood")):
            series = chart.plots[0].series[k]
            np.testing.assert_allclose(series.values, [r[f"{subset}_mean"] for r in want])
            plus, minus = bars[k]
            np.testing.assert_allclose(
                plus, [r[f"{subset}_hi"] - r[f"{subset}_mean"] for r in want], atol=1e-5
            )
            np.testing.assert_allclose(
                minus, [r[f"{subset}_mean"] - r[f"{subset}_lo"] for r in want], atol=1e-5
            )
            assert series.name.startswith(f"{subset.upper()} ({want[0][f'{subset}_n']} steps")


def test_notes_fonts_and_pictures(workspace, tmp_path):
    annotations.annotate(workspace.folder, "s5", ["truly OOD"], "Looks like a new app")
    prs, _ = _deck(workspace, tmp_path, "--examples")
    assert prs.slide_width * 9 == prs.slide_height * 16
    for slide in prs.slides:
        notes = slide.notes_slide.notes_text_frame.text
        assert len(notes) > 40
        if _charts(slide):  # evidence of a test: method, n, clusters and adjustment
            assert "Holm" in notes and "tasks" in notes and "interval" in notes
        for shape in slide.shapes:
            if shape.has_text_frame:
                for paragraph in shape.text_frame.paragraphs:
                    for run in paragraph.runs:
                        assert run.font.size is not None and run.font.size.pt >= MIN_PT
            if shape.has_chart:
                assert shape.chart.font.size.pt >= MIN_PT
            if shape.shape_type == 13:  # a picture: at least 150 dpi as placed
                with Image.open(io.BytesIO(shape.image.blob)) as img:
                    width_px = img.width
                assert width_px / Emu(shape.width).inches >= 150
    disputed = [s for s in prs.slides if s.shapes.title.text.startswith("truly OOD")]
    assert len(disputed) == 1
    assert "Looks like a new app" in _texts(disputed[0])
    venn = next(s for s in prs.slides if "agree on" in s.shapes.title.text)
    (picture,) = [s for s in venn.shapes if s.shape_type == 13]
    with Image.open(io.BytesIO(picture.image.blob)) as img:
        assert img.size == (1920, 1080)


def test_a_splitter_with_no_ood_step(workspace, files, tmp_path):
    workspace.save_partition("wide", files["test"], np.ones(400, dtype=bool))
    prs, _ = _deck(workspace, tmp_path, "--examples")
    wide = [s for s in prs.slides if s.shapes.title.text.startswith("wide calls all 400 steps ID")]
    assert len(wide) == 2
    assert wide[1].shapes.title.text == (
        "wide calls all 400 steps ID: no OOD exact match to compare (σ may be too wide)"
    )
    assert "σ may be too wide" in wide[0].shapes.title.text
    assert "n=0" in _texts(wide[0])
    (chart,) = _charts(wide[0])
    assert chart.plots[0].series[1].name.startswith("OOD (0 steps")


def test_sections_can_be_added(workspace):
    inputs = inputs_from_workspace(workspace)

    def runs(deck) -> None:
        deck.slide("Runs board", "notes")

    sections = {**SLIDE_SECTIONS, "extra": runs}
    deck = build_deck(inputs, (), sections=sections)
    assert deck.titles[-1] == "Runs board" and deck.sections[-1] == "extra"
    only = build_deck(inputs, (), sections={"study": SLIDE_SECTIONS["study"]})
    assert len(only.prs.slides) == 1


def test_slides_refusals(workspace, tmp_path, capsys):
    base = ["report", "--workspace", str(workspace.folder)]
    assert main([*base, "--slides", str(tmp_path / "deck.ppt")]) == 2
    assert ".pptx" in capsys.readouterr().err
    same = str(tmp_path / "x.pptx")
    assert main([*base, "--slides", same, "--zip", same]) == 2
    assert main(base) == 2
    assert "--slides" in capsys.readouterr().err
    assert not (tmp_path / "x.pptx").exists()


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) not installed")
def test_deck_renders_with_libreoffice(workspace, tmp_path):
    _, out = _deck(workspace, tmp_path, "--examples", "s1")
    subprocess.run(
        ["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(out)],
        check=True,
        capture_output=True,
        timeout=180,
    )
    pdf = tmp_path / "deck.pdf"
    assert pdf.stat().st_size > 10_000
    if shutil.which("pdftoppm"):
        subprocess.run(
            ["pdftoppm", "-png", "-r", "30", "-f", "2", "-l", "2", str(pdf), str(tmp_path / "p")],
            check=True,
            timeout=120,
        )
        (png,) = tmp_path.glob("p-*.png")
        with Image.open(png) as img:
            assert abs(img.width / img.height - 16 / 9) < 0.02
            # A chart was drawn: the splitter's ID colour is on the page.
            colours = {c for _, c in img.convert("RGB").getcolors(1 << 16)}
            assert any(_close(c, (0x4C, 0x78, 0xA8)) for c in colours)


def _close(a, b, tol: int = 12) -> bool:
    return all(abs(x - y) <= tol for x, y in zip(a, b, strict=True))


# -- the finding sentences -----------------------------------------------------------------------


def _row(gap, lo, hi, p, n_id=300, n_ood=100):
    return {
        "splitter": "gem",
        "model": "sft",
        "metric": "exact_match",
        "id_n": n_id,
        "ood_n": n_ood,
        "id_clusters": 40,
        "ood_clusters": 12,
        "gap": gap,
        "gap_lo": lo,
        "gap_hi": hi,
        "gap_p_adjusted": p,
    }


def test_gap_finding_never_says_more_than_the_interval():
    drop = findings.gap_finding(_row(0.39, 0.17, 0.61, 0.004), "tasks")
    assert drop.startswith(
        "sft's exact match drops 0.39 from ID to OOD [0.17, 0.61] (unadjusted 95% CI), "
        "Holm p = 0.004"
    )
    assert "(300 ID / 100 OOD steps, 40 / 12 tasks)" in drop
    rise = findings.gap_finding(_row(-0.2, -0.3, -0.1, 0.01), "tasks")
    assert "rises 0.20 from ID to OOD [0.10, 0.30]" in rise
    # An interval that excludes 0 but an adjusted p over 0.05: not a drop.
    unsure = findings.gap_finding(_row(0.15, 0.01, 0.29, 0.2), "tasks")
    assert unsure.startswith("Too uncertain to tell") and "drops" not in unsure
    flat = findings.gap_finding(_row(0.01, -0.03, 0.04, 0.9), "steps")
    assert flat.startswith("No detectable difference") and "tasks" not in flat
    empty = findings.gap_finding(_row(math.nan, math.nan, math.nan, math.nan, n_ood=0), "tasks")
    assert "calls no step OOD" in empty


def test_verdict_kinds_follow_the_tables_wording():
    assert findings.kind("higher than on gem ID set (+0.20, ...)") == findings.SIGNIFICANT
    assert findings.kind("no detectable difference (interval within ±0.05; ...)") == (
        findings.NO_DIFFERENCE
    )
    assert findings.kind("too uncertain to tell (+0.1, ...)") == findings.UNCERTAIN
    assert findings.kind("cannot be tested (+0.10; too few clusters)") == findings.UNCERTAIN
    assert findings.kind("no steps in this region") == findings.NO_DATA
    assert findings.adjusted_p(0.0004) == "Holm p < 0.001"
    assert findings.adjusted_p(0.049, "bh") == "BH p = 0.049"
    assert findings.adjusted_p(0.0502) == "Holm p = 0.050"
    assert findings.adjusted_p(0.3) == "Holm p = 0.30"


def test_dashboard_bars_are_titled_with_the_finding_and_mark_empty_sets(workspace, files):
    workspace.save_partition("wide", files["test"], np.ones(400, dtype=bool))
    study = workspace.study()
    table = id_ood_table(study)
    fig = charts.grouped_bars(table, "exact_match", unit="tasks")
    title = html.unescape(fig.layout.title.text.replace("<br>", " "))
    # The strongest finding leads the title, as on the slides; the empty set is named.
    assert title == findings.bars_title(table, "exact_match", "tasks")
    assert title.startswith("gem: sft's exact match drops")
    assert title.endswith("; wide calls every step ID (σ may be too wide)")
    wide_ood = next(t for t in fig.data if t.name == "wide OOD")
    assert list(wide_ood.text) == ["n=0", "n=0"] and list(wide_ood.y) == [0, 0]
    png = static.png_bytes(static.bars(table, "exact_match", unit="tasks"))
    assert png[:4] == b"\x89PNG"
    only_wide = table[table.splitter == "wide"]
    assert findings.bars_title(only_wide, "exact_match", "tasks") == (
        "wide calls every step ID (σ may be too wide)"
    )


def test_method_note_follows_the_clustering():
    clustered = findings.method_note("task", 50, 400, "tasks")
    assert "relabels whole tasks" in clustered and "50 tasks over 400 steps" in clustered
    flat = findings.method_note("none", 400, 400, "steps")
    assert "independent" in flat and "whole" not in flat and "resample" not in flat


def test_zip_examples_are_16_9_with_the_task(workspace, tmp_path):
    out, figs = tmp_path / "r.html", tmp_path / "f.zip"
    argv = ["report", "--workspace", str(workspace.folder), "--out", str(out), "--zip", str(figs)]
    assert main([*argv, "--examples", "s1"]) == 0
    with zipfile.ZipFile(figs) as zf, Image.open(io.BytesIO(zf.read("example_01.png"))) as img:
        # The fixture's screenshots are not on disk: a placeholder stands in, still 16:9.
        assert img.size == (1920, 1080)
        assert img.info.get("dpi", (0, 0))[0] >= 149


def test_runs_board_slides_when_models_have_several_runs(workspace, files, tmp_path):
    rng = np.random.default_rng(SEED)
    ids = [r["id"] for r in read_records(files["test"])]
    paths = []
    for k in range(3):
        path = tmp_path / f"sft_run{k}.json"
        hit = rng.random(len(ids)) < 0.8
        write_records(
            path,
            [
                {"id": i, "type_match": 1, "exact_match": int(h)}
                for i, h in zip(ids, hit, strict=True)
            ],
        )
        paths.append(str(path))
    workspace.remove("model", "sft")
    workspace.add_model(ModelEntry(name="sft", results=paths[0], runs=paths[1:]))
    prs, _ = _deck(workspace, tmp_path, "--examples")
    slides = list(prs.slides)
    runs = [s for s in slides if s.notes_slide.notes_text_frame.text.startswith("Runs board")]
    assert len(runs) == 2  # one per metric, right after the study slide
    assert slides.index(runs[0]) == 1
    study = workspace.study()
    for slide, metric in zip(runs, study.metrics, strict=True):
        title = slide.shapes.title.text
        assert title == findings_runs.ranking_finding(run_summary(study, metric), metric)
        assert not _charts(slide) and any(sh.shape_type == 13 for sh in slide.shapes)
        assert "sft: 3 runs" in slide.notes_slide.notes_text_frame.text
    # No baseline: the next slide compares the best configuration with the runner-up, in a
    # title of two lines and a footnote line under it, with the rule and the whole finding
    # in the notes.
    pairs = slides[slides.index(runs[-1]) + 1]
    metric = study.metrics[0]
    both = run_pairs(study, metric), run_summary(study, metric), metric
    title, foot, rule = findings_runs.runs_slide_headline(*both)
    assert pairs.shapes.title.text == title and title.startswith("sft leads rl by ")
    assert foot.startswith("3 and 1 runs averaged per entry") and foot in _texts(pairs)
    notes = pairs.notes_slide.notes_text_frame.text
    assert notes.startswith(rule) and findings_runs.runs_headline(*both)[0] in notes


class _Outcomes:
    """A study's per-step outcome of one step for each model, and its run counts."""

    default_metric = "accuracy"

    def __init__(self, shares: dict[str, float], runs: int):
        self.models, self._shares, self._runs = list(shares), shares, runs

    def metric(self, _name):
        return {m: pd.Series([v]) for m, v in self._shares.items()}

    def runs(self, _model) -> int:
        return self._runs


def test_an_example_title_counts_every_model_and_says_in_every_run():
    """With runs, a model right in some runs is neither right nor wrong; the count adds up."""
    shares = {f"m{i:02d}": 1.0 for i in range(14)}
    shares |= {f"w{i:02d}": 0.0 for i in range(8)}
    shares |= {f"p{i:02d}": 0.4 for i in range(8)}
    (title,) = _step_verdicts(_Outcomes(shares, 5), 0)
    assert title == (
        "14 of 30 models right in every run, 8 in some runs; "
        "wrong in every run: w00, w01, w02, w03 and 4 more"
    )
    single = {k: v for k, v in shares.items() if not k.startswith("p")}
    (title,) = _step_verdicts(_Outcomes(single, 1), 0)
    assert title == "14 of 22 models right; wrong: w00, w01, w02, w03 and 4 more"
    assert _step_verdicts(_Outcomes(dict.fromkeys(shares, 0.0), 5), 0) == [
        "all 30 models wrong in every run"
    ]
