"""Tests for gemviz.figures.draw: actions drawn on screenshots, downscaling, placeholder, legend."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageColor

from gemviz.actions import parse_action
from gemviz.figures.draw import (
    GT_COLOUR,
    MODEL_COLOURS,
    annotate,
    describe,
    load_screenshot,
)


def _legend_height(n: int) -> int:
    return 10 + 22 * n


@pytest.fixture
def screenshot(tmp_path):
    """A plain white 400 x 800 'phone' screenshot on disk."""
    path = tmp_path / "shot.png"
    Image.new("RGB", (400, 800), "white").save(path)
    return path


def _near(img: Image.Image, xy: tuple[int, int], colour: str, radius: int = 2) -> bool:
    """Whether ``colour`` appears within ``radius`` pixels of ``xy``."""
    target = np.array(ImageColor.getrgb(colour))
    arr = np.asarray(img)[xy[1] - radius : xy[1] + radius + 1, xy[0] - radius : xy[0] + radius + 1]
    return bool((np.abs(arr.astype(int) - target).sum(axis=-1) < 30).any())


def test_click_is_drawn_at_its_normalised_point(screenshot):
    out = annotate(screenshot, gt={"type": "click", "point": (0.25, 0.5)})
    assert out.found and out.scale == 1.0
    assert out.image.size == (400, 800 + _legend_height(1))
    assert _near(out.image, (100, 400), GT_COLOUR)
    assert not _near(out.image, (300, 100), GT_COLOUR)


def test_each_model_has_its_own_colour_and_a_legend_line(screenshot):
    preds = {
        "a": {"type": "click", "point": (0.75, 0.25)},
        "b": {"type": "long_press", "point": (0.5, 0.9)},
    }
    out = annotate(screenshot, gt={"type": "click", "point": (0.25, 0.5)}, predictions=preds)
    assert out.image.height == 800 + _legend_height(3)
    assert _near(out.image, (300, 200), MODEL_COLOURS[0])
    assert _near(out.image, (200, 720), MODEL_COLOURS[1])
    # legend swatches sit in the strip below the screenshot, one per actor
    for i, colour in enumerate((GT_COLOUR, MODEL_COLOURS[0], MODEL_COLOURS[1])):
        assert _near(out.image, (15, 800 + 5 + i * 22 + 11), colour)


def test_box_scroll_type_and_badges_leave_marks(screenshot):
    gt = {"type": "click", "box": (0.1, 0.1, 0.3, 0.2)}
    preds = {
        "scroller": {"type": "scroll", "direction": "down"},
        "typist": {"type": "type", "text": "hello"},
        "quitter": {"type": "press_back"},
    }
    out = annotate(screenshot, gt=gt, predictions=preds)
    shot = out.image.crop((0, 0, 400, 800))
    assert _near(shot, (40, 120), GT_COLOUR)  # left edge of the box
    # the scroll arrow starts near mid-screen (actors are offset a little) and runs down
    assert _near(shot, (215, 400), MODEL_COLOURS[0], radius=30)
    assert _near(shot, (215, 520), MODEL_COLOURS[0], radius=30)
    assert not _near(shot, (215, 280), MODEL_COLOURS[0], radius=30)
    colours = {tuple(c) for c in np.asarray(shot).reshape(-1, 3)[::7]}
    for colour in (MODEL_COLOURS[1], MODEL_COLOURS[2]):
        assert ImageColor.getrgb(colour) in colours


def test_large_screenshots_are_downscaled(tmp_path):
    path = tmp_path / "big.png"
    Image.new("RGB", (1080, 2400), "white").save(path)
    out = annotate(path, gt={"type": "click", "point": (0.5, 0.5)}, max_height=900)
    assert out.source_size == (1080, 2400)
    assert out.scale == pytest.approx(900 / 2400)
    assert out.image.height == 900 + _legend_height(1)
    assert _near(out.image, (int(405 * 0.5), 450), GT_COLOUR)


@pytest.mark.parametrize("path", ["/no/such/shot.png", None, "not_an_image.png"])
def test_missing_or_unreadable_screenshot_gives_a_placeholder(tmp_path, path):
    if path == "not_an_image.png":
        path = tmp_path / path
        path.write_text("this is not a PNG")
    out = annotate(path, gt={"type": "click", "point": (0.5, 0.5)})
    assert not out.found
    assert load_screenshot(path) is None
    # still a usable picture, and the action is still drawn on it
    assert out.image.width > 100
    w = out.image.width
    h = out.image.height - _legend_height(1)
    assert _near(out.image, (w // 2, h // 2), GT_COLOUR, radius=3)


def test_png_bytes_decode_to_the_image(screenshot):
    out = annotate(screenshot, predictions={"m": {"type": "complete"}})
    again = Image.open(io.BytesIO(out.png))
    assert again.size == out.image.size
    assert again.format == "PNG"


def test_real_action_objects_from_the_parser(screenshot):
    gt = parse_action("CLICK <point>[[500, 250]]</point>", fmt="gem")
    out = annotate(screenshot, gt=gt)
    assert _near(out.image, (200, 200), GT_COLOUR, radius=3)


def test_describe():
    assert describe(None) == "no action"
    assert describe({"type": "scroll", "direction": "up"}) == "scroll up"
    assert describe({"type": "click", "point": (0.5, 0.25)}) == "click (0.50, 0.25)"
    assert "'hi'" in describe({"type": "type", "text": "hi"})


def test_long_legend_lines_wrap_instead_of_being_cut(screenshot):
    text = "a fairly long text typed by the agent " * 3
    out = annotate(
        screenshot, predictions={"typist": {"type": "type", "text": text}}, notes={"typist": "x"}
    )
    # the entry took more than one line (the strip grew) rather than ending in "..."
    assert out.image.height > 800 + _legend_height(1)


def test_actors_agreeing_on_a_badge_share_one_chip(screenshot):
    preds = {name: {"type": "complete"} for name in ("a", "b", "c")}
    out = annotate(screenshot, gt={"type": "complete"}, predictions=preds)
    shot = np.asarray(out.image.crop((0, 0, 400, 800))).astype(int)
    dark = np.abs(shot - np.array(ImageColor.getrgb("#333333"))).sum(axis=-1) < 30
    rows = np.flatnonzero(dark.any(axis=1))
    # one chip: the rows it covers are one run, about one line of text high
    assert len(rows) and rows[-1] - rows[0] < 40 and len(rows) == rows[-1] - rows[0] + 1
    chip = out.image.crop((0, int(rows[0]), 400, int(rows[-1]) + 1))
    in_chip = {tuple(c) for c in np.asarray(chip).reshape(-1, 3)}
    for colour in (GT_COLOUR, *MODEL_COLOURS[:3]):
        assert ImageColor.getrgb(colour) in in_chip
    # actors that disagree still get a chip each, in their own colour
    apart = annotate(screenshot, gt={"type": "complete"}, predictions={"a": {"type": "wait"}})
    top = {tuple(c) for c in np.asarray(apart.image.crop((0, 0, 400, 120))).reshape(-1, 3)}
    assert ImageColor.getrgb(GT_COLOUR) in top and ImageColor.getrgb(MODEL_COLOURS[0]) in top
