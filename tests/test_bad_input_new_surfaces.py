"""The bad-input suite on the newer surfaces: BFCL files, runs, training sets, renames, slides.

The same runner as :mod:`test_bad_input` (one clear line and exit 2, or the documented success;
never a traceback, a hang, a changed input or a stray file), over a study that also holds a
small BFCL category laid out as the evaluator writes it: the test file, ``possible_answer``
beside it, and a model's ``result`` and ``score`` files under one root. Cases are tallied
with the others by ``bench/bad_input.py``.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import unicodedata
import zipfile
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pytest
from conftest import ROOT
from fake_embedder import FakeEmbedder
from streamlit.testing.v1 import AppTest
from test_bad_input import (
    Case,
    full_disk,
    good_workspace,
    json_text,
    make_study,
    put,
    records,
    run_case,
    run_cli,
    snapshot,
    table,
    tally,
)
from test_pages_state import PAGES, small_workspace

from gemviz.commands.cli import main
from gemviz.data.errors import GemvizError
from gemviz.embed import EMBEDDERS
from gemviz.workspace.catalog import find_workspace
from gemviz.workspace.entries import SplitterEntry
from gemviz.workspace.models import add_model
from gemviz.workspace.rename import rename_entry
from gemviz.workspace.store import Workspace, create_workspace

N_BFCL = 12
CATEGORY = "BFCL_v4_multi_turn_base"
FAILED = (1, 4, 7)
CAFE = "caf\u00e9"  # NFC; its NFD spelling is "cafe\u0301"


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


def _lines(path: Path, recs: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs))
    return path


def score_lines(ids: list[str], failed=FAILED, spell=lambda s: s) -> list[dict]:
    """A score file's lines: the header, then one line per failed entry."""
    n = len(ids)
    head = {"accuracy": (n - len(failed)) / n, "correct_count": n - len(failed), "total_count": n}
    return [head] + [
        {
            "id": spell(ids[k]),
            "valid": False,
            "error": {"error_type": "multi_turn:instance_state_mismatch"},
            "model_result_raw": "[]",
        }
        for k in failed
    ]


