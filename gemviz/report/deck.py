"""A deck being built: the 16:9 presentation, its theme, and helpers that add slides.

:class:`Deck` holds the study and the python-pptx presentation; its methods add a slide
titled with a finding (plus speaker notes), text boxes, fitted pictures and the notes'
sentence on clusters and adjustment. The sections that decide which slides there are live in
:mod:`gemviz.report.slides`.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Mapping, Sequence

from PIL import Image
from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.enum.text import MSO_ANCHOR, PP_ALIGN
from pptx.util import Emu, Inches, Pt

from gemviz.analysis.tables import id_ood_table
from gemviz.data.markup import visible
from gemviz.figures import static as static_figures
from gemviz.figures import theme
from gemviz.figures.slide_charts import MIN_PT
from gemviz.report.base import ReportInputs, cluster_count, cluster_unit, shared
from gemviz.report.textfit import fits, paginate, text_height, title_size
from gemviz.stats import MARGIN

SLIDE_WIDTH = Emu(12192000)  # 13.333 in: exactly 16:9 with 7.5 in
SLIDE_HEIGHT = Inches(7.5)
MARGIN_X = Inches(0.5)
TITLE_PT = 28
BODY_PT = 20
TITLE_TOP = Inches(0.3)
#: Most height a title takes at the sizes it shrinks to (two lines at 28 pt fit).
TITLE_HEIGHT = Inches(1.2)
#: Space between a title (or subtitle) and what is under it.
GAP = Inches(0.1)
#: The evidence area starts right under a slide's title (and subtitle line): at the latest
#: here for a title of two lines, the room charts are planned for; it ends at the bottom.
BODY_TOP = TITLE_TOP + TITLE_HEIGHT + GAP
BODY_BOTTOM = Inches(7.2)
#: Body text sizes tried, largest first, until a text fits its box.
TEXT_SIZES = (24, 22, 20, MIN_PT)
TEXT_COLOR = "#222222"
#: Smallest and largest points of a chart picture's text on a slide.
CHART_PT = (11.0, 14.0)
#: Height of a chart picture's row, and of everything around its rows (axes, legend), in
#: font sizes.
ROW_EM = 1.2
FRAME_EM = 6
#: Most rows of pairs a chart on a slide draws (40 bars over two splitters).
CHART_PAIR_ROWS = 20
EMU_PER_PT = 12700
MUTED_TEXT = "#555555"


#: Line breaks a slide's text keeps; every other control character is shown as its picture.
_LINES = "\t\n"


def _rgb(hex_color: str) -> RGBColor:
    return RGBColor.from_string(hex_color.lstrip("#").upper())


class Deck:
    """A deck being built: the presentation, the study and helpers that add themed slides.

    Attributes:
        inputs: What the deck reports (the report's :class:`ReportInputs`).
        examples: Sample id -> caption of the chosen example steps.
        adjust: The p-value adjustment of every table (``"holm"`` or ``"bh"``).
        margin: The "no detectable difference" margin.
        unit: How the study's clusters are named (``tasks``, ``episodes``, ``steps``).
        titles: The titles of the slides added so far, in order.
        sections: Section name of each slide added so far.
    """

    def __init__(
        self,
        inputs: ReportInputs,
        examples: Mapping[str, str],
        adjust: str = "holm",
        margin: float = MARGIN,
    ) -> None:
        self.inputs = inputs
        self.study = inputs.study
        self.examples = dict(examples)
        self.adjust = adjust
        self.margin = margin
        self.unit = cluster_unit(self.study.cluster_by)
        self.prs = Presentation()
        self.prs.slide_width, self.prs.slide_height = SLIDE_WIDTH, SLIDE_HEIGHT
        self.titles: list[str] = []
        self.sections: list[str] = []
        self.section = ""
        self.body_top = BODY_TOP
        self._cache: dict[str, object] = {}

    # -- shared analysis results (computed once per deck) -------------------------------------

    def table(self):
        """The ID/OOD table of every splitter, model and metric."""
        if "table" not in self._cache:
            self._cache["table"] = shared(self.study, id_ood_table, adjust=self.adjust)
        return self._cache["table"]

    # -- slides --------------------------------------------------------------------------------

    def slide(self, title: str, notes: str, subtitle: str = ""):
        """Add a slide with ``title`` (the finding), an optional subtitle line and notes; the
        body (:meth:`body_box`) starts right under them.

        Args:
            title: The finding; wraps onto a second line when long.
            notes: Speaker notes (method, n, clusters, adjustment).
            subtitle: One muted line under the title (e.g. the other models' results).

        Returns:
            The python-pptx slide.
        """
        layout = self.prs.slide_layouts[5]  # "Title Only": the title stays a real title
        slide = self.prs.slides.add_slide(layout)
        width = SLIDE_WIDTH - 2 * MARGIN_X
        size, needed, sub_h = _title_heights(title, subtitle)
        shape = slide.shapes.title
        shape.left, shape.top, shape.width, shape.height = MARGIN_X, TITLE_TOP, width, needed
        frame = shape.text_frame
        frame.word_wrap = True
        frame.vertical_anchor = MSO_ANCHOR.TOP
        frame.text = visible(title, keep=_LINES)
        for paragraph in frame.paragraphs:
            paragraph.alignment = PP_ALIGN.LEFT
            for run in paragraph.runs:
                run.font.size = Pt(size)
                run.font.bold = True
                run.font.name = _font_name()
                run.font.color.rgb = _rgb(TEXT_COLOR)
        if subtitle:
            self.text(slide, [subtitle], (MARGIN_X, TITLE_TOP + needed, width, sub_h),
                      size=MIN_PT, color=MUTED_TEXT)  # fmt: skip
        self.body_top = self.body_top_for(title, subtitle)
        slide.notes_slide.notes_text_frame.text = visible(notes, keep=_LINES)
        self.titles.append(title)
        self.sections.append(self.section)
        return slide

    def body_top_for(self, title: str, subtitle: str = "") -> int:
        """Where :meth:`slide` starts the body under ``title`` and ``subtitle``."""
        _, title_h, sub_h = _title_heights(title, subtitle)
        return TITLE_TOP + title_h + sub_h + GAP

    def text(
        self,
        slide,
        lines: Sequence[str | Sequence[tuple[str, str | None]]],
        box: tuple[int, int, int, int],
        size: int = BODY_PT,
        color: str = TEXT_COLOR,
        bold_first: bool = False,
    ):
        """A text box of paragraphs; a paragraph is a string or (text, colour) runs.

        Args:
            slide: The slide.
            lines: Paragraphs.
            box: ``(left, top, width, height)`` in EMU.
            size: Font size in points (at least :data:`MIN_PT`).
            color: Default text colour.
            bold_first: Set the first paragraph in bold.

        Returns:
            The text box shape.
        """
        size = max(size, MIN_PT)
        # Shrink to the largest size that fits (never below MIN_PT; text_pages splits instead).
        plain = [_plain(line) for line in lines]
        for smaller in (s for s in TEXT_SIZES if s < size):
            if fits(plain, int(box[2]), int(box[3]), size):
                break
            size = smaller
        shape = slide.shapes.add_textbox(*(Emu(int(v)) for v in box))
        frame = shape.text_frame
        frame.word_wrap = True
        for i, line in enumerate(lines):
            paragraph = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
            paragraph.space_after = Pt(6)
            runs = [(line, None)] if isinstance(line, str) else list(line)
            for text, run_color in runs:
                run = paragraph.add_run()
                run.text = visible(text, keep=_LINES)
                run.font.size = Pt(size)
                run.font.name = _font_name()
                run.font.color.rgb = _rgb(run_color or color)
                run.font.bold = bold_first and i == 0
        return shape

    def text_slides(self, title: str, notes: str, lines: Sequence, picture: bytes | None = None,
                    aspect: float = 1.0) -> None:  # fmt: skip
        """Slides titled ``title`` holding ``lines`` (paragraphs as :meth:`text` takes them);
        with a ``picture`` (PNG, width/height ``aspect``), the first slide shows it on the
        left, as wide as its shape asks at full height within 30-60% of the body, the text
        beside it. Paragraphs that do not fit at :data:`MIN_PT` go on the next slides, every
        part titled "(k of n)" (:func:`part_title`) with the same notes."""
        plain = [_plain(line) for line in lines]
        # Laid out for the longest part title, so every part holds what it is given.
        _, box = self._beside(self.body_top_for(part_title(title, 0, 9)), picture, aspect)
        pages = paginate(plain, int(box[2]), int(box[3]), MIN_PT)
        size = BODY_PT if len(pages) == 1 else MIN_PT
        for k, page in enumerate(pages):
            note = "" if len(pages) == 1 else f" The text goes on over {len(pages)} slides."
            slide = self.slide(part_title(title, k, len(pages)), notes + note)
            pic_box, box = self._beside(self.body_top, picture if k == 0 else None, aspect)
            if pic_box is not None:
                self.picture(slide, picture, pic_box)
            self.text(slide, [lines[i] for i in page], box, size=size)

    def _beside(self, top: int, picture: bytes | None, aspect: float):
        """The picture's box (None without one) and the text's box of a body starting at
        ``top``."""
        left, width, height = MARGIN_X, SLIDE_WIDTH - 2 * MARGIN_X, BODY_BOTTOM - top
        if picture is None:
            return None, (left, top, width, height)
        pic_w = int(min(width * 0.6, max(width * 0.3, height * aspect)))
        gap = Inches(0.3)
        return (left, top, pic_w, height), (left + pic_w + gap, top, width - pic_w - gap, height)

    def chart_font(self) -> float:
        """Points of every chart picture's text in this deck, the same on every slide: as
        large as the most rows a chart of the study draws leave room for in the tallest body
        (every configuration plus its group headings, or up to :data:`CHART_PAIR_ROWS` pairs),
        :data:`CHART_PT` at the least and most."""
        models = len(self.study.models)
        rows = max(models + 3, min(CHART_PAIR_ROWS, models * (models - 1) // 2))
        room = (BODY_BOTTOM - BODY_TOP) / EMU_PER_PT / (ROW_EM * rows + FRAME_EM)
        return float(min(CHART_PT[1], max(CHART_PT[0], int(room * 2) / 2)))

    def chart(self, slide, fig, box: tuple[int, int, int, int] | None = None):
        """A matplotlib figure drawn at ``box``'s size (default: the body) placed there at
        that size, so its text keeps the points it was drawn with."""
        return self.picture(
            slide, static_figures.png_bytes(fig, exact=True), box or self.body_box()
        )

    def picture(self, slide, png: bytes, box: tuple[int, int, int, int]):
        """A picture fitted (aspect kept) and centred in ``box``."""
        with Image.open(io.BytesIO(png)) as img:
            w, h = img.size
        left, top, width, height = box
        scale = min(width / w, height / h)
        pw, ph = int(w * scale), int(h * scale)
        return slide.shapes.add_picture(
            io.BytesIO(png),
            Emu(int(left + (width - pw) / 2)),
            Emu(int(top + (height - ph) / 2)),
            Emu(pw),
            Emu(ph),
        )

    def body_box(self) -> tuple[int, int, int, int]:
        """The evidence area below the title."""
        return (MARGIN_X, self.body_top, SLIDE_WIDTH - 2 * MARGIN_X, BODY_BOTTOM - self.body_top)

    def stats_note(self, rows: int, what: str) -> str:
        """The notes' sentence on clusters and adjustment for a family of ``rows`` tests."""
        adjust = {"holm": "Holm", "bh": "Benjamini-Hochberg"}.get(self.adjust, self.adjust)
        if self.study.cluster_by == "none":
            clusters = "Every step counts as independent (clustering: none)."
        else:
            clusters = (
                f"Clustered by '{self.study.cluster_by}' ({shared(self.study, cluster_count):,} "
                f"{self.unit}): intervals and tests resample whole {self.unit}."
            )
        return (
            f"{clusters} P-values {adjust}-adjusted over the {rows} {what}; verdicts use the "
            f"adjusted values, and 'no detectable difference' means the 95% interval lies "
            f"within ±{self.margin:g}."
        )


@functools.lru_cache(maxsize=256)
def _title_heights(title: str, subtitle: str) -> tuple[int, int, int]:
    """A slide title's font size and height and its subtitle line's height (0 without one):
    the largest size at which the finding fits two lines; a longer one moves the body down
    instead of running over it."""
    width = SLIDE_WIDTH - 2 * MARGIN_X
    size, needed = title_size(title, width, TITLE_HEIGHT)
    return size, needed, text_height([subtitle], width, MIN_PT) if subtitle else 0


def part_title(title: str, k: int, parts: int) -> str:
    """The finding, marked with its part when a slide's content is split (``"… (1 of 2)"``)."""
    return title if parts == 1 else f"{title} ({k + 1} of {parts})"


def _plain(line) -> str:
    return line if isinstance(line, str) else "".join(text for text, _ in line)


def _font_name() -> str:
    return theme.FONT_FAMILY.split(",")[0].strip()
