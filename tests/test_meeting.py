"""What a meeting sees of 18 configurations x 5 runs on BFCL: the deck and the report.

The study (:mod:`tests.meeting_data`) has two splitters and a configuration table with a
baseline. The deck is read back with python-pptx: every text's estimated extent fits its box
and the slide, no chart carries more than 40 bars, the questions come in order, and titles
follow the stated rule. The report stays under 3 MB and 300 table rows on the page, opens
with the runs, and speaks of the study's own metric. Where LibreOffice is installed the deck
is rendered to PDF and PNG (slow).
"""

from __future__ import annotations

import io
import itertools
import json
import re
import shutil
import subprocess

import matplotlib.text as mtext
import numpy as np
import pandas as pd
import pytest
from pptx import Presentation
from pptx.util import Inches
from streamlit.testing.v1 import AppTest

from gemviz.analysis import findings, findings_runs
from gemviz.analysis.runs import run_pairs, run_summary
from gemviz.report import build_report, inputs_from_workspace
from gemviz.report.chart_parts import rows_fit, split_rows
from gemviz.report.deck import Deck
from gemviz.report.slides import SLIDE_SECTIONS, build_deck, deck_bytes
from gemviz.report.textfit import EMU_PER_INCH, paginate, text_height, title_size, wrapped_lines
from tests.conftest import ROOT, build_in_cache
from tests.deck_checks import assert_deck_fits, text_runs
from tests.meeting_data import BASELINE, build
from tests.stats_reference import holm


@pytest.fixture(scope="module")
def meeting(tmp_path_factory):
    root = tmp_path_factory.mktemp("meeting")
    holder = {}

    def make():
        holder["ws"] = build(root / "files")
        return holder["ws"].folder

    build_in_cache(root / "cache", make)
    ws = holder["ws"]
    inputs = inputs_from_workspace(ws)
    ids = inputs.study.ids
    deck = build_deck(inputs, [ids[0], ids[7]])
    return ws, inputs, deck, build_report(inputs, [ids[0]])


def test_text_extents_wrap_shrink_and_split():
    inch = EMU_PER_INCH
    # 100 characters at 20 pt in a 4 in box: about 26 fit a line, so 4 lines.
    assert wrapped_lines("word " * 20, 4 * inch, 20) == 4
    assert wrapped_lines("a\nb", 4 * inch, 20) == 2
    assert text_height(["x"], 4 * inch, 20) < text_height(["x", "y"], 4 * inch, 20)
    short, long = "A short finding", "A long finding, " * 12
    assert title_size(short, 12 * inch, int(1.2 * inch))[0] == 28
    size, needed = title_size(long, 12 * inch, int(1.2 * inch))
    assert size < 28 and (needed <= 1.2 * inch or size == 20)
    # Two lines at a smaller size rather than three at a larger one that the box would hold.
    middle = "word " * 30
    assert wrapped_lines(middle, 12 * inch, 22) == 3
    assert title_size(middle, 12 * inch, int(1.2 * inch))[0] == 20
    pages = paginate(["line of text"] * 40, 12 * inch, 2 * inch, 18)
    assert len(pages) > 1 and sum(len(p) for p in pages) == 40
    assert all(text_height(["line of text"] * len(p), 12 * inch, 18) <= 2 * inch for p in pages)


def test_rows_split_into_fewest_parts_between_groups():
    # 30 grouped rows (15 + 15 + 1, a heading each) in parts of at most 23 rows: two parts,
    # cut between the groups, the lone third group with the second.
    groups = ["14k"] * 15 + ["5k"] * 15 + ["none"]
    assert split_rows(groups, 23) == [(0, 15), (15, 31)]
    # Everything that fits stays whole; ungrouped rows split evenly.
    assert split_rows(["a"] * 17 + ["b"] * 3, 22) == [(0, 20)]
    assert split_rows([""] * 30, 23) == [(0, 15), (15, 30)]
    assert split_rows([""] * 50, 23) == [(0, 17), (17, 34), (34, 50)]
    # A group too long for one part is cut inside, its heading repeated: every part fits.
    groups = ["a"] * 40 + ["b"] * 2
    parts = split_rows(groups, 23)
    assert len(parts) == 2 and parts[0][0] == 0 and parts[-1][1] == 42
    assert all(a[1] == b[0] for a, b in itertools.pairwise(parts))
    for start, stop in parts:
        assert (stop - start) + len(set(groups[start:stop])) <= 23
    # The body holds fewer rows at larger fonts; 18 configurations and 3 headings fit at 12 pt.
    assert rows_fit(11) > rows_fit(12) >= 21 > rows_fit(14)


@pytest.mark.slow
def test_every_text_fits_its_box_and_no_chart_has_over_40_bars(meeting):
    _, _, deck, _ = meeting
    assert_deck_fits(Presentation(io.BytesIO(deck_bytes(deck))))


