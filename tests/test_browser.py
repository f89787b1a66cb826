"""Real-browser test: start the app with ``streamlit run`` and open every page in Chromium.

Uses Debian's ``/usr/bin/chromium`` through the ``playwright`` package (never a downloaded
browser). Each page gets a screenshot in ``tests/_artifacts/``; the test fails on any
Streamlit exception box or error alert. Without Chromium the test is skipped, unless
``GEMVIZ_REQUIRE_BROWSER=1`` (set by CI), where a missing browser is a failure.
"""

from __future__ import annotations

import ast
import csv
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote, urlsplit

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT
from pptx import Presentation

from gemviz.analysis import findings
from gemviz.analysis.samples import suggest_examples
from gemviz.data.write import write_records
from gemviz.figures import theme
from gemviz.workspace import annotations
from gemviz.workspace.create import create_from_files
from gemviz.workspace.entries import ModelEntry, SplitterEntry
from gemviz.workspace.store import Workspace, create_workspace
from tests.bfcl_data import TEST as BFCL_TEST
from tests.deck_checks import assert_deck_fits
from tests.meeting_data import BASELINE, PATTERN, write_runs, write_training_sets

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "tests" / "_artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-quic",
    "--no-first-run",
    "--disable-sync",
]
BUILD_TIMEOUT_S = 300  # the demo is built on the first page open
TRAINING_LABEL = (
    "Training sets: one per line, NAME=path on the server (a bare path is named by its file)"
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _pages() -> list[str]:
    """URL paths of the pages that exist, in app.py's order (the same rule as app.py)."""
    tree = ast.parse((ROOT / "app.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "PAGES":
            entries = ast.literal_eval(node.value)
            return [
                Path(f).stem.split("_", 1)[1].lower() for f, *_ in entries if (ROOT / f).exists()
            ]
    raise AssertionError("app.py has no PAGES list")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    if not CHROMIUM.exists():
        if os.environ.get("GEMVIZ_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{CHROMIUM} is missing; install Debian's chromium package")
        pytest.skip(f"{CHROMIUM} is not installed")
    port = _free_port()
    env = {**os.environ, "GEMVIZ_CACHE": str(tmp_path / "cache")}
    log = open(tmp_path / "streamlit.log", "wb")  # noqa: SIM115 - held open while the server runs
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.headless",
            "true",
            "--server.address",
            "127.0.0.1",
            "--server.port",
            str(port),
            "--browser.gatherUsageStats",
            "false",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while True:
        try:
            urllib.request.urlopen(url + "/_stcore/health", timeout=2)
            break
        except OSError:
            if proc.poll() is not None or time.time() > deadline:
                proc.kill()
                pytest.fail("streamlit did not start:\n" + (tmp_path / "streamlit.log").read_text())
            time.sleep(0.3)
    yield url
    os.killpg(proc.pid, 15)
    proc.wait(timeout=20)
    log.close()


def _wait_rendered(page, timeout_s: float) -> None:
    """Wait until the page's script has finished (the app reports ``notRunning``) for a while.

    The state must hold across several checks: a page can rerun itself right after its first
    run (the demo build, a fragment), and charts draw a moment after the script ends.
    """
    page.wait_for_selector('[data-testid="stApp"]', timeout=60_000)
    done = '[data-testid="stApp"][data-test-script-state="notRunning"]'
    deadline = time.time() + timeout_s
    quiet = 0
    while time.time() < deadline:
        idle = page.locator(done).count() and not page.locator('[data-testid="stSkeleton"]').count()
        quiet = quiet + 1 if idle else 0
        if quiet >= 4 and page.locator("h1").count():
            return
        time.sleep(0.5)
    raise AssertionError(f"page did not finish rendering in {timeout_s:.0f} s")


def test_every_page_renders_without_errors(server):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    problems = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        first = True
        for k, path in enumerate(_pages()):
            # The default (first) page is served at the root; its own path is "not found".
            page.goto(f"{server}/{path if k else ''}")
            _wait_rendered(page, BUILD_TIMEOUT_S if first else 120)
            first = False
            page.screenshot(path=str(ARTIFACTS / f"page_{path}.png"), full_page=True)
            for selector in ('[data-testid="stException"]', '[data-testid="stAlertContentError"]'):
                for text in page.locator(selector).all_inner_texts():
                    problems.append(f"{path}: {text[:300]}")
            if "Page not found" in page.inner_text("body"):
                problems.append(f"{path}: Streamlit says the page was not found")
        browser.close()
    assert not problems, "\n".join(problems)


def _download_deck(page, server: str, slug: str, deck_path: Path) -> None:
    """Build the workspace's report on the Report page and save the slides it offers."""
    page.goto(f"{server}/report?workspace={slug}")
    _wait_rendered(page, 120)
    page.get_by_role("button", name="Build report").click()
    page.get_by_text("Report ready").wait_for(timeout=300_000)
    with page.expect_download() as info:
        page.get_by_role("button", name="Download slides (PPTX)").click()
    info.value.save_as(deck_path)


def _problems(page, where: str) -> list[str]:
    found = []
    for selector in ('[data-testid="stException"]', '[data-testid="stAlertContentError"]'):
        found += [f"{where}: {t[:300]}" for t in page.locator(selector).all_inner_texts()]
    return found


def test_sample_and_embeddings_pages_in_the_browser(server, tmp_path):
    """Open one step by URL and check its annotated screenshot is drawn; run a UMAP."""
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    problems = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{server}/samples")
        _wait_rendered(page, BUILD_TIMEOUT_S)  # builds the demo on first open
        ws = Workspace.load(tmp_path / "cache" / "workspaces" / "demo")
        sample = ws.study().ids[1]
        page.goto(f"{server}/samples?sample={sample}")
        _wait_rendered(page, 120)
        image = page.locator('[data-testid="stImage"] img').first
        image.wait_for(timeout=30_000)
        width = image.evaluate("img => img.complete ? img.naturalWidth : 0")
        assert width > 100, "the annotated screenshot did not load"
        image.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "page_samples_step.png"), full_page=True)
        problems += _problems(page, "samples")

        page.goto(f"{server}/embeddings")
        _wait_rendered(page, 120)
        page.get_by_role("button", name="Run UMAP").click()
        page.locator(".js-plotly-plot").first.wait_for(timeout=300_000)
        _wait_rendered(page, 120)
        page.screenshot(path=str(ARTIFACTS / "page_embeddings_umap.png"), full_page=True)
        problems += _problems(page, "embeddings")
        browser.close()
    assert not problems, "\n".join(problems)


def _own_study_files(gem_public, folder: Path) -> dict[str, Path]:
    """A researcher's files: GEM AITZ scores split by task, results as JSONL and as CSV."""

    records = json.loads((gem_public / "AITZ_test_inputscore.json").read_text())
    tasks = sorted({r["task"] for r in records})
    rng = np.random.default_rng(42)
    train_tasks = set(rng.choice(tasks, size=len(tasks) // 2, replace=False))
    train = [r for r in records if r["task"] in train_tasks]
    test = [r for r in records if r["task"] not in train_tasks][:1200]
    mobile = json.loads((gem_public / "screenspot-mobile_inputscore.json").read_text())
    test += mobile[:300]  # steps from another dataset: OOD for a fit on AITZ
    folder.mkdir(parents=True, exist_ok=True)
    files = {"train": folder / "aitz_train_scores.json", "test": folder / "test_scores.json"}
    files["train"].write_text(json.dumps(train))
    files["test"].write_text(json.dumps(test))
    in_aitz = np.array([r in test[:1200] for r in test])
    exact = rng.random(len(test)) < np.where(in_aitz, 0.55, 0.25)
    typ = exact | (rng.random(len(test)) < 0.6)
    files["a"] = folder / "agent_a.jsonl"
    files["a"].write_text(
        "".join(
            json.dumps(
                {
                    "task": r["task"],
                    "image_path": r["image_path"],
                    "type_match": int(t),
                    "exact_match": int(e),
                    "prediction": "CLICK <point>[[500,500]]</point>",
                }
            )
            + "\n"
            for r, t, e in zip(test, typ, exact, strict=True)
        )
    )
    exact_b = rng.random(len(test)) < np.where(in_aitz, 0.45, 0.3)
    typ_b = exact_b | (rng.random(len(test)) < 0.5)
    files["b"] = folder / "agent_b.csv"
    with open(files["b"], "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["task", "image_path", "type match", "exact match"])
        for r, t, e in list(zip(test, typ_b, exact_b, strict=True))[::-1]:
            w.writerow([r["task"], r["image_path"], int(t), int(e)])
    return files


def test_own_study_from_gem_scores_to_a_coloured_report(server, tmp_path, gem_public):
    """A new user's path: GEM AITZ scores + JSONL/CSV results -> Metrics, Overlap, Samples by
    URL after a reload, and a report whose charts are in colour."""
    from playwright.sync_api import sync_playwright

    files = _own_study_files(gem_public, tmp_path / "files")
    env = {**os.environ, "GEMVIZ_CACHE": str(tmp_path / "cache")}

    def gemviz(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "gemviz", "workspace", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    out = gemviz(
        "create",
        "AITZ own study",
        "--test",
        str(files["test"]),
        "--scores",
        f"gem={files['train']}",
        "--model",
        f"agent-a={files['a']}",
    )
    slug = out.strip().splitlines()[-1].split()[-1]
    # A second splitter with other GEM settings.
    gemviz("add-split", slug, "gem-tight", "--train-scores", str(files["train"]), "--sigma", "1")
    ws = Workspace.load(tmp_path / "cache" / "workspaces" / slug)
    sample = ws.study().ids[1250]  # an id built from image_path|task: '|', '?' and all

    def shot(page, name: str) -> None:
        # Streamlit scrolls inside the app, so a tall window is what captures a whole page.
        page.set_viewport_size({"width": 1440, "height": 2600})
        page.wait_for_timeout(1500)
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
        page.set_viewport_size({"width": 1440, "height": 1000})

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    problems = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 1000})
        # The server's very first run goes through Streamlit's pages/ folder emulation, which
        # reports a deep link as "page not found" once; open the root first, as users do.
        page.goto(server)
        _wait_rendered(page, 180)

        # The CSV model is added on the Workspace page: first a file of other samples
        # (refused, nothing saved), then the right one ('type match'/'exact match').
        def add_model(name: str, path: Path) -> str:
            page.get_by_role("tab", name="Add model").click()
            # The New workspace form on the same page has a model-name field of its own.
            field = page.get_by_label("Model name (not needed for a BFCL folder)", exact=True)
            field.fill(name)
            field.press("Enter")
            _wait_rendered(page, 60)
            page.get_by_label("Result file or BFCL results folder: path on the server").fill(
                str(path)
            )
            page.get_by_label("Result file or BFCL results folder: path on the server").press(
                "Enter"
            )
            _wait_rendered(page, 60)
            page.get_by_role("button", name="Add model").click()
            _wait_rendered(page, 120)
            return page.inner_text("body")

        page.goto(f"{server}/?workspace={slug}")  # the default page lives at the root
        _wait_rendered(page, 120)
        other = tmp_path / "files" / "other.json"
        other.write_text(
            json.dumps([{"id": f"x{i}", "type_match": 1, "exact_match": 0} for i in range(20)])
        )
        text = add_model("other", other)
        assert "do not cover the same samples" in text and "20 sample(s)" in text, text[-2000:]
        assert [m.name for m in Workspace.load(ws.folder).models] == ["agent-a"]
        shot(page, "own_workspace_refused")
        text = add_model("agent-b", files["b"])
        assert [m.name for m in Workspace.load(ws.folder).models] == ["agent-a", "agent-b"]
        shot(page, "own_workspace")
        for path in ("metrics", "overlap"):
            page.goto(f"{server}/{path}?workspace={slug}")
            _wait_rendered(page, 180)
            assert "demo workspace" not in page.inner_text("body")
            assert "Page not found" not in page.inner_text("body")
            if path == "metrics":
                page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
            shot(page, f"own_{path}")
            problems += _problems(page, path)

        page.goto(f"{server}/samples?workspace={slug}&sample={quote(sample, safe='')}")
        _wait_rendered(page, 120)
        page.reload()
        _wait_rendered(page, 120)
        assert f"workspace={slug}" in page.url and "sample=" in page.url
        image = page.locator('[data-testid="stImage"] img').first
        image.wait_for(timeout=30_000)
        assert "No step with id" not in page.inner_text("body")
        assert ws.study().samples["task"].iloc[1250] in page.inner_text("body")
        shot(page, "own_samples_step")
        problems += _problems(page, "samples")

        # Moving to another page keeps the workspace (and step) in the URL.
        page.locator("[data-testid='stSidebarNav'] a", has_text="Report").click()
        _wait_rendered(page, 120)
        assert f"workspace={slug}" in page.url, page.url
        page.get_by_role("button", name="Build report").click()
        page.get_by_text("Report ready").wait_for(timeout=300_000)
        with page.expect_download() as info:
            page.get_by_role("button", name="Report (HTML)").click()
        report = tmp_path / "report.html"
        info.value.save_as(report)
        problems += _problems(page, "report")
        text = report.read_text()
        colorway = json.dumps(list(theme.CATEGORICAL)).replace(" ", "")
        assert colorway in text.replace(" ", ""), "report charts lack the gemviz palette"
        specs = re.findall(r"Plotly\.newPlot\(.*?\)\s*};?", text, re.S)
        assert not re.search(r"#0000(0[1-9a-f]|1[0-9a-f])\b", "".join(specs), re.I)
        page.goto(report.as_uri())
        page.wait_for_timeout(3000)
        page.screenshot(path=str(ARTIFACTS / "own_report.png"), full_page=True)
        page.goto(f"{server}/metrics?workspace={slug}")
        _wait_rendered(page, 120)
        page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
        page.locator(".js-plotly-plot").first.scroll_into_view_if_needed()
        page.wait_for_timeout(1000)
        page.screenshot(path=str(ARTIFACTS / "own_metrics_chart.png"))
        browser.close()
    assert not problems, "\n".join(problems)


def test_a_deep_link_opened_first_after_a_server_start_goes_through_the_router(server):
    """The first session of a fresh server is served the old pages-folder way; a shared link to
    a page must still open that page through app.py (sidebar picker, no "Page not found")."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{server}/metrics?workspace=demo")
        _wait_rendered(page, BUILD_TIMEOUT_S)
        body = page.inner_text("body")
        assert "Page not found" not in body
        assert page.locator("h1").first.inner_text() == "Metrics"
        # app.py ran: its page titles and the workspace picker are in the sidebar
        sidebar = page.locator('[data-testid="stSidebar"]').inner_text()
        assert "Score & Partition" in sidebar and "Workspace" in sidebar
        assert page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').count() == 1
        assert "workspace=demo" in page.url
        browser.close()


def _beacon(what: str) -> str:
    """Markdown that, if rendered, makes the browser fetch from a closed local port."""
    return f"![{what}](http://127.0.0.1:9/beacon-{what})"


def _hostile_workspace(cache: Path, files: Path) -> str:
    """A workspace whose user text (name, tasks, fields, names, notes, paths) is all markdown.

    Its folder is the demo's, so a URL naming no known workspace falls back to it (and the
    test does not build the demo).
    """

    # A folder whose path is itself an image: "http:/host" is read as "http://host".
    folder = files / "![p](http:" / "127.0.0.1:9" / "beacon-path)"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(7)
    test = [
        {
            "id": f"e{i}",
            "task": _beacon("task") if i % 2 else f"open settings {i % 5}",
            "app": _beacon("field") if i % 3 else "clock",
            "image_path": "missing.png",
            "input_score": float(rng.normal()),
            "action": {"type": "press_back" if i % 2 else _beacon("gt")},
        }
        for i in range(40)
    ]
    write_records(folder / "test.json", test)
    for name, cut in (("a", 0.0), ("b", 0.5)):
        write_records(
            folder / f"{name}.json",
            [{**r, "label": "ID" if r["input_score"] <= cut else "OOD"} for r in test],
        )
    for name in ("m1", "m2"):
        write_records(
            folder / f"{name}.json",
            [
                {"id": r["id"], "type_match": int(rng.random() < 0.7),
                 "exact_match": 0, "prediction": _beacon("pred")}
                for r in test
            ],
        )  # fmt: skip
    root = cache / "workspaces"
    ws = create_workspace(_beacon("name"), test=folder / "test.json", folder=root / "demo")
    ws.cluster_by = "app"
    ws.add_splitter(SplitterEntry(name=_beacon("splitter"), labeled=str(folder / "a.json")))
    ws.add_splitter(SplitterEntry(name="b " + _beacon("splitter2"), labeled=str(folder / "b.json")))
    ws.add_model(ModelEntry(name=_beacon("model"), results=str(folder / "m1.json"),
                            predictions=str(folder / "m1.json")))  # fmt: skip
    ws.add_model(ModelEntry(name="m2", results=str(folder / "m2.json")))
    annotations.annotate(ws.folder, "e1", [_beacon("tag")], _beacon("note"))
    broken = root / "broken"
    broken.mkdir()
    (broken / "workspace.json").write_text(
        json.dumps({"name": _beacon("broken-name"), "test": _beacon("broken-path")})
    )
    return ws.slug


def test_user_text_never_makes_the_browser_fetch(server, tmp_path):
    """Markdown images in every kind of user text and URL parameter, on every page: no
    request leaves the app's own address."""
    from playwright.sync_api import sync_playwright

    slug = _hostile_workspace(tmp_path / "cache", tmp_path / "files")
    fetched: list[str] = []
    left: list[str] = []
    problems: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.on("request", lambda r: fetched.append(r.url) if ":9/" in r.url else None)
        # Any request to another host than the app's own would leave the machine.
        own = urlsplit(server).netloc
        page.on(
            "request",
            lambda r: (
                left.append(r.url)
                if urlsplit(r.url).scheme in ("http", "https", "ws", "wss")
                and urlsplit(r.url).netloc != own
                and ":9/" not in r.url
                else None
            ),
        )
        page.goto(server)
        _wait_rendered(page, 180)
        # The detector works: an image the page really draws is seen.
        page.evaluate("() => { const i = new Image(); i.src = 'http://127.0.0.1:9/control'; }")
        page.wait_for_timeout(500)
        assert any("control" in u for u in fetched), fetched
        fetched.clear()
        # The default (first) page is served at the root.
        urls = [f"/{p if k else ''}?workspace={slug}&sample=e1" for k, p in enumerate(_pages())]
        urls += [
            f"/samples?workspace={quote(_beacon('url-workspace'))}",
            f"/samples?workspace={slug}&sample={quote(_beacon('url-sample'))}",
            f"/step?workspace={slug}&sample={quote(_beacon('url-sample'))}",
            "/?workspace=broken",
            f"/samples?workspace={slug}&select={'x' * 3000}",
            f"/?workspace={'w' * 3000}",
        ]
        # Every URL parameter on every page: raw, and percent-encoded inside a selection.
        inside = quote(quote(_beacon("url-select-bar"), safe=""), safe="")
        for k, name in enumerate(_pages()):
            path = f"/{name if k else ''}"
            urls += [
                f"{path}?workspace={slug}&select={quote(_beacon('url-select'))}",
                f"{path}?workspace={slug}&select=bar:{inside}:OOD",
                f"{path}?workspace={slug}&select=region:ID:a,{inside}:{inside}",
                f"{path}?workspace={slug}&sample={quote(_beacon('url-sample'))}",
                f"{path}?workspace={quote(_beacon('url-workspace'))}",
            ]
        for url in urls:
            page.goto(server + url)
            _wait_rendered(page, 180)
            expander = page.get_by_text("Broken workspaces")
            if expander.count():
                expander.first.click()
            page.wait_for_timeout(700)
            problems += [
                f"{url}: {t[:200]}"
                for t in page.locator('[data-testid="stException"]').all_inner_texts()
            ]
        page.goto(f"{server}/step?workspace={slug}&sample=e1")
        _wait_rendered(page, 120)
        body = page.inner_text("body")
        page.screenshot(path=str(ARTIFACTS / "hostile_step.png"), full_page=True)
        browser.close()
    assert not fetched, fetched
    assert not left, left
    assert not problems, "\n".join(problems)
    # Escaped, the text reads as typed (no stray backslashes).
    assert _beacon("task") in body and _beacon("model") in body, body[:3000]


def test_meeting_deck_from_three_files(server, tmp_path, gem_public):
    """Build a study from three files (GEM scores as JSON, results as JSONL and CSV), open
    Metrics and Overlap, download the slides from Report, and read the deck back: its slides
    and titles, chart numbers equal to ``table --format json``, each example's task text."""
    from playwright.sync_api import sync_playwright

    files = _own_study_files(gem_public, tmp_path / "files")
    env = {**os.environ, "GEMVIZ_CACHE": str(tmp_path / "cache")}

    def gemviz(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "gemviz", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    out = gemviz(
        "workspace",
        "create",
        "Meeting study",
        "--test",
        str(files["test"]),
        "--scores",
        f"gem={files['train']}",
        "--model",
        f"agent-a={files['a']}",
        "--model",
        f"agent-b={files['b']}",
    )
    slug = out.strip().splitlines()[-1].split()[-1]
    gemviz(
        "workspace",
        "add-split",
        slug,
        "gem-tight",
        "--train-scores",
        str(files["train"]),
        "--sigma",
        "1",
    )
    ws = Workspace.load(tmp_path / "cache" / "workspaces" / slug)
    study = ws.study()
    deck_path = tmp_path / "deck.pptx"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    problems = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 1000})
        page.goto(server)
        _wait_rendered(page, BUILD_TIMEOUT_S)
        # A link to the default page by its own name opens it, with the link's workspace.
        page.goto(f"{server}/workspace?workspace={slug}")
        _wait_rendered(page, 120)
        assert "Page not found" not in page.inner_text("body")
        assert page.locator("h1").first.inner_text() == "Workspace"
        assert f"workspace={slug}" in page.url
        for path in ("metrics", "overlap"):
            page.goto(f"{server}/{path}?workspace={slug}")
            _wait_rendered(page, 180)
            assert "Page not found" not in page.inner_text("body")
            problems += _problems(page, path)
        _download_deck(page, server, slug, deck_path)
        page.screenshot(path=str(ARTIFACTS / "meeting_report_page.png"), full_page=True)
        problems += _problems(page, "report")
        browser.close()
    assert not problems, "\n".join(problems)

    table = json.loads(
        gemviz(
            "table",
            "--format",
            "json",
            "--samples",
            str(files["test"]),
            *[a for s in ws.splitters for a in ("--split", f"{s.name}={s.labeled}")],
            "--model",
            f"agent-a={files['a']}",
            "--model",
            f"agent-b={files['b']}",
        )
    )
    frame = pd.DataFrame(table)
    slides = list(Presentation(str(deck_path)).slides)
    titles = [s.shapes.title.text for s in slides]
    assert titles[0].startswith("Meeting study: 1,500 test steps in ")
    unit = "tasks"
    expected = [
        findings.splitter_finding(frame, s, m, unit)
        for s in ("gem", "gem-tight")
        for m in ("type_match", "exact_match")
    ]
    assert titles[1:5] == expected
    # The screenspot steps are OOD for a fit on AITZ and agent-a drops there: a finding.
    assert any(" drops " in t and "Holm p" in t for t in titles[1:5]), titles[1:5]
    assert sum("agree on" in t for t in titles) == 1
    keys = [(s, m) for s in ("gem", "gem-tight") for m in ("type_match", "exact_match")]
    for slide, (splitter, metric) in zip(slides[1:5], keys, strict=True):
        (chart,) = [s.chart for s in slide.shapes if s.has_chart]
        rows = frame[(frame.splitter == splitter) & (frame.metric == metric)]
        assert list(chart.plots[0].categories) == rows["model"].tolist()
        for k, subset in enumerate(("id", "ood")):
            np.testing.assert_allclose(
                chart.plots[0].series[k].values, rows[f"{subset}_mean"].to_numpy(float)
            )
    examples = [s for s in slides if s.shapes.title.text.startswith("Example step")]
    chosen = suggest_examples(study)
    assert len(examples) == len(chosen) >= 1
    tasks = dict(zip(study.ids, study.samples["task"], strict=True))
    for slide, sid in zip(examples, chosen, strict=True):
        text = "\n".join(s.text_frame.text for s in slide.shapes if s.has_text_frame)
        assert tasks[sid] in text


def _board(page) -> dict:
    """The runs board drawn on the Metrics page: its configuration labels (as the axis
    declares them and as the browser drew them) and its legend's names."""
    return page.evaluate(
        """() => {
        const plots = [...document.querySelectorAll('.js-plotly-plot')];
        const board = plots.find(p => JSON.stringify(p.layout.title || '').includes(
            'per configuration'));
        if (!board) return null;
        return {
          ticktext: board.layout.yaxis.ticktext || [],
          drawn: [...board.querySelectorAll('g.ytick text')].map(t => t.textContent),
          names: board.data.filter(t => t.showlegend !== false && t.name).map(t => t.name),
        };
    }"""
    )


def _fill(page, label: str, value: str, submit: str = "Enter") -> None:
    field = page.get_by_label(label, exact=True)
    field.fill(value)
    field.press(submit)
    _wait_rendered(page, 120)


def test_bfcl_study_from_a_results_folder_to_slides(server, tmp_path, monkeypatch):
    """A lab's BFCL study (18 configurations x 5 runs, two training sets) created on the
    Workspace page from its results folder, read on Metrics' runs board, and taken to slides
    that fit: every configuration on the board, each compared with the baseline, no chart
    over 40 bars and no text outside its box."""
    from playwright.sync_api import sync_playwright

    files = tmp_path / "files"
    runs = write_runs(files)
    sets = write_training_sets(files)
    # A workspace is open already (the researcher's first look at the test set), so the
    # page opens on it rather than building the demo.
    monkeypatch.setenv("GEMVIZ_CACHE", str(tmp_path / "cache"))
    first = create_from_files("first look", str(files / BFCL_TEST))
    deck_path = ARTIFACTS / "bfcl_study_deck.pptx"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    problems = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 1000})
        page.goto(f"{server}/?workspace={first.slug}")
        _wait_rendered(page, 180)
        _fill(page, "Name", "BFCL lab")
        _fill(page, "test-set file: path on the server", str(files / BFCL_TEST))
        lines = "\n".join(f"{name}={path}" for name, path in sets.items())
        _fill(page, TRAINING_LABEL, lines, "Control+Enter")
        _fill(page, "BFCL results folder or result file: path on the server", str(files / "lab"))
        total = sum(len(f) for f in runs.values())
        assert f"Found {len(runs)} model(s), {total} run file(s)" in page.inner_text("body")
        box = page.locator('[data-testid="stSelectbox"]').filter(has_text="Baseline configuration")
        box.click()
        page.keyboard.type(BASELINE)
        page.keyboard.press("Enter")
        _wait_rendered(page, 60)
        page.get_by_role("button", name="Create workspace").click()
        _wait_rendered(page, 300)  # the two training sets are embedded
        body = page.inner_text("body")
        assert (
            "Created workspace 'BFCL lab' (folder bfcl-lab): 200 test steps, 2 splitter(s), "
            "18 model(s)." in body
        ), body[-2000:]
        problems += _problems(page, "workspace")
        ws = Workspace.load(tmp_path / "cache" / "workspaces" / "bfcl-lab")
        assert sorted(m.name for m in ws.models) == sorted(runs)
        assert {m: c.baseline for m, c in ws.configs.items()} == {BASELINE: True}
        # Method and training set read off the names, in the configuration table.
        page.get_by_text("Configurations: method, training set").click()
        _fill(page, "Fill from the names (a regular expression with named groups)", PATTERN)
        page.get_by_role("button", name="Fill from the names").click()
        _wait_rendered(page, 60)
        assert Workspace.load(ws.folder).configs["sft_5k_1"].method == "sft"

        page.goto(f"{server}/metrics?workspace={ws.slug}")
        _wait_rendered(page, 300)
        problems += _problems(page, "metrics")
        chart = page.locator(".js-plotly-plot").filter(has_text="per configuration").first
        chart.scroll_into_view_if_needed()
        page.wait_for_timeout(1000)
        board = _board(page)
        assert board is not None, "no runs board on the Metrics page"
        assert sorted(board["ticktext"]) == sorted(runs), board["ticktext"]
        assert sorted(board["drawn"]) == sorted(runs), board["drawn"]  # every label drawn
        assert len(board["names"]) == len(set(board["names"])) >= 3  # a legend, by method
        assert "Each configuration against the baseline (17 comparisons)" in page.inner_text("body")
        chart.screenshot(path=str(ARTIFACTS / "bfcl_runs_board.png"))

        _download_deck(page, server, ws.slug, deck_path)
        problems += _problems(page, "report")
        browser.close()
    assert not problems, "\n".join(problems)

    prs = Presentation(str(deck_path))
    assert_deck_fits(prs)
    titles = [s.shapes.title.text for s in prs.slides]
    notes = [s.notes_slide.notes_text_frame.text if s.has_notes_slide else "" for s in prs.slides]
    # The ranking (a picture of every run), then each configuration against the baseline.
    ranking = prs.slides[1]
    assert any(s.shape_type == 13 for s in ranking.shapes), titles[1]
    against = next(k for k, n in enumerate(notes) if n.startswith("Title rule"))
    assert BASELINE in titles[against] or BASELINE in notes[against], titles[against]
    assert any("each of the 17 configurations against the baseline" in n for n in notes), notes
    # The study was opened from the page alone: the demo was never built.
    assert not (tmp_path / "cache" / "workspaces" / "demo").exists()
