"""The bad-input suite: every bad input a clear error, outputs never replace inputs, faults heal.

Each case of :data:`CASES` builds one bad input (or a documented odd-but-valid one) beside a
small valid study, runs the command line in-process (``gemviz.commands.cli.main``) under an alarm, and
checks how it ends:

- ``error``: exit 2 and exactly one stderr line ``gemviz CMD: error: ...`` naming the file;
- ``ok``: exit 0, the documented success (a warning line where one is documented);

and, always: no traceback, no hang, every file that was there before unchanged (sha256) and
no stray file left (only the documented outputs of an ``ok`` case may appear).

Set ``GEMVIZ_TALLY=path`` to append one JSON line per case (class, case, outcome) for the
table in the hardening report. Fault cases (damaged cache, concurrent runs, kill -9 and
resume, a broken workspace beside good ones) follow the table.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import time
import traceback
import unicodedata
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch  # noqa: TID253 (these tests run a model)
from fake_embedder import FakeEmbedder
from streamlit.testing.v1 import AppTest

import gemviz.data.write as gio
from gemviz.commands.cli import main
from gemviz.data.errors import GemvizError
from gemviz.data.read import read_records
from gemviz.data.write import write_records
from gemviz.embed import EMBEDDERS
from gemviz.embed.gem_input import image_size
from gemviz.figures.draw import load_screenshot
from gemviz.scoring import jobs
from gemviz.scoring import score as scoring
from gemviz.workspace import annotations
from gemviz.workspace.catalog import list_workspaces, scan_workspaces
from gemviz.workspace.entries import ModelEntry, SplitterEntry, workspaces_root
from gemviz.workspace.store import Workspace, create_workspace

ROOT = Path(__file__).resolve().parents[1]
HANG_S = 20
N_TRAIN, N_TEST = 40, 30
TYPES = ["press_back", "press_home", "press_enter"]


class HangError(Exception):
    """Raised by the alarm when a case runs longer than HANG_S."""


# ----------------------------------------------------------------------------- the study


def make_study(d: Path) -> dict[str, Path]:
    """A small valid study in ``d``: scores, labels, results, ground truth and predictions."""
    rng = np.random.default_rng(42)
    train = [
        {
            "id": f"tr{i}",
            "task": f"task {i % 9}",
            "image_path": f"tr{i}.png",
            "input_score": float(rng.normal(10, 1)),
        }
        for i in range(N_TRAIN)
    ]
    test = [
        {
            "id": f"te{i}",
            "task": f"task {i % 7}",
            "image_path": f"te{i}.png",
            "input_score": float(rng.normal(10.5, 1.5)),
            "action": {"type": TYPES[i % 3]},
        }
        for i in range(N_TEST)
    ]
    paths = {name: d / f"{name}.json" for name in ("train", "test", "a", "b", "m1", "m2", "pred")}
    write_records(paths["train"], train)
    write_records(paths["test"], test)
    for name, cut in (("a", 10.5), ("b", 11.0)):
        write_records(
            paths[name],
            [{**r, "label": "ID" if r["input_score"] <= cut else "OOD"} for r in test],
        )
    for name in ("m1", "m2"):
        hits = rng.random(N_TEST) < 0.6
        write_records(
            paths[name],
            [
                {"id": r["id"], "type_match": int(h or rng.random() < 0.5), "exact_match": int(h)}
                for r, h in zip(test, hits, strict=True)
            ],
        )
    write_records(
        paths["pred"],
        [
            {"id": r["id"], "prediction": {"type": TYPES[(i + i // 4) % 3]}}
            for i, r in enumerate(test)
        ],
    )
    emb = rng.normal(size=(N_TRAIN, 4)).astype(np.float32)
    np.savez(d / "train_emb.npz", ids=np.array([r["id"] for r in train]), embeddings=emb)
    paths["train_emb"] = d / "train_emb.npz"
    np.savez(
        d / "test_emb.npz",
        ids=np.array([r["id"] for r in test]),
        embeddings=rng.normal(size=(N_TEST, 4)).astype(np.float32),
    )
    paths["test_emb"] = d / "test_emb.npz"
    return paths


def records(path: Path) -> list[dict]:
    return json.loads(path.read_text())


def put(path: Path, data: bytes | str) -> Path:
    if isinstance(data, str):
        data = data.encode()
    path.write_bytes(data)
    return path


def json_text(recs) -> str:
    return json.dumps(recs)


# ----------------------------------------------------------------------------- bad files


def binary(d, p, name="junk.json"):
    return put(d / name, bytes(range(256)) * 8)


def utf16(d, p, name="u16.json"):
    return put(d / name, json_text(records(p["test"])).encode("utf-16"))


def latin1(d, p, name="l1.json", src="test"):
    recs = [dict(r, task="café " + r["task"]) for r in records(p[src])]
    return put(d / name, json.dumps(recs, ensure_ascii=False).encode("latin-1"))


def fifo(d, p, name="pipe.json"):
    os.mkfifo(d / name)
    return d / name


def devzero(d, p, name="zero.json"):
    (d / name).symlink_to("/dev/zero")
    return d / name


def unix_socket(d, p, name="sock.json"):
    sock = socket.socket(socket.AF_UNIX)
    here = os.getcwd()
    os.chdir(d)  # a relative name: socket paths are limited to about 100 bytes
    try:
        sock.bind(name)
    finally:
        os.chdir(here)
        sock.close()
    return d / name


def deep(d, p, name="deep.json"):
    return put(d / name, "[" * 50_000 + "]" * 50_000)


def with_score(value: str, name: str):
    def make(d, p):
        text = json_text(records(p["test"]))
        return put(d / name, text.replace('"input_score": ', f'"input_score": {value}, "x": ', 1))

    return make


def changed(src: str, name: str, fn: Callable[[list[dict]], list[dict]]):
    def make(d, p):
        return put(d / name, json_text(fn(records(p[src]))))

    return make


def first(change: dict):
    return lambda recs: [dict(recs[0], **change), *recs[1:]]


def npz(d, name, **arrays):
    np.savez(d / name, **arrays)
    return d / name


# ----------------------------------------------------------------------------- cases


@dataclass
class Case:
    """One row of the table: how to build the input, the command, and how it must end."""

    cls: str
    name: str
    argv: Callable[[Path, dict], list[str]]
    expect: str = "error"  # or "ok"
    words: tuple[str, ...] = ()  # must appear in the message (the file's name by default)
    outputs: tuple[str, ...] = ()  # files an "ok" case may create or change
    env: dict[str, str] = field(default_factory=dict)
    # For an "ok" case: asserts the answer is right (else the outcome is a silent wrong result).
    check: Callable[[Path, dict, str], None] | None = None


def part(test=None, train=None, out="out.json", extra=()):
    def argv(d, p):
        t = test(d, p) if callable(test) else (test or p["test"])
        r = train(d, p) if callable(train) else (train or p["train"])
        o = out(d, p) if callable(out) else d / out
        return ["partition", "--train", str(r), "--test", str(t), "--out", str(o), *extra]

    return argv


def table(cmd="table", split=None, model=None, out=None, extra=()):
    def argv(d, p):
        s = split(d, p) if split else p["a"]
        m = model(d, p) if model else p["m1"]
        args = [cmd, "--split", f"a={s}", "--model", f"m1={m}"]
        if cmd in ("overlap",):
            args += ["--split", f"b={p['b']}", "--n-perm", "20"]
        if cmd == "compare":
            args += ["--model", f"m2={p['m2']}"]
        if out is not None:
            args += ["--out", str(out(d, p))]
        return [*args, *extra]

    return argv


def match(gt=None, pred=None, out="res.json", extra=()):
    def argv(d, p):
        g = gt(d, p) if gt else p["test"]
        r = pred(d, p) if pred else p["pred"]
        o = out(d, p) if callable(out) else d / out
        return ["match", "--gt", str(g), "--pred", str(r), "--out", str(o), *extra]

    return argv


def score(train=None, test=None, out_dir=None, extra=()):
    def argv(d, p):
        r = train(d, p) if train else p["train"]
        t = test(d, p) if test else p["test"]
        o = out_dir(d, p) if out_dir else d / "scores"
        return ["score", "--train", str(r), "--test", str(t), "--out-dir", str(o), *extra]

    return argv


def detect(ood=None, extra=()):
    def argv(d, p):
        o = ood(d, p) if ood else p["test"]
        return [
            "detect",
            "--train",
            str(p["train"]),
            "--id",
            str(p["test"]),
            "--ood",
            str(o),
            *extra,
        ]

    return argv


def maha(test_emb):
    def argv(d, p):
        return [
            "partition",
            "--train",
            str(p["train"]),
            "--test",
            str(p["test"]),
            "--out",
            str(d / "out.json"),
            "--method",
            "mahalanobis",
            "--train-embeddings",
            str(p["train_emb"]),
            "--test-embeddings",
            str(test_emb(d, p)),
        ]

    return argv


def workspace_json(content: bytes | str | None):
    """A workspace folder whose workspace.json holds ``content`` (None: no file)."""

    def argv(d, p):
        folder = d / "ws"
        folder.mkdir(exist_ok=True)
        if content is not None:
            put(folder / "workspace.json", content)
        return ["report", "--workspace", str(folder), "--out", str(d / "r.html")]

    return argv


def good_workspace(d, p) -> Path:
    """A valid workspace folder (written by hand, so no cache is involved)."""
    folder = d / "gws"
    folder.mkdir(exist_ok=True)
    spec = {
        "name": "g",
        "test": str(p["test"]),
        "splitters": [{"name": "a", "labeled": str(p["a"])}, {"name": "b", "labeled": str(p["b"])}],
        "models": [{"name": "m1", "results": str(p["m1"])}],
    }
    put(folder / "workspace.json", json.dumps(spec))
    return folder


def ws_create(test=None, extra=()):
    """``workspace create`` with the study's files; ``extra`` may hold callables."""

    def argv(d, p):
        t = test(d, p) if test else p["test"]
        more = [x(d, p) if callable(x) else x for x in extra]
        return ["workspace", "create", "w", "--test", str(t), *map(str, more)]

    return argv


def ws_existing(*args):
    """A workspace made from the good files, then ``workspace ARGS`` on it."""

    def argv(d, p):
        ws = create_workspace("existing", test=p["test"])
        return [
            "workspace",
            *[str(a(d, p)) if callable(a) else str(a) for a in args[:1]],
            ws.slug,
            *[str(a(d, p)) if callable(a) else str(a) for a in args[1:]],
        ]

    return argv


def broken_beside_good(d, p):
    create_workspace("good", test=p["test"])
    (workspaces_root() / "bad").mkdir()
    put(workspaces_root() / "bad" / "workspace.json", "{oops")
    return ["workspace", "list"]


