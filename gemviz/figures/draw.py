"""Draw agents' actions on a step's screenshot.

The Samples page and the meeting report show one GUI step as its screenshot with the
ground-truth action and every model's predicted action drawn over it, each actor in its own
colour, and a legend strip below the picture that says what each actor did. Coordinates in an
action are normalised (0..1), so the same drawing works on the downscaled display copy and on
the placeholder shown when the screenshot cannot be read.

Actions may be :class:`gemviz.actions.Action` objects or their ``to_dict()`` form; only the
fields ``type``, ``point``, ``box``, ``text`` and ``direction`` are read.
"""

from __future__ import annotations

import io
import os
import textwrap
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont, UnidentifiedImageError

from gemviz.actions.describe import ActionView, as_view, describe
from gemviz.data.files import open_image

GT_NAME = "ground truth"
GT_COLOUR = "#1a9850"
# Colour-blind-friendly picks that stay visible on both light and dark screenshots.
MODEL_COLOURS = (
    "#d62728",
    "#1f77b4",
    "#ff7f0e",
    "#9467bd",
    "#e377c2",
    "#17becf",
    "#8c564b",
    "#bcbd22",
)
# Fill of a badge that several actors share (their swatches sit on it).
BADGE_SHARED = "#333333"
MAX_HEIGHT = 900
MAX_WIDTH = 1400
PLACEHOLDER_SIZE = (540, 960)


@dataclass
class Annotated:
    """An annotated screenshot.

    Attributes:
        image: The drawn picture (RGB), screenshot plus legend strip.
        png: The same picture encoded as PNG.
        found: False when the screenshot was missing or unreadable and a placeholder was used.
        source_size: (width, height) of the screenshot as stored (the placeholder's if not found).
        scale: Factor applied to the screenshot for display (1.0 when it was small enough).
    """

    image: Image.Image
    png: bytes
    found: bool
    source_size: tuple[int, int]
    scale: float


def load_screenshot(
    path: str | os.PathLike | None, image_root: str | os.PathLike | None = None
) -> Image.Image | None:
    """Open a screenshot as RGB, or return None when it is missing or unreadable.

    Args:
        path: The step's ``image_path``; relative paths are taken under ``image_root``.
        image_root: Folder that relative image paths are relative to.
    """
    if path is None or str(path) == "":
        return None
    p = Path(path)
    if not p.is_absolute() and image_root is not None:
        p = Path(image_root) / p

    try:
        with open_image(p) as img:
            img.load()
            return img.convert("RGB")
    except (OSError, UnidentifiedImageError, ValueError):  # GemvizError is a ValueError
        return None


