"""User text stays text: the pages' Markdown escaping and the report's HTML.

:func:`gemviz.ui.text.md` and :func:`~gemviz.ui.text.code` are checked against the Markdown
renderer Streamlit's rules follow (CommonMark, via markdown-it when installed, else the escape
rule itself); the report built from a workspace whose every user text is markup holds no
element that loads anything.
"""

from __future__ import annotations

import html.parser
import json
from pathlib import Path

import numpy as np
import pytest

from gemviz.commands.cli import main
from gemviz.data.write import write_records
from gemviz.ui.text import code, md
from gemviz.ui.training_sets import step_link
from gemviz.workspace import annotations

HOSTILE = [
    "1. item",
    "- item",
    "+ item",
    "> quote",
    "12) item",
    "=== not a heading",
    "_edge_ *star* a_b_c",
    "![x](http://127.0.0.1:9/beacon)",
    "[link](javascript:alert(1))",
    "<img src=http://127.0.0.1:9/b onerror=alert(1)>",
    "# heading\n\n- list\n1. item",
    "**bold** _it_ ~~s~~ `code` $x^2$ :red[red] :material/home:",
    "&lt;img src=x&gt; &amp;",
    "a | b | c\n---|---|---",
    "    indented code",
    "back\\slash \\![x](y)",
    "``` fence",
    "\ud800 lone surrogate",
]


def _render(markdown: str) -> str:
    """CommonMark HTML of ``markdown`` (markdown-it), or skip when it is not installed."""
    mdit = pytest.importorskip("markdown_it")
    return mdit.MarkdownIt("commonmark").enable("table").enable("strikethrough").render(markdown)


class _Tags(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)


def _tags(text: str) -> list[str]:
    parser = _Tags()
    parser.feed(text)
    return parser.tags


@pytest.mark.parametrize("text", HOSTILE)
def test_md_escapes_every_markup(text):
    out = md(text)
    assert "\n" not in out
    rendered = _render(out)
    assert _tags(rendered) == ["p"], rendered  # one paragraph of plain text
    assert "<img" not in rendered and "<a " not in rendered


@pytest.mark.parametrize("text", HOSTILE)
def test_code_is_one_span_whatever_the_backticks(text):
    rendered = _render(code(text))
    assert _tags(rendered) == ["p", "code"], rendered


def test_plain_text_reads_as_typed():
    # Escapes disappear when rendered: the reader sees the text itself.
    rendered = _render(md("open (the) settings_app, 50% off! [now]"))
    assert "open (the) settings_app, 50% off! [now]" in html.unescape(rendered)
    # Paths and messages keep their dots, dashes, slashes and colons in the source.
    assert md("/tmp/a-b/c_d.json, row 3: bad") == "/tmp/a-b/c_d.json, row 3: bad"
    assert md("plain words 12") == "plain words 12"
    assert md("x" * 50, max_chars=10) == "x" * 10 + "…"


@pytest.mark.slow
def test_report_of_a_hostile_workspace_loads_nothing(tmp_path):
    """Every user text a report shows is markup; the HTML loads only its own data: images."""
    beacon = "<img src=http://127.0.0.1:9/beacon>![x](http://127.0.0.1:9/beacon)"
    rng = np.random.default_rng(5)
    test = [
        {
            "id": f"e{i}",
            "task": beacon if i % 2 else f"task {i % 4}",
            "app": beacon,
            "image_path": "none.png",
            "input_score": float(rng.normal()),
        }
        for i in range(40)
    ]
    write_records(tmp_path / "test.json", test)
    write_records(
        tmp_path / "a.json", [{**r, "label": "ID" if i < 25 else "OOD"} for i, r in enumerate(test)]
    )
    write_records(
        tmp_path / "m.json",
        [{"id": r["id"], "type_match": int(rng.random() < 0.6), "exact_match": 0} for r in test],
    )
    folder = tmp_path / "ws"
    folder.mkdir()
    spec = {
        "name": beacon,
        "test": str(tmp_path / "test.json"),
        "cluster_by": "app",
        "splitters": [{"name": beacon, "labeled": str(tmp_path / "a.json")}],
        "models": [{"name": beacon + "m", "results": str(tmp_path / "m.json")}],
    }
    (folder / "workspace.json").write_text(json.dumps(spec))
    annotations.annotate(folder, "e1", [beacon], beacon)
    out = tmp_path / "r.html"
    assert (
        main(
            [
                "report",
                "--workspace",
                str(folder),
                "--out",
                str(out),
                "--examples",
                "e1",
                "e3",
            ]
        )
        == 0
    )
    page = out.read_text()

    class Loads(html.parser.HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.sources: list[str] = []

        def handle_starttag(self, tag, attrs):
            for key, value in attrs:
                if key in ("src", "href", "srcset", "poster", "data") and value:
                    self.sources.append(f"{tag} {key}={value[:60]}")

    parser = Loads()
    parser.feed(page)
    foreign = [s for s in parser.sources if "data:" not in s]
    assert not foreign, foreign
    assert "127.0.0.1:9" in page  # the text is there, as text
    assert page.count("&lt;img src=http://127.0.0.1:9/beacon&gt;") >= 3
    assert Path(out).stat().st_size > 0


def test_a_step_link_quotes_the_workspace_and_the_entry(tmp_path):
    """An entry id or slug with URL syntax in it stays one query value each."""
    ws = type("W", (), {"slug": "lab&x=1"})()
    link = step_link(ws, "multi_turn_base_7#2?a=b&workspace=evil /x")
    assert link == (
        "step?workspace=lab%26x%3D1&sample=multi_turn_base_7%232%3Fa%3Db%26workspace%3Devil%20%2Fx"
    )