@pytest.mark.slow
def test_the_deck_follows_the_questions(meeting):
    _, inputs, deck, _ = meeting
    order = [s for s in dict.fromkeys(deck.sections) if s != "study"]
    assert order[:4] == ["runs", "baseline", "splitters", "interaction"], order
    # 18 configurations: every chart on one slide, untitled by parts.
    assert [deck.sections.count(k) for k in ("runs", "baseline", "interaction")] == [1, 1, 1]
    assert deck.sections.count("splitters") == len(inputs.study.splitters)
    charts = [t for t, s in zip(deck.titles, deck.sections, strict=True) if s != "examples"]
    assert not any(re.search(r"\(\d of \d\)$", t) for t in charts)
    assert order[-1] == "examples"
    baseline = deck.titles[deck.sections.index("baseline")]
    pairs = run_pairs(inputs.study, "accuracy", baseline=BASELINE)
    assert len(pairs) == 17
    title, _, rule = findings_runs.runs_slide_headline(
        pairs, run_summary(inputs.study, "accuracy"), "accuracy", baseline=BASELINE
    )
    assert baseline == title and rule.startswith("Title rule")
    notes = deck.prs.slides[deck.sections.index("baseline")].notes_slide.notes_text_frame.text
    assert notes.startswith(rule)
    # The ranking slide shows every run (a picture of the runs board), not bars.
    ranking = deck.prs.slides[deck.sections.index("runs")]
    assert any(s.shape_type == 13 for s in ranking.shapes)
    assert not any(s.has_chart for s in ranking.shapes)
    # Interaction: each of the 17 configurations against the baseline, not all 153 pairs,
    # and adjusted over those 17.
    inter = deck.prs.slides[deck.sections.index("interaction")]
    text = inter.notes_slide.notes_text_frame.text
    assert "each of the 17 configurations against the baseline" in text
    assert "adjusted over the 17 configurations against the baseline" in text


def _under_title(slide) -> int:
    """EMU from the bottom of a slide's title (or its footnote line) to the picture under it."""
    texts = [s for s in slide.shapes if s.has_text_frame and s.text_frame.text.strip()]
    bottom = max(s.top + s.height for s in texts)
    return min(s.top for s in slide.shapes if s.shape_type == 13) - bottom


@pytest.mark.slow
def test_baseline_slide_titles_in_two_lines_and_speaks_in_points(meeting, monkeypatch):
    _, inputs, deck, _ = meeting
    slide = deck.prs.slides[deck.sections.index("baseline")]
    title = slide.shapes.title
    (text,), size = text_runs(title)
    # Two lines at the size it is set in, by the rule the deck checks use.
    assert wrapped_lines(text, title.width, size) <= 2 and size >= 20
    pairs = run_pairs(inputs.study, "accuracy", baseline=BASELINE)
    summary = run_summary(inputs.study, "accuracy")
    short, foot, rule = findings_runs.runs_slide_headline(pairs, summary, "accuracy",
                                                         baseline=BASELINE)  # fmt: skip
    long, _ = findings_runs.runs_headline(pairs, summary, "accuracy", baseline=BASELINE)
    assert text == short and foot in [s.text_frame.text for s in slide.shapes if s.has_text_frame]
    notes = slide.notes_slide.notes_text_frame.text
    assert notes.startswith(f"{rule} {long}")
    assert _under_title(slide) <= Inches(0.15)
    # The chart: differences in points on the axis and in the column, p rounded as the title.
    drawn = {}
    place = Deck.chart

    def spy(self, slide, fig, box=None):
        drawn[self.sections[-1]] = fig
        return place(self, slide, fig, box)

    monkeypatch.setattr(Deck, "chart", spy)
    build_deck(inputs, [], sections={k: SLIDE_SECTIONS[k] for k in ("runs", "baseline")})
    ax, column = drawn["baseline"].axes
    assert "(points)" in ax.get_xlabel() and ax.get_xlim()[1] > 5
    rows = pairs[pairs["subset"] == "all"].sort_values("diff", ascending=False)
    lines = [t.get_text() for t in column.texts[1:]]
    for r, line in zip(rows.itertuples(), lines, strict=True):
        p = findings.p_words(r.diff_p_adjusted)
        assert line.split() == [f"{100 * r.diff:+.1f}", f"[{100 * r.diff_lo:+.1f},",
                                f"{100 * r.diff_hi:+.1f}]", p.replace(" ", "")]  # fmt: skip
    top = rows.iloc[0]
    assert f"{100 * top['diff']:.1f} points" in text
    assert findings.p_words(top["diff_p_adjusted"]) in text
    dots = next(line for line in ax.get_lines() if len(line.get_xdata()) == len(rows))
    assert list(dots.get_xdata()) == pytest.approx(list(100 * rows["diff"]))
    # The ranking: means in percent in the column and the title, the chart under the title.
    ranking = deck.prs.slides[deck.sections.index("runs")]
    assert _under_title(ranking) <= Inches(0.15)
    ax, column = drawn["runs"].axes
    best = summary[summary["subset"] == "all"].sort_values("mean", ascending=False).iloc[0]
    first = f"{100 * best['mean']:.1f}"
    assert column.texts[1].get_text().startswith(f"{first} [")
    assert f"({first}% over" in ranking.shapes.title.text and "%" in ax.get_xlabel()


