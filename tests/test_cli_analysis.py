"""End-to-end tests of the ``table`` and ``overlap`` commands on the real AITZ score file."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gemviz.analysis.overlap import venn_regions
from gemviz.analysis.tables import id_ood_table
from gemviz.commands.cli import main
from gemviz.data.study import Study
from tests.conftest import SEED


@pytest.fixture(scope="module")
def study_files(gem_public, tmp_path_factory) -> dict[str, Path]:
    """Two one-component GEM-style splitters (sigma 1 and 2) and two synthetic models."""
    folder = tmp_path_factory.mktemp("cli_analysis")
    records = json.loads((gem_public / "AITZ_test_inputscore.json").read_text())
    score = np.array([r["input_score"] for r in records])
    tasks = sorted({r["task"] for r in records})
    train = np.isin([r["task"] for r in records], tasks[::2])
    mu, sd = score[train].mean(), score[train].std()
    files: dict[str, Path] = {}
    for name, sigma in (("s1", 1.0), ("s2", 2.0)):
        is_id = np.abs(score - mu) <= sigma * sd
        labeled = [dict(r, label="ID" if x else "OOD") for r, x in zip(records, is_id, strict=True)]
        files[name] = folder / f"{name}.json"
        files[name].write_text(json.dumps(labeled))
    rng = np.random.default_rng(SEED)
    good = rng.random(len(records)) < np.where(np.abs(score - mu) <= sd, 0.7, 0.5)
    weak = good & (rng.random(len(records)) < 0.8)
    files["good"] = folder / "good.json"
    files["good"].write_text(
        json.dumps(
            [dict(r, type_match=1, exact_match=int(g)) for r, g in zip(records, good, strict=True)]
        )
    )
    # The other spelling and booleans, as JSON lines in reverse order: must still align.
    files["weak"] = folder / "weak.jsonl"
    lines = [
        json.dumps(dict(r, **{"type match": True, "exact match": bool(w)}))
        for r, w in zip(records, weak, strict=True)
    ]
    files["weak"].write_text("\n".join(lines[::-1]))
    return files


def _args(files: dict[str, Path], *extra: str) -> list[str]:
    return [
        "--split", f"s1={files['s1']}", "--split", f"s2={files['s2']}",
        "--model", f"good={files['good']}", "--model", f"weak={files['weak']}", *extra,
    ]  # fmt: skip


def _run(argv: list[str], capsys) -> tuple[int, str, str]:
    rc = main(argv)
    out, err = capsys.readouterr()
    return rc, out, err


def test_table_json_matches_the_analysis(study_files, capsys):
    rc, out, _ = _run(["table", *_args(study_files), "--format", "json"], capsys)
    assert rc == 0
    rows = json.loads(out)
    study = Study.from_files(
        {k: study_files[k] for k in ("s1", "s2")}, {k: study_files[k] for k in ("good", "weak")}
    )
    expected = id_ood_table(study)
    assert len(rows) == len(expected) == 8
    assert set(rows[0]) >= {"splitter", "model", "metric", "id_mean", "id_n", "id_lo", "ood_hi"}
    # One run per model: its run_sd is undefined, NaN in the frame and null in JSON.
    got = pd.DataFrame(rows).astype({"run_sd": float})
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    # sigma 2 admits more steps than sigma 1, and the weak model trails the good one.
    by = got.set_index(["splitter", "model", "metric"])
    assert (
        by.loc[("s2", "good", "exact_match"), "id_n"]
        > by.loc[("s1", "good", "exact_match"), "id_n"]
    )
    assert (
        by.loc[("s1", "weak", "exact_match"), "id_mean"]
        < by.loc[("s1", "good", "exact_match"), "id_mean"]
    )


def test_table_csv_markdown_and_out_file(study_files, capsys, tmp_path):
    rc, out, _ = _run(
        ["table", *_args(study_files), "--format", "csv", "--metric", "exact_match"], capsys
    )
    assert rc == 0
    frame = pd.read_csv(StringIO(out))
    assert len(frame) == 4 and set(frame["metric"]) == {"exact_match"}
    rc, out, _ = _run(["table", *_args(study_files)], capsys)
    lines = out.splitlines()
    assert lines[0].startswith("| splitter | model | metric")
    assert set(lines[1]) <= {"|", "-", ":", " "}
    assert len(lines) == 2 + 8
    target = tmp_path / "out" / "table.md"
    rc, printed, _ = _run(["table", *_args(study_files), "--out", str(target)], capsys)
    assert rc == 0 and printed == "" and target.read_text() == out


def test_overlap_regions_and_drilldown(study_files, capsys):
    rc, out, _ = _run(["overlap", *_args(study_files), "--format", "json", "--ids"], capsys)
    assert rc == 0
    payload = json.loads(out)
    study = Study.from_files({k: study_files[k] for k in ("s1", "s2")})
    s1, s2 = study.is_id("s1"), study.is_id("s2")
    counts = {r["region"]: r["count"] for r in payload["regions"]}
    assert counts == {
        "s1 only": int((s1 & ~s2).sum()),
        "s2 only": int((s2 & ~s1).sum()),
        "s1 & s2": int((s1 & s2).sum()),
    }
    assert payload["regions"][2]["ids"] == venn_regions(study, ["s1", "s2"]).loc[2, "ids"]
    drill = pd.DataFrame(payload["set_difference"])
    assert len(drill) == 2 * 2
    assert drill["region"].unique().tolist() == ["s1 ID, s2 OOD", "s2 ID, s1 OOD"]
    # sigma 1's ID set lies inside sigma 2's: nothing is s1-ID but s2-OOD.
    assert (drill.loc[drill["region"] == "s1 ID, s2 OOD", "n"] == 0).all()
    row = drill[(drill["region"] == "s2 ID, s1 OOD") & (drill["model"] == "good")].iloc[0]
    assert row["n"] == counts["s2 only"] and row["ref_name"] == "s2 ID"
    # good was built to do worse outside one sigma, so that region is lower than s2's ID set.
    assert row["diff"] < 0 and row["p_value"] < 0.05
    assert row["verdict"].startswith("lower than on s2 ID set")


def test_overlap_without_models_three_splitters_and_ood(study_files, capsys):
    argv = ["overlap", "--split", f"a={study_files['s1']}", "--split", f"b={study_files['s2']}"]
    argv += ["--split", f"c={study_files['s1']}", "--label", "ood", "--format", "csv"]
    rc, out, _ = _run(argv, capsys)
    assert rc == 0
    frame = pd.read_csv(StringIO(out))
    assert len(frame) == 7
    assert frame.set_index("region").loc["a only", "count"] == 0  # a and c are the same file


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["table", "--split", "s1", "--model", "m=x.json"], "NAME=PATH"),
        (["table", "--split", "=a.json", "--model", "m=x.json"], "NAME=PATH"),
        (["table", "--split", "a=missing.json", "--model", "m=x.json"], "file not found"),
        (["overlap", "--split", "a=missing.json"], "2 or 3"),
        (["overlap", "--split", "a=x.json", "--split", "a=y.json"], "given twice"),
    ],
)
def test_bad_arguments_give_one_line_errors(argv, message, capsys):
    rc, out, err = _run(argv, capsys)
    assert rc == 2 and out == ""
    assert message in err and len(err.strip().splitlines()) == 1


def test_mismatched_files_are_refused(study_files, capsys, tmp_path):
    records = json.loads(Path(study_files["s1"]).read_text())[:-5]
    short = tmp_path / "short.json"
    short.write_text(json.dumps(records))
    rc, _, err = _run(
        ["overlap", "--split", f"a={study_files['s1']}", "--split", f"b={short}"], capsys
    )
    assert rc == 2 and "5 sample(s)" in err


def test_help(capsys):
    for command in ("table", "overlap"):
        with pytest.raises(SystemExit) as exit_info:
            main([command, "--help"])
        assert exit_info.value.code == 0
        assert "NAME=LABELED" in capsys.readouterr().out


def test_overlap_three_splitters_drills_every_pair(study_files, capsys):
    argv = [
        "overlap",
        *_args(study_files),
        "--split",
        f"s3={study_files['s1']}",
        "--format",
        "json",
    ]
    argv += ["--n-perm", "200"]
    rc, out, _ = _run(argv, capsys)
    assert rc == 0
    drill = pd.DataFrame(json.loads(out)["set_difference"])
    # 3 pairs x 2 directions x 2 models.
    assert len(drill) == 12
    assert drill["region"].nunique() == 6
    # s1 and s3 are the same labels: they never disagree.
    assert (drill.loc[drill["region"] == "s1 ID, s3 OOD", "n"] == 0).all()
    # One family per pair of splitters: the rows of s1 vs s2 carry the adjusted p-values the
    # page and the report give them, whatever other pairs are printed.
    _, two, _ = _run(
        ["overlap", *_args(study_files), "--format", "json", "--n-perm", "200"], capsys
    )
    pair = pd.DataFrame(json.loads(two)["set_difference"])
    mine = drill[drill["region"].isin(pair["region"])].reset_index(drop=True)
    np.testing.assert_allclose(mine.p_adjusted, pair.p_adjusted)
    np.testing.assert_allclose(mine.p_value, pair.p_value)


TABLE_CONTRACT = [
    "splitter", "model", "metric", "id_mean", "id_lo", "id_hi", "id_n", "id_clusters",
    "ood_mean", "ood_lo", "ood_hi", "ood_n", "ood_clusters",
    "gap", "gap_lo", "gap_hi", "gap_p", "gap_p_adjusted",
]  # fmt: skip
COMPARE_CONTRACT = [
    "splitter", "metric", "model_a", "model_b", "diff_id", "diff_ood",
    "did", "did_lo", "did_hi", "did_p", "did_p_adjusted",
]  # fmt: skip


def test_table_json_contract_and_cluster_by(study_files, capsys):
    _, out, _ = _run(["table", *_args(study_files), "--format", "json"], capsys)
    rows = json.loads(out)
    assert list(rows[0])[: len(TABLE_CONTRACT)] == TABLE_CONTRACT
    assert {"small", "test"} <= set(rows[0])
    _, flat_out, _ = _run(
        ["table", *_args(study_files), "--format", "json", "--cluster-by", "none"], capsys
    )
    flat = pd.DataFrame(json.loads(flat_out))
    by_task = pd.DataFrame(rows)
    # The AITZ records have tasks (no episode_id): auto clusters by task.
    assert (by_task.id_clusters < by_task.id_n).all()
    assert (flat.id_clusters == flat.id_n).all()
    # Clustered intervals are wider than the step-level ones.
    assert ((by_task.id_hi - by_task.id_lo) > (flat.id_hi - flat.id_lo)).all()
    _, bh_out, _ = _run(
        ["table", *_args(study_files), "--format", "json", "--adjust", "bh"], capsys
    )
    bh = pd.DataFrame(json.loads(bh_out))
    assert (bh.gap_p_adjusted <= by_task.gap_p_adjusted + 1e-12).all()
    rc, _, err = _run(["table", *_args(study_files), "--cluster-by", "app"], capsys)
    assert rc == 2 and "cannot cluster by 'app'" in err


def test_overlap_rows_carry_clusters_and_adjusted_p(study_files, capsys):
    _, out, _ = _run(["overlap", *_args(study_files), "--format", "json"], capsys)
    payload = json.loads(out)
    assert set(payload) == {"label", "regions", "set_difference"}
    drill = pd.DataFrame(payload["set_difference"])
    assert {"n_clusters", "p_adjusted", "ref_clusters"} <= set(drill.columns)
    seen = drill[drill.n > 0]
    assert (seen.n_clusters <= seen.n).all() and (seen.p_adjusted >= seen.p_value).all()


def test_compare_json_contract(study_files, capsys):
    argv = ["compare", *_args(study_files), "--format", "json", "--metric", "exact_match"]
    rc, out, _ = _run(argv, capsys)
    assert rc == 0
    rows = pd.DataFrame(json.loads(out))
    assert list(rows.columns)[: len(COMPARE_CONTRACT)] == COMPARE_CONTRACT
    assert {"small", "test", "did_logodds", "did_logodds_p", "scale_note"} <= set(rows.columns)
    assert len(rows) == 2  # 2 splitters x 1 metric x 1 pair
    np.testing.assert_allclose(rows.did, rows.diff_id - rows.diff_ood)
    assert ((rows.did_lo <= rows.did) & (rows.did <= rows.did_hi)).all()
    # weak = good with 20% of its successes removed everywhere: good gains more on ID, where
    # it succeeds more often, so the interaction is positive.
    assert (rows.did > 0).all()
    three = [*_args(study_files), "--model", f"copy={study_files['good']}", "--format", "json"]
    rows = pd.DataFrame(json.loads(_run(["compare", *three], capsys)[1]))
    assert len(rows) == 2 * 2 * 3  # every pair
    based = [*three, "--baseline", "weak"]
    rows = pd.DataFrame(json.loads(_run(["compare", *based], capsys)[1]))
    assert list(rows.columns) == list(pd.DataFrame(json.loads(out)).columns)
    assert len(rows) == 2 * 2 * 2 and set(rows.model_b) == {"weak"}
    assert list(dict.fromkeys(rows.model_a)) == ["good", "copy"]
    assert rows.family.str.startswith("2 configurations against weak under ").all()
    rc, _, err = _run(["compare", *based[:-1], "nobody"], capsys)
    assert rc == 2 and err.count("\n") == 1 and "--baseline 'nobody'" in err
    rc, _, err = _run(["compare", "--split", "a=x.json", "--model", "m=y.json"], capsys)
    assert rc == 2 and "at least twice" in err