def report(out=None, zip_=None):
    def argv(d, p):
        folder = good_workspace(d, p)
        args = [
            "report",
            "--workspace",
            str(folder),
            "--out",
            str(out(d, p) if out else d / "r.html"),
        ]
        if zip_:
            args += ["--zip", str(zip_(d, p))]
        return [*args, "--examples"]

    return argv


def hardlink(src):
    def make(d, p):
        os.link(p[src], d / "linked.json")
        return d / "linked.json"

    return make


def symlink_to(src):
    def make(d, p):
        (d / "alias.json").symlink_to(p[src])
        return d / "alias.json"

    return make


def out_link(d, p):
    put(d / "target.json", "[]")
    (d / "outlink.json").symlink_to(d / "target.json")
    return d / "outlink.json"


def gt_some_unreadable(d, p):
    recs = records(p["test"])
    for r in recs[:3]:
        r["action"] = "%% not an action %%"
    return put(d / "gt_bad.json", json_text(recs))


def npz_objects(d, p):
    arr = np.empty(N_TEST, dtype=object)
    arr[:] = [{"x": 1}] * N_TEST
    np.savez(d / "obj.npz", ids=np.array([f"te{i}" for i in range(N_TEST)]), embeddings=arr)
    return d / "obj.npz"


def parquet_truncated(d, p):
    pd.DataFrame(records(p["test"])).drop(columns="action").to_parquet(d / "t.parquet")
    data = (d / "t.parquet").read_bytes()
    return put(d / "t.parquet", data[: len(data) // 2])


def csv_of(encoding: str, name: str):
    def make(d, p):
        lines = ["id,task,image_path,input_score"] + [
            f"{r['id']},café {r['task']},{r['image_path']},{r['input_score']}"
            for r in records(p["test"])
        ]
        return put(d / name, "\n".join(lines).encode(encoding))

    return make


CASES = [
    # -- encodings: one clear line naming the file, the offset, and "save as UTF-8"
    Case("encoding", "binary-json", part(test=binary), words=("junk.json", "binary")),
    Case("encoding", "utf16-json", part(test=utf16), words=("u16.json", "UTF-16", "UTF-8")),
    Case("encoding", "latin1-json", part(test=latin1), words=("l1.json", "offset", "UTF-8")),
    Case(
        "encoding", "latin1-csv", part(test=csv_of("latin-1", "l1.csv")), words=("l1.csv", "line 2")
    ),
    Case(
        "encoding", "utf16-csv", part(test=csv_of("utf-16", "u16.csv")), words=("u16.csv", "UTF-16")
    ),
    Case(
        "encoding",
        "binary-jsonl",
        part(train=lambda d, p: binary(d, p, "junk.jsonl")),
        words=("junk.jsonl",),
    ),
    Case(
        "encoding",
        "utf8-bom",
        part(test=lambda d, p: put(d / "bom.json", b"\xef\xbb\xbf" + (p["test"]).read_bytes())),
        expect="ok",
        outputs=("out.json",),
    ),
    Case(
        "encoding",
        "utf8-bom-csv",
        part(
            test=lambda d, p: put(
                d / "bom.csv",
                csv_of("utf-8", "x.csv")(d, p).read_bytes().replace(b"id,", b"\xef\xbb\xbfid,", 1),
            )
        ),
        expect="ok",
        outputs=("out.json", "x.csv"),
    ),
    Case(
        "encoding",
        "empty-file",
        part(test=lambda d, p: put(d / "empty.json", "")),
        words=("empty.json", "empty"),
    ),
    Case(
        "encoding",
        "blank-file",
        part(test=lambda d, p: put(d / "blank.jsonl", "\n  \n")),
        words=("blank.jsonl",),
    ),
    Case(
        "encoding",
        "utf16-results",
        table(model=lambda d, p: put(d / "m.json", (p["m1"]).read_text().encode("utf-16"))),
        words=("m.json", "UTF-16"),
    ),
    Case(
        "encoding",
        "latin1-labels-overlap",
        table("overlap", split=lambda d, p: latin1(d, p, "la.json", "a")),
        words=("la.json", "UTF-8"),
    ),
    Case("encoding", "binary-gt", match(gt=binary), words=("junk.json", "binary")),
    Case(
        "encoding",
        "latin1-template",
        score(extra=["--prompt-template", "TEMPLATE"]),
        words=("tpl.txt", "UTF-8"),
    ),
    # -- special files and paths: refused before reading, never a hang
    Case("special", "fifo-test", part(test=fifo), words=("pipe.json", "FIFO")),
    Case("special", "devzero-train", part(train=devzero), words=("zero.json", "device")),
    Case("special", "socket-ood", detect(ood=unix_socket), words=("sock.json", "socket")),
    Case("special", "folder-test", part(test=lambda d, p: d), words=("folder",)),
    Case(
        "special",
        "missing-test",
        part(test=lambda d, p: d / "nope.json"),
        words=("nope.json", "not found"),
    ),
    Case(
        "special",
        "broken-symlink",
        part(test=lambda d, p: (d / "dead.json").symlink_to(d / "gone.json") or d / "dead.json"),
        words=("dead.json", "broken"),
    ),
    Case(
        "special",
        "devnull-split",
        table(split=lambda d, p: Path("/dev/null")),
        words=("/dev/null", "device"),
    ),
    Case("special", "fifo-gt", match(gt=fifo), words=("pipe.json", "FIFO")),
    Case(
        "special",
        "fifo-samples",
        table("overlap", extra=["--samples", "PIPE"]),
        words=("pipe.json",),
    ),
    Case(
        "special", "fifo-compare-model", table("compare", model=fifo), words=("pipe.json", "FIFO")
    ),
    Case("special", "fifo-score-train", score(train=fifo), words=("pipe.json", "FIFO")),
    Case("special", "devzero-embeddings", maha(devzero), words=("zero.json", "device")),
    # -- JSON structure
    Case("json", "deep-array", part(test=deep), words=("deep.json", "nested")),
    Case(
        "json",
        "deep-jsonl",
        part(test=lambda d, p: deep(d, p, "deep.jsonl")),
        words=("deep.jsonl", "nested"),
    ),
    Case(
        "json",
        "truncated",
        part(test=lambda d, p: put(d / "cut.json", (p["test"]).read_text()[:500])),
        words=("cut.json", "not valid JSON"),
    ),
    Case("json", "scalar", part(test=lambda d, p: put(d / "num.json", "42")), words=("num.json",)),
    Case(
        "json",
        "not-objects",
        part(test=lambda d, p: put(d / "ints.json", "[1, 2, 3]")),
        words=("ints.json", "row 1"),
    ),
    Case(
        "json",
        "object-no-records",
        # One line holding one object is JSON lines of one record (a BFCL score header).
        part(test=lambda d, p: put(d / "obj.json", '{"a": 1}')),
        words=("obj.json", "row 1"),
    ),
    Case(
        "json",
        "bad-jsonl-line",
        part(test=lambda d, p: put(d / "x.jsonl", '{"id": 1}\n{oops\n')),
        words=("x.jsonl", "line 2"),
    ),
    Case(
        "json",
        "5000-digit-int",
        part(test=with_score("9" * 5000, "long.json")),
        words=("long.json", "digits"),
    ),
    Case(
        "json",
        "deep-workspace",
        workspace_json("[" * 50_000 + "]" * 50_000),
        words=("workspace.json",),
    ),
    # -- numbers
    Case(
        "number",
        "score-1e300",
        part(test=with_score("1e300", "big.json")),
        words=("big.json", "row 1", "input_score", "range"),
    ),
    Case(
        "number",
        "score-400-digits",
        part(test=with_score("9" * 400, "d400.json")),
        words=("d400.json", "400 digits"),
    ),
    Case(
        "number",
        "score-NaN",
        part(test=with_score("NaN", "nan.json")),
        words=("nan.json", "finite"),
    ),
    Case(
        "number",
        "score-Infinity",
        part(train=with_score("-Infinity", "inf.json")),
        words=("inf.json", "finite"),
    ),
    Case(
        "number",
        "score-text",
        part(test=changed("test", "txt.json", first({"input_score": "abc"}))),
        words=("txt.json", "row 1", "number"),
    ),
    Case(
        "number",
        "score-bool",
        part(test=changed("test", "bool.json", first({"input_score": True}))),
        words=("bool.json", "number"),
    ),
    Case(
        "number",
        "score-missing",
        part(test=changed("test", "miss.json", first({"input_score": None}))),
        words=("miss.json", "input_score"),
    ),
    Case(
        "number",
        "match-flag-2",
        table(model=changed("m1", "m.json", first({"type_match": 2}))),
        words=("m.json", "0/1"),
    ),
    # -- tables: CSV, parquet, suffix, ids
    Case(
        "table-file",
        "csv-open-quote",
        part(test=lambda d, p: put(d / "q.csv", 'id,task,input_score\n1,"a,2\n')),
        words=("q.csv", "CSV"),
    ),
    Case(
        "table-file",
        "junk-parquet",
        part(test=lambda d, p: put(d / "j.parquet", b"PAR1 junk")),
        words=("j.parquet", "parquet"),
    ),
    Case(
        "table-file",
        "truncated-parquet",
        part(test=parquet_truncated),
        words=("t.parquet", "parquet"),
    ),
    Case(
        "table-file",
        "unknown-suffix",
        part(test=lambda d, p: put(d / "t.txt", "[]")),
        words=("t.txt", "unknown file type"),
    ),
    Case(
        "table-file",
        "duplicate-ids",
        part(test=changed("test", "dup.json", lambda r: [r[0], *r])),
        words=("dup.json", "repeats"),
    ),
    Case(
        "table-file",
        "other-samples",
        table(model=changed("m1", "few.json", lambda r: r[:-2])),
        words=("few.json", "same samples"),
    ),
    # -- consistency: no silent answers
    Case(
        "consistency",
        "label-maybe",
        table(split=changed("a", "lab.json", first({"label": "maybe"}))),
        words=("lab.json", "label"),
    ),
    Case(
        "consistency",
        "two-spellings-disagree",
        table(model=changed("m1", "sp.json", first({"type match": 0, "type_match": 1}))),
        words=("sp.json", "row 1", "conflicting"),
    ),
    Case(
        "consistency",
        "two-spellings-agree",
        table(model=changed("m1", "sa.json", first({"type match": 1, "type_match": 1}))),
        expect="ok",
    ),
    Case(
        "consistency",
        "exact-without-type",
        table(model=changed("m1", "et.json", first({"type_match": 0, "exact_match": 1}))),
        expect="ok",
        words=("warning", "et.json", "exact_match is 1"),
    ),
    Case(
        "consistency",
        "missing-metric",
        table(
            model=changed("m1", "nm.json", lambda r: [{"id": x["id"], "type_match": 1} for x in r])
        ),
        words=("nm.json", "exact_match"),
    ),
    Case(
        "consistency",
        "pred-field-typo",
        match(extra=["--pred-field", "predicton"]),
        words=("pred.json", "predicton", "prediction"),
    ),
    Case(
        "consistency",
        "gt-field-typo",
        match(extra=["--gt-field", "acton"]),
        words=("test.json", "acton", "action"),
    ),
    Case(
        "consistency",
        "gt-some-unreadable",
        match(gt=gt_some_unreadable),
        expect="ok",
        words=("warning", "gt_bad.json", "3 ground-truth"),
        outputs=("res.json", "res.summary.json"),
    ),
    Case(
        "consistency",
        "gt-all-unreadable",
        match(gt=changed("test", "ga.json", lambda r: [dict(x, action="??") for x in r])),
        words=("ga.json", "could be read"),
    ),
    Case(
        "consistency",
        "pred-other-samples",
        match(pred=changed("pred", "pf.json", lambda r: r[1:])),
        words=("pf.json", "same samples"),
    ),
    Case(
        "consistency",
        "named-path-no-equals",
        lambda d, p: ["table", "--split", "a.json", "--model", f"m={p['m1']}"],
        words=("NAME=PATH",),
    ),
    Case(
        "consistency",
        "overlap-n-perm-0",
        table("overlap", extra=["--n-perm", "0"]),
        words=("--n-perm",),
    ),
    Case(
        "consistency",
        "nan-in-a-passed-through-field",
        match(gt=lambda d, p: put(d / "gn.json", with_nan_field(p))),
        expect="ok",
        outputs=("res.json", "res.summary.json"),
    ),
    # -- output safety: refused before the work; inputs never replaced
    Case(
        "output",
        "partition-out-is-test",
        part(out=lambda d, p: p["test"]),
        words=("test.json", "also an input"),
    ),
    Case(
        "output",
        "partition-out-hardlink",
        part(out=hardlink("test")),
        words=("linked.json", "also an input"),
    ),
    Case(
        "output",
        "partition-out-symlink-to-input",
        part(out=symlink_to("train")),
        words=("alias.json", "also an input"),
    ),
    Case(
        "output", "partition-out-symlink", part(out=out_link), expect="ok", outputs=("target.json",)
    ),
    Case(
        "output",
        "table-out-is-split",
        table(out=lambda d, p: p["a"]),
        words=("a.json", "also an input"),
    ),
    Case(
        "output",
        "overlap-out-is-model",
        table("overlap", out=lambda d, p: p["m1"]),
        words=("m1.json", "also an input"),
    ),
    Case(
        "output",
        "compare-out-is-model",
        table("compare", out=lambda d, p: p["m2"]),
        words=("m2.json", "also an input"),
    ),
    Case(
        "output",
        "match-out-is-gt",
        match(out=lambda d, p: p["test"]),
        words=("test.json", "also an input"),
    ),
    Case("output", "match-out-folder", match(out=lambda d, p: d), words=("folder",)),
    Case(
        "output",
        "table-out-devnull",
        table(out=lambda d, p: Path("/dev/null")),
        words=("/dev/null", "device"),
    ),
    Case("output", "table-out-fifo", table(out=fifo), words=("pipe.json", "FIFO")),
    Case(
        "output",
        "partition-out-unwritable",
        part(out=lambda d, p: Path("/proc/gemviz/out.json")),
        words=("/proc", "cannot write"),
    ),
    Case(
        "output",
        "partition-out-under-file",
        part(out=lambda d, p: p["a"] / "out.json"),
        words=("a.json", "is a file"),
    ),
    Case(
        "output",
        "report-zip-is-input",
        report(zip_=lambda d, p: p["m1"]),
        words=("m1.json", "also an input"),
    ),
    Case(
        "output",
        "report-out-is-folder",
        report(out=lambda d, p: (d / "dir.html").mkdir() or d / "dir.html"),
        words=("dir.html", "folder"),
    ),
    Case(
        "output",
        "score-test-in-out-dir",
        score(
            test=lambda d, p: put(d / "test_inputscore.json", (p["test"]).read_bytes()),
            out_dir=lambda d, p: d,
        ),
        words=("test_inputscore.json", "overwrite"),
    ),
    Case(
        "output",
        "score-out-dir-is-file",
        score(out_dir=lambda d, p: p["a"]),
        words=("a.json", "folder"),
    ),
    Case(
        "output",
        "out-name-300-bytes",
        part(out=lambda d, p: d / ("o" * 300 + ".json")),
        words=("ooooo", "255"),
    ),
    Case(
        "output",
        "out-path-6000-bytes",
        table(out=lambda d, p: Path(str(d) + "/" + "x/" * 3000 + "o.json")),
        words=("x/x/x",),
    ),
    Case(
        "output",
        "match-summary-name-too-long",
        match(out=lambda d, p: d / ("r" * 250 + ".json")),
        words=("summary.json", "255"),
    ),
    Case(
        "special",
        "input-name-300-bytes",
        part(test=lambda d, p: d / ("t" * 300 + ".json")),
        words=("ttttt",),
    ),
    # -- embeddings (.npz)
    Case(
        "npz",
        "junk-npz",
        maha(lambda d, p: put(d / "j.npz", "not numpy")),
        words=("j.npz", "expected a NumPy .npz"),
    ),
    Case("npz", "empty-npz", maha(lambda d, p: put(d / "e.npz", b"")), words=("e.npz", ".npz")),
    Case(
        "npz",
        "npz-missing-arrays",
        maha(lambda d, p: npz(d, "m.npz", x=np.zeros(3))),
        words=("m.npz", "missing"),
    ),
    Case("npz", "npz-object-array", maha(npz_objects), words=("obj.npz", "Python objects")),
    Case(
        "npz",
        "npz-truncated",
        maha(lambda d, p: put(d / "t.npz", (p["test_emb"]).read_bytes()[:200])),
        words=("t.npz",),
    ),
    Case(
        "npz",
        "npz-nan-row",
        maha(lambda d, p: _emb_variant(d, p, "nan.npz", "nan")),
        words=("nan.npz", "row 4", "NaN"),
    ),
    Case(
        "npz",
        "npz-strings",
        maha(lambda d, p: _emb_variant(d, p, "str.npz", "str")),
        words=("str.npz", "numbers"),
    ),
    Case(
        "npz",
        "npz-one-dimensional",
        maha(lambda d, p: _emb_variant(d, p, "flat.npz", "flat")),
        words=("flat.npz", "x d"),
    ),
    Case(
        "npz",
        "npy-not-npz",
        maha(lambda d, p: _emb_variant(d, p, "one.npy", "npy")),
        words=("one.npy", "single .npy"),
    ),
    Case(
        "special",
        "fifo-screenshot-pixel-match",
        match(gt=lambda d, p: _gt_images(d, p, "fifo"), extra=["--coords", "pixel"]),
        words=("gti.json", "row 1", "screenshot size"),
    ),
    Case(
        "special",
        "bomb-screenshot-pixel-match",
        match(gt=lambda d, p: _gt_images(d, p, "bomb"), extra=["--coords", "pixel"]),
        words=("gti.json", "row 1", "screenshot size"),
    ),
    # -- score options and environment
    Case(
        "score-option",
        "device-bogus",
        score(extra=["--device", "bogus"]),
        words=("--device", "bogus"),
    ),
    Case(
        "score-option",
        "device-cuda-99",
        score(extra=["--device", "cuda:99"]),
        words=("--device", "cuda"),
    ),
    Case(
        "score-option",
        "unwritable-cache",
        score(),
        env={"GEMVIZ_CACHE": "/proc/gemviz-cache"},
        words=("/proc/gemviz-cache", "GEMVIZ_CACHE"),
    ),
    Case("score-option", "binary-train", score(train=binary), words=("junk.json", "binary")),
    Case(
        "score-option",
        "fifo-template",
        score(extra=["--prompt-template", "PIPE"]),
        words=("pipe.json", "FIFO"),
    ),
    Case("score-option", "gem-seed-negative", part(extra=["--seed", "-1"]), words=("--seed",)),
    # -- workspaces and the report
    Case(
        "workspace",
        "report-json-list",
        workspace_json("[1, 2]"),
        words=("workspace.json", "JSON object"),
    ),
    Case(
        "workspace",
        "report-json-truncated",
        workspace_json('{"name": "x", '),
        words=("workspace.json",),
    ),
    Case(
        "workspace",
        "report-json-binary",
        workspace_json(bytes(range(256))),
        words=("workspace.json", "binary"),
    ),
    Case(
        "workspace",
        "report-json-bad-entries",
        workspace_json('{"splitters": [1]}'),
        words=("workspace.json",),
    ),
    Case("workspace", "report-no-workspace", workspace_json(None), words=("workspace.json",)),
    Case(
        "workspace",
        "report-out-not-html",
        report(out=lambda d, p: d / "r.txt"),
        words=("r.txt", ".html"),
    ),
    Case(
        "workspace",
        "report-missing-results",
        lambda d, p: _ws_missing_file(d, p),
        words=("gone.json", "not found"),
    ),
    Case("workspace", "create-binary-test", ws_create(test=binary), words=("junk.json", "binary")),
    Case("workspace", "create-fifo-test", ws_create(test=fifo), words=("pipe.json", "FIFO")),
    Case("workspace", "create-deep-test", ws_create(test=deep), words=("deep.json", "nested")),
    Case(
        "workspace",
        "create-utf16-split",
        ws_create(extra=["--split", lambda d, p: f"a={utf16(d, p)}"]),
        words=("u16.json", "UTF-16"),
    ),
    Case(
        "workspace",
        "create-conflicting-model",
        ws_create(
            extra=[
                "--model",
                lambda d, p: (
                    "m="
                    + str(changed("m1", "sp.json", first({"type match": 0, "type_match": 1}))(d, p))
                ),
            ]
        ),
        words=("sp.json", "conflicting"),
    ),
    Case(
        "workspace",
        "create-scores-1e300",
        ws_create(
            extra=[
                "--scores",
                lambda d, p: f"g={with_score('1e300', 'big.json')(d, p)},{p['test']}",
            ]
        ),
        words=("big.json", "range"),
    ),
    Case(
        "workspace",
        "create-junk-embeddings",
        ws_create(
            extra=[
                "--split",
                lambda d, p: f"a={p['a']}",
                "--embeddings",
                lambda d, p: f"a={put(d / 'j.npz', 'junk')},{p['test_emb']}",
            ]
        ),
        words=("j.npz", ".npz"),
    ),
    Case(
        "workspace",
        "add-model-latin1",
        ws_existing(
            "add-model",
            "m",
            lambda d, p: put(
                d / "ml.json",
                json.dumps(
                    [dict(r, note="café") for r in records(p["m1"])], ensure_ascii=False
                ).encode("latin-1"),
            ),
        ),
        words=("ml.json", "UTF-8"),
    ),
    Case(
        "workspace",
        "add-split-devzero",
        ws_existing("add-split", "s", "--labeled", devzero),
        words=("zero.json", "device"),
    ),
    Case("workspace", "list-with-a-broken-one", broken_beside_good, expect="ok", words=("BROKEN",)),
]


def with_nan_field(p) -> str:
    """The test records with a NaN in a field gemviz only passes through."""
    return json_text(records(p["test"])).replace('"task": ', '"extra": NaN, "task": ', 1)


def bomb_png(path: Path, side: int = 200_000) -> Path:
    """A PNG whose header claims side x side pixels (Pillow's decompression-bomb check)."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
        return struct.pack(">I", len(data)) + tag + data + crc

    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    body = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 10)) + chunk(b"IEND", b"")
    return put(path, b"\x89PNG\r\n\x1a\n" + body)


def _gt_images(d, p, how):
    """Ground truth whose first screenshot is a FIFO or a decompression bomb."""
    image = fifo(d, p, "shot.png") if how == "fifo" else bomb_png(d / "shot.png")
    recs = [dict(r, image_path=str(image)) for r in records(p["test"])]
    return put(d / "gti.json", json_text(recs))


def _emb_variant(d, p, name, how):
    data = np.load(p["test_emb"])
    ids, emb = data["ids"], data["embeddings"].copy()
    if how == "nan":
        emb[3, 0] = np.nan
    elif how == "str":
        emb = emb.astype(str)
    elif how == "flat":
        emb = emb[:, 0]
    else:
        with open(d / name, "wb") as fh:
            np.save(fh, emb)
        return d / name
    np.savez(d / name, ids=ids, embeddings=emb)
    return d / name


def _ws_missing_file(d, p):
    folder = good_workspace(d, p)
    spec = json.loads((folder / "workspace.json").read_text())
    spec["models"][0]["results"] = str(d / "gone.json")
    put(folder / "workspace.json", json.dumps(spec))
    return ["report", "--workspace", str(folder), "--out", str(d / "r.html"), "--examples"]


# ----------------------------------------------------------------------------- more classes
# Identity, hand-edited workspace files, options at their limits, lenient inputs decided.


def _no_id(recs: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k != "id"} for r in recs]


def _pair_study(d: Path, p: dict, rows: list[tuple[str, str, str, int]]) -> tuple[Path, Path]:
    """Labeled and result files without ids: the study's steps plus ``rows``
    (image_path, task, label, type_match); the result file lists them in reverse order."""
    base = [dict(r, image_path=f"base{i}.png") for i, r in enumerate(_no_id(records(p["a"])))]
    labeled = base + [
        {"image_path": i, "task": t, "label": lab, "input_score": 10.0} for i, t, lab, _ in rows
    ]
    results = [{"image_path": r["image_path"], "task": r["task"], "type_match": 1,
                "exact_match": 1} for r in base]  # fmt: skip
    results += [
        {"image_path": i, "task": t, "type_match": tm, "exact_match": 0} for i, t, _, tm in rows
    ][::-1]
    return put(d / "lab_noid.json", json_text(labeled)), put(
        d / "res_noid.json", json_text(results)
    )


def id_collision(rows, extra_label):
    """``table`` on steps whose ids once collided; the special ID rows all score 0."""

    def argv(d, p):
        lab, res = _pair_study(d, p, rows)
        return ["table", "--split", f"a={lab}", "--model", f"m={res}", "--cluster-by", "none",
                "--format", "json", "--out", str(d / "t.json")]  # fmt: skip

    def check(d, p, out):
        table_rows = json.loads((d / "t.json").read_text())
        row = next(r for r in table_rows if r["metric"] == "type_match")
        n_id = int(row["id_n"])
        # Every base ID step has type_match 1; the special ID steps have 0.
        assert abs(row["id_mean"] * n_id - (n_id - extra_label)) < 1e-9, row

    return argv, check


_PIPE_ROWS = [("a|b", "c", "ID", 0), ("a", "b|c", "OOD", 1)]
_HASH_ROWS = [("x", "t", "ID", 0), ("x", "t", "ID", 0), ("x", "t#2", "OOD", 1)]
_SLASH_ROWS = [("a\\", "|b", "ID", 0), ("a", "\\|b", "OOD", 1)]


def _nfc_test(d, p):
    recs = records(p["test"])
    for i, r in enumerate(recs):
        task = f"Öffne Café {i % 3}"
        r["task"] = task if i % 2 else unicodedata.normalize("NFD", task)
    return put(d / "nfd.json", json_text(recs))


def _labels_from(test_path: Path, d: Path, name: str) -> Path:
    recs = json.loads(test_path.read_text())
    return put(
        d / name, json_text([dict(r, label="ID" if i % 2 else "OOD") for i, r in enumerate(recs)])
    )


def nfc_clusters(d, p):
    test = _nfc_test(d, p)
    lab = _labels_from(test, d, "nfd_lab.json")
    return ["table", "--split", f"a={lab}", "--model", f"m1={p['m1']}", "--samples", str(test),
            "--cluster-by", "task", "--format", "json", "--out", str(d / "t.json")]  # fmt: skip


def _check_three_clusters(d, p, out):
    rows = json.loads((d / "t.json").read_text())
    assert {int(r["id_clusters"]) + 0 for r in rows} <= {3} and rows, rows


def ws_two_names(first: str, second: str, kind: str = "split"):
    """``workspace create`` with two splitters (or mapped models) whose names once shared a file."""

    def argv(d, p):
        if kind == "split":
            return ["workspace", "create", "w", "--test", str(p["test"]),
                    "--split", f"{first}={p['a']}", "--split", f"{second}={p['b']}"]  # fmt: skip
        m1 = put(
            d / "mm1.json",
            json_text(
                [
                    {"id": r["id"], "tm": r["type_match"], "em": r["exact_match"]}
                    for r in records(p["m1"])
                ]
            ),
        )
        m2 = put(
            d / "mm2.json",
            json_text(
                [{"id": r["id"], "tm": 1 - r["exact_match"], "em": 0} for r in records(p["m1"])]
            ),
        )
        return ["workspace", "create", "w", "--test", str(p["test"]), "--split", f"a={p['a']}",
                "--model", f"{first}={m1}", "--model", f"{second}={m2}",
                "--type-field", "tm", "--exact-field", "em"]  # fmt: skip

    def check(d, p, out):
        (ws,) = list_workspaces()
        if kind == "split":
            paths = {s.name: s.labeled for s in ws.splitters}
            assert len(set(paths.values())) == 2, paths
            want = {first: p["a"], second: p["b"]}
            for name, path in paths.items():
                assert [r["label"] for r in read_records(path)] == [
                    r["label"] for r in records(want[name])
                ]
        else:
            paths = {m.name: m.results for m in ws.models}
            assert len(set(paths.values())) == 2, paths
            assert {r["exact_match"] for r in read_records(paths[second])} == {0}

    return argv, check


def _ws_folder_with(d: Path, p: dict, spec_change: dict | str) -> Path:
    folder = d / "hand"
    folder.mkdir(exist_ok=True)
    spec = {"name": "hand", "test": str(p["test"]),
            "splitters": [{"name": "a", "labeled": str(p["a"])}],
            "models": [{"name": "m1", "results": str(p["m1"])}]}  # fmt: skip
    if isinstance(spec_change, str):
        text = spec_change
    else:
        spec.update(spec_change)
        text = json.dumps(spec)
    put(folder / "workspace.json", text)
    return folder


def hand_edit(change):
    def argv(d, p):
        folder = _ws_folder_with(d, p, change)
        return ["report", "--workspace", str(folder), "--out", str(d / "r.html")]

    return argv


def list_beside_good(change):
    def argv(d, p):
        create_workspace("good", test=p["test"])
        bad = workspaces_root() / "bad"
        bad.mkdir(parents=True)
        put(bad / "workspace.json", change if isinstance(change, str) else json.dumps(change))
        return ["workspace", "list"]

    return argv


def annotations_with(steps: str):
    def argv(d, p):
        ws = create_workspace("noted", test=p["test"])
        put(ws.folder / "annotations.json", '{"version": 1, "steps": ' + steps + "}")
        return ["workspace", "annotations", ws.slug]

    return argv


def report_writes_over(target: str, option: str):
    """``report`` whose --out or --zip is a file the report reads (notes or a screenshot)."""

    def argv(d, p):
        folder = good_workspace(d, p)
        if target == "annotations":
            put(
                folder / "annotations.json",
                '{"version": 1, "steps": {"te1": {"tags": ["GT wrong"], "note": "n", "updated": 1}}}',
            )
            victim = folder / "annotations.json"
        else:
            shot = bomb_png(d / "te1.png", side=8)
            spec = json.loads((folder / "workspace.json").read_text())
            recs = records(p["test"])
            recs[1]["image_path"] = str(shot)
            spec["test"] = str(put(d / "test_shot.json", json_text(recs)))
            spec["splitters"] = [
                {
                    "name": "a",
                    "labeled": str(
                        put(
                            d / "a_shot.json",
                            json_text(
                                [
                                    dict(r, label="ID" if i % 2 else "OOD")
                                    for i, r in enumerate(recs)
                                ]
                            ),
                        )
                    ),
                }
            ]
            put(folder / "workspace.json", json.dumps(spec))
            victim = shot
        out = (
            ["--out", str(victim)]
            if (option == "--out" and target != "annotations") or option == "--out"
            else ["--out", str(d / "r.html")]
        )
        if option == "--out":
            out = ["--out", str(victim.with_suffix(".html"))] if victim.suffix != ".html" else out
        args = ["report", "--workspace", str(folder), "--examples", "te1"]
        if option == "--zip":
            return [*args, "--out", str(d / "r.html"), "--zip", str(victim)]
        return [*args, "--out", str(victim)]

    return argv


def score_progress_over(name: str):
    def argv(d, p):
        outs = d / "scores"
        outs.mkdir()
        target = put(outs / name, "[]") if name.endswith(".json") else outs / name
        return ["score", "--train", str(p["train"]), "--test", str(p["test"]),
                "--out-dir", str(outs), "--progress-file", str(target)]  # fmt: skip

    return argv


def _emb_of(d, p, name, emb):
    data = np.load(p["test_emb"])
    np.savez(d / name, ids=data["ids"], embeddings=emb)
    return d / name


def huge_header_npz(d, p):
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000, 1000000), }"
    header = header + " " * (118 - len(header)) + "\n"
    body = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + b"\0" * 16
    ids = io.BytesIO()
    np.save(ids, np.array([f"te{i}" for i in range(N_TEST)]))
    with zipfile.ZipFile(d / "huge.npz", "w") as z:
        z.writestr("embeddings.npy", body)
        z.writestr("ids.npy", ids.getvalue())
    return d / "huge.npz"


def gt_size(width):
    def make(d, p):
        recs = [dict(r, width=1000, height=2000) for r in records(p["test"])]
        recs[2]["width"] = width
        text = json_text(recs)
        return put(d / "gts.json", text.replace('"width": "INF"', '"width": Infinity'))

    return make


def stab(extra=()):
    def argv(d, p):
        return ["stability", "--train", str(p["train"]), "--test", str(p["test"]),
                "--out", str(d / "s.json"), "--resamples", "5", *extra]  # fmt: skip

    return argv


def csv_dup(d, p):
    lines = ["id,task,image_path,input_score,input_score"] + [
        f"{r['id']},{r['task']},{r['image_path']},{r['input_score']},0" for r in records(p["test"])
    ]
    return put(d / "dup.csv", "\n".join(lines))


def _lone_surrogate(field_name: str, name: str):
    def make(d, p):
        text = json_text(records(p["test"]))
        key = f'"{field_name}": "'
        return put(d / name, text.replace(key, key + "\\ud800", 1))

    return make


def _lone_surrogate_labels(d, p):
    text = json_text(records(p["a"]))
    return put(d / "sur_a.json", text.replace('"id": "te3"', '"id": "te3\\udc00"', 1))


CASES += [
    # -- identity: ids, names and outputs that once collided (the answer is checked)
    Case(
        "identity",
        "id-pipe-in-path-vs-task",
        id_collision(_PIPE_ROWS, 1)[0],
        expect="ok",
        outputs=("t.json",),
        check=id_collision(_PIPE_ROWS, 1)[1],
    ),
    Case(
        "identity",
        "id-task-ending-in-#2",
        id_collision(_HASH_ROWS, 2)[0],
        expect="ok",
        outputs=("t.json",),
        check=id_collision(_HASH_ROWS, 2)[1],
    ),
    Case(
        "identity",
        "id-backslash-before-pipe",
        id_collision(_SLASH_ROWS, 1)[0],
        expect="ok",
        outputs=("t.json",),
        check=id_collision(_SLASH_ROWS, 1)[1],
    ),
    Case(
        "identity",
        "task-in-NFC-and-NFD-one-cluster",
        nfc_clusters,
        expect="ok",
        outputs=("t.json", "nfd.json", "nfd_lab.json"),
        check=_check_three_clusters,
    ),
    Case(
        "identity",
        "splitters-G-and-g",
        ws_two_names("G", "g")[0],
        expect="ok",
        check=ws_two_names("G", "g")[1],
    ),
    Case(
        "identity",
        "splitters-日本-and-中文",
        ws_two_names("日本", "中文")[0],
        expect="ok",
        check=ws_two_names("日本", "中文")[1],
    ),
    Case(
        "identity",
        "models-SFT-and-sft",
        ws_two_names("SFT", "sft", "model")[0],
        expect="ok",
        outputs=("mm1.json", "mm2.json"),
        check=ws_two_names("SFT", "sft", "model")[1],
    ),
    Case(
        "identity",
        "progress-file-is-an-output",
        score_progress_over("test_inputscore.json"),
        words=("--progress-file", "also an input"),
    ),
    Case(
        "identity",
        "progress-file-is-the-train-file",
        lambda d, p: [
            "score",
            "--train",
            str(p["train"]),
            "--test",
            str(p["test"]),
            "--out-dir",
            str(d / "s"),
            "--progress-file",
            str(p["train"]),
        ],
        words=("--progress-file", "train.json"),
    ),
    Case(
        "identity",
        "report-zip-over-annotations",
        report_writes_over("annotations", "--zip"),
        words=("--zip", "annotations.json"),
    ),
    Case(
        "identity",
        "report-zip-over-a-screenshot",
        report_writes_over("shot", "--zip"),
        words=("--zip", "te1.png"),
    ),
    Case(
        "identity",
        "report-out-over-a-screenshot",
        report_writes_over("shot", "--out"),
        words=("te1",),
    ),
    # -- hand-edited workspace.json: one line naming the file and the field
    Case(
        "workspace-json",
        "test-is-123",
        hand_edit({"test": 123}),
        words=("workspace.json", "'test'"),
    ),
    Case(
        "workspace-json",
        "labeled-is-5",
        hand_edit({"splitters": [{"name": "a", "labeled": 5}]}),
        words=("workspace.json", "splitters[0].labeled"),
    ),
    Case(
        "workspace-json",
        "results-is-a-list",
        hand_edit({"models": [{"name": "m", "results": ["x.json"]}]}),
        words=("workspace.json", "models[0].results"),
    ),
    Case(
        "workspace-json",
        "created-400-digits",
        hand_edit('{"name": "x", "created": ' + "9" * 400 + "}"),
        words=("workspace.json", "created"),
    ),
    Case(
        "workspace-json",
        "created-NaN",
        hand_edit('{"name": "x", "created": NaN}'),
        words=("workspace.json", "created"),
    ),
    Case(
        "workspace-json",
        "params-is-text",
        hand_edit({"splitters": [{"name": "a", "labeled": "x.json", "params": "str"}]}),
        words=("workspace.json", "params"),
    ),
    Case(
        "workspace-json",
        "params-value-is-a-list",
        hand_edit({"splitters": [{"name": "a", "labeled": "x.json", "params": {"sigma": [2]}}]}),
        words=("workspace.json", "sigma"),
    ),
    Case(
        "workspace-json",
        "two-splitters-one-name",
        hand_edit(
            {"splitters": [{"name": "a", "labeled": "x.json"}, {"name": "a", "labeled": "y.json"}]}
        ),
        words=("workspace.json", "two entries"),
    ),
    Case(
        "workspace-json",
        "two-models-one-name",
        hand_edit(
            {"models": [{"name": "m", "results": "x.json"}, {"name": "m", "results": "y.json"}]}
        ),
        words=("workspace.json", "two entries"),
    ),
    Case(
        "workspace-json",
        "lone-surrogate-name",
        hand_edit(r'{"name": "\ud800"}'),
        words=("workspace.json", "surrogate"),
    ),
    Case(
        "workspace-json",
        "NUL-in-a-path",
        hand_edit({"test": "a\u0000b.json"}),
        words=("workspace.json", "NUL"),
    ),
    Case(
        "workspace-json",
        "demo-is-text",
        hand_edit({"demo": "yes"}),
        words=("workspace.json", "demo"),
    ),
    Case(
        "workspace-json",
        "unknown-entry-field",
        hand_edit({"splitters": [{"name": "a", "labeled": "x.json", "colour": "red"}]}),
        words=("workspace.json", "colour"),
    ),
    Case(
        "workspace-json",
        "splitter-without-name",
        hand_edit({"splitters": [{"labeled": "x.json"}]}),
        words=("workspace.json", "name"),
    ),
    Case(
        "workspace-json",
        "list-beside-test-123",
        list_beside_good({"name": "b", "test": 123}),
        expect="ok",
        words=("BROKEN", "'test'"),
    ),
    Case(
        "workspace-json",
        "list-beside-created-400-digits",
        list_beside_good('{"name": "b", "created": ' + "9" * 400 + "}"),
        expect="ok",
        words=("BROKEN", "created"),
    ),
    Case(
        "workspace-json",
        "list-beside-results-list",
        list_beside_good({"name": "b", "models": [{"name": "m", "results": []}]}),
        expect="ok",
        words=("BROKEN",),
    ),
    # -- annotations.json checked field by field
    Case(
        "annotations",
        "updated-1e30",
        annotations_with('{"te1": {"tags": [], "note": "x", "updated": 1e30}}'),
        words=("annotations.json", "updated"),
    ),
    Case(
        "annotations",
        "updated-NaN",
        annotations_with('{"te1": {"tags": [], "note": "x", "updated": NaN}}'),
        words=("annotations.json", "updated"),
    ),
    Case(
        "annotations",
        "updated-400-digits",
        annotations_with('{"te1": {"tags": [], "note": "x", "updated": ' + "9" * 400 + "}}"),
        words=("annotations.json", "updated"),
    ),
    Case(
        "annotations",
        "tags-is-text",
        annotations_with('{"te1": {"tags": "GT wrong"}}'),
        words=("annotations.json", "tags"),
    ),
    Case(
        "annotations",
        "note-is-an-object",
        annotations_with('{"te1": {"tags": [], "note": {"a": 1}}}'),
        words=("annotations.json", "note"),
    ),
    Case("annotations", "steps-is-a-list", annotations_with("[1, 2]"), words=("annotations.json",)),
    # -- once tracebacks: now one line
    Case(
        "traceback",
        "lone-surrogate-in-task",
        part(test=_lone_surrogate("task", "sur.json")),
        words=("sur.json", "row 1", "surrogate"),
    ),
    Case(
        "traceback",
        "lone-surrogate-in-id",
        table(split=lambda d, p: _lone_surrogate_labels(d, p)),
        words=("sur_a.json", "surrogate"),
    ),
    Case(
        "traceback", "field-named-_gemviz_id", table(extra=["--samples", "GEMVIZID"]), expect="ok"
    ),
    Case(
        "traceback",
        "resample-seed-negative",
        stab(["--resample-seed", "-1"]),
        words=("--resample-seed",),
    ),
    Case("traceback", "seed-2**40", part(extra=["--seed", str(2**40)]), words=("--seed",)),
    Case(
        "traceback",
        "stability-1e9-resamples",
        lambda d, p: [*stab()(d, p)[:-2], "--resamples", "1000000000"],
        words=("resamples", "too many"),
    ),
    Case(
        "traceback",
        "npz-header-claims-1e9-x-1e6",
        maha(huge_header_npz),
        words=("huge.npz", "claims"),
    ),
    Case(
        "traceback",
        "parquet-out-mixed-int-and-str",
        part(
            test=changed(
                "test",
                "mix.json",
                lambda r: [dict(x, mix=i if i % 2 else "s") for i, x in enumerate(r)],
            ),
            out="o.parquet",
        ),
        words=("o.parquet", "mix"),
    ),
    Case(
        "traceback",
        "pixel-width-Infinity",
        match(gt=gt_size("INF"), extra=["--coords", "pixel"]),
        words=("gts.json", "row 3", "width"),
    ),
    Case(
        "traceback",
        "pixel-width-0",
        match(gt=gt_size(0), extra=["--coords", "pixel"]),
        words=("gts.json", "row 3", "width"),
    ),
    Case(
        "traceback",
        "pixel-width-minus-100",
        match(gt=gt_size(-100), extra=["--coords", "pixel"]),
        words=("gts.json", "row 3", "width"),
    ),
    Case(
        "traceback",
        "pixel-width-text",
        match(gt=gt_size("wide"), extra=["--coords", "pixel"]),
        words=("gts.json", "row 3", "width"),
    ),
    # -- unclear errors: now one line, naming what is wrong
    Case(
        "unclear",
        "file-name-with-a-newline",
        part(test=lambda d, p: d / "a\nb.json"),
        words=("a\\nb.json", "not found"),
    ),
    Case(
        "unclear",
        "embeddings-1e39",
        maha(lambda d, p: _emb_of(d, p, "big.npz", np.full((N_TEST, 4), 1e39))),
        words=("big.npz", "infinite"),
    ),
    Case(
        "unclear",
        "add-model-type-field-nope",
        ws_existing("add-model", "m", lambda d, p: p["m1"], "--type-field", "nope"),
        words=("nope",),
    ),
    Case(
        "unclear",
        "report-examples-nope",
        lambda d, p: [*report()(d, p), "nope"],
        words=("--examples", "nope"),
    ),
    # -- lenient inputs decided: refused, or one warning line
    Case(
        "lenient",
        "complex-embeddings",
        maha(lambda d, p: _emb_of(d, p, "cx.npz", np.ones((N_TEST, 4), complex))),
        words=("cx.npz", "real numbers"),
    ),
    Case(
        "lenient",
        "timedelta-embeddings",
        maha(lambda d, p: _emb_of(d, p, "td.npz", np.ones((N_TEST, 4), "m8[s]"))),
        words=("td.npz", "real numbers"),
    ),
    Case(
        "lenient",
        "sigma-with-method-percentile",
        part(extra=["--method", "percentile", "--sigma", "3"]),
        words=("--sigma", "percentile"),
    ),
    Case(
        "lenient",
        "percentile-with-method-gem",
        part(extra=["--percentile", "90"]),
        words=("--percentile", "gem"),
    ),
    Case(
        "lenient",
        "margin-nan",
        table("overlap", extra=["--margin", "nan"]),
        words=("--margin", "finite"),
    ),
    Case("lenient", "sigma-inf", part(extra=["--sigma", "inf"]), words=("--sigma", "finite")),
    Case(
        "lenient",
        "image-root-nowhere",
        ws_create(extra=["--image-root", lambda d, p: d / "nowhere"]),
        words=("nowhere", "--image-root"),
    ),
    Case(
        "lenient",
        "arabic-indic-digit-score",
        part(test=changed("test", "ar.json", first({"input_score": "١٢"}))),
        words=("ar.json", "row 1", "ASCII"),
    ),
    Case(
        "lenient",
        "underscored-score-1_000",
        part(test=changed("test", "us.json", first({"input_score": "1_000"}))),
        words=("us.json", "row 1", "ASCII"),
    ),
    Case(
        "lenient",
        "dotless-i-label-ıd",
        table(split=changed("a", "dl.json", first({"label": "ıd"}))),
        words=("dl.json", "row 1", "label"),
    ),
    Case(
        "lenient",
        "duplicate-csv-columns",
        part(test=csv_dup),
        words=("dup.csv", "input_score", "twice"),
    ),
    Case(
        "lenient",
        "workspace-twin-splitter-names",
        hand_edit(
            {"splitters": [{"name": "x", "labeled": "a.json"}, {"name": "x", "labeled": "b.json"}]}
        ),
        words=("two entries",),
    ),
]


if not torch.cuda.is_available():
    CASES.append(
        Case(
            "score-option",
            "device-cuda-cpu-torch",
            score(extra=["--device", "cuda"]),
            words=("--device", "CUDA is not available"),
        )
    )


# ----------------------------------------------------------------------------- the runner


def snapshot(folder: Path) -> dict[str, str]:
    """sha256 of every regular file under ``folder``; other entries by their type."""
    out = {}
    for path in sorted(folder.rglob("*")):
        rel = str(path.relative_to(folder))
        if path.is_symlink():
            out[rel] = "link->" + os.readlink(path)
        elif path.is_file():
            out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
        elif path.is_dir():
            out[rel] = "dir"
        else:
            out[rel] = "special"
    return out


def _alarm(signum, frame):
    raise HangError


def run_cli(argv: list[str]) -> tuple[str, int | None, str, str]:
    """Run ``main(argv)`` under an alarm; (outcome, exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(HANG_S)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            rc = main(argv)
        return "ran", rc, out.getvalue(), err.getvalue()
    except HangError:
        return "hang", None, out.getvalue(), err.getvalue()
    except SystemExit as exc:  # argparse: usage + error, exit 2
        return "ran", int(exc.code or 0), out.getvalue(), err.getvalue()
    except BaseException as exc:  # any escape is the bug this suite looks for
        return "traceback", None, out.getvalue(), "".join(traceback.format_exception(exc))
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def tally(case: Case, outcome: str) -> None:
    path = os.environ.get("GEMVIZ_TALLY")
    if path:
        with open(path, "a") as fh:
            fh.write(json.dumps({"class": case.cls, "case": case.name, "outcome": outcome}) + "\n")


@pytest.mark.parametrize("case", CASES, ids=[f"{c.cls}:{c.name}" for c in CASES])
def test_bad_input(case: Case, tmp_path, monkeypatch):
    run_case(case, tmp_path, monkeypatch)


def run_case(case: Case, tmp_path: Path, monkeypatch, study=make_study) -> None:
    """Build the case's input beside ``study(d)``, run it, classify and tally how it ends."""
    d = tmp_path / "d"
    d.mkdir()
    p = study(d)
    for key, value in case.env.items():
        monkeypatch.setenv(key, value)
    argv = [str(a) for a in case.argv(d, p)]
    uses_proc = any("/proc" in a for a in argv) or "/proc" in str(case.env)
    if uses_proc and not Path("/proc/self").exists():
        pytest.skip("needs Linux's read-only /proc")
    if "TEMPLATE" in argv:
        argv[argv.index("TEMPLATE")] = str(put(d / "tpl.txt", "Tâche: {task}".encode("latin-1")))
    if "PIPE" in argv:
        argv[argv.index("PIPE")] = str(fifo(d, p))
    if "GEMVIZID" in argv:
        recs = [dict(r, _gemviz_id="taken") for r in records(p["test"])]
        argv[argv.index("GEMVIZID")] = str(put(d / "gid.json", json_text(recs)))
    cache = Path(os.environ["GEMVIZ_CACHE"]) / "workspaces"
    cache_before = sorted(x.name for x in cache.iterdir()) if cache.exists() else []
    before = snapshot(d)
    kind, rc, out, err = run_cli(argv)
    after = snapshot(d)
    cache_after = sorted(x.name for x in cache.iterdir()) if cache.exists() else []
    allowed = set(case.outputs) if case.expect == "ok" else set()
    inputs_changed = {k for k in before if before[k] != after.get(k) and k not in allowed}
    stray = {k for k in after if k not in before and k not in allowed}
    if case.expect == "error":
        stray |= {f"cache/workspaces/{x}" for x in set(cache_after) - set(cache_before)}
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    if kind != "ran":
        outcome = kind
    elif inputs_changed or stray:
        outcome = "inputs changed"
    elif rc == 2 and len(lines) == 1 and ": error: " in lines[0] and "Traceback" not in err:
        outcome = "error"
    elif rc == 0 and "Traceback" not in err:
        outcome = "ok"
    else:
        outcome = f"exit {rc}"
    if outcome == "ok" and case.check is not None:
        try:
            case.check(d, p, out)
        except AssertionError:
            outcome = "silent wrong result"
    tally(case, outcome)
    assert outcome == case.expect, (outcome, rc, err[-2000:], inputs_changed, stray)
    text = err if case.expect == "error" else err + out
    for word in case.words or (() if case.expect == "ok" else ("/",)):
        assert word in text, (word, text)
    if case.expect == "ok":
        # Besides warnings and notices, only progress lines ("[3/8] venn") may be there.
        assert all("warning" in ln or "notice" in ln or ln.startswith("[") for ln in lines), lines


# ----------------------------------------------------------------------------- the page


@pytest.fixture
def page_ws(tmp_path, monkeypatch):
    monkeypatch.setenv("GEMVIZ_CACHE", str(tmp_path / "cache"))
    d = tmp_path / "d"
    d.mkdir()
    p = make_study(d)
    ws = create_workspace("page", test=p["test"])
    return ws, d, p


def _page(ws):
    at = AppTest.from_file(str(ROOT / "pages" / "1_workspace.py"), default_timeout=60)
    at.session_state["workspace"] = ws.slug
    at.run()
    assert not at.exception
    return at


PAGE_CASES = [
    ("binary results upload", "new_model", "junk.json", bytes(range(256)) * 4, "binary"),
    ("UTF-16 labels upload", "new_splitter", "lab.json", None, "UTF-16"),
    ("1000-character name", "new_model", "r" * 1000 + ".json", "GOOD", None),
    ("binary test file (create)", "create", "test.json", bytes(range(256)) * 4, "binary"),
]


@pytest.mark.parametrize("what,key,name,data,error", PAGE_CASES, ids=[c[0] for c in PAGE_CASES])
def test_workspace_page_upload(page_ws, what, key, name, data, error):
    ws, d, p = page_ws
    if data is None:
        data = (p["a"]).read_text().encode("utf-16")
    elif data == "GOOD":
        data = (p["m1"]).read_bytes()
    before = snapshot(d)
    at = _page(ws)
    if key == "create":
        at.text_input(key="create_name").set_value("fresh")
        at.file_uploader(key="create_test_upload").set_value((name, data, "application/json"))
        next(b for b in at.button if b.label == "Create workspace").click().run()
    else:
        at.text_input(key=f"{key}_name").set_value("x")
        upload = "new_model_runs_upload" if key == "new_model" else f"{key}_file_upload"
        at.file_uploader(key=upload).set_value((name, data, "application/json"))
        at.run()
        at.button(key="add_model" if key == "new_model" else "add_splitter").click().run()
    outcome = "traceback" if at.exception else ("error" if at.error else "ok")
    tally(Case("page", what, lambda d, p: []), outcome)
    assert not at.exception, [e.value for e in at.exception]
    assert snapshot(d) == before
    if error:
        assert at.error and error in at.error[0].value, [e.value for e in at.error]
        uploads = (
            list((ws.folder / "uploads").glob("*")) if (ws.folder / "uploads").exists() else []
        )
        assert all(u.stat().st_size for u in uploads)
    else:
        assert not at.error, [e.value for e in at.error]

        stored = Workspace.load(ws.folder).models[-1].results
        assert len(Path(stored).name) <= 120 and Path(stored).is_file()


# ----------------------------------------------------------------------------- faults


@pytest.fixture
def fake_study(tmp_path, monkeypatch):
    """Train/test files and a fresh cache for the ``fake`` embedder."""
    # Registered for this test only: the registry is global and other tests list it.
    monkeypatch.setitem(EMBEDDERS, "fake", FakeEmbedder)
    monkeypatch.setenv("GEMVIZ_CACHE", str(tmp_path / "cache"))
    d = tmp_path / "d"
    d.mkdir()
    return d, make_study(d)


def _score(d, p, out, *extra) -> tuple[int, str]:
    kind, rc, _out, err = run_cli(
        [
            "score",
            "--method",
            "fake",
            "--train",
            str(p["train"]),
            "--test",
            str(p["test"]),
            "--out-dir",
            str(d / out),
            "--batch-size",
            "4",
            *extra,
        ]
    )
    assert kind == "ran", err
    return rc, err


def _entries(tmp_path) -> list[Path]:
    return sorted((tmp_path / "cache" / "scores").iterdir())


def _same_outputs(a: Path, b: Path) -> None:
    for name in (
        "train_inputscore.json",
        "test_inputscore.json",
        "train_embeddings.npz",
        "test_embeddings.npz",
    ):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


@pytest.mark.parametrize("damage", ["zero-length", "truncated", "junk", "wrong-ids"])
def test_damaged_embeddings_cache_heals(fake_study, tmp_path, damage):
    d, p = fake_study
    assert _score(d, p, "ref")[0] == 0
    final = _entries(tmp_path)[0] / "embeddings.npz"
    data = final.read_bytes()
    if damage == "zero-length":
        final.write_bytes(b"")
    elif damage == "truncated":
        final.write_bytes(data[: len(data) // 2])
    elif damage == "junk":
        final.write_bytes(b"\x00junk" * 50)
    else:
        np.savez(final, ids=np.array(["x"] * N_TRAIN), embeddings=np.zeros((N_TRAIN, 8), "f4"))
    rc, err = _score(d, p, "again")
    tally(
        Case("fault", f"damaged embeddings.npz ({damage})", lambda d, p: []),
        "ok" if rc == 0 else f"exit {rc}",
    )
    assert rc == 0 and "notice: removed the damaged cache file" in err, err
    assert len([ln for ln in err.splitlines() if "notice" in ln]) == 1
    _same_outputs(d / "ref", d / "again")


def test_damaged_part_is_redone(fake_study, tmp_path, monkeypatch):
    d, p = fake_study

    def stop(done, total, stage):
        if done >= 12:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        scoring.score_files(
            method="fake",
            train=p["train"],
            test=p["test"],
            out_dir=d / "x",
            batch_size=4,
            progress=stop,
        )
    parts = sorted(_entries(tmp_path)[0].glob("part-*.npz"))
    assert len(parts) >= 2
    parts[0].write_bytes(parts[0].read_bytes()[:40])
    parts[1].write_bytes(b"")
    rc, err = _score(d, p, "healed")
    tally(Case("fault", "damaged part-*.npz", lambda d, p: []), "ok" if rc == 0 else f"exit {rc}")
    assert rc == 0 and err.count("notice: removed the damaged cache file") == 2, err
    assert not list(_entries(tmp_path)[0].glob("part-*")), "stale parts left"
    monkeypatch.setenv("GEMVIZ_CACHE", str(tmp_path / "cache2"))
    assert _score(d, p, "ref")[0] == 0
    _same_outputs(d / "ref", d / "healed")


def _spawn(d, p, out, env_extra) -> subprocess.Popen:
    env = {**os.environ, **env_extra}
    return subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "tests" / "fake_embedder.py"),
            "score",
            "--method",
            "fake",
            "--train",
            str(p["train"]),
            "--test",
            str(p["test"]),
            "--out-dir",
            str(d / out),
            "--batch-size",
            "4",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )


def _wait_for_part(tmp_path, timeout=60.0) -> None:
    """Until the first finished batch of a spawned run is in the cache."""
    deadline = time.monotonic() + timeout
    scores = tmp_path / "cache" / "scores"
    while time.monotonic() < deadline:
        if scores.exists() and any(scores.glob("*/part-*.npz")):
            return
        time.sleep(0.05)
    raise AssertionError("the spawned run wrote no batch")


@pytest.mark.slow
def test_concurrent_runs_coordinate(fake_study, tmp_path):
    """A second run (this process) on the same inputs while the first is mid-way."""
    d, p = fake_study
    first_run = _spawn(d, p, "one", {"GEMVIZ_FAKE_DELAY": "0.1"})
    _wait_for_part(tmp_path)
    rc, err = _score(d, p, "two")
    _out, first_err = first_run.communicate(timeout=120)
    codes = [first_run.returncode, rc]
    tally(
        Case("fault", "two concurrent score runs", lambda d, p: []),
        "ok" if codes == [0, 0] else f"exit {codes}",
    )
    assert codes == [0, 0], (first_err, err)
    assert "Traceback" not in first_err + err
    assert "waiting for it" in err  # the second run waited for the first, then reused it
    _same_outputs(d / "one", d / "two")
    for entry in _entries(tmp_path):
        left = [x.name for x in entry.iterdir() if x.name not in ("embeddings.npz", ".lock")]
        assert not left, left


@pytest.mark.slow
def test_kill_9_and_resume(fake_study, tmp_path, monkeypatch):
    d, p = fake_study
    proc = _spawn(d, p, "killed", {"GEMVIZ_FAKE_DELAY": "0.3"})
    _wait_for_part(tmp_path)
    proc.kill()
    proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert not (d / "killed").exists()  # no partial output
    kind, rc, out, err = run_cli(
        [
            "score",
            "--method",
            "fake",
            "--train",
            str(p["train"]),
            "--test",
            str(p["test"]),
            "--out-dir",
            str(d / "resumed"),
            "--batch-size",
            "4",
        ]
    )
    cached = int(out.split(" sample(s), ")[1].split(" from the cache")[0])
    assert kind == "ran" and cached > 0, out  # the batches finished before the kill are kept
    tally(
        Case("fault", "kill -9 mid-run, then resume", lambda d, p: []),
        "ok" if rc == 0 else f"exit {rc}",
    )
    assert rc == 0, err
    leftovers = [x for e in _entries(tmp_path) for x in e.iterdir() if x.name.endswith(".tmp")]
    assert not leftovers
    monkeypatch.setenv("GEMVIZ_CACHE", str(tmp_path / "cache2"))
    assert _score(d, p, "ref")[0] == 0
    _same_outputs(d / "ref", d / "resumed")


@pytest.mark.slow
def test_fifo_input_does_not_hang_the_real_command(tmp_path):
    d = tmp_path / "d"
    d.mkdir()
    p = make_study(d)
    pipe = fifo(d, p)
    start = time.monotonic()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "gemviz",
            "partition",
            "--train",
            str(p["train"]),
            "--test",
            str(pipe),
            "--out",
            str(d / "o.json"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    tally(
        Case("fault", "FIFO input, real process", lambda d, p: []),
        "error" if proc.returncode == 2 else f"exit {proc.returncode}",
    )
    assert proc.returncode == 2 and "FIFO" in proc.stderr and "Traceback" not in proc.stderr
    assert time.monotonic() - start < 60


# Hand edits of workspace.json that once crashed every page (through the sidebar's listing).
HAND_BROKEN = {
    "truncated": '{"name": ',
    "test-123": {"test": 123},
    "labeled-5": {"splitters": [{"name": "a", "labeled": 5}]},
    "results-list": {"models": [{"name": "m", "results": ["x.json"]}]},
    "created-400-digits": '{"name": "c", "created": ' + "9" * 400 + "}",
    "params-str": {"splitters": [{"name": "a", "labeled": "x.json", "params": "str"}]},
    "twin-splitters": {
        "splitters": [{"name": "a", "labeled": "x.json"}, {"name": "a", "labeled": "y.json"}]
    },
    "markdown-name": {"name": "![x](http://127.0.0.1:9/beacon)", "test": 5},
}


def _good_ws_with_study(d: Path, p: dict) -> str:
    good = create_workspace("good", test=p["test"])
    good.add_splitter(SplitterEntry(name="a", labeled=str(p["a"])))
    good.add_splitter(SplitterEntry(name="b", labeled=str(p["b"])))
    good.add_model(ModelEntry(name="m1", results=str(p["m1"])))
    return good.slug


@pytest.mark.slow
def test_broken_workspaces_do_not_take_down_any_page(tmp_path, monkeypatch):
    """Every page, through the router, with hand-broken workspaces beside a good one."""

    monkeypatch.setenv("GEMVIZ_CACHE", str(tmp_path / "cache"))
    d = tmp_path / "d"
    d.mkdir()
    p = make_study(d)
    good = _good_ws_with_study(d, p)
    for slug, spec in HAND_BROKEN.items():
        (workspaces_root() / slug).mkdir()
        put(
            workspaces_root() / slug / "workspace.json",
            spec if isinstance(spec, str) else json.dumps(spec),
        )
    before = snapshot(d)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    # The demo is not built here: the good workspace is the one in view, the broken ones sit
    # beside it in the list the sidebar reads at every start.
    at.session_state["workspace"] = good
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    outcome = "ok"
    for page in sorted((ROOT / "pages").glob("*.py")):
        at.switch_page(f"pages/{page.name}").run()
        if at.exception:
            outcome = "traceback"
        assert not at.exception, (page.name, [e.value for e in at.exception])
    # A broken one asked for by the URL: said on the page, never a crash.
    for page in sorted((ROOT / "pages").glob("*.py")):
        one = AppTest.from_file(str(page), default_timeout=60)
        one.query_params["workspace"] = "labeled-5"
        one.run()
        assert not one.exception, (page.name, [e.value for e in one.exception])
    tally(
        Case(
            "fault",
            f"{len(HAND_BROKEN)} hand-broken workspace.json beside a good one: every page",
            lambda d, p: [],
        ),
        outcome,
    )
    assert snapshot(d) == before


@pytest.mark.parametrize(
    "what",
    [
        "job.json a list",
        "progress.json junk",
        "pid of another program",
        "pid of 400 digits",
        "started of 400 digits",
        "done negative, ended NaN",
    ],
)
def test_damaged_job_state_reads_as_stopped(tmp_path, monkeypatch, what):
    if what == "pid of another program" and not Path("/proc/self").exists():
        pytest.skip("tells programs apart through /proc")
    monkeypatch.setenv("GEMVIZ_CACHE", str(tmp_path / "cache"))
    folder = jobs.job_folder("j1")
    folder.mkdir(parents=True)
    info = {"argv": ["x"], "created": time.time(), "pid": os.getpid()}  # pytest is no runner
    put(folder / "job.json", "[1, 2]" if what == "job.json a list" else json.dumps(info))
    if what == "progress.json junk":
        put(folder / "progress.json", '{"done": "many", "total": [3]}')
    if what == "pid of 400 digits":
        put(folder / "job.json", '{"argv": ["x"], "created": 1, "pid": ' + "9" * 400 + "}")
    if what == "started of 400 digits":
        put(folder / "progress.json", '{"done": 1, "total": 2, "started": ' + "9" * 400 + "}")
    if what == "done negative, ended NaN":
        put(folder / "progress.json", '{"done": -5, "total": 2, "stage": ["x"]}')
        put(folder / "exit.json", '{"returncode": 1, "ended": NaN}')
    got = jobs.status("j1")
    tally(Case("fault", f"job state: {what}", lambda d, p: []), "ok")
    assert got.state == (jobs.MISSING if what == "job.json a list" else jobs.FAILED)


WS_VARIANTS = {
    "binary results": lambda d, p: {
        "models": [{"name": "m", "results": str(binary(d, p, "jr.json"))}]
    },
    "FIFO test set": lambda d, p: {"test": str(fifo(d, p, "ft.json"))},
    "junk embeddings": lambda d, p: {
        "splitters": [
            {
                "name": "a",
                "labeled": str(p["a"]),
                "train_embeddings": str(put(d / "j1.npz", "junk")),
                "test_embeddings": str(put(d / "j2.npz", "junk")),
            },
        ]
    },
}


@pytest.mark.slow
@pytest.mark.parametrize("variant", list(WS_VARIANTS))
def test_every_page_shows_a_bad_workspace_file_as_an_error(tmp_path, monkeypatch, variant):
    """A workspace naming a bad file: every page runs; the pages that read it say so."""

    monkeypatch.setenv("GEMVIZ_CACHE", str(tmp_path / "cache"))
    d = tmp_path / "d"
    d.mkdir()
    p = make_study(d)
    spec = {
        "name": "bad",
        "test": str(p["test"]),
        "splitters": [{"name": "a", "labeled": str(p["a"])}, {"name": "b", "labeled": str(p["b"])}],
        "models": [{"name": "m1", "results": str(p["m1"])}],
    }
    change = WS_VARIANTS[variant](d, p)
    if "splitters" in change:
        change["splitters"] = change["splitters"] + [{"name": "b", "labeled": str(p["b"])}]
    spec.update(change)
    folder = workspaces_root() / "bad"
    folder.mkdir(parents=True)
    put(folder / "workspace.json", json.dumps(spec))
    before = snapshot(d)
    errors = 0
    for page in sorted((ROOT / "pages").glob("*.py")):
        at = AppTest.from_file(str(page), default_timeout=60)
        at.session_state["workspace"] = "bad"
        at.query_params["workspace"] = "bad"
        at.run()
        assert not at.exception, (page.name, [e.value for e in at.exception])
        errors += bool(at.error)
    tally(Case("page", f"workspace with {variant}: every page", lambda d, p: []), "error")
    assert errors >= 1 and snapshot(d) == before


@pytest.mark.parametrize("damage", ["zero-length", "truncated"])
def test_damaged_neighbours_cache_heals(tmp_path, monkeypatch, damage):
    monkeypatch.setenv("GEMVIZ_CACHE", str(tmp_path / "cache"))
    d = tmp_path / "d"
    d.mkdir()
    p = make_study(d)
    argv = [
        "neighbours",
        "--train-embeddings",
        str(p["train_emb"]),
        "--test-embeddings",
        str(p["test_emb"]),
        "--format",
        "csv",
    ]
    kind, rc, first_out, _ = run_cli(argv)
    assert kind == "ran" and rc == 0
    (cached,) = (tmp_path / "cache" / "neighbours").glob("*.npz")
    data = cached.read_bytes()
    cached.write_bytes(b"" if damage == "zero-length" else data[: len(data) // 3])
    kind, rc, out, err = run_cli(argv)
    tally(
        Case("fault", f"damaged neighbours cache ({damage})", lambda d, p: []),
        "ok" if rc == 0 else f"exit {rc}",
    )
    assert kind == "ran" and rc == 0 and out == first_out
    assert err.count("notice: removed the damaged cache file") == 1, err


def test_deep_annotations_file_is_a_clear_error(tmp_path):
    put(tmp_path / annotations.FILE, "[" * 50_000 + "]" * 50_000)
    with pytest.raises(GemvizError, match=r"annotations\.json"):
        annotations.load(tmp_path)
    tally(Case("workspace", "annotations.json nested 50,000 deep", lambda d, p: []), "error")


@pytest.mark.parametrize("how", ["fifo", "devzero", "bomb", "binary"])
def test_screenshot_readers_never_hang_or_crash(tmp_path, how):
    """The pages draw steps on their screenshots: a bad one is shown as missing."""
    d, p = tmp_path, {}
    path = {
        "fifo": lambda: fifo(d, p, "s.png"),
        "devzero": lambda: devzero(d, p, "s.png"),
        "bomb": lambda: bomb_png(d / "s.png"),
        "binary": lambda: binary(d, p, "s.png"),
    }[how]()
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(HANG_S)
    try:
        assert load_screenshot(path) is None
        with pytest.raises(GemvizError, match=r"s\.png"):
            image_size(path)
        outcome = "error"
    except HangError:
        outcome = "hang"
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    tally(Case("special", f"screenshot that is {how} (pages, scoring)", lambda d, p: []), outcome)
    assert outcome == "error"


def test_metrics_page_flags_exact_without_type(tmp_path, monkeypatch):

    monkeypatch.setenv("GEMVIZ_CACHE", str(tmp_path / "cache"))
    d = tmp_path / "d"
    d.mkdir()
    p = make_study(d)
    odd = changed("m1", "et.json", first({"type_match": 0, "exact_match": 1}))(d, p)
    spec = {
        "name": "odd",
        "test": str(p["test"]),
        "splitters": [{"name": "a", "labeled": str(p["a"])}],
        "models": [{"name": "m", "results": str(odd)}],
    }
    (workspaces_root() / "odd").mkdir(parents=True)
    put(workspaces_root() / "odd" / "workspace.json", json.dumps(spec))
    at = AppTest.from_file(str(ROOT / "pages" / "3_metrics.py"), default_timeout=60)
    at.session_state["workspace"] = "odd"
    at.query_params["workspace"] = "odd"
    at.run()
    shown = [w.value for w in at.warning]
    tally(
        Case("page", "results with exact_match 1, type_match 0 (Metrics)", lambda d, p: []),
        "ok" if shown else "silent",
    )
    assert not at.exception and not at.error
    assert any("et.json" in w and "exact_match is 1" in w for w in shown), shown


# ----------------------------------------------------------------------------- disk full


@contextlib.contextmanager
def full_disk(folder: Path, free: int = 2048):
    """``folder`` on a tiny tmpfs filled up to ``free`` bytes; else writes there fail with ENOSPC.

    A real mount needs root (and a system that allows it); without one, every atomic write and
    folder creation under ``folder`` raises the same OSError the kernel gives.
    """
    folder.mkdir(parents=True, exist_ok=True)
    mounted = (
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(folder)], capture_output=True
        ).returncode
        == 0
        if hasattr(os, "geteuid") and os.geteuid() == 0
        else False
    )
    if mounted:
        st = os.statvfs(folder)
        put(folder / "filler", b"\0" * max(0, st.f_bavail * st.f_frsize - free))
        try:
            yield "tmpfs"
        finally:
            subprocess.run(["umount", "-l", str(folder)], check=False)
        return

    real = gio._fsync

    def no_space(path):
        if str(folder) in str(path):
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real(path)

    gio._fsync = no_space
    try:
        yield "injected"
    finally:
        gio._fsync = real


DISK_FULL = {
    "partition --out": lambda d, p, full: part(out=lambda d, p: full / "out.json")(d, p),
    "report --out": lambda d, p, full: (
        [*report(out=lambda d, p: full / "r.html")(d, p)[:-1], "--examples"]
    ),
    "workspace create": lambda d, p, full: [
        "workspace",
        "create",
        "w",
        "--test",
        str(p["test"]),
        "--split",
        f"a={p['a']}",
    ],
    "match --out": lambda d, p, full: match(out=lambda d, p: full / "res.json")(d, p),
}


@pytest.mark.parametrize("command", list(DISK_FULL))
def test_disk_full_is_one_clear_line(tmp_path, monkeypatch, command):
    d = tmp_path / "d"
    d.mkdir()
    p = make_study(d)
    full = tmp_path / "full"
    with full_disk(full) as how:
        if command == "workspace create":
            monkeypatch.setenv("GEMVIZ_CACHE", str(full / "cache"))
        argv = [str(a) for a in DISK_FULL[command](d, p, full)]
        before = snapshot(d)
        kind, rc, _out, err = run_cli(argv)
        left = sorted(
            str(x.relative_to(full)) for x in full.rglob("*") if x.is_file() and x.name != "filler"
        )
    lines = [ln for ln in err.strip().splitlines() if ln.strip() and not ln.startswith("[")]
    outcome = (
        "error"
        if kind == "ran" and rc == 2 and len(lines) == 1 and "Traceback" not in err
        else kind
        if kind != "ran"
        else f"exit {rc}"
    )
    if snapshot(d) != before:
        outcome = "inputs changed"
    tally(Case("fault", f"disk full ({how}): {command}", lambda d, p: []), outcome)
    assert outcome == "error", (outcome, rc, err[-1500:])
    assert "No space left on device" in lines[0] or "cannot write" in lines[0], lines
    # Nothing half written: no output, no temporary file, no half-made workspace.
    assert not [x for x in left if not x.startswith("cache/workspaces") or "/" in x[17:]], left


# ----------------------------------------------------------------------------- kill -9


@pytest.mark.slow
def test_kill_9_during_workspace_create_leaves_nothing_half_made(tmp_path, monkeypatch):
    """Kill ``workspace create`` at several moments: a complete workspace or none, never half."""
    monkeypatch.setenv("GEMVIZ_CACHE", str(tmp_path / "cache"))
    d = tmp_path / "d"
    d.mkdir()
    p = make_study(d)
    big = changed("test", "big.json", lambda r: r * 1)(d, p)
    root = tmp_path / "cache" / "workspaces"
    env = {**os.environ, "GEMVIZ_CACHE": str(tmp_path / "cache")}
    outcomes = []
    for delay in (0.0, 0.3, 0.6, 0.9, 1.2, 1.6, 2.0):
        proc = subprocess.Popen(
            [sys.executable, "-m", "gemviz", "workspace", "create", f"k{int(delay * 10)}",
             "--test", str(big), "--split", f"a={p['a']}", "--split", f"b={p['b']}",
             "--model", f"m1={p['m1']}", "--scores", f"g={p['train']},{p['test']}"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        # Wait for the hidden folder (or the end), then for the delay, then kill -9.
        while time.monotonic() < deadline and proc.poll() is None:
            if root.exists() and any(x.name.startswith(".creating-") for x in root.iterdir()):
                break
            time.sleep(0.01)
        time.sleep(delay)
        proc.kill()
        proc.wait(timeout=30)
        outcomes.append(proc.returncode)
        good, broken = scan_workspaces()
        assert broken == [], broken
        for ws in good:  # whatever is listed is whole: both splitters, the model, a study
            assert [s.name for s in ws.splitters] == ["a", "b", "g"], ws.slug
            assert [m.name for m in ws.models] == ["m1"], ws.slug
            assert len(ws.study()) == N_TEST
        hidden = [x.name for x in root.iterdir() if x.name.startswith(".")] if root.exists() else []
        assert hidden == [], hidden  # the killed run's leftover is gone after the listing
    tally(
        Case("fault", "kill -9 during workspace create (7 moments)", lambda d, p: []),
        "ok",
    )
    assert -signal.SIGKILL in outcomes, outcomes
