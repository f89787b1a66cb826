"""A test step's pictures: its screenshot with every actor's action drawn on it, and thumbnails."""

from __future__ import annotations

import io
import os
from collections.abc import Mapping
from typing import Any

from gemviz.analysis.samples import outcome_text, step_actions
from gemviz.data.records import IMAGE
from gemviz.data.study import Study
from gemviz.figures.draw import annotate, load_screenshot, placeholder

THUMB_SIZE = (180, 320)


def annotate_step(
    study: Study,
    pos: int,
    outputs: Mapping[str, Any] | None = None,
    formats: Mapping[str, str] | None = None,
    image_root: str | os.PathLike | None = None,
    max_height: int = 900,
):
    """The step's screenshot with the ground truth and every prediction drawn on it.

    Each model's legend line carries its type/exact match for the step.

    Returns:
        A :class:`gemviz.figures.draw.Annotated`.
    """
    gt, preds = step_actions(study, pos, outputs, formats)
    notes = {m: outcome_text(study, m, pos) for m in preds}
    image = study.samples[IMAGE].iloc[pos] if IMAGE in study.samples.columns else None
    return annotate(image, gt, preds, notes=notes, image_root=image_root, max_height=max_height)


def thumbnail(
    path: str | None, image_root: str | os.PathLike | None = None, size: tuple = THUMB_SIZE
) -> bytes:
    """A small PNG of a screenshot (a grey placeholder when it cannot be read)."""
    image = load_screenshot(path, image_root) or placeholder("no screenshot", (size[0], size[0]))
    image.thumbnail(size)
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()