def make_bfcl_study(d: Path) -> dict[str, Path]:
    """:func:`test_bad_input.make_study` plus a BFCL category under ``d/bfcl``."""
    p = make_study(d)
    root = d / "bfcl"
    ids = [f"multi_turn_base_{i}_{CAFE}" for i in range(N_BFCL)]
    test = [
        {
            "id": i,
            "question": [[{"role": "user", "content": f"book the trip number {k % 5}"}]],
            "involved_classes": ["TravelAPI"],
        }
        for k, i in enumerate(ids)
    ]
    p["btest"] = _lines(root / f"{CATEGORY}.json", test)
    p["answers"] = _lines(
        root / "possible_answer" / f"{CATEGORY}.json",
        [{"id": i, "ground_truth": [["book_flight()"]]} for i in ids],
    )
    p["result"] = _lines(
        root / "result" / "m" / "multi_turn" / f"{CATEGORY}_result.json",
        [{"id": i, "result": [[["book_flight()"]]]} for i in ids],
    )
    p["bscore"] = _lines(
        root / "score" / "m" / "multi_turn" / f"{CATEGORY}_score.json", score_lines(ids)
    )
    # A score file with no result file beside it: its passed entries come from the test file.
    p["lone"] = _lines(root / "lone" / f"{CATEGORY}_score.json", score_lines(ids, (2, 3)))
    p["blabeled"] = _lines(
        root / "labeled.json",
        [{**r, "label": "ID" if k < N_BFCL // 2 else "OOD"} for k, r in enumerate(test)],
    )
    p["bids"] = ids
    return p


# ----------------------------------------------------------------------------- builders


def runs(model=None, extra=(), cmd="runs", out=None, fmt="json"):
    """``runs`` (or ``table``) on the BFCL study; ``model`` gives the --model values."""

    def argv(d, p):
        models = model(d, p) if model else [f"m={p['bscore']}"]
        args = [cmd, "--split", f"a={p['blabeled']}", "--samples", str(p["btest"])]
        for m in models:
            args += ["--model", str(m)]
        if out is not None:
            args += ["--out", str(out(d, p))]
        return [*args, "--format", fmt, *extra]

    return argv


def bfcl_workspace(d: Path, p: dict, models=None, splitter="a") -> Path:
    """A workspace folder over the BFCL study, written by hand."""
    folder = d / "bws"
    folder.mkdir(exist_ok=True)
    spec = {
        "name": "b",
        "test": str(p["btest"]),
        "splitters": [{"name": splitter, "labeled": str(p["blabeled"])}],
        "models": models or [{"name": "m", "results": str(p["bscore"])}],
    }
    put(folder / "workspace.json", json.dumps(spec))
    return folder


def bfcl_report(out=None, zip_=None, slides=None, models=None, splitter="a"):
    def argv(d, p):
        folder = bfcl_workspace(d, p, models(d, p) if callable(models) else models, splitter)
        args = ["report", "--workspace", str(folder)]
        if out is not None or zip_ is not None:
            args += ["--out", str(out(d, p) if out else d / "r.html")]
        if zip_ is not None:
            args += ["--zip", str(zip_(d, p))]
        if slides is not None:
            args += ["--slides", str(slides(d, p))]
        return [*args, "--examples"]

    return argv


def link(key: str, name: str, how: str = "hard"):
    """A hard link (or symlink, or another spelling) to the study's file ``key``."""

    def make(d, p):
        target = d / name
        if how == "hard":
            os.link(p[key], target)
        elif how == "sym":
            target.symlink_to(p[key])
        else:  # "dots": the same file through a detour of the path
            return Path(str(p[key].parent / ".." / p[key].parent.name / p[key].name))
        return target

    return make


def at(key: str):
    return lambda d, p: p[key]


def rows_of(out: str) -> list[dict]:
    return json.loads(out)


def check_accuracy(id_mean: float, ood_mean: float):
    def check(d, p, out):
        row = rows_of(out)[0]
        assert row["id_mean"] == pytest.approx(id_mean), row
        assert row["ood_mean"] == pytest.approx(ood_mean), row

    return check


def check_runs(n: int):
    def check(d, p, out):
        assert len({r["run"] for r in rows_of(out)}) == n, out

    return check


def deck_text(path: Path) -> str:
    with zipfile.ZipFile(path) as zf:
        return "".join(
            zf.read(n).decode("utf-8") for n in zf.namelist() if n.endswith((".xml", ".rels"))
        )


def check_deck(shown: str, raw: str):
    def check(d, p, out):
        text = deck_text(d / "deck.pptx")
        assert shown in text, shown
        assert raw not in text

    return check


def with_score_file(lines_of):
    """The BFCL model's score file rewritten by ``lines_of(ids)`` (a list of lines or text)."""

    def make(d, p):
        content = lines_of(p["bids"])
        if isinstance(content, str):
            return put(p["bscore"], content)
        return _lines(p["bscore"], content)

    return make


def score_model(make):
    return lambda d, p: [f"m={make(d, p)}"]


def with_test(change):
    """The BFCL test file rewritten: ``change(records)`` (labels follow the new ids)."""

    def make(d, p):
        recs = [json.loads(line) for line in p["btest"].read_text().splitlines()]
        recs = change(recs)
        _lines(p["btest"], recs)
        _lines(
            p["blabeled"],
            [{**r, "label": "ID" if k < N_BFCL // 2 else "OOD"} for k, r in enumerate(recs)],
        )
        return p["bscore"]

    return make


def nfd_ids(recs):
    return [{**r, "id": nfd(r["id"])} for r in recs]


def ws_models(d, p) -> str:
    """A workspace in the cache: splitters a and café, models m1 and m2 (made with the library)."""
    ws = create_workspace("edits", test=p["test"])
    ws.add_splitter(SplitterEntry(name="a", labeled=str(p["a"])))
    ws.add_splitter(SplitterEntry(name=CAFE, labeled=str(p["b"])))
    add_model(ws, "m1", str(p["m1"]))
    add_model(ws, "m2", str(p["m2"]))
    return ws.slug


def ws_cmd(*args):
    def argv(d, p):
        slug = ws_models(d, p)
        return ["workspace", args[0], slug, *[a(d, p) if callable(a) else a for a in args[1:]]]

    return argv


def ws_cafe_model(*args):
    """:func:`ws_cmd` on a workspace whose model m2 is renamed to the NFC name ``café``."""

    def argv(d, p):
        slug = ws_models(d, p)
        ws = find_workspace(slug)
        rename_entry(Workspace.load(ws.folder), "model", "m2", CAFE)
        return ["workspace", args[0], slug, *[a(d, p) if callable(a) else a for a in args[1:]]]

    return argv


def check_json_escaped(d, p, out):
    assert "\\u001b" in out and "\x1b" not in out, out


def check_file_keeps(name: str, text: str):
    def check(d, p, out):
        assert text in (d / name).read_text(), "the name changed in the file"

    return check


def missing_with_esc(d, p):
    return ["table", "--split", "a=" + str(d / "no" / "x\x1b[31m.json"), "--model",
            f"m1={p['m1']}"]  # fmt: skip


def chat_questions(d, p):
    rows = [{"id": f"c{i}", "question": json.dumps([CHAT])} for i in range(8)]
    return ["score", "--method", "fake", "--train", str(put(d / "q.json", json_text(rows))),
            "--test", str(p["test"]), "--out-dir", str(d / "scores")]  # fmt: skip


def ws_list_with(name: str):
    def argv(d, p):
        create_workspace(name, test=p["test"])
        return ["workspace", "list"]

    return argv


def check_stdout_clean(shown: str):
    def check(d, p, out):
        assert shown in out, out
        assert not any(c in out for c in "\x1b\x07\x08\x01\x0b\x0c\x7f"), repr(out)

    return check


def npz_rows(rows: int, dim: int = 4, which: str = "test"):
    def make(d, p):
        path = d / f"{which}_{rows}x{dim}.npz"
        np.savez(
            path,
            ids=np.array([f"x{i}" for i in range(rows)], dtype=str),
            embeddings=np.zeros((rows, dim), dtype=np.float32),
        )
        return path

    return make


def neighbours(train=None, test=None, extra=()):
    def argv(d, p):
        tr = train(d, p) if train else p["train_emb"]
        te = test(d, p) if test else p["test_emb"]
        return ["neighbours", "--train-embeddings", str(tr), "--test-embeddings", str(te),
                "--no-cache", *extra]  # fmt: skip

    return argv


def scores_with(values: list, name: str, csv: bool = False):
    """The test score file with the first records' ``input_score`` replaced by ``values``."""

    def make(d, p):
        recs = records(p["test"])
        for r, v in zip(recs, values, strict=False):
            r["input_score"] = v
        if not csv:
            return put(d / name, json_text(recs))
        lines = ["id,task,image_path,input_score"] + [
            f"{r['id']},{r['task']},{r['image_path']},{r['input_score']}" for r in recs
        ]
        return put(d / name, "\n".join(lines))

    return make


def part(test, out="out.json", extra=()):
    def argv(d, p):
        return ["partition", "--train", str(p["train"]), "--test", str(test(d, p)),
                "--out", str(d / out), *extra]  # fmt: skip

    return argv


def check_partition_score(value: float):
    """The labels are those of the same file with the score written as the number ``value``
    (the output keeps each record's fields as given)."""

    def check(d, p, out):
        recs = records(p["test"])
        recs[0]["input_score"] = value
        numeric = put(d / "numeric.json", json_text(recs))
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            rc = main(["partition", "--train", str(p["train"]), "--test", str(numeric),
                       "--out", str(d / "numeric_out.json")])  # fmt: skip
        assert rc == 0
        got = [r["label"] for r in json.loads((d / "out.json").read_text())]
        assert got == [r["label"] for r in json.loads((d / "numeric_out.json").read_text())]

    return check


def csv_with_nul(at_offset_past: int):
    def make(d, p):
        recs = records(p["test"])
        lines = ["id,task,image_path,input_score"] + [
            f"{r['id']},{r['task']},{r['image_path']},{r['input_score']}" for r in recs
        ]
        text = "\n".join(lines)
        while len(text) < at_offset_past:
            text += "\n" + lines[-1].replace("te29", f"te{len(text)}")
        cut = text.rfind("task")
        return put(d / "nul.csv", text[:cut] + "ta\x00sk" + text[cut + 4 :])

    return make


def results_with_runs(values: list, name: str = "mruns.json"):
    """A result file holding the m1 rows once per ``run`` value."""

    def make(d, p):
        recs = records(p["m1"])
        rows = [{**r, "run": v} for v in values for r in recs]
        return [f"m1={put(d / name, json_text(rows))}"]

    return make


def plain_runs(model, extra=()):
    def argv(d, p):
        args = ["runs", "--split", f"a={p['a']}", "--format", "json"]
        for m in model(d, p):
            args += ["--model", m]
        return [*args, *extra]

    return argv


def json_dup_key(d, p):
    text = json_text(records(p["test"]))
    first = text.index('"input_score": ')
    end = text.index(",", first)
    text = text[:first] + '"input_score": 99.0, ' + text[first:end] + text[end:]
    return put(d / "dup.json", text)


def check_last_key_wins(d, p, out):
    read = json.loads((d / "out.json").read_text())[0]["input_score"]
    assert read == records(p["test"])[0]["input_score"] != 99.0, read


def annotations_tag(tag: str):
    """``workspace annotations`` on a workspace whose annotations.json holds ``tag``."""

    def argv(d, p):
        slug = ws_models(d, p)
        steps = {"te1": {"tags": [tag], "note": "", "updated": 0}}
        put(find_workspace(slug).folder / "annotations.json",
            json.dumps({"version": 1, "steps": steps}))  # fmt: skip
        return ["workspace", "annotations", slug]

    return argv


def chat_training(messages_of, name="chat.json"):
    """A training set of chats whose ``messages`` field is ``messages_of(i)``."""

    def argv(d, p):
        train = [{"id": f"c{i}", "messages": messages_of(i)} for i in range(8)]
        path = put(d / name, json_text(train))
        return ["score", "--method", "fake", "--train", str(path), "--test", str(p["test"]),
                "--out-dir", str(d / "scores")]  # fmt: skip

    return argv


CHAT = [{"role": "system", "content": "You are a helpful agent."}, {"role": "user", "content": "q"}]


def _ws_json_runs(runs_of):
    """A hand-written workspace whose model m1 names ``runs_of(d, p)`` as further runs."""

    def argv(d, p):
        folder = good_workspace(d, p)
        spec = json.loads((folder / "workspace.json").read_text())
        spec["models"][0]["runs"] = [str(x) for x in runs_of(d, p)]
        put(folder / "workspace.json", json.dumps(spec))
        return ["report", "--workspace", str(folder), "--out", str(d / "r.html"), "--examples"]

    return argv


# ----------------------------------------------------------------------------- the cases

OUT_BESIDE = [
    Case("beside-input", "runs --out on the result file beside a score file",
         runs(out=at("result")), words=("also an input", "_result.json")),
    Case("beside-input", "table --out on the result file beside a score file",
         runs(cmd="table", out=at("result")), words=("also an input",)),
    Case("beside-input", "table --out on a hard link to that result file",
         runs(cmd="table", out=link("result", "hl_result.json")), words=("also an input",)),
    Case("beside-input", "runs --out on a symlink to that result file",
         runs(out=link("result", "sl_result.json", "sym")), words=("also an input",)),
    Case("beside-input", "runs --out on the result file through a detour of its path",
         runs(out=link("result", "", "dots")), words=("also an input",)),
    Case("beside-input", "runs --out on possible_answer beside the test file",
         runs(out=at("answers")), words=("also an input", "possible_answer")),
    Case("beside-input", "runs --out on a hard link to possible_answer",
         runs(out=link("answers", "hl_answers.json")), words=("also an input",)),
    Case("beside-input", "report --zip on the result file of a workspace's score run",
         bfcl_report(zip_=at("result")), words=("--zip", "also an input")),
    Case("beside-input", "report --zip on possible_answer",
         bfcl_report(zip_=at("answers")), words=("--zip", "also an input")),
    Case("beside-input", "report --zip on a hard link to possible_answer",
         bfcl_report(zip_=link("answers", "hl.zip")), words=("--zip", "also an input")),
    Case("beside-input", "report --slides on a hard link to possible_answer",
         bfcl_report(slides=link("answers", "hl.pptx")), words=("--slides", "also an input")),
    Case("beside-input", "report --slides on a hard link to the result file",
         bfcl_report(slides=link("result", "res.pptx")), words=("--slides", "also an input")),
    Case("beside-input", "report --out on a hard link to the result file",
         bfcl_report(out=link("result", "res.html")), words=("--out", "also an input")),
    Case("beside-input", "table --out on the lone score file's test file",
         runs(cmd="table", model=lambda d, p: [f"m={p['lone']}"], out=at("btest")),
         words=("also an input",)),
    Case("beside-input", "runs --out o.json/ (a trailing slash names a folder)",
         runs(out=lambda d, p: f"{d / 'o.json'}/"), words=("ends in '/'",)),
    Case("beside-input", "table --out o.csv/",
         table(out=lambda d, p: f"{d / 'o.csv'}/"), words=("ends in '/'",)),
    Case("beside-input", "partition --out o.json/",
         lambda d, p: [*part(at("test"))(d, p)[:-1], f"{d / 'o.json'}/"],
         words=("ends in '/'",)),
    Case("beside-input", "runs --out beside the inputs, a new name: written",
         runs(out=lambda d, p: d / "runs_out.json"), expect="ok", outputs=("runs_out.json",)),
]  # fmt: skip

BFCL_READ = [
    Case("bfcl-read", "a header-only score file (every entry passed) is JSON lines",
         runs(model=score_model(with_score_file(lambda ids: score_lines(ids, ())))),
         expect="ok", check=check_accuracy(1.0, 1.0)),
    Case("bfcl-read", "a header-only score file without its line feed",
         runs(model=score_model(with_score_file(
             lambda ids: json.dumps(score_lines(ids, ())[0])))),
         expect="ok", check=check_accuracy(1.0, 1.0)),
    Case("bfcl-read", "a header-only score file with CRLF",
         runs(model=score_model(with_score_file(
             lambda ids: json.dumps(score_lines(ids, ())[0]) + "\r\n"))),
         expect="ok", check=check_accuracy(1.0, 1.0)),
    Case("bfcl-read", "a header-only score file, no result file beside it",
         runs(model=lambda d, p: [f"m={_lines(p['lone'], score_lines(p['bids'], ()))}"]),
         expect="ok", check=check_accuracy(1.0, 1.0)),
    Case("bfcl-read", "a header-only score file whose counts say some failed",
         runs(model=score_model(with_score_file(lambda ids: score_lines(ids, (1,))[:1]))),
         words=("correct_count",)),
    Case("bfcl-read", "a header object spread over lines is no score file",
         runs(model=score_model(with_score_file(
             lambda ids: json.dumps(score_lines(ids, ())[0], indent=2)))),
         words=("expected a JSON array",)),
    Case("bfcl-read", "failed ids in NFD, test ids in NFC",
         runs(model=score_model(with_score_file(lambda ids: score_lines(ids, spell=nfd)))),
         expect="ok", check=check_accuracy(4 / 6, 5 / 6)),
    Case("bfcl-read", "failed ids in NFD, no result file beside (ids from the test file)",
         runs(model=lambda d, p: [f"m={_lines(p['lone'], score_lines(p['bids'], spell=nfd))}"]),
         expect="ok", check=check_accuracy(4 / 6, 5 / 6)),
    Case("bfcl-read", "test and result ids in NFD, failed ids in NFC",
         runs(model=score_model(lambda d, p: (
             _lines(p["result"], [{"id": nfd(i), "result": []} for i in p["bids"]]),
             with_test(nfd_ids)(d, p))[1])),
         expect="ok", check=check_accuracy(4 / 6, 5 / 6)),
    Case("bfcl-read", "result file ids in NFD",
         runs(model=score_model(lambda d, p: (
             _lines(p["result"], [{"id": nfd(i), "result": []} for i in p["bids"]]),
             p["bscore"])[1])),
         expect="ok", check=check_accuracy(4 / 6, 5 / 6)),
    Case("bfcl-read", "an NFD id repeating its NFC spelling in the result file",
         runs(model=score_model(lambda d, p: (
             _lines(p["result"], [{"id": i, "result": []} for i in p["bids"]]
                    + [{"id": nfd(p["bids"][0]), "result": []}]),
             p["bscore"])[1])),
         words=("repeats",)),
    Case("bfcl-read", "a failed id listed in NFC and in NFD",
         runs(model=score_model(with_score_file(lambda ids: (
             lambda lines: [{**lines[0], "correct_count": 8, "accuracy": 8 / 12}, *lines[1:],
                            {**lines[1], "id": nfd(ids[1])}])(score_lines(ids))))),
         words=("listed twice",)),
    Case("bfcl-read", "a failed id of another test set",
         runs(model=score_model(with_score_file(
             lambda ids: score_lines([*ids[:-1], "simple_0"], (11,))))),
         words=("not in",)),
    Case("bfcl-read", "the score file in workspace add-model, ids in NFD",
         lambda d, p: ["workspace", "create", "wb", "--test", str(p["btest"]), "--split",
                       f"a={p['blabeled']}", "--model",
                       f"m={_lines(p['lone'], score_lines(p['bids'], spell=nfd))}"],
         expect="ok"),
]  # fmt: skip

SAME_RUN = [
    Case("run-identity", "runs: one run file as x and ./x",
         runs(model=lambda d, p: [f"m={p['bscore']}",
                                  f"m={os.path.relpath(p['bscore'])}"]),
         words=("same file",)),
    Case("run-identity", "runs: a run file and a hard link to it",
         runs(model=lambda d, p: [f"m={p['bscore']}", f"m={link('bscore', 'hl_score.json')(d, p)}"]),
         words=("same file",)),
    Case("run-identity", "runs: a run file and a symlink to it",
         runs(model=lambda d, p: [f"m={p['bscore']}",
                                  f"m={link('bscore', 'sl_score.json', 'sym')(d, p)}"]),
         words=("same file",)),
    Case("run-identity", "runs: a run file through a detour of its path",
         runs(model=lambda d, p: [f"m={p['bscore']}", f"m={link('bscore', '', 'dots')(d, p)}"]),
         words=("same file",)),
    Case("run-identity", "table: one result file twice for a model, as x and ./x",
         plain_runs(lambda d, p: [f"m1={p['m1']}", f"m1={p['m1'].parent}/./{p['m1'].name}"]),
         words=("same file",)),
    Case("run-identity", "table (not runs) with a hard-linked run",
         lambda d, p: ["table", "--split", f"a={p['a']}", "--model", f"m1={p['m1']}",
                       "--model", f"m1={link('m1', 'm1_link.json')(d, p)}"],
         words=("same file",)),
    Case("run-identity", "two copies of one file (same content, two files) are two runs",
         plain_runs(lambda d, p: [f"m1={p['m1']}",
                                  f"m1={put(d / 'm1_copy.json', p['m1'].read_bytes())}"]),
         expect="ok", check=check_runs(2)),
    Case("run-identity", "workspace.json naming the results file again as a run",
         _ws_json_runs(lambda d, p: [p["m1"]]), words=("same file as results",)),
    Case("run-identity", "workspace.json naming a hard link of the results as a run",
         _ws_json_runs(lambda d, p: [link("m1", "m1_hl.json")(d, p)]),
         words=("same file as results",)),
    Case("run-identity", "workspace.json naming one run twice",
         _ws_json_runs(lambda d, p: [p["m2"], p["m2"]]), words=("runs[1]", "runs[0]")),
    Case("run-identity", "workspace add-model: the first run again through ./",
         ws_cmd("add-model", "m1", lambda d, p: f"{p['m1'].parent}/./{p['m1'].name}"),
         words=("same file",)),
    Case("run-identity", "workspace add-model: two spellings of one new run",
         ws_cmd("add-model", "m3", lambda d, p: str(p["m2"]),
                lambda d, p: str(link("m2", "m2_hl.json")(d, p))),
         words=("same file",)),
    Case("run-identity", "workspace list beside a workspace repeating a run",
         lambda d, p: (_ws_json_runs(lambda d, p: [p["m1"]])(d, p),
                       ["workspace", "list"])[1], expect="ok"),
]  # fmt: skip

CONTROL = "\x01\x1f\x1b[31m\x07"


def names_case(name: str, what: str, kind: str = "model"):
    models = [{"name": name if kind == "model" else "m", "results": None}]

    def ms(d, p):
        return [{**models[0], "results": str(p["bscore"])}]

    return Case(
        "text-out", f"report --slides with a {kind} name holding {what}",
        bfcl_report(slides=lambda d, p: d / "deck.pptx", models=ms,
                    splitter=name if kind == "splitter" else "a"),
        expect="ok", outputs=("deck.pptx",),
        check=check_deck("\u2401" if "\x01" in name else "\u241b",
                         "\x01" if "\x01" in name else "\x1b"),
    )  # fmt: skip


TEXT_OUT = [
    names_case("m\x01one", "\\x01"),
    names_case("m\x1b[31mred", "an ANSI colour code"),
    names_case("m\x01\x02\x03\x0b\x0c\x1f", "\\x01-\\x1f"),
    names_case("s\x01plit", "\\x01", kind="splitter"),
    names_case("s\x1b[0m", "an ANSI reset", kind="splitter"),
    Case("text-out", "workspace list: a name with ANSI colour codes",
         ws_list_with("evil\x1b[31mred\x1b[0m"), expect="ok",
         check=check_stdout_clean("evil\u241b[31mred")),
    Case("text-out", "workspace list: a name with a bell and a backspace",
         ws_list_with("b\x07e\x08ll"), expect="ok", check=check_stdout_clean("b\u2407e\u2408ll")),
    Case("text-out", "workspace list --json: control characters escaped by JSON",
         lambda d, p: [*ws_list_with("j\x1bx")(d, p), "--json"], expect="ok",
         check=check_json_escaped),
    Case("text-out", "rename-model to a name with ESC: the output line shows it",
         ws_cmd("rename-model", "m1", "m\x1b[2J"), expect="ok",
         check=check_stdout_clean("m\u241b[2J")),
    Case("text-out", "workspace create with a name holding \\x01",
         lambda d, p: ["workspace", "create", "c\x01d", "--test", str(p["test"])], expect="ok",
         check=check_stdout_clean("created workspace")),
    Case("text-out", "table to the terminal with a model name holding ESC",
         lambda d, p: ["table", "--split", f"a={p['a']}", "--model", f"m\x1b[1m={p['m1']}"],
         expect="ok", check=check_stdout_clean("m\u241b[1m")),
    Case("text-out", "runs --format csv to the terminal with a splitter name holding \\x07",
         lambda d, p: ["runs", "--split", f"a\x07={p['a']}", "--model", f"m1={p['m1']}",
                       "--format", "csv"], expect="ok", check=check_stdout_clean("a\u2407")),
    Case("text-out", "table --out keeps the exact name in the file",
         lambda d, p: ["table", "--split", f"a={p['a']}", "--model", f"m\x1b={p['m1']}",
                       "--format", "csv", "--out", str(d / "t.csv")], expect="ok",
         outputs=("t.csv",), check=check_file_keeps("t.csv", "m\x1b")),
    Case("text-out", "an error naming a file whose name holds ESC",
         missing_with_esc, words=("x\u241b[31m.json",)),
    Case("text-out", "an option error quoting a value with ESC",
         lambda d, p: ["table", "--split", "noequals\x1b[31m", "--model", f"m1={p['m1']}"],
         words=("\\x1b[31m", "--split")),
]  # fmt: skip

NAMES = [
    Case("names", "rename-model to a name with an undecodable byte",
         ws_cmd("rename-model", "m1", "bad\udcffname"), words=("not UTF-8",)),
    Case("names", "rename-split to a name with an undecodable byte",
         ws_cmd("rename-split", "a", "\udce9t\udce9"), words=("not UTF-8",)),
    Case("names", "workspace create with an undecodable name",
         lambda d, p: ["workspace", "create", "x\udcff", "--test", str(p["test"])],
         words=("not UTF-8",)),
    Case("names", "workspace create with an undecodable splitter name",
         lambda d, p: ["workspace", "create", "w", "--test", str(p["test"]),
                       "--split", f"s\udcff={p['a']}"], words=("not UTF-8",)),
    Case("names", "workspace add-model with an undecodable name",
         ws_cmd("add-model", "n\udc80", lambda d, p: str(p["m2"])), words=("not UTF-8",)),
    Case("names", "rename-model to a name holding NUL",
         ws_cmd("rename-model", "m1", "a\x00b"), words=("NUL",)),
    Case("names", "rename-model to another model's name",
         ws_cmd("rename-model", "m1", "m2"), words=("already has a model",)),
    Case("names", "rename-model to the NFD spelling of another model's name",
         ws_cafe_model("rename-model", "m1", nfd(CAFE)), words=("another Unicode spelling",)),
    Case("names", "rename-split to the NFD spelling of an existing splitter",
         ws_cmd("rename-split", "a", nfd(CAFE)), words=("another Unicode spelling",)),
    Case("names", "add-model under the NFD spelling of an existing name",
         ws_cafe_model("add-model", nfd(CAFE), lambda d, p: str(p["m1"])),
         words=("another Unicode spelling",)),
    Case("names", "rename a splitter to its own name in another spelling",
         ws_cmd("rename-split", CAFE, nfd(CAFE)), expect="ok"),
    Case("names", "rename-model to blanks",
         ws_cmd("rename-model", "m1", "   "), words=("non-empty",)),
    Case("names", "rename-model to a plain new name",
         ws_cmd("rename-model", "m1", "m1-v2"), expect="ok"),
]  # fmt: skip

NEIGHBOURS = [
    Case("neighbours", "a test .npz of zero rows", neighbours(test=npz_rows(0)),
         words=("no rows",)),
    Case("neighbours", "a train .npz of zero rows", neighbours(train=npz_rows(0, which="train")),
         words=("no rows",)),
    Case("neighbours", "a zero-row .npz of zero columns", neighbours(test=npz_rows(0, 0)),
         words=("x",)),
    Case("neighbours", "--id on a zero-row test file", neighbours(test=npz_rows(0),
         extra=("--id", "x0")), words=("no rows",)),
    Case("neighbours", "a one-row test file", neighbours(test=npz_rows(1)), expect="ok"),
    Case("neighbours", "partition --method mahalanobis with zero-row test embeddings",
         lambda d, p: ["partition", "--train", str(p["train"]), "--test", str(p["test"]),
                       "--out", str(d / "o.json"), "--method", "mahalanobis",
                       "--train-embeddings", str(p["train_emb"]),
                       "--test-embeddings", str(npz_rows(0)(d, p))], words=("no rows",)),
]  # fmt: skip

LENIENT = [
    Case("lenient", "--margin -1", table("overlap", extra=["--margin", "-1"]),
         words=("--margin", "0 to 1")),
    Case("lenient", "--margin 1.5", table("overlap", extra=["--margin", "1.5"]),
         words=("--margin", "0 to 1")),
    Case("lenient", "--margin -0.0001 on compare", table("compare", extra=["--margin", "-1e-4"]),
         words=("--margin",)),
    Case("lenient", "--margin abc", table("overlap", extra=["--margin", "abc"]),
         words=("--margin",)),
    Case("lenient", "--margin 0 (never 'no detectable difference') is allowed",
         table("overlap", extra=["--margin", "0"]), expect="ok"),
    Case("lenient", "score --layer with the sentence method",
         lambda d, p: ["score", "--method", "sentence", "--layer", "3", "--train",
                       str(p["train"]), "--test", str(p["test"]), "--out-dir", str(d / "s")],
         words=("--layer", "hidden")),
    Case("lenient", "score --layer with the gem-input method",
         lambda d, p: ["score", "--method", "gem-input", "--layer", "0", "--train",
                       str(p["train"]), "--test", str(p["test"]), "--out-dir", str(d / "s")],
         words=("--layer",)),
    Case("lenient", "a NUL byte inside a CSV cell (past the first 4 KiB)",
         part(csv_with_nul(6000)), words=("NUL", "nul.csv")),
    Case("lenient", "a NUL byte inside a CSV cell (in the first 4 KiB)",
         part(csv_with_nul(0)), words=("zero byte", "nul.csv")),
    Case("lenient", "a duplicate JSON key: the last value is read, as JSON readers do",
         part(json_dup_key), expect="ok", outputs=("out.json",), check=check_last_key_wins),
    Case("lenient", "a score ' 10.5 ' with spaces (JSON text) reads as 10.5",
         part(scores_with([" 10.5 "], "sp.json")), expect="ok", outputs=("out.json",),
         check=check_partition_score(10.5)),
    Case("lenient", "a score ' 10.5 ' with spaces (CSV cell) reads as 10.5",
         part(scores_with([" 10.5 "], "sp.csv", csv=True)), expect="ok", outputs=("out.json",),
         check=check_partition_score(10.5)),
    Case("lenient", "a score '10 .5' is refused", part(scores_with(["10 .5"], "sp2.json")),
         words=("input_score",)),
    Case("lenient", "a tag holding ';' in annotations.json", annotations_tag("good; bad"),
         words=("';'", "annotations.json")),
    Case("lenient", "a tag holding a line break in annotations.json",
         annotations_tag("two\nlines"), words=("line break",)),
    Case("lenient", "a plain tag in annotations.json", annotations_tag("hard case"),
         expect="ok"),
    Case("lenient", "a run field that is an object",
         plain_runs(results_with_runs([{"seed": 1}, {"seed": 2}])), words=("run", "whole number")),
    Case("lenient", "a run field that is a list", plain_runs(results_with_runs([[1], [2]])),
         words=("run",)),
    Case("lenient", "run fields true/false", plain_runs(results_with_runs([True, False])),
         words=("run",)),
    Case("lenient", "run fields 1 and 1.0 are one run (so the ids repeat: refused)",
         plain_runs(results_with_runs([1, 1.0])), words=("repeats",)),
    Case("lenient", "run fields 1.0 and 2.0 are runs 1 and 2",
         plain_runs(results_with_runs([1.0, 2.0])), expect="ok", check=check_runs(2)),
    Case("lenient", "run fields 'a' and 'b' are two runs",
         plain_runs(results_with_runs(["a", "b"])), expect="ok", check=check_runs(2)),
    Case("lenient", "training chats whose messages field is JSON text",
         chat_training(lambda i: json.dumps(CHAT)), words=("messages", "JSON text")),
    Case("lenient", "training chats whose question field is JSON text", chat_questions,
         words=("question", "JSON text")),
    Case("lenient", "training chats whose messages are plain text are one user message",
         chat_training(lambda i: f"[draft] tell me about {i}"), expect="ok",
         outputs=("scores", "scores/train_inputscore.json", "scores/test_inputscore.json",
                  "scores/train_embeddings.npz", "scores/test_embeddings.npz")),
]  # fmt: skip


def npz_cafe(d, p):
    """Test embeddings whose ids are NFC text with an accent."""
    path = d / "cafe.npz"
    ids = np.array([f"{CAFE}-{i}" for i in range(5)], dtype=str)
    np.savez(path, ids=ids, embeddings=np.eye(5, 4, dtype=np.float32))
    return path


def check_neighbour_of(sid: str):
    def check(d, p, out):
        assert {r["id"] for r in rows_of(out)} == {sid}, out

    return check


NFC_IDS = [
    Case(
        "nfc-ids",
        "neighbours --id typed in NFD",
        neighbours(test=npz_cafe, extra=("--id", nfd(f"{CAFE}-2"))),
        expect="ok",
        check=check_neighbour_of(f"{CAFE}-2"),
    ),
    Case(
        "nfc-ids",
        "report --examples with an id typed in NFD",
        lambda d, p: [*bfcl_report(out=lambda d, p: d / "r.html")(d, p), nfd(p["bids"][3])],
        expect="ok",
        outputs=("r.html",),
    ),
    Case(
        "nfc-ids",
        "report --examples with an id that is not there",
        lambda d, p: [*bfcl_report(out=lambda d, p: d / "r.html")(d, p), "nope"],
        words=("--examples",),
    ),
]


CASES = OUT_BESIDE + BFCL_READ + SAME_RUN + TEXT_OUT + NAMES + NEIGHBOURS + LENIENT + NFC_IDS


@pytest.mark.parametrize("case", CASES, ids=[f"{c.cls}:{c.name}" for c in CASES])
def test_new_surface(case: Case, tmp_path, monkeypatch):
    monkeypatch.setitem(EMBEDDERS, "fake", FakeEmbedder)
    run_case(case, tmp_path, monkeypatch, study=make_bfcl_study)


# ----------------------------------------------------------------------------- the pages

PAGE_TIMEOUT = 60
ALL_PAGES = [*PAGES, "8_step.py"]
IMAGE = "![u](http://127.0.0.1:9/x.png)"
LONG = 5000


@pytest.fixture
def alpha(gem_public, tmp_path):
    return small_workspace(gem_public, tmp_path / "a", "Alpha study", n=120)


def _open(page: str, ws, **params: str) -> AppTest:
    """``page`` with the URL ``params``; the session had ``ws`` open (so no demo is built)."""
    at = AppTest.from_file(str(ROOT / "pages" / page), default_timeout=PAGE_TIMEOUT)
    at.session_state["workspace"] = ws.slug
    for key, value in params.items():
        at.query_params[key] = value
    return at.run()


def _said(at: AppTest) -> str:
    return "\n".join(e.value for kind in ("error", "warning", "info") for e in getattr(at, kind))


def _page_outcome(at: AppTest, words: tuple[str, ...]) -> str:
    if at.exception:
        return "traceback"
    return "error" if all(w in _said(at) for w in words) else "silent wrong result"


URL_CASES = [(page, "workspace") for page in ALL_PAGES] + [
    (page, key) for page in ("5_samples.py", "8_step.py") for key in ("sample", "select")
]


@pytest.mark.parametrize("page,key", URL_CASES, ids=[f"{p}?{k}=" for p, k in URL_CASES])
def test_a_very_long_url_parameter_is_a_message(alpha, page, key):
    params = {"workspace": alpha.slug, key: "w" * LONG}
    at = _open(page, alpha, **params)
    outcome = _page_outcome(at, (f"{LONG:,} characters", "ignored"))
    tally(Case("page-url", f"{page} with a {LONG:,}-character ?{key}=", lambda d, p: []), outcome)
    assert outcome == "error", (at.exception, _said(at))
    assert len(at.query_params.get(key, [""])[0]) < LONG or key == "workspace"


SELECTIONS = {
    "raw": IMAGE,
    "percent-encoded in a bar": f"bar:{quote(IMAGE, safe='')}:OOD",
    "percent-encoded in a region": f"region:ID:gem,{quote(IMAGE, safe='')}:gem",
    "an unknown label": f"bar:gem:{IMAGE}",
}


@pytest.mark.parametrize("how", list(SELECTIONS))
def test_a_selection_from_the_url_is_shown_as_text(alpha, how):
    at = _open("5_samples.py", alpha, workspace=alpha.slug, select=SELECTIONS[how])
    said = _said(at)
    outcome = "traceback" if at.exception else "error"
    # The message quotes the selection escaped: the image's markup never reaches the page.
    if "![u](" in said or "cannot be opened" not in said:
        outcome = "silent wrong result"
    tally(Case("page-url", f"?select= holding an image, {how}", lambda d, p: []), outcome)
    assert outcome == "error", said
    assert "\\!\\[u\\]" in said, said


# ----------------------------------------------------------------------------- lost edits


def test_two_workspace_objects_cannot_both_save(alpha):
    first, second = Workspace.load(alpha.folder), Workspace.load(alpha.folder)
    rename_entry(first, "model", "weak", "weak-v2")
    with pytest.raises(GemvizError, match="changed since you opened it; reload"):
        rename_entry(second, "model", "strong", "strong-v2")
    kept = Workspace.load(alpha.folder)
    assert [m.name for m in kept.models] == ["strong", "weak-v2"]
    # Reloaded, the second edit goes through and both are kept.
    rename_entry(Workspace.load(alpha.folder), "model", "strong", "strong-v2")
    assert [m.name for m in Workspace.load(alpha.folder).models] == ["strong-v2", "weak-v2"]
    tally(
        Case("lost-edit", "two Workspace objects each renaming a model", lambda d, p: []), "error"
    )


def test_a_workspace_json_without_a_revision_loads_and_saves(alpha):
    spec = json.loads(alpha.json_path.read_text())
    spec.pop("revision")
    alpha.json_path.write_text(json.dumps(spec))
    ws = Workspace.load(alpha.folder)
    assert ws.revision == 0
    ws.rename("Alpha renamed")
    assert json.loads(alpha.json_path.read_text())["revision"] == 1
    tally(Case("lost-edit", "a workspace.json of an older gemviz (no revision)", lambda d, p: []),
          "ok")  # fmt: skip


@pytest.mark.parametrize("value", ["1", -1, True, 1.5, [1]])
def test_a_bad_revision_is_a_broken_workspace(alpha, value):
    spec = json.loads(alpha.json_path.read_text())
    spec["revision"] = value
    alpha.json_path.write_text(json.dumps(spec))
    with pytest.raises(GemvizError, match="revision"):
        Workspace.load(alpha.folder)
    tally(Case("lost-edit", f"revision {value!r} in workspace.json", lambda d, p: []), "error")


def _cli(*argv: str) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        rc = main(list(argv))
    return rc, err.getvalue()


def test_the_page_refuses_an_edit_after_the_command_line_changed_the_workspace(alpha):
    at = AppTest.from_file(str(ROOT / "pages" / "1_workspace.py"), default_timeout=PAGE_TIMEOUT)
    at.query_params["workspace"] = alpha.slug
    at.run()
    at.selectbox(key="rename_entry").set_value(("model", "weak")).run()
    at.text_input(key="rename_entry_('model', 'weak')").set_value("weak-page")
    # Meanwhile, on the command line:
    assert _cli("workspace", "rename-model", alpha.slug, "strong", "strong-cli")[0] == 0
    at.button(key="rename_entry_button").click().run()
    assert not at.exception, [e.value for e in at.exception]
    refused = any("changed since you opened it; reload" in e.value for e in at.error)
    names = [m.name for m in Workspace.load(alpha.folder).models]
    outcome = "error" if refused and names == ["strong-cli", "weak"] else "silent wrong result"
    tally(Case("lost-edit", "the page renames after the command line did", lambda d, p: []),
          outcome)  # fmt: skip
    assert outcome == "error", ([e.value for e in at.error], names)
    # The page now shows the command line's edit; the same click goes through, both kept.
    at.selectbox(key="rename_entry").set_value(("model", "weak")).run()
    at.text_input(key="rename_entry_('model', 'weak')").set_value("weak-page")
    at.button(key="rename_entry_button").click().run()
    assert [m.name for m in Workspace.load(alpha.folder).models] == ["strong-cli", "weak-page"]


def test_the_command_line_refuses_nothing_the_page_saved(alpha):
    """The page saves first, then the command line (which reads afresh) edits: both kept."""
    at = AppTest.from_file(str(ROOT / "pages" / "1_workspace.py"), default_timeout=PAGE_TIMEOUT)
    at.query_params["workspace"] = alpha.slug
    at.run()
    at.selectbox(key="rename_entry").set_value(("model", "weak")).run()
    at.text_input(key="rename_entry_('model', 'weak')").set_value("weak-page")
    at.button(key="rename_entry_button").click().run()
    assert _cli("workspace", "rename-model", alpha.slug, "strong", "strong-cli")[0] == 0
    assert [m.name for m in Workspace.load(alpha.folder).models] == ["strong-cli", "weak-page"]
    # And the page's own next edit is not taken for a stale one.
    at.run()
    at.selectbox(key="rename_entry").set_value(("splitter", "gem")).run()
    at.text_input(key="rename_entry_('splitter', 'gem')").set_value("gem-2")
    at.button(key="rename_entry_button").click().run()
    assert not at.error, [e.value for e in at.error]
    assert next(s.name for s in Workspace.load(alpha.folder).splitters) == "gem-2"
    tally(Case("lost-edit", "the command line edits after the page did", lambda d, p: []), "ok")


def test_two_command_line_renames_at_once_both_kept(alpha):
    """Two processes rename two models at the same moment: the lock orders them."""
    env = {**os.environ}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "gemviz", "workspace", "rename-model", alpha.slug, old, new],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for old, new in (("weak", "weak-a"), ("strong", "strong-b"))
    ]
    codes = [p.wait(timeout=120) for p in procs]
    names = [m.name for m in Workspace.load(alpha.folder).models]
    outcome = "ok" if codes == [0, 0] and sorted(names) == ["strong-b", "weak-a"] else "lost"
    tally(Case("lost-edit", "two command-line renames at once", lambda d, p: []), outcome)
    assert outcome == "ok", (codes, names, [p.stderr.read() for p in procs])


# ----------------------------------------------------------------------------- disk full

DISK_FULL_OUTPUTS = {
    "table --out": lambda d, p, full: ["table", "--split", f"a={p['a']}", "--model",
                                       f"m1={p['m1']}", "--out", str(full / "t.md")],
    "runs --out": lambda d, p, full: runs(out=lambda d, p: full / "runs.json")(d, p),
    "report --slides": lambda d, p, full: bfcl_report(slides=lambda d, p: full / "deck.pptx")(
        d, p),
}  # fmt: skip


@pytest.mark.parametrize("command", list(DISK_FULL_OUTPUTS))
def test_disk_full_names_the_output(tmp_path, command):
    d = tmp_path / "d"
    d.mkdir()
    p = make_bfcl_study(d)
    full = tmp_path / "full"
    with full_disk(full) as how:
        argv = [str(a) for a in DISK_FULL_OUTPUTS[command](d, p, full)]
        before = snapshot(d)
        kind, rc, _out, err = run_cli(argv)
        left = [x.name for x in full.rglob("*") if x.is_file() and x.name != "filler"]
    lines = [ln for ln in err.strip().splitlines() if ln.strip() and not ln.startswith("[")]
    output = next(a for a in argv if a.startswith(str(full)))
    named = bool(lines) and output in lines[0] and "No space left" in lines[0]
    outcome = "error" if kind == "ran" and rc == 2 and len(lines) == 1 and named else kind
    if snapshot(d) != before or left:
        outcome = "inputs changed"
    tally(Case("fault", f"disk full ({how}): {command} names its output", lambda d, p: []), outcome)
    assert outcome == "error", (kind, rc, err[-1500:], left)