@pytest.mark.slow
def test_split_text_slides_are_numbered_as_split_charts(meeting):
    _, _, deck, _ = meeting
    assert not any("continued" in t for t in deck.titles)
    parted = [t for t in deck.titles if re.search(r" \(\d+ of \d+\)$", t)]
    assert parted  # the first example's conversation takes two slides
    for title in dict.fromkeys(t.rsplit(" (", 1)[0] for t in parted):
        parts = [t for t in parted if t.rsplit(" (", 1)[0] == title]
        assert parts == [f"{title} ({k} of {len(parts)})" for k in range(1, len(parts) + 1)]


@pytest.mark.slow
def test_report_is_small_opens_with_runs_and_speaks_of_accuracy(meeting):
    _, _, _, report = meeting
    page = report.html
    assert len(page.encode("utf-8")) < 3_000_000
    assert page.count("<tr>") < 300
    assert report.sections[0] == "runs"
    assert page.index('<section id="runs">') < 0.1 * len(page)
    assert "type and exact match" not in page and "action type" not in page.lower()
    assert "ID vs OOD: accuracy with 95% intervals" in page
    # The whole tables behind the short ones are in the ZIP.
    assert {"interaction_all_pairs.csv"} <= set(report.figures)
    every = pd.read_csv(io.BytesIO(report.figures["interaction_all_pairs.csv"]))
    assert len(every) == 153 * 2 and every.family.str.startswith("153 pairs under").all()
    # plotly.js once, packed; every figure waits for it.
    assert page.count('id="gemviz-plotly"') == 1
    assert not re.search(r"<script>\s*window.PLOTLYENV", page)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) not installed")
