"""Native PowerPoint charts in the gemviz theme: bars with 95% interval error bars.

A chart drawn here stays a chart in the deck (PowerPoint and LibreOffice can restyle it and
show its data), not a picture. python-pptx writes the bars; the error bars, which it has no
API for, are written into each series' XML as custom plus/minus values (``c:errBars`` with
``c:numLit``), the form PowerPoint itself uses for custom error amounts. Colours and fonts
come from :mod:`gemviz.figures.theme`; every text is at least :data:`MIN_PT` points.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from lxml import etree
from pptx.chart.data import CategoryChartData
from pptx.dml.color import RGBColor
from pptx.enum.chart import (
    XL_CHART_TYPE,
    XL_LABEL_POSITION,
    XL_LEGEND_POSITION,
    XL_TICK_LABEL_POSITION,
)
from pptx.enum.dml import MSO_PATTERN
from pptx.oxml.ns import qn
from pptx.util import Emu, Pt

from gemviz.data.markup import visible
from gemviz.figures import theme

#: Smallest font anywhere on a slide.
MIN_PT = 18
_CHART_NS = "http://schemas.openxmlformats.org/drawingml/2006/chart"
_DRAWING_NS = "http://schemas.openxmlformats.org/drawingml/2006/main"


@dataclass
class BarSeries:
    """One series of bars: a name, values (None for an empty set) and their 95% bounds.

    Attributes:
        name: Legend entry (e.g. ``"ID (n=351, 108 episodes)"``).
        values: One value per category; None or NaN draws no bar.
        lo, hi: Interval bounds per category (None or NaN: no error bar); empty: none at all.
        color: Fill colour (``#RRGGBB``).
        hatched: Draw the bar hatched over a lighter fill (the OOD twin of an ID bar).
        labels: Text written at the foot of each bar (e.g. ``"n=0"``); empty: the value.
    """

    name: str
    values: Sequence[float | None]
    lo: Sequence[float | None] = ()
    hi: Sequence[float | None] = ()
    color: str = theme.ID_COLOR
    hatched: bool = False
    labels: Sequence[str] = field(default_factory=tuple)


def _missing(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _rgb(hex_color: str) -> RGBColor:
    return RGBColor.from_string(hex_color.lstrip("#").upper())


def _value_axis(
    value_axis, value_range: tuple[float, float], axis_title: str, number_format: str
) -> None:
    """Scale, gridlines, tick labels and title of a bar chart's value axis."""
    value_axis.minimum_scale, value_axis.maximum_scale = value_range
    value_axis.has_major_gridlines = True
    value_axis.major_gridlines.format.line.color.rgb = _rgb("#E5E5E5")
    value_axis.tick_labels.font.size = Pt(MIN_PT)
    value_axis.tick_labels.number_format = "0.0" if value_range == (0.0, 1.0) else number_format
    value_axis.tick_labels.number_format_is_linked = False
    value_axis.has_title = bool(axis_title)
    if axis_title:
        value_axis.axis_title.text_frame.text = visible(axis_title)
        _size_runs(value_axis.axis_title.text_frame, MIN_PT)


def bar_chart(
    slide,
    box: tuple[int, int, int, int],
    categories: Sequence[str],
    series: Sequence[BarSeries],
    axis_title: str = "mean (95% interval)",
    value_range: tuple[float, float] | None = (0.0, 1.0),
    number_format: str = "0.00",
):
    """Add a clustered bar chart with error bars to ``slide``.

    Args:
        slide: A python-pptx slide.
        box: ``(left, top, width, height)`` in EMU.
        categories: Category labels (e.g. models).
        series: The series, drawn side by side in each category.
        axis_title: Title of the value axis.
        value_range: Fixed value-axis range, or None for one that holds every bar and
            interval (rounded out to tenths).
        number_format: Number format of the values and their labels.

    Returns:
        The python-pptx chart.
    """
    data = CategoryChartData(number_format=number_format)
    # Chart data is written as XML: names holding control characters are shown, not dropped.
    data.categories = [visible(c) for c in categories]
    for s in series:
        data.add_series(visible(s.name), [None if _missing(v) else float(v) for v in s.values])
    left, top, width, height = box
    frame = slide.shapes.add_chart(
        XL_CHART_TYPE.COLUMN_CLUSTERED, Emu(left), Emu(top), Emu(width), Emu(height), data
    )
    chart = frame.chart
    chart.font.size = Pt(MIN_PT)
    chart.font.name = theme.FONT_FAMILY.split(",")[0]
    chart.has_legend = len(series) > 1
    if chart.has_legend:
        chart.legend.position = XL_LEGEND_POSITION.BOTTOM
        chart.legend.include_in_layout = False
        chart.legend.font.size = Pt(MIN_PT)
    _value_axis(chart.value_axis, value_range or _span(series), axis_title, number_format)
    chart.category_axis.tick_labels.font.size = Pt(MIN_PT)
    # Names below the plot, not on the zero line that negative bars cross.
    chart.category_axis.tick_label_position = XL_TICK_LABEL_POSITION.LOW
    plot = chart.plots[0]
    plot.gap_width = 60
    plot.overlap = 0
    for s, drawn in zip(series, plot.series, strict=True):
        fill = drawn.format.fill
        if s.hatched:
            fill.patterned()
            fill.pattern = MSO_PATTERN.WIDE_UPWARD_DIAGONAL
            fill.fore_color.rgb = _rgb("#FFFFFF")
            fill.back_color.rgb = _rgb(theme.lighten(s.color))
        else:
            fill.solid()
            fill.fore_color.rgb = _rgb(s.color)
        drawn.invert_if_negative = False
        if len(s.lo) and len(s.hi):
            plus = [
                None if _missing(v) or _missing(h) else max(0.0, float(h) - float(v))
                for v, h in zip(s.values, s.hi, strict=True)
            ]
            minus = [
                None if _missing(v) or _missing(lo) else max(0.0, float(v) - float(lo))
                for v, lo in zip(s.values, s.lo, strict=True)
            ]
            _error_bars(drawn, plus, minus)
        _point_labels(drawn, s, number_format)
    return chart


def _span(series: Sequence[BarSeries]) -> tuple[float, float]:
    values = [float(v) for s in series for v in (*s.values, *s.lo, *s.hi) if not _missing(v)]
    lo = min([0.0, *values])
    hi = max([0.0, *values])
    lo, hi = math.floor(lo * 10 - 1e-9) / 10, math.ceil(hi * 10 + 1e-9) / 10
    return (lo, hi if hi > lo else lo + 0.1)


def _size_runs(text_frame, size: int) -> None:
    for paragraph in text_frame.paragraphs:
        paragraph.font.size = Pt(size)
        for run in paragraph.runs:
            run.font.size = Pt(size)


def _point_labels(drawn, s: BarSeries, number_format: str) -> None:
    """A label at the foot of every bar: its value, or the given text (``n=0`` for none)."""
    for j, value in enumerate(s.values):
        text = s.labels[j] if j < len(s.labels) and s.labels[j] else None
        if text is None:
            if _missing(value):
                continue
            text = format(float(value), ".2f") if number_format == "0.00" else f"{value:g}"
        label = drawn.points[j].data_label
        label.has_text_frame = True
        label.text_frame.text = visible(text)
        label.position = XL_LABEL_POSITION.INSIDE_BASE
        _size_runs(label.text_frame, MIN_PT)
        label.font.size = Pt(MIN_PT)


def _error_bars(drawn, plus: Sequence[float | None], minus: Sequence[float | None]) -> None:
    def literal(values: Sequence[float | None]) -> str:
        points = "".join(
            f'<c:pt idx="{i}"><c:v>{v:.6g}</c:v></c:pt>'
            for i, v in enumerate(values)
            if v is not None
        )
        return (
            f'<c:numLit><c:formatCode>General</c:formatCode><c:ptCount val="{len(values)}"/>'
            f"{points}</c:numLit>"
        )

    xml = (
        f'<c:errBars xmlns:c="{_CHART_NS}" xmlns:a="{_DRAWING_NS}">'
        '<c:errDir val="y"/><c:errBarType val="both"/><c:errValType val="cust"/>'
        '<c:noEndCap val="0"/>'
        f"<c:plus>{literal(plus)}</c:plus><c:minus>{literal(minus)}</c:minus>"
        '<c:spPr><a:ln w="22225"><a:solidFill><a:srgbClr val="333333"/></a:solidFill>'
        "</a:ln></c:spPr></c:errBars>"
    )
    # The schema orders a series' children: error bars go right before the categories.
    drawn._element.find(qn("c:cat")).addprevious(etree.fromstring(xml))


def error_bar_values(chart) -> list[tuple[list[float | None], list[float | None]]]:
    """The custom (plus, minus) error amounts of each series of a chart, as written.

    Args:
        chart: A python-pptx chart made by :func:`bar_chart` (or any bar chart).

    Returns:
        One ``(plus, minus)`` pair per series; ``None`` where a point has no error bar and
        empty lists for a series without error bars.
    """
    out = []
    for ser in chart.plots[0].series:
        bars = ser._element.find(qn("c:errBars"))
        if bars is None:
            out.append(([], []))
            continue
        pair = []
        for side in ("c:plus", "c:minus"):
            lit = bars.find(qn(side)).find(qn("c:numLit"))
            count = int(lit.find(qn("c:ptCount")).get("val"))
            values: list[float | None] = [None] * count
            for pt in lit.findall(qn("c:pt")):
                values[int(pt.get("idx"))] = float(pt.find(qn("c:v")).text)
            pair.append(values)
        out.append((pair[0], pair[1]))
    return out
