"""Tests for gemviz.analysis on hand-checkable studies."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from gemviz.analysis import PAIRED_COLUMNS, TABLE_COLUMNS, id_ood_table, paired_comparison
from gemviz.errors import GemvizError
from gemviz.stats import wilson_interval
from gemviz.study import Study


def _study(labels: dict[str, str], models: dict[str, tuple[list[int], list[int]]]) -> Study:
    n = len(next(iter(labels.values())))
    base = pd.DataFrame({"id": [f"s{i}" for i in range(n)], "task": "t", "image_path": "x"})
    splits = {
        k: base.assign(label=["ID" if c == "i" else "OOD" for c in v]) for k, v in labels.items()
    }
    results = {k: base.assign(type_match=tm, exact_match=em) for k, (tm, em) in models.items()}
    return Study.from_frames(splits, results)


def test_id_ood_table_by_hand():
    #        samples: 0 1 2 3 4 5 6 7 8 9
    study = _study(
        {"a": "iiiiiioooo", "b": "ioioioioio"},
        {"m1": ([1, 1, 1, 0, 1, 1, 0, 1, 0, 0], [1, 0, 1, 0, 1, 0, 0, 0, 0, 0])},
    )
    table = id_ood_table(study)
    assert list(table.columns) == TABLE_COLUMNS
    assert len(table) == 2 * 1 * 2
    row = table.set_index(["splitter", "metric"]).loc[("a", "type_match")]
    # a's ID = samples 0-5: type match 1,1,1,0,1,1 -> 5/6; OOD = 6-9: 0,1,0,0 -> 1/4.
    assert (row.id_n, row.ood_n) == (6, 4)
    assert row.id_mean == pytest.approx(5 / 6)
    assert row.ood_mean == pytest.approx(1 / 4)
    assert (row.id_lo, row.id_hi) == pytest.approx(wilson_interval(5, 6))
    assert (row.ood_lo, row.ood_hi) == pytest.approx(wilson_interval(1, 4))
    assert row.small
    row = table.set_index(["splitter", "metric"]).loc[("b", "exact_match")]
    # b's ID = even samples: exact 1,1,1,0,0 -> 3/5; OOD = odd: 0,0,0,0,0 -> 0/5.
    assert (row.id_mean, row.ood_mean) == (pytest.approx(0.6), 0.0)
    assert row.ood_lo == 0.0


def test_id_ood_table_selection_and_empty_side():
    study = _study(
        {"a": "iiii", "b": "iooo"}, {"m1": ([1, 0, 1, 1], [0] * 4), "m2": ([1] * 4, [1] * 4)}
    )
    table = id_ood_table(study, splitters=["a"], models=["m2"], metrics=["exact_match"])
    assert len(table) == 1
    assert table.loc[0, "ood_n"] == 0 and np.isnan(table.loc[0, "ood_mean"])
    assert table.loc[0, "id_mean"] == 1.0
    with pytest.raises(GemvizError, match="unknown model"):
        id_ood_table(study, models=["nope"])
    with pytest.raises(GemvizError, match="unknown metric"):
        id_ood_table(study, metrics=["f1"])


def test_paired_comparison_by_hand():
    # a right / b wrong on samples 0,1,2,3; the reverse on sample 9.
    a = [1, 1, 1, 1, 1, 0, 0, 1, 0, 0]
    b = [0, 0, 0, 0, 1, 0, 0, 1, 0, 1]
    study = _study({"s": "iiiiiooooo"}, {"A": (a, a), "B": (b, b)})
    out = paired_comparison(study, "A", "B", "exact_match", splitter="s")
    assert list(out.columns) == PAIRED_COLUMNS
    assert out["subset"].tolist() == ["all", "ID", "OOD"]
    row = out.iloc[0]
    assert (row.n, row.a_only, row.b_only) == (10, 4, 1)
    assert row["diff"] == pytest.approx(0.6 - 0.3)
    assert row.diff_lo <= row["diff"] <= row.diff_hi
    assert row.mcnemar_p == pytest.approx(sps.binomtest(4, 5, 0.5).pvalue)
    ident = out.iloc[1]  # ID = samples 0-4: A 1,1,1,1,1; B 0,0,0,0,1
    assert (ident.n, ident.a_only, ident.b_only) == (5, 4, 0)
    assert (ident.mean_a, ident.mean_b) == (1.0, pytest.approx(0.2))
    assert ident.mcnemar_p == pytest.approx(2 / 16)
    assert paired_comparison(study, "A", "B", "type_match")["subset"].tolist() == ["all"]
    with pytest.raises(GemvizError, match="two different"):
        paired_comparison(study, "A", "A", "exact_match")