def test_deck_renders_page_per_slide(meeting, tmp_path):
    _, _, deck, _ = meeting
    out = tmp_path / "deck.pptx"
    out.write_bytes(deck_bytes(deck))
    subprocess.run(
        ["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(out)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    pdf = tmp_path / "deck.pdf"
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm not installed")
    subprocess.run(["pdftoppm", "-png", "-r", "20", str(pdf), str(tmp_path / "p")], check=True,
                   timeout=300)  # fmt: skip
    assert len(list(tmp_path.glob("p-*.png"))) == len(deck.prs.slides)


@pytest.mark.slow
def test_metrics_page_compares_each_configuration_with_the_baseline(meeting, monkeypatch):
    ws = meeting[0]
    monkeypatch.setenv("GEMVIZ_CACHE", str(ws.folder.parent.parent))
    at = AppTest.from_file(str(ROOT / "pages" / "3_metrics.py"), default_timeout=300)
    at.session_state["workspace"] = ws.slug
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    pairs = next(d.value for d in at.dataframe if "runs_a" in d.value.columns)
    assert len(pairs) == 17 and set(pairs["model_b"]) == {BASELINE}
    # The interaction too: each configuration against the baseline, adjusted as that family.
    inter = next(d.value for d in at.dataframe if "did_logodds" in d.value.columns)
    assert len(inter) == 17 * 2 and set(inter["model_b"]) == {BASELINE}
    for _, family in inter.groupby("splitter"):
        assert family["family"].str.startswith("17 configurations against").all()
        assert list(family["did_p_adjusted"]) == pytest.approx(list(holm(family["did_p"])))
    board = next(
        json.loads(c.proto.spec)
        for c in at.get("plotly_chart")
        if c.proto.spec and "per configuration" in c.proto.spec
    )
    # Every configuration's label is on the axis, each has its own legend entry.
    assert len(board["layout"]["yaxis"]["ticktext"]) == 18
    named = [t["name"] for t in board["data"] if t.get("showlegend", True) and t.get("name")]
    assert len(named) == 18


@pytest.mark.slow
def test_chart_text_is_legible_alike_on_every_slide_and_never_overprints(meeting, monkeypatch):
    _, inputs, _, _ = meeting
    drawn = []
    place = Deck.chart

    def spy(self, slide, fig, box=None):
        fig.canvas.draw()
        drawn.append((_chart_text(fig, box or self.body_box()), self.chart_font()))
        return place(self, slide, fig, box)

    monkeypatch.setattr(Deck, "chart", spy)
    deck = build_deck(inputs, [])
    assert len(drawn) >= 5, deck.sections
    fonts = {font for _, font in drawn}
    assert len(fonts) == 1 and 11 <= fonts.pop() <= 14
    # Category labels at one size on every slide.
    assert len({size for sizes, _ in drawn for size in sizes}) == 1


def _chart_text(fig, box) -> set[float]:
    """Check one chart picture; the sizes of its category labels."""
    # Drawn at the size it is placed at, so its points are the slide's points.
    size = fig.get_size_inches()
    assert size == pytest.approx((box[2] / EMU_PER_INCH, box[3] / EMU_PER_INCH), abs=0.01)
    renderer = fig.canvas.get_renderer()
    # Everything drawn lies inside the picture (inches).
    drawn = fig.get_tightbbox(renderer)
    assert drawn.x0 >= -0.01 and drawn.y0 >= -0.01, drawn
    assert drawn.x1 <= size[0] + 0.01 and drawn.y1 <= size[1] + 0.01, drawn
    for t in fig.findobj(mtext.Text):
        if t.get_visible() and t.get_text().strip():
            assert t.get_fontsize() >= 10, t.get_text()
    ax = fig.axes[0]
    labels = [t for t in ax.get_yticklabels() if t.get_text()]
    # Every row named, none over the next.
    assert len(labels) == len(ax.get_yticks())
    boxes = sorted((t.get_window_extent(renderer) for t in labels), key=lambda b: b.y0)
    assert all(low.y1 <= high.y0 + 0.5 for low, high in itertools.pairwise(boxes))
    # Intervals of shares stay within [0, 1] (or [0, 100] in percent).
    for top in (1, 100):
        if f"clipped to [0, {top}]" in ax.get_xlabel():
            for line in ax.get_lines():
                xs = np.asarray(line.get_xdata(), float)
                assert np.nanmin(xs) >= 0 and np.nanmax(xs) <= top
    assert min(t.get_fontsize() for t in labels) >= 11
    return {t.get_fontsize() for t in labels}


@pytest.fixture(scope="module")
def meeting_30(tmp_path_factory):
    """The deck of 30 configurations, with what each chart picture drew."""
    root = tmp_path_factory.mktemp("meeting30")
    holder = {}

    def make():
        holder["ws"] = build(root / "files", "meeting30", count=30)
        return holder["ws"].folder

    build_in_cache(root / "cache", make)
    inputs = inputs_from_workspace(holder["ws"])
    drawn = []
    place = Deck.chart

    def spy(self, slide, fig, box=None):
        fig.canvas.draw()
        ax = fig.axes[0]
        labels = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
        sizes = _chart_text(fig, box or self.body_box())
        drawn.append((self.sections[-1], self.titles[-1], ax.get_xlim(), labels, sizes))
        return place(self, slide, fig, box)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Deck, "chart", spy)
        deck = build_deck(inputs, [inputs.study.ids[0]])
    return inputs, deck, drawn


@pytest.mark.slow
def test_thirty_configurations_split_charts_over_slides_that_fit(meeting_30):
    inputs, deck, drawn = meeting_30
    assert_deck_fits(Presentation(io.BytesIO(deck_bytes(deck))))
    models = set(inputs.study.models)
    assert len(models) == 30
    # Labels at one size, at least 11 pt, on every picture (checked per picture as drawn).
    assert len({size for *_, sizes in drawn for size in sizes}) == 1
    for section in ("runs", "baseline", "splitters", "interaction"):
        charts = [d for d in drawn if d[0] == section]
        titles = [title for _, title, *_ in charts]
        assert len(charts) >= 2, section
        # The parts of one chart: titled "(k of n)", the same value axis, every row once.
        for title in dict.fromkeys(t.rsplit(" (", 1)[0] for t in titles):
            parts = [d for d in charts if d[1].rsplit(" (", 1)[0] == title]
            n = len(parts)
            assert n >= 2 and [d[1] for d in parts] == [f"{title} ({k} of {n})" for k in
                                                        range(1, n + 1)]  # fmt: skip
            assert len({d[2] for d in parts}) == 1, section
            rows = [label for d in parts for label in d[3] if label in models]
            expected = models - {BASELINE} if section in ("baseline", "interaction") else models
            assert sorted(rows) == sorted(expected), section
    notes = deck.prs.slides[deck.titles.index(charts[0][1])].notes_slide.notes_text_frame.text
    assert "continues on the next slide" in notes
    # Each part of the ranking starts right under its title.
    for k, section in enumerate(deck.sections):
        if section == "runs":
            assert _under_title(deck.prs.slides[k]) <= Inches(0.15)
