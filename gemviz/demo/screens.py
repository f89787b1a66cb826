"""Lay out and draw the demo's screenshots with PIL.

A :class:`Screen` is a list of labelled :class:`Widget` s with boxes in normalized
coordinates (0..1 of the image's width and height), laid out by one function per platform:
a phone (540 x 1200: app bar, search field, inputs, buttons, list rows, tab bar), a desktop
window (1280 x 800: title bar, menu bar, toolbar, sidebar, table) and a web page
(1280 x 900: browser chrome, site header with links, form, result cards). Rendering draws
the same boxes the layout recorded, so a ground-truth click at a widget's centre lands on the
drawn widget.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from gemviz.data.write import atomic_path
from gemviz.demo.catalog import DESKTOP, PHONE, WEB, AppSpec, ScreenSpec

Box = tuple[float, float, float, float]

SIZES: dict[str, tuple[int, int]] = {PHONE: (540, 1200), DESKTOP: (1280, 800), WEB: (1280, 900)}

# Widget kinds a task can target with a click; the others are decoration or typing targets.
CLICKABLE = ("button", "row", "tab", "menu", "link", "nav", "icon")
TYPEABLE = ("search", "input")


@dataclass(frozen=True)
class Widget:
    """One labelled widget; ``box`` is (x1, y1, x2, y2) normalized to 0..1."""

    kind: str
    label: str
    box: Box

    @property
    def center(self) -> tuple[float, float]:
        x1, y1, x2, y2 = self.box
        return ((x1 + x2) / 2, (y1 + y2) / 2)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "label": self.label, "box": [round(v, 5) for v in self.box]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Widget:
        return cls(d["kind"], d["label"], tuple(float(v) for v in d["box"]))


@dataclass
class Screen:
    """A laid-out screen of one app; ``key`` names it uniquely within the demo."""

    platform: str
    app: str
    name: str
    variant: int
    title: str
    root: bool
    widgets: list[Widget]
    # Parts that are drawn but are not targets (secondary texts, per widget label).
    secondary: dict[str, str]
    accent: tuple[int, int, int]

    @property
    def key(self) -> str:
        return f"{self.app}/{self.name}-{self.variant}"

    @property
    def size(self) -> tuple[int, int]:
        return SIZES[self.platform]

    def find(self, label: str) -> Widget | None:
        """The first widget with this exact label, or None."""
        return next((w for w in self.widgets if w.label == label), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "platform": self.platform,
            "app": self.app,
            "name": self.name,
            "variant": self.variant,
            "title": self.title,
            "root": self.root,
            "size": list(self.size),
            "widgets": [w.to_dict() for w in self.widgets],
        }


def layout(app: AppSpec, name: str, variant: int) -> Screen:
    """Lay out screen ``name`` of ``app``; ``variant`` picks which list rows are shown.

    Args:
        app: The app from :data:`gemviz.demo.catalog.APPS`.
        name: One of ``app.screens``.
        variant: Any integer; the same (app, name, variant) always gives the same screen.

    Returns:
        The screen with every widget's box recorded.
    """
    spec = app.screens[name]
    # A string seed is hashed deterministically, so screens are stable across runs.
    rng = random.Random(f"{app.name}/{name}/{variant}")
    rows = list(spec.rows)
    if variant and len(rows) > 3:
        rng.shuffle(rows)
        rows = rows[: max(3, len(rows) - rng.randint(0, 2))]
    secondary: dict[str, str] = {}
    labels = []
    for row in rows:
        label, _, sub = row.partition("|")
        labels.append(label)
        if sub:
            secondary[label] = sub
    screen = Screen(
        app.platform, app.name, name, variant, spec.title, spec.root, [], secondary, app.accent
    )
    screen.widgets = LAYOUTS[app.platform](spec, labels)
    return screen


def _norm(box: tuple[float, float, float, float], size: tuple[int, int]) -> Box:
    w, h = size
    return (box[0] / w, box[1] / h, box[2] / w, box[3] / h)


def _text_width(text: str, size: int) -> int:
    return int(_font(size).getlength(text))


def _phone(spec: ScreenSpec, rows: list[str]) -> list[Widget]:
    size = SIZES[PHONE]
    out: list[tuple[str, str, tuple[float, float, float, float]]] = []
    if not spec.root:
        out.append(("icon", "Navigate up", (8, 44, 76, 116)))
    out.append(("icon", "More options", (464, 44, 532, 116)))
    y = 144
    if spec.search:
        out.append(("search", spec.search, (20, y, 520, y + 64)))
        y += 84
    for label in spec.inputs:
        out.append(("input", label, (20, y, 520, y + 64)))
        y += 80
    for i in range(0, len(spec.buttons), 2):
        pair = spec.buttons[i : i + 2]
        width = (500 - 16 * (len(pair) - 1)) / len(pair)
        for j, label in enumerate(pair):
            x1 = 20 + j * (width + 16)
            out.append(("button", label, (x1, y, x1 + width, y + 64)))
        y += 80
    bottom = 1104 if spec.tabs else 1200
    for label in rows:
        if y + 96 > bottom:
            break
        out.append(("row", label, (0, y, 540, y + 96)))
        y += 96
    if spec.tabs:
        width = 540 / len(spec.tabs)
        for i, label in enumerate(spec.tabs):
            out.append(("tab", label, (i * width, 1108, (i + 1) * width, 1200)))
    return [Widget(k, lab, _norm(b, size)) for k, lab, b in out]


def _desktop(spec: ScreenSpec, rows: list[str]) -> list[Widget]:
    size = SIZES[DESKTOP]
    out: list[tuple[str, str, tuple[float, float, float, float]]] = []
    x = 12
    for label in spec.menu:
        w = _text_width(label, 18) + 24
        out.append(("menu", label, (x, 38, x + w, 66)))
        x += w + 4
    x = 12
    for label in spec.buttons:
        w = _text_width(label, 18) + 32
        out.append(("button", label, (x, 76, x + w, 114)))
        x += w + 8
    if spec.search:
        out.append(("search", spec.search, (960, 76, 1264, 114)))
    y = 132
    for label in spec.sidebar:
        out.append(("nav", label, (8, y, 222, y + 40)))
        y += 44
    y = 132
    x = 246
    for label in spec.inputs:
        w = 200 if "name" in label.lower() else 780
        out.append(("input", label, (x, y, x + w, y + 40)))
        x += w + 12
    if spec.inputs:
        y += 56
    y += 36  # table header
    for label in rows:
        out.append(("row", label, (246, y, 1264, y + 44)))
        y += 44
    return [Widget(k, lab, _norm(b, size)) for k, lab, b in out]


def _web(spec: ScreenSpec, rows: list[str]) -> list[Widget]:
    size = SIZES[WEB]
    out: list[tuple[str, str, tuple[float, float, float, float]]] = []
    out.append(("icon", "Back", (12, 50, 48, 86)))
    x = 1264
    for label in reversed(spec.links):
        w = _text_width(label, 20) + 28
        out.append(("link", label, (x - w, 112, x, 152)))
        x -= w + 8
    y = 196
    if spec.search:
        out.append(("search", spec.search, (240, y, 1040, y + 56)))
        y += 80
    if spec.inputs:
        width = (1040 - 16 * (len(spec.inputs) - 1)) / len(spec.inputs)
        for i, label in enumerate(spec.inputs):
            x1 = 120 + i * (width + 16)
            out.append(("input", label, (x1, y, x1 + width, y + 56)))
        y += 80
    x = 120
    for label in spec.buttons:
        w = _text_width(label, 22) + 48
        out.append(("button", label, (x, y, x + w, y + 56)))
        x += w + 16
    if spec.buttons:
        y += 84
    for label in rows:
        if y + 104 > 890:
            break
        out.append(("row", label, (120, y, 1160, y + 92)))
        y += 104
    return [Widget(k, lab, _norm(b, size)) for k, lab, b in out]


LAYOUTS: dict[str, Callable[[ScreenSpec, list[str]], list[Widget]]] = {
    PHONE: _phone,
    DESKTOP: _desktop,
    WEB: _web,
}


# ---------------------------------------------------------------- drawing


@functools.lru_cache(maxsize=32)
def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=size)


INK = (32, 33, 36)
MUTED = (95, 99, 104)
LINE = (218, 220, 224)
WHITE = (255, 255, 255)


def _fit(text: str, size: int, width: float) -> str:
    """Shorten ``text`` with an ellipsis so it fits in ``width`` pixels."""
    if _text_width(text, size) <= width:
        return text
    while text and _text_width(text + "...", size) > width:
        text = text[:-1]
    return text + "..."


def _px(box: Box, size: tuple[int, int]) -> tuple[int, int, int, int]:
    w, h = size
    return (round(box[0] * w), round(box[1] * h), round(box[2] * w), round(box[3] * h))


def _centered(draw: ImageDraw.ImageDraw, box, text: str, size: int, fill) -> None:
    x1, y1, x2, y2 = box
    text = _fit(text, size, x2 - x1 - 8)
    draw.text(((x1 + x2) / 2, (y1 + y2) / 2), text, font=_font(size), fill=fill, anchor="mm")


def _tint(color: tuple[int, int, int], amount: float) -> tuple[int, int, int]:
    return tuple(round(c + (255 - c) * amount) for c in color)


def _draw_widget(draw: ImageDraw.ImageDraw, screen: Screen, widget: Widget, first: bool) -> None:
    """Draw one widget in its box; the look depends on its kind and the platform."""
    size = screen.size
    x1, y1, x2, y2 = box = _px(widget.box, size)
    accent = screen.accent
    small = screen.platform != PHONE
    if widget.kind == "button":
        if first:
            draw.rounded_rectangle(box, radius=8 if small else 32, fill=accent)
            _centered(draw, box, widget.label, 18 if small else 24, WHITE)
        else:
            draw.rounded_rectangle(
                box, radius=8 if small else 32, outline=accent, width=2, fill=WHITE
            )
            _centered(draw, box, widget.label, 18 if small else 24, accent)
    elif widget.kind in TYPEABLE:
        _draw_field(draw, widget, box, small)
    elif widget.kind == "row":
        _draw_row(draw, screen, widget, box)
    elif widget.kind == "tab":
        color = accent if first else MUTED
        cx = (x1 + x2) / 2
        draw.rounded_rectangle(
            (cx - 14, y1 + 16, cx + 14, y1 + 44), radius=6, outline=color, width=3
        )
        _centered(draw, (x1, y1 + 48, x2, y2 - 6), widget.label, 20, color)
    elif widget.kind in ("menu", "link"):
        _centered(
            draw,
            box,
            widget.label,
            18 if widget.kind == "menu" else 20,
            INK if widget.kind == "menu" else accent,
        )
    elif widget.kind == "nav":
        if first:
            draw.rounded_rectangle(box, radius=6, fill=_tint(accent, 0.82))
        draw.text((x1 + 40, (y1 + y2) / 2), widget.label, font=_font(18), fill=INK, anchor="lm")
        draw.rectangle((x1 + 12, y1 + 12, x1 + 28, y2 - 12), outline=MUTED, width=2)
    elif widget.kind == "icon":
        _draw_icon(draw, widget, box, screen)


def _draw_field(draw: ImageDraw.ImageDraw, widget: Widget, box, small: bool) -> None:
    """A text field or search box with its placeholder."""
    x1, y1, x2, y2 = box
    radius = (y2 - y1) // 2 if widget.kind == "search" else 6
    fill = (241, 243, 244) if widget.kind == "search" else WHITE
    draw.rounded_rectangle(box, radius=radius, fill=fill, outline=LINE, width=2)
    tx = x1 + 16
    if widget.kind == "search":
        r = (y2 - y1) // 5
        cx, cy = x1 + 18 + r, (y1 + y2) // 2 - 2
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=MUTED, width=2)
        draw.line((cx + r - 2, cy + r - 2, cx + r + 6, cy + r + 6), fill=MUTED, width=3)
        tx = cx + r + 16
    fs = 18 if small else 24
    draw.text(
        (tx, (y1 + y2) / 2),
        _fit(widget.label, fs, x2 - tx - 8),
        font=_font(fs),
        fill=MUTED,
        anchor="lm",
    )


def _draw_row(draw: ImageDraw.ImageDraw, screen: Screen, widget: Widget, box) -> None:
    """A list row (phone), table row (desktop) or card (web), with its secondary text."""
    x1, y1, x2, y2 = box
    accent = screen.accent
    if screen.platform != WEB:
        draw.line((x1, y2 - 1, x2, y2 - 1), fill=LINE, width=1)
    sub = screen.secondary.get(widget.label)
    if screen.platform == PHONE:
        draw.ellipse((x1 + 20, y1 + 24, x1 + 68, y1 + 72), fill=_tint(accent, 0.75))
        draw.text(
            (x1 + 88, y1 + (30 if sub else 48)),
            _fit(widget.label, 26, 420),
            font=_font(26),
            fill=INK,
            anchor="lm",
        )
        if sub:
            draw.text(
                (x1 + 88, y1 + 66), _fit(sub, 20, 420), font=_font(20), fill=MUTED, anchor="lm"
            )
        draw.text((x2 - 28, (y1 + y2) / 2), ">", font=_font(26), fill=MUTED, anchor="mm")
    elif screen.platform == DESKTOP:
        draw.text((x1 + 12, (y1 + y2) / 2), widget.label, font=_font(18), fill=INK, anchor="lm")
        if sub:
            draw.text((x1 + 640, (y1 + y2) / 2), sub, font=_font(18), fill=MUTED, anchor="lm")
    else:
        draw.rounded_rectangle(box, radius=10, outline=LINE, width=2, fill=WHITE)
        draw.rectangle((x1 + 12, y1 + 12, x1 + 120, y2 - 12), fill=_tint(accent, 0.7))
        draw.text((x1 + 140, y1 + 32), widget.label, font=_font(24), fill=INK, anchor="lm")
        if sub:
            draw.text((x1 + 140, y1 + 64), sub, font=_font(18), fill=MUTED, anchor="lm")


def _draw_icon(draw: ImageDraw.ImageDraw, widget: Widget, box, screen: Screen) -> None:
    x1, y1, x2, y2 = box
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    color = WHITE if screen.platform == PHONE else MUTED
    if widget.label in ("Navigate up", "Back"):
        r = (x2 - x1) / 4
        draw.line((cx - r, cy, cx + r, cy), fill=color, width=4)
        draw.line((cx - r, cy, cx, cy - r), fill=color, width=4)
        draw.line((cx - r, cy, cx, cy + r), fill=color, width=4)
    else:  # three vertical dots
        for dy in (-12, 0, 12):
            draw.ellipse((cx - 4, cy + dy - 4, cx + 4, cy + dy + 4), fill=color)


def _chrome(draw: ImageDraw.ImageDraw, screen: Screen) -> None:
    """Platform frame drawn under the widgets: status/app bars, title bars, browser bars."""
    w, h = screen.size
    accent = screen.accent
    if screen.platform == PHONE:
        draw.rectangle((0, 0, w, 36), fill=accent)
        draw.text((20, 18), "9:41", font=_font(18), fill=WHITE, anchor="lm")
        draw.text((w - 20, 18), "100%", font=_font(18), fill=WHITE, anchor="rm")
        draw.rectangle((0, 36, w, 124), fill=accent)
        x = 24 if screen.root else 88
        draw.text((x, 80), _fit(screen.title, 32, 360), font=_font(32), fill=WHITE, anchor="lm")
        if any(wd.kind == "tab" for wd in screen.widgets):
            draw.rectangle((0, 1104, w, h), fill=(248, 249, 250))
            draw.line((0, 1104, w, 1104), fill=LINE, width=2)
    elif screen.platform == DESKTOP:
        draw.rectangle((0, 0, w, 36), fill=(45, 45, 48))
        heading = screen.title if screen.title == screen.app else f"{screen.title} - {screen.app}"
        draw.text((w / 2, 18), heading, font=_font(18), fill=WHITE, anchor="mm")
        for i, col in enumerate(((255, 95, 86), (255, 189, 46), (39, 201, 63))):
            draw.ellipse((16 + i * 24, 10, 32 + i * 24, 26), fill=col)
        draw.rectangle((0, 36, w, 68), fill=(243, 243, 243))
        draw.rectangle((0, 68, w, 122), fill=(250, 250, 250))
        draw.line((0, 122, w, 122), fill=LINE, width=1)
        draw.rectangle((0, 122, 230, h), fill=(246, 246, 247))
        rows = [wd for wd in screen.widgets if wd.kind == "row"]
        if rows:
            top = round(rows[0].box[1] * h) - 36
            draw.rectangle((246, top, 1264, top + 34), fill=(240, 240, 240))
            draw.text((258, top + 17), "Name", font=_font(16), fill=MUTED, anchor="lm")
            draw.text((886, top + 17), "Value", font=_font(16), fill=MUTED, anchor="lm")
        draw.rectangle((0, h - 24, w, h), fill=accent)
        draw.text((12, h - 12), "Ready", font=_font(14), fill=WHITE, anchor="lm")
    else:
        draw.rectangle((0, 0, w, 96), fill=(222, 225, 230))
        draw.rounded_rectangle((12, 6, 300, 40), radius=8, fill=WHITE)
        draw.text((28, 23), _fit(screen.app, 16, 250), font=_font(16), fill=INK, anchor="lm")
        draw.rounded_rectangle((60, 50, w - 24, 86), radius=18, fill=WHITE)
        draw.text((84, 68), f"https://{screen.title}/", font=_font(18), fill=MUTED, anchor="lm")
        draw.text((120, 132), screen.app, font=_font(34), fill=accent, anchor="lm")
        draw.line((0, 172, w, 172), fill=LINE, width=2)


def render(screen: Screen) -> Image.Image:
    """Draw ``screen`` as an RGB image of its platform's size."""
    image = Image.new("RGB", screen.size, WHITE)
    draw = ImageDraw.Draw(image)
    _chrome(draw, screen)
    seen: set[str] = set()
    for widget in screen.widgets:
        # The first button/tab/nav item of a group is drawn as the selected or primary one.
        first = widget.kind not in seen
        seen.add(widget.kind)
        _draw_widget(draw, screen, widget, first)
    return image


def save_png(screen: Screen, path: Path) -> Path:
    """Render ``screen`` and write it as a PNG at ``path`` atomically."""
    with atomic_path(path) as tmp:
        # Fast compression: the images are flat colours, so level 1 is already small.
        render(screen).save(tmp, format="PNG", compress_level=1)
    return path
