"""The match and predict commands end to end, through ``gemviz.commands.cli.main``."""

from __future__ import annotations

import json

import pytest

from gemviz.commands.cli import main
from gemviz.data.loaders import load_results
from gemviz.data.read import read_records
from gemviz.data.write import write_records
from tests.tiny_qwen import make_screenshot, make_tiny_qwen2vl


def _gt_pred(tmp_path):
    gt = [
        {
            "image_path": "a.png",
            "task": "open wifi",
            "action": {"type": "click", "point": [0.5, 0.5]},
            "platform": "android",
        },
        {"image_path": "b.png", "task": "search", "action": "TYPE [paris]"},
        {
            "image_path": "c.png",
            "task": "read",
            "action": {
                "result_action_type": 4,
                "result_touch_yx": "[0.8, 0.5]",
                "result_lift_yx": "[0.2, 0.5]",
            },
        },
        {"image_path": "d.png", "task": "leave", "action": "PRESS_BACK"},
    ]
    pred = [
        {"image_path": "d.png", "task": "leave", "prediction": "Action: press_back()"},
        {"image_path": "c.png", "task": "read", "prediction": "SCROLL [DOWN]"},
        {"image_path": "b.png", "task": "search", "prediction": "TYPE [Paris]"},
        {"image_path": "a.png", "task": "open wifi", "prediction": "no idea"},
    ]
    write_records(tmp_path / "gt.json", gt)
    write_records(tmp_path / "pred.jsonl", pred)
    return tmp_path / "gt.json", tmp_path / "pred.jsonl"


@pytest.mark.parametrize(
    ("rules", "exact"), [("gem", [0, 0, 1, 1]), ("aitz", [0, 1, 1, 1]), ("aitw", [0, 1, 1, 1])]
)
def test_match_command_writes_results_and_summary(tmp_path, capsys, rules, exact):
    gt, pred = _gt_pred(tmp_path)
    out = tmp_path / "out" / f"{rules}.json"
    code = main(
        ["match", "--gt", str(gt), "--pred", str(pred), "--rules", rules, "--out", str(out)]
    )
    assert code == 0
    assert "4 steps" in capsys.readouterr().out
    frame = load_results(out)  # readable as a study result file
    assert frame["exact_match"].tolist() == exact
    assert frame["type_match"].tolist() == [0, 1, 1, 1]
    assert frame["platform"].tolist()[0] == "android"  # every GT field kept
    summary = json.loads((tmp_path / "out" / f"{rules}.summary.json").read_text())
    assert summary["n"] == 4 and summary["rules"] == rules
    assert summary["invalid_predictions"] == 1
    assert summary["by_type"]["click"]["invalid_predictions"] == 1
    assert summary["exact_match"] == pytest.approx(sum(exact) / 4)


def test_match_command_csv_output_and_fields(tmp_path):
    gt, _ = _gt_pred(tmp_path)
    pred = tmp_path / "p.json"
    write_records(
        pred,
        [
            {"image_path": r["image_path"], "task": r["task"], "answer": "COMPLETE"}
            for r in read_records(gt)
        ],
    )
    out = tmp_path / "res.csv"
    argv = [
        "match",
        "--gt",
        str(gt),
        "--pred",
        str(pred),
        "--out",
        str(out),
        "--pred-field",
        "answer",
        "--format",
        "gem",
    ]
    assert main(argv) == 0
    assert load_results(out)["type_match"].tolist() == [0, 0, 0, 0]
    assert (tmp_path / "res.summary.json").is_file()


def test_match_command_errors_are_one_line(tmp_path, capsys):
    gt, pred = _gt_pred(tmp_path)
    short = tmp_path / "short.json"
    write_records(short, read_records(pred)[:2])
    code = main(["match", "--gt", str(gt), "--pred", str(short), "--out", str(tmp_path / "o.json")])
    assert code == 2
    err = capsys.readouterr().err
    assert "gemviz match: error:" in err and "missing" in err and err.count("\n") == 1
    assert not (tmp_path / "o.json").exists()
    code = main(
        [
            "match",
            "--gt",
            str(gt),
            "--pred",
            str(pred),
            "--gt-field",
            "truth",
            "--out",
            str(tmp_path / "o.json"),
        ]
    )
    assert code == 2
    assert "field 'truth'" in capsys.readouterr().err


