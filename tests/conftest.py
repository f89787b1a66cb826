"""Shared fixtures: the GEM release's score files and a fresh cache folder per test."""

from __future__ import annotations

from pathlib import Path

import pytest

SEED = 42
ROOT = Path(__file__).resolve().parents[1]
GEM_PUBLIC = ROOT.parent / "shared" / "data" / "gem-public"
# The GEM release's out-of-distribution score files (AITZ test is the ID set).
OOD_FILES = [
    "androidcontrol_inputscore.json",
    "Kairos_test_inputscore.json",
    "metagui_inputscore.json",
    "screenspot-mobile_inputscore.json",
    "screenspot-desktop_inputscore.json",
    "screenspot-web_inputscore.json",
    "omniact-desktop_inputscore.json",
    "omniact-web_inputscore.json",
]


@pytest.fixture(scope="session")
def gem_public() -> Path:
    """The folder of the GEM release's published score files."""
    if not (GEM_PUBLIC / "AITZ_test_inputscore.json").exists():
        pytest.fail(f"GEM release score files not found under {GEM_PUBLIC}")
    return GEM_PUBLIC


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Point gemviz's cache at a temporary folder so tests never touch cache/."""
    monkeypatch.setenv("GEMVIZ_CACHE", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
