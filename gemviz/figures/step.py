"""A test step's pictures: its screenshot with every actor's action drawn on it, and thumbnails."""

from __future__ import annotations

import io
import os
from collections.abc import Mapping, Sequence
from typing import Any

from PIL import Image, ImageDraw

from gemviz.actions.describe import describe
from gemviz.analysis.outcomes import outcome_text
from gemviz.analysis.step import step_actions
from gemviz.data.fields import IMAGE, TASK
from gemviz.data.study import Study
from gemviz.figures.draw import (
    GT_COLOUR,
    GT_NAME,
    MODEL_COLOURS,
    _font,
    annotate,
    load_screenshot,
    placeholder,
)

THUMB_SIZE = (180, 320)


def annotate_step(
    study: Study,
    pos: int,
    outputs: Mapping[str, Any] | None = None,
    formats: Mapping[str, str] | None = None,
    image_root: str | os.PathLike | None = None,
    max_height: int = 900,
    legend: bool = True,
):
    """The step's screenshot with the ground truth and every prediction drawn on it.

    Each model's legend line carries its type/exact match for the step; ``legend=False``
    leaves the legend strip off (see :func:`step_legend` for it as text).

    Returns:
        A :class:`gemviz.figures.draw.Annotated`.
    """
    gt, preds = step_actions(study, pos, outputs, formats)
    notes = {m: outcome_text(study, m, pos) for m in preds}
    image = study.samples[IMAGE].iloc[pos] if IMAGE in study.samples.columns else None
    return annotate(
        image,
        gt,
        preds,
        notes=notes,
        image_root=image_root,
        max_height=max_height,
        legend=legend,
    )


def step_legend(
    study: Study,
    pos: int,
    outputs: Mapping[str, Any] | None = None,
    formats: Mapping[str, str] | None = None,
) -> list[tuple[str, str, str]]:
    """What each actor did on the step, in the colours :func:`annotate_step` draws them.

    Returns:
        ``(name, colour, text)`` per actor: the ground truth first, then each model with its
        type/exact match, e.g. ``("sft", "#d62728", "click (0.41, 0.22) [type 1, exact 0]")``.
    """
    gt, preds = step_actions(study, pos, outputs, formats)
    out = []
    if gt is not None:
        out.append((GT_NAME, GT_COLOUR, describe(gt)))
    for i, (name, action) in enumerate(preds.items()):
        match = outcome_text(study, name, pos)
        out.append((name, MODEL_COLOURS[i % len(MODEL_COLOURS)], f"{describe(action)} [{match}]"))
    return out


CARD_SIZE = (1920, 1080)


def step_card(
    study: Study,
    pos: int,
    outputs: Mapping[str, Any] | None = None,
    formats: Mapping[str, str] | None = None,
    image_root: str | os.PathLike | None = None,
    caption: str = "",
    note: str = "",
    tags: Sequence[str] = (),
) -> bytes:
    """A 16:9 picture of a step for slides: the screenshot with the actions drawn, and beside
    it the task, each splitter's label, the actions' legend, the tags and the note.

    A missing screenshot becomes a grey panel that says so; the actions are still drawn.

    Args:
        study: The study.
        pos: Row of the step.
        outputs: Model -> raw output for this step.
        formats: Model -> action format.
        image_root: Folder for relative screenshot paths.
        caption: A line under the task (e.g. the example's caption).
        note: The step's note.
        tags: The step's tags.

    Returns:
        PNG bytes of a 1920 x 1080 picture.
    """
    width, height = CARD_SIZE
    pad = 48
    shot_w = int(width * 0.38)
    picture = annotate_step(
        study, pos, outputs, formats, image_root, max_height=height - 2 * pad, legend=False
    )
    shot = picture.image
    shot.thumbnail((shot_w, height - 2 * pad))
    card = Image.new("RGB", CARD_SIZE, "white")
    card.paste(shot, (pad + (shot_w - shot.width) // 2, (height - shot.height) // 2))
    draw = ImageDraw.Draw(card)
    x = 2 * pad + shot_w
    text_w = width - x - pad
    y = pad
    task = str(study.samples[TASK].iloc[pos])
    y = _paragraph(draw, (x, y), f"Task: {task}", text_w, 40, "#222222", max_lines=4)
    if caption:
        y = _paragraph(draw, (x, y + 8), caption, text_w, 30, "#555555", max_lines=2)
    labels = ", ".join(f"{s} {study.labels[s].iloc[pos]}" for s in study.splitters)
    y = _paragraph(draw, (x, y + 16), f"Labels: {labels}", text_w, 30, "#555555", max_lines=2)
    y += 24
    for name, colour, text in step_legend(study, pos, outputs, formats):
        draw.rectangle((x, y + 8, x + 26, y + 34), fill=colour)
        y = _paragraph(draw, (x + 40, y), f"{name}: {text}", text_w - 40, 30, "#222222", 2)
        y += 6
    if tags:
        y = _paragraph(draw, (x, y + 18), "Tags: " + "; ".join(tags), text_w, 30, "#222222", 2)
    if note:
        _paragraph(draw, (x, y + 18), f"Note: {note}", text_w, 30, "#222222", max_lines=6)
    buf = io.BytesIO()
    card.save(buf, format="PNG", dpi=(150, 150))
    return buf.getvalue()


def _paragraph(draw, xy, text: str, width: int, size: int, fill: str, max_lines: int) -> int:
    """Write ``text`` wrapped to ``width`` pixels; returns the y below it."""
    font = _font(size)
    words, lines, line = str(text).split(), [], ""
    for word in words:
        trial = f"{line} {word}".strip()
        if draw.textlength(trial, font=font) <= width or not line:
            line = trial
        else:
            lines.append(line)
            line = word
    if line:
        lines.append(line)
    if len(lines) > max_lines:
        lines = [*lines[: max_lines - 1], lines[max_lines - 1] + " …"]
    x, y = xy
    for line in lines:
        draw.text((x, y), line, fill=fill, font=font)
        y += int(size * 1.3)
    return y


def thumbnail(
    path: str | None, image_root: str | os.PathLike | None = None, size: tuple = THUMB_SIZE
) -> bytes:
    """A small PNG of a screenshot (a grey placeholder when it cannot be read)."""
    image = load_screenshot(path, image_root) or placeholder("no screenshot", (size[0], size[0]))
    image.thumbnail(size)
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()