def test_match_command_pixel_coordinates(tmp_path):
    make_screenshot(tmp_path / "shot.png", (1080, 2400))
    gt = [{"image_path": "shot.png", "task": "t", "action": "CLICK <point>[[500, 500]]</point>"}]
    pred = [{"image_path": "shot.png", "task": "t", "prediction": "click(start_box='(540,1200)')"}]
    write_records(tmp_path / "gt.json", gt)
    write_records(tmp_path / "pred.json", pred)
    out = tmp_path / "r.json"
    base = [
        "match",
        "--gt",
        str(tmp_path / "gt.json"),
        "--pred",
        str(tmp_path / "pred.json"),
        "--out",
        str(out),
    ]
    assert main([*base, "--coords", "pixel", "--image-root", str(tmp_path)]) == 0
    assert load_results(out)["exact_match"].tolist() == [1]
    assert main(base) == 0  # relative: (540, 1200) is off the screen, far away
    assert load_results(out)["exact_match"].tolist() == [0]


def test_match_real_kairos(gem_public, tmp_path):
    kairos = gem_public / "Kairos_test_inputscore.json"
    out = tmp_path / "kairos.json"
    argv = [
        "match",
        "--gt",
        str(kairos),
        "--pred",
        str(kairos),
        "--gt-field",
        "teacher_action",
        "--pred-field",
        "osatlas_action",
        "--out",
        str(out),
    ]
    assert main(argv) == 0
    frame = load_results(out)
    assert len(frame) == 854
    assert frame["input_score"].notna().all()  # the score field travels along
    summary = json.loads((tmp_path / "kairos.summary.json").read_text())
    assert summary["exact_match"] == pytest.approx(frame["exact_match"].mean())


@pytest.mark.slow
def test_predict_then_match_end_to_end(tmp_path, capsys):
    model = make_tiny_qwen2vl(tmp_path / "tiny")
    records = []
    for i, size in enumerate([(1080, 2400), (300, 200), (500, 500)]):
        make_screenshot(tmp_path / "shots" / f"{i}.png", size, seed=i)
        records.append(
            {
                "id": f"s{i}",
                "task": f"task number {i}",
                "image_path": f"shots/{i}.png",
                "action": "COMPLETE",
            }
        )
    write_records(tmp_path / "test.json", records)
    pred = tmp_path / "pred.json"
    argv = [
        "predict",
        "--model",
        str(model),
        "--test",
        str(tmp_path / "test.json"),
        "--out",
        str(pred),
        "--batch-size",
        "2",
        "--max-new-tokens",
        "4",
        "--device",
        "cpu",
        "--image-root",
        str(tmp_path),
        "--quiet",
    ]
    assert main(argv) == 0
    assert "3 steps (3 generated, 0 from an earlier run)" in capsys.readouterr().out
    rows = read_records(pred)
    assert [r["id"] for r in rows] == ["s0", "s1", "s2"]
    assert all(isinstance(r["prediction"], str) for r in rows)
    assert main(argv) == 0  # a second run reads every answer from the cache
    assert "(0 generated, 3 from an earlier run)" in capsys.readouterr().out
    out = tmp_path / "res.json"
    argv = ["match", "--gt", str(tmp_path / "test.json"), "--pred", str(pred), "--out", str(out)]
    assert main(argv) == 0
    assert len(load_results(out)) == 3


def test_predict_command_reports_missing_model(tmp_path, capsys):
    write_records(tmp_path / "t.json", [{"task": "x", "image_path": "a.png"}])
    argv = [
        "predict",
        "--model",
        str(tmp_path / "nope"),
        "--test",
        str(tmp_path / "t.json"),
        "--out",
        str(tmp_path / "p.json"),
        "--quiet",
    ]
    assert main(argv) == 2
    assert "config.json" in capsys.readouterr().err
