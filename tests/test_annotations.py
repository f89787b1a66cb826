"""Notes on steps: round trip through annotations.json, tag filter, CSV, report section."""

from __future__ import annotations

import io
import json
import re

import pandas as pd
import pytest

from gemviz.analysis import filters
from gemviz.analysis import samples as smp
from gemviz.data.errors import GemvizError
from gemviz.data.study import Study
from gemviz.report import ReportInputs, build_report
from gemviz.workspace import annotations as an


def test_round_trip_survives_a_reload(tmp_path):
    an.annotate(tmp_path, "s1", ["ambiguous task", "GT wrong", "mine", "GT wrong", " "], "why?")
    an.annotate(tmp_path, "s2", ["truly OOD"])
    notes = an.load(tmp_path)  # a fresh read, as after a restart
    assert notes["s1"].tags == ["GT wrong", "ambiguous task", "mine"]  # fixed tags first
    assert notes["s1"].note == "why?" and notes["s1"].updated > 0
    assert notes["s2"].tags == ["truly OOD"] and notes["s2"].note == ""
    raw = json.loads((tmp_path / "annotations.json").read_text())
    assert raw["version"] == 1 and set(raw["steps"]) == {"s1", "s2"}
    assert not list(tmp_path.glob(".annotations.json.*"))  # no temp file left behind
    # Clearing tags and note removes the step.
    an.annotate(tmp_path, "s2", [], "  ")
    assert set(an.load(tmp_path)) == {"s1"}
    assert an.all_tags(an.load(tmp_path)) == [*an.FIXED_TAGS, "mine"]


def test_bad_tags_and_files_are_refused(tmp_path):
    with pytest.raises(GemvizError, match="may not contain"):
        an.annotate(tmp_path, "s1", ["a;b"])
    (tmp_path / "annotations.json").write_text("[1, 2]")
    with pytest.raises(GemvizError, match="annotations file"):
        an.load(tmp_path)
    assert an.load(tmp_path / "nowhere") == {}


def _study() -> Study:
    labeled = pd.DataFrame(
        {
            "id": [f"s{i}" for i in range(4)],
            "task": ["a", "b", "c", "d"],
            # A GUI study whose screenshots are not on disk: pictures fall back to placeholders.
            "image_path": [f"shots/s{i}.png" for i in range(4)],
            "label": ["ID", "OOD", "ID", "OOD"],
        }
    )
    res = labeled[["id"]].assign(type_match=[1, 0, 1, 1], exact_match=[1, 0, 0, 1])
    return Study.from_frames({"g": labeled}, {"m": res})


def test_tag_filter_and_ids_csv(tmp_path):
    an.annotate(tmp_path, "s1", ["GT wrong"], "box is off")
    an.annotate(tmp_path, "s3", ["mine"])
    an.annotate(tmp_path, "s2", [], "only a note")
    table = an.with_annotations(smp.sample_table(_study()), an.load(tmp_path))
    pick = filters.filter_table(table, filters.SampleFilter(tags=["GT wrong", "mine"]))
    assert pick["id"].tolist() == ["s1", "s3"]
    anyt = filters.filter_table(table, filters.SampleFilter(tags=[an.ANY_TAG]))
    assert anyt["id"].tolist() == ["s1", "s2", "s3"]
    csv = pd.read_csv(io.BytesIO(smp.ids_csv(pick)), keep_default_na=False)
    assert csv.columns.tolist() == ["id", "task", "tags", "note"]
    assert csv.to_dict("records")[0] == {
        "id": "s1",
        "task": "b",
        "tags": "GT wrong",
        "note": "box is off",
    }
    with pytest.raises(GemvizError, match="annotations"):
        filters.filter_mask(smp.sample_table(_study()), filters.SampleFilter(tags=["GT wrong"]))


def test_frame_and_report_section(tmp_path):
    an.annotate(tmp_path, "s3", ["truly ID", "x"], "n3")
    an.annotate(tmp_path, "s0", ["truly OOD"])
    an.annotate(tmp_path, "gone", ["truly OOD"])
    notes = an.load(tmp_path)
    frame = an.to_frame(notes, order=["s0", "s1", "s2", "s3"])
    assert frame.columns.tolist() == an.COLUMNS
    assert frame["id"].tolist() == ["s0", "s3", "gone"]
    assert frame["tags"].tolist()[1] == "truly ID; x"
    report = build_report(ReportInputs(name="t", study=_study(), annotations=notes))
    section = report.html.split('<section id="annotated">')[1].split("</section>")[0]
    # Embedded pictures are base64 text that may hold any short id by chance.
    section = re.sub(r'src="data:[^"]*"', 'src=""', section)
    assert "Disputed steps we looked at" in section
    assert section.index("s0") < section.index("s3") and "n3" in section
    assert "not in this test set: gone" in section
    assert {"annotated_01.png", "annotated_02.png"} <= set(report.figures)
