"""Real-browser test: start the app with ``streamlit run`` and open every page in Chromium.

Uses Debian's ``/usr/bin/chromium`` through the ``playwright`` package (never a downloaded
browser). Each page gets a screenshot in ``tests/_artifacts/``; the test fails on any
Streamlit exception box or error alert. Without Chromium the test is skipped, unless
``GEMVIZ_REQUIRE_BROWSER=1`` (set by CI), where a missing browser is a failure.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import ROOT

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

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _pages() -> list[str]:
    """URL paths of the pages that exist, in app.py's order (the same rule as app.py)."""
    import ast

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
        for path in _pages():
            page.goto(f"{server}/{path}")
            _wait_rendered(page, BUILD_TIMEOUT_S if first else 120)
            first = False
            page.screenshot(path=str(ARTIFACTS / f"page_{path}.png"), full_page=True)
            for selector in ('[data-testid="stException"]', '[data-testid="stAlertContentError"]'):
                for text in page.locator(selector).all_inner_texts():
                    problems.append(f"{path}: {text[:300]}")
        browser.close()
    assert not problems, "\n".join(problems)


def _problems(page, where: str) -> list[str]:
    found = []
    for selector in ('[data-testid="stException"]', '[data-testid="stAlertContentError"]'):
        found += [f"{where}: {t[:300]}" for t in page.locator(selector).all_inner_texts()]
    return found


def test_sample_and_embeddings_pages_in_the_browser(server, tmp_path):
    """Open one step by URL and check its annotated screenshot is drawn; run a UMAP."""
    from playwright.sync_api import sync_playwright

    from gemviz.workspace import Workspace

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
