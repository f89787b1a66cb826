"""Checks of a built deck read back with python-pptx: every text fits its box and the slide,
nothing overlaps the title, and no chart carries more than the bars a slide can hold."""

from __future__ import annotations

from gemviz.report.slides_runs import MAX_BARS
from gemviz.report.textfit import text_height


def text_runs(shape) -> tuple[list[str], float]:
    """A text shape's paragraphs and its largest font size (18 pt where none is set)."""
    paragraphs = shape.text_frame.paragraphs
    texts = ["".join(r.text for r in p.runs) for p in paragraphs]
    sizes = [r.font.size.pt for p in paragraphs for r in p.runs if r.font.size is not None]
    return texts, max(sizes) if sizes else 18.0


def chart_bars(shape) -> int:
    """How many bars (values drawn) a chart shape carries over all its series."""
    return sum(
        sum(v is not None for v in series.values)
        for plot in shape.chart.plots
        for series in plot.series
    )


def assert_deck_fits(prs) -> None:
    """Every shape inside the slide, every text within its box at 18 pt or more, no chart over
    :data:`MAX_BARS` bars, and every body shape below its slide's title."""
    width, height = prs.slide_width, prs.slide_height
    for number, slide in enumerate(prs.slides, 1):
        for shape in slide.shapes:
            assert shape.left >= 0 and shape.top >= 0, number
            assert shape.left + shape.width <= width and shape.top + shape.height <= height, (
                number,
                shape.name,
            )
            if shape.has_text_frame and shape.text_frame.text.strip():
                texts, size = text_runs(shape)
                assert text_height(texts, shape.width, size) <= shape.height, (number, texts[:2])
                assert size >= 18
            if shape.has_chart:
                bars = chart_bars(shape)
                assert bars <= MAX_BARS, (number, bars)
        # Nothing overlaps the title: the body starts below it.
        title = slide.shapes.title
        for shape in slide.shapes:
            if shape.shape_id != title.shape_id:
                assert shape.top >= title.top + title.height, (number, shape.name)