def placeholder(message: str, size: tuple[int, int] = PLACEHOLDER_SIZE) -> Image.Image:
    """A grey picture that says why there is no screenshot."""
    img = Image.new("RGB", size, "#d9d9d9")
    draw = ImageDraw.Draw(img)
    font = _font(max(14, size[0] // 28))
    lines = textwrap.wrap(message, width=max(12, size[0] // 13))
    y = size[1] // 3 - 14 * len(lines)
    for line in lines:
        w = draw.textlength(line, font=font)
        draw.text(((size[0] - w) / 2, y), line, fill="#404040", font=font)
        y += int(_size(font) * 1.4)
    return img


def annotate(
    image: Image.Image | str | os.PathLike | None,
    gt: Any = None,
    predictions: Mapping[str, Any] | None = None,
    *,
    notes: Mapping[str, str] | None = None,
    image_root: str | os.PathLike | None = None,
    max_height: int = MAX_HEIGHT,
    max_width: int = MAX_WIDTH,
    legend: bool = True,
) -> Annotated:
    """Draw the ground-truth action and each model's prediction on a screenshot.

    Args:
        image: A PIL image, a path to the screenshot, or None.
        gt: The ground-truth action (Action, dict or None to leave it out).
        predictions: Model name -> predicted action, in legend order.
        notes: Optional actor name -> short text appended to its legend line (e.g. match
            results); the ground truth's key is :data:`GT_NAME`.
        image_root: Folder for relative image paths.
        max_height, max_width: Larger screenshots are downscaled to fit, keeping the aspect.
        legend: Add the legend strip below the picture (slides write the legend as text).

    Returns:
        The :class:`Annotated` picture. A missing or unreadable screenshot is replaced by a
        placeholder that says so; the actions are still drawn on it.
    """
    found = True
    if isinstance(image, Image.Image):
        img = image.convert("RGB")
    else:
        img = load_screenshot(image, image_root)
        if img is None:
            found = False
            what = "no screenshot path" if not image else f"screenshot not found: {image}"
            img = placeholder(what)
    source_size = img.size
    scale = min(1.0, max_height / img.height, max_width / img.width)
    if scale < 1.0:
        img = img.resize(
            (max(1, round(img.width * scale)), max(1, round(img.height * scale))),
            Image.Resampling.LANCZOS,
        )
    actors: list[tuple[str, str, ActionView | None]] = []
    if gt is not None:
        actors.append((GT_NAME, GT_COLOUR, as_view(gt)))
    for i, (name, action) in enumerate((predictions or {}).items()):
        actors.append((name, MODEL_COLOURS[i % len(MODEL_COLOURS)], as_view(action)))

    canvas = _Canvas(img)
    for slot, (_, colour, act) in enumerate(actors):
        if act is not None:
            DRAWERS.get(act.type, _draw_badge)(canvas, act, colour, slot)
    _flush_badges(canvas)
    out = _with_legend(canvas.image, actors, notes or {}) if legend else canvas.image
    buf = io.BytesIO()
    out.save(buf, format="PNG", optimize=False)
    return Annotated(
        image=out, png=buf.getvalue(), found=found, source_size=source_size, scale=scale
    )


class _Canvas:
    """The screenshot being drawn on, with sizes that follow its resolution."""

    def __init__(self, image: Image.Image) -> None:
        self.image = image
        self.draw = ImageDraw.Draw(image, "RGBA")
        self.unit = max(2, round(min(image.size) / 120))
        self.font = _font(max(12, self.unit * 5))
        # Badge text -> colours of the actors showing it (drawn last, see _flush_badges).
        self.badges: dict[str, list[str]] = {}

    def xy(self, point: tuple[float, float]) -> tuple[float, float]:
        x, y = (min(max(v, 0.0), 1.0) for v in point)
        return x * (self.image.width - 1), y * (self.image.height - 1)

    def label(self, xy: tuple[float, float], text: str, colour: str) -> None:
        """Text on a filled chip, kept inside the picture."""
        pad = self.unit
        w = self.draw.textlength(text, font=self.font) + 2 * pad
        h = _size(self.font) + 2 * pad
        x = min(max(xy[0], 0), max(0, self.image.width - w))
        y = min(max(xy[1], 0), max(0, self.image.height - h))
        self.draw.rounded_rectangle((x, y, x + w, y + h), radius=pad, fill=colour)
        self.draw.text((x + pad, y + pad * 0.6), text, fill="white", font=self.font)


def _marker(
    canvas: _Canvas, act: ActionView, colour: str, rings: int = 1
) -> tuple[float, float] | None:
    """Box and crosshair ring(s) at the action's target; returns the ring centre."""
    u = canvas.unit
    if act.box is not None:
        x1, y1 = canvas.xy(act.box[:2])
        x2, y2 = canvas.xy(act.box[2:])
        canvas.draw.rectangle(
            (min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2)), outline=colour, width=u
        )
    centre = None
    if act.point is not None:
        centre = canvas.xy(act.point)
    elif act.box is not None:
        centre = canvas.xy(((act.box[0] + act.box[2]) / 2, (act.box[1] + act.box[3]) / 2))
    if centre is not None:
        cx, cy = centre
        for k in range(rings):
            r = u * (4 + 3 * k)
            canvas.draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=colour, width=u)
        canvas.draw.ellipse((cx - u, cy - u, cx + u, cy + u), fill=colour)
    return centre


def _draw_click(canvas: _Canvas, act: ActionView, colour: str, slot: int) -> None:
    if _marker(canvas, act, colour) is None:
        _draw_badge(canvas, act, colour, slot)


def _draw_long_press(canvas: _Canvas, act: ActionView, colour: str, slot: int) -> None:
    centre = _marker(canvas, act, colour, rings=2)
    if centre is None:
        _draw_badge(canvas, act, colour, slot)
        return
    canvas.label((centre[0] + canvas.unit * 8, centre[1] - canvas.unit * 4), "long press", colour)


def _draw_type(canvas: _Canvas, act: ActionView, colour: str, slot: int) -> None:
    centre = _marker(canvas, act, colour)
    text = str(act.text or "")
    shown = f"type: {text if len(text) <= 48 else text[:45] + '...'}"
    if centre is None:
        _badge(canvas, shown, colour, slot)
    else:
        canvas.label((centre[0] + canvas.unit * 6, centre[1] + canvas.unit * 2), shown, colour)


# Direction of the arrow drawn for a scroll; the arrow points the way the action names.
_ARROWS = {"up": (0.0, -1.0), "down": (0.0, 1.0), "left": (-1.0, 0.0), "right": (1.0, 0.0)}


def _draw_scroll(canvas: _Canvas, act: ActionView, colour: str, slot: int) -> None:
    dx, dy = _ARROWS.get(act.direction or "", (0.0, 0.0))
    if (dx, dy) == (0.0, 0.0):
        _draw_badge(canvas, act, colour, slot)
        return
    start = act.point if act.point is not None else (0.5, 0.5)
    # Actors sharing the default start point would hide each other's arrows; offset them.
    if act.point is None:
        start = (0.5 + 0.06 * slot * abs(dy), 0.5 + 0.06 * slot * abs(dx))
    x0, y0 = canvas.xy(start)
    length = min(canvas.image.size) * 0.25
    x1, y1 = x0 + dx * length, y0 + dy * length
    u = canvas.unit
    canvas.draw.line((x0, y0, x1, y1), fill=colour, width=u * 2)
    head = u * 6
    px, py = -dy, dx  # perpendicular
    canvas.draw.polygon(
        [
            (x1 + dx * head, y1 + dy * head),
            (x1 + px * head, y1 + py * head),
            (x1 - px * head, y1 - py * head),
        ],
        fill=colour,
    )
    canvas.draw.ellipse((x0 - u * 2, y0 - u * 2, x0 + u * 2, y0 + u * 2), fill=colour)
    # Labels of parallel arrows would cover each other: stack them by actor.
    step = _size(canvas.font) + u * 3
    canvas.label((x1 + u * 4, y1 + u * 4 + slot * step), f"scroll {act.direction}", colour)


def _badge(canvas: _Canvas, text: str, colour: str, slot: int) -> None:
    # Collected, then drawn by _flush_badges: actors agreeing on an action share one chip.
    canvas.badges.setdefault(text, []).append(colour)


def _flush_badges(canvas: _Canvas) -> None:
    """One chip per distinct badge text in the top-left corner, a swatch per actor on it.

    Four agents that all say COMPLETE give one chip with four swatches, not four chips
    stacked over the app's title bar.
    """
    u = canvas.unit
    size = _size(canvas.font)
    y = u * 2
    for text, colours in canvas.badges.items():
        swatch = size * 0.8
        w = len(colours) * (swatch + u) + canvas.draw.textlength(text, font=canvas.font) + 3 * u
        h = size + 2 * u
        x = u * 2
        fill = colours[0] if len(colours) == 1 else BADGE_SHARED
        canvas.draw.rounded_rectangle((x, y, x + w, y + h), radius=u, fill=fill)
        sx = x + u
        for colour in colours:
            top = y + (h - swatch) / 2
            canvas.draw.rectangle(
                (sx, top, sx + swatch, top + swatch), fill=colour, outline="white"
            )
            sx += swatch + u
        canvas.draw.text((sx + u * 0.5, y + u * 0.6), text, fill="white", font=canvas.font)
        y += h + u


def _draw_badge(canvas: _Canvas, act: ActionView, colour: str, slot: int) -> None:
    text = act.type.replace("_", " ").upper()
    if act.text:
        text += f": {str(act.text)[:40]}"
    _badge(canvas, text, colour, slot)
    if act.point is not None or act.box is not None:
        _marker(canvas, act, colour)


# Action type -> drawing function; every other type (press_back, press_home, press_enter,
# open_app, complete, impossible, wait, invalid) is drawn as a badge.
DRAWERS: dict[str, Callable[[_Canvas, ActionView, str, int], None]] = {
    "click": _draw_click,
    "long_press": _draw_long_press,
    "type": _draw_type,
    "scroll": _draw_scroll,
}


def _with_legend(
    image: Image.Image, actors: list[tuple[str, str, ActionView | None]], notes: Mapping[str, str]
) -> Image.Image:
    if not actors:
        return image

    font = _font(14)
    line_h, wrap_h = 22, 18  # one entry per actor; a wrapped entry's lines sit closer
    width = max(image.width, 360)
    max_chars = max(10, int((width - 30) / 7.5))
    entries = []
    for name, colour, act in actors:
        text = f"{name}: {describe(act) if act is not None else 'no action'}"
        if notes.get(name):
            text += f"  [{notes[name]}]"
        # Wrapped, not cut: the match note at the end is what a reader looks for.
        lines = textwrap.wrap(text, max_chars, subsequent_indent="  ") or [text]
        if len(lines) > 3:
            lines = [*lines[:2], "  ..." + lines[-1].strip()[-(max_chars - 6) :]]
        entries.append((colour, lines))
    height = 10 + sum(line_h + wrap_h * (len(lines) - 1) for _, lines in entries)
    strip = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(strip)
    y = 5
    for colour, lines in entries:
        draw.rectangle((8, y + 4, 22, y + 18), fill=colour)
        for k, line in enumerate(lines):
            draw.text((30, y + 3 + k * wrap_h), line, fill="black", font=font)
        y += line_h + wrap_h * (len(lines) - 1)
    out = Image.new("RGB", (width, image.height + strip.height), "white")
    out.paste(image, (0, 0))
    out.paste(strip, (0, image.height))
    return out


_FONTS: dict[int, ImageFont.FreeTypeFont | ImageFont.ImageFont] = {}


def _font(size: int) -> Any:
    if size not in _FONTS:
        try:
            _FONTS[size] = ImageFont.load_default(size=size)
        except (OSError, TypeError):  # Pillow built without FreeType
            _FONTS[size] = ImageFont.load_default()
    return _FONTS[size]


def _size(font: Any) -> int:
    return int(getattr(font, "size", 11))
