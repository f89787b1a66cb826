"""The built-in demo: screenshots, generated steps, agents and the end-to-end build."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from PIL import Image

from gemviz.actions import match_action, parse_action
from gemviz.commands.cli import main
from gemviz.data.read import read_records
from gemviz.demo import build_demo, demo_folder, ensure_demo
from gemviz.demo.agents import AGENTS, gem_string
from gemviz.demo.catalog import APPS
from gemviz.demo.screens import CLICKABLE, SIZES, layout, render
from gemviz.demo.steps import DOMAINS, IMPOSSIBLE, IN_DOMAIN, generate_steps
from gemviz.workspace.store import Workspace
from tests.conftest import SEED

N_TRAIN, N_TEST = 60, 40


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """A small demo built once for the module, with the progress reports it made."""
    folder = tmp_path_factory.mktemp("demo")
    reports = []
    build_demo(
        folder,
        progress=lambda d, t, s: reports.append((d, t, s)),
        n_train=N_TRAIN,
        n_test=N_TEST,
        seed=SEED,
    )
    return folder, reports


def test_every_screen_lays_out_inside_the_image_and_renders_at_its_size():
    for app in APPS.values():
        for name in app.screens:
            screen = layout(app, name, 1)
            assert screen.widgets, f"{app.name}/{name} has no widgets"
            for w in screen.widgets:
                x1, y1, x2, y2 = w.box
                assert 0 <= x1 < x2 <= 1 and 0 <= y1 < y2 <= 1, (app.name, name, w)
    image = render(layout(APPS["Mail"], "inbox", 0))
    assert image.size == SIZES["phone"]
    # Real drawing: the app bar carries the accent colour, the body stays white.
    assert image.getpixel((270, 60)) == APPS["Mail"].accent
    assert len(image.getcolors(maxcolors=1 << 20)) > 20


def test_layout_is_deterministic_and_variants_reorder_rows():
    a = layout(APPS["Mail"], "inbox", 2)
    assert a.widgets == layout(APPS["Mail"], "inbox", 2).widgets
    rows = lambda s: [w.label for w in s.widgets if w.kind == "row"]  # noqa: E731
    assert rows(a) != rows(layout(APPS["Mail"], "inbox", 0))


def test_steps_are_seeded_and_mix_domains():
    train, test, screens = generate_steps(200, 120, seed=SEED)
    again, _, _ = generate_steps(200, 120, seed=SEED)
    assert [s.task for s in train] == [s.task for s in again]
    assert {s.domain for s in train} == {IN_DOMAIN}
    assert {s.screen.platform for s in train} == {"phone"}
    assert {s.domain for s in test} == set(DOMAINS)
    assert {s.screen.platform for s in test} == {"phone", "desktop", "web"}
    assert len({s.id for s in train + test}) == 320
    assert set(screens) == {s.screen.key for s in train + test}


def test_ground_truth_clicks_hit_the_widget_the_task_names():
    train, test, _ = generate_steps(300, 200, seed=SEED)
    clicks = 0
    for step in train + test:
        action = step.action
        if step.domain == IMPOSSIBLE:
            assert action == {"type": "impossible"}
            continue
        if action["type"] != "click":
            continue
        clicks += 1
        x, y = action["point"]
        x1, y1, x2, y2 = action["box"]
        assert x1 <= x <= x2 and y1 <= y <= y2
        target = [
            w
            for w in step.screen.widgets
            if list(w.box) == pytest.approx([x1, y1, x2, y2], abs=1e-4)
        ]
        assert target and target[0].kind in CLICKABLE
    assert clicks > 200


def test_gem_strings_round_trip_through_the_real_parser():
    train, test, _ = generate_steps(100, 40, seed=SEED)
    for step in train + test:
        gt = parse_action(step.action, "auto")
        pred = parse_action(gem_string(step.action), "gem")
        assert match_action(gt, pred, rules="gem") == (1, 1), (step.action, gem_string(step.action))


def test_agents_rank_strong_medium_weak_and_do_worse_out_of_domain():
    train, test, screens = generate_steps(300, 200, seed=SEED)
    widgets = {k: s.widgets for k, s in screens.items()}
    tr = [s.record("") for s in train]
    te = [s.record("") for s in test]
    # One-hot words of each task: a cheap stand-in for sentence embeddings.
    vocab = {
        w: i for i, w in enumerate(sorted({w for r in tr + te for w in r["task"].lower().split()}))
    }

    def bag(records):
        out = np.zeros((len(records), len(vocab)), dtype=np.float32)
        for i, r in enumerate(records):
            for w in r["task"].lower().split():
                out[i, vocab[w]] = 1
        return out

    exact = {}
    for name, cls in AGENTS.items():
        preds = cls().fit(tr, bag(tr), widgets).predict(te, bag(te), widgets)
        hits = np.array(
            [
                match_action(parse_action(r["action"]), parse_action(p, "gem"))[1]
                for r, p in zip(te, preds, strict=True)
            ]
        )
        in_dom = np.array([r["domain"] == IN_DOMAIN for r in te])
        exact[name] = (hits.mean(), hits[in_dom].mean(), hits[~in_dom].mean())
    assert exact["agent-strong"][0] > exact["agent-medium"][0] > exact["agent-weak"][0]
    for name, (_, id_mean, ood_mean) in exact.items():
        assert id_mean > ood_mean + 0.1, (name, exact[name])


def test_demo_builds_consistent_files(demo):
    folder, reports = demo
    spec = json.loads((folder / "workspace.json").read_text())
    assert spec["demo"] is True and spec["name"] == "Demo (generated data)"
    assert [s["name"] for s in spec["splitters"]] == ["sentence", "gem-input"]
    assert [m["name"] for m in spec["models"]] == list(AGENTS)
    test = read_records(spec["test"])
    ids = [r["id"] for r in test]
    assert len(ids) == N_TEST and len(read_records(spec["train"])) == N_TRAIN
    for rec in test:
        assert Image.open(rec["image_path"]).size == SIZES[rec["platform"]]
    for entry in spec["splitters"]:
        labeled = read_records(entry["labeled"])
        assert sorted(r["id"] for r in labeled) == sorted(ids)
        assert {r["label"] for r in labeled} <= {"ID", "OOD"}
    for entry in spec["models"]:
        results = read_records(entry["results"])
        assert sorted(r["id"] for r in results) == sorted(ids)
        preds = read_records(entry["predictions"])
        assert all(re.match(r"^[A-Z_]+", p["prediction"]) for p in preds)
    study = Workspace.load(folder).study()
    assert study.splitters == ["sentence", "gem-input"] and len(study.samples) == N_TEST
    means = study.exact_match.mean()
    assert means["agent-strong"] > means["agent-weak"]
    # Progress goes forward only and ends full.
    done = [d for d, _, _ in reports]
    assert done == sorted(done) and done[-1] == reports[-1][1]


def test_ensure_demo_builds_once(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(
        "gemviz.demo.build.build",
        lambda folder, progress=None, **kw: (
            calls.append(folder) or (folder / "workspace.json").write_text("{}")
        ),
    )
    assert ensure_demo(folder=tmp_path) == tmp_path
    assert ensure_demo(folder=tmp_path) == tmp_path
    assert calls == [tmp_path]
    assert demo_folder().parent.name == "workspaces"


def test_ensure_demo_reuses_a_built_demo_and_rebuilds_an_interrupted_one(demo):
    folder, _ = demo
    stamp = (folder / "workspace.json").stat().st_mtime_ns
    assert ensure_demo(folder=folder) == folder
    assert (folder / "workspace.json").stat().st_mtime_ns == stamp


@pytest.mark.slow
def test_interrupted_build_leaves_no_workspace(tmp_path, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("interrupted")

    monkeypatch.setattr("gemviz.demo.build.run_agents", boom)
    with pytest.raises(RuntimeError):
        build_demo(tmp_path, n_train=20, n_test=10)
    assert not (tmp_path / "workspace.json").exists()
    assert (tmp_path / "test.json").exists()


@pytest.mark.slow
def test_demo_command_builds_into_the_cache(capsys):
    assert main(["demo", "--n-train", "30", "--n-test", "12"]) == 0
    assert (demo_folder() / "workspace.json").exists()
    assert "built the demo workspace" in capsys.readouterr().out
    assert main(["demo", "--n-train", "30", "--n-test", "12"]) == 0
    assert "already exists" in capsys.readouterr().out
    assert main(["demo", "--n-train", "0"]) == 2
