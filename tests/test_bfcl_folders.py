"""Many runs in at once: BFCL results folders, every file checked before any work, the page.

The study is a lab's real shape: 18 configurations x 5 runs of BFCL's 200 multi-turn-base
entries, each run's pass/fail drawn by the demo's simulation and written as the evaluator's
score file (its header, then one line per failed entry), in the two usual arrangements.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import ROOT
from streamlit.testing.v1 import AppTest

from gemviz.analysis.runs import MEANS_COLUMNS
from gemviz.commands.cli import main
from gemviz.data.errors import GemvizBatchError, GemvizError
from gemviz.demo.bfcl_runs import CATEGORY, Configuration, simulate
from gemviz.workspace import create as create_mod
from gemviz.workspace.bfcl_runs import find_runs
from gemviz.workspace.catalog import list_workspaces
from gemviz.workspace.create import create_from_files
from gemviz.workspace.models import add_models
from gemviz.workspace.store import Workspace
from tests.bfcl_data import TEST, extract

CONFIGS = [f"cfg{i:02d}" for i in range(1, 19)]
RUNS = 5
SCORE = f"BFCL_v4_{CATEGORY}_score.json"
HANDLER = "qwen3-4b"  # the evaluator's model folder: one handler for every checkpoint


def _score_lines(entries, passed, config: str) -> str:
    failed = [
        {"id": e["id"], "model_name": HANDLER, "test_category": CATEGORY, "valid": False,
         "error": {"error_type": "multi_turn:instance_state_mismatch",
                   "error_message": "Model instance does not match the state."}}
        for e, ok in zip(entries, passed, strict=True) if not ok
    ]  # fmt: skip
    total = len(entries)
    correct = total - len(failed)
    header = {"accuracy": correct / total, "correct_count": correct, "total_count": total}
    return "".join(json.dumps(r) + "\n" for r in [header, *failed])


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """The test file, and the 90 runs under ``by_config/`` and ``by_run/``."""
    root = extract(tmp_path_factory.mktemp("bfcl_lab"))
    entries = [json.loads(x) for x in (root / TEST).read_text().splitlines()]
    social = {"GorillaFileSystem", "TwitterAPI", "MessageAPI", "MathAPI", "TicketAPI"}
    labels = [{"id": e["id"], "label": "ID" if set(e["involved_classes"]) <= social else "OOD"}
              for e in entries]  # fmt: skip
    (root / "labeled.json").write_text("".join(json.dumps(r) + "\n" for r in labels))
    accuracy = {}
    for i, config in enumerate(CONFIGS):
        passed = simulate(entries, Configuration(config, -1.2 + 0.08 * i), RUNS)
        for r in range(RUNS):
            text = _score_lines(entries, passed[r], config)
            for path in (
                root / "by_config" / config / f"run{r + 1}" / "score" / HANDLER / "multi_turn",
                root / "by_run" / f"run{r + 1}" / "score" / config / "multi_turn",
            ):
                path.mkdir(parents=True)
                (path / SCORE).write_text(text)
            accuracy[config, r + 1] = json.loads(text.splitlines()[0])["accuracy"]
    return root, accuracy


def _copy(lab, tmp_path: Path, form: str = "by_config") -> Path:
    return Path(shutil.copytree(lab[0] / form, tmp_path / form))


def _spoil(path: Path, **header) -> None:
    lines = path.read_text().splitlines()
    lines[0] = json.dumps({**json.loads(lines[0]), **header})
    path.write_text("\n".join(lines) + "\n")


def _run_file(folder: Path, config: str, run: int) -> Path:
    return folder / config / f"run{run}" / "score" / HANDLER / "multi_turn" / SCORE


# -- the folder's layouts ---------------------------------------------------------------------


def test_both_layouts_give_18_configurations_named_by_folder(lab):
    root, _ = lab
    by_config = find_runs(root / "by_config", CATEGORY)
    by_run = find_runs(root / "by_run")
    assert list(by_config) == list(by_run) == CONFIGS  # not the handler's name
    for config in CONFIGS:
        assert len(by_config[config]) == len(by_run[config]) == RUNS
        for r, (a, b) in enumerate(zip(by_config[config], by_run[config], strict=True), 1):
            assert f"/{config}/run{r}/" in a and f"/run{r}/score/{config}/" in b
            assert Path(a).read_text() == Path(b).read_text()


def test_runs_in_natural_order(tmp_path, lab):
    folder = tmp_path / "runs"
    for r in (1, 2, 10):
        dest = folder / "sft" / f"run{r}" / "score" / HANDLER / "multi_turn"
        dest.mkdir(parents=True)
        shutil.copy(_run_file(lab[0] / "by_config", "cfg01", 1), dest / SCORE)
    assert [Path(p).parts[-5] for p in find_runs(folder)["sft"]] == ["run1", "run2", "run10"]


@pytest.mark.parametrize(
    "layout, words",
    [
        (["a/run1/score/m/g", "b/score/m/g"], "different depths"),
        (["sft/score/m1/g", "sft/score/m2/g", "lora/score/m1/g"], "holds several models"),
        (["run1/score/m/g", "sft/score/m/g"], "some top folders are named as runs"),
        (["w/x/y/z/score/m/g"], "4 folders deep"),
        (["sft/run1/score/m/g", "sft/run1/score/m/h"], "two score files for run 'run1'"),
        ([], "no BFCL score files"),
    ],
)
def test_ambiguous_layouts_are_refused_in_one_line(tmp_path, lab, layout, words):
    source = _run_file(lab[0] / "by_config", "cfg01", 1)
    (tmp_path / "d").mkdir()
    for where in layout:
        (tmp_path / "d" / where).mkdir(parents=True)
        shutil.copy(source, tmp_path / "d" / where / SCORE)
    with pytest.raises(GemvizError) as err:
        find_runs(tmp_path / "d")
    assert words in str(err.value) and "\n" not in str(err.value)


def test_other_categories_are_left_out_or_refused(tmp_path, lab):
    folder = _copy(lab, tmp_path)
    other = folder / "cfg01" / "run1" / "score" / HANDLER / "multi_turn"
    shutil.copy(other / SCORE, other / "BFCL_v4_multi_turn_long_context_score.json")
    assert len(find_runs(folder, CATEGORY)) == 18
    with pytest.raises(GemvizError, match="several categories"):
        find_runs(folder)
    with pytest.raises(GemvizError, match=r"no BFCL_v4_simple_score\.json"):
        find_runs(folder, "simple")


# -- the command line -------------------------------------------------------------------------


def test_create_from_a_results_folder(lab, capsys):
    root, accuracy = lab
    argv = ["workspace", "create", "lab", "--test", str(root / TEST),
            "--split", f"classes={root / 'labeled.json'}",
            "--bfcl-runs", str(root / "by_config"), "--baseline", "cfg01"]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "model cfg18: results, 5 runs" in out
    assert "configuration cfg01 (baseline)" in out  # the configuration table by folder names
    (ws,) = _made("lab")
    assert [m.name for m in ws.models] == CONFIGS
    study = ws.study()
    for config in CONFIGS:
        means = study.run_values("accuracy", config).mean(axis=0)
        assert means.tolist() == pytest.approx([accuracy[config, r] for r in range(1, 6)])


def test_bad_files_are_listed_together_and_nothing_is_written(lab, tmp_path, capsys):
    root, _ = lab
    folder = _copy(lab, tmp_path)
    _spoil(_run_file(folder, "cfg03", 2), accuracy=0.1425)
    _spoil(_run_file(folder, "cfg07", 5), correct_count=0)
    argv = ["workspace", "create", "lab", "--test", str(root / TEST), "--bfcl-runs", str(folder)]
    assert main(argv) == 2
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith("gemviz workspace: error: 2 of 91 files refused")
    assert "nothing was written" in lines[0] and len(lines) == 3
    acc, count = lines[1], lines[2]
    assert str(_run_file(folder, "cfg03", 2)) in acc and "row 1, field 'accuracy'" in acc
    assert "28.5 of 200" in acc and "fix the header or the lines" in acc
    assert str(_run_file(folder, "cfg07", 5)) in count and "field 'correct_count'" in count
    assert list_workspaces() == []


def test_add_model_takes_a_results_folder(lab, capsys):
    root, _ = lab
    ws = create_from_files("lab", str(root / TEST))
    argv = ["workspace", "add-model", ws.slug, "--bfcl-runs", str(root / "by_run")]
    assert main(argv) == 0
    assert "added model cfg01 to" in capsys.readouterr().out
    assert [len(m.run_files()) for m in Workspace.load(ws.folder).models] == [RUNS] * 18
    assert main(["workspace", "add-model", ws.slug, "x", "--bfcl-runs", str(root)]) == 2
    assert "leave out NAME" in capsys.readouterr().err


def test_runs_without_a_splitter_prints_each_runs_mean(lab, capsys):
    root, accuracy = lab
    folders = find_runs(root / "by_config")
    models = [a for c in CONFIGS[:3] for f in folders[c] for a in ("--model", f"{c}={f}")]
    assert main(["runs", "--samples", str(root / TEST), *models, "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert list(rows[0]) == MEANS_COLUMNS and len(rows) == 3 * RUNS
    for row in rows:
        assert row["n"] == 200
        assert row["mean"] == pytest.approx(accuracy[row["model"], row["run"]])


# -- nothing embedded while any file is bad -----------------------------------------------------


class EmbeddingReachedError(Exception):
    """The training set reached the embedding step."""


def _training_set(tmp_path: Path) -> str:
    path = tmp_path / "train.jsonl"
    rows = [{"messages": [{"role": "user", "content": f"list the files in folder {i}"}]}
            for i in range(4)]  # fmt: skip
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(path)


def test_no_embedding_while_any_file_is_bad(lab, tmp_path, monkeypatch):
    root, _ = lab
    folder = _copy(lab, tmp_path)
    calls = []

    def embed(*args, **kwargs):
        calls.append(args)
        raise EmbeddingReachedError

    monkeypatch.setattr(create_mod, "score_training_set", embed)
    models = find_runs(folder)
    kwargs = {"training_sets": {"set": _training_set(tmp_path)}, "models": models}
    with pytest.raises(EmbeddingReachedError):  # good files: the embedding step is reached
        create_from_files("lab", str(root / TEST), **kwargs)
    assert len(calls) == 1
    _spoil(_run_file(folder, "cfg01", 1), accuracy=0.9)
    _spoil(_run_file(folder, "cfg18", 3), total_count=199)
    bad_set = tmp_path / "bad.jsonl"
    bad_set.write_text('{"messages": []}\n')
    kwargs["training_sets"] = {"set": str(bad_set)}
    with pytest.raises(GemvizBatchError) as err:
        create_from_files("lab", str(root / TEST), **kwargs)
    assert len(calls) == 1 and list_workspaces() == []
    named = [e.file for e in err.value.errors]
    assert named == [str(bad_set), str(_run_file(folder, "cfg01", 1)),
                     str(_run_file(folder, "cfg18", 3))]  # fmt: skip
    assert err.value.summary.startswith("3 of 92 files refused")


def test_add_models_writes_nothing_when_one_run_is_bad(lab, tmp_path):
    root, _ = lab
    folder = _copy(lab, tmp_path)
    ws = create_from_files("lab", str(root / TEST))
    _spoil(_run_file(folder, "cfg05", 4), accuracy="high")
    with pytest.raises(GemvizError, match="field 'accuracy': expected a number"):
        add_models(ws, find_runs(folder))
    assert Workspace.load(ws.folder).models == []


# -- the Workspace page -----------------------------------------------------------------------


def _page(ws: Workspace) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / "1_workspace.py"), default_timeout=180)
    at.session_state["workspace"] = ws.slug
    at.query_params["workspace_tab"] = "Add model"  # a link to the tab
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _upload(path: Path, name: str | None = None) -> tuple[str, bytes, str]:
    return (name or path.name, path.read_bytes(), "application/json")


def test_page_takes_many_files_and_a_folder_and_keeps_its_tab(lab, tmp_path):
    root, _ = lab
    ws = create_from_files("lab", str(root / TEST), splits={"classes": root / "labeled.json"})
    folder = _copy(lab, tmp_path)
    at = _page(ws)
    assert at.session_state["workspace_tab"] == "Add model"
    at.text_input(key="new_model_name").set_value("sft")
    runs = [_run_file(folder, "cfg02", r) for r in range(1, 4)]
    at.file_uploader(key="new_model_runs_upload").set_value([_upload(p) for p in runs])
    at.button(key="add_model").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert Workspace.load(ws.folder).study().runs("sft") == 3
    assert any("Added 1 model (3 run files)" in s.value for s in at.success)
    assert at.session_state["workspace_tab"] == "Add model"
    # A whole folder, uploaded as one: its configurations named by their folders.
    at.file_uploader(key="new_model_runs_upload").set_value(None)
    at.text_input(key="new_model_name").set_value("")
    files = sorted(p for c in CONFIGS[:4] for p in (folder / c).rglob(SCORE))
    named = [_upload(p, "lab/" + p.relative_to(folder).as_posix()) for p in files]
    at.file_uploader(key="new_model_folder_upload").set_value(named)
    at.button(key="add_model").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    models = {m.name: m for m in Workspace.load(ws.folder).models}
    assert [len(models[c].run_files()) for c in CONFIGS[:4]] == [RUNS] * 4
    assert all(str(ws.folder) in p for c in CONFIGS[:4] for p in models[c].run_files())
    assert at.session_state["workspace_tab"] == "Add model"


def test_page_lists_every_bad_upload_with_its_hint(lab, tmp_path):
    root, _ = lab
    ws = create_from_files("lab", str(root / TEST))
    folder = _copy(lab, tmp_path)
    bad = [_run_file(folder, "cfg01", 1), _run_file(folder, "cfg01", 2)]
    _spoil(bad[0], accuracy=0.1425)
    _spoil(bad[1], correct_count=5)
    at = _page(ws)
    at.text_input(key="new_model_name").set_value("sft")
    good = _run_file(folder, "cfg01", 3)
    uploads = [_upload(bad[0], "run1.json"), _upload(bad[1], "run2.json"), _upload(good)]
    at.file_uploader(key="new_model_runs_upload").set_value(uploads)
    at.button(key="add_model").click().run()
    assert not at.exception
    (shown,) = [e.value for e in at.error]
    assert shown.startswith("2 of 3 files refused")
    assert "run1.json (uploaded), row 1, field 'accuracy'" in shown
    assert "run2.json (uploaded), row 1, field 'correct" in shown
    assert shown.count("fix the header or the lines") == 2
    assert Workspace.load(ws.folder).models == []


def test_runs_pairs_without_a_splitter_compare_on_all_entries(lab, capsys):
    root, accuracy = lab
    folders = find_runs(root / "by_config")
    models = [a for c in CONFIGS[:3] for f in folders[c] for a in ("--model", f"{c}={f}")]
    argv = ["runs", "--samples", str(root / TEST), *models, "--baseline", "cfg01",
            "--format", "json"]  # fmt: skip
    assert main(argv) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 2 and {r["subset"] for r in rows} == {"all"}
    for row in rows:
        assert {row["model_a"], row["model_b"]} - {"cfg01"} <= {"cfg02", "cfg03"}
        for side in ("a", "b"):
            runs = [accuracy[row[f"model_{side}"], r] for r in range(1, RUNS + 1)]
            assert row[f"mean_{side}"] == pytest.approx(sum(runs) / RUNS)


def _create_page(root: Path) -> AppTest:
    """The Workspace page open on a workspace of the test set alone (no demo is built)."""
    return _page(create_from_files("open", str(root / TEST)))


def _made(name: str) -> list[Workspace]:
    return [w for w in list_workspaces() if w.name == name]


def test_page_creates_a_workspace_from_a_results_folder_with_its_baseline(lab, tmp_path):
    root, _ = lab
    at = _create_page(root)
    at.text_input(key="create_name").set_value("lab")
    at.text_input(key="create_test_path").set_value(str(root / TEST))
    at.text_input(key="create_runs_path").set_value(str(root / "by_run")).run()
    assert any("Found 18 model(s), 90 run file(s)" in c.value for c in at.caption)
    assert at.selectbox(key="create_baseline").options[1:] == CONFIGS
    at.selectbox(key="create_baseline").set_value("cfg04")
    at.button(key="create_button").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    (ws,) = _made("lab")
    assert [m.name for m in ws.models] == CONFIGS
    assert {m: c.baseline for m, c in ws.configs.items()} == {"cfg04": True}
    runs = ws.models[-1].run_files()
    assert [f"/run{r}/score/cfg18/" in p for r, p in enumerate(runs, 1)] == [True] * RUNS
    assert any("18 model(s)" in s.value for s in at.success)


def test_page_create_lists_every_bad_run_and_keeps_the_form(lab, tmp_path):
    root, _ = lab
    folder = _copy(lab, tmp_path)
    _spoil(_run_file(folder, "cfg03", 2), accuracy=0.1425)
    _spoil(_run_file(folder, "cfg07", 5), correct_count=0)
    at = _create_page(root)
    at.text_input(key="create_name").set_value("lab")
    at.text_input(key="create_test_path").set_value(str(root / TEST))
    at.text_input(key="create_runs_path").set_value(str(folder))
    at.text_area(key="create_training_paths").set_value(f"set={tmp_path / 'missing.jsonl'}")
    at.button(key="create_button").click().run()
    assert not at.exception
    (shown,) = [e.value for e in at.error]
    assert shown.startswith("3 of 92 files refused") and "nothing was written" in shown
    assert str(_run_file(folder, "cfg03", 2)) in shown and "28.5 of 200" in shown
    assert str(_run_file(folder, "cfg07", 5)) in shown and "missing.jsonl" in shown
    assert _made("lab") == []
    # What was typed is still there to fix.
    assert at.text_input(key="create_runs_path").value == str(folder)
    assert at.text_area(key="create_training_paths").value.startswith("set=")


def test_page_create_takes_many_uploaded_runs_of_a_named_model(lab):
    root, _ = lab
    at = _create_page(root)
    at.text_input(key="create_name").set_value("uploads")
    at.text_input(key="create_test_path").set_value(str(root / TEST))
    runs = [_run_file(root / "by_config", "cfg02", r) for r in range(1, 4)]
    at.file_uploader(key="create_runs_upload").set_value(
        [_upload(p, f"run{r}.json") for r, p in enumerate(runs, 1)]
    )
    at.run()
    (shown,) = [e.value for e in at.error]  # the files need a model name
    assert "name the model these result files belong to" in shown
    assert _made("uploads") == []
    at.text_input(key="create_model_name").set_value("sft").run()
    assert any("Found 1 model(s), 3 run file(s)" in c.value for c in at.caption)
    at.button(key="create_button").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    (ws,) = _made("uploads")
    (model,) = ws.models
    assert model.name == "sft" and len(model.run_files()) == 3
    assert all(str(ws.folder) in p for p in model.run_files())  # the uploads were kept
