"""Click-through selections as URL text (gemviz.analysis.selection)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gemviz.analysis.overlap import venn_regions
from gemviz.analysis.selection import bar_selection, region_selection, resolve
from gemviz.data.errors import GemvizError
from gemviz.data.study import Study


def _study() -> Study:
    n = 12
    frame = pd.DataFrame(
        {"id": [f"s{i}" for i in range(n)], "task": [f"t{i % 4}" for i in range(n)]}
    )
    rng = np.random.default_rng(7)
    splits = {
        name: frame.assign(
            input_score=np.arange(n, dtype=float), label=rng.choice(["ID", "OOD"], size=n)
        )
        for name in ("gem", "a:b,c", "third")
    }
    result = frame[["id"]].assign(type_match=1, exact_match=0)
    return Study.from_frames(splits, {"m": result})


def test_every_venn_region_and_bar_round_trips():
    study = _study()
    names = study.splitters
    for label in ("ID", "OOD"):
        for row in venn_regions(study, names, label).itertuples():
            ids, words = resolve(study, region_selection(label, names, row.members))
            assert ids == row.ids
            assert words == f"{label} region {row.region}"
        for name in names:
            ids, words = resolve(study, bar_selection(name, label))
            assert ids == [
                i for i, lab in zip(study.ids, study.labels[name], strict=True) if lab == label
            ]
            assert words == f"{name} {label} steps"
    # Names holding the separators survive the trip.
    assert ":" not in bar_selection("a:b,c", "ID").split(":", 2)[1]


@pytest.mark.parametrize(
    "text, message",
    [
        ("bar:nope:ID", "no splitter 'nope'"),
        ("bar:gem:MAYBE", "ID or OOD"),
        ("region:ID:gem:gem", "2-3 splitters"),
        ("region:ID:gem,third:other", "2-3 splitters"),
        ("hello", "is not"),
    ],
)
def test_bad_selections_say_what_is_wrong(text, message):
    with pytest.raises(GemvizError, match=message):
        resolve(_study(), text)
